"""Statistics of the archive, computed in SQL: posts, kinds and engagement per period (every period
in the range, zero-filled), per account and per campaign; the top posts by engagement; the top
hashtags, mentions and links. No click; `archive stats` and `archive report` print and draw it.

Periods are local: a post belongs to the week or month that holds its local date in `zone`.
The database never converts time zones. Python (zoneinfo) computes the UTC instant at which each
local day of the range begins: 23 or 25 hours apart across a DST change, a missing midnight
handled by zoneinfo. SQL counts the posts of each local day against those boundaries (SQLite: for
a few accounts one range read per day and account of the account index, else one per day of the
stats index grouped by account, each index holding every column the counts read, so no sort of
all posts and no table row; PostgreSQL: width_bucket() over the same boundaries, grouped by
parallel workers). Python then folds the days into ISO weeks (2014-W52, 2015-W01; a
year's week 53) or months. A zone's rules therefore come from one place, the same on both databases.

Engagement is what a post received: likes, reposts, replies and quotes, from its metrics. A repost's
metrics are those of the post it reposts (someone else's), so reposts count as posts of their kind
but add no engagement and are never top posts. A metric that is not a whole number counts as 0. The
store keeps the four metrics in integer columns of their own (archive.tables.METRIC_COLUMNS), which
the stats sum: no JSON is parsed.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone, tzinfo

from .records import KINDS, PostFilter

METRICS = ("likes", "reposts", "replies", "quotes")
PERIODS = ("day", "week", "month")
CHUNK = 2000  # days per statement
ACCOUNTS_APART = 8  # SQLite: up to this many accounts, each day's posts are counted per account (_per_day_per_account)
# … when the archive holds at least this many posts per day and account of the range: each read of a
# day and account costs about what sorting six posts does (measured on 1,000,000 posts)
PER_ACCOUNT_DAY = 8
MMAP_SIZE = 1 << 31  # SQLite: map up to 2 GB of the file while reading (capped by its build's limit)


# -- periods -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str  # "2015-01-27", "2015-W05" or "2015-01"
    first_day: date  # local dates, both included
    last_day: date


def period_of(day: date, period: str) -> Period:
    """The day, ISO week or month that holds a local date."""
    if period == "day":
        return Period(day.isoformat(), day, day)
    if period == "week":
        monday = day - timedelta(days=day.weekday())
        year, week, _ = monday.isocalendar()
        return Period(f"{year}-W{week:02d}", monday, monday + timedelta(days=6))
    if period == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return Period(f"{first.year}-{first.month:02d}", first, following - timedelta(days=1))
    raise ValueError(f"period must be one of {PERIODS}")


def periods_between(first: date, last: date, period: str) -> list[Period]:
    """Every period from the one holding `first` to the one holding `last`, none left out."""
    out = []
    day = first
    while day <= last:
        current = period_of(day, period)
        out.append(current)
        day = current.last_day + timedelta(days=1)
    return out


def period_key(moment: datetime, period: str, zone: tzinfo) -> str:
    """The period of an aware moment in zone's calendar (the definition the SQL reproduces)."""
    return period_of(moment.astimezone(zone).date(), period).key


def day_starts(first: date, days: int, zone: tzinfo) -> list[datetime]:
    """The UTC instants at which the local days first … first+days begin (days + 1 values). A
    midnight that does not exist (a DST gap at 00:00) is read with the offset before the gap,
    which is the day's first real instant; a day a zone skipped altogether is an empty range."""
    starts, previous = [], None
    for number in range(days + 1):
        day = first + timedelta(days=number)
        start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(timezone.utc)
        if previous is not None and start < previous:
            start = previous
        starts.append(start)
        previous = start
    return starts


# -- results -----------------------------------------------------------------------------------------


