"""Overlapping and killed `campaign run` processes against the LinkedIn fake: every post, and every
later part of a thread (a comment), reaches the page exactly once. Real processes, bounded."""
from __future__ import annotations

from collections import Counter

from tests.fakes.base import Fault
from tests.fakes.linkedin import linkedin_account_yaml, linkedin_env
from tests.test_concurrency import kill_runs_then_settle, start_run


def write_many(stage, fake, count: int) -> list[str]:
    """count due posts with distinct texts; every fifth a thread of two (a post and its comment)."""
    stage.environ.update(linkedin_env(fake))
    lines, texts = [], []
    for number in range(count):
        text = f"Bericht {number:05d} over #zelfstandigeteams (deel {number % 3})"
        at = stage.at(-(number % 90) - 1)
        if number % 5 == 0:
            texts += [text, text + " vervolg"]
            lines.append(f"- {{id: b{number}, thread: ['{text}', '{text} vervolg'], at: {at}}}\n")
        else:
            texts.append(text)
            lines.append(f"- {{id: b{number}, text: '{text}', at: {at}}}\n")
    stage.write(linkedin_account_yaml(fake), "".join(lines), accounts="tas_l", extra="    late: 1d\n")
    return texts


def calls(fake) -> int:
    return len(fake.requests_to("post")) + len(fake.requests_to("comment"))


def test_four_overlapping_runs_post_each_exactly_once(stage, fake_linkedin):
    texts = write_many(stage, fake_linkedin, 120)
    processes = [start_run(stage) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], results
    assert all(out == "" and err == "" for out, err in results)
    counts = Counter(p["text"] for p in fake_linkedin.posts)
    assert set(counts) == set(texts) and set(counts.values()) == {1}
    assert {r.state for r in stage.rows()} == {"sent"}


def test_killed_runs_lose_nothing_and_post_nothing_twice(stage, fake_linkedin):
    texts = write_many(stage, fake_linkedin, 150)
    fake_linkedin.inject("post", Fault.slow(0.03), times=400)
    fake_linkedin.inject("comment", Fault.slow(0.03), times=100)
    kills = kill_runs_then_settle(stage, lambda: calls(fake_linkedin), max_kills=20, seed=20261201)
    rows = stage.rows()
    states = Counter(r.state for r in rows)
    assert not states["queued"] and not states["sending"], states
    counts = Counter(p["text"] for p in fake_linkedin.posts)
    assert max(counts.values()) == 1, [t for t, n in counts.items() if n > 1]
    for row in rows:
        parts = [part["text"] for part in row.payload["parts"]]
        if row.state == "sent":
            assert all(counts[text] == 1 for text in parts), parts
        else:
            assert row.state == "unknown" and row.last_error, (row.key, row.state, row.last_error)
    assert kills >= 3, "the test should have killed some runs mid-flight"
    assert sum(counts.values()) >= len(texts) - 2 * states["unknown"]
    comments = [p for p in fake_linkedin.posts if p["kind"] == "comment"]
    by_id = {p["id"]: p for p in fake_linkedin.posts}
    assert all(by_id[c["reply_to"]]["text"] + " vervolg" == c["text"] for c in comments)
