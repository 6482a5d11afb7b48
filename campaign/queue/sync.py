"""The queue in the database: make it match posts.yaml, and report on it.

The database is the single source of truth for what is queued, in flight and
sent. Sync rewrites only posts that have not started sending (queued, cancelled,
awaiting approval, rejected); history is never touched. A post that needs approval
gets its state from the decisions on its current content (campaign.queue.approvals).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pathlib import Path

from sqlalchemy import bindparam, delete, insert, or_, select, update

from typing import TYPE_CHECKING

from campaign.queue.db import Database
from campaign.errors import CampaignError
from campaign.queue.tables import accounts, campaigns, invalid_files, notify_targets, scheduled_posts, synced_files

if TYPE_CHECKING:
    from campaign.spec.plan import Occurrence, Plan


# Rows sync may rewrite: nothing of them has reached a platform.
REWRITABLE = ("queued", "cancelled", "awaiting_approval", "rejected")


@dataclass
class SyncSummary:
    """What a sync did, counted per kind of change (printed as one line)."""

    queued: int = 0  # new (or back from cancelled) and ready to go
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    missed: int = 0
    history: int = 0  # sending/sent/failed/unknown/missed rows left as they are
    edited_after_sending: list[str] = field(default_factory=list)
    new_awaiting: int = 0  # new (or back from cancelled) and waiting for approval
    awaiting: int = 0  # this file's posts awaiting approval after the sync (new, edited or as they were)
    rejected: int = 0  # this file's posts rejected for their current content

    @property
    def changed(self) -> bool:
        return bool(self.queued or self.updated or self.cancelled or self.missed or self.new_awaiting)

    def __str__(self) -> str:
        parts = [f"{self.queued} new queued"]
        if self.new_awaiting:
            parts.append(f"{self.new_awaiting} new awaiting approval")
        parts += [f"{self.updated} updated", f"{self.cancelled} cancelled", f"{self.unchanged} unchanged"]
        if self.missed:
            parts.append(f"{self.missed} already too late (missed)")
        if self.history:
            parts.append(f"{self.history} already sent, failed, missed or in flight (left alone)")
        text = ", ".join(parts)
        if self.awaiting or self.rejected:
            waiting = [f"{self.awaiting} await{'s' * (self.awaiting == 1)} approval"] if self.awaiting else []
            waiting += [f"{self.rejected} rejected"] if self.rejected else []
            text += f"; {' and '.join(waiting)} (see 'campaign approvals')"
        return text


def content_hash(occ: Occurrence, *, media_digests: bool = True) -> str:
    """What an approval is pinned to: account, time, lateness, variant and payload (text, media
    with their SHA-256). Without media_digests: the hash as plan format 1 made it, before media
    files were hashed, so posts sent before that are not taken for edited ones."""
    import hashlib
    import json

    payload = occ.payload()
    if not media_digests:
        payload = {**payload, "parts": [{**part, "media": [{k: v for k, v in m.items() if k != "sha256"}
                                                           for m in part["media"]]} for part in payload["parts"]]}
    blob = json.dumps([occ.account, occ.due_at.isoformat(), occ.local_time.isoformat(),
                       int(occ.late.total_seconds()), occ.variant, payload],
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _row_values(occ: Occurrence, now: datetime) -> dict:
    """The row for an occurrence; its state as if nobody had decided on it yet (sync derives the
    state of an existing row from the decisions on its content)."""
    too_late = occ.due_at + occ.late < now
    needed = getattr(occ, "approvals_needed", 0)
    return {
        "campaign_id": occ.campaign_id, "post_id": occ.post_id, "account": occ.account,
        "due_at": occ.due_at, "local_time": occ.local_time.isoformat(), "timezone": occ.timezone,
        "late_seconds": int(occ.late.total_seconds()), "variant": occ.variant,
        "payload": occ.payload(), "content_hash": content_hash(occ), "approvals_needed": needed,
        "state": "missed" if too_late else "awaiting_approval" if needed else "queued",
        "last_error": "already past its 'late' allowance when it was first queued" if too_late else None,
        "attempts": 0, "updated_at": now,
    }


# Bump when the way posts.yaml expands into occurrences changes, so an unchanged file is synced again.
PLAN_FORMAT = "2"  # 2: media entries carry their sha256; approvals_needed


def file_fingerprint(path: Path) -> str:
    """A hash of posts.yaml's bytes (and of how we expand them); cheap enough for every cron tick."""
    import hashlib

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CampaignError(f"{path}: file not found") from None
    except OSError as exc:
        raise CampaignError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return hashlib.sha256(PLAN_FORMAT.encode() + b"\0" + data).hexdigest()


