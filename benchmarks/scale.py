"""Dispatch throughput on PostgreSQL with 1, 2, 4 and 8 dispatcher processes against a local fake,
and the latency of one claim. Needs a PostgreSQL server: CAMPAIGN_BENCH_POSTGRES (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres); a database of its own is created and dropped.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from . import BenchmarkError, postgres_database, clean_env, entry_point, run_checked
from .dispatch import FakeProcess, build_due

POSTS = 1000
COUNTS = (1, 2, 4, 8)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale-posts", type=int, default=POSTS, help="posts per measurement (default 1000)")


def _claim_latency(url: str, samples: int = 300) -> dict:
    """Median time of one claim (UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING)."""
    from campaign.queue import claims
    from campaign.queue.db import Database

    db = Database(url)
    now = datetime.now(timezone.utc)
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        claim = claims.claim_next_due(db, now, "bench-claim")
        times.append(time.perf_counter() - started)
        if claim is None:
            break
        claims.release(db, claim, now, None)
    db.engine.dispose()
    return {"claim_median_ms": round(1000 * statistics.median(times), 3),
            "claim_p95_ms": round(1000 * sorted(times)[int(len(times) * 0.95) - 1], 3)}


def run(args: argparse.Namespace) -> dict:
    n = getattr(args, "scale_posts", POSTS)
    folder = Path(tempfile.mkdtemp(prefix="praatmee-bench-scale-"))
    name = f"praatmee_bench_{os.getpid()}"
    url = postgres_database(name, "create")
    fake = FakeProcess("mastodon", folder)
    info, timings = {"posts": n, "cpus": os.cpu_count()}, {}
    try:
        for count in COUNTS:
            url = postgres_database(name, "create")
            fake.command("reset")
            text, environ = build_due("mastodon", fake.info, n, datetime.now(timezone.utc))
            posts = folder / "posts.yaml"
            posts.write_text(text)
            env = clean_env(**environ)
            run_checked([entry_point("campaign"), "sync", str(posts), "--db", url], cwd=folder, env=env, what="sync")
            started = time.perf_counter()
            processes = [subprocess.Popen([entry_point("campaign"), "run", str(posts), "--db", url], cwd=folder,
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                         for _ in range(count)]
            errors = [p.communicate(timeout=600)[1] for p in processes]
            elapsed = time.perf_counter() - started
            if any(p.returncode for p in processes):
                raise BenchmarkError(f"{count} dispatchers: a run failed: {errors}")
            stats = fake.command("stats")
            if stats["posts"] != n or stats["distinct_texts"] != n:
                raise BenchmarkError(f"{count} dispatchers: {stats['posts']} posts for {n} occurrences")
            info[f"dispatchers_{count}_posts_per_s"] = round(n / elapsed, 1)
            if count == 1:
                fake.command("reset")
                url = postgres_database(name, "create")
                run_checked([entry_point("campaign"), "sync", str(posts), "--db", url], cwd=folder, env=env,
                            what="sync")
                info.update(_claim_latency(url))
    finally:
        fake.stop()
        postgres_database(name, "drop")
        shutil.rmtree(folder, ignore_errors=True)
    return {"title": f"dispatch throughput on PostgreSQL, {n} posts to a loopback fake Mastodon "
                     f"(this machine has {os.cpu_count()} cores)",
            "info": info, "timings": timings, "goals": []}
