"""Render plans and status for people (rich on a terminal, plain when piped) and machines."""
from __future__ import annotations

import csv
import io
import json
import sys
from datetime import timezone

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from campaign.spec.plan import Occurrence
    from campaign.queue.status import Status

PLAN_FIELDS = ("local_time", "utc", "account", "platform", "campaign", "post", "text", "length", "limit", "id")


def plan_records(occurrences: list[Occurrence]) -> list[dict]:
    out = []
    for occ in occurrences:
        out.append({
            "local_time": occ.local_time.isoformat(), "utc": occ.due_at.isoformat().replace("+00:00", "Z"),
            "timezone": occ.timezone, "account": occ.account, "platform": occ.platform,
            "campaign": occ.campaign_id, "post": occ.post_id, "variant": occ.variant + 1,
            "text": "\n\n".join(p.text for p in occ.parts),
            "parts": [{"text": p.text, "length": p.length,
                       "media": [{"path": m.path, "alt": m.alt, "sha256": m.sha256} for m in p.media]}
                      for p in occ.parts],
            "approvals_needed": occ.approvals_needed,
            "length": max(p.length for p in occ.parts), "limit": occ.limit, "id": occ.key,
        })
    return out


def plan_json(occurrences: list[Occurrence]) -> str:
    return json.dumps(plan_records(occurrences), ensure_ascii=False, indent=2) + "\n"


