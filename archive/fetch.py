"""Incremental timeline fetch: each account's new posts into the archive, resumable, never twice.

The platform modules (campaign.send.platforms.x / mastodon / bluesky) read raw pages through the one
`timeline_pages(since=…, cursor=…)` of the platform protocol; archive.sources.<platform> turns them
into ArchivedPost records (the same mapping the importers of that platform's formats use); this
module hands each page to `archive.store.upsert_posts` *before* it
records how far it got (`set_fetch_state`), so a crash or a 429 between the two costs at most one
page read again (and upserting it again changes nothing).

Per platform (state kept per account in the archive's fetch state):

* X — newest first, pages of 100, since = the newest post id stored by the last complete run. A run that stops early (429, network, Ctrl-C) keeps
  `{"pending": {"since_id", "token", "newest"}}`; the next run continues from that token and only
  then moves `since_id` forward. X serves only the newest 3,200 posts of a timeline; older ones
  come from the archive export (`archive import`).
* Mastodon — walked forward from the newest stored status id (since = that id; each page's cursor
  is its newest id), so the state after every page is simply `{"newest_id"}`: nothing to resume but that.
* Bluesky — newest first, down to the newest post stored before (`{"newest"}`, its time); an
  interrupted walk keeps `{"pending": {"cursor", "stop", "newest"}}`.

Metrics of known posts: after the new posts, each run re-reads the account's posts of the last
`refresh_days` (default 7; 0 turns it off) — the window where likes and reposts still move — and
upserts them, which refreshes their metrics. That bounded window is the only thing read twice;
history older than it is never downloaded again (the window's walk meets this run's new posts too;
they are not stored twice).

Errors: RateLimited / TransientError / AuthFailed / Rejected (campaign.errors) stop the account's
run after its state is saved; `fetch_account` reports them in the FetchReport instead of raising,
so `--all` goes on with the next account.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from campaign.errors import PlatformError, RateLimited

from .records import ArchivedPost

SOURCE = "api"


@dataclass
class FetchReport:
    account: str
    platform: str
    fetched: int = 0  # records handed to the store (new and refreshed)
    new: int | None = None  # as the store counted them, when it says
    pages: int = 0
    complete: bool = True
    error: str | None = None
    reset_at: datetime | None = None
    summaries: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # what the platform could not give (a missing scope)

    @property
    def message(self) -> str:
        text = f"{self.account}: {self.fetched} post{'s' * (self.fetched != 1)} in {self.pages} page{'s' * (self.pages != 1)}"
        if self.new is not None:
            text += f" ({self.new} new)"
        if not self.complete:
            text += f"; stopped: {self.error}"
            if self.reset_at:
                text += f" (try again after {self.reset_at.astimezone(timezone.utc):%H:%M} UTC)"
            text += "; the next run continues where this one stopped"
        for note in self.notes:
            text += f"; {note}"
        return text


class _Run:
    """The store calls one account's fetch makes, with its counters."""

    def __init__(self, db, platform: str, account: str, now: datetime, report: FetchReport,
                 on_page: Callable[[int], None] | None, store=None):
        if store is None:
            from . import store as store_module

            store = store_module
        self.db, self.platform, self.account, self.now = db, platform, account, now
        self.report, self.on_page, self.store = report, on_page, store

    def state(self) -> dict:
        return copy.deepcopy(dict(self.store.get_fetch_state(self.db, self.platform, self.account) or {}))

    def save(self, state: dict) -> None:
        self.store.set_fetch_state(self.db, self.platform, self.account, state, self.now)

    def upsert(self, records: list[ArchivedPost]) -> None:
        self.report.pages += 1
        if records:
            summary = self.store.upsert_posts(self.db, records, source=SOURCE, now=self.now)
            self.report.fetched += len(records)
            self.report.summaries.append(summary)
            new = _count(summary, "inserted", "new", "added")
            if new is not None:
                self.report.new = (self.report.new or 0) + new
        if self.on_page:
            self.on_page(len(records))


def _count(summary: Any, *names: str) -> int | None:
    for name in names:
        value = summary.get(name) if isinstance(summary, dict) else getattr(summary, name, None)
        if isinstance(value, int):
            return value
    return None


def fetch_account(db, client, platform: str, account: str, *, now: datetime, refresh_days: int = 7,
                  on_page: Callable[[int], None] | None = None, store=None) -> FetchReport:
    """Fetch one account's new posts (and refresh recent metrics) into db; see the module doc.

    client: the account's campaign platform (campaign.send.platforms.connect); account: its handle
    without '@', as records name it. PlatformErrors end the run early and are reported, not raised.
    """
    report = FetchReport(account, platform)
    run = _Run(db, platform, account, now, report, on_page, store)
    cutoff = now - timedelta(days=refresh_days) if refresh_days > 0 else None
    steps = {"x": _fetch_x, "mastodon": _fetch_mastodon, "bluesky": _fetch_bluesky, "linkedin": _fetch_linkedin,
             "threads": _fetch_threads}
    try:
        steps[platform](run, client, cutoff)
    except RateLimited as error:
        report.complete, report.error, report.reset_at = False, str(error), error.reset_at
    except PlatformError as error:
        report.complete, report.error = False, str(error)
    report.notes.extend(getattr(client, "notes", ()))
    return report


