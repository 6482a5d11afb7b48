"""The queue tells the truth, seen from the command line: real `campaign run` processes against
fakes that lose answers, answer 500 or answer 2xx with a body that is not JSON, killed at random
moments; and what a person or cron sees when a library misbehaves (issue 11).

The subprocess test is bounded in count and time and stops by itself.
"""
from __future__ import annotations

import random
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from campaign.cli import main
from tests.fakes.base import Fault
from tests.stage import mastodon_account_yaml, mastodon_env

CAMPAIGN = str(Path(sys.executable).parent / "campaign")


def invoke(stage, *args, **env):
    environment = {**{k: None for k in ("CAMPAIGN_DATABASE_URL", "CAMPAIGN_FILE", "CAMPAIGN_LOG_FILE")},
                   **stage.environ, **env}
    return CliRunner().invoke(main, [str(a) for a in args], env=environment, catch_exceptions=False)


def test_a_library_bug_is_one_line_on_stderr_and_a_traceback_in_the_log_file(stage, fake_mastodon, monkeypatch):
    from mastodon import Mastodon

    stage.environ.update(mastodon_env(fake_mastodon))
    stage.write(mastodon_account_yaml(fake_mastodon),
                f"- {{text: stuk, at: {stage.at(-2)}}}\n- {{text: heel, at: {stage.at(-1)}}}\n", accounts="tas_m")
    original = Mastodon.status_post

    def buggy(self, status, *args, **kwargs):
        if status == "stuk":
            raise IndexError("list index out of range")  # before anything is sent
        return original(self, status, *args, **kwargs)

    monkeypatch.setattr(Mastodon, "status_post", buggy)
    log_file = stage.folder / "logs" / "campaign.log"
    log_file.parent.mkdir()
    result = invoke(stage, "run", stage.posts_file, "--db", stage.db_url, CAMPAIGN_LOG_FILE=str(log_file))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if "IndexError" in line]
    assert "failed tas_m" in line and "IndexError: list index out of range" in line
    assert [p["text"] for p in fake_mastodon.posts] == ["heel"]
    logged = log_file.read_text()
    assert "Traceback" in logged and "IndexError" in logged and "buggy" in logged
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


def test_dry_run_says_what_is_held_back_and_what_would_be_missed(stage, fake_mastodon):
    stage.environ.update(mastodon_env(fake_mastodon))
    stage.write(mastodon_account_yaml(fake_mastodon).replace("}", ", max_per_day: 1}"),
                f"- {{text: een, at: {stage.at(-3)}}}\n- {{text: twee, at: {stage.at(-2)}}}\n", accounts="tas_m")
    result = invoke(stage, "run", stage.posts_file, "--db", stage.db_url, "--dry-run")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if not line.startswith("  ")]
    assert lines[0].startswith("would post #1 to tas_m")
    assert lines[1].startswith("would hold back #2 to tas_m") and "max_per_day is 1" in lines[1]
    assert fake_mastodon.posts == []


# -- the black box -----------------------------------------------------------------------------

def _faults(rng: random.Random, count: int) -> list[Fault]:
    """A hostile mix: most posts go through slowly (so kills land mid-flight), the rest meet a
    lost answer (stored or not), a 500, a reset connection or a 2xx that is not JSON."""
    kinds = [lambda: Fault.slow(0.03)] * 6 + [
        lambda: Fault.drop(store=True), lambda: Fault.drop(store=False), lambda: Fault.server_error(500),
        lambda: Fault.reset(store=True), lambda: Fault.garble(200, store=True),
        lambda: Fault.garble(200, store=False), lambda: Fault.server_error(502)]
    return [rng.choice(kinds)() for _ in range(count)]


