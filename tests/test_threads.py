"""Threads through the Graph API on its loopback fake: the two-step publish and its container
wait, images by public URL, link attachments, errors, the token refresh and where the renewed
token lives, and `archive fetch` with cursor paging and insights."""
from __future__ import annotations

import os
import re
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.fetch import fetch_account
from campaign.errors import Rejected
from campaign.send.platforms import AccountInfo, connect
from tests.fakes.base import Fault
from tests.stage import threads_account_yaml, threads_env
from tests.test_fetch import Store

PNG = (Path(__file__).resolve().parent.parent / "media" / "stadskantoor030.png").read_bytes()
NOW = datetime.now(timezone.utc)


def setup(stage, fake, posts_yaml: str, **environ: str):
    stage.environ.update(threads_env(fake))
    stage.environ.update(environ)
    stage.write(threads_account_yaml(fake), posts_yaml, accounts="tas_t")
    stage.sync()


def client(fake, **environ: str):
    return connect(AccountInfo("tas_t", "threads", "@" + fake.account.username), {**threads_env(fake), **environ})


# -- publishing -----------------------------------------------------------------------------------

def test_a_container_still_in_progress_is_waited_for_then_published_once(stage, fake_threads):
    fake_threads.processing_polls = 3
    setup(stage, fake_threads, f"- {{text: 'Even geduld', at: {stage.at(-1)}}}\n")
    assert stage.run().count("sent") == 1
    [post] = fake_threads.posts
    assert post["text"] == "Even geduld" and post["media_type"] == "TEXT"
    assert len(fake_threads.requests_to("object")) >= 4 and len(fake_threads.requests_to("post")) == 1
    row = stage.rows()[0]
    assert row.remote_id == post["id"] and row.remote_url == post["permalink"]


def test_a_container_that_never_gets_ready_is_not_published(stage, fake_threads):
    fake_threads.processing_polls = 1000
    setup(stage, fake_threads, f"- {{text: 'Nooit klaar', at: {stage.at(0)}}}\n")
    [outcome] = stage.run().outcomes
    assert outcome.state == "deferred" and "still preparing" in stage.rows()[0].last_error
    assert fake_threads.posts == [] and fake_threads.requests_to("post") == []
    assert stage.rows()[0].in_doubt_since is None  # an unpublished container is nothing to doubt


def test_a_lost_answer_to_the_container_call_is_harmless(stage, fake_threads):
    setup(stage, fake_threads, f"- {{text: 'Bakje kwijt', at: {stage.at(-1)}}}\n")
    fake_threads.inject("container", Fault.drop(store=True))
    assert stage.run().count("sent") == 1
    assert [p["text"] for p in fake_threads.posts] == ["Bakje kwijt"]
    assert len(fake_threads.containers) == 2 and fake_threads.requests_to("timeline") == []


def test_a_lost_publish_answer_with_an_unreadable_timeline_is_unknown(stage, fake_threads):
    setup(stage, fake_threads, f"- {{text: 'Onzeker', at: {stage.at(-1)}}}\n")
    fake_threads.inject("post", Fault.reset(store=True))
    fake_threads.inject("timeline", Fault.server_error(503), times=3)
    [outcome] = stage.run().needs_attention
    assert outcome.state == "unknown" and "could not be read" in outcome.message
    assert len(fake_threads.posts) == 1  # it did go out; a person settles it with `resolve`


def test_images_go_by_public_url_with_alt_text_one_or_as_a_carousel(stage, fake_threads):
    for name in ("een.png", "twee.png"):
        (stage.folder / name).write_bytes(PNG)
    setup(stage, fake_threads, f"""\
        - text: "Eén foto"
          media: {{path: een.png, alt: "Het stadskantoor"}}
          at: {stage.at(-2)}
        - text: "Twee foto's"
          media: [{{path: een.png, alt: "Voorkant"}}, {{path: twee.png, alt: "Achterkant"}}]
          at: {stage.at(-1)}
        """)
    assert stage.run().count("sent") == 2
    single, carousel = fake_threads.posts
    assert single["media_type"] == "IMAGE"
    assert single["media"] == [{"url": "https://media.example/campagne/een.png", "alt": "Het stadskantoor"}]
    assert carousel["media_type"] == "CAROUSEL_ALBUM"
    assert fake_threads.alt_texts(carousel) == ["Voorkant", "Achterkant"]


