"""Claiming posts for sending, with a lease, so overlapping runs never post the same occurrence twice.

A claim is one atomic UPDATE … RETURNING (with FOR UPDATE SKIP LOCKED on PostgreSQL;
under SQLite's write lock otherwise). Every later write checks that the claim is
still ours, so a run whose lease was taken over cannot overwrite the new owner.
Only `queued` posts are ever claimed: a post awaiting approval (or rejected) is not
due, whatever its time (campaign.queue.approvals decides when it becomes queued).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select, update

from campaign.queue.db import Database
from campaign.queue.tables import accounts, scheduled_posts, sent_parts

DEFAULT_LEASE = timedelta(minutes=3)
posts = scheduled_posts.c


def new_worker_id() -> str:
    import socket
    import uuid

    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class SentPart:
    index: int
    remote_id: str
    remote_url: str | None
    remote_ref: dict | None


@dataclass
class Claim:
    id: int
    key: str
    account: str
    campaign_id: str | None
    due_at: datetime
    late: timedelta
    payload: dict
    attempts: int
    claimed_at: datetime
    reply_to_url: str | None
    worker: str
    abandoned: bool  # its previous owner's lease ran out mid-send
    in_doubt_since: datetime | None = None  # an earlier attempt may have reached the platform
    done: dict[int, SentPart] = field(default_factory=dict)
    approvals_needed: int = 0  # >0: approved content; its media must still be the files approved

    @property
    def recovered(self) -> bool:
        """Whether the platform may already hold (part of) this post: check before posting again."""
        return self.abandoned or self.in_doubt_since is not None

    @property
    def parts(self) -> list[dict]:
        return self.payload.get("parts", [])

    def next_part(self) -> int:
        index = 0
        while index in self.done:
            index += 1
        return index


def due_clause(now: datetime):
    """The one definition of "due now": queued, its time has come, not held back (rate limit,
    daily cap, missing credentials), and its account not flagged. The claim, the idle check and
    the dry run all use it."""
    flagged = select(accounts.c.name).where(accounts.c.flagged_at.is_not(None))
    return and_(posts.state == "queued", posts.due_at <= now,
                or_(posts.not_before.is_(None), posts.not_before <= now),
                posts.account.not_in(flagged))


def abandoned_clause(now: datetime):
    """A send whose sender vanished (killed, or its lease ran out) mid-call."""
    return and_(posts.state == "sending", posts.lease_until < now)


def _claim(connection, row_id_query, now: datetime, worker: str, lease: timedelta, *, abandoned: bool):
    # claimed_at is the first claim ever: recovery reads the timeline from there, so a post that went
    # out during an earlier attempt (released after, say, a rate limit) is still found. `attempts`
    # is not touched here: it counts calls to the platform (begin_attempt), not claims.
    values = {"state": "sending", "claimed_by": worker, "lease_until": now + lease, "updated_at": now,
              "claimed_at": func.coalesce(posts.claimed_at, now)}
    row = connection.execute(
        update(scheduled_posts).where(posts.id == row_id_query.scalar_subquery())
        .values(**values).returning(*scheduled_posts.c)).first()
    if row is None:
        return None
    done = {r.part_index: SentPart(r.part_index, r.remote_id, r.remote_url, r.remote_ref)
            for r in connection.execute(select(sent_parts).where(sent_parts.c.post_id == row.id))}
    return Claim(row.id, row.key, row.account, row.campaign_id, row.due_at, timedelta(seconds=row.late_seconds),
                 row.payload, row.attempts, row.claimed_at or now, row.reply_to_url, worker, abandoned,
                 row.in_doubt_since, done, row.approvals_needed)


def claim_next_due(db: Database, now: datetime, worker: str, *, lease: timedelta = DEFAULT_LEASE,
                   skip_accounts: frozenset[str] = frozenset()) -> Claim | None:
    """Take the oldest due queued post of an account that is not flagged or skipped."""
    return _take(db, due_clause(now), (posts.due_at, posts.id), now, worker, lease, skip_accounts,
                 abandoned=False)


def claim_expired(db: Database, now: datetime, worker: str, *, lease: timedelta = DEFAULT_LEASE,
                  skip_accounts: frozenset[str] = frozenset()) -> Claim | None:
    """Take over a post whose sender vanished (killed, or its lease ran out) mid-send."""
    return _take(db, abandoned_clause(now), (posts.lease_until, posts.id), now, worker, lease, skip_accounts,
                 abandoned=True)


def _take(db: Database, which, order, now: datetime, worker: str, lease: timedelta,
          skip_accounts: frozenset[str], *, abandoned: bool) -> Claim | None:
    """Claim the first post `which` selects in `order`, skipping rows another dispatcher holds."""
    query = select(posts.id).where(which).order_by(*order).limit(1).with_for_update(skip_locked=True)
    if skip_accounts:
        query = query.where(posts.account.not_in(sorted(skip_accounts)))
    with db.transaction(write=True) as connection:
        return _claim(connection, query, now, worker, lease, abandoned=abandoned)


def _owned(claim: Claim):
    return and_(posts.id == claim.id, posts.state == "sending", posts.claimed_by == claim.worker)


def begin_attempt(db: Database, claim: Claim, now: datetime, lease: timedelta = DEFAULT_LEASE) -> bool:
    """Count one call to the platform and renew our lease for it; False when the claim is no longer ours."""
    with db.transaction(write=True) as connection:
        result = connection.execute(update(scheduled_posts).where(_owned(claim))
                                    .values(lease_until=now + lease, attempts=posts.attempts + 1, updated_at=now))
    if result.rowcount == 1:
        claim.attempts += 1
    return result.rowcount == 1


def mark_in_doubt(db: Database, claim: Claim, now: datetime) -> bool:
    """Remember that an attempt may have reached the platform, until a part is recorded: whoever
    takes the post next (after a release, a crash or a retry) reads the timeline before posting."""
    with db.transaction(write=True) as connection:
        result = connection.execute(update(scheduled_posts).where(_owned(claim))
                                    .values(in_doubt_since=func.coalesce(posts.in_doubt_since, now), updated_at=now))
    if result.rowcount == 1 and claim.in_doubt_since is None:
        claim.in_doubt_since = now
    return result.rowcount == 1


def abandon(db: Database, claim: Claim, now: datetime) -> bool:
    """The process is going down mid-send: end the lease now, so the next dispatcher settles the
    post at once (it is recovered like any abandoned send) instead of after the lease."""
    with db.transaction(write=True) as connection:
        result = connection.execute(update(scheduled_posts).where(_owned(claim))
                                    .values(lease_until=now, updated_at=now))
        return result.rowcount == 1


def record_part(db: Database, claim: Claim, index: int, remote_id: str, remote_url: str | None,
                remote_ref: dict | None, now: datetime, *, final: bool) -> bool:
    """Store an accepted part; with final=True also mark the post sent, in the same transaction."""
    with db.transaction(write=True) as connection:
        if connection.execute(select(posts.id).where(_owned(claim))).first() is None:
            return False
        connection.execute(insert(sent_parts).values(post_id=claim.id, part_index=index, account=claim.account,
                                                     remote_id=remote_id, remote_url=remote_url,
                                                     remote_ref=remote_ref, sent_at=now))
        claim.done[index] = SentPart(index, remote_id, remote_url, remote_ref)
        claim.in_doubt_since = None  # the doubt was about this part, and it is settled
        values = {"in_doubt_since": None, "updated_at": now}
        if final:
            first = claim.done[min(claim.done)]
            values.update(state="sent", remote_id=first.remote_id, remote_url=first.remote_url, sent_at=now,
                          lease_until=None, last_error=None)
        connection.execute(update(scheduled_posts).where(_owned(claim)).values(**values))
        return True


def finish(db: Database, claim: Claim, state: str, now: datetime, error: str | None) -> bool:
    """End a claim as failed, unknown or missed."""
    assert state in ("failed", "unknown", "missed")
    with db.transaction(write=True) as connection:
        result = connection.execute(update(scheduled_posts).where(_owned(claim)).values(
            state=state, last_error=error, lease_until=None, updated_at=now))
        return result.rowcount == 1


def release(db: Database, claim: Claim, now: datetime, reason: str | None,
            not_before: datetime | None = None) -> bool:
    """Give a claim back to the queue untouched (rate limit, daily cap, shutdown), to be taken
    again no earlier than not_before."""
    with db.transaction(write=True) as connection:
        result = connection.execute(update(scheduled_posts).where(_owned(claim)).values(
            state="queued", claimed_by=None, lease_until=None, last_error=reason, not_before=not_before,
            updated_at=now))
        return result.rowcount == 1


def send_back_for_approval(db: Database, claim: Claim, now: datetime, reason: str) -> bool:
    """What was approved is not what would go out (an image changed on disk): back to awaiting
    approval, untouched, with the reason for the people who approve."""
    with db.transaction(write=True) as connection:
        result = connection.execute(update(scheduled_posts).where(_owned(claim)).values(
            state="awaiting_approval", claimed_by=None, lease_until=None, last_error=reason, not_before=None,
            updated_at=now))
        return result.rowcount == 1


NOT_APPROVED_IN_TIME = "not approved in time: it still awaited approval when its 'late' allowance ran out"


def _unapproved_overdue(connection, now: datetime) -> list[int]:
    """Posts awaiting approval whose due time plus 'late' allowance has passed. The index range
    (state, due_at <= now) holds only those due and not yet swept, so it stays short."""
    rows = connection.execute(select(posts.id, posts.due_at, posts.late_seconds)
                              .where(posts.state == "awaiting_approval", posts.due_at <= now))
    return [row.id for row in rows if row.due_at + timedelta(seconds=row.late_seconds) < now]


def miss_unapproved(db: Database, now: datetime) -> list:
    """Mark every post that was not approved in time `missed`, in one UPDATE, and return those
    rows (id, key, account, due_at, late_seconds). Overlapping runs each get only the rows they
    changed, so each is reported once; an approval that lands first wins (the row is queued then,
    and the dispatcher decides whether it is still in time)."""
    with db.transaction(write=True) as connection:
        ids = _unapproved_overdue(connection, now)
        if not ids:
            return []
        return list(connection.execute(
            update(scheduled_posts).where(posts.id.in_(ids), posts.state == "awaiting_approval")
            .values(state="missed", last_error=NOT_APPROVED_IN_TIME, updated_at=now)
            .returning(posts.id, posts.key, posts.account, posts.due_at, posts.late_seconds)))


def hold_account(db: Database, account: str, until: datetime, now: datetime) -> None:
    """Keep all of an account's queued posts that are due by `until` back until then."""
    with db.transaction(write=True) as connection:
        connection.execute(update(scheduled_posts).where(
            posts.account == account, posts.state == "queued", posts.due_at <= until,
            or_(posts.not_before.is_(None), posts.not_before < until)).values(not_before=until, updated_at=now))


