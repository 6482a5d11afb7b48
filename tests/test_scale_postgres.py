"""Many dispatchers, one PostgreSQL queue: 8 processes (cron runs and serve daemons) over 2,000 due posts,
two of them killed midway; and a database connection lost mid-dispatch. Every post goes out exactly once."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from campaign.queue.db import Database
from tests.conftest import POSTGRES_ADMIN_URL
from tests.fakes.base import Fault
from tests.stage import Stage, mastodon_account_yaml, mastodon_env

CAMPAIGN = str(Path(sys.executable).parent / "campaign")
pytestmark = pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="set CAMPAIGN_TEST_DATABASE_URL to a PostgreSQL server")


@pytest.fixture
def pg_stage(tmp_path, postgres_url):
    database = Database(postgres_url)
    yield Stage(tmp_path, {"CAMPAIGN_HTTP_TIMEOUT": "3"}, database, postgres_url)
    database.engine.dispose()


def lift_limits(*fakes) -> None:
    for fake in fakes:
        for endpoint in list(fake.rate_limits):
            fake.set_rate_limit(endpoint, 10**9, 86_400)


def start(stage, command: str, log: Path, *extra: str) -> subprocess.Popen:
    argv = [CAMPAIGN, command, str(stage.posts_file), "--db", stage.db_url, "--lease", "4", *extra]
    if command == "serve":
        argv += ["--tick", "2"]
    return subprocess.Popen(argv, env=stage.subprocess_env(), stdout=open(log, "w"), stderr=subprocess.STDOUT)


def test_eight_dispatchers_two_killed_every_post_once(pg_stage, fake_x, fake_mastodon):
    stage = pg_stage
    lift_limits(fake_x, fake_mastodon)
    texts = stage.write_many(fake_x, fake_mastodon, 2000, prefix="Schaalbericht")
    for fake in (fake_x, fake_mastodon):
        fake.inject("post", Fault.slow(0.005), times=2000)  # a realistic, non-zero platform time
    kinds = ["run"] * 5 + ["serve"] * 3
    processes = [start(stage, kind, stage.folder / f"{kind}{n}.log") for n, kind in enumerate(kinds)]
    try:
        deadline = time.monotonic() + 30
        while len(fake_x.posts) + len(fake_mastodon.posts) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        processes[0].send_signal(signal.SIGKILL)  # a cron run
        processes[5].send_signal(signal.SIGKILL)  # a serve daemon
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            states = Counter(r.state for r in stage.rows())
            if not states["queued"] and not states["sending"]:
                break
            time.sleep(0.5)
    finally:
        # Cron runs end by themselves once nothing is due; only the daemons are asked to stop.
        for kind, process in zip(kinds, processes):
            if kind == "serve" and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=90) for process in processes]
    logs = {path.name: path.read_text()[-2000:] for path in stage.folder.glob("*.log")}
    assert codes[0] == -signal.SIGKILL and codes[5] == -signal.SIGKILL
    states = Counter(r.state for r in stage.rows())
    # A run exits 1 only when it reports a post it could not settle (unknown); never otherwise.
    allowed = (0, 1) if states["unknown"] else (0,)
    assert all(code in allowed for n, code in enumerate(codes) if n not in (0, 5)), (codes, logs)
    assert states["sent"] + states["unknown"] == 2000, (states, logs)
    counts = Counter(p["text"] for fake in (fake_x, fake_mastodon) for p in fake.posts)
    assert max(counts.values()) == 1
    assert len(counts) >= 2000 - states["unknown"]
    assert set(counts) <= set(texts)


def test_database_connection_lost_mid_dispatch(pg_stage, fake_mastodon):
    """The database goes away while a post is with the platform: a clear error, then exactly once."""
    stage = pg_stage
    stage.environ.update(mastodon_env(fake_mastodon))
    stage.write(mastodon_account_yaml(fake_mastodon), f"- {{text: 'Verbinding weg', at: {stage.at(-2)}}}\n"
                                                      f"- {{text: 'Daarna', at: {stage.at(-1)}}}\n", accounts="tas_m")
    fake_mastodon.inject("post", Fault.slow(1.5))
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    database = stage.db.url.database

    def cut_connections():
        deadline = time.monotonic() + 10
        while not fake_mastodon.requests_to("post") and time.monotonic() < deadline:
            time.sleep(0.02)
        with admin.connect() as connection:
            connection.execute(text(f"ALTER DATABASE {database} ALLOW_CONNECTIONS false"))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database})

    cutter = threading.Thread(target=cut_connections)
    cutter.start()
    try:
        first = subprocess.run([CAMPAIGN, "run", str(stage.posts_file), "--db", stage.db_url, "--lease", "3"],
                               env=stage.subprocess_env(), capture_output=True, text=True, timeout=60)
    finally:
        cutter.join(timeout=15)
        with admin.connect() as connection:
            connection.execute(text(f"ALTER DATABASE {database} ALLOW_CONNECTIONS true"))
        admin.dispose()
    assert first.returncode == 2, first
    assert first.stderr.startswith("campaign: database postgresql+psycopg://") and "Traceback" not in first.stderr
    assert len(first.stderr.strip().splitlines()) == 1
    assert [p["text"] for p in fake_mastodon.posts] == ["Verbinding weg"]  # it went out; we could not record it
    time.sleep(3.5)  # the lease of the interrupted post runs out
    second = subprocess.run([CAMPAIGN, "run", str(stage.posts_file), "--db", stage.db_url, "--lease", "3"],
                            env=stage.subprocess_env(), capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second
    assert sorted(p["text"] for p in fake_mastodon.posts) == ["Daarna", "Verbinding weg"]  # once each
    assert {r.state for r in stage.rows()} == {"sent"}
