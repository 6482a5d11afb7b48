"""Alerts that reach a person without cron mail: derived from the database, sent through Apprise.

Events are read from the queue's own state, not passed along in memory, so a crash between an
outcome and its alert still alerts next time:

- collect() finds failed, unknown and missed posts, flagged accounts, an invalid posts.yaml and
  `serve` processes whose heartbeat stopped, and inserts one `notifications` row per event and
  subject. The unique (event, subject) pair makes overlapping runs and restarts insert it once;
  a post that is retried and fails again has a new subject (its state's timestamp), so it alerts
  again.
- deliver() claims each (notification, target) pair before sending, so two processes never send
  the same alert; a failed send is retried with backoff, a few times, then given up. Nothing here
  raises into posting: failures come back in a DeliveryReport for the caller to log.

Targets come from the database (stored by sync from posts.yaml's `notify:`), so an invalid
posts.yaml can still alert through the targets of its last good version.
"""
from __future__ import annotations

import hashlib
import json
import socket
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Callable, Iterable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, insert, or_, select, update

from campaign.queue.db import Database
from campaign.spec.model import NOTIFY_EVENTS, NotifyTarget
from campaign.queue.tables import (accounts, dispatchers, invalid_files, notifications, notify_deliveries, notify_targets,
                                   scheduled_posts)

EVENTS = NOTIFY_EVENTS
# serve beats every 10 s. `status` warns after 60 s (a person is looking anyway); an alert, which
# wakes a person, waits for 30 missed beats so a restart or a slow machine does not page anyone.
STALE_AFTER = timedelta(minutes=5)
LOOKBACK = timedelta(days=3)  # collect looks this far back: a tick after a long outage still catches up
MAX_ATTEMPTS = 8  # with the backoff below: about four hours of retries
CLAIM_FOR = timedelta(minutes=5)  # a sender that dies mid-send frees its alerts after this
BATCH_OVER = 5  # more alerts than this for one target in one pass go out as one message, not a flood
PENDING_LIMIT = 1000
TITLE = "Praat mee"

Environ = Mapping[str, str] | Callable[[], Mapping[str, str]]


@dataclass(frozen=True)
class StoredTarget:
    key: str
    campaign_id: str | None
    url: str  # as written: {env:NAME} placeholders unresolved
    events: tuple[str, ...] | None
    digest: str | None
    digest_at: str
    timezone: str
    first_seen_at: datetime
    last_digest_at: datetime | None = None
    retry_at: datetime | None = None
    digest_attempts: int = 0

    @property
    def label(self) -> str:
        from campaign.alerts.deliver import label

        return label(self.url) + (f" (campaign {self.campaign_id})" if self.campaign_id else "")

    def wants(self, note, account_campaigns: Mapping[str, set[str]]) -> bool:
        if self.events is not None and note.event not in self.events:
            return False
        if note.created_at < self.first_seen_at:
            return False  # from before this target existed
        if self.campaign_id is None or note.event in ("invalid-file", "serve-stopped"):
            return True  # these hold up every campaign
        if note.event == "account-flagged":
            return self.campaign_id in account_campaigns.get(note.account, ())
        return note.campaign_id == self.campaign_id


@dataclass
class DeliveryReport:
    sent: int = 0  # messages that went out
    alerts: int = 0  # alerts they carried
    failures: list[str] = field(default_factory=list)  # "<target>: <why> (…)", secrets scrubbed


def target_key(target: NotifyTarget) -> str:
    blob = json.dumps([target.campaign_id, target.url, target.digest])
    return hashlib.sha256(blob.encode()).hexdigest()


# -- configuration (written by sync) ------------------------------------------------------------