def next_wakeup(db: Database) -> datetime | None:
    """When there may next be work: the earliest allowed queued post of an unflagged account,
    the earliest lease that runs out, or the first post awaiting approval whose 'late' allowance
    ends (to mark it missed). Each part walks an index and stops early."""
    flagged = select(accounts.c.name).where(accounts.c.flagged_at.is_not(None))
    queued = and_(posts.state == "queued", posts.account.not_in(flagged))
    with db.transaction() as connection:
        due = connection.execute(select(posts.due_at).where(queued, posts.not_before.is_(None))
                                 .order_by(posts.due_at).limit(1)).scalar()
        # not_before is only ever set after due_at, so when present it is the later of the two.
        held = connection.execute(select(posts.not_before).where(queued, posts.not_before.is_not(None))
                                  .order_by(posts.not_before).limit(1)).scalar()
        lease = connection.execute(select(posts.lease_until).where(posts.state == "sending")
                                   .order_by(posts.lease_until).limit(1)).scalar()
        # A post awaiting approval needs the dispatcher once its 'late' allowance is over (it is
        # missed then). Deadlines follow due times closely, so the soonest due ones are enough.
        deadlines = [row.due_at + timedelta(seconds=row.late_seconds + 1) for row in connection.execute(
            select(posts.due_at, posts.late_seconds).where(posts.state == "awaiting_approval")
            .order_by(posts.due_at).limit(500))]
    candidates = [moment for moment in (due, held, lease, min(deadlines, default=None)) if moment is not None]
    return min(candidates) if candidates else None


