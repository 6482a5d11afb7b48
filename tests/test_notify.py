"""Alerts through Apprise: derived from the database, sent once, retried, never in posting's way.

Targets are Apprise json:// URLs pointing at a loopback HTTP server started here, which records
every message it receives (and can answer 500 or be closed, for a target that is down).
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select, update

from campaign.alerts import notify
from campaign.cli import main
from campaign.queue.db import Database
from campaign.spec.plan import load_plan
from campaign.queue.sync import sync
from campaign.queue.tables import dispatchers, metadata, notifications, notify_targets, scheduled_posts
from tests.fakes.base import Fault
from tests.stage import mastodon_account_yaml, mastodon_env, x_account_yaml, x_env

SECRET = "s3cr3t-Wachtw00rd-42"
TOKEN = "tok-9f8e7d6c5b4a"


class Inbox:
    """A loopback HTTP endpoint for Apprise's json:// targets; remembers what arrives."""

    def __init__(self):
        self.received: list[dict] = []
        self.status: dict[str, int] = {}  # path -> status to answer (default 200)
        self.delay = 0.0
        self.lock = threading.Lock()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(inbox.delay)
                path = self.path.split("?")[0]
                status = inbox.status.get(path, 200)
                with inbox.lock:
                    inbox.received.append({"path": path, "status": status, "headers": dict(self.headers),
                                           **json.loads(body or b"{}")})
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def delivered(self, path: str = "/hook") -> list[dict]:
        return [m for m in self.received if m["path"] == path and m["status"] == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def inbox():
    box = Inbox()
    yield box
    box.close()


def closed_port() -> int:
    """A loopback port where nothing listens: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def posts_yaml(top: str = "", tas: str = "", ander: str = "") -> str:
    """Two campaigns: tas (posts 'een', 'twee' on X) and ander ('drie' on Mastodon)."""
    def block(text: str, indent: int) -> str:
        return textwrap.indent(textwrap.dedent(text), " " * indent) if text else ""

    return ("timezone: Europe/Amsterdam\n" + block(top, 0)
            + "accounts:\n"
              "  tas_x: {platform: x, handle: '@tas'}\n"
              "  tas_m: {platform: mastodon, instance: 'https://social.example', handle: '@tas@social.example'}\n"
              "campaigns:\n"
              "  tas:\n    accounts: [tas_x]\n" + block(tas, 4)
            + "    posts:\n"
              "      - {id: een, text: 'Eerste bericht', at: 2027-01-18 10:00}\n"
              "      - {id: twee, text: 'Tweede bericht', at: 2027-01-19 10:00}\n"
              "  ander:\n    accounts: [tas_m]\n" + block(ander, 4)
            + "    posts:\n"
              "      - {id: drie, text: 'Derde bericht', at: 2027-01-20 10:00}\n")


@pytest.fixture
def synced(db, write_posts):
    """synced(yaml, now=NOW) -> path: write posts.yaml and sync it into db."""

    def make(text: str, now: datetime = NOW):
        path = write_posts(text)
        sync(db, load_plan(path), now)
        return path

    return make


def settle(db, post: str, state: str, at: datetime, error: str = "X answered 400: text too long") -> int:
    """Put a post (by its post id in posts.yaml) in a final state, as dispatch would."""
    with db.transaction(write=True) as connection:
        row_id = connection.execute(select(scheduled_posts.c.id).where(scheduled_posts.c.post_id == post)).scalar()
        connection.execute(update(scheduled_posts).where(scheduled_posts.c.id == row_id)
                           .values(state=state, updated_at=at, last_error=error))
    return row_id


def rows(db, table=notifications):
    with db.transaction() as connection:
        return list(connection.execute(select(table).order_by(*table.primary_key.columns)))


def database_dump(db) -> str:
    with db.transaction() as connection:
        return "\n".join(repr(tuple(row)) for table in metadata.sorted_tables
                         for row in connection.execute(table.select()))


# -- one alert per event ---------------------------------------------------------------------------

def test_one_message_per_failed_post_across_runs_and_processes(db, database_url, synced, inbox):
    synced(posts_yaml(top=f"notify: '{inbox.url()}'\n"))
    later = NOW + timedelta(hours=1)
    failed = settle(db, "een", "failed", later)
    missed = settle(db, "drie", "missed", later, "not sent within 'late' (1h) of its due time")
    inbox.delay = 0.2  # both "processes" are mid-send at the same time
    other = Database(database_url)
    try:
        barrier = threading.Barrier(2)
        reports = []

        def process(database):
            barrier.wait()
            reports.append(notify.run(database, later, {}))

        threads = [threading.Thread(target=process, args=(d,)) for d in (db, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert notify.run(db, later + timedelta(minutes=5), {}).sent == 0  # a later run: nothing new
    finally:
        other.engine.dispose()
    messages = inbox.delivered()
    assert len(messages) == 2 and sum(r.sent for r in reports) == 2
    assert {m["title"] for m in messages} == {f"Praat mee: post #{failed} failed", f"Praat mee: post #{missed} missed"}
    text = next(m["message"] for m in messages if "failed" in m["title"])
    assert "X answered 400: text too long" in text and "Eerste bericht" in text
    assert f"campaign retry {failed}" in text
    assert [(r.event, r.delivered_at is not None) for r in rows(db)] == [("failed", True), ("missed", True)]


def test_a_post_that_fails_again_after_a_retry_alerts_again(db, synced, inbox):
    synced(posts_yaml(top=f"notify: '{inbox.url()}'\n"))
    settle(db, "een", "failed", NOW + timedelta(hours=1))
    notify.run(db, NOW + timedelta(hours=1), {})
    settle(db, "een", "failed", NOW + timedelta(hours=2), "X answered 400: still too long")
    notify.run(db, NOW + timedelta(hours=2), {})
    assert [("still too long" in m["message"]) for m in inbox.delivered()] == [False, True]


def test_enabling_notify_on_an_old_queue_does_not_replay_its_history(db, synced, inbox):
    synced(posts_yaml())
    settle(db, "een", "failed", NOW + timedelta(minutes=1))
    synced(posts_yaml(top=f"notify: '{inbox.url()}'\n"), now=NOW + timedelta(minutes=2))
    settle(db, "twee", "failed", NOW + timedelta(minutes=3))
    notify.run(db, NOW + timedelta(minutes=4), {})
    assert ["Tweede bericht" in m["message"] for m in inbox.delivered()] == [True]


def test_nothing_is_collected_without_targets(db, synced):
    synced(posts_yaml())
    settle(db, "een", "failed", NOW + timedelta(minutes=1))
    assert notify.run(db, NOW + timedelta(minutes=2), {}) is None
    assert notify.collect(db, NOW + timedelta(minutes=2)) == 0 and rows(db) == []


def test_campaign_targets_hear_about_their_own_campaign(db, synced, inbox):
    synced(posts_yaml(top=f"notify: '{inbox.url('all')}'\n", tas=f"notify: '{inbox.url('tas')}'\n"))
    settle(db, "een", "failed", NOW + timedelta(minutes=1))
    settle(db, "drie", "failed", NOW + timedelta(minutes=1))
    notify.run(db, NOW + timedelta(minutes=2), {})
    assert sorted("Eerste" in m["message"] for m in inbox.delivered("/all")) == [False, True]
    assert ["Eerste" in m["message"] for m in inbox.delivered("/tas")] == [True]


def test_events_filter(db, synced, inbox):
    synced(posts_yaml(top=f"notify: {{urls: '{inbox.url()}', events: [missed]}}\n"))
    settle(db, "een", "failed", NOW + timedelta(minutes=1))
    settle(db, "twee", "missed", NOW + timedelta(minutes=1))
    notify.run(db, NOW + timedelta(minutes=2), {})
    assert [m["title"].endswith("missed") for m in inbox.delivered()] == [True]
    assert all(r.delivered_at is not None for r in rows(db))  # the failed one: no target wants it


def test_many_alerts_at_once_go_out_as_one_message(db, write_posts, inbox):
    posts = "".join(f"      - {{id: p{n}, text: 'Bericht {n}', at: 2027-01-18 10:{n:02d}}}\n" for n in range(8))
    text = posts_yaml(top=f"notify: '{inbox.url()}'\n").replace(
        "      - {id: een, text: 'Eerste bericht', at: 2027-01-18 10:00}\n", posts)
    sync(db, load_plan(write_posts(text)), NOW)
    for n in range(8):
        settle(db, f"p{n}", "failed", NOW + timedelta(minutes=1))
    notify.run(db, NOW + timedelta(minutes=2), {})
    [message] = inbox.delivered()
    assert message["title"] == "Praat mee: 8 alerts" and message["message"].count("[failed]") == 8


# -- a target that is down -------------------------------------------------------------------------

def test_a_target_that_is_down_is_retried_later_then_given_up(db, synced, inbox):
    synced(posts_yaml(top=f"notify: ['{inbox.url('down')}', '{inbox.url()}']\n"))
    inbox.status["/down"] = 500
    settle(db, "een", "failed", NOW + timedelta(minutes=1))
    moment = NOW + timedelta(minutes=2)
    report = notify.run(db, moment, {})
    assert report.sent == 1 and len(report.failures) == 1
    assert "json://127.0.0.1" in report.failures[0] and "/down" in report.failures[0]
    assert "retrying in 1 min" in report.failures[0]
    [row] = rows(db)
    assert row.delivered_at is None and row.attempts == 1 and "500" in row.last_error
    assert notify.run(db, moment + timedelta(seconds=30), {}).failures == []  # backing off
    inbox.status["/down"] = 200
    assert notify.run(db, moment + timedelta(minutes=2), {}).sent == 1
    assert len(inbox.delivered("/down")) == 1 and len(inbox.delivered()) == 1
    assert rows(db)[0].delivered_at is not None
    # A target that stays down is given up after MAX_ATTEMPTS: the alert does not pend forever.
    inbox.status["/down"] = 500
    settle(db, "twee", "failed", moment + timedelta(minutes=3))
    for hour in range(1, 40):
        notify.run(db, moment + timedelta(hours=hour), {})
    assert len([m for m in inbox.received if m["path"] == "/down" and m["status"] == 500]) == 1 + notify.MAX_ATTEMPTS
    last = rows(db)[-1]
    assert last.delivered_at is not None and last.last_error.startswith("gave up on json://127.0.0.1")


def test_posting_completes_while_the_target_is_down(stage, fake_x, fake_mastodon, inbox):
    stage.environ.update(x_env(fake_x))
    stage.environ.update(mastodon_env(fake_mastodon))
    stage.write(x_account_yaml(fake_x) + mastodon_account_yaml(fake_mastodon),
                f"- {{text: 'Praat mee', at: {stage.at(-1)}}}\n", accounts="tas_x, tas_m")
    refused = f"json://127.0.0.1:{closed_port()}/hook"
    with open(stage.posts_file, "a") as file:
        file.write(f"notify: ['{refused}', '{inbox.url('down')}']\n")
    inbox.status["/down"] = 500
    fake_x.inject("post", Fault.status(400))
    result = invoke(stage, "run", stage.posts_file, "--db", stage.db_url)
    assert result.exit_code == 1  # the failed post, as without notify
    assert len(fake_mastodon.posts) == 1 and sorted(r.state for r in stage.rows()) == ["failed", "sent"]
    assert f"campaign: notification not sent to {refused}" in result.output
    assert f"campaign: notification not sent to {inbox.url('down')}" in result.output
    assert "retrying in 1 min" in result.output
    [row] = rows(stage.db)
    assert row.event == "failed" and row.delivered_at is None and row.attempts == 2


# -- secrets ---------------------------------------------------------------------------------------

def test_secrets_from_env_never_reach_the_database_or_the_output(stage, fake_x, fake_mastodon, inbox):
    stage.environ.update(x_env(fake_x))
    stage.environ.update(mastodon_env(fake_mastodon))
    stage.environ.update({"NOTIFY_PASSWORD": SECRET, "NOTIFY_PATH": TOKEN})
    stage.write(x_account_yaml(fake_x) + mastodon_account_yaml(fake_mastodon),
                f"- {{text: 'Praat mee', at: {stage.at(-1)}}}\n", accounts="tas_x, tas_m")
    url = f"json://praat:{{env:NOTIFY_PASSWORD}}@127.0.0.1:{inbox.port}/{{env:NOTIFY_PATH}}"
    refused = f"json://praat:{{env:NOTIFY_PASSWORD}}@127.0.0.1:{closed_port()}/{{env:NOTIFY_PATH}}"
    with open(stage.posts_file, "a") as file:
        file.write(f"notify: ['{url}', '{refused}']\n")
    inbox.status[f"/{TOKEN}"] = 500
    fake_x.inject("post", Fault.status(400))
    outputs = [invoke(stage, "run", stage.posts_file, "--db", stage.db_url).output]
    assert "notification not sent to json://praat:{env:NOTIFY_PASSWORD}@127.0.0.1" in outputs[0]
    inbox.status.clear()
    later = (datetime.now(timezone.utc) + timedelta(minutes=10)).isoformat()
    outputs.append(invoke(stage, "run", stage.posts_file, "--db", stage.db_url, "--now", later).output)
    outputs.append(invoke(stage, "notify", "test", stage.posts_file).output)
    # The secrets did reach the target (so they were filled in) ...
    delivered = inbox.delivered(f"/{TOKEN}")
    assert len(delivered) == 2 and delivered[0]["headers"]["Authorization"].startswith("Basic ")
    # ... and nowhere else: not in the database, not in any output, not in a stored error.
    dump = database_dump(stage.db)
    assert "{env:NOTIFY_PASSWORD}" in dump and "Connection" in dump
    for text in [dump, *outputs]:
        assert SECRET not in text and TOKEN not in text


def test_scrub_removes_values_and_their_pieces():
    from campaign.alerts.deliver import scrub

    value = f"https://example.webhook.office.com/webhookb2/{TOKEN}/IncomingWebhook/{SECRET}"
    text = scrub(f"error posting to {value} (path /{TOKEN}/x, {SECRET.replace('-', '%2D')})", [value], "{env:T}")
    assert TOKEN not in text and SECRET not in text and "error posting to" in text


# -- digest ----------------------------------------------------------------------------------------

def test_daily_digest_sends_one_message_listing_the_day(db, synced, inbox):
    synced(posts_yaml(top=f"notify: {{urls: ['{inbox.url('digest')}'], digest: daily, digest_at: '08:30'}}\n"
                          f"        \n"))
    # NOW is 13:00 in Amsterdam: today's digest time has passed, so the first digest is tomorrow's.
    settle(db, "een", "failed", NOW + timedelta(hours=1))
    settle(db, "drie", "missed", NOW + timedelta(hours=2))
    assert notify.run(db, NOW + timedelta(hours=3), {}).sent == 0
    tomorrow = datetime(2026, 12, 2, 7, 31, tzinfo=timezone.utc)  # 08:31 in Amsterdam
    assert notify.run(db, tomorrow - timedelta(minutes=2), {}).sent == 0
    assert notify.run(db, tomorrow, {}).sent == 1
    assert notify.run(db, tomorrow + timedelta(minutes=5), {}).sent == 0
    [digest] = inbox.delivered("/digest")
    assert digest["title"] == "Praat mee: daily digest, 2 alerts"
    assert "[failed]" in digest["message"] and "[missed]" in digest["message"]
    settle(db, "twee", "failed", tomorrow + timedelta(hours=1))
    assert notify.run(db, tomorrow + timedelta(hours=2), {}).sent == 0  # waits for the next day
    assert notify.run(db, tomorrow + timedelta(days=1), {}).sent == 1
    assert len(inbox.delivered("/digest")) == 2 and "Tweede" in inbox.delivered("/digest")[1]["message"]
    assert all(r.delivered_at is not None for r in rows(db))


def test_a_failed_digest_is_retried_and_not_doubled(db, synced, inbox):
    synced(posts_yaml(top=f"notify: {{urls: '{inbox.url('digest')}', digest: daily}}\n"))
    settle(db, "een", "failed", NOW + timedelta(hours=1))
    inbox.status["/digest"] = 500
    morning = datetime(2026, 12, 2, 8, 5, tzinfo=timezone.utc)  # 09:05 in Amsterdam
    assert "daily digest; trying again" in notify.run(db, morning, {}).failures[0]
    assert notify.run(db, morning + timedelta(seconds=20), {}).sent == 0  # backing off
    inbox.status.clear()
    assert notify.run(db, morning + timedelta(minutes=2), {}).sent == 1
    assert notify.run(db, morning + timedelta(minutes=9), {}).sent == 0
    assert len(inbox.delivered("/digest")) == 1
    # A digest target that stays down: retried, then given up until the next day's digest.
    inbox.status["/digest"] = 500
    settle(db, "twee", "failed", morning + timedelta(hours=1))
    next_morning = morning + timedelta(days=1)
    for minutes in range(0, 600, 5):
        notify.run(db, next_morning + timedelta(minutes=minutes), {})
    assert len([m for m in inbox.received if m["status"] == 500]) == 1 + notify.MAX_ATTEMPTS
    assert rows(db)[-1].last_error.startswith("gave up on json://127.0.0.1")


# -- the other events ------------------------------------------------------------------------------

def test_flagged_account_alerts_top_level_and_the_campaigns_using_it(stage, fake_x, inbox):
    stage.environ.update(x_env(fake_x))
    stage.write(x_account_yaml(fake_x), f"- {{text: 'Praat mee', at: {stage.at(-1)}}}\n", accounts="tas_x",
                extra=f"    notify: '{inbox.url('tas')}'\n")
    with open(stage.posts_file, "a") as file:
        file.write(f"notify: '{inbox.url()}'\n")
    stage.sync()
    fake_x.inject("post", Fault.unauthorized())
    stage.run()
    notify.run(stage.db, stage.now, {})
    for path in ("/hook", "/tas"):
        titles = sorted(m["title"] for m in inbox.delivered(path))
        assert titles == ["Praat mee: account tas_x flagged", f"Praat mee: post #{stage.rows()[0].id} failed"]
    flagged = next(m for m in inbox.delivered() if "flagged" in m["title"])
    assert "campaign accounts check" in flagged["message"]


def test_invalid_posts_yaml_alerts_through_the_last_good_targets(stage, fake_mastodon, inbox):
    stage.environ.update(mastodon_env(fake_mastodon))
    stage.write(mastodon_account_yaml(fake_mastodon), f"- {{text: 'later', at: {stage.at(600)}}}\n",
                accounts="tas_m")
    with open(stage.posts_file, "a") as file:
        file.write(f"notify: '{inbox.url()}'\n")
    assert invoke(stage, "run", stage.posts_file, "--db", stage.db_url).exit_code == 0
    # An unknown key with no near match: two errors (a misspelt "txet" is one since issue 17).
    stage.posts_file.write_text(stage.posts_file.read_text().replace("text:", "inhoud:"))
    for _ in range(2):  # two cron ticks: one alert
        assert invoke(stage, "run", stage.posts_file, "--db", stage.db_url).exit_code == 2
    [message] = inbox.delivered()
    assert message["title"] == "Praat mee: posts.yaml is invalid"
    assert f"{stage.posts_file.resolve()} is invalid since" in message["message"]
    assert "error: a post needs exactly one of 'text'" in message["message"] and "(and 1 more)" in message["message"]
    assert "last good version keeps going out" in message["message"]


def test_a_serve_whose_heartbeat_stopped_alerts_once(db, synced, inbox):
    synced(posts_yaml(top=f"notify: '{inbox.url()}'\n"))
    moment = NOW + timedelta(hours=1)
    with db.transaction(write=True) as connection:
        for worker, tick, stopped in (("dood", moment - timedelta(minutes=7), None),
                                      ("levend", moment - timedelta(seconds=20), None),
                                      ("netjes", moment - timedelta(minutes=30), moment - timedelta(minutes=29))):
            connection.execute(insert(dispatchers).values(worker=worker, kind="serve", host="web1", pid=4242,
                                                          started_at=NOW, last_tick_at=tick, stopped_at=stopped))
    notify.run(db, moment, {})
    notify.run(db, moment + timedelta(minutes=1), {})
    [message] = inbox.delivered()
    assert message["title"] == "Praat mee: campaign serve stopped"
    assert "on web1 (pid 4242)" in message["message"] and "7 min ago" in message["message"]


def test_serve_sends_alerts_on_its_safety_tick(stage, fake_mastodon, inbox):
    from tests.test_serve import Serving

    stage.environ.update(mastodon_env(fake_mastodon))
    stage.environ["NOTIFY_PASSWORD"] = SECRET
    stage.write(mastodon_account_yaml(fake_mastodon), f"- {{text: 'later', at: {stage.at(600)}}}\n",
                accounts="tas_m")
    with open(stage.posts_file, "a") as file:
        file.write(f"notify: 'json://praat:{{env:NOTIFY_PASSWORD}}@127.0.0.1:{inbox.port}/hook'\n")
    stage.sync()
    with stage.db.transaction(write=True) as connection:
        # notify was set up an hour ago; the other server stopped beating six minutes ago.
        connection.execute(update(notify_targets).values(first_seen_at=stage.now - timedelta(hours=1)))
        stale = datetime.now(timezone.utc) - timedelta(minutes=6)
        connection.execute(insert(dispatchers).values(worker="web1:99:dead", kind="serve", host="web1", pid=99,
                                                      started_at=stale, last_tick_at=stale))
    serving = Serving(stage)
    try:
        deadline = time.monotonic() + 20
        while len(inbox.delivered()) < 1:
            assert time.monotonic() < deadline, serving.text()
            time.sleep(0.05)
        serving.wait_for("event=notify sent=1")
    finally:
        assert serving.stop() == 0
    assert "web1 (pid 99) stopped beating" in inbox.delivered()[0]["message"]
    assert SECRET not in serving.text()


# -- configuration ---------------------------------------------------------------------------------

def check(write_posts, text: str):
    result = CliRunner().invoke(main, ["check", str(write_posts(text))])
    return result.exit_code, result.output


def test_check_accepts_the_documented_forms(write_posts):
    code, output = check(write_posts, posts_yaml(
        top="notify:\n"
            "  - '{env:TEAMS_WEBHOOK}'\n"
            "  - urls: ['mailtos://{env:SMTP_USER}:{env:SMTP_PASSWORD}@smtp.example.nl?to=team@example.nl']\n"
            "    events: [failed, missed, invalid-file]\n"
            "    digest: daily\n"
            "    digest_at: '08:30'\n",
        tas="notify: 'ntfys://ntfy.sh/tas-alerts?token={env:NTFY_TOKEN}'\n"))
    assert code == 0, output


@pytest.mark.parametrize("notify_yaml, message", [
    ("notify: 'json://praat:geheim@127.0.0.1/hook'\n", "literal secret (the password)"),
    ("notify: 'slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ'\n", "literal secret (a token that Apprise"),
    ("notify: 'ntfys://ntfy.sh/x?token=tk_abc123'\n", "literal secret (the 'token' parameter)"),
    ("notify: 'slak://{env:A}/{env:B}'\n", "unknown notification service 'slak://' (did you mean 'slack'?)"),
    ("notify: 'hooks.example.com/x'\n", "not a notification URL"),
    ("notify:\n  - {env:TEAMS}\n", "quote the placeholder: '{env:TEAMS}'"),
    ("notify: 'json://h/{env:TEAMS'\n", "'{env:TEAMS' is not a placeholder"),
    ("notify: {url: 'json://h/x'}\n", "unknown key 'url' in 'notify' (did you mean 'urls'?)"),
    ("notify: {urls: 'json://h/x', events: [faled]}\n", "unknown event 'faled' (did you mean 'failed'?)"),
    ("notify: {urls: 'json://h/x', digest: weekly}\n", "digest must be 'daily'"),
    ("notify: {urls: 'json://h/x', digest: daily, digest_at: '25:00'}\n", "digest_at must be a time"),
    ("notify: {urls: 'json://h/x', token: abc}\n", "'token' looks like a credential"),
    ("notify: 42\n", "'notify' must be a URL, a list of URLs, or a mapping"),
])
def test_check_refuses_bad_notify_settings(write_posts, notify_yaml, message):
    code, output = check(write_posts, posts_yaml(top=notify_yaml))
    assert code == 2 and message in output, output
    for secret in ("geheim", "TIiajkdnlazkcOXrIdevi7FQ", "tk_abc123"):
        assert secret not in output


def test_sync_stores_targets_unresolved_and_keeps_their_history(db, synced):
    synced(posts_yaml(top="notify: '{env:TEAMS_WEBHOOK}'\n", tas="notify: {urls: 'json://h/tas', events: [failed]}\n"))
    first = {(r.campaign_id, r.url, tuple(r.events or ())): r.first_seen_at for r in rows(db, notify_targets)}
    assert first == {(None, "{env:TEAMS_WEBHOOK}", ()): NOW, ("tas", "json://h/tas", ("failed",)): NOW}
    synced(posts_yaml(top="notify: '{env:TEAMS_WEBHOOK}'\n"), now=NOW + timedelta(hours=1))
    assert [(r.url, r.first_seen_at) for r in rows(db, notify_targets)] == [("{env:TEAMS_WEBHOOK}", NOW)]
    synced(posts_yaml(), now=NOW + timedelta(hours=2))
    assert rows(db, notify_targets) == [] and not notify.has_targets(db)


# -- campaign notify test, and the CLI ---------------------------------------------------------------

def invoke(stage, *args):
    env = {**{k: None for k in ("CAMPAIGN_DATABASE_URL", "CAMPAIGN_FILE")}, **stage.environ}
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def test_notify_test_reports_each_target(write_posts, inbox, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    monkeypatch.setenv("NOTIFY_PATH", "tas")
    path = write_posts(posts_yaml(top=f"notify: ['{inbox.url()}', '{inbox.url('down')}', '{{env:NOT_SET_ANYWHERE}}']\n",
                                  tas=f"notify: {{urls: 'json://127.0.0.1:{inbox.port}/{{env:NOTIFY_PATH}}', "
                                      "digest: daily}\n"))
    inbox.status["/down"] = 500
    result = CliRunner().invoke(main, ["notify", "test", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"{inbox.url()}  [every campaign]  ok"
    assert lines[1].startswith(f"{inbox.url('down')}  [every campaign]  failed: ") and "500" in lines[1]
    assert lines[2] == "{env:NOT_SET_ANYWHERE}  [every campaign]  failed: set NOT_SET_ANYWHERE in the environment or .env"
    assert lines[3] == (f"json://127.0.0.1:{inbox.port}/{{env:NOTIFY_PATH}}  [campaign tas, daily digest at 09:00]  ok")
    assert [m["title"] for m in inbox.delivered()] == ["Praat mee: test"]
    assert len(inbox.delivered("/tas")) == 1
    inbox.status.clear()
    path.write_text(posts_yaml(top=f"notify: '{inbox.url()}'\n"))
    assert CliRunner().invoke(main, ["notify", "test", str(path)]).exit_code == 0
    path.write_text(posts_yaml())
    result = CliRunner().invoke(main, ["notify", "test", str(path)])
    assert result.exit_code == 1 and "no 'notify' targets" in result.output
    path.write_text(posts_yaml(top="notify: 'slak://x'\n"))
    assert CliRunner().invoke(main, ["notify", "test", str(path)]).exit_code == 2


def test_an_idle_tick_with_notify_set_up_does_not_load_apprise(stage, fake_mastodon, inbox):
    stage.environ.update(mastodon_env(fake_mastodon))
    stage.write(mastodon_account_yaml(fake_mastodon), f"- {{text: 'later', at: {stage.at(600)}}}\n",
                accounts="tas_m")
    with open(stage.posts_file, "a") as file:
        file.write(f"notify: '{inbox.url()}'\n")
    assert invoke(stage, "run", stage.posts_file, "--db", stage.db_url).exit_code == 0  # syncs: checks the URL
    code = ("import sys; from campaign.cli import main\n"
            "try:\n"
            f"    main(['run', {str(stage.posts_file)!r}, '--db', {stage.db_url!r}], standalone_mode=False)\n"
            "except SystemExit as stop:\n"
            "    assert not stop.code, stop.code\n"
            "print(sorted(m for m in ('apprise', 'dotenv', 'requests') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=stage.subprocess_env(), check=True)
    assert result.stdout.strip() == "[]", result.stderr
    assert inbox.received == []
