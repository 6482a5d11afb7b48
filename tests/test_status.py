"""`campaign status` (table, JSON, --check) and `campaign history`, on every backend.

Queue states are made directly through the library (sync, then UPDATE) rather than through
the platform fakes: what is tested here is how each state is reported, not how it arises.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select, update

from campaign.cli import main
from campaign.errors import ConfigError, NotFoundError
from campaign.spec.plan import load_plan
from campaign.queue.sync import file_fingerprint, is_synced, record_invalid_file, sync
from campaign.queue.status import history, status
from campaign.queue.tables import accounts, dispatchers, invalid_files, scheduled_posts

README = Path(__file__).resolve().parent.parent / "README.md"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)

POSTS = """\
timezone: Europe/Amsterdam
accounts:
  tas_x: {platform: x, handle: "@teamsaantstuur"}
  tas_m: {platform: mastodon, instance: "https://social.example", handle: "@team@social.example"}
campaigns:
  tas:
    accounts: [tas_x, tas_m]
    posts:
      - {id: een, text: "Een", at: 2027-01-18 10:00}
      - {id: twee, text: "Twee", at: 2027-01-19 10:00}
      - {id: drie, text: "Drie", at: 2027-01-20 10:00}
      - {id: vier, thread: ["Vier a", "Vier b"], at: 2027-01-21 10:00}
  zomer:
    accounts: [tas_x]
    posts:
      - {id: vijf, text: "Vijf", at: 2027-06-01 10:00}
