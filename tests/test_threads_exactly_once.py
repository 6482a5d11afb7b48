"""Threads keeps the exactly-once promise of the other platforms with real `campaign run`
processes: overlapping runs, and runs killed (SIGKILL) mid-send. Threads has no idempotency,
so everything rests on the claim and on reading the timeline after a lost publish."""
from __future__ import annotations

from collections import Counter

from tests.fakes.base import Fault
from tests.stage import threads_account_yaml, threads_env
from tests.test_concurrency import kill_runs_then_settle, posted_texts, start_run


def write_many(stage, fake, count: int) -> list[str]:
    stage.environ.update(threads_env(fake))
    texts = [f"Draad {number:04d} over #zelfstandigeteams" for number in range(count)]
    lines = "".join(f"- {{id: t{n}, text: '{text}', at: {stage.at(-(n % 90) - 1)}}}\n" for n, text in enumerate(texts))
    stage.write(threads_account_yaml(fake), lines, accounts="tas_t", extra="    late: 1d\n")
    return texts


def test_overlapping_runs_publish_each_thread_once(stage, fake_threads):
    texts = write_many(stage, fake_threads, 120)
    processes = [start_run(stage) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], results
    assert all(out == "" and err == "" for out, err in results)
    counts = posted_texts(fake_threads)
    assert set(counts) == set(texts) and set(counts.values()) == {1}
    assert {r.state for r in stage.rows()} == {"sent"}


def test_killed_runs_publish_nothing_twice(stage, fake_threads):
    texts = write_many(stage, fake_threads, 150)
    fake_threads.inject("post", Fault.slow(0.03), times=300)  # kills land between container and publish too
    kills = kill_runs_then_settle(stage, lambda: len(fake_threads.requests_to("post")), max_kills=15, seed=20261201)
    rows = stage.rows()
    states = Counter(r.state for r in rows)
    assert len(rows) == len(texts) and not states["queued"] and not states["sending"], states
    counts = posted_texts(fake_threads)
    assert max(counts.values()) == 1, [t for t, n in counts.items() if n > 1]
    for row in rows:
        text = row.payload["parts"][0]["text"]
        if row.state == "sent":
            assert counts[text] == 1 and row.remote_id
        else:
            assert row.state == "unknown" and row.last_error, (row.key, row.state, row.last_error)
    assert kills >= 3, "the test should have killed some runs mid-flight"
