"""The queue tells the truth: an outcome that may have reached the platform is never called
`failed` without evidence, `attempts` counts real calls, and no exception from a library or a
strange answer escapes one post (issue 11)."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from campaign.queue import claims
from tests.fakes.base import Fault, json_response
from tests.fakes.linkedin import linkedin_account_yaml, linkedin_env
from tests.fakes.mastodon import FakeMastodon
from tests.stage import threads_account_yaml, threads_env
from tests.stage import (bluesky_account_yaml, bluesky_env, mastodon_account_yaml, mastodon_env, x_account_yaml,
                         x_env)

PNG = (Path(__file__).resolve().parent.parent / "media" / "stadskantoor030.png").read_bytes()


def setup(stage, fake, platform: str, posts_yaml: str):
    account_yaml, env, name = {"x": (x_account_yaml, x_env, "tas_x"),
                               "mastodon": (mastodon_account_yaml, mastodon_env, "tas_m"),
                               "bluesky": (bluesky_account_yaml, bluesky_env, "tas_b"),
                               "linkedin": (linkedin_account_yaml, linkedin_env, "tas_l"),
                               "threads": (threads_account_yaml, threads_env, "tas_t")}[platform]
    stage.environ.update(env(fake))
    stage.write(account_yaml(fake), posts_yaml, accounts=name)
    stage.sync()


def public_texts(fake) -> list[str]:
    return [p["text"] for p in fake.posts if not p.get("deleted")]


@pytest.fixture(params=["x", "mastodon", "bluesky", "linkedin", "threads"])
def platform_fake(request):
    if request.param == "threads":
        return request.param, request.getfixturevalue("fake_threads")
    if request.param == "linkedin":
        return request.param, request.getfixturevalue("fake_linkedin")
    if request.param == "x":
        fake = request.getfixturevalue("fake_x")
    elif request.param == "mastodon":
        fake = request.getfixturevalue("fake_mastodon")
    else:
        fake = request.getfixturevalue("fake_bluesky")
    return request.param, fake


# -- 1. ambiguous outcomes ---------------------------------------------------------------

def test_stored_then_lost_then_500s_is_sent_not_failed(stage, fake_mastodon):
    """The reported case: the first attempt is stored and its answer lost, the retries get 500."""
    setup(stage, fake_mastodon, "mastodon", f"- {{text: opgeslagen, at: {stage.at(-1)}}}\n")
    fake_mastodon.inject("post", Fault.drop(store=True))
    fake_mastodon.inject("post", Fault.server_error(500), times=2)
    report = stage.run()
    [outcome] = report.outcomes
    assert outcome.state == "sent", outcome
    [row] = stage.rows()
    assert public_texts(fake_mastodon) == ["opgeslagen"]
    assert (row.state, row.remote_id) == ("sent", fake_mastodon.posts[0]["id"])
    assert row.attempts == 3 == len(fake_mastodon.requests_to("post"))
    assert row.in_doubt_since is None


def test_lost_then_500s_with_nothing_stored_is_failed_after_checking(stage, fake_mastodon):
    setup(stage, fake_mastodon, "mastodon", f"- {{text: verloren, at: {stage.at(-1)}}}\n")
    fake_mastodon.inject("post", Fault.drop(store=False))
    fake_mastodon.inject("post", Fault.server_error(500), times=2)
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "did not go out" in outcome.message
    assert public_texts(fake_mastodon) == [] and fake_mastodon.requests_to("timeline")
    assert stage.rows()[0].attempts == 3


def test_lost_then_500s_and_an_unreadable_timeline_is_unknown(stage, fake_mastodon):
    setup(stage, fake_mastodon, "mastodon", f"- {{text: misschien, at: {stage.at(-1)}}}\n")
    fake_mastodon.inject("post", Fault.drop(store=True))
    fake_mastodon.inject("post", Fault.server_error(500), times=2)
    fake_mastodon.inject("timeline", Fault.server_error(502), times=5)
    [outcome] = stage.run().outcomes
    assert outcome.state == "unknown"
    assert f"campaign resolve {outcome.post_id} --sent URL" in outcome.message
    assert stage.rows()[0].state == "unknown"


def test_only_errors_that_prove_nothing_went_out_make_failed(stage, fake_mastodon):
    """500s alone (no lost answer) are 'failed' without reading the timeline (once 'late' is spent)."""
    setup(stage, fake_mastodon, "mastodon", f"- {{text: nooit, at: {stage.at(0)}, late: 1m}}\n")
    fake_mastodon.inject("post", Fault.server_error(500), times=3)
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and outcome.message.startswith("gave up after 3 attempts")
    assert not fake_mastodon.requests_to("timeline")
    assert stage.rows()[0].attempts == 3


def test_attempts_count_calls_not_claims(stage, fake_mastodon):
    setup(stage, fake_mastodon, "mastodon", f"- {{text: een, at: {stage.at(-1)}}}\n")
    fake_mastodon.inject("post", Fault.server_error(503), times=2)
    assert stage.run().count("sent") == 1
    assert stage.rows()[0].attempts == 3
    setup(stage, fake_mastodon, "mastodon", f"- {{text: twee, at: {stage.at(-1)}}}\n")
    fake_mastodon.inject("post", Fault.rate_limit())  # deferred: one call was made
    stage.run()
    row = [r for r in stage.rows() if r.state == "queued"][0]
    assert row.attempts == 1


@pytest.mark.parametrize("store", [True, False])
def test_a_2xx_that_is_not_json_is_settled_by_evidence(stage, platform_fake, store):
    platform, fake = platform_fake
    setup(stage, fake, platform, f"- {{text: 'Onleesbaar antwoord', at: {stage.at(-1)}}}\n")
    fake.inject("post", Fault.garble(200, store=store))
    report = stage.run()
    [outcome] = report.outcomes
    assert outcome.state == "sent", outcome
    assert public_texts(fake) == ["Onleesbaar antwoord"]  # once, whether the first try stored it or not
    [row] = stage.rows()
    assert row.remote_id == str(fake.posts[0]["id"]) or row.remote_id == fake.posts[0].get("uri")


def test_a_lost_answer_followed_by_a_rate_limit_is_checked_before_posting_again(stage, fake_mastodon):
    """The doubt survives the release: the next claim reads the timeline before it posts
    (the idempotency key alone would not do once Mastodon has forgotten it)."""
    fake_mastodon.idempotency_ttl = 0.0
    setup(stage, fake_mastodon, "mastodon", f"- {{text: geduld, at: {stage.at(-1)}}}\n")
    fake_mastodon.inject("post", Fault.drop(store=True))
    fake_mastodon.inject("post", Fault.rate_limit())
    report = stage.run()
    assert [o.state for o in report.outcomes] == ["deferred"]
    [row] = stage.rows()
    assert row.state == "queued" and row.in_doubt_since is not None
    stage.now += timedelta(minutes=3)
    assert [o.state for o in stage.run().outcomes] == ["sent"]
    assert public_texts(fake_mastodon) == ["geduld"]
    assert stage.rows()[0].in_doubt_since is None


def test_an_abandoned_mastodon_send_past_the_key_window_reads_the_timeline(stage, fake_mastodon):
    fake_mastodon.idempotency_ttl = 0.0  # the server has forgotten the key
    setup(stage, fake_mastodon, "mastodon", f"- {{text: vergeten, at: {stage.at(-1)}}}\n")
    dead = claims.claim_next_due(stage.db, stage.now, "killed-worker", lease=timedelta(seconds=1))
    fake_mastodon.seed_post("vergeten")  # it did go out before the worker died
    stage.now += timedelta(hours=2)
    report = stage.run()
    assert [o.state for o in report.outcomes] == ["sent"] and dead is not None
    assert public_texts(fake_mastodon) == ["vergeten"]


def test_each_part_of_a_thread_is_settled_by_evidence(stage, fake_mastodon):
    setup(stage, fake_mastodon, "mastodon", f"- {{thread: [deel een, deel twee, deel drie], at: {stage.at(-1)}}}\n")
    # Part 1 goes out (a no-op fault); part 2 is stored but its answer lost, then its retries meet 500s.
    fake_mastodon.inject("post", Fault.slow(0, then=None))
    fake_mastodon.inject("post", Fault.drop(store=True))
    fake_mastodon.inject("post", Fault.server_error(500), times=2)
    report = stage.run()
    assert [o.state for o in report.outcomes] == ["sent"]
    assert public_texts(fake_mastodon) == ["deel een", "deel twee", "deel drie"]
    posts = fake_mastodon.posts
    assert posts[1]["reply_to"] == posts[0]["id"] and posts[2]["reply_to"] == posts[1]["id"]


# -- 2. unexpected exceptions are contained ------------------------------------------------

def test_a_library_that_raises_after_posting_ends_sent_and_the_run_goes_on(stage, fake_mastodon, monkeypatch):
    from mastodon import Mastodon

    setup(stage, fake_mastodon, "mastodon",
          f"- {{text: eerste, at: {stage.at(-2)}}}\n- {{text: tweede, at: {stage.at(-1)}}}\n")
    original = Mastodon.status_post
    calls = []

    def buggy(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("id")  # a strange answer the library could not digest
        return result

    monkeypatch.setattr(Mastodon, "status_post", buggy)
    report = stage.run()
    assert [o.state for o in report.outcomes] == ["sent", "sent"]
    assert public_texts(fake_mastodon) == ["eerste", "tweede"]


def test_a_library_that_raises_before_sending_ends_failed_with_the_error_named(stage, fake_x, monkeypatch):
    import tweepy

    setup(stage, fake_x, "x", f"- {{text: kapot, at: {stage.at(-2)}}}\n- {{text: heel, at: {stage.at(-1)}}}\n")
    original = tweepy.Client.create_tweet

    def broken(self, *args, **kwargs):
        if kwargs.get("text") == "kapot":
            raise RecursionError("maximum recursion depth exceeded")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(tweepy.Client, "create_tweet", broken)
    report = stage.run()
    by_text = {stage.rows()[i].payload["parts"][0]["text"]: o for i, o in enumerate(report.outcomes)}
    assert by_text["kapot"].state == "failed"
    assert "RecursionError: maximum recursion depth exceeded" in by_text["kapot"].message
    assert by_text["heel"].state == "sent"
    assert public_texts(fake_x) == ["heel"]
    assert {r.state for r in stage.rows()} == {"failed", "sent"}  # nothing left sending


def test_our_own_bug_outside_the_platform_call_is_contained(stage, fake_mastodon, monkeypatch):
    from campaign.send import dispatch

    setup(stage, fake_mastodon, "mastodon",
          f"- {{text: een, at: {stage.at(-2)}}}\n- {{text: twee, at: {stage.at(-1)}}}\n")
    original = dispatch.Dispatcher._send_parts
    seen = []

    def flaky(self, claim, platform, info):
        seen.append(claim.id)
        if len(seen) == 1:
            raise ZeroDivisionError("division by zero")
        return original(self, claim, platform, info)

    monkeypatch.setattr(dispatch.Dispatcher, "_send_parts", flaky)
    report = stage.run()
    assert [o.state for o in report.outcomes] == ["failed", "sent"]
    assert "ZeroDivisionError" in report.outcomes[0].message
    assert [r.state for r in stage.rows()] == ["failed", "sent"]


class MastodonWithoutApiVersions(FakeMastodon):
    """An instance whose v1 instance endpoint fails and whose v2 answer lacks api_versions:
    Mastodon.py's own version probe then recurses until RecursionError."""

    def _instance_v1(self, req):
        return json_response(404, {"error": "Record not found"})

    def _instance_v2(self, req):
        body = json.loads(super()._instance_v2(req).encoded())
        body.pop("api_versions", None)
        return json_response(200, body)


