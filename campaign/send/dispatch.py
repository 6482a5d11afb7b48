"""Send every due post exactly once.

The database decides what is due and who is sending it (campaign.queue.claims); this
module decides what to do with each answer of a platform. Each claimed post ends
in exactly one of: sent, failed, unknown, missed — or goes back to the queue
untouched (rate limit, daily cap, missing credentials), or back to awaiting approval
(an approved post's image changed on disk). Posts that were not approved in time are
marked missed at the start of each pass.
"""
from __future__ import annotations

import hashlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Mapping

from campaign.queue import claims
from campaign.queue.accounts import load_accounts
from campaign.queue.claims import Claim
from campaign.queue.db import Database
from campaign.errors import (AuthFailed, DatabaseError, DuplicateContent, MissingCredentials, PlatformError, RateLimited,
                             Rejected, TransientError)
from campaign.send.platforms import AccountInfo, OutgoingPart, Platform, RemotePost, connect
from campaign.redact import redact, secret_values

CLOCK_SKEW = timedelta(minutes=2)
DAY = timedelta(hours=24)
RATE_LIMIT_RETRY = timedelta(minutes=2)  # when a 429 does not say when to come back
CREDENTIALS_RETRY = timedelta(minutes=5)
# How long a platform with idempotency keys (Mastodon: about an hour) surely still knows ours.
IDEMPOTENCY_WINDOW = timedelta(minutes=50)
# An outage (5xx, refused connections) holds the account's posts back, a minute at first and
# doubling up to this, until their 'late' allowance is spent; only then do they fail.
OUTAGE_BACKOFF = timedelta(minutes=1)
OUTAGE_BACKOFF_CAP = timedelta(minutes=30)

# Full tracebacks of unexpected errors go here; the CLI attaches a log file (--debug,
# CAMPAIGN_LOG_FILE) and nothing else, so they never reach stderr and cron's mail.
traceback_log = logging.getLogger("campaign.traceback")
traceback_log.propagate = False
traceback_log.addHandler(logging.NullHandler())


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Outcome:
    post_id: int
    key: str
    account: str
    state: str  # sent | failed | unknown | missed | deferred | lost | awaiting_approval (sent back)
    message: str | None = None
    url: str | None = None


@dataclass
class RunReport:
    outcomes: list[Outcome] = field(default_factory=list)
    config_errors: list[str] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def needs_attention(self) -> list[Outcome]:
        # awaiting_approval: sent back because an approved image changed; someone must approve it again
        return [o for o in self.outcomes if o.state in ("failed", "unknown", "missed", "awaiting_approval")]

    @property
    def exit_code(self) -> int:
        if self.config_errors:
            return 2
        return 1 if self.needs_attention else 0


@dataclass
class _Account:
    info: AccountInfo
    max_per_day: int | None