def plan_csv(occurrences: list[Occurrence]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=PLAN_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(plan_records(occurrences))
    return buffer.getvalue()


def plan_plain(occurrences: list[Occurrence]) -> str:
    lines = []
    for record in plan_records(occurrences):
        text = record["text"].replace("\n", " ⏎ ")
        lines.append("\t".join((record["local_time"], record["utc"], record["account"], record["campaign"],
                                f"{record['length']}/{record['limit']}", record["id"], text)))
    return "\n".join(lines) + ("\n" if lines else "")


def plan_table(occurrences: list[Occurrence], file=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file or sys.stdout)
    if not console.is_terminal:
        console.width = 160
    campaigns = {o.campaign_id for o in occurrences}
    table = Table(header_style="bold", show_lines=True,
                  title=f"Campaign {next(iter(campaigns))}" if len(campaigns) == 1 else None)
    table.add_column("Local time", no_wrap=True)
    table.add_column("UTC", no_wrap=True)
    table.add_column("Account", no_wrap=True)
    table.add_column("Post", overflow="fold")
    table.add_column("Text", ratio=1, overflow="fold")
    table.add_column("Length", no_wrap=True, justify="right")
    for occ in occurrences:
        lengths = "\n".join(f"{p.length}/{occ.limit}" for p in occ.parts)
        over = any(p.length > occ.limit for p in occ.parts)
        text = "\n".join(f"{i}/{len(occ.parts)} {p.text}" if len(occ.parts) > 1 else p.text
                         for i, p in enumerate(occ.parts, 1))
        post = occ.post_id if len(campaigns) == 1 else f"{occ.campaign_id}/{occ.post_id}"
        if occ.variant or occ.index:
            post += f"\nvariant {occ.variant + 1}"
        table.add_row(occ.local_time.strftime("%a %Y-%m-%d %H:%M %Z"), occ.due_at.strftime("%H:%MZ"),
                      occ.account, post, text, f"[red]{lengths}[/]" if over else lengths)
    console.print(table)
    console.print(f"{len(occurrences)} occurrence{'s' * (len(occurrences) != 1)}; "
                  "ids and full detail: --format json", style="dim")


STATUS_JSON_VERSION = 1
CHECK_LEVELS = ("OK", "WARNING", "CRITICAL")  # by exit code, as monitoring plugins print them


def status_text(status: Status, database: str, now=None) -> str:
    now = now or status.now
    lines = [f"Queue in {database}: {status.total} post{'s' if status.total != 1 else ''}"]
    lines.append("  " + "  ".join(f"{state} {count}" for state, count in status.counts.items()))
    for server in status.servers:
        if server.beating:
            lines.append(f"{server.kind} running on host {server.host} (pid {server.pid}), "
                         f"last tick {_ago(_seconds(now, server.last_tick_at))}")
    shown = status.next_due + status.problems + status.stuck + status.recent_sent + status.awaiting + status.rejected
    width = max([len(p.account) for p in shown] + [8])
    attention = _attention_lines(status, now, width)
    if attention:
        lines.append("Needs a person:")
        lines += ["  " + line for line in attention]
    else:
        lines.append("Nothing needs a person.")
    if status.next_due:
        lines.append("Next due:")
        for post in status.next_due:
            lines.append(f"  {_local(post)}  {post.account:<{width}}  #{post.id:<6} {_short(post.first_text)}"
                         + _doubt(post))
    else:
        lines.append("Nothing queued.")
    lines += _approval_lines(status, width)
    if status.recent_sent:
        lines.append("Recently sent:")
        for post in status.recent_sent:
            lines.append(f"  {_sent_local(post)}  {post.account:<{width}}  #{post.id:<6} {post.remote_url or ''}")
    return "\n".join(lines) + "\n"


def _attention_lines(status: Status, now, width: int) -> list[str]:
    lines = []
    for bad in status.invalid_files:
        kept = (f"the queue from the version synced {_when(bad.last_good_sync)} keeps running" if bad.last_good_sync
                else "no version of it was ever synced: nothing from it is queued")
        lines.append(f"{bad.path}: invalid since {_when(bad.since)}, {bad.error_count} "
                     f"error{'s' * (bad.error_count != 1)} ({kept}; 'campaign check' lists them all):")
        lines.append(f"  {bad.first_error}")
    for account in status.flagged_accounts:
        lines.append(f"account {account.name} ({account.platform}) flagged since {_when(account.since)}: "
                     f"{account.reason} (its posts wait; fix it, then 'campaign accounts check')")
    for server in status.stale_servers:
        lines.append(f"{server.kind} on host {server.host} (pid {server.pid}): last tick "
                     f"{_ago(_seconds(now, server.last_tick_at))} and no stop was recorded — not running?")
    for post in status.stuck:
        lines.append(f"#{post.id:<6} sending  {post.account:<{width}}  {_local(post)}  lease ended "
                     f"{_when(post.lease_until)}; the next 'campaign run' or 'serve' settles it" + _doubt(post))
    if status.awaiting_past_due:
        count = status.awaiting_past_due
        lines.append(f"{count} post{'s are' if count != 1 else ' is'} due but not approved: each is missed when "
                     "its 'late' allowance ends ('campaign approvals', then 'campaign approve ID')")
    if status.stuck_total > len(status.stuck):
        lines.append(f"… and {status.stuck_total - len(status.stuck)} more stuck sending")
    for post in status.problems:
        lines.append(f"#{post.id:<6} {post.state:<8} {post.account:<{width}}  {_local(post)}  "
                     f"{post.last_error or ''}" + _doubt(post))
    if status.problems_total > len(status.problems):
        lines.append(f"… and {status.problems_total - len(status.problems)} more failed, unknown or missed "
                     "('campaign status --limit N' or '--format json')")
    shown = {post.state for post in status.problems}
    if "unknown" in shown:
        lines.append("unknown: may have gone out; look at the account, then 'campaign resolve ID --sent URL' "
                     "(it is there) or 'campaign retry ID' (it is not)")
    if shown & {"failed", "missed"}:
        lines.append("failed, missed: not posted; 'campaign retry ID' sends it (fix the cause of a failure first)")
    if shown:
        lines.append("'campaign acknowledge ID' (or --all) stops the reminders for a post that should stay as it is")
    return lines


def _approval_lines(status: Status, width: int) -> list[str]:
    """Posts awaiting approval (soonest first) and rejected ones, with who approved so far and why not."""
    lines = []
    waiting, refused = status.counts.get("awaiting_approval", 0), status.counts.get("rejected", 0)
    if status.awaiting:
        lines.append(f"Awaiting approval ({waiting}):")
        for post in status.awaiting:
            note = f"  ({post.last_error})" if post.last_error else ""
            lines.append(f"  {_local(post)}  {post.account:<{width}}  #{post.id:<6} {_approvals(post)}  "
                         f"{_short(post.first_text, 50)}{note}")
        if waiting > len(status.awaiting):
            lines.append(f"  … and {waiting - len(status.awaiting)} more")
    if status.rejected:
        lines.append(f"Rejected ({refused}):")
        for post in status.rejected:
            lines.append(f"  {_local(post)}  {post.account:<{width}}  #{post.id:<6} {post.last_error or 'rejected'}")
        if refused > len(status.rejected):
            lines.append(f"  … and {refused - len(status.rejected)} more")
    if lines:
        lines.append("'campaign approvals' lists them; 'campaign approve ID' or 'campaign reject ID --reason TEXT'")
    return lines


def _approvals(post) -> str:
    """'1 of 2 approvals (anna)'."""
    who = f" ({', '.join(post.approved_by)})" if post.approved_by else ""
    return f"{len(post.approved_by)} of {post.approvals_needed} approval{'s' * (post.approvals_needed != 1)}{who}"


def check_summary(status: Status) -> str:
    """The words after OK/WARNING/CRITICAL: what needs a person, or what is next when all is well."""
    if status.broken or status.attention:
        return ", ".join(status.broken + status.attention)
    queued = status.counts["queued"]
    if not status.next_due:
        return f"{queued} queued"
    first = status.next_due[0]
    offset = first.local_time[-6:] if first.local_time[-6:-5] in ("+", "-") else ""
    return f"{queued} queued, next at {_local(first)} {offset}".rstrip()


def check_line(status: Status) -> str:
    """One line, as Nagios/Icinga plugins print it, with the counts as performance data."""
    perfdata = " ".join(f"{state}={count}" for state, count in status.counts.items())
    return f"CAMPAIGN {CHECK_LEVELS[status.exit_code]} - {check_summary(status)} | {perfdata}"


def check_failure_line(error) -> str:
    return f"CAMPAIGN CRITICAL - {error}"


def status_record(status: Status, database: str) -> dict:
    """`campaign status --format json`: the shape documented in README.md (version 1)."""
    return {
        "version": STATUS_JSON_VERSION,
        "generated_at": _z(status.now),
        "database": database,
        "check": {"exit_code": status.exit_code, "status": CHECK_LEVELS[status.exit_code].lower(),
                  "summary": check_summary(status)},
        "counts": dict(status.counts),
        "needs_person": {
            "invalid_files": [{"path": f.path, "sha256": f.sha256, "first_error": f.first_error,
                               "error_count": f.error_count, "since": _z(f.since),
                               "last_good_sync": _z(f.last_good_sync)} for f in status.invalid_files],
            "stuck_sending": {"total": status.stuck_total, "posts": [_post_record(p) for p in status.stuck]},
            "problems": {"total": status.problems_total, "posts": [_post_record(p) for p in status.problems]},
            "flagged_accounts": [{"name": a.name, "platform": a.platform, "reason": a.reason, "since": _z(a.since)}
                                 for a in status.flagged_accounts],
            "stale_servers": [_server_record(s) for s in status.stale_servers],
        },
        "next_due": [_post_record(p) for p in status.next_due],
        "awaiting_approval": {"total": status.counts.get("awaiting_approval", 0),
                              "past_due": status.awaiting_past_due,
                              "posts": [_post_record(p) for p in status.awaiting]},
        "rejected": {"total": status.counts.get("rejected", 0), "posts": [_post_record(p) for p in status.rejected]},
        "recent_sent": [_post_record(p) for p in status.recent_sent],
        "servers": [_server_record(s) for s in status.servers],
    }


def status_json(status: Status, database: str) -> str:
    return json.dumps(status_record(status, database), ensure_ascii=False, indent=2) + "\n"


def _post_record(post) -> dict:
    return {
        "id": post.id, "key": post.key, "state": post.state, "account": post.account, "platform": post.platform,
        "campaign": post.campaign_id, "due_at": _z(post.due_at), "local_time": post.local_time,
        "text": post.text, "parts": post.parts, "attempts": post.attempts, "last_error": post.last_error,
        "url": post.remote_url, "sent_at": _z(post.sent_at), "lease_until": _z(post.lease_until),
        "in_doubt_since": _z(post.in_doubt_since), "updated_at": _z(post.updated_at),
        "approvals_needed": post.approvals_needed, "approved_by": list(post.approved_by),
    }


def _server_record(server) -> dict:
    return {"worker": server.worker, "kind": server.kind, "host": server.host, "pid": server.pid,
            "posts_file": server.posts_file, "started_at": _z(server.started_at),
            "last_tick_at": _z(server.last_tick_at), "beating": server.beating}


HISTORY_FIELDS = ("id", "sent_at", "local_time", "account", "platform", "campaign", "key", "url", "text",
                  "scheduled_for", "approved_by")


def history_records(sent: list, zone) -> list[dict]:
    """Sent posts for `campaign history`; local_time is when it went out, in posts.yaml's zone."""
    return [{"id": p.id, "sent_at": _z(p.sent_at), "local_time": p.sent_at and p.sent_at.astimezone(zone).isoformat(),
             "account": p.account, "platform": p.platform, "campaign": p.campaign_id, "key": p.key,
             "url": p.remote_url, "text": p.text, "scheduled_for": p.local_time,
             "approved_by": list(p.approved_by)} for p in sent]


def history_json(sent: list, zone) -> str:
    return json.dumps(history_records(sent, zone), ensure_ascii=False, indent=2) + "\n"


def history_csv(sent: list, zone) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({**record, "approved_by": ", ".join(record["approved_by"])}
                     for record in history_records(sent, zone))
    return buffer.getvalue()


def history_table(sent: list, total: int, zone) -> str:
    if not sent:
        return "No sent posts match.\n"
    approvals = any(p.approved_by for p in sent)  # a column only when some campaign needs approval
    rows = [(f"{p.sent_at.astimezone(zone):%Y-%m-%d %H:%M}" if p.sent_at else "?", p.account, p.campaign_id or "(one-off)", f"#{p.id}",
             p.remote_url or "") + ((", ".join(p.approved_by) or "-",) if approvals else ()) + (_short(p.first_text, 60),)
            for p in sent]
    header = ((f"Sent ({getattr(zone, 'key', zone)})", "Account", "Campaign", "Id", "URL")
              + (("Approved by",) if approvals else ()) + ("Text",))
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1]
             for row in [header] + rows]
    if total > len(sent):
        lines.append(f"{len(sent)} of {total} sent posts, newest first; all of them: --limit 0 or --format csv")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _z(moment) -> str | None:
    """ISO 8601 in UTC with Z, to the second: the one time format of the JSON documents."""
    return None if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(now, then) -> int:
    return int((now - then).total_seconds())


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def _local(post) -> str:
    return post.local_time[:16].replace("T", " ")


