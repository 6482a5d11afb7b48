"""`campaign serve`: one long-running dispatcher, woken by APScheduler.

The database queue stays the single source of truth (BRIEF.md: APScheduler drops
late runs after 1 s by default, removes one-off jobs as it hands them over, and
deletes jobs it cannot unpickle). So APScheduler keeps nothing of ours: an
in-memory store holds one date job "wake at the next due time", re-armed after
every dispatch and every sync, plus a file watcher and a safety tick. `serve` and
cron `run` can work side by side; a crash of `serve` loses nothing.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Mapping

from campaign.errors import CampaignError
from campaign.queue import claims, heartbeat
from campaign.queue.db import Database
from campaign.send.dispatch import Outcome
from campaign.send.runner import Runner

log = logging.getLogger("campaign.serve")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def logfmt(**fields) -> str:
    """One structured line: key=value, values quoted when they hold spaces."""
    out = []
    for key, value in fields.items():
        if value is None:
            continue
        text = str(value)
        if not text or any(c in text for c in ' ="\n'):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        out.append(f"{key}={text}")
    return " ".join(out)


class Server:
    def __init__(self, db: Database, posts_file: Path, environ: Callable[[], Mapping[str, str]], *,
                 lease: timedelta = claims.DEFAULT_LEASE, tick: float = 30.0, watch_every: float = 1.0,
                 heartbeat_every: float = 10.0):
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler

        self.db = db
        self.posts_file = Path(posts_file)
        self.environ = environ
        self.worker = claims.new_worker_id()
        self.stopping = threading.Event()
        self.dispatch_lock = threading.Lock()
        self.notify_lock = threading.Lock()
        # APScheduler's shutdown holds its job-store lock while it waits for running jobs, so a job
        # must not be inside add_job/remove_job then: arming and shutting down take turns on this.
        self.arm_lock = threading.Lock()
        self._stopper: threading.Thread | None = None
        self.scheduler = BlockingScheduler(
            timezone=timezone.utc,
            executors={"default": ThreadPoolExecutor(3)},
            # Never skip a late wake-up; the queue itself decides what is too late ('late').
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1})
        self.tick = tick
        self.watch_every = watch_every
        self.heartbeat_every = heartbeat_every
        self._env_cache: Mapping[str, str] | None = None
        self.runner = Runner(db, self.posts_file, self._environ, lease=lease, worker=self.worker,
                             should_stop=self.stopping.is_set, on_outcome=self._log_outcome)

    # -- lifecycle ---------------------------------------------------------------
    def serve(self) -> int:
        """Run until SIGTERM/SIGINT; finish the post in flight and return 0."""
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, self._on_reload)
        heartbeat.register(self.db, self.worker, self.posts_file, utcnow())
        self.sync_file(force=True)
        self.scheduler.add_job(self.watch, "interval", seconds=self.watch_every, id="watch")
        self.scheduler.add_job(self.safety_tick, "interval", seconds=self.tick, id="tick")
        self.scheduler.add_job(self.heartbeat, "interval", seconds=self.heartbeat_every, id="heartbeat")
        self.arm()
        log.info(logfmt(event="serve-start", worker=self.worker, file=self.posts_file, db=self.db.display))
        from apscheduler.jobstores.base import JobLookupError

        started = False
        try:
            if not self.stopping.is_set():
                started = True
                self.scheduler.start()
        except JobLookupError:
            # APScheduler 3's shutdown() marks the scheduler stopped before it takes the job-store
            # lock, so a shutdown landing while the main loop retires a one-off job (our wake-up)
            # makes that removal fail and the loop raise. It can only happen while stopping; the
            # stopping thread still waits for the post in flight (joined below).
            if not self.stopping.is_set():
                raise
        finally:
            if started and self._stopper is not None:
                self._stopper.join()  # it stops the scheduler once that runs; unstarted, nothing waits
            self._unregister()
            log.info(logfmt(event="serve-stop", worker=self.worker))
        return 0

    def _on_stop(self, signum, frame) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        log.info(logfmt(event="stopping", signal=signal.Signals(signum).name,
                        detail="finishing the post in flight"))
        self._stopper = threading.Thread(target=self._shutdown, daemon=True)
        self._stopper.start()

    def _shutdown(self) -> None:
        """Wait for a dispatch in progress (it takes no new post once `stopping` is set), then stop."""
        with self.arm_lock:  # no job is arming any more, and none will: `stopping` is set
            pass
        deadline = time.monotonic() + 30
        while not self.scheduler.running and time.monotonic() < deadline:
            time.sleep(0.05)  # a signal during start-up: let the scheduler start, then stop it
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def _on_reload(self, signum, frame) -> None:
        log.info(logfmt(event="reload", signal="SIGHUP"))
        self._env_cache = None
        self.scheduler.add_job(self.sync_file, kwargs={"force": True}, id="reload", replace_existing=True)

    # -- jobs ----------------------------------------------------------------------
    def arm(self) -> None:
        """(Re)schedule the single wake-up job at the next moment there may be work."""
        with self.arm_lock:
            if self.stopping.is_set():
                return
            wake = claims.next_wakeup(self.db)
            if wake is None:
                if self.scheduler.get_job("dispatch"):
                    self.scheduler.remove_job("dispatch")
                return
            self.scheduler.add_job(self.dispatch, "date", run_date=max(wake, utcnow()), id="dispatch",
                                   replace_existing=True)

    def dispatch(self) -> None:
        with self.dispatch_lock:
            if self.stopping.is_set():
                return
            try:
                report = self.runner.dispatch()
            except CampaignError as error:
                # The database went away. Re-arming now would spin on a wake-up time in the past;
                # the safety tick looks again in a while.
                log.error(logfmt(event="dispatch", error=str(error), detail="the next safety tick tries again"))
                return
            for message in dict.fromkeys(report.config_errors):
                log.error(logfmt(event="config", error=message))
        self.arm()
        if report.needs_attention:
            self.send_alerts()

    def watch(self) -> None:
        self.sync_file(force=False)

    def safety_tick(self) -> None:
        """Catch what no wake-up announced (another process queued a post, a lease ran out)."""
        try:
            self.sync_file(force=False)
            self.arm()
        except CampaignError as error:  # the database is away: one line now, another try next tick
            log.error(logfmt(event="tick", error=str(error)))
            return
        self.send_alerts()

    def send_alerts(self) -> None:
        """Alerts from the queue's state (campaign.alerts.notify): after a dispatch with problems and on the
        safety tick, which also notices other servers whose heartbeat stopped. Never in posting's way."""
        if self.stopping.is_set() or not self.notify_lock.acquire(blocking=False):
            return  # another job is at it; what it leaves, the next tick collects
        try:
            report = self.runner.alerts(utcnow())
        except Exception as error:  # an alerting side-path: one line in the log, posting goes on
            log.error(logfmt(event="notify", error=f"{type(error).__name__}: {error}"))
            return
        finally:
            self.notify_lock.release()
        for failure in report.failures if report else ():
            log.error(logfmt(event="notify", error=failure))
        if report is not None and report.sent:
            log.info(logfmt(event="notify", sent=report.sent, alerts=report.alerts))

    def heartbeat(self) -> None:
        heartbeat.beat(self.db, self.worker, utcnow())

    def sync_file(self, force: bool) -> None:
        """Re-validate and sync posts.yaml when it changed; an invalid file is logged once per content
        (the runner records it once too: `campaign status` shows it until a good sync)."""
        result = self.runner.sync(utcnow(), force=force)
        if result.problem is not None:
            if result.new_problem:
                problems = getattr(result.problem, "problems", None)
                message = "; ".join(str(p) for p in problems[:5]) if problems else str(result.problem)
                log.error(logfmt(event="invalid-file", file=self.posts_file, error=message,
                                 detail="the last good schedule keeps running"))
            if result.record_failure is not None:
                log.error(logfmt(event="invalid-file", file=self.posts_file, error=str(result.record_failure),
                                 detail="could not record it in the database"))
            return
        if not result.changed:
            return
        if result.summary is not None:
            summary = result.summary
            log.info(logfmt(event="synced", file=self.posts_file, queued=summary.queued, updated=summary.updated,
                            cancelled=summary.cancelled, unchanged=summary.unchanged, missed=summary.missed))
        self.arm()

    def _environ(self) -> Mapping[str, str]:
        if self._env_cache is None:
            self._env_cache = self.environ()
        return self._env_cache

    @staticmethod
    def _log_outcome(outcome: Outcome) -> None:
        level = logging.INFO if outcome.state in ("sent", "deferred") else logging.ERROR
        campaign, _, rest = outcome.key.partition("/")
        log.log(level, logfmt(event="post", state=outcome.state, account=outcome.account, campaign=campaign,
                              id=outcome.post_id, key=outcome.key, url=outcome.url, error=outcome.message))

    def _unregister(self) -> None:
        try:
            heartbeat.unregister(self.db, self.worker, utcnow())
        except CampaignError as error:
            log.error(logfmt(event="heartbeat", error=str(error)))
