"""The queue's tables (SQLAlchemy Core: cheap to import, so a cron tick stays fast).

Times are stored as UTC and always come back aware.
"""
from __future__ import annotations

from datetime import timezone

from sqlalchemy import (JSON, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, MetaData, String,
                        Table, Text, TypeDecorator, UniqueConstraint)

STATES = ("queued", "sending", "sent", "failed", "unknown", "missed", "cancelled", "awaiting_approval", "rejected")
PROBLEM_STATES = ("failed", "unknown", "missed")  # each waits for a person: retry, resolve or acknowledge
SOURCES = ("file", "manual")
ROLES = ("viewer", "editor", "approver", "admin")  # each may do what the ones before it may
DECISIONS = ("approve", "reject")


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
    Column("state", String(20), nullable=False),
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
    # An attempt may have reached the platform and its outcome is not settled: read before re-posting.
    Column("in_doubt_since", UTCDateTime()),
    # A person has seen this failed/unknown/missed post: `run` stops reporting it.
    Column("acknowledged_at", UTCDateTime()),
    # How many distinct people must approve this exact content before it may be sent (0: none).
    Column("approvals_needed", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("state IN ('queued','sending','sent','failed','unknown','missed','cancelled',"
                    "'awaiting_approval','rejected')",
                    name="ck_scheduled_posts_state"),
    CheckConstraint("source IN ('file','manual')", name="ck_scheduled_posts_source"),
    Index("ix_scheduled_posts_state_due", "state", "due_at"),
    Index("ix_scheduled_posts_state_not_before", "state", "not_before"),
    Index("ix_scheduled_posts_state_sent_at", "state", "sent_at"),  # history and status: newest sent first
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

# A posts.yaml that fails validation right now; the queue from its last good version keeps running.
invalid_files = Table(
    "invalid_files", metadata,
    Column("path", String(1000), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("first_error", Text, nullable=False),
    Column("error_count", Integer, nullable=False),
    Column("since", UTCDateTime(), nullable=False),
)

# One alert per event and subject (a post key, an account, a file, a dispatcher): overlapping runs
# and restarts insert the same row at most once, and delivery is retried until it succeeds.
notifications = Table(
    "notifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event", String(30), nullable=False),
    Column("subject", String(1000), nullable=False),
    Column("post_id", Integer),
    Column("account", String(100)),
    Column("campaign_id", String(100)),
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime()),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    UniqueConstraint("event", "subject", name="uq_notifications_event_subject"),
    Index("ix_notifications_delivered_at", "delivered_at"),
)

# Where alerts go: posts.yaml's `notify:` as of its last good sync, so an invalid file can still
# alert. `url` is as written ({env:NAME} placeholders unresolved): never a secret.
notify_targets = Table(
    "notify_targets", metadata,
    Column("key", String(64), primary_key=True),  # sha256 of campaign, url, digest
    Column("campaign_id", String(100)),  # NULL: the top level, every campaign
    Column("url", Text, nullable=False),
    Column("events", JSON),  # NULL: every event
    Column("digest", String(10)),  # NULL: at once; "daily"
    Column("digest_at", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),
    # Only events from this moment on reach the target: enabling notify on an old queue is quiet.
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("last_digest_at", UTCDateTime()),
    Column("digest_attempts", Integer, nullable=False, server_default="0"),
    Column("retry_at", UTCDateTime()),
    Column("last_error", Text),
)

# One notification to one target: claimed before sending, so overlapping runs send it once.
notify_deliveries = Table(
    "notify_deliveries", metadata,
    Column("notification_id", Integer, ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True),
    Column("target", String(64), primary_key=True),
    Column("delivered_at", UTCDateTime()),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("retry_at", UTCDateTime()),
    Column("claimed_until", UTCDateTime()),
    Column("last_error", Text),
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


# Every approval decision, pinned to the exact content (scheduled_posts.content_hash) it was made on:
# an edit in posts.yaml changes the hash, so earlier decisions no longer count. Rows are never
# updated or deleted: this is the record of who decided what and when.
approvals = Table(
    "approvals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("post_id", Integer, ForeignKey("scheduled_posts.id", ondelete="CASCADE"), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("decision", String(10), nullable=False),
    Column("decided_by", String(100), nullable=False),
    Column("reason", Text),
    Column("via", String(10), nullable=False),  # web | cli
    Column("decided_at", UTCDateTime(), nullable=False),
    CheckConstraint("decision IN ('approve','reject')", name="ck_approvals_decision"),
    Index("ix_approvals_post_hash", "post_id", "content_hash"),
)

# People of the web workspace. Only an Argon2 hash of the password is kept.
users = Table(
    "users", metadata,
    Column("name", String(100), primary_key=True),
    Column("role", String(10), nullable=False),
    Column("password_hash", String(300), nullable=False),
    Column("locale", String(10)),  # interface language; NULL: the workspace default (Dutch)
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("role IN ('viewer','editor','approver','admin')", name="ck_users_role"),
)

# Signed-in browsers. Only a hash of the session token is kept, so reading this table does not let
# anyone in; several workspace processes share it.
web_sessions = Table(
    "web_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(100), ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_web_sessions_user", "user_name"),
)

# Sign-in attempts, to slow down guessing per user name and per address.
login_attempts = Table(
    "login_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_name", String(100), nullable=False),
    Column("address", String(100), nullable=False),
    Column("succeeded", Integer, nullable=False),
    Column("attempted_at", UTCDateTime(), nullable=False),
    Index("ix_login_attempts_user_time", "user_name", "attempted_at"),
    Index("ix_login_attempts_address_time", "address", "attempted_at"),
)
