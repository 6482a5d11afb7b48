"""archive import / export on a generated X archive of N tweets (default 100,000): speed and peak memory.

The archive is a zip in the official layout (data/account.js, data/tweets.js with the
`window.YTD.tweets.part0 = ` prefix, split into parts, data/deleted-tweets.js, data/manifest.js),
tweets in the legacy shape: numbers as strings, HTML-escaped full_text, hashtags, mentions,
t.co urls, replies and retweets. Timed, as subprocesses of the venv's `archive` on a SQLite file:
    archive import ZIP            (new database)
    archive import ZIP            (again: nothing changes)
    archive export --format csv   (to a file)
    archive export --format xlsx  (to a file)
Peak RSS is the largest process's ru_maxrss (import and CSV export run a reading process beside
the main one), read by a small wrapper process per run; one more, untimed run of each samples
the RSS of all the command's processes together every 20 ms (Linux /proc), and the goal is
checked against that sum.
Goals: import >= 25,000 tweets/s and <= 150 MB (all processes), re-import <= 1.5 s of CPU (issue 19);
CSV export >= 50,000 rows/s.
--peer-twitter-to-sqlite PATH also compares, in alternating runs, with twitter-to-sqlite 0.22 (PATH:
its executable, e.g. from `pip install twitter-to-sqlite==0.22` in a venv of its own): both import
the same archive as one data/tweet.js (the only name that version reads) into a new SQLite file.
Goals (issue 19): our CPU <= 0.3x the peer's, our wall time <= 0.2x (five times as fast).
--other-formats also imports a twarc2 JSONL file (pages of 100 API v2 tweets with their users) and a
Mastodon outbox.json of as many records, and reports the CPU per record of each beside the X
archive's (issue 19: the same budget).
--import-postgres also imports the archive into PostgreSQL (a database of its own on
CAMPAIGN_BENCH_POSTGRES's server, made anew for each run) three ways: as the archive is, without
the search index's GIN index, and without the search column (its tsvector) at all: what the
search index costs an import (issue 15: <= 25% of the import's time).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import BenchmarkError, Goal, clean_env, entry_point, postgres_database, process_tree

DEFAULT_TWEETS = 100_000
T0 = datetime(2012, 1, 1, 8, 0, tzinfo=timezone.utc)
WORDS = ("teams", "aan", "het", "stuur", "praat", "mee", "over", "zelfstandige", "gemeente", "Utrecht", "discussie",
         "public", "paper", "HR", "strategie", "waarde", "vertrouwen", "&", "<3", "🎉", "stadskantoor")
TAGS = ("zelfstandigeteams", "stadskantoor030", "utrecht", "Verander2015", "management")
PEOPLE = ("GemeenteUtrecht", "deboerleo", "moniquedenb", "publicpapers")

# Runs argv, then prints the child's wall time and peak RSS (KiB on Linux) as JSON on stderr's last line.
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "wall": wall, "maxrss_kib": usage.ru_maxrss,
                  "cpu": usage.ru_utime + usage.ru_stime}), file=sys.stderr)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("archive_import")
    group.add_argument("--tweets", type=int, default=DEFAULT_TWEETS, metavar="N",
                       help=f"tweets in the generated archive [default: {DEFAULT_TWEETS:,}]")
    group.add_argument("--peer-twitter-to-sqlite", metavar="PATH",
                       help="also compare with twitter-to-sqlite (its executable), alternating runs")
    group.add_argument("--other-formats", action="store_true",
                       help="also time twarc2 JSONL and Mastodon outbox imports of as many records (CPU per record)")
    group.add_argument("--import-postgres", action="store_true",
                       help="also import into PostgreSQL, with and without the search index (CAMPAIGN_BENCH_POSTGRES)")


# What each PostgreSQL import run takes away from a new archive before importing.
POSTGRES_VARIANTS = {
    "as it is": [],
    "without the GIN index": ["DROP INDEX ix_archive_posts_search"],
    "without the search column": ["DROP INDEX ix_archive_posts_search", "ALTER TABLE archive_posts DROP COLUMN search"],
}
POSTGRES_NAME = "praatmee_bench_import"


def _postgres_imports(archive: str, zip_path: Path, folder: Path, env: dict, repeat: int) -> tuple[dict, dict]:
    """Import the zip into a new PostgreSQL archive per run and variant (POSTGRES_VARIANTS)."""
    from sqlalchemy import create_engine

    from archive.store import open_archive

    runs: dict[str, list] = {name: [] for name in POSTGRES_VARIANTS}
    try:
        for round_ in range(repeat):
            for name, statements in POSTGRES_VARIANTS.items():
                _say(f"PostgreSQL import {name} ({round_ + 1}/{repeat})")
                url = postgres_database(POSTGRES_NAME, "create")
                open_archive(url).engine.dispose()  # the archive's tables, as the import would make them
                engine = create_engine(url)
                with engine.begin() as connection:
                    for statement in statements:
                        connection.exec_driver_sql(statement)
                engine.dispose()
                with _ServerCpu(url) as server:
                    figures = measure_command([archive, "import", str(zip_path), "--db", url, "--no-progress"],
                                              folder, env)
                figures["server_cpu"] = server.seconds
                runs[name].append(figures)
    finally:
        postgres_database(POSTGRES_NAME, "drop")
    import statistics

    timings, cpu = {}, {}
    for name, figures in runs.items():
        best = sorted(figures, key=lambda f: f["wall"])[len(figures) // 2]
        timings[f"import into PostgreSQL, {name}"] = {
            "median": best["wall"], "min": min(f["wall"] for f in figures), "cpu_median": best["cpu"],
            "runs": [round(f["wall"], 4) for f in figures], "cpu_runs": [round(f["cpu"], 4) for f in figures]}
        # The command's CPU (with its reading process) and its PostgreSQL backends': steadier than
        # wall time when other work shares the machine.
        cpu[name] = statistics.median(f["cpu"] + f["server_cpu"] for f in figures)
    full, bare = cpu["as it is"], cpu["without the search column"]
    info = {}
    for name, seconds in cpu.items():
        server = statistics.median(f["server_cpu"] for f in runs[name])
        info[f"PostgreSQL CPU (command + server), {name}"] = f"{seconds:.2f} s ({server:.2f} s server)"
    info["PostgreSQL: the search index's share of the import's CPU"] = (
        f"{(full - bare) / full:.0%} (+{(full - bare) / bare:.0%} over an import without it; "
        f"the GIN index {(full - cpu['without the GIN index']) / full:.0%})")
    return timings, info, (full - bare) / full


class _ServerCpu:
    """The CPU time of the PostgreSQL backends serving one database while a block runs: their
    /proc entries (the server must run on this machine), sampled every 20 ms from
    pg_stat_activity; 0.0 when they cannot be read."""

    def __init__(self, url: str):
        self.url = url
        self.seconds = 0.0

    def __enter__(self):
        import threading

        from sqlalchemy import create_engine, text

        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        engine = create_engine(self.url)
        database = engine.url.database

        def sample():
            with engine.connect() as connection:
                own = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                while not self._stop.wait(0.02):
                    pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                                              {"name": database}).scalars().all()
                    connection.rollback()
                    for pid in pids:
                        if pid != own:
                            seconds = _process_cpu(pid)
                            if seconds is not None:
                                self._seen[pid] = max(seconds, self._seen.get(pid, 0.0))
            engine.dispose()

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.seconds = sum(self._seen.values())


def _process_cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tweet(n: int) -> dict:
    words = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(8 + n % 12)]
    tags = [TAGS[n % len(TAGS)]] if n % 3 else []
    people = [PEOPLE[n % len(PEOPLE)]] if n % 4 == 0 else []
    short = f"https://t.co/{n:010x}"
    text = " ".join(["@" + p for p in people] + words + ["#" + t for t in tags] + ([short] if n % 2 else []))
    if n % 10 == 5:
        text = "RT @GemeenteUtrecht: " + text
    remote_id = str(550_000_000_000_000_000 + n * 1000)
    item = {
        "edit_info": {"initial": {"editTweetIds": [remote_id], "editableUntil": "2015-01-27T11:00:00.000Z",
                                  "editsRemaining": "5", "isEditEligible": False}},
        "retweeted": False,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "entities": {
            "hashtags": [{"text": t, "indices": ["0", "10"]} for t in tags],
            "symbols": [],
            "user_mentions": [{"name": p, "screen_name": p, "indices": ["0", "10"], "id_str": "1", "id": "1"}
                              for p in people],
            "urls": ([{"url": short, "expanded_url": f"https://publicpapersutrecht.nl/p/{n % 500}",
                       "display_url": f"publicpapersutrecht.nl/p/{n % 500}", "indices": ["20", "43"]}]
                     if n % 2 else []),
        },
        "display_text_range": ["0", str(len(text))],
        "favorite_count": str(n % 17),
        "id_str": remote_id,
        "truncated": False,
        "retweet_count": str(n % 5),
        "id": remote_id,
        "created_at": (T0 + timedelta(minutes=37 * n)).strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "favorited": False,
        "full_text": text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        "lang": "nl",
    }
    if n % 7 == 3:
        item.update(in_reply_to_status_id_str=str(int(remote_id) - 1000), in_reply_to_status_id="1",
                    in_reply_to_user_id="1", in_reply_to_user_id_str="1", in_reply_to_screen_name="deboerleo")
    return item


def write_twarc(path: Path, count: int) -> Path:
    """A twarc2 JSONL file of count API v2 tweets of the same texts as tweet(n), 100 to a page."""
    user = {"id": "2950000000", "username": "teamsaantstuur", "name": "Teams aan het stuur"}
    with open(path, "w", encoding="utf-8") as out:
        for start in range(0, count, 100):
            page = []
            for n in range(start, min(count, start + 100)):
                legacy = tweet(n)
                item = {"id": legacy["id_str"], "text": legacy["full_text"], "author_id": user["id"],
                        "conversation_id": legacy["id_str"], "lang": "nl", "edit_history_tweet_ids": [legacy["id_str"]],
                        "created_at": (T0 + timedelta(minutes=37 * n)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                        "public_metrics": {"retweet_count": n % 5, "reply_count": n % 3, "like_count": n % 17,
                                           "quote_count": 0, "impression_count": n % 1000},
                        "entities": {"hashtags": [{"start": 0, "end": 5, "tag": h["text"]}
                                                  for h in legacy["entities"]["hashtags"]],
                                     "mentions": [{"start": 0, "end": 5, "username": m["screen_name"]}
                                                  for m in legacy["entities"]["user_mentions"]],
                                     "urls": [{"start": 20, "end": 43, "url": u["url"], "expanded_url": u["expanded_url"],
                                               "display_url": u["display_url"]} for u in legacy["entities"]["urls"]]}}
                page.append(item)
            out.write(json.dumps({"data": page, "includes": {"users": [user]},
                                  "meta": {"result_count": len(page)},
                                  "__twarc": {"version": "2.14.0", "retrieved_at": "2024-03-01T09:00:00+00:00"}},
                                 ensure_ascii=False) + "\n")
    return path


def write_outbox(path: Path, count: int) -> Path:
    """A Mastodon outbox.json of count public Create activities (HTML content, hashtags, mentions, links)."""
    actor = "https://social.example/users/teamsaantstuur"
    public = "https://www.w3.org/ns/activitystreams#Public"
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps({"@context": "https://www.w3.org/ns/activitystreams", "id": actor + "/outbox",
                              "type": "OrderedCollection", "totalItems": count})[:-1] + ', "orderedItems": [')
        for n in range(count):
            legacy = tweet(n)
            status = f"{actor}/statuses/{110_000_000_000_000_000 + n}"
            tags = [{"type": "Hashtag", "href": f"https://social.example/tags/{h['text']}", "name": "#" + h["text"]}
                    for h in legacy["entities"]["hashtags"]]
            links = "".join(f' <a href="{u["expanded_url"]}" rel="nofollow noopener" target="_blank">'
                            f'{u["display_url"]}</a>' for u in legacy["entities"]["urls"])
            note = {"id": status, "type": "Note", "summary": None, "inReplyTo": None,
                    "published": (T0 + timedelta(minutes=37 * n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "url": f"https://social.example/@teamsaantstuur/{110_000_000_000_000_000 + n}",
                    "attributedTo": actor, "to": [public], "cc": [actor + "/followers"],
                    "content": f"<p>{legacy['full_text']}{links}</p>", "contentMap": {"nl": f"<p>{legacy['full_text']}</p>"},
                    "attachment": [], "tag": tags, "conversation": f"tag:social.example,2024:objectId={n}:objectType=Conversation"}
            activity = {"id": status + "/activity", "type": "Create", "actor": actor, "published": note["published"],
                        "to": [public], "cc": [actor + "/followers"], "object": note}
            out.write(("," if n else "") + json.dumps(activity, ensure_ascii=False))
        out.write("]}")
    return path


def write_archive(path: Path, count: int, *, part_size: int = 50_000) -> None:
    """A zip like X's, written tweet by tweet (the generator's memory stays small too)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("data/account.js", 'window.YTD.account.part0 = [{"account": {"username": "teamsaantstuur", '
                                            '"accountId": "2950000000"}}]')
        for part, start in enumerate(range(0, count, part_size)):
            name = "data/tweets.js" if part == 0 else f"data/tweets-part{part}.js"
            with archive.open(name, "w") as out:
                out.write(f"window.YTD.tweets.part{part} = [".encode())
                for n in range(start, min(count, start + part_size)):
                    out.write(((",\n" if n > start else "\n") + json.dumps({"tweet": tweet(n)}, indent=2,
                                                                           ensure_ascii=False)).encode())
                out.write(b"\n]")
        deleted = [{"tweet": {**tweet(count + n), "deleted_at": "Mon Jan 01 10:00:00 +0000 2024"}} for n in range(100)]
        archive.writestr("data/deleted-tweets.js", "window.YTD.deleted_tweets.part0 = " + json.dumps(deleted))
        parts = [{"fileName": "data/tweets.js" if part == 0 else f"data/tweets-part{part}.js",
                  "globalName": f"YTD.tweets.part{part}", "count": str(min(count, start + part_size) - start)}
                 for part, start in enumerate(range(0, count, part_size))]
        archive.writestr("data/manifest.js", "window.__THAR_CONFIG = " + json.dumps({"dataTypes": {
            "tweets": {"files": parts},
            "deletedTweets": {"files": [{"fileName": "data/deleted-tweets.js", "globalName": "YTD.deleted_tweets.part0",
                                         "count": "100"}]}}}, indent=2))


