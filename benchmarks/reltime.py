"""Relative time: 1M (timestamp, now) pairs in nl with 2 units vs arrow's humanize; `archive show` of 100,000 posts.

Part 1 (in process): the same 1,000,000 pairs — moments spread over ten years, each with its own
"now" up to six years later, Europe/Amsterdam — formatted by archive.reltime.RelativeTime("nl",
units=2) and by arrow's `humanize(other, granularity=["year", "month"], locale="nl")`, in the same
run. arrow is not a dependency of Praat mee: when it is not importable it is installed with pip
into `bench-deps/` beside the venv's site-packages (a folder of the benchmark's own) and imported from there. Goal: our time per
pair ≤ 0.5 × arrow's (≥ 2× its rate). Both results are also compared on a sample, to show where
arrow is wrong (BRIEF.md: "over 0 jaar 0 maanden", rounded months).

Part 2 (subprocess, like a user): `archive show --locale nl --now 2020-11-27 > FILE` on an archive
of 100,000 X posts (SQLite, made once through archive.store). Goal: median ≤ 3 s.
"""
from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import BenchmarkError, Case, Goal, Timing, clean_env, entry_point, measure

ROOT = Path(__file__).resolve().parent.parent
ZONE = "Europe/Amsterdam"
SHOW_POSTS = 100_000
SHOW_GOAL = 3.0
RATIO_GOAL = 0.5


def add_arguments(parser):
    group = parser.add_argument_group("reltime")
    group.add_argument("--pairs", type=int, default=1_000_000, help="(timestamp, now) pairs [default: 1,000,000]")
    group.add_argument("--show-posts", type=int, default=SHOW_POSTS, help="posts for `archive show` [default: 100,000]")


def _arrow():
    try:
        import arrow  # noqa: F401
    except ImportError:
        target = Path(sys.prefix) / "bench-deps"  # beside the venv, never in its site-packages
        if str(target) not in sys.path:
            sys.path.insert(0, str(target))
        try:
            import arrow  # noqa: F401,F811
        except ImportError:
            result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
                                     "arrow"], capture_output=True, text=True)
            if result.returncode != 0:
                raise BenchmarkError(f"could not install arrow for the comparison: {result.stderr.strip()[-300:]}")
            import importlib

            importlib.invalidate_caches()
            import arrow  # noqa: F401,F811
    import arrow

    return arrow


def _pairs(count: int) -> list[tuple[datetime, datetime]]:
    rng = random.Random(20201127)
    base = datetime(2012, 1, 1, tzinfo=timezone.utc).timestamp()
    out = []
    for _ in range(count):
        moment = base + rng.random() * 10 * 365.25 * 86400
        now = moment + rng.random() * 6 * 365.25 * 86400
        out.append((datetime.fromtimestamp(moment, timezone.utc), datetime.fromtimestamp(now, timezone.utc)))
    return out


def _time(label, function) -> Timing:
    timing = Timing(label)
    cpu, wall = time.process_time(), time.perf_counter()
    function()
    timing.wall.append(time.perf_counter() - wall)
    timing.cpu.append(time.process_time() - cpu)
    return timing