def has_work(db: Database, now: datetime) -> bool:
    """Whether a dispatcher at `now` would find anything to do (cheap: index range scans, LIMIT 1;
    posts awaiting approval: the short range of those already due)."""
    with db.transaction() as connection:
        if connection.execute(select(posts.id).where(due_clause(now)).limit(1)).first() is not None:
            return True
        if connection.execute(select(posts.id).where(abandoned_clause(now)).limit(1)).first() is not None:
            return True
        return bool(_unapproved_overdue(connection, now))


def due_now(db: Database, now: datetime) -> tuple[list, list]:
    """What a run at `now` would take, oldest first: (abandoned sends to settle, due queued posts)."""
    with db.transaction() as connection:
        abandoned = list(connection.execute(select(scheduled_posts).where(abandoned_clause(now))
                                            .order_by(posts.lease_until, posts.id)))
        due = list(connection.execute(select(scheduled_posts).where(due_clause(now))
                                      .order_by(posts.due_at, posts.id)))
    return abandoned, due


def awaiting_due(db: Database, now: datetime) -> list:
    """Posts awaiting approval whose time has come, oldest first (for the dry run)."""
    with db.transaction() as connection:
        return list(connection.execute(select(scheduled_posts)
                                       .where(posts.state == "awaiting_approval", posts.due_at <= now)
                                       .order_by(posts.due_at, posts.id)))


def sent_times_since(db: Database, account: str, since: datetime) -> list[datetime]:
    """When each part sent by the account since `since` went out, oldest first."""
    with db.transaction() as connection:
        return list(connection.execute(select(sent_parts.c.sent_at)
                                       .where(sent_parts.c.account == account, sent_parts.c.sent_at > since)
                                       .order_by(sent_parts.c.sent_at)).scalars())


def flag_account(db: Database, account: str, reason: str, now: datetime) -> None:
    with db.transaction(write=True) as connection:
        connection.execute(update(accounts).where(accounts.c.name == account)
                           .values(flagged_at=now, flag_reason=reason, updated_at=now))


def unflag_account(db: Database, account: str, now: datetime) -> None:
    with db.transaction(write=True) as connection:
        connection.execute(update(accounts).where(accounts.c.name == account, accounts.c.flagged_at.is_not(None))
                           .values(flagged_at=None, flag_reason=None, updated_at=now))