def _peer_comparison(archive: str, peer: str, zip_path: Path, folder: Path, env: dict,
                     repeat: int) -> tuple[dict, dict, list]:
    """Ours and twitter-to-sqlite on the same tweets (one data/tweet.js), alternating, new files each run."""
    data = folder / "peer" / "data"
    data.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive_zip, open(data / "tweet.js", "wb") as out:
        out.write(b"window.YTD.tweet.part0 = [")
        for index, name in enumerate(n for n in sorted(archive_zip.namelist(), key=_part_order)
                                     if n.startswith("data/tweets")):
            body = archive_zip.read(name)
            out.write((b"," if index else b"") + body[body.index(b"[") + 1:body.rindex(b"]")])
        out.write(b"]")
        (data / "account.js").write_bytes(archive_zip.read("data/account.js"))
    theirs_db, ours_db = folder / "peer.db", folder / "ours.db"
    runs: dict[str, list[dict]] = {"twitter-to-sqlite import": [], "archive import (same tweet.js)": []}
    for round_ in range(repeat):
        _say(f"against twitter-to-sqlite, round {round_ + 1}/{repeat}")
        for path in folder.glob("peer.db*"):
            path.unlink()
        runs["twitter-to-sqlite import"].append(measure_command([peer, "import", str(theirs_db), str(data / "tweet.js")],
                                                                folder, env))
        for path in folder.glob("ours.db*"):
            path.unlink()
        runs["archive import (same tweet.js)"].append(measure_command(
            [archive, "import", str(data / "tweet.js"), "--db", str(ours_db), "--no-progress"], folder, env))
    timings = {label: {"median": statistics.median(f["wall"] for f in figures),
                       "min": min(f["wall"] for f in figures),
                       "cpu_median": statistics.median(f["cpu"] for f in figures),
                       "runs": [round(f["wall"], 3) for f in figures], "cpu_runs": [round(f["cpu"], 3) for f in figures]}
               for label, figures in runs.items()}
    theirs, ours = timings["twitter-to-sqlite import"], timings["archive import (same tweet.js)"]
    cpu_ratio, wall_ratio = ours["cpu_median"] / theirs["cpu_median"], ours["median"] / theirs["median"]
    info = {"twitter-to-sqlite CPU / wall (medians)": f"{theirs['cpu_median']:.2f} s / {theirs['median']:.2f} s, "
                                                      f"peak RSS {max(f['maxrss_kib'] for f in runs['twitter-to-sqlite import']) / 1024:.0f} MB",
            "ours on the same tweet.js, CPU / wall": f"{ours['cpu_median']:.2f} s / {ours['median']:.2f} s"}
    goals = [Goal("import CPU / twitter-to-sqlite's (medians)", round(cpu_ratio, 3), 0.3, "x"),
             Goal("import wall time / twitter-to-sqlite's (medians)", round(wall_ratio, 3), 0.2, "x")]
    return timings, info, goals


