"""The campaign command end to end: exit codes, messages, formats, no tracebacks."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner
from sqlalchemy import select

from campaign.cli import main
from campaign.queue.db import Database
from campaign.queue.tables import scheduled_posts

NOW = "2026-12-01T12:00Z"
REPO = Path(__file__).resolve().parent.parent


def run(*args, env=None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    return result


def test_check_ok(basic_posts):
    result = run("check", basic_posts)
    assert result.exit_code == 0
    assert result.output == f"{basic_posts}: OK — 1 campaign, 5 occurrences on 1 account\n"


def test_check_reports_errors_with_exit_2(write_posts):
    path = write_posts("timezone: Mars/Olympus\naccounts: {}\ncampaigns: {}\n")
    result = run("check", path)
    assert result.exit_code == 2
    assert f"{path}:1:11: error: unknown time zone 'Mars/Olympus'" in result.output
    assert "Traceback" not in result.output


def test_missing_file_is_one_line_and_exit_2(tmp_path):
    for command in ("check", "plan", "sync"):
        result = run(command, tmp_path / "nope.yaml")
        assert result.exit_code == 2, command
        assert result.output.strip().endswith("nope.yaml: file not found")
        assert len(result.output.strip().splitlines()) == 1


def test_plan_refuses_an_invalid_file(write_posts):
    path = write_posts("accounts: {}\ncampaigns:\n  c: {posts: [{text: hoi}]}\n")
    result = run("plan", path)
    assert result.exit_code == 2
    assert "a post needs a schedule" in result.output


def test_plan_json_and_csv_and_window(basic_posts):
    everything = json.loads(run("plan", basic_posts, "--format", "json").output)
    assert [o["local_time"] for o in everything][:2] == ["2027-01-18T10:00:00+01:00", "2027-01-25T10:00:00+01:00"]
    assert everything[0]["utc"] == "2027-01-18T09:00:00Z"
    assert everything[0]["id"] == "tas/aankondiging/teamsaantstuur"
    assert [o["variant"] for o in everything[1:]] == [1, 2, 1, 2]
    window = json.loads(run("plan", basic_posts, "--format", "json", "--from", "2027-01-25",
                            "--until", "2027-01-28").output)
    assert [o["local_time"][:10] for o in window] == ["2027-01-25", "2027-01-28"]
    rows = list(csv.DictReader(io.StringIO(run("plan", basic_posts, "--format", "csv").output)))
    assert len(rows) == 5 and rows[0]["length"] == str(len("Nog even en dan gaat de Public Paper online: ") + 23)
    assert rows[0]["limit"] == "280"


def test_plan_plain_when_piped(basic_posts):
    result = run("plan", basic_posts)
    lines = result.output.splitlines()
    assert len(lines) == 5
    assert lines[0].split("\t")[:3] == ["2027-01-18T10:00:00+01:00", "2027-01-18T09:00:00Z", "teamsaantstuur"]


def test_sync_and_status(basic_posts, tmp_path):
    db = tmp_path / "q.db"
    first = run("sync", basic_posts, "--db", db, "--now", NOW)
    assert first.exit_code == 0
    assert "5 new queued, 0 updated, 0 cancelled, 0 unchanged" in first.output
    second = run("sync", basic_posts, "--db", db, "--now", NOW)
    assert "0 new queued, 0 updated, 0 cancelled, 5 unchanged" in second.output
    status = run("status", basic_posts, "--db", db, "--now", NOW)
    assert status.exit_code == 0
    assert "queued 5" in status.output and "Next due:" in status.output
    with Database(f"sqlite:///{db}").transaction() as connection:
        assert len(connection.execute(select(scheduled_posts)).all()) == 5


def test_default_database_lives_beside_posts_yaml(basic_posts):
    result = run("sync", basic_posts, "--now", NOW, env={"CAMPAIGN_DATABASE_URL": None})
    assert result.exit_code == 0
    assert (basic_posts.parent / "campaign.db").exists()


def test_database_from_environment(basic_posts, tmp_path):
    db = tmp_path / "env.db"
    assert run("sync", basic_posts, "--now", NOW, env={"CAMPAIGN_DATABASE_URL": f"sqlite:///{db}"}).exit_code == 0
    assert db.exists()


def test_corrupt_database_is_exit_2_with_one_line(basic_posts, tmp_path):
    db = tmp_path / "bad.db"
    db.write_bytes(b"garbage" * 1000)
    for args in (("sync", basic_posts), ("status",)):
        result = run(*args, "--db", db, "--now", NOW)
        assert result.exit_code == 2
        assert result.output.strip().splitlines() == [
            f"campaign: database sqlite:///{db}: is not a valid SQLite database (corrupt, or not a database file)"]


def test_unwritable_database_path(basic_posts, tmp_path):
    result = run("sync", basic_posts, "--db", tmp_path / "no" / "such" / "dir" / "q.db", "--now", NOW)
    assert result.exit_code == 2
    assert "folder" in result.output and "does not exist" in result.output


def test_invalid_now_is_a_usage_error(basic_posts):
    result = run("sync", basic_posts, "--now", "1 januari 2027")
    assert result.exit_code == 2
    assert "is not a date (2027-01-31), a local date-time (2027-01-31T10:00) or one with an offset" in result.output


def test_help_of_every_command_has_an_example():
    for command in main.list_commands(click.Context(main)):  # the lazily imported ones too
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example:" in result.output, command


def test_console_script_runs_without_traceback(tmp_path):
    bad = tmp_path / "posts.yaml"
    bad.write_bytes(b"\xff\xfe not utf-8")
    exe = Path(sys.executable).parent / "campaign"
    result = subprocess.run([str(exe), "check", str(bad)], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "CAMPAIGN_DATABASE_URL": ""})
    assert result.returncode == 2
    assert "not UTF-8" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_example_posts_yaml_is_valid():
    result = run("check", REPO / "posts.yaml")
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_a_first_sync_and_status_load_only_what_they_use(basic_posts, tmp_path):
    """A new database without approvals or notify: no Alembic, no approvals or alerts modules, none of
    the rarely used commands (each costs the start-up of every sync and status, issue 17)."""
    code = ("import sys\nfrom campaign.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as stop:\n    assert not stop.code, stop.code\n"
            "unused = {'alembic', 'campaign.alerts.notify', 'campaign.queue.approvals', 'campaign.cli.users_command',"
            " 'campaign.cli.approval_commands', 'campaign.cli.preview_command'}\n"
            "print(sorted(unused & set(sys.modules)))\n")
    db = tmp_path / "queue.db"
    for args in (["sync", str(basic_posts), "--db", str(db), "--now", NOW], ["status", "--db", str(db), "--now", NOW]):
        result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "[]", args


def test_the_garbage_collector_is_on_again_after_a_command(basic_posts, tmp_path):
    import gc

    assert gc.isenabled()
    assert run("sync", basic_posts, "--db", tmp_path / "q.db", "--now", NOW).exit_code == 0
    assert run("status", "--db", tmp_path / "q.db", "--now", NOW).exit_code == 0
    assert run("check", tmp_path / "missing.yaml").exit_code == 2  # and after an error
    assert gc.isenabled()


def test_the_console_script_closes_its_sqlite_database_before_it_exits(basic_posts, tmp_path):
    """A brief command leaves its objects to the exit uncollected (without_collector_pauses), so it
    closes its database itself: SQLite checkpoints the WAL and removes its side files as before."""
    exe = Path(sys.executable).parent / "campaign"
    db = tmp_path / "queue.db"
    for args in (["sync", str(basic_posts), "--db", str(db), "--now", NOW], ["status", "--db", str(db), "--now", NOW]):
        result = subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=tmp_path,
                                env={**os.environ, "CAMPAIGN_DATABASE_URL": ""})
        assert result.returncode == 0, result.stderr
        assert sorted(path.name for path in tmp_path.glob("queue.db*")) == ["queue.db"], args