def test_image_post_to_a_mastodon_without_api_versions(stage, tmp_path):
    (tmp_path / "foto.png").write_bytes(PNG)
    with MastodonWithoutApiVersions() as fake:
        setup(stage, fake, "mastodon", f"""\
            - text: "Met foto"
              media: {{path: foto.png, alt: "Het stadskantoor"}}
              at: {stage.at(-1)}
            """)
        report = stage.run()
        assert [o.state for o in report.outcomes] == ["sent"], report.outcomes
        assert [m["description"] for m in fake.posts[0]["media"]] == ["Het stadskantoor"]


# -- 4. one definition of "due" ---------------------------------------------------------------

def test_dry_run_shows_exactly_what_a_real_run_takes(stage, fake_mastodon, fake_x):
    from campaign.send.dryrun import preview

    stage.environ.update(mastodon_env(fake_mastodon))
    stage.environ.update(x_env(fake_x))
    stage.write(mastodon_account_yaml(fake_mastodon) + x_account_yaml(fake_x, extra=", max_per_day: 1"), f"""\
        - {{id: gewoon, text: gewoon, accounts: [tas_m], at: {stage.at(-5)}}}
        - {{id: vastgehouden, text: vastgehouden, accounts: [tas_m], at: {stage.at(-4)}}}
        - {{id: te-laat, text: te laat, accounts: [tas_m], at: {stage.at(-300)}, late: 30m}}
        - {{id: x-een, text: x een, accounts: [tas_x], at: {stage.at(-3)}}}
        - {{id: x-twee, text: x twee, accounts: [tas_x], at: {stage.at(-2)}}}
        """, accounts="tas_m, tas_x", extra="    late: 1d\n")
    stage.sync()
    from sqlalchemy import update

    from campaign.queue.tables import scheduled_posts

    with stage.db.transaction(write=True) as connection:  # held back by an earlier rate limit
        connection.execute(update(scheduled_posts).where(scheduled_posts.c.key.like("tas/vastgehouden/%"))
                           .values(not_before=stage.now + timedelta(minutes=10)))
    with stage.db.transaction(write=True) as connection:  # te-laat was queued before it got late
        connection.execute(update(scheduled_posts).where(scheduled_posts.c.key.like("tas/te-laat/%"))
                           .values(state="queued"))
    planned = {item.row.key.split("/")[1]: item.action for item in preview(stage.db, stage.now, stage.environ)}
    assert planned == {"gewoon": "post", "te-laat": "missed", "x-een": "post", "x-twee": "held"}
    report = stage.run()
    done = {stage_key(o.key): o.state for o in report.outcomes}
    expected = {"post": "sent", "missed": "missed", "held": "deferred"}
    assert done == {key: expected[action] for key, action in planned.items()}


