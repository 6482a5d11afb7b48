"""Posting to Mastodon through the real Mastodon.py client: the Idempotency-Key keeps retries exactly-once."""
from __future__ import annotations

from tests.fakes.base import Fault
from tests.stage import mastodon_account_yaml, mastodon_env


def setup_m(stage, fake, posts_yaml):
    stage.environ.update(mastodon_env(fake))
    stage.write(mastodon_account_yaml(fake), posts_yaml, accounts="tas_m")
    stage.sync()


def texts(fake):
    return [p["text"] for p in fake.posts]


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


def test_a_wrong_token_is_never_repeated_in_the_message(stage, fake_mastodon):
    setup_m(stage, fake_mastodon, f"- {{text: een, at: {stage.at(-2)}}}\n- {{text: twee, at: {stage.at(-1)}}}\n")
    stage.environ["CAMPAIGN_TAS_M_ACCESS_TOKEN"] = "wrong-token-123"
    report = stage.run()
    [outcome] = report.outcomes
    assert outcome.state == "failed" and "credentials rejected: Mastodon answered 401" in outcome.message
    assert "wrong-token-123" not in outcome.message
    from campaign.queue.status import status

    assert status(stage.db, stage.now).flagged_accounts[0][0] == "tas_m"


def test_one_off_reply_to_a_status_on_the_instance(stage, fake_mastodon):
    from campaign.queue.manual import queue_post

    setup_m(stage, fake_mastodon, f"- {{text: 'later', at: {stage.at(600)}}}\n")
    original = fake_mastodon.seed_post("Ik volg jullie!")
    url = f"{fake_mastodon.url}/@{fake_mastodon.account.username}/{original['id']}"
    queue_post(stage.db, "tas_m", "Leuk dat je ons volgt!", at=stage.now, now=stage.now, reply_to_url=url)
    assert stage.run().count("sent") == 1
    reply = fake_mastodon.posts[-1]
    assert (reply["text"], reply["reply_to"]) == ("Leuk dat je ons volgt!", original["id"])
