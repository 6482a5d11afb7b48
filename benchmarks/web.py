"""Web workspace: the calendar's month view with 10,000 occurrences in the queue (server time, in process).

The queue is filled from the same generated posts.yaml as the `foundation` benchmark (a busy year
of municipal campaigns: seven accounts, five campaigns, 10,000 occurrences from January 2030),
synced in process into a new SQLite database (and, with --web-postgres, a PostgreSQL database of
the benchmark's own, created and dropped). One post in twenty is then put in each of the states
sent, failed, awaiting_approval, rejected and cancelled, so every badge is drawn.

Timed in process through Starlette's TestClient (no sockets; a signed-in viewer, so the session
check is included), each request `--web-samples` times after a few untimed ones:
    GET /calendar?month=…            the busiest month of the queue (the goal)
    GET /calendar?month=…            the same month filtered to one campaign
    GET /calendar?view=week&week=…   the busiest week
    the month's query and placing the posts on their days, without rendering (web.calendar.entries_by_day)
    GET /history, its last page      sent posts with their links, 50 per page
    GET /problems                    failed posts with their message and actions
    GET /ics/all/<token>.ics         the whole feed (fewer samples: it holds every post), with each
                                     event's text cached as a running workspace has it, and without
Goals: median month view ≤ 100 ms, median history page ≤ 100 ms.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

from . import BenchmarkError, postgres_database, Goal, Timing

MONTH_GOAL_MS = 100.0
HISTORY_GOAL_MS = 100.0
SAMPLES = 30
WARMUP = 3
FEED_SAMPLES = 5
COLD_SAMPLES = 3
SECRET = b"benchmark secret, long enough for the workspace signing key"
PASSWORD = "benchmark password of the viewer"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("web")
    group.add_argument("--web-samples", type=int, default=SAMPLES, metavar="N",
                       help=f"timed requests per page [default: {SAMPLES}]")
    group.add_argument("--web-postgres", action="store_true",
                       help="also on PostgreSQL (CAMPAIGN_BENCH_POSTGRES, default the local server; "
                            "a database of its own is created and dropped)")


def _say(message: str) -> None:
    print(f"  web: {message}", file=sys.stderr, flush=True)


def _fill(url: str, posts: Path, now: datetime):
    """The queue of posts.yaml in the database at `url`, with a share of posts in every other state."""
    from sqlalchemy import case, update

    from campaign import people
    from campaign.queue.db import Database
    from campaign.queue.sync import sync
    from campaign.queue.tables import scheduled_posts
    from campaign.spec.plan import load_plan

    db = Database(url)
    plan = load_plan(posts)
    sync(db, plan, now)
    c = scheduled_posts.c
    with db.transaction(write=True) as connection:
        connection.execute(update(scheduled_posts).values(state=case(
            (c.id % 20 == 0, "sent"), (c.id % 20 == 1, "failed"), (c.id % 20 == 2, "awaiting_approval"),
            (c.id % 20 == 3, "rejected"), (c.id % 20 == 4, "cancelled"), else_=c.state)))
    people.add(db, "viewer", "viewer", PASSWORD, now)
    return db, plan


def _signed_in(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from starlette.testclient import TestClient
        except ImportError as error:  # httpx comes with the test extra
            raise BenchmarkError(f"Starlette's TestClient is not usable ({error}); install the test extra") from None
    http = TestClient(app, base_url="http://testserver", follow_redirects=False)
    form = http.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    if not token:
        raise BenchmarkError("the sign-in page has no login_token field")
    response = http.post("/login", data={"name": "viewer", "password": PASSWORD, "next": "/",
                                         "login_token": token.group(1)})
    if response.status_code != 303:
        raise BenchmarkError(f"signing in failed: HTTP {response.status_code}")
    return http


def _timed(label: str, action: Callable[[], object], samples: int, warmup: int) -> Timing:
    for _ in range(warmup):
        action()
    timing = Timing(label)
    for _ in range(samples):
        cpu, wall = time.process_time(), time.perf_counter()
        action()
        timing.wall.append(time.perf_counter() - wall)
        timing.cpu.append(time.process_time() - cpu)
    return timing


def _get(http, url: str) -> Callable[[], object]:
    def fetch():
        response = http.get(url)
        if response.status_code != 200:
            raise BenchmarkError(f"GET {url}: HTTP {response.status_code}")
        return response
    return fetch


def _measure(backend: str, url: str, posts: Path, now: datetime, samples: int) -> tuple[dict, dict, list[Goal]]:
    from sqlalchemy import select

    from campaign.queue.tables import scheduled_posts
    from web import calendar as cal
    from web.app import Workspace, create_app
    from web.subscribe import _cache as event_cache, feed_path

    _say(f"{backend}: syncing {posts.name} into a new database")
    started = time.perf_counter()
    db, plan = _fill(url, posts, now)
    synced = time.perf_counter() - started
    try:
        with db.transaction() as connection:
            rows = connection.execute(select(scheduled_posts.c.due_at, scheduled_posts.c.campaign_id,
                                             scheduled_posts.c.state)).all()
        zone = cal.ZoneInfo(plan.file.campaigns[next(iter(plan.file.campaigns))].timezone)
        months = Counter(row.due_at.astimezone(zone).strftime("%Y-%m") for row in rows)
        weeks = Counter(cal.iso_week(row.due_at.astimezone(zone).date()) for row in rows)
        month, in_month = months.most_common(1)[0]
        week, in_week = weeks.most_common(1)[0]
        campaign = Counter(row.campaign_id for row in rows).most_common(1)[0][0]
        in_campaign = sum(1 for row in rows if row.campaign_id == campaign
                          and row.due_at.astimezone(zone).strftime("%Y-%m") == month)

        app = create_app(Workspace(db, SECRET, posts_file=posts, clock=lambda: now))
        http = _signed_in(app)
        size = len(http.get(f"/calendar?month={month}").content)
        first = date.fromisoformat(month + "-01")
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        known = cal.known(db)
        feed_events = http.get("/" + feed_path(SECRET, None)).content.count(b"BEGIN:VEVENT")
        sent = sum(1 for row in rows if row.state == "sent")
        last_page = max(1, -(-sent // 50))

        _say(f"{backend}: timing, {samples} requests per page")
        label = f"{backend}: "
        timings = [
            _timed(f"{label}month view, {month} ({in_month:,} posts)", _get(http, f"/calendar?month={month}"),
                   samples, WARMUP),
            _timed(f"{label}month view, one campaign ({in_campaign:,} posts)",
                   _get(http, f"/calendar?month={month}&campaign={campaign}"), samples, WARMUP),
            _timed(f"{label}week view, {week} ({in_week:,} posts)", _get(http, f"/calendar?view=week&week={week}"),
                   samples, WARMUP),
            _timed(f"{label}history, newest sent ({sent:,} sent posts)", _get(http, "/history"), samples, WARMUP),
            _timed(f"{label}history, oldest page ({last_page})", _get(http, f"/history?page={last_page}"),
                   samples, WARMUP),
            _timed(f"{label}problems (failed posts)", _get(http, "/problems"), samples, WARMUP),
            _timed(f"{label}  of the month: query and days only",
                   lambda: cal.entries_by_day(db, first, last, cal.Filters(), known), samples, WARMUP),
            _timed(f"{label}ICS feed, all campaigns ({feed_events:,} events)",
                   _get(http, "/" + feed_path(SECRET, None)), FEED_SAMPLES, 1),
            _timed(f"{label}  the same, events not cached (a new process)",
                   lambda: (event_cache.clear(), _get(http, "/" + feed_path(SECRET, None))()), COLD_SAMPLES, 0),
        ]
        info = {f"{backend} queue": f"{len(rows):,} occurrences (sync {synced:.1f} s); busiest month {month} with "
                                    f"{in_month:,}, busiest week {week} with {in_week:,}; month page {size:,} bytes"}
        month_ms = 1000 * timings[0].median
        goals = [Goal(f"{backend}: month view, median server time", month_ms, MONTH_GOAL_MS, " ms",
                      note=f"min {1000 * timings[0].min:.1f} ms; {in_month:,} posts in the month"),
                 Goal(f"{backend}: history page, median server time", 1000 * timings[3].median, HISTORY_GOAL_MS,
                      " ms", note=f"min {1000 * timings[3].min:.1f} ms; newest 50 of {sent:,} sent posts")]
        return info, {t.label: t.as_dict() for t in timings}, goals
    finally:
        db.engine.dispose()


def run(args: argparse.Namespace) -> dict:
    from .foundation import NOW, PNG, TARGET, build

    samples = max(1, getattr(args, "web_samples", SAMPLES))
    folder = Path(tempfile.mkdtemp(prefix="praatmee-bench-web-"))
    info, timings, goals = {}, {}, []
    try:
        text, count, _summary = build(TARGET)
        if count != TARGET:
            raise BenchmarkError(f"generator made {count} occurrences instead of {TARGET}")
        posts = folder / "posts.yaml"
        posts.write_text(text, encoding="utf-8")
        (folder / "media").mkdir()
        (folder / "media" / "foto.png").write_bytes(PNG)
        now = datetime.fromisoformat(NOW)
        backends = [("SQLite", f"sqlite:///{folder / 'queue.db'}")]
        name = f"praatmee_bench_web_{os.getpid()}"
        if getattr(args, "web_postgres", False):
            backends.append(("PostgreSQL", postgres_database(name, "create")))
        try:
            for backend, url in backends:
                part_info, part_timings, part_goals = _measure(backend, url, posts, now, samples)
                info.update(part_info)
                timings.update(part_timings)
                goals += part_goals
        finally:
            if len(backends) > 1:
                postgres_database(name, "drop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if hasattr(os, "getloadavg"):
        info["load average"] = " ".join(f"{x:.1f}" for x in os.getloadavg()) + \
            f" on {os.cpu_count()} CPUs (wall times above the CPU times mean other processes were busy)"
    info["samples"] = f"{samples} per page after {WARMUP} untimed ({FEED_SAMPLES} and {COLD_SAMPLES} for the feed); " \
                      "times include the session check and the TestClient's own overhead"
    return {"title": f"calendar pages on a queue of {TARGET:,} occurrences", "info": info,
            "timings": timings, "goals": [goal.as_dict() for goal in goals]}
