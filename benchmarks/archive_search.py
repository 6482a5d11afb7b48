"""archive search: the first page (50) of a word and of a hashtag search over a 1,000,000-post archive.

The archive is generated straight into the store (archive.store.prepare and upsert_prepared, the
path `archive import` takes, search index included; the records are made in a second process while
this one writes, as an import does), on SQLite and with --search-postgres also on a PostgreSQL
database of the benchmark's own. The posts read like a real timeline: a Zipf-distributed
vocabulary of about 20,000 words (Dutch words with diacritics among the common ones, English for a
fifth of the posts, which are tagged `en`), 0-3 hashtags from 2,000 and 0-2 mentions from 1,000
(also Zipf), links, replies and reposts, over twelve years. On PostgreSQL the build ends with
VACUUM ANALYZE, as autovacuum soon would: without statistics of the hashtags the planner misjudges
them. `--search-posts N` builds fewer posts; `--search-db FILE` keeps the SQLite archive and reuses it.

Timed in this process through archive.store.query_posts with a limit of 50 (what `archive show
--search … --limit 50` runs), each search `--repeat` times after an untimed first run (its time is
reported too):
    a word in about 1% of the posts (ranked: bm25 / ts_rank over all its matches)
    a hashtag in about 1% of the posts (newest first)
    for the spread, without goals: words in about 0.1% and 10% of the posts, hashtags in about
    0.1%, 0.02% and 10%, a phrase, a diacritics-folded word ("discussieren" finds "discussiëren"),
    a word with an exclusion
Goals: the 1% word and the 1% hashtag ≤ 50 ms median each. The build time and the database size are
reported too.
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

from . import BenchmarkError, Goal, postgres_database

DEFAULT_POSTS = 1_000_000
PAGE = 50
GOAL_MS = 50.0
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
T0 = datetime(2014, 1, 1, 8, 0, tzinfo=timezone.utc)
SPAN = (NOW - T0).total_seconds()

# Common Dutch words first (Zipf rank 1 is the most frequent), among them words with diacritics.
DUTCH = ("de het een en van in is op te dat niet voor met zijn er aan je ook maar om als bij nog wat dan "
         "naar uit over door hebben we wordt kan wel meer ze dit al of zo heel werk team teams gemeente stad "
         "vandaag morgen mensen samen nieuwe goed mooi tijd jaar weer blij trots echt eerste via kijk lees "
         "praat mee stuur zelfstandige zelfsturing organisatie vertrouwen ruimte verantwoordelijkheid collega's "
         "bewoners wijk Utrecht stadskantoor vergadering overleg discussie discussiëren ideeën één privé café "
         "reünie financiën coördinatie geïnteresseerd efficiënt naïef ruïne tweeëntwintig België zeeën "
         "enquête paper public strategie waarde verandering leiderschap coaching medewerkers klanten "
         "dienstverlening participatie inwoners raad wethouder beleid begroting project pilot resultaat "
         "sessie bijeenkomst workshop presentatie verslag rapport onderzoek gesprek vragen antwoorden "
         "ervaringen lessen leren groeien veranderen luisteren beslissen kiezen bouwen delen vieren").split()
FUNCTION_WORDS = 45  # DUTCH starts with them: de … heel
ENGLISH = ("the a and of to in is for on with that this it at be by from are we our you new about how "
           "teams trust leadership self-management organisation city council report meeting week great "
           "today people work change learning paper public strategy value coaching").split()
SYLLABLES = ("ba be bi bo da de di do ka ke ko la le li lo ma me mi mo na ne ni no pa pe po ra re ri ro sa se "
             "si so ta te ti to va ve vi wa we zo tr st sp gr kl br vr pl").split()
VOCABULARY_SIZE = 20_000
TAG_COUNT, PEOPLE_COUNT = 2_000, 1_000
SEED = 20260101


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("archive_search")
    group.add_argument("--search-posts", type=int, default=DEFAULT_POSTS, metavar="N",
                       help=f"posts in the generated archive [default: {DEFAULT_POSTS:,}]")
    group.add_argument("--search-postgres", action="store_true",
                       help="also on PostgreSQL (a database of its own on CAMPAIGN_BENCH_POSTGRES's server)")
    group.add_argument("--search-db", type=Path, metavar="FILE",
                       help="keep the SQLite archive in FILE and reuse it when it already holds the posts")


# -- the generated timeline -------------------------------------------------

def _vocabulary(rng: random.Random) -> list[str]:
    words = list(dict.fromkeys(DUTCH))
    seen = set(words) | set(ENGLISH)
    while len(words) < VOCABULARY_SIZE:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 5)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def _zipf(size: int, exponent: float = 1.0) -> list[float]:
    return list(accumulate(1.0 / (rank ** exponent) for rank in range(1, size + 1)))


class Timeline:
    """The generator: post n is always the same post (a seeded generator per run, consumed in order)."""

    def __init__(self):
        rng = random.Random(SEED)
        self.words = _vocabulary(rng)
        self.word_weights = _zipf(len(self.words), 1.05)
        self.tags = [f"{rng.choice(['', 'tas', 'utrecht', 'team'])}{''.join(rng.choice(SYLLABLES) for _ in range(3))}"
                     f"{rng.choice(['', '2015', '030', 'NL'])}" for _ in range(TAG_COUNT)]
        self.tags[:6] = ["zelfstandigeteams", "stadskantoor030", "Utrecht", "Verander2015", "management", "ZorgVoorElkaar"]
        self.tag_weights = _zipf(TAG_COUNT, 1.0)
        self.people = [f"{''.join(rng.choice(SYLLABLES) for _ in range(3))}{rng.choice(['', '_nl', '030'])}"
                       for _ in range(PEOPLE_COUNT)]
        self.people_weights = _zipf(PEOPLE_COUNT, 1.0)
        self.english_weights = _zipf(len(ENGLISH), 1.0)

    def word_with_post_share(self, share: float, length: float = 19.0) -> str:
        """The most frequent word expected in at most about `share` of the posts (~19 words each),
        not a function word (PostgreSQL's `dutch` configuration leaves those out of the index)."""
        total = self.word_weights[-1]
        for index in range(FUNCTION_WORDS, len(self.words)):
            if (self.word_weights[index] - self.word_weights[index - 1]) / total * length <= share:
                return self.words[index]
        return self.words[-1]

    def tag_with_post_share(self, share: float, per_post: float = 1.25) -> str:
        """The most frequent hashtag (lower-cased) expected on at most about `share` of the posts."""
        total = self.tag_weights[-1]
        for index in range(1, len(self.tags)):
            if (self.tag_weights[index] - self.tag_weights[index - 1]) / total * per_post <= share:
                return self.tags[index].lower()
        return self.tags[-1].lower()

    def posts(self, start: int, stop: int, count: int, account: str = "teamsaantstuur"):
        from archive.records import ArchivedPost, Link

        rng = random.Random(SEED + start)
        words, weights = self.words, self.word_weights
        for n in range(start, stop):
            english = n % 5 == 4
            length = rng.randint(8, 30)
            if english:
                text_words = rng.choices(ENGLISH, cum_weights=self.english_weights, k=length // 2) + \
                    rng.choices(words, cum_weights=weights, k=length - length // 2)
            else:
                text_words = rng.choices(words, cum_weights=weights, k=length)
            tags = tuple(dict.fromkeys(rng.choices(self.tags, cum_weights=self.tag_weights, k=rng.choice((0, 1, 1, 2, 3)))))
            people = tuple(dict.fromkeys(rng.choices(self.people, cum_weights=self.people_weights,
                                                     k=rng.choice((0, 0, 0, 1, 2)))))
            links = (Link(f"https://t.co/{n:010x}", f"https://publicpapersutrecht.nl/p/{n % 5000}",
                          f"publicpapersutrecht.nl/p/{n % 5000}"),) if n % 3 == 0 else ()
            text = " ".join(["@" + p for p in people] + text_words + ["#" + t for t in tags] + [link.url for link in links])
            kind = "repost" if n % 10 == 5 else "reply" if n % 7 == 3 else "post"
            if kind == "repost":
                text = f"RT @{people[0] if people else 'GemeenteUtrecht'}: {text}"
            remote_id = str(550_000_000_000_000_000 + n * 1000)
            yield ArchivedPost(
                platform="x", remote_id=remote_id, account=account,
                created_at=T0 + timedelta(seconds=SPAN * n / count),
                text=text, kind=kind, url=f"https://x.com/{account}/status/{remote_id}",
                language="en" if english else "nl",
                reply_to_id=str(int(remote_id) - 1000) if kind == "reply" else None,
                reply_to_account="deboerleo" if kind == "reply" else None,
                source_app="Twitter Web App", metrics={"likes": n % 17, "reposts": n % 5, "replies": n % 3, "quotes": 0},
                hashtags=tags, mentions=people, links=links,
                raw={"id_str": remote_id, "full_text": text, "lang": "en" if english else "nl"})


def _prepared(start: int, stop: int, count: int):
    """Batches for archive.store.upsert_prepared (a module-level generator: runs in a child process)."""
    from archive.store import prepare

    yield from prepare(Timeline().posts(start, stop, count), source="x_archive")


# -- building the archive -----------------------------------------------------------------------------

TRANSACTION = 100_000  # posts per transaction while building (keeps SQLite's WAL file small)


def build(url: str, count: int) -> dict:
    """Store `count` generated posts at url through the import path; returns wall and CPU seconds
    (this process: the store, SQLite's work included) and posts/s."""
    import os

    from archive.importers.background import iterate_in_child
    from archive.store import open_archive, upsert_prepared

    database = open_archive(url)
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        for start in range(0, count, TRANSACTION):
            stop = min(count, start + TRANSACTION)
            batches = (iterate_in_child(_prepared, start, stop, count) if (os.cpu_count() or 1) > 1
                       else _prepared(start, stop, count))
            try:
                upsert_prepared(database, batches, source="x_archive", now=NOW)
            finally:
                getattr(batches, "close", lambda: None)()
            _say(f"{stop:,} posts stored")
        if database.url.get_backend_name() == "postgresql":
            with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum does soon after a bulk load
    finally:
        database.engine.dispose()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "rate": count / wall}


def _stored(url: str) -> int:
    from archive.store import count_posts, open_archive

    database = open_archive(url)
    try:
        return count_posts(database)
    finally:
        database.engine.dispose()


# -- the queries ----------------------------------------------------------------------------------------

def queries(timeline: Timeline) -> dict[str, str]:
    """label → --search query, in display order; the first word and the first tag carry the goals."""
    return {
        "word in ~1% of posts": timeline.word_with_post_share(0.01),
        "hashtag in ~1% of posts": "#" + timeline.tag_with_post_share(0.01),
        "word in ~0.1% of posts": timeline.word_with_post_share(0.001),
        "word in ~10% of posts": timeline.word_with_post_share(0.10),
        "hashtag in ~0.1% of posts": "#" + timeline.tag_with_post_share(0.001),
        "hashtag in ~0.02% of posts": "#" + timeline.tag_with_post_share(0.0002),
        "hashtag in ~10% of posts": "#" + timeline.tag_with_post_share(0.10),
        "word with diacritics folded": "discussieren",
        "phrase": f'"{timeline.words[60]} {timeline.words[61]}"',
        "two words, one excluded": f"{timeline.word_with_post_share(0.01)} -{timeline.words[40]}",
    }


def time_queries(url: str, searches: dict[str, str], *, repeat: int, warmup: int) -> dict:
    """Each search's first page (PAGE posts, as `archive show --search Q --limit 50` reads them):
    label → {"first": seconds, "runs": [seconds…], "cpu_runs": […], "matches": n, "page": n}.
    One search after the other, each timed `repeat` times after `warmup` untimed runs (the first
    is reported too): someone paging through results has its pages in memory, and round-robin
    over ten searches would measure PostgreSQL's shared_buffers (128 MB by default) more than the
    search. CPU is this process's (the database's own on SQLite, the client's on PostgreSQL)."""
    from archive.records import PostFilter
    from archive.store import count_posts, open_archive, query_posts

    database = open_archive(url)
    try:
        results = {}
        for label, query in searches.items():
            post_filter = PostFilter(search=query, newest_first=True, limit=PAGE)
            figures = results[label] = {"runs": [], "cpu_runs": [], "query": query}
            for round_ in range(warmup + repeat):
                cpu, wall = time.process_time(), time.perf_counter()
                page = list(query_posts(database, post_filter))
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                if round_ == 0:
                    figures["first"] = wall
                if round_ >= warmup:
                    figures["runs"].append(wall)
                    figures["cpu_runs"].append(cpu)
            figures["page"] = len(page)
            figures["matches"] = count_posts(database, PostFilter(search=query))
        return results
    finally:
        database.engine.dispose()


def _say(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def _database_size(path: Path) -> float:
    return sum(Path(str(path) + suffix).stat().st_size for suffix in ("", "-wal")
               if Path(str(path) + suffix).exists()) / 1e6


def run(args: argparse.Namespace) -> dict:
    count = getattr(args, "search_posts", DEFAULT_POSTS)
    if count < 1000:
        raise BenchmarkError("--search-posts must be at least 1,000")
    repeat, warmup = getattr(args, "repeat", 7), max(1, getattr(args, "warmup", 1))
    timeline = Timeline()
    searches = queries(timeline)
    keep = getattr(args, "search_db", None)
    folder = Path(tempfile.mkdtemp(prefix="praatmee-search-bench-"))
    info, timings, goals = {"posts": f"{count:,}"}, {}, []
    try:
        backends = [("SQLite", None)] + ([("PostgreSQL", "praatmee_bench_search")]
                                         if getattr(args, "search_postgres", False) else [])
        for name, pg_database in backends:
            if pg_database:
                url = postgres_database(pg_database, "create")
                path = None
            else:
                path = keep or folder / "archive.db"
                url = f"sqlite:///{path}"
            try:
                if path is not None and path.exists() and _stored(url) == count:
                    _say(f"{name}: reusing {path}")
                else:
                    if path is not None:
                        for suffix in ("", "-wal", "-shm"):
                            Path(str(path) + suffix).unlink(missing_ok=True)
                    _say(f"{name}: generating and storing {count:,} posts")
                    built = build(url, count)
                    info[f"{name}: build"] = (f"{built['wall']:.0f} s ({built['rate']:,.0f} posts/s; "
                                              f"{built['cpu']:.0f} s CPU in the storing process)")
                if path is not None:
                    info[f"{name}: database size"] = f"{_database_size(path):,.0f} MB"
                _say(f"{name}: timing {len(searches)} searches, {repeat} runs each")
                measured = time_queries(url, searches, repeat=repeat, warmup=warmup)
            finally:
                if pg_database:
                    postgres_database(pg_database, "drop")
            for label, figures in measured.items():
                timings[f"{name}: {label}"] = {
                    "median": statistics.median(figures["runs"]), "min": min(figures["runs"]),
                    "cpu_median": statistics.median(figures["cpu_runs"]),
                    "runs": [round(x, 6) for x in figures["runs"]], "cpu_runs": [round(x, 6) for x in figures["cpu_runs"]]}
                info[f"{name}: {label}"] = (f"{figures['query']}  ({figures['matches']:,} matches, "
                                            f"first page {figures['page']}; first run {figures['first'] * 1000:.0f} ms)")
            for label in list(searches)[:2]:
                goals.append(Goal(f"{name}: {label}, first page", timings[f"{name}: {label}"]["median"] * 1000,
                                  GOAL_MS, " ms").as_dict())
        return {"title": f"archive search: the first page of {PAGE} over {count:,} generated posts",
                "info": info, "timings": timings, "goals": goals}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
