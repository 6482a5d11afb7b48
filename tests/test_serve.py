"""`campaign serve` as a real process: on time, live edits, bad edits, SIGTERM and SIGKILL.

Posts are scheduled a few seconds ahead so each test takes seconds; every wait is bounded.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from campaign.cli import main
from tests.fakes.base import Fault
from tests.stage import mastodon_account_yaml, mastodon_env, x_account_yaml, x_env

CAMPAIGN = str(Path(sys.executable).parent / "campaign")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local(moment: datetime) -> str:
    return moment.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M:%S")


def soon(seconds: float) -> datetime:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).replace(microsecond=0)


class Serving:
    def __init__(self, stage, *extra):
        self.log_path = stage.folder / f"serve-{time.monotonic_ns()}.log"
        env = stage.subprocess_env(CAMPAIGN_HTTP_TIMEOUT="3")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([CAMPAIGN, "serve", str(stage.posts_file), "--db", stage.db_url,
                                         "--tick", "5", *extra], env=env, stdout=self.log, stderr=self.log)
        self.wait_for("event=serve-start")

    def text(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, needle: str, timeout: float = 30, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while self.text().count(needle) < count:
            assert self.process.poll() is None, f"serve exited: {self.text()}"
            assert time.monotonic() < deadline, f"no {needle!r} in: {self.text()}"
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log.close()


def wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def setup_m(stage, fake, posts):
    stage.environ.update(mastodon_env(fake))
    stage.write(mastodon_account_yaml(fake), posts, accounts="tas_m")


def test_posts_go_out_once_each_in_due_order_and_never_early(stage, fake_mastodon):
    # How late they are is a goal of benchmarks/serve.py: here it would only measure the machine's load.
    due = {f"op tijd {n}": soon(2 + n) for n in range(3)}
    setup_m(stage, fake_mastodon, "".join(f"- {{text: '{t}', at: '{local(d)}'}}\n" for t, d in due.items()))
    serving = Serving(stage)
    try:
        wait_until(lambda: len(fake_mastodon.posts) == 3)
    finally:
        assert serving.stop() == 0
    assert [p["text"] for p in fake_mastodon.posts] == sorted(due, key=due.get)
    for post in fake_mastodon.posts:
        assert post["created_at"] >= due[post["text"]], (post["text"], post["created_at"])
    assert serving.text().count("event=post state=sent") == 3
    assert "account=tas_m campaign=tas" in serving.text()


def test_editing_posts_yaml_while_serving(stage, fake_mastodon):
    keep = soon(3)
    setup_m(stage, fake_mastodon, f"- {{id: blijft, text: 'blijft', at: '{local(keep)}'}}\n")
    serving = Serving(stage)
    try:
        # Timed from now, not from before start-up: a slow start cannot let the post go out before it is removed.
        drop = soon(4)
        setup_m(stage, fake_mastodon, f"- {{id: blijft, text: 'blijft', at: '{local(keep)}'}}\n"
                                      f"- {{id: weg, text: 'gaat weg', at: '{local(drop)}'}}\n")
        serving.wait_for("event=synced", count=2)
        # Due after the removed one: once it is out, the removed one would have gone out before it.
        added = drop + timedelta(seconds=1)
        setup_m(stage, fake_mastodon, f"- {{id: blijft, text: 'blijft', at: '{local(keep)}'}}\n"
                                      f"- {{id: nieuw, text: 'nieuw erbij', at: '{local(added)}'}}\n")
        serving.wait_for("event=synced", count=3)
        wait_until(lambda: "nieuw erbij" in [p["text"] for p in fake_mastodon.posts])
    finally:
        assert serving.stop() == 0
    assert sorted(p["text"] for p in fake_mastodon.posts) == ["blijft", "nieuw erbij"]


def test_invalid_edit_is_reported_once_and_the_last_good_schedule_keeps_running(stage, fake_mastodon):
    due = soon(4)
    setup_m(stage, fake_mastodon, f"- {{text: 'gepland', at: '{local(due)}'}}\n")
    serving = Serving(stage)
    try:
        stage.posts_file.write_text(stage.posts_file.read_text().replace("text:", "txet:"))
        serving.wait_for("event=invalid-file")
        wait_until(lambda: len(fake_mastodon.posts) == 1)
        time.sleep(1.5)  # several watch intervals
        assert serving.process.poll() is None
    finally:
        assert serving.stop() == 0
    assert serving.text().count("event=invalid-file") == 1
    assert "unknown key 'txet'" in serving.text()


def test_sigterm_during_a_slow_post_finishes_it_and_exits_0(stage, fake_mastodon):
    setup_m(stage, fake_mastodon, f"- {{text: 'traag maar zeker', at: '{local(soon(1))}'}}\n")
    fake_mastodon.inject("post", Fault.slow(2.0))
    serving = Serving(stage)
    wait_until(lambda: len(fake_mastodon.requests_to("post")) == 1)
    assert serving.stop(signal.SIGTERM) == 0
    assert [p["text"] for p in fake_mastodon.posts] == ["traag maar zeker"]
    assert [r.state for r in stage.rows()] == ["sent"]


def test_sigkill_mid_post_then_restart_posts_once(stage, fake_x):
    stage.environ.update(x_env(fake_x))
    stage.write(x_account_yaml(fake_x), f"- {{text: 'precies een keer', at: '{local(soon(1))}'}}\n",
                accounts="tas_x")
    fake_x.inject("post", Fault.slow(1.5))
    serving = Serving(stage, "--lease", "4")
    wait_until(lambda: len(fake_x.requests_to("post")) == 1)
    serving.stop(signal.SIGKILL)
    wait_until(lambda: len(fake_x.posts) == 1)  # the platform got it; we never heard back
    assert [r.state for r in stage.rows()] == ["sending"]
    restarted = Serving(stage, "--lease", "4")
    try:
        wait_until(lambda: stage.rows()[0].state == "sent", timeout=20)
    finally:
        assert restarted.stop() == 0
    assert [p["text"] for p in fake_x.posts] == ["precies een keer"]
    assert stage.rows()[0].remote_id == fake_x.posts[0]["id"]


def test_status_shows_the_running_server(stage, fake_mastodon):
    setup_m(stage, fake_mastodon, f"- {{text: 'later', at: '{local(soon(3600))}'}}\n")
    serving = Serving(stage)
    try:
        result = CliRunner().invoke(main, ["status", str(stage.posts_file), "--db", stage.db_url])
        assert "serve running on host" in result.output and f"pid {serving.process.pid}" in result.output
    finally:
        assert serving.stop() == 0
    result = CliRunner().invoke(main, ["status", str(stage.posts_file), "--db", stage.db_url])
    assert "serve running" not in result.output


def test_sigterm_at_any_moment_stops_cleanly(stage, fake_mastodon):
    """Signals land during start-up, while arming the next wake-up, and while idle: always exit 0."""
    setup_m(stage, fake_mastodon, "".join(f"- {{text: 'snel {n}', at: '{local(soon(1))}'}}\n"
                                          for n in range(3)))
    for delay in (0.0, 0.9, 1.1, 1.3, 2.5):
        serving = Serving(stage)
        time.sleep(delay)
        assert serving.stop(timeout=15) == 0, serving.text()
        assert "event=serve-stop" in serving.text()
