"""archive stats / report on a generated archive of N posts (default 1,000,000): seconds and page size.

The archive is generated straight into the store's write path (archive.store.upsert_posts, in
transactions of 50,000 posts; no import file): four accounts on three platforms, ten years of
posts (2012-2021: DST changes, year ends, the ISO years 2015 and 2020 with a week 53), every kind,
hashtags, mentions and links from skewed vocabularies, metrics, a source JSON of about 1.5 kB per
post (as an X archive's), one post in a thousand deleted, and a few thousand posts the campaign
queue sent (three campaigns). Each account's posts are stored together, newest first, as importing
one account's archive after another does. Timed, as subprocesses of the venv's `archive`:
    archive stats --by week --format json                                  (everything)
    archive stats --by week --format json --account teamsaantstuur --from 2016-01-01 --until 2016-12-31
    archive stats --by month --format csv                                  (everything)
    archive report --html FILE                                              (everything; page size too)
    archive stats --from 2030-01-01 --until 2030-01-01   (nothing selected: start, imports, migration check)
and archive.stats.collect() inside this process (the SQL's share, without the command's floor).
Goals (1,000,000 posts): stats --by week over everything <= 2 s; one account, one year <= 200 ms;
report <= 5 s and <= 2 MB. --stats-postgres runs the same on PostgreSQL (CAMPAIGN_BENCH_POSTGRES).
--stats-keep DIR keeps (and reuses) the generated SQLite archive there (an archive kept by an
earlier version lacks what later migrations made: generate it again). --stats-without-indexes also
times the stats without the indexes migration a0004 made for them (STATS_INDEXES dropped and the
account index narrowed, then made again), to show what they bring.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import BenchmarkError, Case, Goal, clean_env, entry_point, measure, postgres_database

DEFAULT_POSTS = 1_000_000
START = datetime(2012, 1, 1, tzinfo=timezone.utc)
END = datetime(2022, 1, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
# (handle, platform, share of the posts in per mille)
ACCOUNTS = (("teamsaantstuur", "x", 600), ("gemeenteutrecht", "x", 250), ("team@social.example", "mastodon", 100),
            ("tas.bsky.social", "bluesky", 50))
KINDS = ("post",) * 11 + ("reply",) * 5 + ("repost",) * 3 + ("quote",)
WORDS = ("teams", "aan", "het", "stuur", "praat", "mee", "over", "zelfstandige", "gemeente", "Utrecht", "discussie",
         "public", "paper", "HR", "strategie", "waarde", "vertrouwen", "café", "<3", "🎉", "stadskantoor", "&")
TAGS = tuple(f"tag{n}" for n in range(300)) + ("zelfstandigeteams", "Verander2015", "stadskantoor030")
PEOPLE = tuple(f"persoon{n}" for n in range(200)) + ("GemeenteUtrecht", "deboerleo", "moniquedenb")
CAMPAIGNS = ("tas", "praatmee", "zomer")
SENT = 3000  # posts the campaign queue sent, spread over the years
DELETED = 1000  # one post in a thousand was deleted on the platform (as an X archive's deleted-tweets.js)
STATS_ACCOUNT, STATS_YEAR = "teamsaantstuur", 2016


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("archive_stats")
    group.add_argument("--stats-posts", type=int, default=DEFAULT_POSTS, metavar="N",
                       help=f"posts in the generated archive [default: {DEFAULT_POSTS:,}]")
    group.add_argument("--stats-postgres", action="store_true",
                       help="also on PostgreSQL (a database of its own on CAMPAIGN_BENCH_POSTGRES's server)")
    group.add_argument("--stats-keep", type=Path, metavar="DIR",
                       help="keep the generated SQLite archive in DIR and reuse it when it is there")
    group.add_argument("--stats-without-indexes", action="store_true",
                       help="also time stats without the indexes made for them (STATS_INDEXES; made again afterwards)")


def _skewed(n: int, size: int) -> int:
    """A deterministic index into a vocabulary of `size`, small indexes much more often (roughly Zipf)."""
    r = ((n * 2654435761) % 4294967296) / 4294967296
    return min(size - 1, int(size * r ** 4))


def _raw(n: int, remote_id: str, text: str, moment: datetime, metrics: dict) -> dict:
    """A source JSON of about 1.5 kB, as an X archive's tweet carries (the store keeps it beside the row)."""
    return {"edit_info": {"initial": {"editTweetIds": [remote_id], "editableUntil": moment.isoformat(),
                                      "editsRemaining": "5", "isEditEligible": False}},
            "retweeted": False, "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
            "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            "display_text_range": ["0", str(len(text))], "favorite_count": str(metrics["likes"]), "id_str": remote_id,
            "truncated": False, "retweet_count": str(metrics["reposts"]), "id": remote_id,
            "created_at": moment.strftime("%a %b %d %H:%M:%S +0000 %Y"), "favorited": False, "full_text": text,
            "lang": "nl", "possibly_sensitive": False, "extended_entities": {"media": [
                {"expanded_url": f"https://x.com/teamsaantstuur/status/{remote_id}/photo/1", "indices": ["0", "23"],
                 "url": f"https://t.co/{n:010x}", "media_url": f"http://pbs.twimg.com/media/{n:015x}.jpg",
                 "id_str": str(n), "sizes": {"thumb": {"w": "150", "h": "150", "resize": "crop"},
                                             "large": {"w": "1024", "h": "768", "resize": "fit"}},
                 "type": "photo", "display_url": "pic.x.com/abcdefghij"}]} if n % 9 == 0 else {}}