def store_targets(connection, targets: Iterable[NotifyTarget], now: datetime) -> None:
    """Make notify_targets match posts.yaml, inside sync's transaction; keep each target's history."""
    wanted: dict[str, NotifyTarget] = {}
    for target in targets:
        wanted.setdefault(target_key(target), target)
    existing = {row.key: row for row in connection.execute(select(notify_targets))}
    gone = [key for key in existing if key not in wanted]
    if gone:
        connection.execute(delete(notify_targets).where(notify_targets.c.key.in_(gone)))
    for key, target in wanted.items():
        values = {"campaign_id": target.campaign_id, "url": target.url,
                  "events": list(target.events) if target.events is not None else None,
                  "digest": target.digest, "digest_at": target.digest_at, "timezone": target.timezone}
        row = existing.get(key)
        if row is None:
            # A new digest target's first digest is the next one: not one at once about nothing.
            connection.execute(insert(notify_targets).values(key=key, first_seen_at=now, updated_at=now,
                                                             last_digest_at=now if target.digest else None,
                                                             **values))
        elif any(getattr(row, name) != value for name, value in values.items()):
            connection.execute(update(notify_targets).where(notify_targets.c.key == key)
                               .values(updated_at=now, **values))


def has_targets(db: Database) -> bool:
    """Whether alerts are configured at all (campaign.queue.sync keeps the query, for the idle tick)."""
    from campaign.queue.sync import has_notify_targets

    return has_notify_targets(db)


def load_targets(db: Database) -> list[StoredTarget]:
    with db.transaction() as connection:
        rows = list(connection.execute(select(notify_targets).order_by(notify_targets.c.campaign_id.is_not(None),
                                                                       notify_targets.c.key)))
    return [StoredTarget(r.key, r.campaign_id, r.url, tuple(r.events) if r.events is not None else None, r.digest,
                         r.digest_at, r.timezone, r.first_seen_at, r.last_digest_at, r.retry_at, r.digest_attempts)
            for r in rows]


# -- events ---------------------------------------------------------------------------------------

_NEXT_STEP = {
    "failed": "'campaign retry {id}' queues it again once the cause is fixed.",
    "unknown": "Check the account, then 'campaign resolve {id} --sent URL' if it went out, "
               "or 'campaign retry {id}' if it did not.",
    "missed": "'campaign retry {id}' posts it anyway.",
}


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _post_event(row) -> dict:
    what = {"failed": "failed", "unknown": "may or may not have gone out (unknown)",
            "missed": "was missed (too late)"}[row.state]
    parts = (row.payload or {}).get("parts") or [{}]
    due = f"{row.local_time[:16].replace('T', ' ')} {row.timezone}"
    campaign = f"campaign {row.campaign_id}, " if row.campaign_id else ""
    message = (f"Post #{row.id} for {row.account} {what} ({campaign}due {due})"
               + (f": {_short(row.last_error, 300)}" if row.last_error else "") + "\n"
               + f"“{_short(parts[0].get('text', ''))}”\n" + _NEXT_STEP[row.state].format(id=row.id))
    return {"event": row.state, "subject": f"post:{row.id}:{row.state}:{row.updated_at.isoformat()}",
            "post_id": row.id, "account": row.account, "campaign_id": row.campaign_id, "message": message}


def _account_event(row) -> dict:
    message = (f"Account {row.name} ({row.platform}, {row.handle}) was flagged: {_short(row.flag_reason or '', 300)}\n"
               "Its posts wait until the credentials are fixed and 'campaign accounts check' passes.")
    return {"event": "account-flagged", "subject": f"account:{row.name}:{row.flagged_at.isoformat()}",
            "post_id": None, "account": row.name, "campaign_id": None, "message": message}


def _file_event(row) -> dict:
    more = f" (and {row.error_count - 1} more)" if row.error_count > 1 else ""
    message = (f"{row.path} is invalid since {row.since:%Y-%m-%d %H:%M} UTC:\n{_short(row.first_error, 400)}{more}\n"
               "The queue from its last good version keeps going out; 'campaign check' lists every problem.")
    path = row.path if len(row.path) <= 900 else hashlib.sha256(row.path.encode()).hexdigest()
    return {"event": "invalid-file", "subject": f"file:{path}:{row.since.isoformat()}", "post_id": None,
            "account": None, "campaign_id": None, "message": message}


