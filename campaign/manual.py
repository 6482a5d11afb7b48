"""What a person does to the queue by hand: one-off posts, retries, and resolving unknown posts."""
from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

from .db import Database
from .errors import CampaignError, NotFoundError
from .model import DEFAULT_LATE
from .tables import accounts, scheduled_posts, sent_parts
from .text import LIMITS, length

posts = scheduled_posts.c


@dataclass(frozen=True)
class QueuedPost:
    id: int
    key: str
    due_at: datetime


def queue_post(db: Database, account: str, text: str, *, at: datetime, now: datetime,
               reply_to_url: str | None = None, media: tuple[tuple[Path, str], ...] = (),
               late: timedelta = DEFAULT_LATE) -> QueuedPost:
    """Queue a one-off post (or reply) outside posts.yaml; sync leaves it alone."""
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise CampaignError("the text is empty")
    with db.transaction(write=True) as connection:
        row = connection.execute(select(accounts).where(accounts.c.name == account)).first()
        if row is None:
            known = [r.name for r in connection.execute(select(accounts.c.name).order_by(accounts.c.name))]
            raise NotFoundError(f"unknown account '{account}'" + (f"; known: {', '.join(known)}" if known else
                                "; run 'campaign sync' first so the queue knows the accounts"))
        counted = length(row.platform, text)
        if counted > LIMITS[row.platform]:
            raise CampaignError(f"text is {counted} characters on {row.platform}, the limit is {LIMITS[row.platform]}")
        for path, alt in media:
            if not Path(path).is_file():
                raise CampaignError(f"media file '{path}' not found")
            if not alt.strip():
                raise CampaignError(f"media '{path}' needs alt text (--alt)")
        key = f"manual/{account}/{uuid.uuid4().hex[:12]}"
        payload = {"parts": [{"text": text, "media": [{"path": str(Path(p).resolve()), "alt": a} for p, a in media]}]}
        result = connection.execute(insert(scheduled_posts).values(
            key=key, source="manual", campaign_id=None, post_id=None, account=account, due_at=at,
            local_time=at.isoformat(), timezone="UTC", late_seconds=int(late.total_seconds()), variant=0,
            payload=payload, content_hash="manual", state="queued", attempts=0, reply_to_url=reply_to_url,
            created_at=now, updated_at=now).returning(posts.id))
        return QueuedPost(result.scalar_one(), key, at)


def _row(connection, post_id: int):
    row = connection.execute(select(scheduled_posts).where(posts.id == post_id)).first()
    if row is None:
        raise NotFoundError(f"no post #{post_id} in the queue (see 'campaign status')")
    return row


def retry(db: Database, post_id: int, now: datetime) -> None:
    """Put a failed, unknown or missed post back in the queue to go out now; a thread resumes where it stopped."""
    with db.transaction(write=True) as connection:
        row = _row(connection, post_id)
        if row.state not in ("failed", "unknown", "missed"):
            raise CampaignError(f"post #{post_id} is {row.state}; only failed, unknown or missed posts can be retried")
        # Stretch the lateness allowance so the next run sends it instead of marking it missed again.
        late = max(row.late_seconds, int((now - row.due_at).total_seconds()) + row.late_seconds)
        connection.execute(update(scheduled_posts).where(posts.id == post_id).values(
            state="queued", attempts=0, last_error=f"retry requested at {now:%Y-%m-%d %H:%M} UTC",
            late_seconds=late, claimed_by=None, lease_until=None, updated_at=now))


_STATUS_ID = re.compile(r"/(?:status|statuses|post)/([A-Za-z0-9]+)/?$|/@[^/]+/(\d+)/?$")


def resolve_sent(db: Database, post_id: int, url: str, now: datetime) -> None:
    """A person checked the account: the post did go out, at this URL."""
    if not re.match(r"^https?://\S+$", url):
        raise CampaignError(f"{url!r} is not a post URL")
    match = _STATUS_ID.search(url)
    remote_id = next((g for g in match.groups() if g), None) if match else url
    with db.transaction(write=True) as connection:
        row = _row(connection, post_id)
        if row.state not in ("unknown", "failed", "sending", "missed"):
            raise CampaignError(f"post #{post_id} is {row.state}; only unknown, failed or stuck posts can be resolved")
        connection.execute(update(scheduled_posts).where(posts.id == post_id).values(
            state="sent", remote_id=remote_id, remote_url=url, sent_at=now, claimed_by=None, lease_until=None,
            last_error=None, updated_at=now))
        parts = len((row.payload or {}).get("parts", [])) or 1
        done = {r.part_index for r in connection.execute(select(sent_parts.c.part_index)
                                                         .where(sent_parts.c.post_id == post_id))}
        if parts == 1 and 0 not in done:
            connection.execute(insert(sent_parts).values(post_id=post_id, part_index=0, account=row.account,
                                                         remote_id=remote_id, remote_url=url, sent_at=now))


def cancel(db: Database, post_id: int, now: datetime) -> None:
    with db.transaction(write=True) as connection:
        row = _row(connection, post_id)
        if row.state != "queued":
            raise CampaignError(f"post #{post_id} is {row.state}; only queued posts can be cancelled")
        connection.execute(update(scheduled_posts).where(posts.id == post_id, posts.state == "queued")
                           .values(state="cancelled", last_error="cancelled by hand", updated_at=now))


def due_now(db: Database, now: datetime) -> list:
    """Queued posts that a run at `now` would take, oldest first (for --dry-run)."""
    with db.transaction() as connection:
        return list(connection.execute(select(scheduled_posts).where(posts.state == "queued", posts.due_at <= now)
                                       .order_by(posts.due_at, posts.id)))
