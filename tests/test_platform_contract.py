"""What every platform promises, checked the same way on each one's fake, through the real client
library, the dispatcher and the queue (the `stage` fixture runs on SQLite and PostgreSQL).

Adding a platform: its module in campaign/send/platforms, its mapping in archive/sources, its fake
in tests/fakes (with `alt_texts` and `refuses_duplicates`), and one line in SEATS.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import pytest

from archive.sources import records
from campaign.send.platforms import AccountInfo, connect
from tests.fakes.base import Fault
from tests.fakes.linkedin import linkedin_account_yaml, linkedin_env
from tests.stage import (bluesky_account_yaml, bluesky_env, mastodon_account_yaml, mastodon_env, x_account_yaml,
                         x_env)
from tests.stage import threads_account_yaml, threads_env

PNG = (Path(__file__).resolve().parent.parent / "media" / "stadskantoor030.png").read_bytes()
LINK = "https://publicpapersutrecht.nl/teams"


@dataclass(frozen=True)
class Seat:
    platform: str
    fixture: str
    account: str  # its name in posts.yaml
    env: Callable
    account_yaml: Callable
    info: Callable  # fake -> AccountInfo, as posts.yaml describes the account


SEATS = [
    Seat("x", "fake_x", "tas_x", x_env, x_account_yaml,
         lambda fake: AccountInfo("tas_x", "x", "@" + fake.account.username)),
    Seat("mastodon", "fake_mastodon", "tas_m", mastodon_env, mastodon_account_yaml,
         lambda fake: AccountInfo("tas_m", "mastodon", "@" + fake.account.username, fake.url)),
    Seat("bluesky", "fake_bluesky", "tas_b", bluesky_env, bluesky_account_yaml,
         lambda fake: AccountInfo("tas_b", "bluesky", fake.account.handle, fake.url)),
    Seat("linkedin", "fake_linkedin", "tas_l", linkedin_env, linkedin_account_yaml,
         lambda fake: AccountInfo("tas_l", "linkedin", fake.account.vanity_name, None, fake.account.vanity_name)),
    Seat("threads", "fake_threads", "tas_t", threads_env, threads_account_yaml,
         lambda fake: AccountInfo("tas_t", "threads", "@" + fake.account.username)),
]


class Bench:
    """One platform's fake wired to the stage."""

    def __init__(self, seat: Seat, fake, stage):
        self.seat, self.fake, self.stage = seat, fake, stage
        stage.environ.update(seat.env(fake))

    def setup(self, posts_yaml: str, extra: str = "") -> None:
        self.stage.write(self.seat.account_yaml(self.fake), posts_yaml, accounts=self.seat.account, extra=extra)
        self.stage.sync()

    def client(self):
        return connect(self.seat.info(self.fake), self.stage.environ)

    def texts(self) -> list[str]:
        return [p["text"] for p in self.fake.posts]

    def same(self, ours: list[str]) -> bool:
        """The fake's posts are our texts, as the platform shows them (Bluesky shortens links)."""
        client = self.client()
        theirs = self.texts()
        return len(ours) == len(theirs) and all(client.same_text(a, b) for a, b in zip(ours, theirs))

    def handle(self) -> str:
        return self.seat.info(self.fake).handle.lstrip("@")


@pytest.fixture(params=SEATS, ids=[seat.platform for seat in SEATS])
def bench(request, stage):
    seat = request.param
    return Bench(seat, request.getfixturevalue(seat.fixture), stage)