def _serve_event(row, now: datetime) -> dict:
    minutes = int((now - row.last_tick_at).total_seconds() // 60)
    message = (f"campaign serve on {row.host} (pid {row.pid}) stopped beating: last tick "
               f"{row.last_tick_at:%Y-%m-%d %H:%M} UTC, {minutes} min ago, without a clean stop.\n"
               "Its posts wait unless another dispatcher runs; check the service (a restart takes over "
               "what it left in flight).")
    return {"event": "serve-stopped", "subject": f"serve:{row.worker}:{row.last_tick_at.isoformat()}",
            "post_id": None, "account": None, "campaign_id": None, "message": message}


def collect(db: Database, now: datetime) -> int:
    """Insert a notification for every event not yet recorded; returns how many are new.

    Only events since notify was configured (and within LOOKBACK) count, so turning notify on
    for an old queue does not replay its history.
    """
    posts = scheduled_posts.c
    with db.transaction() as connection:
        first_seen = connection.execute(select(func.min(notify_targets.c.first_seen_at))).scalar()
        if first_seen is None:
            return 0
        since = max(first_seen, now - LOOKBACK)
        events = [_post_event(row) for row in connection.execute(
            select(posts.id, posts.state, posts.account, posts.campaign_id, posts.updated_at, posts.last_error,
                   posts.local_time, posts.timezone, posts.payload)
            .where(posts.state.in_(("failed", "unknown", "missed")), posts.updated_at >= since)
            .order_by(posts.updated_at, posts.id))]
        events += [_account_event(row) for row in connection.execute(
            select(accounts).where(accounts.c.flagged_at >= since).order_by(accounts.c.flagged_at))]
        events += [_file_event(row) for row in connection.execute(
            select(invalid_files).where(invalid_files.c.since >= since).order_by(invalid_files.c.since))]
        # Stale from the moment it missed STALE_AFTER of beats: that moment must be since notify began.
        events += [_serve_event(row, now) for row in connection.execute(
            select(dispatchers).where(dispatchers.c.stopped_at.is_(None),
                                      dispatchers.c.last_tick_at < now - STALE_AFTER,
                                      dispatchers.c.last_tick_at >= since - STALE_AFTER)
            .order_by(dispatchers.c.last_tick_at))]
        if not events:
            return 0
        known = set()
        kinds = sorted({e["event"] for e in events})
        subjects = [e["subject"] for e in events]
        for start in range(0, len(subjects), 500):  # (event, subject) leads the unique index
            known.update((row.event, row.subject) for row in connection.execute(
                select(notifications.c.event, notifications.c.subject)
                .where(notifications.c.event.in_(kinds), notifications.c.subject.in_(subjects[start:start + 500]))))
    new = [e for e in events if (e["event"], e["subject"]) not in known]
    if not new:
        return 0  # the usual tick: no write, no lock
    inserted = 0
    with db.transaction(write=True) as connection:
        for event in new:
            inserted += _insert_ignore(connection, notifications, {**event, "created_at": now, "attempts": 0})
    return inserted


def _insert_ignore(connection, table, row: dict) -> int:
    """INSERT that leaves an existing row alone (a unique key taken by another process); 1 if inserted."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported backends
        from sqlalchemy.exc import IntegrityError

        try:
            with connection.begin_nested():
                connection.execute(insert(table).values(**row))
            return 1
        except IntegrityError:
            return 0
    return max(connection.execute(dialect_insert(table).values(**row).on_conflict_do_nothing()).rowcount, 0)


# -- delivery -------------------------------------------------------------------------------------

def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 120))


def _digest_slot(target: StoredTarget, now: datetime) -> datetime:
    """The latest daily digest moment at or before now, in the target's zone."""
    try:
        zone = ZoneInfo(target.timezone)
    except Exception:
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    hour, minute = (int(part) for part in target.digest_at.split(":"))
    slot = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
    if slot > local:
        slot = datetime.combine(local.date() - timedelta(days=1), time(hour, minute), tzinfo=zone)
    return slot.astimezone(timezone.utc)


class _Pass:
    """One delivery pass: pending alerts, their delivery rows, and the sends."""

    def __init__(self, db: Database, now: datetime, environ: Environ, targets: list[StoredTarget]):
        self.db = db
        self.now = now
        self._environ = environ
        self.targets = targets
        self.report = DeliveryReport()
        with db.transaction() as connection:
            self.notes = list(connection.execute(select(notifications).where(notifications.c.delivered_at.is_(None))
                                                 .order_by(notifications.c.id).limit(PENDING_LIMIT)))
            self.rows = self._delivery_rows(connection)
            self.account_campaigns = self._account_campaigns(connection)

    def _delivery_rows(self, connection) -> dict:
        ids = [note.id for note in self.notes]
        rows = {}
        for start in range(0, len(ids), 500):
            for row in connection.execute(select(notify_deliveries)
                                          .where(notify_deliveries.c.notification_id.in_(ids[start:start + 500]))):
                rows[(row.notification_id, row.target)] = row
        return rows

    def _account_campaigns(self, connection) -> dict[str, set[str]]:
        """Which campaigns post on each flagged account: their campaign targets hear about it."""
        names = sorted({n.account for n in self.notes if n.event == "account-flagged" and n.account})
        if not names or all(t.campaign_id is None for t in self.targets):
            return {}
        out: dict[str, set[str]] = {}
        query = (select(scheduled_posts.c.account, scheduled_posts.c.campaign_id).distinct()
                 .where(scheduled_posts.c.account.in_(names), scheduled_posts.c.campaign_id.is_not(None)))
        for account, campaign_id in connection.execute(query):
            out.setdefault(account, set()).add(campaign_id)
        return out

    def environ(self) -> Mapping[str, str]:
        if callable(self._environ):
            self._environ = self._environ()  # .env is read only when there is something to send
        return self._environ

    @staticmethod
    def finished(row) -> bool:
        return row is not None and (row.delivered_at is not None or row.attempts >= MAX_ATTEMPTS)

    def waiting(self, target: StoredTarget, *, honour_retry: bool) -> list:
        out = []
        for note in self.notes:
            if not target.wants(note, self.account_campaigns):
                continue
            row = self.rows.get((note.id, target.key))
            if self.finished(row):
                continue
            if row is not None and row.claimed_until is not None and row.claimed_until > self.now:
                continue
            if honour_retry and row is not None and row.retry_at is not None and row.retry_at > self.now:
                continue
            out.append(note)
        return out

    def claim(self, target: StoredTarget, notes: list, *, honour_retry: bool) -> list:
        """Take (note, target) pairs for sending; another process holding one keeps it."""
        d = notify_deliveries.c
        taken = []
        with self.db.transaction(write=True) as connection:
            for note in notes:
                _insert_ignore(connection, notify_deliveries, {"notification_id": note.id, "target": target.key,
                                                               "attempts": 0})
                conditions = [d.notification_id == note.id, d.target == target.key, d.delivered_at.is_(None),
                              d.attempts < MAX_ATTEMPTS, or_(d.claimed_until.is_(None), d.claimed_until <= self.now)]
                if honour_retry:
                    conditions.append(or_(d.retry_at.is_(None), d.retry_at <= self.now))
                result = connection.execute(update(notify_deliveries).where(and_(*conditions))
                                            .values(claimed_until=self.now + CLAIM_FOR))
                if result.rowcount == 1:
                    taken.append(note)
        return taken

    def record(self, target: StoredTarget, notes: list, error: str | None) -> None:
        d = notify_deliveries.c
        ids = [note.id for note in notes]
        with self.db.transaction(write=True) as connection:
            for note in notes:
                row = connection.execute(select(notify_deliveries).where(d.notification_id == note.id,
                                                                         d.target == target.key)).first()
                attempts = (row.attempts if row else 0) + 1
                where = and_(d.notification_id == note.id, d.target == target.key)
                if error is None:
                    connection.execute(update(notify_deliveries).where(where).values(
                        delivered_at=self.now, attempts=attempts, claimed_until=None, last_error=None))
                else:
                    connection.execute(update(notify_deliveries).where(where).values(
                        attempts=attempts, claimed_until=None, last_error=error,
                        retry_at=self.now + _backoff(attempts)))
            if error is not None and ids:
                connection.execute(update(notifications).where(notifications.c.id.in_(ids)).values(
                    attempts=notifications.c.attempts + 1, last_error=f"{target.label}: {error}"))
        if error is None:
            self.report.sent += 1
            self.report.alerts += len(notes)

    def send(self, target: StoredTarget, title: str, body: str, kind: str) -> str | None:
        from campaign.alerts.deliver import send

        return send(target.url, self.environ(), title, body, kind)

    # -- the two kinds of target ------------------------------------------------------------------
    def immediate(self, target: StoredTarget) -> None:
        notes = self.claim(target, self.waiting(target, honour_retry=True), honour_retry=True)
        if not notes:
            return
        if len(notes) > BATCH_OVER:
            batches = [(f"{TITLE}: {len(notes)} alerts", _listing(notes), notes)]
        else:
            batches = [(_title(note), note.message, [note]) for note in notes]
        for number, (title, body, batch) in enumerate(batches):
            error = self.send(target, title, body, _kind(batch))
            if error is not None:
                # The target is down: the rest of this pass would only fail the same way.
                rest = [note for _, _, later in batches[number:] for note in later]
                self.record(target, rest, error)
                self.report.failures.append(f"{target.label}: {error} ({_retry_text(self.rows, rest, target)})")
                return
            self.record(target, batch, None)

    def digest(self, target: StoredTarget) -> None:
        slot = _digest_slot(target, self.now)
        if target.last_digest_at is not None and target.last_digest_at >= slot:
            return
        if target.retry_at is not None and target.retry_at > self.now:
            return
        t = notify_targets.c
        with self.db.transaction(write=True) as connection:
            # Whoever moves last_digest_at past today's slot sends today's digest; the others skip it.
            claimed = connection.execute(update(notify_targets).where(
                t.key == target.key, or_(t.last_digest_at.is_(None), t.last_digest_at < slot),
                or_(t.retry_at.is_(None), t.retry_at <= self.now)).values(last_digest_at=self.now)).rowcount == 1
        if not claimed:
            return
        notes = self.claim(target, self.waiting(target, honour_retry=False), honour_retry=False)
        if not notes:
            return
        error = self.send(target, f"{TITLE}: daily digest, {len(notes)} alert{'s' * (len(notes) != 1)}",
                          _listing(notes), _kind(notes))
        self.record(target, notes, error)
        with self.db.transaction(write=True) as connection:
            if error is None:
                connection.execute(update(notify_targets).where(t.key == target.key).values(
                    digest_attempts=0, retry_at=None, last_error=None))
                return
            attempts = target.digest_attempts + 1
            # Its alerts have now failed as often (record() counted each): they are given up with it.
            give_up = attempts >= MAX_ATTEMPTS
            connection.execute(update(notify_targets).where(t.key == target.key).values(
                digest_attempts=0 if give_up else attempts, last_error=error,
                retry_at=None if give_up else self.now + _backoff(attempts),
                last_digest_at=self.now if give_up else target.last_digest_at))
        when = "tomorrow's digest" if give_up else f"again after {self.now + _backoff(attempts):%H:%M} UTC"
        self.report.failures.append(f"{target.label}: {error} (daily digest; trying {when})")

    def finish(self) -> None:
        """Close every alert that each target wanting it has received (or given up on)."""
        if not self.notes:
            return
        with self.db.transaction() as connection:
            self.rows = self._delivery_rows(connection)
        done, gave_up = [], {}
        for note in self.notes:
            wanting = [t for t in self.targets if t.wants(note, self.account_campaigns)]
            rows = [self.rows.get((note.id, t.key)) for t in wanting]
            if all(self.finished(row) for row in rows):
                done.append(note.id)
                failed = [(t, row) for t, row in zip(wanting, rows) if row.delivered_at is None]
                if failed:
                    target, row = failed[0]
                    gave_up[note.id] = f"gave up on {target.label} after {row.attempts} attempts: {row.last_error}"
        if not done:
            return
        with self.db.transaction(write=True) as connection:
            for note_id in done:
                values = {"delivered_at": self.now}
                if note_id in gave_up:
                    values["last_error"] = gave_up[note_id]
                connection.execute(update(notifications).where(notifications.c.id == note_id,
                                                               notifications.c.delivered_at.is_(None))
                                   .values(**values))


def _title(note) -> str:
    subject = {"failed": f"post #{note.post_id} failed", "unknown": f"post #{note.post_id} needs a person",
               "missed": f"post #{note.post_id} missed", "account-flagged": f"account {note.account} flagged",
               "invalid-file": "posts.yaml is invalid", "serve-stopped": "campaign serve stopped"}
    return f"{TITLE}: {subject.get(note.event, note.event)}"


def _kind(notes) -> str:
    return "warning" if all(note.event == "missed" for note in notes) else "failure"


LISTED = 50  # a digest or batch names this many alerts in full; chat services cut long messages


def _listing(notes) -> str:
    text = "\n\n".join(f"[{note.event}] {note.message}" for note in notes[:LISTED])
    if len(notes) > LISTED:
        text += f"\n\n… and {len(notes) - LISTED} more: see 'campaign status'."
    return text


def _retry_text(rows, notes, target: StoredTarget) -> str:
    attempts = max(((rows.get((n.id, target.key)).attempts if rows.get((n.id, target.key)) else 0) + 1
                    for n in notes), default=1)
    if attempts >= MAX_ATTEMPTS:
        return f"gave up after {attempts} attempts"
    return f"attempt {attempts} of {MAX_ATTEMPTS}; retrying in {int(_backoff(attempts).total_seconds() // 60)} min"


def deliver(db: Database, now: datetime, environ: Environ, *,
            targets: list[StoredTarget] | None = None) -> DeliveryReport:
    """Send what is pending to every target that wants it. Never raises for a send that fails.

    environ may be a mapping or a function returning one (called only when a message goes out).
    """
    targets = load_targets(db) if targets is None else targets
    if not targets:
        return DeliveryReport()
    work = _Pass(db, now, environ, targets)
    for target in targets:
        if target.digest:
            work.digest(target)
        elif work.notes:
            work.immediate(target)
    work.finish()
    return work.report


def run(db: Database, now: datetime, environ: Environ) -> DeliveryReport | None:
    """collect then deliver, for `campaign run` and `serve`; None (one query) when notify is not set up."""
    if not has_targets(db):
        return None
    collect(db, now)
    return deliver(db, now, environ)


# -- `campaign notify test` -----------------------------------------------------------------------

@dataclass(frozen=True)
class SendResult:
    target: NotifyTarget
    error: str | None  # None: sent

    @property
    def label(self) -> str:
        from campaign.alerts.deliver import label

        return label(self.target.url)

    @property
    def scope(self) -> str:
        return describe_scope(self.target)


def describe_scope(target: NotifyTarget) -> str:
    scope = f"campaign {target.campaign_id}" if target.campaign_id else "every campaign"
    if target.events is not None:
        scope += ": " + ", ".join(target.events)
    if target.digest:
        scope += f", {target.digest} digest at {target.digest_at}"
    return scope


def send_test(targets: Iterable[NotifyTarget], environ: Mapping[str, str]) -> list[SendResult]:
    """A test message to each target, as configured in posts.yaml; the outcome per target."""
    from campaign.alerts.deliver import send

    results: dict[str, SendResult] = {}
    for target in targets:
        key = target_key(target)
        if key not in results:
            body = (f"Test message from 'campaign notify test' on {socket.gethostname()}: alerts for "
                    f"{describe_scope(target)} reach this channel.")
            results[key] = SendResult(target, send(target.url, environ, f"{TITLE}: test", body, "info"))
    return list(results.values())