"""


def cli(*args, env=None):
    env = {"CAMPAIGN_DATABASE_URL": None, "CAMPAIGN_FILE": None, **(env or {})}
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


@pytest.fixture
def posts_file(write_posts):
    return write_posts(POSTS)


@pytest.fixture
def queue(db, posts_file):
    sync(db, load_plan(posts_file), NOW, fingerprint=file_fingerprint(posts_file))
    return db


def set_post(db, key: str, **values) -> None:
    with db.transaction(write=True) as connection:
        done = connection.execute(update(scheduled_posts).where(scheduled_posts.c.key == key)
                                  .values(updated_at=values.pop("updated_at", NOW), **values))
        assert done.rowcount == 1, key


def queued_keys(db) -> list[str]:
    with db.transaction() as connection:
        return sorted(connection.execute(select(scheduled_posts.c.key).where(scheduled_posts.c.state == "queued"))
                      .scalars())


def sent(db, key: str, at: datetime, url: str) -> None:
    set_post(db, key, state="sent", sent_at=at, remote_url=url, remote_id=url.rsplit("/", 1)[-1], attempts=1)


def add_server(db, worker: str, *, last_tick: datetime, started: datetime, host: str = "web1", pid: int = 4242):
    with db.transaction(write=True) as connection:
        connection.execute(insert(dispatchers).values(worker=worker, kind="serve", host=host, pid=pid,
                                                      started_at=started, last_tick_at=last_tick))


BROKEN = POSTS.replace("[tas_x]", "[tas_y]")  # one error
TWO_ERRORS = POSTS.replace("text:", "inhoud:", 1)  # an unknown key (no near match), and so a post without a body


def make_invalid(db, posts_file: Path) -> None:
    """posts.yaml broken after a good sync, as `run` records it."""
    posts_file.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_plan(posts_file)
    record_invalid_file(db, posts_file, caught.value, NOW)


# Each kind of "needs a person": how to make it, a phrase the table shows, and where JSON has it.
KINDS = {
    "stuck": (lambda db, path: set_post(db, "tas/een/tas_x", state="sending", claimed_by="gone",
                                         lease_until=NOW - timedelta(minutes=3)),
              "lease ended 2026-12-01 11:57 UTC", "1 stuck sending"),
    "failed": (lambda db, path: set_post(db, "tas/drie/tas_x", state="failed", last_error="400: te lang"),
               "failed   tas_x     2027-01-20 10:00  400: te lang", "1 failed"),
    "unknown": (lambda db, path: set_post(db, "tas/een/tas_m", state="unknown", last_error="timeline unreadable",
                                          in_doubt_since=NOW - timedelta(hours=1)),
                "in doubt since 2026-12-01 11:00 UTC", "1 unknown"),
    "missed": (lambda db, path: set_post(db, "tas/twee/tas_x", state="missed", last_error="too late"),
               "missed   tas_x     2027-01-19 10:00  too late", "1 missed"),
    "flagged": (lambda db, path: _flag(db, "tas_m", "401 Unauthorized: token revoked"),
                "account tas_m (mastodon) flagged since 2026-12-01 11:30 UTC: 401 Unauthorized: token revoked",
                "account tas_m flagged"),
    "invalid": (make_invalid, "error: unknown account 'tas_y'", "posts.yaml invalid (1 error)"),
    "stale serve": (lambda db, path: add_server(db, "w-old", last_tick=NOW - timedelta(minutes=5),
                                                started=NOW - timedelta(days=1)),
                    "serve on host web1 (pid 4242): last tick 5 min ago and no stop was recorded",
                    "serve on web1 (pid 4242) not beating since 2026-12-01 11:55 UTC"),
}


def _flag(db, name: str, reason: str) -> None:
    with db.transaction(write=True) as connection:
        connection.execute(update(accounts).where(accounts.c.name == name)
                           .values(flagged_at=NOW - timedelta(minutes=30), flag_reason=reason))


def status_args(db, posts_file, *more):
    return ("status", posts_file, "--db", db.url.render_as_string(hide_password=False), "--now", NOW.isoformat(),
            *more)


def test_a_clean_queue_is_ok(queue, posts_file):
    report = status(queue, NOW)
    assert (report.attention, report.broken, report.exit_code) == ([], [], 0)
    check = cli(*status_args(queue, posts_file, "--check"))
    assert check.exit_code == 0
    assert check.output == ("CAMPAIGN OK - 9 queued, next at 2027-01-18 10:00 +01:00 | queued=9 sending=0 sent=0 "
                            "failed=0 unknown=0 missed=0 cancelled=0 awaiting_approval=0 rejected=0\n")
    table = cli(*status_args(queue, posts_file))
    assert table.exit_code == 0
    assert "Nothing needs a person." in table.output and "queued 9" in table.output
    document = json.loads(cli(*status_args(queue, posts_file, "--format", "json")).output)
    assert document["check"] == {"exit_code": 0, "status": "ok",
                                 "summary": "9 queued, next at 2027-01-18 10:00 +01:00"}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_attention_shows_everywhere_and_warns(queue, posts_file, kind):
    make, shown, phrase = KINDS[kind]
    make(queue, posts_file)
    report = status(queue, NOW)
    assert report.attention == [phrase] and report.exit_code == 1

    table = cli(*status_args(queue, posts_file))
    assert table.exit_code == 0
    assert "Needs a person:" in table.output and shown in table.output, table.output

    document = json.loads(cli(*status_args(queue, posts_file, "--format", "json")).output)
    assert document["check"] == {"exit_code": 1, "status": "warning", "summary": phrase}
    needs = document["needs_person"]
    found = {"stuck": needs["stuck_sending"]["posts"], "failed": needs["problems"]["posts"],
             "unknown": needs["problems"]["posts"], "missed": needs["problems"]["posts"],
             "flagged": needs["flagged_accounts"], "invalid": needs["invalid_files"],
             "stale serve": needs["stale_servers"]}[kind]
    assert len(found) == 1
    assert sum(len(v["posts"]) if isinstance(v, dict) else len(v) for v in needs.values()) == 1

    check = cli(*status_args(queue, posts_file, "--check"))
    assert check.exit_code == 1
    assert check.output.startswith(f"CAMPAIGN WARNING - {phrase} | queued=")
    assert len(check.output.splitlines()) == 1


def test_json_details_per_kind(queue, posts_file):
    for make, _, _ in KINDS.values():
        make(queue, posts_file)
    document = json.loads(cli(*status_args(queue, posts_file, "--format", "json")).output)
    needs = document["needs_person"]
    assert document["version"] == 1 and document["generated_at"] == "2026-12-01T12:00:00Z"
    stuck = needs["stuck_sending"]
    assert stuck["total"] == 1 and stuck["posts"][0]["lease_until"] == "2026-12-01T11:57:00Z"
    assert needs["problems"]["total"] == 3
    assert {p["state"] for p in needs["problems"]["posts"]} == {"failed", "unknown", "missed"}
    unknown = next(p for p in needs["problems"]["posts"] if p["state"] == "unknown")
    assert unknown["in_doubt_since"] == "2026-12-01T11:00:00Z" and unknown["platform"] == "mastodon"
    assert unknown["due_at"] == "2027-01-18T09:00:00Z" and unknown["local_time"] == "2027-01-18T10:00:00+01:00"
    assert needs["flagged_accounts"] == [{"name": "tas_m", "platform": "mastodon",
                                          "reason": "401 Unauthorized: token revoked",
                                          "since": "2026-12-01T11:30:00Z"}]
    invalid = needs["invalid_files"][0]
    assert invalid["path"] == str(posts_file.resolve()) and invalid["error_count"] == 1
    assert re.fullmatch(r"[0-9a-f]{64}", invalid["sha256"]) and invalid["since"] == "2026-12-01T12:00:00Z"
    assert invalid["first_error"] == f"{posts_file}:14:16: error: unknown account 'tas_y' (did you mean 'tas_x'?)"
    assert invalid["last_good_sync"] == "2026-12-01T12:00:00Z"
    assert [s["beating"] for s in document["servers"]] == [False]
    assert document["check"]["summary"] == ", ".join(status(queue, NOW).attention)


def test_problems_are_all_counted_however_old(queue, posts_file):
    long_ago = NOW - timedelta(days=400)
    keys = [f"tas/{p}/{a}" for p in ("een", "twee", "drie") for a in ("tas_x", "tas_m")]
    for number, key in enumerate(keys):
        set_post(queue, key, state="failed", last_error=f"fout {number}", updated_at=long_ago + timedelta(hours=number))
    report = status(queue, NOW, limit=2)
    assert report.problems_total == 6 and [p.last_error for p in report.problems] == ["fout 5", "fout 4"]
    table = cli(*status_args(queue, posts_file, "--limit", "2")).output
    assert "… and 4 more failed, unknown or missed" in table
    check = cli(*status_args(queue, posts_file, "--check"))
    assert (check.exit_code, check.output.split(" | ")[0]) == (1, "CAMPAIGN WARNING - 6 failed")


def test_a_beating_serve_and_one_it_replaced_need_nobody(queue, posts_file):
    add_server(queue, "w-crashed", last_tick=NOW - timedelta(hours=3), started=NOW - timedelta(days=2))
    add_server(queue, "w-now", last_tick=NOW - timedelta(seconds=12), started=NOW - timedelta(hours=2), pid=99)
    report = status(queue, NOW)
    assert [(s.worker, s.beating) for s in report.servers] == [("w-now", True)]
    assert report.exit_code == 0
    assert "serve running on host web1 (pid 99), last tick 12 s ago" in cli(*status_args(queue, posts_file)).output


def test_an_invalid_file_never_synced_is_broken(db, posts_file):
    posts_file.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_plan(posts_file)
    record_invalid_file(db, posts_file, caught.value, NOW)
    report = status(db, NOW)
    assert report.exit_code == 2
    check = cli(*status_args(db, posts_file, "--check"))
    assert check.exit_code == 2
    assert check.output.startswith("CAMPAIGN CRITICAL - posts.yaml invalid and never synced: nothing from it is queued")
    assert "no version of it was ever synced" in cli(*status_args(db, posts_file)).output


def test_corrupt_database_is_critical_in_one_line(tmp_path, posts_file):
    path = tmp_path / "kapot.db"
    path.write_bytes(b"\x00junk\xff" * 4096)
    check = cli("status", posts_file, "--db", path, "--check")
    assert check.exit_code == 2
    assert check.output == (f"CAMPAIGN CRITICAL - database sqlite:///{path}: is not a valid SQLite database "
                            "(corrupt, or not a database file)\n")
    plain = cli("status", posts_file, "--db", path)
    assert plain.exit_code == 2 and "Traceback" not in plain.output and len(plain.output.splitlines()) == 1


def test_missing_or_unreachable_database_is_critical(tmp_path, posts_file):
    missing = cli("status", posts_file, "--db", tmp_path / "nergens.db", "--check")
    assert missing.exit_code == 2 and missing.output.startswith("CAMPAIGN CRITICAL - database sqlite:///")
    assert "not there" in missing.output and not (tmp_path / "nergens.db").exists()
    unreachable = cli("status", posts_file, "--db", "postgresql+psycopg://nobody@127.0.0.1:9/none", "--check")
    assert unreachable.exit_code == 2 and len(unreachable.output.splitlines()) == 1
    assert unreachable.output.startswith("CAMPAIGN CRITICAL - database postgresql+psycopg://nobody@127.0.0.1:9/none")


def test_check_and_json_do_not_mix(queue, posts_file):
    result = cli(*status_args(queue, posts_file, "--check", "--format", "json"))
    assert result.exit_code == 2 and "--check prints one line" in result.output


def test_run_records_an_invalid_file_and_the_next_good_sync_clears_it(database_url, posts_file, tmp_path):
    args = (posts_file, "--db", database_url, "--now", NOW.isoformat())
    assert cli("sync", *args).exit_code == 0
    good = posts_file.read_bytes()
    posts_file.write_text(TWO_ERRORS, encoding="utf-8")
    first = cli("run", *args)
    assert first.exit_code == 2 and "kept posting what was queued" in first.output
    later = (NOW + timedelta(minutes=5)).isoformat()
    assert cli("run", posts_file, "--db", database_url, "--now", later).exit_code == 2
    document = json.loads(cli("status", *args, "--format", "json").output)
    [invalid] = document["needs_person"]["invalid_files"]
    assert invalid["error_count"] == 2 and invalid["since"] == "2026-12-01T12:00:00Z"  # the first tick that saw it
    assert invalid["first_error"] == f"{posts_file}:9:9: error: a post needs exactly one of 'text', 'variants' or 'thread'"
    assert invalid["sha256"] == hashlib.sha256(posts_file.read_bytes()).hexdigest()
    assert cli("status", *args, "--check").exit_code == 1

    # A different invalid edit is a new problem: a new `since`.
    posts_file.write_text(BROKEN, encoding="utf-8")
    assert cli("run", posts_file, "--db", database_url, "--now", later).exit_code == 2
    [invalid] = json.loads(cli("status", *args, "--format", "json").output)["needs_person"]["invalid_files"]
    assert (invalid["error_count"], invalid["since"]) == (1, "2026-12-01T12:05:00Z")

    # The good version back, byte for byte: it was synced before, yet the record must go.
    posts_file.write_bytes(good)
    assert cli("run", *args).exit_code == 0
    assert json.loads(cli("status", *args, "--format", "json").output)["needs_person"]["invalid_files"] == []
    assert cli("status", *args, "--check").exit_code == 0


def test_serve_records_an_invalid_file_and_clears_it(db, posts_file):
    from campaign.send.serve import Server

    server = Server(db, posts_file, lambda: {})
    server.sync_file(force=True)
    posts_file.write_text(BROKEN, encoding="utf-8")
    server.sync_file(force=False)
    assert [f.first_error.rsplit(": ", 1)[-1] for f in status(db, NOW).invalid_files] == [
        "unknown account 'tas_y' (did you mean 'tas_x'?)"]
    posts_file.unlink()  # gone altogether: still recorded, the last good queue keeps running
    server.sync_file(force=False)
    assert [f.sha256 for f in status(db, NOW).invalid_files] == [""]
    posts_file.write_text(POSTS, encoding="utf-8")
    server.sync_file(force=False)
    assert status(db, NOW).invalid_files == []


def test_is_synced_is_false_while_the_file_is_recorded_invalid(queue, posts_file):
    fingerprint = file_fingerprint(posts_file)
    assert is_synced(queue, posts_file, fingerprint)
    record_invalid_file(queue, posts_file, ConfigError([]), NOW)
    assert not is_synced(queue, posts_file, fingerprint)
    with queue.transaction() as connection:
        assert connection.execute(select(invalid_files.c.first_error)).scalar() == "invalid configuration"


def test_recent_sent_posts_with_their_urls(queue, posts_file):
    sent(queue, "tas/een/tas_x", NOW - timedelta(hours=2), "https://x.com/teamsaantstuur/status/101")
    sent(queue, "tas/een/tas_m", NOW - timedelta(hours=1), "https://social.example/@team/202")
    report = status(queue, NOW)
    assert [p.remote_url for p in report.recent_sent] == ["https://social.example/@team/202",
                                                          "https://x.com/teamsaantstuur/status/101"]
    table = cli(*status_args(queue, posts_file)).output
    assert "Recently sent:\n  2026-12-01 12:00  tas_m     #" in table and "https://social.example/@team/202" in table
    assert [p["sent_at"] for p in json.loads(cli(*status_args(queue, posts_file, "--format", "json")).output)
            ["recent_sent"]] == ["2026-12-01T11:00:00Z", "2026-12-01T10:00:00Z"]


# -- the documented JSON shape --------------------------------------------------------------------

def _shape(value):
    """Key names all the way down; a list is described by its first element."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None


