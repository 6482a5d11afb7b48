"""What `campaign status` and `campaign history` report, as data; campaign.cli.output renders it.

Kept apart from the sync so a status call loads only what it prints. Every list is a
query with a LIMIT on an indexed state, so status stays fast however long the history grows;
the totals come from the one count per state.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select

from campaign.queue.accounts import narrow_to
from campaign.queue.db import Database
from campaign.queue.tables import PROBLEM_STATES, STATES, accounts, dispatchers, invalid_files, scheduled_posts, synced_files

# `serve` writes its heartbeat every 10 s; six missed beats is a process that is gone or hung.
STALE_AFTER = timedelta(seconds=60)

posts = scheduled_posts.c


@dataclass(frozen=True)
class PostSummary:
    """One queued, sent or problem post as status and history show it.

    Each dataclass here has a docstring: without one, @dataclass builds it from inspect.signature,
    which costs `campaign status` about a millisecond at import."""

    id: int
    key: str
    account: str
    campaign_id: str | None
    due_at: datetime
    local_time: str  # as planned: ISO 8601 with the campaign zone's offset
    state: str
    text: str  # every part, separated by a blank line
    last_error: str | None
    remote_url: str | None
    platform: str | None = None
    timezone: str = "UTC"
    parts: int = 1
    attempts: int = 0
    sent_at: datetime | None = None
    lease_until: datetime | None = None
    in_doubt_since: datetime | None = None
    updated_at: datetime | None = None
    approvals_needed: int = 0
    approved_by: tuple[str, ...] = ()  # whose approval of the current content counts (filled where shown)

    @property
    def first_text(self) -> str:
        return self.text.split("\n\n", 1)[0] if self.parts > 1 else self.text


class FlaggedAccount(NamedTuple):
    name: str
    reason: str
    platform: str
    since: datetime


@dataclass(frozen=True)
class InvalidFile:
    """A posts.yaml that fails validation now, and when it was last synced."""

    path: str
    sha256: str  # of the file's bytes; "" when it could not be read
    first_error: str
    error_count: int
    since: datetime
    last_good_sync: datetime | None  # None: no version of this file ever reached the queue


@dataclass(frozen=True)
class Server:
    """A `campaign serve` dispatcher and whether its heartbeat is recent."""

    worker: str
    kind: str
    host: str
    pid: int
    started_at: datetime
    last_tick_at: datetime
    posts_file: str | None
    beating: bool


@dataclass
class Status:
    """Everything `campaign status` reports, as of `now`."""

    now: datetime
    counts: dict[str, int]
    next_due: list[PostSummary]
    problems: list[PostSummary]  # failed, unknown and missed, newest first; counts has the totals
    flagged_accounts: list[FlaggedAccount]
    servers: list[Server] = field(default_factory=list)  # not stopped, newest first
    stuck: list[PostSummary] = field(default_factory=list)  # sending, lease ended
    stuck_total: int = 0
    invalid_files: list[InvalidFile] = field(default_factory=list)
    recent_sent: list[PostSummary] = field(default_factory=list)
    # failed/unknown/missed per state that no person has acknowledged yet (retry, resolve, acknowledge)
    open_problems: dict[str, int] = field(default_factory=dict)
    awaiting: list[PostSummary] = field(default_factory=list)  # awaiting approval, soonest due first
    awaiting_past_due: int = 0  # of those, already due: each is missed once its 'late' allowance ends
    rejected: list[PostSummary] = field(default_factory=list)  # rejected, most recently decided first

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def problems_total(self) -> int:
        """Failed, unknown and missed posts that no person has acknowledged yet."""
        return sum(self.open_problems.get(state, 0) for state in PROBLEM_STATES)

    @property
    def stale_servers(self) -> list[Server]:
        return [server for server in self.servers if not server.beating]

    @property
    def broken(self) -> list[str]:
        """What stops the campaign altogether (exit 2): an invalid file nothing was ever queued from."""
        return [f"{_name(f.path)} invalid and never synced: nothing from it is queued"
                for f in self.invalid_files if f.last_good_sync is None]

    @property
    def attention(self) -> list[str]:
        """Short phrases for what needs a person, most urgent first; empty when all is well."""
        items = [f"{_name(f.path)} invalid ({f.error_count} error{'s' * (f.error_count != 1)})"
                 for f in self.invalid_files if f.last_good_sync]
        if self.stuck_total:
            items.append(f"{self.stuck_total} stuck sending")
        if self.awaiting_past_due:
            items.append(f"{self.awaiting_past_due} due but not approved")
        items += [f"{self.open_problems[state]} {state}" for state in PROBLEM_STATES
                  if self.open_problems.get(state)]
        items += [f"account {a.name} flagged" for a in self.flagged_accounts]
        items += [f"{s.kind} on {s.host} (pid {s.pid}) not beating since {_utc(s.last_tick_at)}"
                  for s in self.stale_servers]
        return items

    @property
    def exit_code(self) -> int:
        """As a monitoring plugin: 0 ok, 1 needs attention, 2 broken."""
        return 2 if self.broken else 1 if self.attention else 0


def _name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _summary(row, approved_by: tuple[str, ...] = ()) -> PostSummary:
    parts = (row.payload or {}).get("parts") or [{}]
    return PostSummary(
        row.id, row.key, row.account, row.campaign_id, row.due_at, row.local_time, row.state,
        "\n\n".join(part.get("text", "") for part in parts), row.last_error, row.remote_url,
        platform=row.platform, timezone=row.timezone, parts=len(parts), attempts=row.attempts,
        sent_at=row.sent_at, lease_until=row.lease_until, in_doubt_since=row.in_doubt_since,
        updated_at=row.updated_at, approvals_needed=row.approvals_needed, approved_by=approved_by)


def _with_approvals(connection, rows) -> list[PostSummary]:
    """Summaries of posts that need approval, each with whose approval of its current content counts."""
    from campaign.queue.approvals import current_decisions, tally

    rows = list(rows)
    found = current_decisions(connection, {row.id: row.content_hash for row in rows})
    return [_summary(row, tally(row.approvals_needed, found.get(row.id, [])).approved_by) for row in rows]


# What a PostSummary is made of (and content_hash, for whose approval counts): fewer columns than the
# whole row, so each listing compiles and reads less.
_SUMMARY_COLUMNS = (posts.id, posts.key, posts.account, posts.campaign_id, posts.due_at, posts.local_time, posts.state,
                    posts.payload, posts.last_error, posts.remote_url, posts.timezone, posts.attempts, posts.sent_at,
                    posts.lease_until, posts.in_doubt_since, posts.updated_at, posts.approvals_needed,
                    posts.content_hash)


def _posts():
    return select(*_SUMMARY_COLUMNS, accounts.c.platform).join(accounts, accounts.c.name == posts.account)


def status(db: Database, now: datetime, *, limit: int = 5) -> Status:
    """Everything `campaign status` shows, read in one transaction (one consistent picture)."""
    with db.transaction() as connection:
        counts = dict.fromkeys(STATES, 0)
        counts.update(dict(connection.execute(select(posts.state, func.count()).group_by(posts.state)).all()))
        next_due = []
        if counts["queued"]:  # each listing is asked for only when the counts say it has rows
            next_due = [_summary(r) for r in connection.execute(
                _posts().where(posts.state == "queued").order_by(posts.due_at, posts.id).limit(limit))]
        problems, open_problems = [], dict.fromkeys(PROBLEM_STATES, 0)
        if any(counts[state] for state in PROBLEM_STATES):
            # Not only recent ones: a failed, unknown or missed post needs a person until retried,
            # resolved or acknowledged.
            unseen = posts.state.in_(PROBLEM_STATES) & posts.acknowledged_at.is_(None)
            open_problems.update(dict(connection.execute(
                select(posts.state, func.count()).where(unseen).group_by(posts.state)).all()))
            problems = [_summary(r) for r in connection.execute(
                _posts().where(unseen).order_by(posts.updated_at.desc(), posts.id.desc()).limit(limit))]
        stuck, stuck_total = [], 0
        if counts["sending"]:
            expired = (posts.state == "sending") & (posts.lease_until < now)
            stuck_total = connection.execute(select(func.count()).where(expired)).scalar()
            stuck = [_summary(r) for r in connection.execute(
                _posts().where(expired).order_by(posts.lease_until, posts.id).limit(limit))]
        awaiting, awaiting_past_due, rejected = [], 0, []
        if counts["awaiting_approval"]:
            waiting = posts.state == "awaiting_approval"
            awaiting = _with_approvals(connection, connection.execute(
                _posts().where(waiting).order_by(posts.due_at, posts.id).limit(limit)))
            awaiting_past_due = connection.execute(select(func.count()).where(waiting, posts.due_at <= now)).scalar()
        if counts["rejected"]:
            rejected = _with_approvals(connection, connection.execute(
                _posts().where(posts.state == "rejected").order_by(posts.updated_at.desc(), posts.id.desc())
                .limit(limit)))
        recent_sent = []
        if counts["sent"]:
            recent_sent = [_summary(r) for r in connection.execute(
                _posts().where(posts.state == "sent").order_by(posts.sent_at.desc(), posts.id.desc()).limit(limit))]
        flagged = [FlaggedAccount(r.name, r.flag_reason or "", r.platform, r.flagged_at) for r in connection.execute(
            select(accounts).where(accounts.c.flagged_at.is_not(None)).order_by(accounts.c.name))]
        invalid = [InvalidFile(r.path, r.sha256, r.first_error, r.error_count, r.since, r.synced_at)
                   for r in connection.execute(
                       select(invalid_files, synced_files.c.synced_at)
                       .join(synced_files, synced_files.c.path == invalid_files.c.path, isouter=True)
                       .order_by(invalid_files.c.path))]
        running = list(connection.execute(select(dispatchers).where(dispatchers.c.stopped_at.is_(None))
                                          .order_by(dispatchers.c.started_at.desc())))
    return Status(now, counts, next_due, problems, flagged, _servers(running, now), stuck, stuck_total,
                  invalid, recent_sent, open_problems, awaiting, awaiting_past_due, rejected)


def _servers(rows, now: datetime) -> list[Server]:
    """Heartbeat rows worth showing: a serve killed without a stop (kill -9, power cut) leaves a
    row behind; once a newer one runs on that host it was replaced, not lost, so it is left out."""
    shown, newest_on = [], set()
    for row in rows:  # newest first
        beating = now - row.last_tick_at <= STALE_AFTER
        if not beating and (row.host, row.kind) in newest_on:
            continue
        newest_on.add((row.host, row.kind))
        shown.append(Server(row.worker, row.kind, row.host, row.pid, row.started_at, row.last_tick_at,
                            row.posts_file, beating))
    return shown


def history(db: Database, *, start: datetime | None = None, end: datetime | None = None,
            account: str | None = None, campaign: str | None = None, limit: int | None = None,
            offset: int = 0, now: datetime | None = None) -> tuple[list[PostSummary], int]:
    """Sent posts, newest first, with sent_at in [start, end); returns (posts, how many match).
    limit and offset page through them (the workspace's history shows 50 a page).
    A post that needed approval carries who approved the content that went out (approved_by).

    now: leave out what was sent after it, so a past --now shows the history as it was then.
    Raises NotFoundError for an account or campaign the queue does not know (a typo would
    otherwise look like an empty history).
    """
    query = _posts().where(posts.state == "sent")
    if now is not None:
        query = query.where(posts.sent_at <= now)
    if start is not None:
        query = query.where(posts.sent_at >= start)
    if end is not None:
        query = query.where(posts.sent_at < end)
    with db.transaction() as connection:
        query = narrow_to(connection, query, account=account, campaign=campaign)
        total = connection.execute(select(func.count()).select_from(query.subquery())).scalar()
        ordered = query.order_by(posts.sent_at.desc(), posts.id.desc())
        if limit is not None:
            ordered = ordered.limit(limit)
        if offset:
            ordered = ordered.offset(offset)
        rows = list(connection.execute(ordered))
        # Who approved what went out (posts of a campaign with approval: required).
        approved = {summary.id: summary for summary in
                    _with_approvals(connection, [r for r in rows if r.approvals_needed])}
        return [approved.get(r.id) or _summary(r) for r in rows], total


def open_problem_count(db: Database) -> int:
    """Failed, unknown and missed posts nobody has retried, resolved or acknowledged."""
    with db.transaction() as connection:
        return connection.execute(select(func.count()).where(
            posts.state.in_(PROBLEM_STATES), posts.acknowledged_at.is_(None))).scalar()