@dataclass
class Totals:
    """Counts of a set of posts: how many of each kind, and the engagement they received."""

    posts: int = 0
    kinds: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0

    @property
    def engagement(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes

    def add(self, other: "Totals") -> None:
        self.posts += other.posts
        kinds, more = self.kinds, other.kinds
        for kind in KINDS:
            kinds[kind] += more[kind]
        self.likes += other.likes
        self.reposts += other.reposts
        self.replies += other.replies
        self.quotes += other.quotes

    def minus(self, other: "Totals") -> "Totals":
        result = Totals(max(0, self.posts - other.posts), {k: max(0, self.kinds[k] - other.kinds[k]) for k in KINDS})
        for name in METRICS:
            setattr(result, name, max(0, getattr(self, name) - getattr(other, name)))
        return result

    def as_dict(self) -> dict:
        return {"posts": self.posts, "kinds": dict(self.kinds), **{m: getattr(self, m) for m in METRICS},
                "engagement": self.engagement}


@dataclass(frozen=True)
class TopPost:
    platform: str
    remote_id: str
    account: str
    created_at: datetime  # aware, UTC
    kind: str
    url: str | None
    text: str
    likes: int
    reposts: int
    replies: int
    quotes: int
    campaign: str | None

    @property
    def engagement(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


@dataclass
class AccountStats:
    platform: str
    account: str
    totals: Totals
    per_period: list[Totals]


@dataclass
class Stats:
    period: str  # "day" | "week" | "month"
    zone: str  # the IANA name of the zone whose calendar made the periods
    periods: list[Period]
    per_period: list[Totals]  # one per period, in order, zero-filled
    totals: Totals
    accounts: list[AccountStats]  # most posts first
    campaigns: list[tuple[str | None, Totals]]  # by campaign id; None: posts the campaign queue did not send
    top_posts: list[TopPost]
    hashtags: list[tuple[str, int]]  # lower-cased, posts with it; most first
    mentions: list[tuple[str, int]]
    links: list[tuple[str, int]]  # expanded where known

    @property
    def posts(self) -> int:
        return self.totals.posts

    def period_rows(self) -> list[dict]:
        return [{"period": p.key, "first_day": p.first_day.isoformat(), "last_day": p.last_day.isoformat(),
                 **totals.as_dict()} for p, totals in zip(self.periods, self.per_period)]

    def as_dict(self, zone: tzinfo | None = None) -> dict:
        """The JSON of `archive stats --format json` (the keys before `timezone` are the original ones)."""
        zone = zone or timezone.utc
        return {
            "posts": self.totals.posts, "period": self.period,
            "per_period": self.period_rows(),
            "kinds": dict(self.totals.kinds),
            "top_hashtags": [{"hashtag": k, "posts": v} for k, v in self.hashtags],
            "top_mentions": [{"mention": k, "posts": v} for k, v in self.mentions],
            "top_links": [{"link": k, "posts": v} for k, v in self.links],
            "campaigns": [{"campaign": c, **totals.as_dict()} for c, totals in self.campaigns],
            "timezone": self.zone,
            "first_day": self.periods[0].first_day.isoformat() if self.periods else None,
            "last_day": self.periods[-1].last_day.isoformat() if self.periods else None,
            **{m: getattr(self.totals, m) for m in METRICS}, "engagement": self.totals.engagement,
            "accounts": [{"account": a.account, "platform": a.platform, **a.totals.as_dict(),
                          "per_period": [{"period": p.key, **totals.as_dict()}
                                         for p, totals in zip(self.periods, a.per_period)]}
                         for a in self.accounts],
            "top_posts": [top_post_dict(post, zone) for post in self.top_posts],
        }


def top_post_dict(post: TopPost, zone: tzinfo) -> dict:
    return {"platform": post.platform, "remote_id": post.remote_id, "account": post.account,
            "created_at": post.created_at.isoformat().replace("+00:00", "Z"),
            "created_local": post.created_at.astimezone(zone).isoformat(), "kind": post.kind, "url": post.url,
            "text": post.text, **{m: getattr(post, m) for m in METRICS}, "engagement": post.engagement,
            "campaign": post.campaign}


# -- computing ---------------------------------------------------------------------------------------


def compute(database, post_filter: PostFilter = PostFilter(), *, period: str = "month", zone: tzinfo = timezone.utc,
            top: int = 10, top_posts: int | None = None, workers: int = 2) -> Stats:
    """The statistics of the posts matching post_filter (its limit and order are ignored), in periods
    of zone's calendar: collect(…).stats(period). Raises DatabaseError."""
    return collect(database, post_filter, zone=zone, top=top, top_posts=top_posts, workers=workers).stats(period)


@dataclass
class _Day:
    """What SQL says of one local day and one account."""

    platform: str
    account: str
    totals: Totals
    best: int | None  # the highest engagement of one of its own posts (not reposts)


@dataclass
class Collected:
    """Everything SQL says of a selection, per local day: fold it into periods with stats(period)."""

    zone: tzinfo
    first: date | None  # the first and last local day of the range (None: nothing to count)
    last: date | None
    days: list[tuple[int, list[_Day]]]  # (day number from `first`, its accounts), days with posts only
    top_posts: list[TopPost] = field(default_factory=list)
    campaigns: list[tuple[str | None, Totals]] = field(default_factory=list)
    hashtags: list[tuple[str, int]] = field(default_factory=list)
    mentions: list[tuple[str, int]] = field(default_factory=list)
    links: list[tuple[str, int]] = field(default_factory=list)

    def stats(self, period: str) -> Stats:
        """The days folded into every period (day, ISO week or month) from the one holding the first
        day to the one holding the last, zero-filled; per account too."""
        if period not in PERIODS:
            raise ValueError(f"period must be one of {PERIODS}")
        periods = periods_between(self.first, self.last, period) if self.first is not None else []
        per_period = [Totals() for _ in periods]
        totals = Totals()
        accounts: dict[tuple[str, str], AccountStats] = {}
        slots = {p.key: number for number, p in enumerate(periods)}
        # Each day into its account's period; the periods' and accounts' totals from those (a day of
        # each account of ten years, one by one into all four, took a tenth of `stats` of everything).
        for day_number, groups in self.days:
            slot = slots[period_of(self.first + timedelta(days=day_number), period).key]
            for group in groups:
                key = (group.platform, group.account)
                if key not in accounts:
                    accounts[key] = AccountStats(group.platform, group.account, Totals(),
                                                 [Totals() for _ in periods])
                accounts[key].per_period[slot].add(group.totals)
        for account in accounts.values():
            for slot, value in enumerate(account.per_period):
                if value.posts:
                    account.totals.add(value)
                    per_period[slot].add(value)
            totals.add(account.totals)
        ordered = sorted(accounts.values(), key=lambda a: (-a.totals.posts, a.account.lower(), a.platform))
        campaigns = list(self.campaigns)
        linked = Totals()
        for _, value in campaigns:
            linked.add(value)
        rest = totals.minus(linked)
        if rest.posts:
            campaigns.append((None, rest))
        return Stats(period=period, zone=getattr(self.zone, "key", None) or str(self.zone), periods=periods,
                     per_period=per_period, totals=totals, accounts=ordered, campaigns=campaigns,
                     top_posts=list(self.top_posts), hashtags=list(self.hashtags), mentions=list(self.mentions),
                     links=list(self.links))


def collect(database, post_filter: PostFilter = PostFilter(), *, zone: tzinfo = timezone.utc, top: int = 10,
            top_posts: int | None = None, workers: int = 2) -> Collected:
    """Query the statistics of the posts matching post_filter per local day of zone, from the day of
    --from (or of the first post) to the day of --until (or of the last post).

    With workers > 1 the independent statements run side by side, each in a read transaction of
    its own (a second core nearly halves the time of a large archive); an import committing
    meanwhile can then show in one section and not yet in another. Raises DatabaseError."""
    post_filter = replace(post_filter, limit=None, newest_first=False)
    query = _Query(database, post_filter)
    top_count, top_posts = top, top if top_posts is None else top_posts
    with database.transaction() as connection:
        query.choose(connection)
        first, last = query.day_range(connection, zone)
        if first is not None and query.filter.since and query.filter.until and not query.any(connection):
            # --from and --until name the days, zero-filled: nothing more to ask (one read of an index)
            return Collected(zone, first, last, [])
    if first is None:
        return Collected(zone, None, None, [])
    starts = day_starts(first, (last - first).days + 1, zone)
    days_count = len(starts) - 1
    # SQLite reads the days on one core per statement: two halves side by side. PostgreSQL
    # parallelises one statement itself (and would scan the table once per part).
    parts = 2 if workers > 1 and days_count >= 2 * 366 and query.parallel and not query.postgres else 1
    if workers <= 1 or not query.parallel:
        with query.reading(database) as connection:
            days = query.per_day(connection, starts, 0, days_count)
            found = Collected(zone, first, last, days)
            selected = _selected(days)
            if selected:
                found.top_posts = query.top_posts(connection, starts, days, top_posts)
                found.campaigns = query.campaigns(connection)
                deleted = query.deleted(connection, selected)
                found.hashtags, found.mentions, found.links = [query.entity(connection, kind, top_count, deleted)
                                                               for kind in ENTITIES]
        return found
    from concurrent.futures import ThreadPoolExecutor

    def run(method, *args):
        with query.reading(database) as connection:
            return method(connection, *args)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        cut = [round(days_count * n / parts) for n in range(parts + 1)]
        day_parts = [pool.submit(run, query.per_day, starts, cut[n], cut[n + 1]) for n in range(parts)]
        # What does not need the days' results starts at once (the whole archive's entities wait:
        # whether any posts are deleted follows from how many the days hold).
        campaigns = pool.submit(run, query.campaigns)
        entities = [] if query.whole else [pool.submit(run, query.entity, kind, top_count, [])
                                           for kind in ENTITIES]
        days = [day for part in day_parts for day in part.result()]
        found = Collected(zone, first, last, days)
        selected = _selected(days)
        if not selected:
            for future in (campaigns, *entities):
                future.cancel()
            return found
        top = pool.submit(run, query.top_posts, starts, days, top_posts)
        if query.whole:
            deleted = run(query.deleted, selected)
            entities = [pool.submit(run, query.entity, kind, top_count, deleted) for kind in ENTITIES]
        found.top_posts, found.campaigns = top.result(), campaigns.result()
        found.hashtags, found.mentions, found.links = (future.result() for future in entities)
    return found


def _selected(days) -> int:
    """How many posts the days hold."""
    return sum(group.totals.posts for _, groups in days for group in groups)


def _int(value) -> int:
    """A count or sum from the database as an int (SQLite's total() gives floats; hostile metrics can
    make them absurd, never an error)."""
    if type(value) is int:
        return value
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, str):  # a metric that is text in the JSON (SQLite hands it over as it is)
        return int(value) if value.isascii() and value.isdigit() else 0
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    return int(value)


class _Query:
    """The statements of one collect(): the filter's FROM and WHERE, per dialect. Each method takes
    the connection (and so the transaction) to run in."""

    def __init__(self, database, post_filter: PostFilter):
        from sqlalchemy import and_
        from sqlalchemy.sql import visitors

        from . import tables as t
        from .store import _sent, _where

        self.filter = post_filter
        self.postgres = database.url.get_backend_name() == "postgresql"
        # Side by side needs connections that share the data (not SQLite's :memory:).
        self.parallel = self.postgres or (database.url.database or ":memory:") != ":memory:"
        self.posts = t.posts
        self.sent = _sent()
        self.where = _where(post_filter, self.sent)
        # The same without --from and --until (top_posts() reads days within them)
        self.where_unbounded = _where(replace(post_filter, since=None, until=None), self.sent)
        # The whole archive (perhaps but for its deleted posts): entities are then counted from their own tables.
        self.whole = replace(post_filter, include_deleted=False) == PostFilter()
        self.linked = and_(self.sent.c.remote_id == self.posts.c.remote_id,
                           self.sent.c.platform == self.posts.c.platform)
        # The campaign link is an outer join; it costs a lookup per post, so only when the filter needs it.
        self.uses_sent = any(getattr(e, "table", None) is self.sent for e in visitors.iterate(self.where))
        # --campaign keeps only posts the queue sent: an inner join then selects the same posts, and
        # lets the database start from the queue's few sent parts instead of every post.
        self.source = (self.posts.join(self.sent, self.linked) if post_filter.campaign else
                       self.posts.outerjoin(self.sent, self.linked) if self.uses_sent else self.posts)
        self.tag_lookup = bool(post_filter.hashtag)  # see choose()

    def choose(self, connection) -> None:
        """How to select a --hashtag's posts. By default they are looked up by the tag's index, read
        once and given their day (per_day). On SQLite such a lookup costs about eight times
        reading a post in time order (measured on 1,000,000 posts): for a tag on an eighth of the
        posts or more, each post read by time is checked for it instead."""
        from sqlalchemy import func, literal_column, select

        from . import search
        from . import tables as t
        from .store import _where

        if self.postgres or not self.filter.hashtag:
            return
        query = search.hashtag_query(self.filter.hashtag)
        enough = max(64, self._posts(connection) // 8)
        found = (select(literal_column("1")).select_from(t.hashtags).where(t.hashtags.c.tag == query.groups[0][0].value)
                 .limit(enough).subquery())
        if connection.execute(select(func.count()).select_from(found)).scalar() >= enough:
            self.tag_lookup = False
            per_post = search.condition(query, per_post=True)
            self.where = _where(self.filter, self.sent, hashtag=per_post)
            self.where_unbounded = _where(replace(self.filter, since=None, until=None), self.sent, hashtag=per_post)

    @contextmanager
    def reading(self, database):
        """A read transaction; on a SQLite file with the file memory-mapped while it lasts (reading a
        million rows a fifth faster than through the page cache's reads)."""
        with database.transaction() as connection:
            mapped = not self.postgres and self.parallel
            if mapped:
                connection.exec_driver_sql(f"PRAGMA mmap_size = {MMAP_SIZE}")
            try:
                yield connection
            finally:
                if mapped:
                    connection.exec_driver_sql("PRAGMA mmap_size = 0")

    # -- per-post values

    def metrics(self, source):
        """(source, [likes, reposts, replies, quotes]): each post's metric columns (a number, NULL when
        absent or not a whole number: archive.store.rows.metric_count), NULL for reposts (whose
        metrics are the reposted post's). Columns rather than the metrics JSON: parsing it took a
        quarter of the time of the stats of everything."""
        from sqlalchemy import case

        from .tables import METRIC_COLUMNS

        c = self.posts.c
        own = c.kind != "repost"
        return source, [case((own, c[METRIC_COLUMNS[name]])) for name in METRICS]

    @staticmethod
    def engagement(values):
        from sqlalchemy import func

        total = func.coalesce(values[0], 0)
        for value in values[1:]:
            total = total + func.coalesce(value, 0)
        return total

    # -- the range

    def day_range(self, connection, zone: tzinfo) -> tuple[date | None, date | None]:
        """The first and last local day to count: those of --from/--until where given, else of the
        first/last post (two reads of the created_at index; one pass over a hashtag's posts)."""
        from sqlalchemy import func, select

        since, until = self.filter.since, self.filter.until
        first = since.astimezone(zone).date() if since else None
        last = (until - timedelta(microseconds=1)).astimezone(zone).date() if until else None
        created = self.posts.c.created_at
        if self.tag_lookup and first is None and last is None:
            row = connection.execute(select(func.min(created), func.max(created)).select_from(self.source)
                                     .where(self.where)).one()
            if row[0] is None:
                return None, None
            return row[0].astimezone(zone).date(), row[1].astimezone(zone).date()
        for order, known in ((created, first), (created.desc(), last)):
            if known is None:
                moment = connection.execute(select(created).select_from(self.source).where(self.where)
                                            .order_by(order).limit(1)).scalar()
                if moment is None:
                    return None, None
                if order is created:
                    first = moment.astimezone(zone).date()
                else:
                    last = moment.astimezone(zone).date()
        if last < first:
            return None, None
        return first, last

    def any(self, connection) -> bool:
        """Whether the filter selects a post."""
        from sqlalchemy import literal, select

        return connection.execute(select(literal(1)).select_from(self.source).where(self.where).limit(1)).first() \
            is not None

    # -- per day

    def per_day(self, connection, starts: list[datetime], begin: int, end: int) -> list[tuple[int, list[_Day]]]:
        """[(day number, [_Day per account])] for days begin … end-1 (of starts) that have posts."""
        if self.postgres:
            return self._per_day_grouped(connection, starts, begin, end)
        # Per day, SQLite would run the filter's own subqueries again for every day: the campaign's
        # sent parts (indexed anew each time), a full-text search or a hashtag's posts. Such
        # filters select few posts, which are read once (by the tag's index) and given their day.
        once = self.uses_sent or bool(self.filter.search) or self.tag_lookup
        accounts = None if once else self._accounts(connection)
        if accounts and self._posts(connection) < PER_ACCOUNT_DAY * len(accounts) * (end - begin):
            accounts = None  # few posts a day: the read per day and account would cost more than the sort
        out = []
        for offset in range(begin, end, CHUNK):
            stop = min(end, offset + CHUNK)
            found = self._per_day_per_account(connection, starts, offset, stop, accounts) if accounts else None
            if found is None:
                accounts = None  # a handle of several accounts: grouped for the days after these too
                part = self._per_day_looked_up if once else self._per_day_correlated
                found = part(connection, starts, offset, stop)
            out.extend(found)
        return out

    def _posts(self, connection) -> int:
        """About how many posts the archive holds (its largest rowid: one step to the end of the table)."""
        from sqlalchemy import func, select

        from . import tables as t

        return connection.execute(select(func.max(t.POST_ROWID)).select_from(self.posts)).scalar() or 0

    def _accounts(self, connection) -> list[tuple[str, str, str]] | None:
        """SQLite: [(lower-case handle, platform, account)] of the few accounts to count, one of each
        handle as stored, that _per_day_per_account reads one by one (the filter's, or the archive's
        handles found by stepping through the account index: an index seek each). None when there
        are more than ACCOUNTS_APART (then one GROUP BY per day costs less)."""
        from sqlalchemy import func, select

        c = self.posts.c
        lowered = func.lower(c.account)
        if self.filter.accounts:
            handles = list(dict.fromkeys(a.lstrip("@").lower() for a in self.filter.accounts))
        else:
            found = select(func.min(lowered).label("handle")).cte("handles", recursive=True)
            following = select(lowered).where(lowered > found.c.handle).order_by(lowered).limit(1).scalar_subquery()
            found = found.union_all(select(following).where(found.c.handle.is_not(None)))
            handles = list(connection.execute(select(found.c.handle).where(found.c.handle.is_not(None))
                                              .limit(ACCOUNTS_APART + 1)).scalars())
        if len(handles) > ACCOUNTS_APART:
            return None
        # One of each handle's accounts (platform and spelling): any other is counted apart and
        # sends the days back to the GROUP BY (a handle on two platforms or in two spellings is rare).
        one = select(c.platform, c.account).where(self.where).limit(1)
        accounts = []
        for handle in handles:
            row = connection.execute(one.where(lowered == handle)).first()
            if row is not None:
                accounts.append((handle, row.platform, row.account))
        return accounts

    def _per_day_per_account(self, connection, starts, begin: int, end: int, accounts):
        """SQLite: for each day and account, its posts' counts from a range of the account index,
        which holds every column they read: no sort, which a GROUP BY of each day's posts by
        account costs (on 1,000,000 posts it took more than half the time). None when a handle
        has posts of another account than the one in `accounts` (then the GROUP BY sorts them out)."""
        from sqlalchemy import Text, bindparam, func, or_, select, true

        from .tables import METRIC_COLUMNS

        c = self.posts.c
        days = self._days(connection, starts, begin, end)
        pairs = func.json_each(bindparam("accounts", json.dumps(accounts), type_=Text)).table_valued("key", "value")
        chosen = select(pairs.c.key.label("number"), func.json_extract(pairs.c.value, "$[0]").label("handle"),
                        func.json_extract(pairs.c.value, "$[1]").label("platform"),
                        func.json_extract(pairs.c.value, "$[2]").label("account")
                        ).cte("accounts").prefix_with("MATERIALIZED")  # else each post's check parses the JSON
        # The metric columns as they are, each aggregate filtered to own posts (no CASE per value)
        own = c.kind != "repost"
        values = [c[METRIC_COLUMNS[name]] for name in METRICS]
        # sum(), not total(): integers (of at most 2**31 each, no overflow), which Python takes as they are
        counts = [func.count(), *[func.count().filter(c.kind == kind) for kind in KINDS],
                  *[func.sum(value).filter(own) for value in values],
                  func.max(self.engagement(values)).filter(own),
                  func.count().filter(or_(c.platform != chosen.c.platform, c.account != chosen.c.account))]
        packed = (select(func.json_array(*counts)).select_from(self.source)
                  .where(func.lower(c.account) == chosen.c.handle, c.created_at >= days.c.lo, c.created_at < days.c.hi,
                         self.where)
                  .correlate(days, chosen).scalar_subquery())
        statement = (select(days.c.day, chosen.c.number, packed).select_from(days.join(chosen, true()))
                     .order_by(days.c.day, chosen.c.platform, chosen.c.account))  # as the GROUP BY orders them
        from orjson import loads

        by_day: dict[int, list[_Day]] = {}
        for day, number, found in connection.execute(statement):
            row = loads(found)
            if row[-1]:
                return None
            if row[0]:
                _, platform, account = accounts[number]
                by_day.setdefault(begin + day, []).append(_day([platform, account, *row[:-1]]))
        return list(by_day.items())

    def _days(self, connection, starts, begin: int, end: int):
        """Days begin … end-1 as a CTE (day, lo, hi), lo and hi as the created_at column stores times,
        from one JSON parameter: thousands of separate parameters would cost SQLAlchemy more to
        compile than SQLite to run."""
        from sqlalchemy import Integer, Text, bindparam, cast, func, select

        stored = self.posts.c.created_at.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
        bounds = [stored(start) for start in starts[begin:end + 1]]
        pairs = func.json_each(bindparam("days", json.dumps(list(zip(bounds, bounds[1:]))), type_=Text)
                               ).table_valued("key", "value")
        return select(cast(pairs.c.key, Integer).label("day"), func.json_extract(pairs.c.value, "$[0]").label("lo"),
                      func.json_extract(pairs.c.value, "$[1]").label("hi")).cte("days")

    def _per_day_looked_up(self, connection, starts, begin: int, end: int) -> list[tuple[int, list[_Day]]]:
        """SQLite, for a filter on the campaign or a search: the posts it selects, each given its
        day, grouped once."""
        from sqlalchemy import select

        from sqlalchemy import Integer, literal_column

        stored = self.posts.c.created_at.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
        bounds = [stored(start) for start in starts[begin:end + 1]]
        # The day by binary search over its boundaries (generated times, safe as literals), NULL
        # outside them. No range on created_at: it would tempt SQLite to read every post by that index.
        day = literal_column(_day_search(f"{self.posts.name}.created_at", bounds), Integer)
        source, columns = self._values()
        rows = select(day.label("day"), *columns).select_from(source).where(self.where).limit(-1).subquery("r")
        statement = select(rows.c.day, rows.c.platform, rows.c.account, *self._aggregates(rows)).group_by(
            rows.c.day, rows.c.platform, rows.c.account)
        by_day: dict[int, list[_Day]] = {}
        for row in connection.execute(statement):
            if row[0] is not None:  # a post outside these days
                by_day.setdefault(begin + row[0], []).append(_day(row[1:]))
        return sorted(by_day.items())

    def _aggregates(self, rows):
        """count, count per kind, metric sums, best engagement: over a subquery of per-post values."""
        from sqlalchemy import func

        total = func.sum if self.postgres else func.total
        return [func.count(), *[func.count().filter(rows.c.kind == kind) for kind in KINDS],
                *[total(rows.c[name]) for name in METRICS],
                func.max(self.engagement([rows.c[name] for name in METRICS])).filter(rows.c.kind != "repost")]

    def _values(self):
        """(FROM, the per-post columns the per-day aggregates read)."""
        c = self.posts.c
        source, values = self.metrics(self.source)
        return source, [c.platform, c.account, c.kind, *[v.label(name) for v, name in zip(values, METRICS)]]

    def _per_day_correlated(self, connection, starts, begin: int, end: int) -> list[tuple[int, list[_Day]]]:
        """SQLite: a correlated subquery per day reads that day's range of the created_at (or account)
        index and groups its few rows by account. One GROUP BY over all posts would sort them all,
        which costs SQLite more than reading them."""
        from sqlalchemy import func, select

        c = self.posts.c
        days = self._days(connection, starts, begin, end)
        # LIMIT -1 (none) keeps SQLite from flattening the per-post values into the aggregates, which
        # would work out each metric once per use instead of once per post.
        source, columns = self._values()
        rows = (select(*columns).select_from(source)
                .where(c.created_at >= days.c.lo, c.created_at < days.c.hi, self.where)
                .limit(-1).correlate(days).subquery("r"))
        groups = select(rows.c.platform, rows.c.account, *self._aggregates(rows)).group_by(
            rows.c.platform, rows.c.account).subquery("g")
        packed = select(func.json_group_array(func.json_array(*groups.c))).scalar_subquery()
        out = []
        for day, found in connection.execute(select(days.c.day, packed)):
            groups_found = json.loads(found) if found else []
            if groups_found:
                out.append((begin + day, [_day(row) for row in groups_found]))
        out.sort(key=lambda item: item[0])
        return out

    def _per_day_grouped(self, connection, starts, begin: int, end: int) -> list[tuple[int, list[_Day]]]:
        """PostgreSQL: width_bucket() against the day boundaries, then GROUP BY (in parallel workers)."""
        from sqlalchemy import DateTime, bindparam, func, select
        from sqlalchemy.dialects.postgresql import ARRAY

        c = self.posts.c
        bounds = starts[begin:end + 1]
        boundaries = bindparam("day_starts", [s.replace(tzinfo=None) for s in bounds], type_=ARRAY(DateTime()))
        source, columns = self._values()
        rows = (select(func.width_bucket(c.created_at, boundaries).label("day"), *columns).select_from(source)
                .where(c.created_at >= bounds[0], c.created_at < bounds[-1], self.where).subquery("r"))
        if connection.dialect.server_version_info >= (11,):
            # Compiling this statement (JIT) took PostgreSQL longer than running it.
            connection.exec_driver_sql("SET LOCAL jit = off")
        statement = select(rows.c.day, rows.c.platform, rows.c.account, *self._aggregates(rows)).group_by(
            rows.c.day, rows.c.platform, rows.c.account)
        by_day: dict[int, list[_Day]] = {}
        for row in connection.execute(statement):
            if 1 <= row[0] < len(bounds):
                by_day.setdefault(begin + row[0] - 1, []).append(_day(row[1:]))
        return sorted(by_day.items())

    # -- top posts

    def top_posts(self, connection, starts, days: list[tuple[int, list[_Day]]], limit: int) -> list[TopPost]:
        """The `limit` own posts (not reposts) with the most engagement. Each account's day knows its
        best post; the limit-th best of those is a floor, and only the days whose best reaches it
        are read again (one year of one account on 1,000,000 posts: 21 days, 6 ms instead of 41)."""
        from sqlalchemy import and_, bindparam, or_, select, true, tuple_

        bests = sorted((group.best for _, groups in days for group in groups if group.best is not None),
                       reverse=True)
        if not bests or limit < 1:
            return []
        floor = bests[min(limit, len(bests)) - 1]
        wanted = [number for number, groups in days if any(g.best is not None and g.best >= floor for g in groups)]
        ranges = []
        for number in wanted:
            if ranges and ranges[-1][1] == number:
                ranges[-1][1] = number + 1
            else:
                ranges.append([number, number + 1])
        c = self.posts.c
        # The campaign link is looked up for the few found (the queue's sent parts are gathered
        # anew by every statement that joins them), unless the filter itself needs it.
        source, values = self.metrics(self.source)
        engagement = self.engagement(values)
        columns = [c.platform, c.remote_id, c.account, c.created_at, c.kind, c.url, c.text, *values,
                   engagement.label("engagement")]
        order = (engagement.desc(), c.created_at.desc(), c.remote_id)
        if self.postgres or len(ranges) > 200:
            when = [and_(c.created_at >= starts[a], c.created_at < starts[b]) for a, b in ranges]
            statement = (select(*columns).select_from(source)
                         .where(self.where, c.kind != "repost", engagement >= floor,
                                or_(*when) if len(when) <= 200 else true())
                         .order_by(*order).limit(limit))
            rows = list(connection.execute(statement))
        else:
            # SQLite: one statement per range of days, each reading that range of an index (in one
            # statement it would read every post between --from and --until, or of the account);
            # the days' bounds stand for --from and --until, clipped to them. (Python's order of
            # text is SQLite's, not necessarily PostgreSQL's collation.)
            since, until = self.filter.since, self.filter.until
            bounds = [min(max(start, since or start), until or start) for start in starts]
            low, high = bindparam("low", type_=c.created_at.type), bindparam("high", type_=c.created_at.type)
            statement = (select(*columns).select_from(source)
                         .where(self.where_unbounded, c.created_at >= low, c.created_at < high, c.kind != "repost",
                                engagement >= floor)
                         .order_by(*order).limit(limit))
            rows = [row for a, b in ranges
                    for row in connection.execute(statement, {"low": bounds[a], "high": bounds[b]})]
            # The statement's order over all of them: stable sorts, the last key first.
            rows.sort(key=lambda row: row.remote_id)
            rows.sort(key=lambda row: row.created_at, reverse=True)
            rows.sort(key=lambda row: row.engagement, reverse=True)
        rows = rows[:limit]
        campaigns = {}
        if rows:
            keys = [(row.platform, row.remote_id) for row in rows]
            campaigns = {(row[0], row[1]): row[2] for row in connection.execute(
                select(self.sent.c.platform, self.sent.c.remote_id, self.sent.c.campaign_id)
                .where(tuple_(self.sent.c.platform, self.sent.c.remote_id).in_(keys)))}
        return [TopPost(row.platform, row.remote_id, row.account, row.created_at, row.kind, row.url, row.text,
                        *[_int(value) for value in row[7:11]], campaigns.get((row.platform, row.remote_id)))
                for row in rows]

    # -- campaigns

    def campaigns(self, connection) -> list[tuple[str, Totals]]:
        """Totals per campaign: the posts the campaign queue sent, read from its few sent parts (each
        looked up by its remote id)."""
        from sqlalchemy import func, select

        c = self.posts.c
        total = func.sum if self.postgres else func.total
        source, values = self.metrics(self.posts.join(self.sent, self.linked))
        statement = (select(self.sent.c.campaign_id, func.count(),
                            *[func.count().filter(c.kind == kind) for kind in KINDS],
                            *[total(value) for value in values])
                     .select_from(source).where(self.where)
                     .group_by(self.sent.c.campaign_id))
        found = [(row[0], _totals(row[1:])) for row in connection.execute(statement) if row[0] is not None]
        return sorted(found, key=lambda item: item[0])

    # -- hashtags, mentions, links

    def deleted(self, connection, selected: int) -> list[tuple[str, str]]:
        """For the whole archive less its deleted and its private posts: the (platform, remote_id) of
        those posts, whose entities entity() subtracts. None found when every post was selected (a
        count of the created_at index); the deleted ones alone (their partial index) when they are
        all that is missing; else a read of every post."""
        from sqlalchemy import func, or_, select

        from .records import PUBLIC_VISIBILITIES

        c = self.posts.c
        if not self.whole:
            return []
        total = connection.execute(select(func.count()).select_from(self.posts)).scalar_one()
        if total == selected:
            return []
        if not self.filter.include_deleted:
            # The deleted posts come from their partial index. When they are all that was left out
            # (as many as are missing), no other post needs looking for.
            deleted = [tuple(row) for row in connection.execute(select(c.platform, c.remote_id)
                                                                .where(c.deleted_at.is_not(None)))]
            if len(deleted) == total - selected:
                return deleted
        left_out = [c.visibility.not_in(PUBLIC_VISIBILITIES), c.referenced.is_not(None)]
        if not self.filter.include_deleted:
            left_out.append(c.deleted_at.is_not(None))
        return [tuple(row) for row in connection.execute(select(c.platform, c.remote_id).where(or_(*left_out)))]

    def entity(self, connection, kind: str, top: int, deleted: list[tuple[str, str]]) -> list[tuple[str, int]]:
        """The top hashtags, mentions or links, each counted once per post. For the whole archive they
        are counted in their own table (through its index), less those of the deleted posts: joining
        a million posts to them would cost a lookup per post. A narrower selection is joined."""
        if self.whole:
            return self._entity_whole(connection, kind, top, deleted)
        return self._entity_joined(connection, kind, top)

    def _entity_source(self, kind: str):
        """(table, key expression, condition joining it to posts, whether a post may repeat a key)."""
        from sqlalchemy import and_, func

        from . import tables as t

        # An alias: a --hashtag filter's EXISTS names archive_hashtags itself.
        table = {"hashtags": t.hashtags, "mentions": t.mentions, "links": t.links}[kind].alias("entity")
        key = {"hashtags": lambda: table.c.tag, "mentions": lambda: table.c.handle,
               "links": lambda: func.coalesce(table.c.expanded_url, table.c.url)}[kind]()
        on = and_(table.c.platform == self.posts.c.platform, table.c.remote_id == self.posts.c.remote_id)
        return table, key, on, kind == "links"

    @staticmethod
    def _ranked(pairs, limit: int | None):
        from sqlalchemy import func, select

        count = func.count().label("n")
        statement = select(pairs.c.key, count).group_by(pairs.c.key).order_by(count.desc(), pairs.c.key)
        return statement.limit(limit) if limit is not None else statement

    def _entity_joined(self, connection, kind: str, top: int) -> list[tuple[str, int]]:
        from sqlalchemy import select

        table, key, on, repeats = self._entity_source(kind)
        # `|| ''`: grouped (or made distinct) by the columns as written, SQLite would read the child
        # table in its index's order and look each row's post up, a million lookups for a few
        # selected posts. Now the selected posts come first, each joined to its rows.
        pairs = select(table.c.platform.concat(""), table.c.remote_id.concat(""), key.concat("").label("key")
                       ).select_from(self.source.join(table, on)).where(self.where)
        pairs = (pairs.distinct() if repeats else pairs).subquery("e")
        return [(row[0], row[1]) for row in connection.execute(self._ranked(pairs, top))]

    def _entity_whole(self, connection, kind: str, top: int, deleted: list[tuple]) -> list[tuple[str, int]]:
        from sqlalchemy import select

        table, key, on, repeats = self._entity_source(kind)
        minus: Counter = Counter()
        by_platform: dict[str, list[str]] = {}
        for platform, remote_id in deleted:
            by_platform.setdefault(platform, []).append(remote_id)
        for platform, ids in by_platform.items():  # platform = ? AND remote_id IN (…): the primary key's index
            for offset in range(0, len(ids), 500):
                pairs = select(table.c.platform, table.c.remote_id, key.label("key")).where(
                    table.c.platform == platform, table.c.remote_id.in_(ids[offset:offset + 500]))
                pairs = (pairs.distinct() if repeats else pairs).subquery("e")
                minus.update({row[0]: row[1] for row in connection.execute(self._ranked(pairs, None))})
        if repeats and not self.postgres:
            # A post that holds a link target more than once counts once. SQLite: its later links to
            # that target (few) are subtracted too, so that the whole table is counted in the
            # index's order without DISTINCT, which sorted every link (1,000,000 posts: 40 ms
            # instead of 180-300).
            from sqlalchemy import and_, exists, func

            from . import tables as t

            earlier = t.links.alias("earlier")
            again = select(key).where(table.c.position > 0, exists().where(and_(
                earlier.c.platform == table.c.platform, earlier.c.remote_id == table.c.remote_id,
                earlier.c.position < table.c.position, func.coalesce(earlier.c.expanded_url, earlier.c.url) == key)))
            minus.update(value for (value,) in connection.execute(again))
            repeats = False
        # A key that no deleted post has keeps its count, so the top of what is left lies within the
        # first top + len(minus) keys of the whole table.
        pairs = select(table.c.platform, table.c.remote_id, key.label("key"))
        pairs = (pairs.distinct() if repeats else pairs).subquery("e")
        counts = [(value, number - minus.get(value, 0))
                  for value, number in connection.execute(self._ranked(pairs, top + len(minus)))]
        return sorted((item for item in counts if item[1] > 0), key=lambda item: (-item[1], item[0]))[:top]


ENTITIES = ("hashtags", "mentions", "links")


def _day_search(column: str, bounds: list[str]) -> str:
    """SQL for the number of the day (of bounds[i] <= column < bounds[i + 1]) that holds column, by
    binary search: about log2(days) comparisons a post. NULL outside the days."""
    def node(low: int, high: int) -> str:
        if high - low == 1:
            return str(low)
        middle = (low + high) // 2
        return f"CASE WHEN {column} < '{bounds[middle]}' THEN {node(low, middle)} ELSE {node(middle, high)} END"

    assert all(set(bound) <= set("0123456789-:. ") for bound in bounds)
    return f"CASE WHEN {column} >= '{bounds[0]}' AND {column} < '{bounds[-1]}' THEN {node(0, len(bounds) - 1)} END"


_TOTALS = 1 + len(KINDS) + len(METRICS)


def _totals(row) -> Totals:
    """Totals from (count, count per kind…, metric sums…). (Made for every day and account: ints,
    as SQL mostly gives them, pass through as they are.)"""
    values = [value if type(value) is int else _int(value) for value in row[:_TOTALS]]
    return Totals(values[0], dict(zip(KINDS, values[1:1 + len(KINDS)])), *values[1 + len(KINDS):])


def _day(row) -> _Day:
    """A _Day from (platform, account, count, count per kind…, metric sums…, best)."""
    best = row[3 + len(KINDS) + len(METRICS)]
    return _Day(row[0], row[1], _totals(row[2:]), None if best is None else _int(best))
