"""`campaign serve`: lateness of 200 posts due over 60 s, and idle CPU with 10,000 future posts.

Goals (issue: daemon mode): lateness median <= 0.2 s and max <= 1 s; idle CPU ~ 0 (no busy polling).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from . import BenchmarkError, Goal, clean_env, entry_point, run_checked
from .dispatch import FakeProcess, q

ZONE = ZoneInfo("Europe/Amsterdam")
POSTS = 200
WINDOW = 60.0
IDLE_POSTS = 10_000
IDLE_SECONDS = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--serve-posts", type=int, default=POSTS, help="posts in the lateness run (default 200)")
    parser.add_argument("--serve-window", type=float, default=WINDOW, help="seconds they are spread over (60)")
    parser.add_argument("--idle-seconds", type=float, default=IDLE_SECONDS, help="idle CPU sampling time (10 s)")


def _start_serve(folder: Path, posts: Path, env: dict) -> tuple[subprocess.Popen, object]:
    log = open(folder / "serve.log", "w")
    process = subprocess.Popen([entry_point("campaign"), "serve", str(posts), "--db", str(folder / "q.db"),
                                "--tick", "30"], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while "event=serve-start" not in (folder / "serve.log").read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise BenchmarkError("campaign serve did not start: " + (folder / "serve.log").read_text()[-500:])
        time.sleep(0.05)
    return process, log


def _stop(process: subprocess.Popen, log) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    log.close()


def _lateness(args, folder: Path) -> tuple[dict, list[Goal]]:
    n, window = args.serve_posts, args.serve_window
    fake = FakeProcess("mastodon", folder)
    try:
        info = fake.info
        start = datetime.now(timezone.utc) + timedelta(seconds=8)
        due = {}
        lines = ["timezone: Europe/Amsterdam", "accounts:",
                 f"  bench: {{platform: mastodon, instance: {q(info['url'])}, handle: {q('@' + info['username'])}}}",
                 "campaigns:", "  bench:", "    accounts: [bench]", "    posts:"]
        for i in range(n):
            moment = (start + timedelta(seconds=window * i / n)).replace(microsecond=0)
            text = f"Op tijd {i + 1}"
            due[text] = moment
            lines.append(f"      - {{text: {q(text)}, at: '{moment.astimezone(ZONE):%Y-%m-%d %H:%M:%S}'}}")
        posts = folder / "lateness.yaml"
        posts.write_text("\n".join(lines) + "\n")
        env = clean_env(CAMPAIGN_BENCH_ACCESS_TOKEN=info["access_token"])
        run_checked([entry_point("campaign"), "sync", str(posts), "--db", str(folder / "q.db")], cwd=folder, env=env,
                    what="sync")
        process, log = _start_serve(folder, posts, env)
        try:
            deadline = time.monotonic() + window + 30
            while time.monotonic() < deadline:
                if json.loads(json.dumps(fake.command("stats")))["posts"] >= n:
                    break
                time.sleep(0.5)
        finally:
            _stop(process, log)
        created = {text: datetime.fromisoformat(at) for text, at in fake.command("created")["posts"]}
    finally:
        fake.stop()
    if len(created) != n:
        raise BenchmarkError(f"only {len(created)} of {n} posts went out")
    late = sorted((created[t] - due[t]).total_seconds() for t in due)
    result = {"posts": n, "window_s": window, "lateness_median_s": round(statistics.median(late), 4),
              "lateness_max_s": round(late[-1], 4), "lateness_min_s": round(late[0], 4)}
    goals = [Goal("serve lateness, median", result["lateness_median_s"], 0.2, "s"),
             Goal("serve lateness, max", result["lateness_max_s"], 1.0, "s")]
    return result, goals


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _idle(args, folder: Path) -> tuple[dict, list[Goal]]:
    posts = folder / "idle.yaml"
    posts.write_text("timezone: UTC\naccounts:\n"
                     "  m: {platform: mastodon, instance: 'https://social.example', handle: '@t@social.example'}\n"
                     "campaigns:\n  c:\n    accounts: [m]\n    posts:\n"
                     f"      - {{variants: [een, twee, drie], rrule: FREQ=HOURLY, from: '2030-01-01 00:00',"
                     f" count: {IDLE_POSTS}}}\n")
    (folder / "q.db").unlink(missing_ok=True)
    env = clean_env(CAMPAIGN_M_ACCESS_TOKEN="unused")
    run_checked([entry_point("campaign"), "sync", str(posts), "--db", str(folder / "q.db")], cwd=folder, env=env,
                what="sync")
    process, log = _start_serve(folder, posts, env)
    try:
        time.sleep(2.0)
        before = _cpu_seconds(process.pid)
        time.sleep(args.idle_seconds)
        used = _cpu_seconds(process.pid) - before
    finally:
        _stop(process, log)
    share = used / args.idle_seconds
    result = {"queued": IDLE_POSTS, "sampled_s": args.idle_seconds, "idle_cpu_s": round(used, 3),
              "idle_cpu_percent": round(100 * share, 2)}
    return result, [Goal("serve idle CPU", round(100 * share, 2), 1.0, "%",
                         "file watch once a second and a heartbeat; no polling of the queue")]


def run(args: argparse.Namespace) -> dict:
    for name, default in (("serve_posts", POSTS), ("serve_window", WINDOW), ("idle_seconds", IDLE_SECONDS)):
        if not hasattr(args, name):
            setattr(args, name, default)
    folder = Path(tempfile.mkdtemp(prefix="praatmee-bench-serve-"))
    try:
        late, late_goals = _lateness(args, folder)
        idle, idle_goals = _idle(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"title": f"campaign serve: lateness of {args.serve_posts} posts over {args.serve_window:.0f} s; "
                     f"idle CPU with {IDLE_POSTS:,} future posts",
            "info": {**late, **idle}, "timings": {}, "goals": [g.as_dict() for g in late_goals + idle_goals]}