class Dispatcher:
    """One dispatch pass over the queue; construct one per run."""

    def __init__(self, db: Database, *, environ: Mapping[str, str],
                 connect_platform: Callable[[AccountInfo, Mapping[str, str]], Platform] = connect,
                 clock: Callable[[], datetime] = utcnow, sleep: Callable[[float], None] = time.sleep,
                 worker: str | None = None, lease: timedelta = claims.DEFAULT_LEASE,
                 retries: int = 3, backoff_base: float = 1.0, backoff_cap: float = 8.0,
                 max_reset_wait: float = 60.0, should_stop: Callable[[], bool] = lambda: False,
                 on_outcome: Callable[[Outcome], None] | None = None):
        self.db = db
        self.environ = environ
        self.connect_platform = connect_platform
        self.clock = clock
        self.sleep = sleep
        self.worker = worker or claims.new_worker_id()
        self.lease = lease
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_reset_wait = max_reset_wait
        self.should_stop = should_stop
        self.on_outcome = on_outcome
        self.report = RunReport()
        self._secrets = secret_values(environ)
        self.blocked: set[str] = set()
        self._platforms: dict[str, Platform] = {}
        self._accounts = self._load_accounts()

    def _load_accounts(self) -> dict[str, _Account]:
        return {a.name: _Account(AccountInfo(a.name, a.platform, a.handle, a.instance), a.max_per_day)
                for a in load_accounts(self.db).values()}

    # -- the pass ----------------------------------------------------------
    def run_due(self) -> RunReport:
        """Mark posts that were not approved in time missed, recover abandoned sends, then send
        everything due, oldest first."""
        self._miss_unapproved()
        for take in (claims.claim_expired, claims.claim_next_due):
            while not self.should_stop():
                claim = take(self.db, self.clock(), self.worker, lease=self.lease,
                             skip_accounts=frozenset(self.blocked))
                if claim is None:
                    break
                self._handle_contained(claim)
        return self.report

    def _handle_contained(self, claim: Claim) -> None:
        """One post's trouble is that post's: any unexpected error ends it by the rules of evidence
        and the run goes on with the others. A database error stops the run (nothing can be recorded)."""
        try:
            self._handle(claim)
        except DatabaseError:
            raise
        except Exception as error:
            traceback_log.error("unexpected error while sending #%s (%s, %s)", claim.id, claim.account, claim.key,
                                exc_info=error)
            cause = f"unexpected {describe(error)}"
            if claim.recovered:
                self._fail(claim, "unknown", f"{cause} while checking whether it went out; {self._settle_hint(claim)}")
            elif claim.done:  # like a thread failing midway: 'retry' resumes after the parts that went out
                self._fail(claim, "failed", f"{cause} after {len(claim.done)} of {len(claim.parts)} parts went out")
            else:
                self._fail(claim, "failed", f"{cause} before anything was sent")
        except BaseException:
            # Interrupted (KeyboardInterrupt, SystemExit) mid-send: let the next dispatcher settle it
            # now rather than after the lease; the process is going down either way.
            try:
                claims.abandon(self.db, claim, self.clock())
            except Exception:
                pass
            raise

    def _miss_unapproved(self) -> None:
        now = self.clock()
        for row in claims.miss_unapproved(self.db, now):
            outcome = Outcome(row.id, row.key, row.account, "missed",
                              f"not approved in time: still awaiting approval {human_duration(now - row.due_at)} "
                              f"after its due time, more than its 'late' allowance of "
                              f"{human_duration(timedelta(seconds=row.late_seconds))}")
            self.report.outcomes.append(outcome)
            if self.on_outcome is not None:
                self.on_outcome(outcome)

    @staticmethod
    def _settle_hint(claim: Claim) -> str:
        return (f"check the account, then run 'campaign resolve {claim.id} --sent URL' "
                f"or 'campaign retry {claim.id}'")

    def _outcome(self, claim: Claim, state: str, message: str | None = None, url: str | None = None) -> None:
        outcome = Outcome(claim.id, claim.key, claim.account, state, redact(message, self._secrets), url)
        self.report.outcomes.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def _fail(self, claim: Claim, state: str, message: str) -> None:
        message = redact(message, self._secrets)  # platforms echo tokens in error bodies
        if claims.finish(self.db, claim, state, self.clock(), message):
            self._outcome(claim, state, message)
        else:
            self._outcome(claim, "lost", "another dispatcher took this post over")

    def _defer(self, claim: Claim, reason: str, until: datetime | None = None) -> None:
        """Back to the queue, untouched; the account's other due posts wait with it (no spinning)."""
        self.blocked.add(claim.account)
        reason = redact(reason, self._secrets)
        claims.release(self.db, claim, self.clock(), reason, not_before=until)
        if until is not None:
            claims.hold_account(self.db, claim.account, until, self.clock())
        self._outcome(claim, "deferred", reason)

    def _handle(self, claim: Claim) -> None:
        account = self._accounts.get(claim.account)
        if account is None:
            self._accounts = self._load_accounts()
            account = self._accounts[claim.account]
        now = self.clock()
        too_late = not claim.done and now > claim.due_at + claim.late
        if too_late and not claim.recovered:
            self._missed(claim, now)
            return
        try:
            platform = self._platform(account.info)
        except MissingCredentials as error:
            self.report.config_errors.append(str(error))
            self._defer(claim, str(error), now + CREDENTIALS_RETRY)
            return
        # A post whose sender vanished mid-send, or whose last attempt may have reached the platform,
        # may be out already: settle that before anything else (being late or over the daily cap
        # must not hide a post that did go out).
        if claim.recovered:
            problem = self._recover(claim, platform, now)
            if problem is not None:
                self._fail(claim, "unknown", problem)
                return
            if len(claim.done) == len(claim.parts):
                self._sent(claim)
                return
            if too_late and not claim.done:
                self._missed(claim, now)
                return
        if account.max_per_day is not None:
            sent = claims.sent_times_since(self.db, claim.account, now - DAY)
            held = daily_cap_hold(sent, len(claim.parts) - len(claim.done), account.max_per_day, now)
            if held is not None:
                self._defer(claim, held[1], held[0])
                return
        self._send_parts(claim, platform, account.info)

    def _missed(self, claim: Claim, now: datetime) -> None:
        self._fail(claim, "missed", f"not posted: {human_duration(now - claim.due_at)} after its due time, more than "
                                    f"its 'late' allowance of {human_duration(claim.late)}")

    def _platform(self, info: AccountInfo) -> Platform:
        if info.name not in self._platforms:
            self._platforms[info.name] = self.connect_platform(info, self.environ)
        return self._platforms[info.name]

    def _sent(self, claim: Claim) -> None:
        first = claim.done[min(claim.done)]
        self._outcome(claim, "sent", url=first.remote_url)

    # -- recovery ------------------------------------------------------------
    def _find_ours(self, claim: Claim, platform: Platform, text: str,
                   recent: list[RemotePost] | None = None) -> RemotePost | None:
        """Our text on the account's timeline since the post was first claimed: from `recent` when
        given (one read for several parts), else read now (raises PlatformError)."""
        if recent is None:
            recent = platform.recent_posts(claim.claimed_at - CLOCK_SKEW)
        known = {part.remote_id for part in claim.done.values()}
        candidates = [post for post in recent if post.id not in known and platform.same_text(text, post.text)]
        candidates.sort(key=lambda post: post.created_at or claim.claimed_at)
        return candidates[0] if candidates else None

    def _recover(self, claim: Claim, platform: Platform, now: datetime) -> str | None:
        """After a lost send: adopt parts that did go out; None when we know where we stand."""
        first = claim.next_part()
        if first >= len(claim.parts):
            return None
        try:
            recent = platform.recent_posts(claim.claimed_at - CLOCK_SKEW)
        except PlatformError as error:
            if platform.idempotent and now - claim.claimed_at < IDEMPOTENCY_WINDOW:
                return None  # posting again with the same key returns the original if it went out
            return (f"the previous attempt was interrupted and the timeline could not be read to check "
                    f"whether part {first + 1} went out ({error}); {self._settle_hint(claim)}")
        for index in range(first, len(claim.parts)):
            found = self._find_ours(claim, platform, claim.parts[index]["text"], recent)
            if found is None:
                return None
            if not claims.record_part(self.db, claim, index, found.id, found.url, found.ref or None, self.clock(),
                                      final=index == len(claim.parts) - 1):
                return "another dispatcher took this post over"
        return None

    # -- sending ---------------------------------------------------------------
    def _send_parts(self, claim: Claim, platform: Platform, info: AccountInfo) -> None:
        changed = _changed_since_approval(claim)
        if changed is not None:  # what was approved is not what would go out: nothing is sent
            message = (f"the image {changed} changed after it was approved: run `campaign sync` and approve it "
                       "again")
            if claims.send_back_for_approval(self.db, claim, self.clock(), message):
                self._outcome(claim, "awaiting_approval", message)
            else:
                self._outcome(claim, "lost", "another dispatcher took this post over")
            return
        reply_target = None
        if claim.reply_to_url and 0 not in claim.done:
            try:
                reply_target = platform.lookup(claim.reply_to_url)
            except PlatformError as error:
                self._fail(claim, "failed", f"cannot find the post to reply to ({claim.reply_to_url}): {error}")
                return
        for index in range(claim.next_part(), len(claim.parts)):
            part = claim.parts[index]
            unfit = _media_problem(part, info.platform)
            if unfit is not None:  # the file changed since `check`: nothing is sent
                self._fail(claim, "failed", f"{unfit}; fix it, then 'campaign retry {claim.id}'")
                return
            outgoing = OutgoingPart(
                text=part["text"],
                media=tuple((Path(m["path"]), m["alt"]) for m in part.get("media", ())),
                idempotency_key=hashlib.sha256(f"praatmee:{claim.key}#{index}".encode()).hexdigest()[:32],
                language=claim.payload.get("language"),
                card=part.get("card", True),
            )
            previous = claim.done.get(index - 1)
            reply_to = _remote(previous) if previous else reply_target
            root = _remote(claim.done[0]) if index > 0 else None
            posted = self._post_with_retries(claim, platform, outgoing, reply_to, root)
            if posted is None:
                return
            if not claims.record_part(self.db, claim, index, posted.id, posted.url, posted.ref or None,
                                      self.clock(), final=index == len(claim.parts) - 1):
                self._outcome(claim, "lost", "another dispatcher took this post over")
                return
        self._sent(claim)

    def _post_with_retries(self, claim: Claim, platform: Platform, part: OutgoingPart,
                           reply_to: RemotePost | None, root: RemotePost | None) -> RemotePost | None:
        """Post one part. Once an attempt may have reached the platform, no later error can make the
        post `failed` without evidence: it ends sent (found on the timeline) or unknown."""
        failures = 0
        reset_waits = 0
        in_doubt = claim.in_doubt_since is not None
        while True:
            if not claims.begin_attempt(self.db, claim, self.clock(), self.lease):
                self._outcome(claim, "lost", "another dispatcher took this post over")
                return None
            try:
                return platform.post(part, reply_to=reply_to, root=root)
            except RateLimited as error:
                wait = (error.reset_at - self.clock()).total_seconds() if error.reset_at else None
                if wait is not None and wait <= self.max_reset_wait and reset_waits < 2:
                    reset_waits += 1
                    self.sleep(max(wait, 0.0) + 0.5)
                    continue
                # in_doubt_since stays on the row: whoever takes the post next checks the timeline first.
                until = f" until {error.reset_at:%Y-%m-%d %H:%M:%S} UTC" if error.reset_at else ""
                self._defer(claim, f"rate limited by {claim.account}'s platform{until}; left queued for the next run",
                            error.reset_at or self.clock() + RATE_LIMIT_RETRY)
                return None
            except DuplicateContent as error:
                try:
                    found = self._find_ours(claim, platform, part.text)
                except PlatformError as read_error:
                    if in_doubt:  # after a lost answer, "duplicate" most likely means our own post
                        self._fail(claim, "unknown", f"{error} after an earlier attempt may have gone out, and the "
                                                     f"timeline could not be read ({read_error}); "
                                                     f"{self._settle_hint(claim)}")
                        return None
                    found = None
                if found is not None:
                    return found
                self._fail(claim, "failed", f"the platform refused the text as a duplicate of an earlier post that this "
                                            f"campaign did not send now ({error}); add a variant to the post")
                return None
            except TransientError as error:
                if error.maybe_posted:
                    in_doubt = self._doubt(claim)
                    if not platform.idempotent:
                        # Posting again could double it: look first.
                        try:
                            found = self._find_ours(claim, platform, part.text)
                        except PlatformError as read_error:
                            self._fail(claim, "unknown", f"{error}; the post may have gone out and the timeline "
                                                         f"could not be read to check ({read_error}); "
                                                         f"{self._settle_hint(claim)}")
                            return None
                        if found is not None:
                            return found
                failures += 1
                if failures >= self.retries:
                    if in_doubt:
                        return self._give_up(claim, platform, part, in_doubt,
                                             f"gave up after {failures} attempts: {error}")
                    return self._wait_out_outage(claim, error)
                delay = min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1))
                self.sleep(delay * random.uniform(0.5, 1.0))
            except AuthFailed as error:
                message = f"credentials rejected: {error}; fix them, then run 'campaign accounts check'"
                claims.flag_account(self.db, claim.account, redact(message, self._secrets), self.clock())
                self.blocked.add(claim.account)
                return self._give_up(claim, platform, part, in_doubt, message)
            except Rejected as error:
                return self._give_up(claim, platform, part, in_doubt, f"the platform refused the post: {error}")
            except PlatformError as error:  # the platform module could not classify it: it may have gone out
                in_doubt = self._doubt(claim)
                return self._give_up(claim, platform, part, in_doubt, str(error))
            except DatabaseError:
                raise
            except Exception as error:  # a library bug or a strange answer: it may have gone out
                traceback_log.error("unexpected error while posting #%s (%s, %s)", claim.id, claim.account,
                                    claim.key, exc_info=error)
                in_doubt = self._doubt(claim)
                return self._give_up(claim, platform, part, in_doubt, f"unexpected {describe(error)}")

    def _wait_out_outage(self, claim: Claim, error: TransientError) -> None:
        """Nothing reached the platform: keep the post (and its account's others) queued and try
        again later, backing off, while its 'late' allowance lasts; then it has failed."""
        now = self.clock()
        deadline = claim.due_at + claim.late
        rounds = max(1, claim.attempts // max(1, self.retries))
        retry_at = now + min(OUTAGE_BACKOFF_CAP, OUTAGE_BACKOFF * 2 ** (rounds - 1))
        if retry_at >= deadline:
            self._fail(claim, "failed", f"gave up after {claim.attempts} attempts: {error}")
            return None
        self._defer(claim, f"{error}; {claim.attempts} attempts so far, trying again from "
                           f"{retry_at:%Y-%m-%d %H:%M:%S} UTC (until {deadline:%Y-%m-%d %H:%M} UTC)", retry_at)
        return None

    def _doubt(self, claim: Claim) -> bool:
        """Record that this attempt may have reached the platform (survives a crash or a release)."""
        claims.mark_in_doubt(self.db, claim, self.clock())
        return True

    def _give_up(self, claim: Claim, platform: Platform, part: OutgoingPart, in_doubt: bool,
                 cause: str) -> RemotePost | None:
        """End a part that cannot be posted now. Without doubt it is `failed` (provably not posted);
        with doubt the timeline decides: found means sent, absent means failed, unreadable means unknown."""
        if not in_doubt:
            self._fail(claim, "failed", cause)
            return None
        try:
            found = self._find_ours(claim, platform, part.text)
        except Exception as read_error:
            if not isinstance(read_error, PlatformError):
                traceback_log.error("unexpected error while reading the timeline for #%s", claim.id,
                                    exc_info=read_error)
            self._fail(claim, "unknown", f"{cause}; an earlier attempt may have gone out and the timeline could "
                                         f"not be read to check ({describe(read_error)}); {self._settle_hint(claim)}")
            return None
        if found is not None:
            return found
        self._fail(claim, "failed", f"{cause}; checked the account's timeline: it did not go out")
        return None


def describe(error: BaseException) -> str:
    """An exception as one short line: its class and the first line of its message."""
    if isinstance(error, PlatformError):
        return str(error)
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = text if len(text) <= 300 else text[:297] + "…"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def daily_cap_hold(sent: list[datetime], needed: int, max_per_day: int,
                   now: datetime) -> tuple[datetime, str] | None:
    """When posting `needed` more parts would exceed max_per_day over the last 24 h (`sent`, oldest
    first): the moment enough of them age out, and why. None when it may go now."""
    excess = len(sent) + needed - max_per_day
    if excess <= 0:
        return None
    frees_at = sent[min(excess, len(sent)) - 1] + DAY if sent else now + DAY
    return frees_at, (f"held back: {len(sent)} posts in the last 24 h, max_per_day is {max_per_day}; "
                      f"next chance {frees_at:%Y-%m-%d %H:%M} UTC")


def _media_problem(part: dict, platform: str) -> str | None:
    if not part.get("media"):
        return None
    from campaign.spec.media import problem

    for media in part["media"]:
        why = problem(Path(media["path"]), platform)
        if why:
            return why
    return None


def _changed_since_approval(claim: Claim) -> str | None:
    """The name of an image of a post that needed approval whose file no longer holds the content
    it was approved with (by its sha256 in the payload), among the parts still to send; or None."""
    if not claim.approvals_needed:
        return None
    from campaign.spec.media import changed_since_planned

    for part in claim.parts[claim.next_part():]:
        for media in part.get("media", ()):
            if changed_since_planned(media):
                return Path(media["path"]).name
    return None


def _remote(part: claims.SentPart) -> RemotePost:
    return RemotePost(part.remote_id, part.remote_url, ref=part.remote_ref or {})


def human_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"
