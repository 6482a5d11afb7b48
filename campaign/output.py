"""Render plans and status for people (rich on a terminal, plain when piped) and machines."""
from __future__ import annotations

import csv
import io
import json
import sys

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plan import Occurrence
    from .status import Status

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
                       "media": [{"path": m, "alt": a} for m, a in p.media]} for p in occ.parts],
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


def status_text(status: Status, database: str, now=None) -> str:
    lines = [f"Queue in {database}: {status.total} post{'s' if status.total != 1 else ''}"]
    lines.append("  " + "  ".join(f"{state} {count}" for state, count in status.counts.items()))
    for server in status.servers:
        age = int((now - server.last_tick_at).total_seconds()) if now else None
        stale = age is not None and age > 120
        lines.append(f"{server.kind} {'last seen' if stale else 'running'} on host {server.host} (pid {server.pid}), "
                     f"last tick {_ago(age)}" + (" — not running? (no stop was recorded)" if stale else ""))
    if status.flagged_accounts:
        lines.append("Accounts that need attention:")
        lines += [f"  {name}: {reason}" for name, reason in status.flagged_accounts]
    width = max([len(p.account) for p in status.next_due + status.recent_problems] + [8])
    if status.next_due:
        lines.append("Next due:")
        for post in status.next_due:
            lines.append(f"  {post.local_time[:16].replace('T', ' ')}  {post.account:<{width}}  #{post.id:<6} "
                         f"{_short(post.text)}")
    else:
        lines.append("Nothing queued.")
    if status.recent_problems:
        lines.append("Recent problems (7 days):")
        for post in status.recent_problems:
            lines.append(f"  #{post.id:<6} {post.state:<8} {post.account:<{width}}  "
                         f"{post.local_time[:16].replace('T', ' ')}  {post.last_error or ''}")
    return "\n".join(lines) + "\n"


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
