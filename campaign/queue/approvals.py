"""Approval before sending: who approved or rejected which content, and what that makes of a post.

A campaign with `approval: required` (posts.yaml) queues its posts as `awaiting_approval`. Every
decision is a row of `approvals`, pinned to the post's content hash at that moment (text, time,
account, media and each media file's SHA-256), and never changed or deleted. A post's state follows
from its approvals_needed and the decisions on its *current* content (`tally`):

- each person counts once, by their latest decision on this content;
- anyone whose latest decision is `reject` blocks it (`rejected`) until that same person approves
  it or the content changes;
- otherwise, as many distinct approvers as approvals_needed make it `queued` (the dispatcher takes
  only queued posts); fewer leave it `awaiting_approval`.

An edit in posts.yaml changes the hash: the post is back to awaiting approval, and the earlier
decisions stay on the record (`decisions`) without counting.

The CLI (campaign approvals/approve/reject) and the web workspace call these functions; each
raises CampaignError (NotFoundError for an unknown id) with one line for people.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable

from sqlalchemy import insert, select, update

from campaign.errors import CampaignError, NotFoundError
from campaign.queue.db import Database
from campaign.queue.tables import accounts, approvals, scheduled_posts

posts = scheduled_posts.c
VIAS = ("web", "cli")
MAX_NAME = 100  # approvals.decided_by
MAX_POST_ID = 2**31 - 1  # the id column's range (as campaign.queue.manual.MAX_POST_ID; not imported: it loads the text rules)
# What a person may decide on: an unsent post that waits for approval or was rejected.
DECIDABLE = ("awaiting_approval", "rejected")


@dataclass(frozen=True)
class Decision:
    """One row of the record."""

    id: int
    post_id: int
    content_hash: str
    decision: str  # approve | reject
    decided_by: str
    reason: str | None
    via: str  # web | cli
    decided_at: datetime
    current: bool = True  # made on the post's current content; False: an earlier version (no longer counts)


@dataclass(frozen=True)
class Tally:
    """What the decisions on one content make of a post."""

    state: str  # queued | awaiting_approval | rejected
    approved_by: tuple[str, ...]  # people whose latest decision is approve, in the order they approved
    rejections: tuple[Decision, ...]  # the standing rejections (each person's latest, when it is reject)


def tally(needed: int, decisions: Iterable[Decision]) -> Tally:
    """The state that approvals_needed and the decisions on one content hash call for.

    Each person counts once, by their latest decision (by time, then by id)."""
    latest: dict[str, Decision] = {}
    for decision in sorted(decisions, key=lambda d: (d.decided_at, d.id)):
        latest.pop(decision.decided_by, None)  # re-inserted: the dict keeps the order of latest decisions
        latest[decision.decided_by] = decision
    approved = tuple(name for name, d in latest.items() if d.decision == "approve")
    rejections = tuple(d for d in latest.values() if d.decision == "reject")
    if rejections:
        state = "rejected"
    elif len(approved) >= needed:
        state = "queued"
    else:
        state = "awaiting_approval"
    return Tally(state, approved, rejections)


def _decision(row, current_hash: str | None = None) -> Decision:
    return Decision(row.id, row.post_id, row.content_hash, row.decision, row.decided_by, row.reason, row.via,
                    row.decided_at, current_hash is None or row.content_hash == current_hash)


def current_decisions(connection, wanted: dict[int, str]) -> dict[int, list[Decision]]:
    """The decisions on each post's given content hash ({post id: hash}), oldest first; used by sync
    to derive the state of new and edited posts in its own transaction."""
    out: dict[int, list[Decision]] = {}
    ids = sorted(wanted)
    for start in range(0, len(ids), 500):  # well inside every database's parameter limit
        chunk = ids[start:start + 500]
        for row in connection.execute(select(approvals).where(approvals.c.post_id.in_(chunk))
                                      .order_by(approvals.c.decided_at, approvals.c.id)):
            if row.content_hash == wanted[row.post_id]:
                out.setdefault(row.post_id, []).append(_decision(row))
    return out


# --- reading ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PendingPost:
    """A post waiting for approval (or rejected), with what it still needs."""

    id: int
    key: str
    campaign_id: str | None
    post_id: str | None  # posts.yaml's id of the post
    account: str
    platform: str | None
    due_at: datetime
    local_time: str  # as planned: ISO 8601 with the campaign zone's offset
    timezone: str
    late: timedelta
    state: str  # awaiting_approval | rejected
    texts: tuple[str, ...]  # one per part (a thread has several)
    media: tuple[dict, ...]  # every part's media entries: {"path", "alt", "sha256"}
    content_hash: str
    approvals_needed: int
    approved_by: tuple[str, ...]  # distinct people whose approval of this content counts
    rejections: tuple[Decision, ...]  # standing rejections of this content, with their reasons
    last_error: str | None  # e.g. why the dispatcher sent it back (an image changed)

    @property
    def still_needed(self) -> int:
        return max(0, self.approvals_needed - len(self.approved_by))

    @property
    def first_text(self) -> str:
        return self.texts[0] if self.texts else ""


def _pending_post(row, decisions: list[Decision]) -> PendingPost:
    counted = tally(row.approvals_needed, decisions)
    parts = (row.payload or {}).get("parts") or []
    return PendingPost(
        row.id, row.key, row.campaign_id, row.post_id, row.account, row.platform, row.due_at, row.local_time,
        row.timezone, timedelta(seconds=row.late_seconds), row.state,
        tuple(part.get("text", "") for part in parts),
        tuple(media for part in parts for media in part.get("media", ())),
        row.content_hash, row.approvals_needed, counted.approved_by, counted.rejections, row.last_error)


def pending(db: Database, *, now: datetime | None = None, campaign: str | None = None, account: str | None = None,
            include_rejected: bool = True, limit: int | None = None) -> list[PendingPost]:
    """Posts awaiting approval, soonest due first, then (include_rejected) rejected ones.

    With `now`, a rejected post is listed only while it could still go out (due + late not past);
    one awaiting approval is listed until the dispatcher marks it missed. Raises NotFoundError
    for an account or campaign the queue does not know."""
    from campaign.queue.accounts import narrow_to

    states = DECIDABLE if include_rejected else ("awaiting_approval",)
    query = (select(scheduled_posts, accounts.c.platform).join(accounts, accounts.c.name == posts.account)
             .where(posts.state.in_(states)).order_by(posts.due_at, posts.id))
    with db.transaction() as connection:
        query = narrow_to(connection, query, account=account, campaign=campaign)
        rows = [row for row in connection.execute(query)
                if now is None or row.state == "awaiting_approval"
                or row.due_at + timedelta(seconds=row.late_seconds) >= now]
        rows.sort(key=lambda row: (row.state != "awaiting_approval", row.due_at, row.id))
        if limit is not None:
            rows = rows[:limit]
        found = current_decisions(connection, {row.id: row.content_hash for row in rows})
    return [_pending_post(row, found.get(row.id, [])) for row in rows]


def decisions(db: Database, post_id: int) -> list[Decision]:
    """Every decision ever made on a post, oldest first; `current` tells which were made on its
    present content (only those count). Raises NotFoundError for an unknown id."""
    with db.transaction() as connection:
        row = _post_row(connection, post_id, lock=False)
        return [_decision(r, row.content_hash) for r in connection.execute(
            select(approvals).where(approvals.c.post_id == post_id).order_by(approvals.c.decided_at, approvals.c.id))]


# --- deciding --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """What one decision did to one post."""

    post_id: int
    state: str  # the post's state afterwards
    counted: bool  # False: recorded, but the post changed meanwhile: look at it again
    approvals_needed: int
    approved_by: tuple[str, ...]
    rejected_by: tuple[str, ...]
    message: str  # one line for people, e.g. "#12 approved by anna (1 of 2; waits for 1 more)"


def approve(db: Database, post_ids: Iterable[int], by: str, via: str, now: datetime) -> list[Result]:
    """`by` approves the current content of each post, in one transaction.

    Each post must await approval or be rejected (an approval by the person who rejected it lifts
    their rejection; anyone else's approval is recorded and counts once no rejection stands). A
    person who already approved this content is counted once. Refused, for all of them, when an id
    is unknown (NotFoundError), a post is in another state, or one of its images changed since the
    last sync (CampaignError: sync first, then look again)."""
    by, via = _person(by), _via(via)
    ids = list(dict.fromkeys(int(i) for i in post_ids))
    if not ids:
        raise CampaignError("name the posts to approve: one or more ids ('campaign approvals' lists them)")
    with _deciding(db) as connection:
        rows = [_post_row(connection, post_id) for post_id in ids]
        for row in rows:
            _require_decidable(row, "approved")
            _require_unchanged_media(row)
        return [_decide(connection, row, "approve", by, None, via, now) for row in rows]


def reject(db: Database, post_id: int, by: str, reason: str, via: str, now: datetime) -> Result:
    """`by` rejects the current content of a post, with a reason (required): it is not sent until
    that person approves it or the content changes. A post awaiting approval or already rejected
    may be rejected, and so may an approved post that has not started sending (approved by
    mistake). Raises NotFoundError or CampaignError."""
    by, via = _person(by), _via(via)
    reason = " ".join((reason or "").split())
    if not reason:
        raise CampaignError("give a reason for the rejection: the people who wrote the post read it")
    with _deciding(db) as connection:
        row = _post_row(connection, post_id)
        if not (row.state == "queued" and row.approvals_needed > 0):
            _require_decidable(row, "rejected")
        return _decide(connection, row, "reject", by, reason, via, now)


def _deciding(db: Database):
    """A write transaction serialised with sync (and with other decisions): the content hash read
    here is the one the decision is recorded on, and two approvals at the same moment both count."""
    return db.transaction(write=True, exclusive="sync")


def _decide(connection, row, decision: str, by: str, reason: str | None, via: str, now: datetime) -> Result:
    earlier = current_decisions(connection, {row.id: row.content_hash}).get(row.id, [])
    before = tally(row.approvals_needed, earlier)
    mine = [d for d in earlier if d.decided_by == by]
    repeated = decision == "approve" and mine and mine[-1].decision == "approve"
    if repeated:
        found = earlier  # one person counts once: nothing new to record
    else:
        new_id = connection.execute(insert(approvals).values(
            post_id=row.id, content_hash=row.content_hash, decision=decision, decided_by=by, reason=reason,
            via=via, decided_at=now).returning(approvals.c.id)).scalar_one()
        found = earlier + [Decision(new_id, row.id, row.content_hash, decision, by, reason, via, now)]
    after = tally(row.approvals_needed, found)
    values = {"state": after.state, "updated_at": now, "last_error": _why(after, row)}
    # Only while the post is still the content and the state read above: should a sync have changed
    # it in between, the decision stays on the record for the old content and does not count.
    changed = connection.execute(update(scheduled_posts).where(
        posts.id == row.id, posts.content_hash == row.content_hash, posts.state == row.state).values(**values))
    if changed.rowcount != 1:
        now_row = connection.execute(select(posts.state).where(posts.id == row.id)).first()
        return Result(row.id, now_row.state if now_row else "gone", False, row.approvals_needed,
                      before.approved_by, tuple(d.decided_by for d in before.rejections),
                      f"#{row.id}: NOT counted — posts.yaml changed this post while it was being "
                      f"{'approved' if decision == 'approve' else 'rejected'}; look at it again "
                      "('campaign approvals')")
    return _result(row, after, decision, by, repeated=bool(repeated))


def _why(after: Tally, row) -> str | None:
    """The post's last_error after a decision: the standing rejection, or what held it before."""
    if after.state == "rejected":
        latest = max(after.rejections, key=lambda d: (d.decided_at, d.id))
        return f"rejected by {latest.decided_by}: {latest.reason}"
    if after.state == "awaiting_approval" and row.state == "awaiting_approval":
        return row.last_error  # e.g. the dispatcher's note that an image changed
    return None


def _result(row, after: Tally, decision: str, by: str, *, repeated: bool) -> Result:
    rejected_by = tuple(d.decided_by for d in after.rejections)
    have, need = len(after.approved_by), row.approvals_needed
    if decision == "reject":
        message = f"#{row.id} rejected by {by}: it is not sent unless {by} approves it or the post changes"
    elif repeated:
        message = f"#{row.id} was already approved by {by}, who counts once ({have} of {need})"
    else:
        message = f"#{row.id} approved by {by} ({have} of {need})"
    if decision == "approve":
        if after.state == "queued":
            message += "; queued: it goes out at its time"
        elif after.state == "rejected":
            message += f"; still rejected by {', '.join(rejected_by)}"
        else:
            more = need - have
            message += f"; waits for {more} more approver{'s' * (more != 1)}"
    return Result(row.id, after.state, True, need, after.approved_by, rejected_by, message)


def _post_row(connection, post_id: int, *, lock: bool = True):
    if not 1 <= post_id <= MAX_POST_ID:
        raise NotFoundError(f"no post #{post_id} in the queue (ids run from 1 to {MAX_POST_ID})")
    query = select(scheduled_posts).where(posts.id == post_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFoundError(f"no post #{post_id} in the queue ('campaign approvals' lists those awaiting approval)")
    return row


def _require_decidable(row, verb: str) -> None:
    if row.state in DECIDABLE:
        return
    if row.approvals_needed == 0 and row.state in ("queued", "cancelled"):
        raise CampaignError(f"post #{row.id} needs no approval (its campaign has no 'approval: required'); "
                            f"it is {row.state}")
    if row.state == "queued":
        raise CampaignError(f"post #{row.id} is already approved (queued)")
    raise CampaignError(f"post #{row.id} is {row.state}; only posts awaiting approval (or rejected) "
                        f"can be {verb}")


def _require_unchanged_media(row) -> None:
    """An approval is of the images as they are now: refuse while a file differs from what was synced."""
    from campaign.spec.media import changed_since_planned

    for part in (row.payload or {}).get("parts") or []:
        for media in part.get("media", ()):
            if changed_since_planned(media):
                raise CampaignError(f"post #{row.id}: the image {Path(media['path']).name} changed (or is gone) "
                                    "since posts.yaml was synced; run 'campaign sync', look at it again, then approve")


def _person(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise CampaignError("say who decides: a person's name (--by NAME)")
    if len(name) > MAX_NAME:
        raise CampaignError(f"the name is {len(name)} characters; at most {MAX_NAME}")
    return name


def _via(via: str) -> str:
    if via not in VIAS:
        raise ValueError(f"via must be one of {', '.join(VIAS)}, not {via!r}")
    return via