def _start(stage, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([CAMPAIGN, "run", str(stage.posts_file), "--db", stage.db_url, "--lease", "3", *extra],
                            env=stage.subprocess_env(CAMPAIGN_HTTP_TIMEOUT="2"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _unsettled(stage) -> int:
    return sum(1 for row in stage.rows() if row.state in ("queued", "sending"))


def test_killed_runs_against_a_lying_network_leave_a_queue_that_matches_the_platforms(stage, fake_x, fake_mastodon):
    texts = stage.write_many(fake_x, fake_mastodon, 60, prefix="Waarheid")
    rng = random.Random(20271111)
    for fake in (fake_x, fake_mastodon):
        for fault in _faults(rng, 55):
            fake.inject("post", fault)
    subprocess.run([CAMPAIGN, "sync", str(stage.posts_file), "--db", stage.db_url],
                   env=stage.subprocess_env(), check=True, capture_output=True, timeout=120)
    assert _unsettled(stage) == len(texts)
    stderr, kills, deadline = [], 0, time.monotonic() + 240
    while _unsettled(stage) and time.monotonic() < deadline:
        before = _unsettled(stage)
        process = _start(stage)
        if kills < 8:
            # Kill only once this run has made progress, so every kill lands mid-work, never before.
            wait_until = time.monotonic() + 60
            while process.poll() is None and _unsettled(stage) >= before - rng.randint(1, 6) \
                    and time.monotonic() < wait_until:
                time.sleep(0.05)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
                process.communicate(timeout=30)
                continue
        out, err = process.communicate(timeout=180)
        stderr.append(err)
        if _unsettled(stage) and process.returncode in (0, 1):
            time.sleep(0.5)  # what is left is a killed run's post, waiting for its lease (3 s)
    rows = stage.rows()
    states = Counter(row.state for row in rows)
    assert not _unsettled(stage), states
    assert kills >= 3, "the test should have killed some runs mid-flight"
    assert not any("Traceback" in err for err in stderr), [e for e in stderr if "Traceback" in e][:1]
    public = Counter(p["text"] for fake in (fake_x, fake_mastodon) for p in fake.posts if not p.get("deleted"))
    assert max(public.values()) == 1, [t for t, n in public.items() if n > 1]
    remote_ids = {str(p["id"]) for fake in (fake_x, fake_mastodon) for p in fake.posts}
    for row in rows:
        text = row.payload["parts"][0]["text"]
        if row.state == "sent":
            assert public[text] == 1 and row.remote_id in remote_ids, (row.key, row.last_error)
        elif row.state == "failed":
            assert public[text] == 0, (row.key, row.last_error)
        else:
            assert row.state == "unknown" and "campaign resolve" in row.last_error, (row.key, row.state)
    # Sent is exactly what is public: nothing public that the queue does not know as sent or unknown.
    for text in public:
        [row] = [r for r in rows if r.payload["parts"][0]["text"] == text]
        assert row.state in ("sent", "unknown"), (text, row.state, row.last_error)
    print(f"agreement: {dict(states)} after {kills} kills")


# -- secrets echoed by a platform never leave (issue 12) ----------------------------------------

def test_a_token_echoed_in_an_error_body_is_never_printed_stored_or_logged(stage, fake_mastodon):
    from tests.cli_helpers import database_dump

    token = fake_mastodon.account.access_token
    stage.environ.update(mastodon_env(fake_mastodon))
    stage.write(mastodon_account_yaml(fake_mastodon),
                f"- {{text: een, at: {stage.at(-2)}}}\n- {{text: twee, at: {stage.at(-1)}}}\n", accounts="tas_m")
    echo = {"error": f"Invalid request: Authorization: Bearer {token} (token {token} rejected)"}
    fake_mastodon.inject("post", Fault.status(422, body=echo))
    fake_mastodon.inject("post", Fault.status(401, body=echo))
    log_file = stage.folder / "debug.log"
    result = invoke(stage, "run", stage.posts_file, "--db", stage.db_url, CAMPAIGN_LOG_FILE=str(log_file))
    assert result.exit_code == 1 and "Invalid request" in result.output
    assert token not in result.output
    assert token not in database_dump(stage.db)
    status = invoke(stage, "status", stage.posts_file, "--db", stage.db_url)
    assert token not in status.output
    checked = invoke(stage, "accounts", "check", stage.posts_file, "--db", stage.db_url)
    assert token not in checked.output
    assert not log_file.exists() or token not in log_file.read_text()