def test_post_and_thread_go_out_once_in_order(bench):
    stage = bench.stage
    bench.setup(f"""\
        - {{id: een, text: "Praat mee: {{link}}", at: {stage.at(-5)}}}
        - {{id: draad, thread: ["Deel een", "Deel twee", "Deel drie"], at: {stage.at(-1)}}}
        - {{id: later, text: "Nog niet", at: {stage.at(60)}}}
        """)
    report = stage.run()
    assert report.exit_code == 0 and report.count("sent") == 2
    assert bench.same([f"Praat mee: {LINK}", "Deel een", "Deel twee", "Deel drie"])
    posts = bench.fake.posts
    assert posts[2]["reply_to"] == posts[1]["id"] and posts[3]["reply_to"] == posts[2]["id"]
    rows = {r.post_id: r for r in stage.rows()}
    assert rows["een"].remote_id == posts[0]["id"] and rows["draad"].remote_id == posts[1]["id"]
    assert rows["een"].remote_url and rows["later"].state == "queued"
    assert stage.run().outcomes == []  # nothing is posted twice


def test_media_carry_their_alt_text(bench, tmp_path):
    (bench.stage.folder / "foto.png").write_bytes(PNG)
    bench.setup(f"""\
        - text: Wij zijn op weg
          media: {{path: foto.png, alt: "De deur van het Stadskantoor"}}
          at: {bench.stage.at(-1)}
        """)
    assert bench.stage.run().count("sent") == 1
    [post] = bench.fake.posts
    assert bench.fake.alt_texts(post) == ["De deur van het Stadskantoor"]


def test_lost_response_is_reconciled_exactly_once(bench):
    bench.setup(f"- {{text: 'Eenmaal: {{link}}', at: {bench.stage.at(-1)}}}\n")
    bench.fake.inject("post", Fault.drop(store=True))
    report = bench.stage.run()
    assert report.count("sent") == 1 and len(bench.fake.posts) == 1
    assert bench.stage.rows()[0].remote_id == bench.fake.posts[0]["id"]


def test_rate_limit_with_a_reset_is_waited_out(bench):
    bench.setup(f"- {{text: hallo, at: {bench.stage.at(-1)}}}\n")
    bench.fake.inject("post", Fault.rate_limit(reset_in=20))
    bench.stage.now = datetime.now(timezone.utc)  # the reset is real time: wait from now
    report = bench.stage.run()
    assert report.count("sent") == 1 and bench.texts() == ["hallo"]
    assert len(bench.stage.sleeps) == 1 and 15 < bench.stage.sleeps[0] <= 22  # reset headers round to seconds


def test_rate_limit_without_a_reset_defers_to_a_later_run(bench):
    stage = bench.stage
    bench.setup(f"- {{text: een, at: {stage.at(-2)}}}\n- {{text: twee, at: {stage.at(-1)}}}\n")
    bench.fake.inject("post", Fault.rate_limit())
    report = stage.run()
    assert (report.count("sent"), report.count("deferred"), report.exit_code) == (0, 1, 0)
    assert stage.sleeps == [] and bench.fake.posts == []  # never spins
    assert [r.state for r in stage.rows()] == ["queued", "queued"] and "rate limited" in stage.rows()[0].last_error
    assert stage.run().outcomes == []  # held back a while, not hammered
    stage.now += timedelta(minutes=3)
    assert stage.run().count("sent") == 2 and bench.texts() == ["een", "twee"]


def test_server_errors_are_retried_then_the_outage_is_waited_out(bench):
    stage = bench.stage
    bench.setup(f"- {{text: volhouden, at: {stage.at(-2)}}}\n- {{text: later, at: {stage.at(-1)}}}\n")
    bench.fake.inject("post", Fault.server_error(502), times=2)
    assert stage.run().count("sent") == 2 and bench.texts() == ["volhouden", "later"]
    assert len(stage.sleeps) == 2  # backoff between the attempts

    bench.setup(f"- {{text: storing, at: {stage.at(0)}}}\n")  # 'late' is the default hour
    bench.fake.inject("post", Fault.server_error(503), times=3)
    report = stage.run()
    [outcome] = report.outcomes
    assert outcome.state == "deferred" and report.exit_code == 0  # nothing went out: try again later
    [row] = [r for r in stage.rows() if r.state == "queued"]
    assert row.not_before is not None and row.not_before > stage.now
    stage.now = row.not_before + timedelta(seconds=1)
    assert stage.run().count("sent") == 1 and bench.texts()[-1] == "storing"


