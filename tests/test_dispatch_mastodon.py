"""Posting to Mastodon through the real Mastodon.py client: the Idempotency-Key keeps retries exactly-once."""
from __future__ import annotations

from datetime import datetime, timezone, timedelta
from pathlib import Path

from tests.fakes.base import Fault
from tests.stage import mastodon_account_yaml, mastodon_env

PNG = (Path(__file__).resolve().parent.parent / "media" / "stadskantoor030.png").read_bytes()


def setup_m(stage, fake, posts_yaml):
    stage.environ.update(mastodon_env(fake))
    stage.write(mastodon_account_yaml(fake), posts_yaml, accounts="tas_m")
    stage.sync()


def texts(fake):
    return [p["text"] for p in fake.posts]


def test_post_thread_and_media_with_description(stage, fake_mastodon, tmp_path):
    (tmp_path / "foto.png").write_bytes(PNG)
    setup_m(stage, fake_mastodon, f"""\
        - text: "Praat mee: {{link}}"
          media: {{path: foto.png, alt: "Een rode deur"}}
          at: {stage.at(-2)}
        - {{thread: [een, twee], at: {stage.at(-1)}}}
        """)
    report = stage.run()
    assert report.exit_code == 0 and report.count("sent") == 2
    assert texts(fake_mastodon) == ["Praat mee: https://publicpapersutrecht.nl/teams", "een", "twee"]
    posts = fake_mastodon.posts
    assert [m["description"] for m in posts[0]["media"]] == ["Een rode deur"]
    assert posts[2]["reply_to"] == posts[1]["id"]
    row = stage.rows()[0]
    assert row.remote_id == posts[0]["id"] and row.remote_url.startswith(fake_mastodon.url)


def test_lost_response_is_retried_with_the_same_idempotency_key(stage, fake_mastodon):
    setup_m(stage, fake_mastodon, f"- {{text: eenmalig, at: {stage.at(-1)}}}\n")
    fake_mastodon.inject("post", Fault.drop(store=True))
    report = stage.run()
    assert report.count("sent") == 1
    assert texts(fake_mastodon) == ["eenmalig"]
    keys = [r.header("Idempotency-Key") for r in fake_mastodon.requests_to("post")]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]


def test_timeout_after_store_is_retried_with_the_same_key(stage, fake_mastodon):
    setup_m(stage, fake_mastodon, f"- {{text: traag, at: {stage.at(-1)}}}\n")
    fake_mastodon.inject("post", Fault.slow(3.0))
    assert stage.run().count("sent") == 1 and texts(fake_mastodon) == ["traag"]


def test_rate_limit_with_iso_reset_is_waited_out(stage, fake_mastodon):
    setup_m(stage, fake_mastodon, f"- {{text: een, at: {stage.at(-1)}}}\n")
    fake_mastodon.inject("post", Fault.rate_limit(reset_in=10))
    stage.now = datetime.now(timezone.utc)  # the reset is real time: wait from now, however slow the set-up
    assert stage.run().count("sent") == 1
    assert len(stage.sleeps) == 1 and 5 < stage.sleeps[0] <= 12
    assert texts(fake_mastodon) == ["een"]


def test_rate_limit_without_reset_is_deferred_to_the_next_run(stage, fake_mastodon):
    setup_m(stage, fake_mastodon, f"- {{text: een, at: {stage.at(-2)}}}\n- {{text: twee, at: {stage.at(-1)}}}\n")
    fake_mastodon.inject("post", Fault.rate_limit())
    report = stage.run()
    assert (report.count("sent"), report.count("deferred"), report.exit_code) == (0, 1, 0)
    assert stage.sleeps == [] and [r.state for r in stage.rows()] == ["queued", "queued"]
    assert stage.run().outcomes == []  # held back for a while, not retried at once
    stage.now += timedelta(minutes=3)
    assert stage.run().count("sent") == 2 and texts(fake_mastodon) == ["een", "twee"]


def test_unauthorized_flags_the_account(stage, fake_mastodon):
    setup_m(stage, fake_mastodon, f"- {{text: een, at: {stage.at(-2)}}}\n- {{text: twee, at: {stage.at(-1)}}}\n")
    stage.environ["CAMPAIGN_TAS_M_ACCESS_TOKEN"] = "wrong-token-123"
    report = stage.run()
    [outcome] = report.outcomes
    assert outcome.state == "failed" and "credentials rejected: Mastodon answered 401" in outcome.message
    assert "wrong-token-123" not in outcome.message
    from campaign.queue.status import status

    assert status(stage.db, stage.now).flagged_accounts[0][0] == "tas_m"


def test_server_errors_then_success(stage, fake_mastodon):
    setup_m(stage, fake_mastodon, f"- {{text: volhouden, at: {stage.at(-1)}}}\n")
    fake_mastodon.inject("post", Fault.server_error(502), times=2)
    assert stage.run().count("sent") == 1 and texts(fake_mastodon) == ["volhouden"]


def test_one_off_reply_to_a_status_on_the_instance(stage, fake_mastodon):
    from campaign.queue.manual import queue_post

    setup_m(stage, fake_mastodon, f"- {{text: 'later', at: {stage.at(600)}}}\n")
    original = fake_mastodon.seed_post("Ik volg jullie!")
    url = f"{fake_mastodon.url}/@{fake_mastodon.account.username}/{original['id']}"
    queue_post(stage.db, "tas_m", "Leuk dat je ons volgt!", at=stage.now, now=stage.now, reply_to_url=url)
    assert stage.run().count("sent") == 1
    reply = fake_mastodon.posts[-1]
    assert (reply["text"], reply["reply_to"]) == ("Leuk dat je ons volgt!", original["id"])
