"""What `campaign status` reports: counts per state, next due posts, recent problems, servers.

Kept apart from campaign.queue so a status call loads only what it prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from .db import Database
from .tables import STATES, accounts, dispatchers, scheduled_posts


@dataclass(frozen=True)
class PostSummary:
    id: int
    key: str
    account: str
    campaign_id: str | None
    due_at: datetime
    local_time: str
    state: str
    text: str
    last_error: str | None
    remote_url: str | None


@dataclass
class Status:
    counts: dict[str, int]
    next_due: list[PostSummary]
    recent_problems: list[PostSummary]
    flagged_accounts: list[tuple[str, str]]
    servers: list = field(default_factory=list)  # rows of `dispatchers` not marked stopped

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _summary(row) -> PostSummary:
    parts = (row.payload or {}).get("parts") or [{}]
    return PostSummary(row.id, row.key, row.account, row.campaign_id, row.due_at, row.local_time, row.state,
                       parts[0].get("text", ""), row.last_error, row.remote_url)


def status(db: Database, now: datetime, *, limit: int = 5) -> Status:
    posts = scheduled_posts.c
    with db.transaction() as connection:
        counts = dict.fromkeys(STATES, 0)
        counts.update(dict(connection.execute(select(posts.state, func.count()).group_by(posts.state)).all()))
        next_due = [_summary(r) for r in connection.execute(
            select(scheduled_posts).where(posts.state == "queued").order_by(posts.due_at, posts.id).limit(limit))]
        problems = [_summary(r) for r in connection.execute(
            select(scheduled_posts).where(posts.state.in_(("failed", "unknown", "missed")))
            .where(posts.updated_at >= now - timedelta(days=7))
            .order_by(posts.updated_at.desc(), posts.id.desc()).limit(limit))]
        flagged = [(r.name, r.flag_reason or "") for r in connection.execute(
            select(accounts).where(accounts.c.flagged_at.is_not(None)))]
        servers = list(connection.execute(select(dispatchers).where(dispatchers.c.stopped_at.is_(None))
                                          .order_by(dispatchers.c.started_at)))
    return Status(counts, next_due, problems, flagged, servers)