def readme_status_example() -> dict:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("<!-- status-json-example -->"):]
    return json.loads(re.search(r"```json\n(.*?)\n```", section, re.S).group(1))


def test_json_keys_match_the_readme(queue, posts_file):
    for make, _, _ in KINDS.values():
        make(queue, posts_file)
    add_server(queue, "w-now", last_tick=NOW - timedelta(seconds=5), started=NOW - timedelta(hours=1), host="web2")
    set_post(queue, "tas/drie/tas_m", state="sent", sent_at=NOW, remote_url="https://social.example/@t/1")
    keys = [k for k in queued_keys(queue) if k != "tas/twee/tas_m"]
    set_post(queue, keys[-1], state="awaiting_approval", approvals_needed=2)
    real = json.loads(cli(*status_args(queue, posts_file, "--format", "json")).output)
    documented = readme_status_example()
    assert _shape(real) == _shape(documented)
    assert documented["version"] == real["version"] == 1
    assert set(real["counts"]) == {"queued", "sending", "sent", "failed", "unknown", "missed", "cancelled",
                                   "awaiting_approval", "rejected"}


# -- history --------------------------------------------------------------------------------------

@pytest.fixture
def sent_queue(queue):
    # 23:30 and 00:30 in Amsterdam either side of midnight 20 November (UTC+1): the zone decides.
    sent(queue, "tas/een/tas_x", datetime(2026, 11, 19, 22, 30, tzinfo=timezone.utc), "https://x.com/t/status/1")
    sent(queue, "tas/een/tas_m", datetime(2026, 11, 19, 23, 30, tzinfo=timezone.utc), "https://social.example/@t/2")
    sent(queue, "tas/vier/tas_x", datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc), "https://x.com/t/status/3")
    sent(queue, "zomer/vijf/tas_x", datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc), "https://x.com/t/status/4")
    return queue