def test_dry_run_leaves_out_flagged_accounts(stage, fake_mastodon):
    from campaign.send.dryrun import preview

    setup(stage, fake_mastodon, "mastodon", f"- {{text: een, at: {stage.at(-1)}}}\n")
    claims.flag_account(stage.db, "tas_m", "credentials rejected", stage.now)
    assert preview(stage.db, stage.now, stage.environ) == []
    assert stage.run().outcomes == []


def stage_key(key: str) -> str:
    return key.split("/")[1]


# -- outages recover by themselves (issue 12) ---------------------------------------------------

def test_an_outage_holds_the_account_back_and_recovers_without_a_person(stage, fake_mastodon):
    posts = "".join(f"- {{text: 'Bericht {n}', at: {stage.at(-30 + n)}}}\n" for n in range(30))
    setup(stage, fake_mastodon, "mastodon", posts)
    fake_mastodon.inject("post", Fault.server_error(503), times=3)
    report = stage.run()
    # One post meets the outage three times; the account's other 29 wait with it, untouched.
    assert [o.state for o in report.outcomes] == ["deferred"] and report.exit_code == 0
    assert len(fake_mastodon.requests_to("post")) == 3
    rows = stage.rows()
    assert {r.state for r in rows} == {"queued"} and all(r.not_before for r in rows)
    assert rows[0].attempts == 3 and "503" in rows[0].last_error
    assert stage.run().outcomes == []  # held back: nothing is hammered
    fake_mastodon.inject("post", Fault.server_error(503), times=3)
    stage.now += timedelta(minutes=1, seconds=1)
    assert [o.state for o in stage.run().outcomes] == ["deferred"]
    held = stage.rows()[0].not_before - stage.now
    assert timedelta(minutes=1, seconds=50) <= held <= timedelta(minutes=2)  # backing off: 1 min, then 2
    stage.now += timedelta(minutes=2, seconds=1)  # the instance is back
    report = stage.run()
    assert report.count("sent") == 30 and report.exit_code == 0
    assert public_texts(fake_mastodon) == [f"Bericht {n}" for n in range(30)]
