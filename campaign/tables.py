"""The queue's tables. Times are stored as UTC and always come back aware."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text,
                        TypeDecorator)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STATES = ("queued", "sending", "sent", "failed", "unknown", "missed", "cancelled")
UNSENT = ("queued", "cancelled")  # the states sync may rewrite
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


class Base(DeclarativeBase):
    pass


def _now() -> datetime:
    return datetime.now(timezone.utc)


class AccountRow(Base):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(300))
    instance: Mapped[str | None] = mapped_column(String(300))
    max_per_day: Mapped[int | None] = mapped_column(Integer)
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    flag_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)


class ScheduledPost(Base):
    """One occurrence: a post or thread for one account at one instant."""

    __tablename__ = "scheduled_posts"
    __table_args__ = (
        CheckConstraint("state IN ('queued','sending','sent','failed','unknown','missed','cancelled')",
                        name="ck_scheduled_posts_state"),
        CheckConstraint("source IN ('file','manual')", name="ck_scheduled_posts_source"),
        Index("ix_scheduled_posts_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    source: Mapped[str] = mapped_column(String(10), default="file")
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id"))
    post_id: Mapped[str | None] = mapped_column(String(100))
    account: Mapped[str] = mapped_column(ForeignKey("accounts.name"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    local_time: Mapped[str] = mapped_column(String(40))  # ISO 8601 with offset, as planned
    timezone: Mapped[str] = mapped_column(String(64))
    late_seconds: Mapped[int] = mapped_column(Integer)
    variant: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    remote_url: Mapped[str | None] = mapped_column(String(500))
    reply_to_url: Mapped[str | None] = mapped_column(String(500))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