def _part_order(name: str) -> tuple[int, str]:
    digits = "".join(c for c in name.rsplit("/", 1)[-1] if c.isdigit())
    return (int(digits) if digits else 0, name)


def measure_command(argv: list[str], cwd: Path, env: dict, *, expect: int = 0) -> dict:
    """Wall time, CPU and peak RSS of one command (WRAPPER), which must exit with `expect`."""
    result = subprocess.run([sys.executable, "-c", WRAPPER, *argv], cwd=cwd, env=env, capture_output=True, text=True)
    try:
        figures = json.loads(result.stderr.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise BenchmarkError(f"{' '.join(argv[:3])}: no measurement: {result.stderr.strip()[-300:]}") from None
    if figures["code"] != expect:
        raise BenchmarkError(f"{' '.join(argv[1:3])}: exit status {figures['code']}, expected {expect}: "
                             f"{result.stderr.strip()[-300:]}")
    return figures


def _tree_peak_rss_mb(argv: list[str], cwd: Path, env: dict) -> float:
    """The largest sum of the RSS of a command's processes (it and its descendants), sampled from
    /proc every 20 ms while it runs; 0.0 where /proc is not available."""
    page = os.sysconf("SC_PAGE_SIZE")
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(_rss_pages(pid) for pid in process_tree(process.pid)) * page)
        time.sleep(0.02)
    if process.returncode != 0:
        raise BenchmarkError(f"{' '.join(argv[1:3])}: exit status {process.returncode}")
    return round(peak / 1e6, 1)


