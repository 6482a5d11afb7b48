"""The queue's tables (SQLAlchemy Core: cheap to import, so a cron tick stays fast).

Times are stored as UTC and always come back aware.
"""
from __future__ import annotations

from datetime import timezone

from sqlalchemy import (JSON, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, MetaData, String,
                        Table, Text, TypeDecorator)

STATES = ("queued", "sending", "sent", "failed", "unknown", "missed", "cancelled")
SOURCES = ("file", "manual")


class UTCDateTime(TypeDecorator):
    """Refuses naive datetimes on the way in; returns aware UTC on the way out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware datetimes")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


metadata = MetaData()

accounts = Table(
    "accounts", metadata,
    Column("name", String(100), primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("handle", String(300), nullable=False),
    Column("instance", String(300)),
    Column("max_per_day", Integer),
    Column("flagged_at", UTCDateTime()),
    Column("flag_reason", Text),
    Column("updated_at", UTCDateTime(), nullable=False),
)

campaigns = Table(
    "campaigns", metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# One occurrence: a post or thread for one account at one instant.
scheduled_posts = Table(
    "scheduled_posts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(400), nullable=False, unique=True),
    Column("source", String(10), nullable=False),
    Column("campaign_id", String(100), ForeignKey("campaigns.id")),
    Column("post_id", String(100)),
    Column("account", String(100), ForeignKey("accounts.name"), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("local_time", String(40), nullable=False),  # ISO 8601 with offset, as planned
    Column("timezone", String(64), nullable=False),
    Column("late_seconds", Integer, nullable=False),
    Column("variant", Integer, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("remote_id", String(200)),
    Column("remote_url", String(500)),
    Column("reply_to_url", String(500)),
    Column("lease_until", UTCDateTime()),
    Column("not_before", UTCDateTime()),  # held back (rate limit, daily cap) until then
    Column("claimed_by", String(200)),
    Column("claimed_at", UTCDateTime()),
    Column("sent_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("state IN ('queued','sending','sent','failed','unknown','missed','cancelled')",
                    name="ck_scheduled_posts_state"),
    CheckConstraint("source IN ('file','manual')", name="ck_scheduled_posts_source"),
    Index("ix_scheduled_posts_state_due", "state", "due_at"),
    Index("ix_scheduled_posts_state_not_before", "state", "not_before"),
)

# Each part of a post that the platform has accepted: a thread resumes after the last one,
# and max_per_day counts these.
sent_parts = Table(
    "sent_parts", metadata,
    Column("post_id", Integer, ForeignKey("scheduled_posts.id", ondelete="CASCADE"), primary_key=True),
    Column("part_index", Integer, primary_key=True),
    Column("account", String(100), nullable=False),
    Column("remote_id", String(300), nullable=False),
    Column("remote_url", String(500)),
    Column("remote_ref", JSON),
    Column("sent_at", UTCDateTime(), nullable=False),
    Index("ix_sent_parts_account_sent_at", "account", "sent_at"),
)

# The posts.yaml content (by hash) that the queue was last synced from.
synced_files = Table(
    "synced_files", metadata,
    Column("path", String(1000), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("synced_at", UTCDateTime(), nullable=False),
)

# Long-running dispatchers (`campaign serve`) and their heartbeat.
dispatchers = Table(
    "dispatchers", metadata,
    Column("worker", String(200), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("last_tick_at", UTCDateTime(), nullable=False),
    Column("stopped_at", UTCDateTime()),
    Column("posts_file", String(1000)),
)
