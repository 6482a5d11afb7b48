"""Posting to X through the real tweepy client against the loopback fake: every fault ends in its documented state."""
from __future__ import annotations

from datetime import timedelta

from tests.fakes.base import Fault
from tests.stage import x_account_yaml, x_env


def setup_x(stage, fake, posts_yaml, extra_account=""):
    stage.environ.update(x_env(fake))
    stage.write(x_account_yaml(fake, extra=extra_account), posts_yaml, accounts="tas_x")
    stage.sync()


def texts(fake):
    return [p["text"] for p in fake.posts]


def test_an_outage_outlasting_the_late_allowance_fails(stage, fake_x):
    # The contract covers the outage waited out; here its 'late' allowance ends before another round.
    setup_x(stage, fake_x, f"- {{text: drie, at: {stage.at(0)}, late: 1m}}\n")
    fake_x.inject("post", Fault.server_error(500), times=3)
    report = stage.run()
    assert report.exit_code == 1
    [outcome] = report.needs_attention
    assert outcome.state == "failed" and "gave up after 3 attempts: X answered 500" in outcome.message


def test_response_slower_than_the_timeout_is_reconciled(stage, fake_x):
    setup_x(stage, fake_x, f"- {{text: traag, at: {stage.at(-1)}}}\n")
    fake_x.inject("post", Fault.slow(3.0))
    report = stage.run()
    assert report.count("sent") == 1 and texts(fake_x) == ["traag"]


def test_lost_response_and_unreadable_timeline_is_unknown(stage, fake_x):
    setup_x(stage, fake_x, f"- {{text: onzeker, at: {stage.at(-1)}}}\n")
    fake_x.inject("post", Fault.drop(store=True))
    fake_x.inject("timeline", Fault.server_error(503), times=5)
    report = stage.run()
    [outcome] = report.needs_attention
    assert outcome.state == "unknown" and report.exit_code == 1
    assert "could not be read" in outcome.message and f"campaign resolve {outcome.post_id} --sent URL" in outcome.message
    assert len(fake_x.posts) == 1


def test_lost_response_and_post_not_stored_is_retried(stage, fake_x):
    setup_x(stage, fake_x, f"- {{text: opnieuw, at: {stage.at(-1)}}}\n")
    fake_x.inject("post", Fault.drop(store=False))
    assert stage.run().count("sent") == 1 and texts(fake_x) == ["opnieuw"]


def test_duplicate_of_our_own_post_since_the_claim_counts_as_sent(stage, fake_x):
    setup_x(stage, fake_x, f"- {{text: 'Al verstuurd', at: {stage.at(-1)}}}\n")
    fake_x.seed_post("Al verstuurd", created_at=stage.now)  # an attempt of ours that went out unseen
    report = stage.run()
    assert report.count("sent") == 1 and len(fake_x.posts) == 1
    assert stage.rows()[0].remote_id == fake_x.posts[0]["id"]


def test_bad_request_fails_permanently_with_the_platform_message(stage, fake_x):
    setup_x(stage, fake_x, f"- {{text: kapot, at: {stage.at(-1)}}}\n")
    fake_x.inject("post", Fault.status(400, body={"errors": [{"message": "Invalid media"}],
                                                  "title": "Invalid Request", "detail": "Invalid media",
                                                  "type": "https://api.twitter.com/2/problems/invalid-request"}))
    [outcome] = stage.run().needs_attention
    assert outcome.state == "failed" and "X answered 400" in outcome.message
    assert stage.run().outcomes == []


def test_too_late_is_missed_not_posted(stage, fake_x):
    setup_x(stage, fake_x, f"- {{text: te laat, at: {stage.at(-1)}, late: 30m}}\n")
    stage.now += timedelta(hours=1)
    [outcome] = stage.run().needs_attention
    assert outcome.state == "missed" and "more than its 'late' allowance of 30 min" in outcome.message
    assert fake_x.posts == []