def post(n: int, count: int):
    """Post n of an archive of `count` (an ArchivedPost): who, when, what kind, entities, metrics."""
    from archive.records import ArchivedPost, Link

    span = (END - START).total_seconds()
    moment = START + timedelta(seconds=int(span * n / count) + (n * 7919) % 240)
    handle, platform = _account(n)
    kind = KINDS[(n * 13) % len(KINDS)]
    tags = tuple(dict.fromkeys(TAGS[_skewed(n + k, len(TAGS))] for k in range(n % 3)))
    people = (PEOPLE[_skewed(n * 3, len(PEOPLE))],) if n % 4 == 0 or kind == "reply" else ()
    links = ((Link(f"https://t.co/{n:010x}", f"https://publicpapersutrecht.nl/p/{_skewed(n * 5, 2000)}",
                   f"publicpapersutrecht.nl/p/{_skewed(n * 5, 2000)}"),) if n % 5 < 2 else ())
    words = " ".join(WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(8 + n % 12))
    text = " ".join(["@" + p for p in people] + [words] + ["#" + t for t in tags] + [link.url for link in links])
    if kind == "repost":
        text = "RT @GemeenteUtrecht: " + text
    popular = _skewed(n * 11, 1000)
    metrics = {"likes": popular % 97 + n % 5, "reposts": popular % 13, "replies": n % 4}
    if platform != "mastodon":
        metrics["quotes"] = popular % 3
    remote_id = (str(400_000_000_000_000_000 + n * 1000) if platform == "x" else
                 str(100_000_000 + n) if platform == "mastodon" else f"at://did:plc:bench/app.bsky.feed.post/{n}")
    return ArchivedPost(
        platform=platform, remote_id=remote_id, account=handle, created_at=moment, text=text, kind=kind,
        url=f"https://example.org/{handle}/{n}", language="nl",
        reply_to_id=str(n - 1) if kind == "reply" else None,
        reply_to_account=people[0] if kind == "reply" and people else None,
        metrics=metrics, hashtags=tags, mentions=people, links=links,
        deleted_at=moment + timedelta(days=30) if n % DELETED == 7 else None,
        raw=_raw(n, remote_id, text, moment, metrics))


def _account(n: int) -> tuple[str, str]:
    slot = (n * 37) % 1000
    for handle, platform, share in ACCOUNTS:
        if slot < share:
            return handle, platform
        slot -= share
    return ACCOUNTS[-1][:2]