def test_an_image_without_a_public_address_is_refused_clearly(stage, fake_threads):
    (stage.folder / "foto.png").write_bytes(PNG)
    setup(stage, fake_threads, f"- {{text: Foto, media: {{path: foto.png, alt: Deur}}, at: {stage.at(-1)}}}\n")
    del stage.environ["CAMPAIGN_TAS_T_MEDIA_URL"]
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "CAMPAIGN_TAS_T_MEDIA_URL" in outcome.message
    assert fake_threads.requests_to("container") == []


def test_an_image_threads_cannot_fetch_fails_with_the_reason(stage, fake_threads):
    (stage.folder / "foto.png").write_bytes(PNG)
    fake_threads.fail_images = True
    setup(stage, fake_threads, f"- {{text: Foto, media: {{path: foto.png, alt: Deur}}, at: {stage.at(-1)}}}\n")
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "FAILED_DOWNLOADING_IMAGE" in outcome.message
    assert fake_threads.posts == []


def test_the_first_link_is_attached_unless_card_is_false(stage, fake_threads):
    setup(stage, fake_threads, f"""\
        - {{text: 'Lees: {{link}} en https://example.org/b', at: {stage.at(-2)}}}
        - {{text: 'Zonder voorbeeld: {{link}}', card: false, at: {stage.at(-1)}}}
        """)
    assert stage.run().count("sent") == 2
    first, second = fake_threads.posts
    assert first["link_attachment"] == "https://publicpapersutrecht.nl/teams" and second["link_attachment"] is None


def test_refusals_are_named_and_fail_without_flagging(stage, fake_threads):
    setup(stage, fake_threads, f"- {{text: 'Geweigerd', at: {stage.at(-1)}}}\n")
    fake_threads.inject("container", Fault.status(400, body={"error": {
        "message": "Invalid parameter", "type": "OAuthException", "code": 100, "error_subcode": 2207010,
        "error_user_msg": "The post could not be created.", "fbtrace_id": "Aabc"}}))
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "code 100" in outcome.message and "could not be created" in outcome.message
    assert stage.run().outcomes == []


def test_a_missing_permission_flags_the_account(stage, fake_threads):
    from campaign.queue.status import status

    setup(stage, fake_threads, f"- {{text: een, at: {stage.at(-2)}}}\n- {{text: twee, at: {stage.at(-1)}}}\n")
    fake_threads.inject("post", Fault.status(403))
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "credentials rejected" in outcome.message and "code 10" in outcome.message
    assert status(stage.db, stage.now).flagged_accounts[0][0] == "tas_t"


def test_an_expired_token_flags_the_account_and_never_shows_the_token(stage, fake_threads):
    setup(stage, fake_threads, f"- {{text: een, at: {stage.at(-1)}}}\n")
    token = fake_threads.account.access_token
    fake_threads.expire_token(token)
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "code 190" in outcome.message and token not in outcome.message
    assert all(token not in str(row.last_error) for row in stage.rows())


# -- the long-lived token ------------------------------------------------------------------------

def test_the_token_is_renewed_into_a_private_file_and_used_from_there(stage, fake_threads, tmp_path):
    tokens = tmp_path / "geheim" / ".campaign-tokens.json"
    setup(stage, fake_threads, f"- {{text: 'Vers', at: {stage.at(-1)}}}\n", CAMPAIGN_TOKEN_FILE=str(tokens))
    configured = fake_threads.account.access_token
    assert stage.run().count("sent") == 1
    [refresh] = fake_threads.requests_to("refresh")
    assert refresh.query["grant_type"] == ["th_refresh_token"]
    assert stat.S_IMODE(os.stat(tokens).st_mode) == 0o600
    renewed = __import__("json").loads(tokens.read_text())["tas_t"]["access_token"]
    assert renewed != configured and configured not in tokens.read_text()
    publish = fake_threads.requests_to("post")[0]
    assert publish.header("authorization") == f"Bearer {renewed}" and "access_token" not in publish.query
    # Nothing of the renewed token reaches the database.
    from campaign.queue.tables import scheduled_posts

    with stage.db.transaction() as connection:
        dumped = repr([tuple(row) for row in connection.execute(select(scheduled_posts))])
    assert renewed not in dumped and configured not in dumped

    # Not renewed again on every run: only when a week has passed (or expiry nears).
    setup(stage, fake_threads, f"- {{text: 'Nog een', at: {stage.at(-1)}}}\n", CAMPAIGN_TOKEN_FILE=str(tokens))
    assert stage.run().count("sent") == 1 and len(fake_threads.requests_to("refresh")) == 1

    # A new token put in .env wins over the file's older chain.
    fresh = fake_threads.issue_token(fake_threads.account.user_id)
    view = client(fake_threads, CAMPAIGN_TAS_T_ACCESS_TOKEN=fresh, CAMPAIGN_TOKEN_FILE=str(tokens))
    assert view.whoami() == "@teamsaantstuur"
    assert fake_threads.requests[-2].endpoint == "refresh"
    assert fake_threads.requests[-2].query["access_token"] == [fresh]


