"""campaign.send.runner (the steps `campaign run` and `campaign serve` share) and the queue functions
that keep SQL out of campaign/send: heartbeat rows and the stored accounts. On every backend."""
from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from campaign.errors import CampaignError, ConfigError
from campaign.queue import heartbeat
from campaign.queue.accounts import StoredAccount, load_accounts
from campaign.queue.status import status
from campaign.send.runner import Runner

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2027, 1, 18, 9, 0, 30, tzinfo=timezone.utc)  # 10:00:30 in Amsterdam: 'een' is due

POSTS = """\
timezone: Europe/Amsterdam
accounts:
  tas_x: {platform: x, handle: "@teamsaantstuur"}
  tas_m: {platform: mastodon, instance: "https://social.example", handle: "@team@social.example", max_per_day: 4}
campaigns:
  tas:
    accounts: [tas_m]
    posts:
      - {id: een, text: "Een", at: 2027-01-18 10:00}
      - {id: twee, text: "Twee", at: 2027-01-19 10:00}
"""
BROKEN = POSTS.replace("[tas_m]", "[tas_y]")


@pytest.fixture
def posts_file(write_posts):
    return write_posts(POSTS)


def no_credentials():
    raise AssertionError("credentials were read, though nothing needed them")


def test_an_idle_tick_syncs_once_and_runs_no_dispatcher(db, posts_file):
    early = NOW - timedelta(days=1)
    first = Runner(db, posts_file, no_credentials, clock=lambda: early).run_once()
    assert first.sync.summary is not None and first.sync.summary.queued == 2
    assert first.report is None and first.alerts is None and first.exit_code == 0
    again = Runner(db, posts_file, no_credentials, clock=lambda: early).run_once()
    assert again.sync.summary is None and again.sync.problem is None and again.report is None


def test_an_invalid_edit_is_recorded_once_while_the_last_good_queue_runs_on(db, posts_file):
    runner = Runner(db, posts_file, lambda: {}, clock=lambda: NOW)
    assert runner.sync(NOW).summary is not None
    posts_file.write_text(BROKEN, encoding="utf-8")
    first = runner.sync(NOW)
    assert isinstance(first.problem, ConfigError) and first.new_problem and first.summary is None
    assert not runner.sync(NOW).changed  # the same content: nothing looked at again
    forced = runner.sync(NOW, force=True)
    assert forced.problem is not None and not forced.new_problem  # said once
    assert [f.error_count for f in status(db, NOW).invalid_files] == [1]
    result = Runner(db, posts_file, lambda: {}, clock=lambda: NOW).run_once()
    # 'een' (queued by the good file) is still taken; without credentials it waits, a configuration error.
    assert result.sync.problem is not None and result.report is not None
    assert [o.state for o in result.report.outcomes] == ["deferred"]
    assert any("CAMPAIGN_TAS_M" in message for message in result.config_errors), result.config_errors
    assert result.exit_code == 2
    posts_file.write_text(POSTS, encoding="utf-8")
    assert runner.sync(NOW).problem is None and status(db, NOW).invalid_files == []


def test_an_unreadable_file_is_recorded_or_raised_when_strict(db, posts_file):
    runner = Runner(db, posts_file, no_credentials, clock=lambda: NOW)
    runner.sync(NOW)
    posts_file.unlink()
    with pytest.raises(CampaignError, match="file not found"):
        runner.run_once()
    assert status(db, NOW).invalid_files == []  # a cron tick that cannot read its file records nothing
    result = runner.sync(NOW)
    assert result.fingerprint is None and result.new_problem
    assert [f.sha256 for f in status(db, NOW).invalid_files] == [""]


def test_heartbeat_rows(db, posts_file):
    heartbeat.register(db, "host:1:abc", posts_file, NOW)
    heartbeat.beat(db, "host:1:abc", NOW + timedelta(seconds=10))
    [server] = status(db, NOW + timedelta(seconds=20)).servers
    assert (server.worker, server.kind, server.last_tick_at, server.beating) == (
        "host:1:abc", "serve", NOW + timedelta(seconds=10), True)
    assert server.posts_file == str(posts_file.resolve())
    heartbeat.unregister(db, "host:1:abc", NOW + timedelta(seconds=30))
    assert status(db, NOW + timedelta(seconds=40)).servers == []


def test_stored_accounts(db, posts_file):
    Runner(db, posts_file, no_credentials, clock=lambda: NOW - timedelta(days=1)).sync(NOW)
    assert load_accounts(db) == {
        "tas_x": StoredAccount("tas_x", "x", "@teamsaantstuur", None, None),
        "tas_m": StoredAccount("tas_m", "mastodon", "@team@social.example", "https://social.example", 4)}


def test_campaign_send_holds_no_sql():
    """Queue SQL lives in campaign.queue; the sending side calls its functions."""
    offenders = []
    for path in (ROOT / "campaign" / "send").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names
                          if name.split(".")[0] == "sqlalchemy" or name == "campaign.queue.tables"]
    assert offenders == []