def test_rejected_credentials_flag_the_account(bench):
    from campaign.queue.status import status

    stage = bench.stage
    bench.setup(f"- {{text: een, at: {stage.at(-2)}}}\n- {{text: twee, at: {stage.at(-1)}}}\n")
    bench.fake.inject("post", Fault.unauthorized())
    report = stage.run()
    [outcome] = report.outcomes  # one clear message, not one per post
    assert outcome.state == "failed" and "credentials rejected" in outcome.message
    assert [r.state for r in stage.rows()] == ["failed", "queued"]
    assert status(stage.db, stage.now).flagged_accounts[0][0] == bench.seat.account
    assert stage.run().outcomes == []  # left alone until 'campaign accounts check' passes


def test_duplicate_text(bench):
    stage = bench.stage
    bench.fake.seed_post("Praat mee!", created_at=stage.now - timedelta(hours=3))
    bench.setup(f"- {{text: 'Praat mee!', at: {stage.at(-1)}}}\n")
    report = stage.run()
    if bench.fake.refuses_duplicates:  # X: 403 duplicate content, and it was not ours
        [outcome] = report.needs_attention
        assert outcome.state == "failed" and "add a variant" in outcome.message
        assert bench.texts() == ["Praat mee!"]
    else:  # the others take the same text again
        assert report.count("sent") == 1 and bench.texts() == ["Praat mee!", "Praat mee!"]


def test_timeline_pages_resume_from_a_cursor_without_loss_or_doubles(bench):
    first = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=120)
    seeded = [bench.fake.seed_post(f"bericht {i}", created_at=first + i * timedelta(hours=5)) for i in range(230)]
    client = bench.client()
    walk = client.timeline_pages()
    read = [next(walk), next(walk)]
    walk.close()  # stopped half-way, e.g. by a 429
    assert read[-1].cursor
    read += list(client.timeline_pages(cursor=read[-1].cursor))
    ids = [record.remote_id for page in read for record in records(bench.seat.platform, page, bench.handle())]
    assert sorted(ids) == sorted(p["id"] for p in seeded) and len(ids) == len(set(ids))
    assert [r.text for r in records(bench.seat.platform, read[0], bench.handle())][0] == "bericht 229"  # newest first

    since = seeded[200]["created_at"]
    recent = [r.remote_id for page in client.timeline_pages(since=since)
              for r in records(bench.seat.platform, page, bench.handle())]
    assert sorted(recent) == sorted(p["id"] for p in seeded[200:])
    assert [p.id for p in client.recent_posts(since)] == recent  # the same walk, newest first


def test_what_we_post_reads_back_as_the_same_archive_text(bench):
    stage = bench.stage
    bench.setup(f"""\
        - text: "Praat mee!\\n\\nLees het stuk: {{link}}\\nen reageer met #zelfstandigeteams"
          at: {stage.at(-1)}
        """)
    assert stage.run().count("sent") == 1
    remote_id = stage.rows()[0].remote_id
    [record] = [r for page in bench.client().timeline_pages(since=stage.now - timedelta(hours=1))
                for r in records(bench.seat.platform, page, bench.handle()) if r.remote_id == remote_id]
    sent = f"Praat mee!\n\nLees het stuk: {LINK}\nen reageer met #zelfstandigeteams"
    assert bench.client().same_text(sent, record.text)
    # Paragraphs and line breaks survive exactly; only the link may be shown shortened (t.co, Bluesky).
    assert record.text.startswith("Praat mee!\n\nLees het stuk: ")
    assert record.text.endswith("\nen reageer met #zelfstandigeteams")
    assert [link.expanded_url for link in record.links] == [LINK]