# -- X ----------------------------------------------------------------------


def _fetch_x(run: _Run, client, cutoff: datetime | None) -> None:
    from .sources import x

    state = run.state()
    pending = state.get("pending")
    previous = state.get("since_id")
    if pending is None:
        pending = {"since_id": previous, "token": None, "newest": previous}
    for page in client.timeline_pages(since=pending["since_id"], cursor=pending["token"]):
        run.upsert(list(x.records(page, run.account)))
        pending["newest"] = _max_id(pending.get("newest"), max((str(t["id"]) for t in page.items), key=int,
                                                               default=None))
        pending["token"] = page.cursor
        if page.cursor:
            run.save({**state, "pending": dict(pending)})
    run.save({"since_id": pending["newest"]})
    if cutoff is not None and previous:
        _refresh(run, client, x, cutoff, previous)


def _refresh(run: _Run, client, mapping, cutoff: datetime, previous: str) -> None:
    """Re-read the posts of the window stored before this run (their metrics still move). The
    window's walk also meets the posts this run just stored; they are left out, not stored twice."""
    for page in client.timeline_pages(since=cutoff):
        run.upsert([r for r in mapping.records(page, run.account) if int(r.remote_id) <= int(previous)])


def _max_id(a: str | None, b: str | None) -> str | None:
    if not a or not b:
        return a or b
    return a if int(a) >= int(b) else b


# -- Mastodon ---------------------------------------------------------------


def _fetch_mastodon(run: _Run, client, cutoff: datetime | None) -> None:
    from .sources import mastodon

    state = run.state()
    previous = state.get("newest_id")
    newest = previous
    # Walking forward from the newest stored status, each page's cursor is all the state there is.
    for page in client.timeline_pages(since=newest or "0"):
        run.upsert(list(mastodon.records(page, run.account)))
        if page.items:
            newest = _max_id(newest, page.cursor)
            run.save({"newest_id": newest})
    if cutoff is not None and previous:
        _refresh(run, client, mastodon, cutoff, previous)


# -- Bluesky ----------------------------------------------------------------


def _fetch_bluesky(run: _Run, client, cutoff: datetime | None) -> None:
    from campaign.send.platforms.bluesky import feed_time

    from .sources import bluesky

    # Strictly after the newest stored: feed times have millisecond precision. A repost's feed
    # time is when it was reposted, so the walk's position follows the feed, not the records.
    _walk_newest_first(run, client, cutoff, lambda page: list(bluesky.records(page, run.account)),
                       lambda page, records: [feed_time(item) for item in page.items], inclusive=False)


# -- LinkedIn ---------------------------------------------------------------


def _fetch_linkedin(run: _Run, client, cutoff: datetime | None) -> None:
    from .sources import linkedin

    _walk_newest_first(run, client, cutoff, lambda page: list(linkedin.records(page, run.account)),
                       _record_times, inclusive=False)


# -- Threads ----------------------------------------------------------------


def _fetch_threads(run: _Run, client, cutoff: datetime | None) -> None:
    """Threads, then replies; each page gets its posts' insights (likes, replies, reposts, quotes)
    where the token may read them."""
    from .sources import threads

    # Inclusive: Threads times are whole seconds, so the newest stored post is read again (and
    # upserted, changing nothing) rather than risking one of the same second.
    _walk_newest_first(run, client, cutoff,
                       lambda page: list(threads.records(client.with_insights(page), run.account)),
                       _record_times, inclusive=True)


def _record_times(page, records) -> list[datetime]:
    return [record.created_at for record in records]


def _walk_newest_first(run: _Run, client, cutoff: datetime | None, records_of, times_of, *,
                       inclusive: bool) -> None:
    """For a platform whose timeline can only be read newest first: down to the newest post stored
    before (`{"newest"}` in the fetch state) or the refresh window (cutoff), whichever is older.
    An interrupted walk keeps its cursor (`{"pending"}`) and goes on from there next time, so
    nothing is read twice or skipped; only when the walk ends does `newest` move."""
    state = run.state()
    pending = state.get("pending")
    if pending is None:
        pending = {"cursor": None, "stop": state.get("newest"), "newest": state.get("newest")}
    since = None
    if pending.get("stop"):
        since = _parse_time(pending["stop"]) + (timedelta(0) if inclusive else timedelta(microseconds=1))
    if since is not None and cutoff is not None:
        since = min(since, cutoff)
    for page in client.timeline_pages(since=since, cursor=pending["cursor"]):
        records = records_of(page)
        run.upsert(records)
        for moment in times_of(page, records):
            if pending.get("newest") is None or moment > _parse_time(pending["newest"]):
                pending["newest"] = _iso(moment)
        pending["cursor"] = page.cursor
        if page.cursor:
            run.save({**state, "pending": dict(pending)})
    run.save({"newest": pending.get("newest")})


# -- helpers ----------------------------------------------------------------


def _parse_time(value) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()