def is_synced(db: Database, path: Path, fingerprint: str) -> bool:
    """Whether the queue already reflects exactly this posts.yaml content.

    Not while the file is recorded as invalid: a good version put back byte for byte would
    otherwise never be synced again, and the invalid record would stay in `campaign status`.
    """
    key = str(Path(path).resolve())
    with db.transaction() as connection:
        stored = connection.execute(select(synced_files.c.sha256).where(synced_files.c.path == key)).scalar()
        if stored != fingerprint:
            return False
        return connection.execute(select(invalid_files.c.path).where(invalid_files.c.path == key)).first() is None


def record_invalid_file(db: Database, path: Path, error: CampaignError, now: datetime) -> None:
    """Remember that posts.yaml is invalid (or unreadable) while the last good queue keeps running.

    `since` is the first time this content was seen invalid, so a cron tick every five minutes
    does not make an old problem look new; an edit that is still invalid starts a new `since`.
    """
    import hashlib

    key = str(Path(path).resolve())
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        digest = ""  # missing or unreadable: there is no content to name
    problems = getattr(error, "problems", None)
    if problems:
        errors = [p for p in problems if p.severity == "error"] or list(problems)
        first_error, count = str(errors[0]), len(errors)
    else:
        first_error, count = str(error), 1
    # Serialised with sync, so a sync of a good version cannot interleave with this write.
    with db.transaction(write=True, exclusive="sync") as connection:
        row = connection.execute(select(invalid_files).where(invalid_files.c.path == key)).first()
        if row is None:
            connection.execute(insert(invalid_files).values(path=key, sha256=digest, first_error=first_error,
                                                            error_count=count, since=now))
        elif row.sha256 != digest:
            connection.execute(update(invalid_files).where(invalid_files.c.path == key).values(
                sha256=digest, first_error=first_error, error_count=count, since=now))
        elif (row.first_error, row.error_count) != (first_error, count):
            connection.execute(update(invalid_files).where(invalid_files.c.path == key).values(
                first_error=first_error, error_count=count))


def _forget_invalid_file(connection, path: Path | str) -> None:
    """Forget an invalid record for this file; called inside the transaction of its successful sync."""
    connection.execute(delete(invalid_files).where(invalid_files.c.path == str(Path(path).resolve())))


def sync(db: Database, plan: Plan, now: datetime, *, fingerprint: str | None = None) -> SyncSummary:
    """Make the queue match the plan in one transaction (recording the file's fingerprint with it)."""
    if now.tzinfo is None:
        raise ValueError("sync needs an aware 'now'")
    assert plan.file is not None
    summary = SyncSummary()
    posts = scheduled_posts.c
    with db.transaction(write=True, exclusive="sync") as connection:
        _sync_accounts(connection, plan, now)
        _sync_campaigns(connection, plan, now)
        _sync_notify(connection, plan, now)
        existing = {
            key: (row_id, state, digest, needed)
            for key, row_id, state, digest, needed in connection.execute(
                select(posts.key, posts.id, posts.state, posts.content_hash, posts.approvals_needed)
                .where(posts.source == "file"))
        }
        inserts, updates, was = [], [], []
        for occ in plan.occurrences:
            values = _row_values(occ, now)
            found = existing.pop(occ.key, None)
            if found is None:
                # A new row has no decisions yet: it awaits approval when its campaign asks for one.
                inserts.append({**values, "key": occ.key, "source": "file", "created_at": now})
                summary.missed += values["state"] == "missed"
                summary.queued += values["state"] == "queued"
                summary.new_awaiting += values["state"] == "awaiting_approval"
                summary.awaiting += values["state"] == "awaiting_approval"
                continue
            row_id, state, digest, needed = found
            if (state != "cancelled" and state in REWRITABLE and digest == values["content_hash"]
                    and needed == values["approvals_needed"]):
                summary.unchanged += 1
                summary.awaiting += state == "awaiting_approval"
                summary.rejected += state == "rejected"
            elif state in REWRITABLE:
                updates.append({**values, "row_id": row_id})
                was.append(state)
            else:
                summary.history += 1
                if digest != values["content_hash"] and digest != content_hash(occ, media_digests=False):
                    summary.edited_after_sending.append(occ.key)
        _derive_states(connection, updates)
        for values, state in zip(updates, was):
            if values["state"] == "missed":
                summary.missed += 1
            elif state == "cancelled" and values["state"] == "queued":
                summary.queued += 1
            elif state == "cancelled" and values["state"] == "awaiting_approval":
                summary.new_awaiting += 1
            else:
                summary.updated += 1
            summary.awaiting += values["state"] == "awaiting_approval"
            summary.rejected += values["state"] == "rejected"
        # Removing a post from posts.yaml withdraws it, approved or not.
        cancels = [{"row_id": row_id} for row_id, state, _, _ in existing.values()
                   if state in REWRITABLE and state != "cancelled"]
        summary.cancelled = len(cancels)
        if inserts:
            connection.execute(insert(scheduled_posts), inserts)
        if updates:
            # Only rows still unsent: a dispatcher may not claim between our read and this write
            # (the write lock is held), but the condition keeps the rule visible in the SQL.
            connection.execute(
                update(scheduled_posts)
                .where(posts.id == bindparam("row_id"), _unsent(posts)),
                updates)
        if cancels:
            connection.execute(
                update(scheduled_posts)
                .where(posts.id == bindparam("row_id"), _unsent(posts), posts.state != "cancelled")
                .values(state="cancelled", updated_at=now, last_error="removed from posts.yaml"),
                cancels)
        _forget_invalid_file(connection, plan.file.path)
        if fingerprint is not None:
            key = str(Path(plan.file.path).resolve())
            connection.execute(delete(synced_files).where(synced_files.c.path == key))
            connection.execute(insert(synced_files).values(path=key, sha256=fingerprint, synced_at=now))
    return summary