def test_accounts_check_reports_the_renewed_tokens_expiry(stage, fake_threads, tmp_path):
    from campaign.send.accounts import check_accounts
    from campaign.spec.plan import load_plan

    tokens = tmp_path / ".campaign-tokens.json"
    setup(stage, fake_threads, f"- {{text: een, at: {stage.at(60)}}}\n", CAMPAIGN_TOKEN_FILE=str(tokens))
    [result] = check_accounts(load_plan(stage.posts_file).file, stage.environ, stage.db, stage.now)
    assert result.status == "ok" and result.detail.startswith("signed in as @teamsaantstuur")
    assert "token expires" in result.detail and result.warning is None


def test_a_token_threads_will_not_renew_still_posts_until_it_expires(stage, fake_threads, tmp_path):
    tokens = tmp_path / ".campaign-tokens.json"
    fake_threads.inject("refresh", Fault.status(400, body={"error": {
        "message": "The access token is too new to be refreshed", "type": "OAuthException", "code": 190}}))
    setup(stage, fake_threads, f"- {{text: 'Toch', at: {stage.at(-1)}}}\n", CAMPAIGN_TOKEN_FILE=str(tokens))
    assert stage.run().count("sent") == 1
    setup(stage, fake_threads, f"- {{text: 'Morgen weer', at: {stage.at(-1)}}}\n", CAMPAIGN_TOKEN_FILE=str(tokens))
    assert stage.run().count("sent") == 1
    assert len(fake_threads.requests_to("refresh")) == 1  # tried again after a day, not every run


# -- archive fetch ---------------------------------------------------------------------------------

def test_fetch_pages_with_a_cursor_resumes_and_reads_insights(fake_threads):
    first = NOW - timedelta(days=90)
    seeded = [fake_threads.seed_post(f"bericht {i} #teams", created_at=first + i * timedelta(hours=6))
              for i in range(230)]
    reply = fake_threads.seed_post("een antwoord", created_at=NOW - timedelta(hours=1), reply_to=seeded[-1])
    fake_threads.set_metrics(seeded[-1]["id"], likes=7, replies=1, reposts=2, quotes=1, views=90)
    store, threads = Store(), client(fake_threads)
    fake_threads.inject("timeline", Fault.rate_limit(), after=2)
    report = fetch_account(None, threads, "threads", "teamsaantstuur", now=NOW, store=store, refresh_days=0)
    assert not report.complete and report.fetched == 200
    assert store.states[("threads", "teamsaantstuur")]["pending"]["cursor"].startswith("threads:")
    report = fetch_account(None, threads, "threads", "teamsaantstuur", now=NOW, store=store, refresh_days=0)
    assert report.complete and report.fetched == 31
    assert len(set(store.downloaded())) == 231 and len(store.downloaded()) == 231
    newest = store.posts[("threads", seeded[-1]["id"])]
    assert newest.metrics == {"likes": 7, "replies": 1, "reposts": 2, "quotes": 1, "views": 90}
    assert newest.hashtags == ("teams",) and newest.url == seeded[-1]["permalink"]
    answer = store.posts[("threads", reply["id"])]
    assert answer.kind == "reply" and answer.reply_to_id == seeded[-1]["id"]
    assert answer.conversation_id == seeded[-1]["id"]
    # Only what is new is read next time (the newest stored post again, at most).
    fake_threads.seed_post("nieuw", created_at=NOW - timedelta(minutes=1))
    report = fetch_account(None, threads, "threads", "teamsaantstuur", now=NOW, store=store, refresh_days=0)
    assert report.new == 1 and report.fetched <= 2


def test_fetch_without_the_insights_permission_says_so_once(fake_threads):
    for i in range(3):
        fake_threads.seed_post(f"bericht {i}", created_at=NOW - timedelta(days=1, hours=i))
    fake_threads.insights_allowed = False
    store = Store()
    report = fetch_account(None, client(fake_threads), "threads", "teamsaantstuur", now=NOW, store=store)
    assert report.complete and report.fetched == 3
    assert len(fake_threads.requests_to("insights")) == 1
    assert "threads_manage_insights" in report.message
    assert all(post.metrics == {} for post in store.posts.values())