def _reltime_part(args, info, timings, goals):
    from archive.reltime import RelativeTime

    arrow = _arrow()
    pairs = _pairs(args.pairs)
    fmt = RelativeTime("nl", ZONE, 2)
    ours = _time(f"reltime nl 2 units × {len(pairs):,}", lambda: [fmt(m, n) for m, n in pairs])
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(ZONE)
    arrow_pairs = [(arrow.Arrow.fromdatetime(m.astimezone(zone)), arrow.Arrow.fromdatetime(n.astimezone(zone)))
                   for m, n in pairs]

    def run_arrow():
        for m, n in arrow_pairs:
            m.humanize(n, granularity=["year", "month"], locale="nl")

    theirs = _time(f"arrow humanize(granularity=[year, month]) × {len(pairs):,}", run_arrow)
    timings[ours.label] = ours.as_dict()
    timings[theirs.label] = theirs.as_dict()
    rate_ours, rate_arrow = len(pairs) / ours.median, len(pairs) / theirs.median
    info["reltime rate"] = f"{rate_ours:,.0f} pairs/s (arrow: {rate_arrow:,.0f} pairs/s, ×{rate_ours / rate_arrow:.1f})"
    info["arrow"] = arrow.__version__
    sample = pairs[:20_000]
    differ, future_for_past, example = 0, 0, None
    for (m, n), (am, an) in zip(sample, arrow_pairs):
        ours_text = fmt(m, n)
        theirs_text = am.humanize(an, granularity=["year", "month"], locale="nl")
        future_for_past += theirs_text.startswith("over ")  # every pair is in the past
        words = theirs_text.replace("over ", "").replace(" geleden", "").replace("een ", "1 ").split()
        theirs_ym = {words[i + 1].rstrip("en"): int(words[i]) for i in range(0, len(words) - 1, 2)}
        ours_words = ours_text.replace(" geleden", "").split()
        ours_ym = {ours_words[i + 1].rstrip("en"): int(ours_words[i]) for i in range(0, len(ours_words) - 1, 2)
                   if ours_words[i + 1].startswith(("jaar", "maand"))}
        if {k: v for k, v in theirs_ym.items() if v} != ours_ym:
            differ += 1
            example = example or f"{m:%Y-%m-%d %H:%M} → {n:%Y-%m-%d %H:%M}: ours {ours_text!r}, arrow {theirs_text!r}"
    info["arrow wrong on years/months (sample of 20,000)"] = (
        f"{differ:,} ({future_for_past:,} past moments said in the future tense)" + (f"; e.g. {example}" if example else ""))
    goals.append(Goal("reltime time per pair vs arrow", ours.median / theirs.median, RATIO_GOAL, "×",
                      "≤ 0.5 means at least twice arrow's rate").as_dict())


def _make_archive(path: Path, count: int) -> str:
    from archive.records import ArchivedPost, Link
    from archive.store import open_archive, upsert_posts

    url = f"sqlite:///{path}"
    database = open_archive(url)
    rng = random.Random(5)
    start = datetime(2014, 12, 1, tzinfo=timezone.utc)

    def records():
        for i in range(count):
            created = start + timedelta(seconds=i * 1800 + rng.randrange(1800))
            yield ArchivedPost("x", str(10**17 + i), "teamsaantstuur", created,
                               f"Bericht {i} over #zelfstandigeteams met @GemeenteUtrecht: praat mee! https://t.co/x{i}",
                               hashtags=("zelfstandigeteams",), mentions=("GemeenteUtrecht",),
                               links=(Link(f"https://t.co/x{i}", "https://publicpapersutrecht.nl/teams"),),
                               metrics={"likes": i % 7, "reposts": i % 3})

    upsert_posts(database, records(), source="benchmark", now=datetime.now(timezone.utc))
    database.engine.dispose()
    return url


def _show_part(args, info, timings, goals, folder: Path):
    archive = entry_point("archive")
    started = time.perf_counter()
    url = _make_archive(folder / "archive.db", args.show_posts)
    info["archive of posts made in"] = f"{time.perf_counter() - started:.1f} s ({args.show_posts:,} posts)"
    out = folder / "show.txt"

    def case_stdout():
        return open(out, "w")

    label = f"archive show {args.show_posts:,} posts > file"
    handle = open(out, "w")
    try:
        case = Case(label, [archive, "show", "--db", url, "--locale", "nl", "--now", "2020-11-27"], folder,
                    clean_env(), stdout=handle)
        result = measure([case], repeat=args.repeat, warmup=args.warmup)
    finally:
        handle.close()
    lines = sum(1 for _ in open(out, encoding="utf-8"))
    if lines % args.show_posts:
        raise BenchmarkError(f"archive show wrote {lines} lines for {args.show_posts} posts")
    timings[label] = result[label].as_dict()
    goals.append(Goal(f"archive show of {args.show_posts:,} posts", result[label].median, SHOW_GOAL, " s").as_dict())


def run(args) -> dict:
    if not hasattr(args, "pairs"):
        args.pairs, args.show_posts = 1_000_000, SHOW_POSTS
    info, timings, goals = {"zone": ZONE, "pairs": f"{args.pairs:,}"}, {}, []
    _reltime_part(args, info, timings, goals)
    with tempfile.TemporaryDirectory(prefix="praatmee-reltime-") as folder:
        _show_part(args, info, timings, goals, Path(folder))
    return {"title": "relative time and archive show", "info": info, "timings": timings, "goals": goals}