def _sent_local(post) -> str:
    """When it went out, on the wall clock of the post's own zone (as its due time is shown)."""
    if post.sent_at is None:
        return "?" * 16
    from zoneinfo import ZoneInfo

    try:
        return f"{post.sent_at.astimezone(ZoneInfo(post.timezone)):%Y-%m-%d %H:%M}"
    except (KeyError, ValueError):
        return f"{post.sent_at:%Y-%m-%d %H:%M}Z"


def _doubt(post) -> str:
    if post.in_doubt_since is None:
        return ""
    return f" (in doubt since {_when(post.in_doubt_since)}: an attempt may have reached the platform)"


def _ago(seconds: int | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 120:
        return f"{max(seconds, 0)} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def approvals_records(pending: list) -> list[dict]:
    """`campaign approvals --format json`: each post awaiting approval (or rejected) with its decisions."""
    return [{
        "id": p.id, "key": p.key, "state": p.state, "account": p.account, "platform": p.platform,
        "campaign": p.campaign_id, "post": p.post_id, "due_at": _z(p.due_at), "local_time": p.local_time,
        "text": "\n\n".join(p.texts), "parts": list(p.texts), "media": list(p.media),
        "approvals_needed": p.approvals_needed, "approved_by": list(p.approved_by), "still_needed": p.still_needed,
        "rejections": [{"by": d.decided_by, "reason": d.reason, "at": _z(d.decided_at), "via": d.via}
                       for d in p.rejections],
        "note": p.last_error,
    } for p in pending]


def approvals_json(pending: list) -> str:
    return json.dumps(approvals_records(pending), ensure_ascii=False, indent=2) + "\n"


def approvals_table(pending: list) -> str:
    """One line per post: id, local due time, account, approvals so far/needed (or who rejected it
    and why), the first line of its text; a note (an image changed) on the line below."""
    if not pending:
        return "Nothing awaits approval.\n"
    rows = []
    for p in pending:
        if p.state == "rejected":
            verdict = "REJECTED by " + "; ".join(f"{d.decided_by}: {d.reason}" for d in p.rejections)
        else:
            who = f" ({', '.join(p.approved_by)})" if p.approved_by else ""
            verdict = f"{len(p.approved_by)}/{p.approvals_needed}{who}"
        first = p.first_text.strip().splitlines()[0] if p.first_text.strip() else ""
        parts = f" [+{len(p.texts) - 1} parts]" if len(p.texts) > 1 else ""
        rows.append((f"#{p.id}", p.local_time[:16].replace("T", " "), p.account, verdict,
                     _short(first, 60) + parts, p.last_error if p.state != "rejected" else None))
    header = ("Id", "Due (local)", "Account", "Approvals", "Text")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths)) + "  " + header[-1]]
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
        if row[5]:
            lines.append(" " * (widths[0] + 2) + f"note: {row[5]}")
    waiting = sum(p.state == "awaiting_approval" for p in pending)
    lines.append(f"{waiting} awaiting approval, {len(pending) - waiting} rejected; "
                 "'campaign approve ID…' or 'campaign reject ID --reason TEXT'")
    return "\n".join(line.rstrip() for line in lines) + "\n"