def posts(count: int):
    """The archive's posts as importing each account's X-style archive (newest first) one after
    the other would store them: rows of an account together, not in global time order."""
    for handle, _, _ in ACCOUNTS:
        for n in range(count - 1, -1, -1):
            if _account(n)[0] == handle:
                yield post(n, count)


def build(url: str, count: int, *, say=lambda message: None) -> None:
    """Generate the archive of `count` posts into the (new) database at url, and link SENT of
    them to the campaign queue (accounts, campaigns, scheduled_posts, sent_parts)."""
    from itertools import islice

    from sqlalchemy import insert

    from archive.store import open_archive, upsert_posts
    from campaign.queue import tables as q

    database = open_archive(url)
    try:
        stream = posts(count)
        done, chunk = 0, 50_000
        while done < count:
            upsert_posts(database, islice(stream, chunk), source="bench", now=NOW)
            done = min(count, done + chunk)
            say(f"{done:,} posts")
        sent = [p for p in (post(n, count) for n in range(0, count, max(1, count // (SENT * 2))))
                if p.account == STATS_ACCOUNT and p.kind in ("post", "reply")][:SENT]
        with database.transaction(write=True) as connection:
            connection.execute(insert(q.accounts).values(name="tas_x", platform="x", handle="@teamsaantstuur",
                                                         updated_at=NOW))
            connection.execute(insert(q.campaigns), [dict(id=c, name=f"Campagne {c}", timezone="Europe/Amsterdam",
                                                          updated_at=NOW) for c in CAMPAIGNS])
            connection.execute(insert(q.scheduled_posts), [dict(
                id=number + 1, key=f"{CAMPAIGNS[number % 3]}/p{number}/tas_x", source="file",
                campaign_id=CAMPAIGNS[number % 3], post_id=f"p{number}", account="tas_x", due_at=post.created_at,
                local_time=post.created_at.isoformat(), timezone="Europe/Amsterdam", late_seconds=3600, variant=0,
                payload={}, content_hash="0" * 64, state="sent", attempts=1, remote_id=post.remote_id,
                sent_at=post.created_at, created_at=post.created_at, updated_at=post.created_at)
                for number, post in enumerate(sent)])
            connection.execute(insert(q.sent_parts), [dict(
                post_id=number + 1, part_index=0, account="tas_x", remote_id=post.remote_id, sent_at=post.created_at)
                for number, post in enumerate(sent)])
            if connection.dialect.name == "postgresql":  # as autovacuum would soon (SQLite: as imported)
                connection.exec_driver_sql("ANALYZE")
        say(f"{len(sent):,} posts linked to the campaign queue")
    finally:
        database.engine.dispose()


# The indexes migration a0004 makes for the stats (archive.tables): on SQLite one holding every column
# the per-day counts read, the account index widened to hold them too, one over the links' targets;
# on both a partial one of the deleted posts.
STATS_INDEXES = ("ix_archive_posts_stats", "ix_archive_links_target", "ix_archive_posts_deleted_at")
ACCOUNT_INDEX = "ix_archive_posts_lower_account_created_at"
# What the stats had before a0004 (the account index as a0002 made it), and PostgreSQL's partial
# index, which archive.tables makes by DDL rather than as an Index.
NARROW_ACCOUNT_INDEX = f"CREATE INDEX {ACCOUNT_INDEX} ON archive_posts (lower(account), created_at)"
POSTGRES_DELETED_INDEX = ("CREATE INDEX IF NOT EXISTS ix_archive_posts_deleted_at ON archive_posts (deleted_at) "
                          "WHERE deleted_at IS NOT NULL")


def _say(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def _indexes(url: str, action: str) -> None:
    """Drop ("drop") or make again ("create") the STATS_INDEXES a database of url's kind has (SQLite:
    the account index narrowed to what a0002 made, or widened again)."""
    from sqlalchemy import create_engine
    from sqlalchemy.schema import CreateIndex

    from archive import tables

    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.begin() as connection:
            if action == "drop":
                for name in STATS_INDEXES + ((ACCOUNT_INDEX,) if sqlite else ()):
                    connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
                if sqlite:
                    connection.exec_driver_sql(NARROW_ACCOUNT_INDEX)
            else:
                if sqlite:
                    connection.exec_driver_sql(f"DROP INDEX IF EXISTS {ACCOUNT_INDEX}")
                else:
                    connection.exec_driver_sql(POSTGRES_DELETED_INDEX)
                for table in tables.metadata.tables.values():
                    for index in table.indexes:
                        wanted = index._ddl_if is None or index._ddl_if.dialect == engine.dialect.name
                        if index.name in STATS_INDEXES + ((ACCOUNT_INDEX,) if sqlite else ()) and wanted:
                            connection.exec_driver_sql(str(CreateIndex(index, if_not_exists=True).compile(engine)))
            connection.exec_driver_sql("ANALYZE" if engine.dialect.name == "postgresql" else "SELECT 1")
    finally:
        engine.dispose()


def _in_process(url: str, repeat: int) -> dict[str, dict]:
    """archive.stats.collect timed inside this process (no interpreter start, imports or migration
    check): the SQL's share of the command's time. Median wall and CPU of `repeat` runs."""
    import statistics
    import time as clock
    from zoneinfo import ZoneInfo

    from archive.records import PostFilter
    from archive.stats import collect
    from archive.store import open_archive

    zone = ZoneInfo("Europe/Amsterdam")
    year = (datetime(STATS_YEAR, 1, 1, tzinfo=zone).astimezone(timezone.utc),
            datetime(STATS_YEAR + 1, 1, 1, tzinfo=zone).astimezone(timezone.utc))
    filters = {"collect(): everything": PostFilter(),
               "collect(): one account, one year": PostFilter(accounts=(STATS_ACCOUNT,), since=year[0],
                                                             until=year[1])}
    database = open_archive(url)
    out = {}
    try:
        for label, post_filter in filters.items():
            walls, cpus = [], []
            for _ in range(repeat + 1):
                start, cpu = clock.perf_counter(), clock.process_time()
                collect(database, post_filter, zone=zone).stats("week")
                walls.append(clock.perf_counter() - start)
                cpus.append(clock.process_time() - cpu)
            walls, cpus = walls[1:], cpus[1:]  # the first warms the caches
            out[label] = {"median": statistics.median(walls), "min": min(walls), "cpu_median": statistics.median(cpus),
                          "runs": [round(w, 4) for w in walls], "cpu_runs": [round(c, 4) for c in cpus]}
    finally:
        database.engine.dispose()
    return out


def _cases(url: str, folder: Path, suffix: str, env: dict) -> list[Case]:
    archive = entry_point("archive")
    db = ["--db", url]
    one_year = ["--account", STATS_ACCOUNT, "--from", f"{STATS_YEAR}-01-01", "--until", f"{STATS_YEAR}-12-31"]
    return [
        Case(f"stats --by week, everything{suffix}", [archive, "stats", "--by", "week", "--format", "json", *db],
             folder, env),
        Case(f"stats --by week, one account, one year{suffix}",
             [archive, "stats", "--by", "week", "--format", "json", *one_year, *db], folder, env),
        Case(f"stats --by month --format csv, everything{suffix}",
             [archive, "stats", "--by", "month", "--format", "csv", *db], folder, env),
        Case(f"report --html, everything{suffix}",
             [archive, "report", "--html", str(folder / "report.html"), "--now", "2026-01-01", *db], folder, env),
        Case(f"stats, nothing selected (the command's floor){suffix}",
             [archive, "stats", "--from", "2030-01-01", "--until", "2030-01-01", *db], folder, env),
    ]


def _measure_backend(url: str, folder: Path, args, backend: str, env: dict) -> tuple[dict, dict, list]:
    repeat, warmup = getattr(args, "repeat", 5), getattr(args, "warmup", 1)
    timings = {label: timing.as_dict() for label, timing in
               measure(_cases(url, folder, f" ({backend})", env), repeat=repeat, warmup=warmup,
                       progress=_say).items()}
    timings.update({f"{label} ({backend})": value for label, value in _in_process(url, repeat).items()})
    size = (folder / "report.html").stat().st_size
    info = {f"report size ({backend})": f"{size / 1e6:.2f} MB"}
    goals = []
    if getattr(args, "stats_posts", DEFAULT_POSTS) >= DEFAULT_POSTS:
        goals = [Goal(f"stats --by week, everything ({backend})",
                      timings[f"stats --by week, everything ({backend})"]["median"], 2.0, " s"),
                 Goal(f"stats --by week, one account, one year ({backend})",
                      timings[f"stats --by week, one account, one year ({backend})"]["median"], 0.2, " s",
                      note="the whole command; its floor (start, imports, migration check) is listed above"),
                 Goal(f"report --html, everything ({backend})",
                      timings[f"report --html, everything ({backend})"]["median"], 5.0, " s"),
                 Goal(f"report size ({backend})", size / 1e6, 2.0, " MB")]
    if getattr(args, "stats_without_indexes", False):
        _say(f"dropping the stats' indexes ({backend})")
        _indexes(url, "drop")
        try:
            more = measure(_cases(url, folder, f" ({backend}, without the stats' indexes)", env)[:2], repeat=repeat,
                           warmup=warmup, progress=_say)
            timings.update({label: timing.as_dict() for label, timing in more.items()})
            timings.update({f"{label} ({backend}, without the stats' indexes)": value
                            for label, value in _in_process(url, repeat).items()})
        finally:
            _say(f"making the stats' indexes again ({backend})")
            _indexes(url, "create")
    return timings, info, goals


def run(args: argparse.Namespace) -> dict:
    count = getattr(args, "stats_posts", DEFAULT_POSTS)
    if count < 1:
        raise BenchmarkError("--stats-posts must be at least 1")
    entry_point("archive")
    keep = getattr(args, "stats_keep", None)
    folder = Path(tempfile.mkdtemp(prefix="praatmee-stats-bench-"))
    # Timed as installed: with bytecode (pip compiles it; PYTHONDONTWRITEBYTECODE, set in some
    # sandboxes, would make every run compile our modules from source, about a tenth of a
    # command's start, while sqlalchemy's are compiled). The warm-up run writes it to this
    # temporary folder, never into the working tree.
    env = clean_env(PYTHONPYCACHEPREFIX=str(folder / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    info = {"posts": f"{count:,} (4 accounts, 2012-2021, {SENT:,} sent by 3 campaigns)"}
    timings, goals = {}, []
    try:
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
            database = keep / f"stats-{count}.db"
        else:
            database = folder / "archive.db"
        url = f"sqlite:///{database}"
        if not database.exists():
            _say(f"generating an archive of {count:,} posts (SQLite)")
            started = time.perf_counter()
            try:
                build(url, count, say=_say)
            except BaseException:
                database.unlink(missing_ok=True)  # never keep half an archive
                raise
            info["generated in (SQLite)"] = f"{time.perf_counter() - started:.0f} s"
        info["database size (SQLite)"] = f"{database.stat().st_size / 1e6:.0f} MB"
        more_timings, more_info, more_goals = _measure_backend(url, folder, args, "SQLite", env)
        timings.update(more_timings)
        info.update(more_info)
        goals += more_goals
        if getattr(args, "stats_postgres", False):
            url = postgres_database("praatmee_bench_stats", "create")
            try:
                _say(f"generating an archive of {count:,} posts (PostgreSQL)")
                started = time.perf_counter()
                build(url, count, say=_say)
                info["generated in (PostgreSQL)"] = f"{time.perf_counter() - started:.0f} s"
                more_timings, more_info, more_goals = _measure_backend(url, folder, args, "PostgreSQL", env)
                timings.update(more_timings)
                info.update(more_info)
                goals += more_goals
            finally:
                postgres_database("praatmee_bench_stats", "drop")
        try:
            info["load average (1, 5, 15 min)"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        except OSError:
            pass
        return {"title": f"archive stats / report on a generated archive of {count:,} posts", "info": info,
                "timings": timings, "goals": [goal.as_dict() for goal in goals]}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