def test_thread_failing_midway_resumes_without_reposting(stage, fake_x, monkeypatch):
    from campaign.queue.manual import retry
    from campaign.send.platforms.x import XPlatform

    setup_x(stage, fake_x, f"- {{thread: [een, twee, drie], at: {stage.at(-1)}}}\n")
    real_post = XPlatform.post
    broken = []

    def post_then_break(self, part, **kwargs):
        if part.text == "twee" and not broken:
            broken.append(True)
            fake_x.inject("post", Fault.status(400))
        return real_post(self, part, **kwargs)

    monkeypatch.setattr(XPlatform, "post", post_then_break)
    [outcome] = stage.run().needs_attention
    assert outcome.state == "failed" and texts(fake_x) == ["een"]
    retry(stage.db, outcome.post_id, stage.now)
    assert stage.run().count("sent") == 1
    assert texts(fake_x) == ["een", "twee", "drie"]
    assert fake_x.posts[1]["reply_to"] == fake_x.posts[0]["id"]


def test_max_per_day_holds_the_rest_back(stage, fake_x):
    setup_x(stage, fake_x, f"- {{variants: [a, b, c], rrule: FREQ=MINUTELY, from: '{stage.at(-3)}', count: 3}}\n",
            extra_account=", max_per_day: 2")
    report = stage.run()
    assert report.count("sent") == 2 and report.count("deferred") == 1 and report.exit_code == 0
    assert texts(fake_x) == ["a", "b"]
    [row] = [r for r in stage.rows() if r.state == "queued"]
    assert row.not_before is not None and "max_per_day is 2" in row.last_error
    assert stage.run().outcomes == []  # not retried before the cap frees up
    stage.now = row.not_before + timedelta(seconds=1)
    # by the time the cap allows it, it is past its 'late' allowance: missed, not posted
    assert stage.run().needs_attention[0].state == "missed" and texts(fake_x) == ["a", "b"]


def test_recovery_finds_our_post_behind_hundreds_of_newer_ones(stage, fake_x):
    from campaign.queue import claims

    setup_x(stage, fake_x, f"- {{text: 'Diep verstopt', at: {stage.at(-1)}}}\n")
    dead = claims.claim_next_due(stage.db, stage.now, "killed-worker", lease=timedelta(seconds=1))
    fake_x.seed_post("Diep verstopt")  # it went out, then the sender was killed before recording it
    for number in range(450):  # other dispatchers kept posting for this account meanwhile
        fake_x.seed_post(f"Later bericht {number}")
    stage.now += timedelta(seconds=5)  # the dead sender's lease has run out
    report = stage.run()
    assert report.count("sent") == 1 and dead is not None
    assert [p["text"] for p in fake_x.posts].count("Diep verstopt") == 1


def test_abandoned_send_that_went_out_is_sent_even_when_now_too_late(stage, fake_x):
    from campaign.queue import claims

    setup_x(stage, fake_x, f"- {{text: 'Wel verstuurd', at: {stage.at(-1)}, late: 30m}}\n"
                           f"- {{text: 'Nooit aangekomen', at: {stage.at(-1)}, late: 30m}}\n")
    claims.claim_next_due(stage.db, stage.now, "killed-worker", lease=timedelta(seconds=1))
    claims.claim_next_due(stage.db, stage.now, "killed-worker", lease=timedelta(seconds=1))
    fake_x.seed_post("Wel verstuurd")  # the first went out before its sender died; the second did not
    stage.now += timedelta(hours=2)  # the machine was down long past the 'late' allowance
    report = stage.run()
    states = {r.payload["parts"][0]["text"]: r.state for r in stage.rows()}
    assert states == {"Wel verstuurd": "sent", "Nooit aangekomen": "missed"}
    assert [p["text"] for p in fake_x.posts] == ["Wel verstuurd"]
    assert report.count("sent") == 1 and report.count("missed") == 1


def test_rate_limited_release_keeps_the_first_claim_time_for_recovery(stage, fake_x):
    setup_x(stage, fake_x, f"- {{text: 'Via een omweg', at: {stage.at(-1)}}}\n")
    fake_x.inject("post", Fault.drop(store=True))  # out, but we never hear back ...
    fake_x.inject("timeline", Fault.rate_limit())  # ... and cannot look: unknown
    first = stage.run()
    assert first.needs_attention[0].state == "unknown"
    from campaign.queue.manual import retry

    retry(stage.db, first.needs_attention[0].post_id, stage.now)
    stage.now += timedelta(minutes=10)
    report = stage.run()  # X says duplicate; our own post since the first claim is found
    assert report.count("sent") == 1 and len(fake_x.posts) == 1
