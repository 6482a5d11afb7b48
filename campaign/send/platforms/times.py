"""Times as the platforms write them: ISO 8601 timestamps and HTTP Retry-After values."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime


def parse_iso_time(value) -> datetime | None:
    """An API timestamp ("2026-12-01T10:00:00Z", "…+0000", naive meaning UTC) as an aware UTC
    datetime; None when absent or unreadable (a post without a time is still a post)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def retry_after(value: str | None, now: datetime | None = None) -> datetime | None:
    """When a Retry-After header (seconds or an HTTP date) says to come back; None when absent
    or unreadable, which the caller treats as "no reset given"."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return (now or datetime.now(timezone.utc)) + timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