def history_args(db, posts_file, *more):
    return ("history", posts_file, "--db", db.url.render_as_string(hide_password=False), *more)


def test_history_library_filters(sent_queue):
    everything, total = history(sent_queue)
    assert total == 4 and [p.remote_url[-1] for p in everything] == ["4", "3", "2", "1"]
    x_only, _ = history(sent_queue, account="tas_x", campaign="tas")
    assert [p.remote_url[-1] for p in x_only] == ["3", "1"]
    window, total = history(sent_queue, start=datetime(2026, 11, 19, 23, tzinfo=timezone.utc),
                            end=datetime(2026, 11, 25, tzinfo=timezone.utc), limit=1)
    assert total == 2 and [p.remote_url[-1] for p in window] == ["3"]
    before, _ = history(sent_queue, now=datetime(2026, 11, 21, 9, tzinfo=timezone.utc))
    assert [p.remote_url[-1] for p in before] == ["3", "2", "1"]
    with pytest.raises(NotFoundError, match="unknown campaign 'winter'; known: tas, zomer"):
        history(sent_queue, campaign="winter")


def test_history_formats_and_local_bounds(sent_queue, posts_file):
    rows = list(csv.DictReader(io.StringIO(cli(*history_args(sent_queue, posts_file, "--format", "csv",
                                                             "--from", "2026-11-20")).output)))
    assert [r["url"][-1] for r in rows] == ["4", "3", "2"]  # 00:30 local on the 20th counts, 23:30 on the 19th not
    assert list(rows[0]) == ["id", "sent_at", "local_time", "account", "platform", "campaign", "key", "url", "text",
                             "scheduled_for", "approved_by"]
    assert rows[2]["sent_at"] == "2026-11-19T23:30:00Z" and rows[2]["local_time"] == "2026-11-20T00:30:00+01:00"
    assert rows[2]["scheduled_for"] == "2027-01-18T10:00:00+01:00" and rows[2]["platform"] == "mastodon"
    thread = next(r for r in rows if r["key"] == "tas/vier/tas_x")
    assert thread["text"] == "Vier a\n\nVier b"

    records = json.loads(cli(*history_args(sent_queue, posts_file, "--format", "json", "--until", "2026-11-21",
                                           "--account", "tas_x")).output)
    assert [(r["key"], r["url"]) for r in records] == [("tas/vier/tas_x", "https://x.com/t/status/3"),
                                                        ("tas/een/tas_x", "https://x.com/t/status/1")]

    table = cli(*history_args(sent_queue, posts_file, "--campaign", "tas", "--limit", "2"))
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == ["Sent", "(Europe/Amsterdam)", "Account", "Campaign", "Id", "URL", "Text"]
    assert lines[1].split()[:4] == ["2026-11-21", "10:00", "tas_x", "tas"] and lines[1].endswith("Vier a")
    assert lines[-1] == "2 of 3 sent posts, newest first; all of them: --limit 0 or --format csv"


def test_history_without_posts_yaml_is_in_utc(sent_queue, tmp_path):
    result = cli(*history_args(sent_queue, tmp_path / "geen.yaml", "--format", "csv", "--from", "2026-11-20"))
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["url"][-1] for r in rows] == ["4", "3"] and rows[0]["local_time"] == "2026-11-25T09:00:00+00:00"


def test_history_unknown_account_names_the_known_ones(sent_queue, posts_file):
    result = cli(*history_args(sent_queue, posts_file, "--account", "tas_q"))
    assert result.exit_code == 2
    assert result.output == "campaign: unknown account 'tas_q'; known: tas_m, tas_x\n"


def test_history_of_a_queue_with_nothing_sent(queue, posts_file):
    result = cli(*history_args(queue, posts_file))
    assert (result.exit_code, result.output) == (0, "No sent posts match.\n")
    assert json.loads(cli(*history_args(queue, posts_file, "--format", "json")).output) == []
