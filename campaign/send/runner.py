"""One dispatcher's work on one posts file and one queue, shared by `campaign run` and `campaign serve`.

The steps: sync posts.yaml when its content changed; when it is invalid, record that
(`campaign status` and the alerts show it) and keep sending what the last good file queued;
send everything due; deliver the alerts. `run` takes all of them once (run_once) and exits;
`serve` takes them one at a time as its jobs fire. Nothing here prints: callers log or print
the results and choose an exit status.

A cron tick with an unchanged file and nothing due must stay cheap, so the YAML parser, the
plan, the dispatcher (and through it the platform libraries) and Apprise are imported only in
the branch that needs them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from campaign.errors import CampaignError, ConfigError
from campaign.queue import claims
from campaign.queue.db import Database
from campaign.queue.sync import SyncSummary, file_fingerprint, is_synced, record_invalid_file, sync

if TYPE_CHECKING:
    from campaign.alerts.notify import DeliveryReport
    from campaign.send.dispatch import Outcome, RunReport


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class SyncResult:
    """What Runner.sync found. `problem` set: the file is invalid or unreadable and the queue
    still holds what the last good version put there."""

    fingerprint: str | None  # None when the file could not be read
    changed: bool = True  # False: the content this Runner last looked at; nothing done (a problem was said then)
    summary: SyncSummary | None = None  # set when this call wrote the plan into the queue
    problem: CampaignError | None = None
    new_problem: bool = False  # first time this Runner meets this problem: say it once
    record_failure: CampaignError | None = None  # the problem could not be recorded in the database


@dataclass(frozen=True)
class TickResult:
    """What Runner.run_once did: the sync, the dispatch pass, the alerts."""

    sync: SyncResult
    report: RunReport | None  # None: nothing was due, so no dispatcher ran (and no platform was loaded)
    alerts: DeliveryReport | None = None  # None: no notify targets are set up
    alerts_error: CampaignError | None = None  # the database failed while alerting; the posts were handled

    @property
    def needs_attention(self) -> list[Outcome]:
        return self.report.needs_attention if self.report else []

    @property
    def config_errors(self) -> list[str]:
        """Configuration trouble met while sending (missing credentials…), each once."""
        return list(dict.fromkeys(self.report.config_errors)) if self.report else []

    @property
    def exit_code(self) -> int:
        """2 for configuration errors (posts.yaml, credentials) or a failing database while alerting,
        1 when a post of this pass failed, was missed or needs a person, else 0."""
        if self.sync.problem is not None or self.config_errors:
            return 2
        sending = 1 if self.needs_attention else 0
        return max(sending, self.alerts_error.exit_code) if self.alerts_error is not None else sending


@dataclass
class Runner:
    """The shared steps of a dispatcher. environ is called only when credentials are needed
    (a post to send, an alert to deliver); clock gives "now" for the dispatch pass and alerts;
    prepare_sending runs once before each dispatch pass (the CLI attaches its traceback log
    there, so an idle tick does not read .env for it)."""

    db: Database
    posts_file: Path
    environ: Callable[[], Mapping[str, str]]
    lease: timedelta = claims.DEFAULT_LEASE
    worker: str | None = None
    clock: Callable[[], datetime] = utcnow
    should_stop: Callable[[], bool] = lambda: False
    on_outcome: Callable[[Outcome], None] | None = None
    prepare_sending: Callable[[], None] | None = None
    _fingerprint: str | None = field(default=None, init=False, repr=False)
    _reported: str | None = field(default=None, init=False, repr=False)

    def sync(self, now: datetime, *, force: bool = False, strict: bool = False) -> SyncResult:
        """Sync posts.yaml into the queue if its content changed since this Runner or the queue
        last saw it (force: sync even so). An invalid file is recorded in the database the first
        time this Runner meets its content, and reported in the result; the queue keeps what the
        last good version put there. An unreadable file is treated the same, unless strict, when
        its CampaignError is raised (a cron tick that cannot read its file sends nothing).
        Raises DatabaseError, and CampaignError from reading the file while it syncs."""
        try:
            fingerprint = file_fingerprint(self.posts_file)
        except CampaignError as error:
            if strict:
                raise
            self._fingerprint = None  # the same content coming back must be looked at (and its record cleared)
            return self._invalid(str(error), error, None, now)
        if not force and fingerprint == self._fingerprint:
            return SyncResult(fingerprint, changed=False)
        self._fingerprint = fingerprint
        if not force and is_synced(self.db, self.posts_file, fingerprint):
            return SyncResult(fingerprint)
        from campaign.spec.plan import load_plan

        try:
            summary = sync(self.db, load_plan(self.posts_file), now, fingerprint=fingerprint)
        except ConfigError as error:
            return self._invalid(fingerprint, error, fingerprint, now)
        self._reported = None
        return SyncResult(fingerprint, summary=summary)

    def _invalid(self, key: str, error: CampaignError, fingerprint: str | None, now: datetime) -> SyncResult:
        if self._reported == key:
            return SyncResult(fingerprint, problem=error)
        self._reported = key
        try:
            record_invalid_file(self.db, self.posts_file, error, now)
        except CampaignError as failure:
            return SyncResult(fingerprint, problem=error, new_problem=True, record_failure=failure)
        return SyncResult(fingerprint, problem=error, new_problem=True)

    def dispatch(self) -> RunReport:
        """One dispatch pass (send.dispatch.Dispatcher.run_due): abandoned sends settled, then
        everything due sent, until should_stop says so. Raises DatabaseError when the queue
        cannot be read or written; a platform's errors end up in the report."""
        from campaign.send.dispatch import Dispatcher

        if self.prepare_sending is not None:
            self.prepare_sending()
        dispatcher = Dispatcher(self.db, environ=self.environ(), lease=self.lease, worker=self.worker,
                                clock=self.clock, should_stop=self.should_stop, on_outcome=self.on_outcome)
        return dispatcher.run_due()

    def alerts(self, now: datetime) -> DeliveryReport | None:
        """Collect and deliver the alerts the queue's state calls for (campaign.alerts.notify.run);
        None (one query) when no target is set up. A message that cannot be sent is in the
        report's failures and is retried later. Raises DatabaseError."""
        from campaign.queue.sync import has_notify_targets

        if not has_notify_targets(self.db):  # without loading the alerts machinery: the idle tick stays cheap
            return None
        from campaign.alerts import notify

        return notify.run(self.db, now, self.environ)

    def run_once(self) -> TickResult:
        """sync (strict), a dispatch pass if anything is due, then the alerts: one cron tick.
        Raises CampaignError when posts.yaml cannot be read, DatabaseError when the queue fails
        before the posts are handled; a database failure while alerting is in the result."""
        synced = self.sync(self.clock(), strict=True)
        report = self.dispatch() if claims.has_work(self.db, self.clock()) else None
        try:
            alerts = self.alerts(self.clock())
        except CampaignError as error:
            return TickResult(synced, report, alerts_error=error)
        return TickResult(synced, report, alerts)
