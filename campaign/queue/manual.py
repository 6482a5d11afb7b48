"""What a person does to the queue by hand: one-off posts, retries, and resolving unknown posts."""
from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

from campaign.queue.accounts import narrow_to, require_known
from campaign.queue.db import Database
from campaign.errors import CampaignError, NotFoundError
from campaign.spec.model import DEFAULT_LATE
from campaign.queue.tables import PROBLEM_STATES, accounts, scheduled_posts, sent_parts
from campaign.spec.text import LIMITS, length

posts = scheduled_posts.c


@dataclass(frozen=True)
class QueuedPost:
    id: int
    key: str
    due_at: datetime


def account_name(db: Database, value: str) -> str:
    """The account a person means, by its posts.yaml name or its handle (`@teamsaantstuur`,
    `@team@social.example`, any case, the leading @ optional): its name. A value that is neither
    is returned as it is, for the caller's own check to report with the names that exist."""
    from campaign.options import match_account

    with db.transaction() as connection:
        rows = connection.execute(select(accounts.c.name, accounts.c.handle)).all()
    return match_account(value, [(row.name, row.handle) for row in rows]) or value


def queue_post(db: Database, account: str, text: str, *, at: datetime, now: datetime,
               reply_to_url: str | None = None, media: tuple[tuple[Path, str], ...] = (),
               late: timedelta = DEFAULT_LATE) -> QueuedPost:
    """Queue a one-off post (or reply) outside posts.yaml; sync leaves it alone."""
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise CampaignError("the text is empty")
    with db.transaction(write=True) as connection:
        require_known(connection, accounts.c.name, account, "account")
        row = connection.execute(select(accounts).where(accounts.c.name == account)).first()
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
    if not 1 <= post_id <= MAX_POST_ID:
        raise NotFoundError(f"no post #{post_id} in the queue (ids run from 1 to {MAX_POST_ID})")
    row = connection.execute(select(scheduled_posts).where(posts.id == post_id)).first()
    if row is None:
        raise NotFoundError(f"no post #{post_id} in the queue (see 'campaign status')")
    return row


MAX_POST_ID = 2**31 - 1  # the id column's range on every database


@dataclass(frozen=True)
class Selection:
    """Which posts a person means: ids, and/or every post in `states` of an account or campaign."""
    ids: tuple[int, ...] = ()
    states: tuple[str, ...] = ()
    account: str | None = None
    campaign: str | None = None


def select_posts(connection, selection: Selection, allowed: tuple[str, ...], verb: str) -> list:
    """The rows a selection names, refusing ids that do not exist or are in a state `verb` cannot take."""
    rows = []
    for post_id in dict.fromkeys(selection.ids):
        row = _row(connection, post_id)  # refuses ids out of range or not in the queue
        if row.state not in allowed:
            raise CampaignError(f"post #{post_id} is {row.state}; only {_either(allowed)} posts can be {verb}")
        rows.append(row)
    if selection.states:
        query = narrow_to(connection, select(scheduled_posts).where(posts.state.in_(selection.states)),
                          account=selection.account, campaign=selection.campaign)
        seen = {row.id for row in rows}
        rows += [row for row in connection.execute(query.order_by(posts.id)) if row.id not in seen]
    return rows


def _either(states: tuple[str, ...]) -> str:
    return ", ".join(states[:-1]) + " or " + states[-1] if len(states) > 1 else states[0]


def retry(db: Database, post_id: int, now: datetime) -> None:
    """Put a failed, unknown or missed post back in the queue to go out now; a thread resumes where it stopped."""
    retry_many(db, Selection(ids=(post_id,)), now)


def retry_many(db: Database, selection: Selection, now: datetime) -> dict[int, str]:
    """Queue every selected failed, unknown or missed post again, in one transaction; returns each
    one's id and new state ('queued', or 'awaiting_approval'/'rejected' as below).

    A post in doubt keeps that mark, so the next run reads the timeline before posting it. A post
    that needs approval is queued only when its current content is approved (a post missed for
    want of approval goes back to awaiting approval, a rejected one to rejected)."""
    from campaign.queue.approvals import current_decisions, tally

    with db.transaction(write=True) as connection:
        rows = select_posts(connection, selection, PROBLEM_STATES, "retried")
        decided = current_decisions(connection, {row.id: row.content_hash for row in rows if row.approvals_needed})
        states: dict[int, str] = {}
        for row in rows:
            state = tally(row.approvals_needed, decided.get(row.id, [])).state if row.approvals_needed else "queued"
            # Stretch the lateness allowance so the next run sends it instead of marking it missed again.
            late = max(row.late_seconds, int((now - row.due_at).total_seconds()) + row.late_seconds)
            connection.execute(update(scheduled_posts).where(posts.id == row.id).values(
                state=state, attempts=0, last_error=f"retry requested at {now:%Y-%m-%d %H:%M} UTC"
                + ("; it needs approval first ('campaign approvals')" if state != "queued" else ""),
                late_seconds=late, claimed_by=None, lease_until=None, not_before=None, acknowledged_at=None,
                updated_at=now))
            states[row.id] = state
    return states


def acknowledge(db: Database, selection: Selection, now: datetime) -> list[int]:
    """A person has seen these failed, unknown or missed posts and leaves them as they are:
    `run` and `status --check` stop reporting them. Returns their ids."""
    with db.transaction(write=True) as connection:
        rows = select_posts(connection, selection, PROBLEM_STATES, "acknowledged")
        ids = [row.id for row in rows if row.acknowledged_at is None]
        if ids:
            connection.execute(update(scheduled_posts).where(posts.id.in_(ids))
                               .values(acknowledged_at=now, updated_at=now))
    return ids


def resolve_not_sent(db: Database, selection: Selection, now: datetime) -> list[int]:
    """A person checked the account: these unknown (or stuck) posts did not go out, and should
    not. They become failed, already acknowledged."""
    with db.transaction(write=True) as connection:
        rows = select_posts(connection, selection, ("unknown", "sending", "failed", "missed"), "resolved")
        for row in rows:
            connection.execute(update(scheduled_posts).where(posts.id == row.id).values(
                state="failed" if row.state in ("unknown", "sending") else row.state,
                last_error=f"checked by a person at {now:%Y-%m-%d %H:%M} UTC: not posted",
                claimed_by=None, lease_until=None, in_doubt_since=None, acknowledged_at=now, updated_at=now))
    return [row.id for row in rows]



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
            last_error=None, in_doubt_since=None, updated_at=now))
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
