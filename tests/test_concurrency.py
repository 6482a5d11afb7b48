"""Overlapping cron runs and killed runs: every post reaches the platforms exactly once.

These start real `campaign run` processes against the loopback fakes; they are bounded in
count and time and stop by themselves.
"""
from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.fakes.base import Fault

CAMPAIGN = str(Path(sys.executable).parent / "campaign")


def start_run(stage, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([CAMPAIGN, "run", str(stage.posts_file), "--db", stage.db_url, *extra],
                            env=stage.subprocess_env(CAMPAIGN_HTTP_TIMEOUT="2"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def posted_texts(*fakes) -> Counter:
    return Counter(p["text"] for fake in fakes for p in fake.posts)


def test_four_overlapping_runs_post_each_of_200_exactly_once(stage, fake_x, fake_mastodon):
    texts = stage.write_many(fake_x, fake_mastodon, 200)
    processes = [start_run(stage) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in processes]
    codes = [p.returncode for p in processes]
    assert codes == [0, 0, 0, 0], results
    assert all(out == "" and err == "" for out, err in results)  # cron mails nothing when all is well
    counts = posted_texts(fake_x, fake_mastodon)
    assert set(counts) == set(texts) and set(counts.values()) == {1}
    assert {r.state for r in stage.rows()} == {"sent"}


def post_requests(*fakes) -> int:
    return sum(len(fake.requests_to("post")) for fake in fakes)


def unsettled(stage) -> int:
    return sum(r.state in ("queued", "sending") for r in stage.rows())


def wait_for_a_post(process: subprocess.Popen, fakes, before: int, deadline: float,
                    requests=None) -> bool:
    """Until this run has sent a post request (True) or ended (False): a kill then lands mid-flight,
    however long the run took to start and sync. requests: how many post requests the fakes have
    seen so far (default: their "post" requests)."""
    requests = requests or (lambda: post_requests(*fakes))
    while process.poll() is None and time.monotonic() < deadline:
        if requests() > before:
            return True
        time.sleep(0.01)
    return False


def kill_runs_then_settle(stage, requests, *, max_kills: int, seed: int, seconds: float = 240) -> int:
    """Start `campaign run`s and SIGKILL each soon after its first post request (`requests()` counts
    them) until max_kills or a run finishes with nothing left; then let unkilled runs finish the work
    (the killed runs' 3 s leases expire meanwhile). Returns how many runs were killed. Bounded by
    `seconds`, reached only when something is wrong."""
    random.seed(seed)
    deadline = time.monotonic() + seconds
    kills = 0
    while kills < max_kills and time.monotonic() < deadline:
        process = start_run(stage, "--lease", "3")
        if wait_for_a_post(process, (), requests(), deadline, requests):
            time.sleep(random.uniform(0.0, 0.3))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.communicate(timeout=60)
        if process.returncode == 0 and not unsettled(stage):
            break
    while unsettled(stage) and time.monotonic() < deadline:
        start_run(stage, "--lease", "3").communicate(timeout=120)
        if unsettled(stage):
            time.sleep(0.5)
    return kills


def test_killed_runs_lose_nothing_and_post_nothing_twice(stage, fake_x, fake_mastodon):
    texts = stage.write_many(fake_x, fake_mastodon, 300)
    fakes = (fake_x, fake_mastodon)
    for fake in fakes:  # ~30 ms a post, so kills land mid-flight
        fake.inject("post", Fault.slow(0.03), times=400)
    kills = kill_runs_then_settle(stage, lambda: post_requests(*fakes), max_kills=25, seed=20270118)
    rows = stage.rows()
    states = Counter(r.state for r in rows)
    assert len(rows) == len(texts), states
    assert not states["queued"] and not states["sending"], states
    counts = posted_texts(*fakes)
    assert max(counts.values()) == 1, [t for t, n in counts.items() if n > 1]
    for row in rows:
        text = row.payload["parts"][0]["text"]
        if row.state == "sent":
            assert counts[text] == 1
        else:
            assert row.state == "unknown" and row.last_error, (row.key, row.state, row.last_error)
    assert kills >= 3, "the test should have killed some runs mid-flight"
    assert sum(counts.values()) >= len(texts) - states["unknown"]