def _unsent(columns):
    """state IN REWRITABLE, spelled out: an executemany UPDATE cannot take an expanding IN."""
    return or_(*(columns.state == state for state in REWRITABLE))


def _derive_states(connection, updates: list[dict]) -> None:
    """The state of each rewritten row that is not too late, from its approvals_needed and the
    decisions on its new content (campaign.queue.approvals.tally): decisions on an earlier
    version stay on the record but no longer count, so an edit puts a post back to awaiting
    approval; content put back exactly as it was approved counts as approved again."""
    open_rows = [values for values in updates if values["state"] != "missed"]
    if not open_rows:
        return  # nothing to look up (a first sync, or only missed rows): approvals is not even imported
    from campaign.queue.approvals import current_decisions, tally

    decided = current_decisions(connection, {values["row_id"]: values["content_hash"] for values in open_rows})
    for values in open_rows:
        found = decided.get(values["row_id"], [])
        if values["approvals_needed"] or found:  # a standing rejection holds even without approval: required
            result = tally(values["approvals_needed"], found)
            values["state"] = result.state
            if result.rejections:
                latest = result.rejections[-1]
                values["last_error"] = f"rejected by {latest.decided_by}: {latest.reason}"


def _upsert_by_key(connection, table, key: str, wanted: dict, now: datetime) -> None:
    """Insert rows that are missing and update rows whose fields differ; wanted: key -> fields."""
    rows = {getattr(row, key): row for row in connection.execute(select(table))}
    for value, fields in wanted.items():
        row = rows.get(value)
        if row is None:
            connection.execute(insert(table).values({key: value, "updated_at": now, **fields}))
        elif any(getattr(row, name) != field for name, field in fields.items()):
            connection.execute(update(table).where(table.c[key] == value).values(updated_at=now, **fields))


def _sync_accounts(connection, plan: Plan, now: datetime) -> None:
    _upsert_by_key(connection, accounts, "name", {
        account.name: {"platform": account.platform, "handle": account.handle,
                       # LinkedIn has no instance; its organisation is kept there for the dispatchers
                       "instance": account.instance or account.organization,
                       "max_per_day": account.max_per_day}
        for account in plan.file.accounts.values()}, now)


def _sync_notify(connection, plan: Plan, now: datetime) -> None:
    """Store `notify:` with the queue, so a later invalid posts.yaml can still alert through it."""
    targets = getattr(plan.file, "notify", ())
    if not targets:
        # Without `notify:` every stored target goes, as store_targets would do, without loading
        # the alerts machinery (most campaigns have none, and every sync would pay for it).
        connection.execute(delete(notify_targets))
        return
    from campaign.alerts.notify import store_targets

    store_targets(connection, targets, now)


def _sync_campaigns(connection, plan: Plan, now: datetime) -> None:
    _upsert_by_key(connection, campaigns, "id", {
        campaign.id: {"name": campaign.name, "timezone": campaign.timezone}
        for campaign in plan.file.campaigns.values()}, now)


def has_notify_targets(db: Database) -> bool:
    """One cheap query: whether posts.yaml's `notify:` left any target (an idle cron tick asks this
    before it loads the alerts machinery)."""
    with db.transaction() as connection:
        return connection.execute(select(notify_targets.c.key).limit(1)).first() is not None