def _rss_pages(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _say(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict:
    count = getattr(args, "tweets", DEFAULT_TWEETS)
    if count < 1:
        raise BenchmarkError("--tweets must be at least 1")
    archive = entry_point("archive")
    folder = Path(tempfile.mkdtemp(prefix="praatmee-archive-bench-"))
    env = clean_env()
    try:
        zip_path = folder / "twitter-bench.zip"
        _say(f"generating an X archive of {count:,} tweets")
        write_archive(zip_path, count)
        database = folder / "archive.db"
        db = ["--db", str(database), "--no-progress"]
        results = {}
        repeat = max(1, min(getattr(args, "repeat", 1), 3))
        runs = {"import (new database)": [], "import (again, unchanged)": [], "export csv": [], "export xlsx": []}
        for round_ in range(repeat):
            _say(f"round {round_ + 1}/{repeat}")
            for suffix in ("", "-wal", "-shm"):
                Path(str(database) + suffix).unlink(missing_ok=True)
            runs["import (new database)"].append(measure_command([archive, "import", str(zip_path), *db], folder, env))
            runs["import (again, unchanged)"].append(measure_command([archive, "import", str(zip_path), *db], folder, env))
            runs["export csv"].append(measure_command([archive, "export", "--format", "csv", "-o", str(folder / "out.csv"),
                                                "--now", "2026-01-01", *db], folder, env))
            if round_ == 0:  # xlsx is slow by nature (openpyxl); once is enough
                runs["export xlsx"].append(measure_command([archive, "export", "--format", "xlsx", "-o",
                                                     str(folder / "out.xlsx"), "--now", "2026-01-01", *db], folder, env))
        for label, figures in runs.items():
            best = sorted(figures, key=lambda f: f["wall"])[len(figures) // 2]
            results[label] = {"median": best["wall"], "min": min(f["wall"] for f in figures),
                              "cpu_median": statistics.median(f["cpu"] for f in figures),
                              "runs": [round(f["wall"], 4) for f in figures],
                              "cpu_runs": [round(f["cpu"], 4) for f in figures],
                              "peak_rss_mb": round(max(f["maxrss_kib"] for f in figures) / 1024, 1)}
        _say("sampling the RSS of all processes (untimed runs)")
        for suffix in ("", "-wal", "-shm"):
            Path(str(database) + suffix).unlink(missing_ok=True)
        tree_rss = {"import": _tree_peak_rss_mb([archive, "import", str(zip_path), *db], folder, env),
                    "export csv": _tree_peak_rss_mb([archive, "export", "--format", "csv", "-o",
                                                     str(folder / "out.csv"), *db], folder, env)}
        rows = count  # the deleted tweets are not exported
        import_rate = count / results["import (new database)"]["median"]
        csv_rate = rows / results["export csv"]["median"]
        info = {"tweets": f"{count:,} (+100 deleted)", "zip size": f"{zip_path.stat().st_size / 1e6:.1f} MB",
                "database size": f"{database.stat().st_size / 1e6:.1f} MB",
                "import rate": f"{import_rate:,.0f} tweets/s",
                "re-import": f"{results['import (again, unchanged)']['median']:.2f} s",
                # CPU of all the command's processes: steadier than wall time on a shared machine.
                "import CPU": f"{results['import (new database)']['cpu_median']:.2f} s",
                "re-import CPU": f"{results['import (again, unchanged)']['cpu_median']:.2f} s",
                "csv export rate": f"{csv_rate:,.0f} rows/s",
                "xlsx export rate": f"{rows / results['export xlsx']['median']:,.0f} rows/s"}
        for label, timing in results.items():
            info[f"peak RSS, {label}"] = f"{timing['peak_rss_mb']} MB (largest process)"
        for label, megabytes in tree_rss.items():
            info[f"peak RSS, {label}, all processes"] = f"{megabytes} MB (sampled every 20 ms)"
        goals = [
            Goal("import seconds per 25,000 tweets", 25_000 / import_rate, 1.0, " s"),
            Goal("import peak RSS, all processes", tree_rss["import"], 150, " MB"),
            Goal("re-import (nothing new) CPU seconds", results["import (again, unchanged)"]["cpu_median"], 1.5, " s"),
            Goal("csv export seconds per 50,000 rows", 50_000 / csv_rate, 1.0, " s"),
            Goal("csv export peak RSS, all processes", tree_rss["export csv"], 200, " MB"),
        ]
        timings = {label: {k: v for k, v in t.items() if k != "peak_rss_mb"} for label, t in results.items()}
        if getattr(args, "other_formats", False):
            per_record = {"X archive": results["import (new database)"]["cpu_median"] / (count + 100)}
            for label, path in (("twarc2 JSONL", write_twarc(folder / "twarc.jsonl", count)),
                                ("Mastodon outbox", write_outbox(folder / "outbox.json", count))):
                figures = []
                for _ in range(repeat):
                    for old in folder.glob("other.db*"):
                        old.unlink()
                    figures.append(measure_command([archive, "import", str(path), "--db", str(folder / "other.db"),
                                                    "--no-progress"], folder, env))
                cpu = statistics.median(f["cpu"] for f in figures)
                timings[f"import {label}"] = {"median": statistics.median(f["wall"] for f in figures),
                                              "min": min(f["wall"] for f in figures), "cpu_median": cpu,
                                              "runs": [round(f["wall"], 3) for f in figures],
                                              "cpu_runs": [round(f["cpu"], 3) for f in figures]}
                per_record[label] = cpu / count
            for label, seconds in per_record.items():
                info[f"CPU per record, {label}"] = f"{seconds * 1e6:.0f} µs"
        peer = getattr(args, "peer_twitter_to_sqlite", None)
        if peer:
            more, more_info, more_goals = _peer_comparison(archive, peer, zip_path, folder, env, max(3, repeat))
            timings.update(more)
            info.update(more_info)
            goals.extend(more_goals)
        if getattr(args, "import_postgres", False):
            more, more_info, share = _postgres_imports(archive, zip_path, folder, env, repeat)
            timings.update(more)
            info.update(more_info)
            info["PostgreSQL import rate"] = f"{count / more['import into PostgreSQL, as it is']['median']:,.0f} tweets/s"
            goals.append(Goal("PostgreSQL: the search index's share of the import's CPU", share * 100, 25, " %"))
        return {"title": f"archive import/export of a {count:,}-tweet X archive (SQLite)", "info": info,
                "timings": timings, "goals": [goal.as_dict() for goal in goals]}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