def test_accounts_check_from_the_command_line_keeps_the_token_beside_posts_yaml(stage, fake_threads):
    import json

    from tests.test_cli_run import database_dump, invoke

    setup(stage, fake_threads, f"- {{text: een, at: {stage.at(60)}}}\n")
    result = invoke(stage, "accounts", "check", stage.posts_file, "--db", stage.db_url)
    assert result.exit_code == 0, result.output
    assert "tas_t" in result.output and "token expires" in result.output
    tokens = stage.folder / ".campaign-tokens.json"
    assert stat.S_IMODE(os.stat(tokens).st_mode) == 0o600
    renewed = json.loads(tokens.read_text())["tas_t"]["access_token"]
    assert renewed not in result.output and renewed not in database_dump(stage.db)


def test_a_one_off_reply_to_one_of_our_threads_by_its_url(stage, fake_threads):
    from campaign.queue.manual import queue_post

    original = fake_threads.seed_post("Wat vindt u van zelfstandige teams?", created_at=NOW - timedelta(days=2))
    setup(stage, fake_threads, f"- {{text: later, at: {stage.at(600)}}}\n")
    queue_post(stage.db, "tas_t", "Dank voor alle reacties!", at=stage.now, now=stage.now,
               reply_to_url=original["permalink"])
    assert stage.run().count("sent") == 1
    reply = fake_threads.posts[-1]
    assert reply["text"] == "Dank voor alle reacties!" and reply["reply_to"] == original["id"]
    threads = client(fake_threads)
    for url in ("https://x.com/teamsaantstuur/status/1", "https://www.threads.net/@iemand/post/ONBEKEND"):
        with pytest.raises(Rejected, match=re.escape(url)):
            threads.lookup(url)


@pytest.mark.parametrize("fault, kind, detail", [
    (Fault.unauthorized(), "AuthFailed", "code 190"),
    (Fault.status(403), "AuthFailed", "code 10"),
    (Fault.status(422), "Rejected", "code 100"),
    (Fault.rate_limit(reset_in=30), "RateLimited", "code 4"),
    (Fault.rate_limit(), "RateLimited", "code 4"),
    (Fault.server_error(500), "TransientError", "code 2"),
    (Fault.server_error(503), "TransientError", "code 2"),
    (Fault.garble(200, store=False), "TransientError", "could not be read"),
])
def test_graph_api_errors_become_the_platform_errors(fake_threads, fault, kind, detail):
    from campaign.send.platforms import OutgoingPart

    threads = client(fake_threads)
    fake_threads.inject("post", fault)
    with pytest.raises(Exception) as caught:
        threads.post(OutgoingPart("Hallo"), reply_to=None, root=None)
    error = caught.value
    assert type(error).__name__ == kind and detail in str(error)
    assert fake_threads.account.access_token not in str(error)
    if kind == "RateLimited":
        if fault.reset_in:
            assert 25 <= (error.reset_at - datetime.now(timezone.utc)).total_seconds() <= 31
        else:
            assert error.reset_at is None
    if kind == "TransientError":
        assert error.maybe_posted == (fault.kind == "garble")  # only an unreadable 2xx may be out


def test_when_a_kept_token_is_due_for_renewal(tmp_path):
    from campaign.send.platforms.tokens import TokenStore

    store, now = TokenStore(tmp_path / "t.json"), datetime.now(timezone.utc)
    assert store.due("a", "configured", now)  # never tried: try now
    store.note_attempt("a", "configured", now)
    assert not store.due("a", "configured", now + timedelta(hours=23))  # refused as too young: a day later
    assert store.due("a", "configured", now + timedelta(hours=25))
    store.save("a", "configured", "renewed", now + timedelta(days=60))
    assert store.current("a", "configured") == "renewed" and store.current("a", "other") is None
    assert not store.due("a", "configured", now + timedelta(days=6))
    assert store.due("a", "configured", now + timedelta(days=8))  # a week old
    store.save("a", "configured", "short", now + timedelta(days=20))
    assert store.due("a", "configured", now + timedelta(hours=1))  # expiry within 30 days


def test_the_timeline_since_a_post_id_holds_what_came_after_it(fake_threads):
    seeded = [fake_threads.seed_post(f"bericht {i}", created_at=NOW - timedelta(hours=10 - i)) for i in range(10)]
    texts = [item["text"] for page in client(fake_threads).timeline_pages(since=seeded[6]["id"]) for item in page.items]
    assert texts == ["bericht 9", "bericht 8", "bericht 7"]
