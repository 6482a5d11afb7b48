"""Posting to a LinkedIn organisation page through the platform module and the loopback fake:
little text arrives as written, mentions, images, link shares, versions, tokens and their expiry,
errors, and exactly-once for the later parts of a thread (comments)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from campaign.send.platforms import AccountInfo, OutgoingPart, connect
from campaign.send.platforms.linkedin import LINKEDIN_VERSION
from campaign.send.platforms.linkedin_text import from_little_text, little_text
from tests.fakes.base import Fault
from tests.fakes.linkedin import linkedin_account_yaml, linkedin_env
from tests.test_bluesky_cards import pages as pages  # the loopback web pages, reached as a proxy (a fixture)

PNG = (Path(__file__).resolve().parent.parent / "media" / "stadskantoor030.png").read_bytes()
SEED = ("Interessante discussie over de (on)mogelijkheden van #zelfstandigeteams @GemeenteUtrecht. "
        "Praat mee! https://t.co/RnqJ4pQbBb")


def setup_l(stage, fake, posts_yaml: str, *, refresh: bool = False, organization: str | None = None, **env):
    stage.environ.update(linkedin_env(fake, refresh=refresh))
    stage.environ.update(env)
    stage.write(linkedin_account_yaml(fake, organization=organization), posts_yaml, accounts="tas_l")
    stage.sync()


def client(stage, fake):
    return connect(AccountInfo("tas_l", "linkedin", fake.account.vanity_name, None, fake.account.vanity_name),
                   stage.environ)


def texts(fake) -> list[str]:
    return [p["text"] for p in fake.posts]


def flagged(stage) -> list[str]:
    from campaign.queue.status import status

    return [name for name, *_ in status(stage.db, stage.now).flagged_accounts]


# -- text ------------------------------------------------------------------------------------------

def test_reserved_characters_arrive_as_written_and_tags_stay_tags(stage, fake_linkedin):
    text = SEED + " | [b] <c> *d* _e_ ~f~ \\g"
    setup_l(stage, fake_linkedin, "- text: " + _yaml_quote(text) + f"\n  at: {stage.at(-1)}\n")
    assert stage.run().count("sent") == 1
    [post] = fake_linkedin.posts
    assert post["text"] == text  # the fake cuts at the first unescaped reserved character, as LinkedIn does
    assert post["hashtags"] == ["zelfstandigeteams"]
    assert "{hashtag|\\#|zelfstandigeteams}" in post["commentary"] and "\\(on\\)" in post["commentary"]


def test_an_organisation_mention_given_by_urn_becomes_a_mention(stage, fake_linkedin):
    setup_l(stage, fake_linkedin, f"""\
        - text: "Samen met @[Gemeente Utrecht](urn:li:organization:1234) (en @iedereen)"
          at: {stage.at(-1)}
        """)
    assert stage.run().count("sent") == 1
    [post] = fake_linkedin.posts
    assert post["text"] == "Samen met Gemeente Utrecht (en @iedereen)"
    assert post["mentions"] == [("Gemeente Utrecht", "urn:li:organization:1234")]


def test_little_text_round_trip():
    for text in (SEED, "a\\b {c} #d #e-f 100% _x_", "@[A (B)](urn:li:organization:9) zegt #hallo"):
        shown = text.replace("@[A (B)](urn:li:organization:9)", "A (B)")
        assert from_little_text(little_text(text)) == shown


# -- protocol ----------------------------------------------------------------------------------------

def test_every_call_carries_the_version_and_protocol_headers(stage, fake_linkedin):
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(-1)}}}\n")
    assert stage.run().count("sent") == 1
    rest = [r for r in fake_linkedin.requests if r.path.startswith("/rest")]
    assert rest and {r.header("Linkedin-Version") for r in rest} == {LINKEDIN_VERSION}
    assert {r.header("X-Restli-Protocol-Version") for r in rest} == {"2.0.0"}
    [post] = fake_linkedin.requests_to("post")
    body = post.json()
    assert body["author"] == fake_linkedin.account.urn and body["lifecycleState"] == "PUBLISHED"
    assert body["visibility"] == "PUBLIC" and body["distribution"]["feedDistribution"] == "MAIN_FEED"
    row = stage.rows()[0]
    assert row.remote_id == fake_linkedin.posts[0]["id"]
    assert row.remote_url == f"https://www.linkedin.com/feed/update/{row.remote_id}/"


def test_a_retired_version_flags_the_account_and_the_override_fixes_it(stage, fake_linkedin):
    fake_linkedin.active_versions = {"202612"}
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(-2)}}}\n- {{text: twee, at: {stage.at(-1)}}}\n")
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "CAMPAIGN_LINKEDIN_VERSION" in outcome.message
    assert flagged(stage) == ["tas_l"]
    stage.environ["CAMPAIGN_LINKEDIN_VERSION"] = "202612"
    assert client(stage, fake_linkedin).whoami() == fake_linkedin.account.vanity_name


def test_a_vanity_name_is_looked_up_once_and_a_numeric_id_not_at_all(stage, fake_linkedin):
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(-2)}}}\n- {{text: twee, at: {stage.at(-1)}}}\n")
    assert stage.run().count("sent") == 2
    assert len(fake_linkedin.requests_to("organization")) == 1
    fake_linkedin.clear_requests()
    setup_l(stage, fake_linkedin, f"- {{text: drie, at: {stage.at(-1)}}}\n",
            organization=fake_linkedin.account.organization_id)
    assert stage.run().count("sent") == 1 and not fake_linkedin.requests_to("organization")


def test_two_images_each_with_its_alt_text(stage, fake_linkedin):
    (stage.folder / "a.png").write_bytes(PNG)
    (stage.folder / "b.png").write_bytes(PNG)
    setup_l(stage, fake_linkedin, f"""\
        - text: Twee foto's
          media: [{{path: a.png, alt: "De deur"}}, {{path: b.png, alt: "Het plein"}}]
          at: {stage.at(-1)}
        """)
    assert stage.run().count("sent") == 1
    [post] = fake_linkedin.posts
    assert fake_linkedin.alt_texts(post) == ["De deur", "Het plein"]
    assert len(fake_linkedin.requests_to("image_upload")) == 2
    assert "multiImage" in fake_linkedin.requests_to("post")[0].json()["content"]


def test_a_card_set_by_hand_becomes_an_article(stage, fake_linkedin):
    stage.environ.update(linkedin_env(fake_linkedin))
    part = OutgoingPart("Lees het stuk: https://publicpapersutrecht.nl/teams",
                    card={"title": "Teams aan het stuur!", "description": "De public paper"})
    client(stage, fake_linkedin).post(part, reply_to=None, root=None)
    [post] = fake_linkedin.posts
    assert post["article"] == {"source": "https://publicpapersutrecht.nl/teams", "title": "Teams aan het stuur!",
                               "description": "De public paper"}


# -- errors ------------------------------------------------------------------------------------------

def test_a_missing_posting_scope_flags_the_account_naming_the_scope(stage, fake_linkedin):
    fake_linkedin.account.scopes = ("r_organization_social",)
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(-1)}}}\n")
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "ACCESS_DENIED" in outcome.message
    assert "w_organization_social" in outcome.message and flagged(stage) == ["tas_l"]


def test_422_is_failed_with_linkedins_message(stage, fake_linkedin):
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(-1)}}}\n")
    fake_linkedin.inject("post", Fault.status(422, body={"status": 422, "message": "ERROR :: /commentary :: bad"}))
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "ERROR :: /commentary :: bad" in outcome.message and not flagged(stage)


def test_a_500_may_have_posted_so_the_page_is_read_before_trying_again(stage, fake_linkedin):
    setup_l(stage, fake_linkedin, f"- {{text: twijfel, at: {stage.at(-1)}}}\n")
    fake_linkedin.inject("post", Fault.server_error(502))
    assert stage.run().count("sent") == 1 and not fake_linkedin.requests_to("timeline")
    setup_l(stage, fake_linkedin, f"- {{text: twijfel twee, at: {stage.at(-1)}}}\n")
    fake_linkedin.inject("post", Fault.server_error(500))
    assert stage.run().count("sent") == 1 and fake_linkedin.requests_to("timeline")
    assert texts(fake_linkedin) == ["twijfel", "twijfel twee"]


def test_403_for_a_page_the_member_does_not_administer(stage, fake_linkedin):
    fake_linkedin.account.admin = False
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(-1)}}}\n")
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "403" in outcome.message and flagged(stage) == ["tas_l"]


# -- tokens ------------------------------------------------------------------------------------------

def test_an_expired_token_is_refreshed_when_refresh_is_set_up(stage, fake_linkedin):
    fake_linkedin.account.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    setup_l(stage, fake_linkedin, f"- {{text: vers, at: {stage.at(-1)}}}\n", refresh=True)
    assert stage.run().count("sent") == 1 and texts(fake_linkedin) == ["vers"]
    assert len(fake_linkedin.requests_to("token")) == 1
    old = stage.environ["CAMPAIGN_TAS_L_ACCESS_TOKEN"]
    assert all(old not in (r.header("Authorization") or "") for r in fake_linkedin.requests_to("post"))


def test_an_expired_token_without_refresh_flags_the_account_like_a_401(stage, fake_linkedin):
    fake_linkedin.account.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(-1)}}}\n")
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "EXPIRED_ACCESS_TOKEN" in outcome.message and flagged(stage) == ["tas_l"]


def test_a_token_past_its_stated_expiry_is_not_even_tried(stage, fake_linkedin):
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(-1)}}}\n", CAMPAIGN_TAS_L_TOKEN_EXPIRES="2020-01-31")
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "expired on 2020-02-01" in outcome.message
    assert not fake_linkedin.requests_to("post") and flagged(stage) == ["tas_l"]


def _check(stage):
    from campaign.send.accounts import check_accounts
    from campaign.spec.plan import load_plan

    return check_accounts(load_plan(stage.posts_file).file, stage.environ, stage.db, stage.now)


def test_accounts_check_reports_the_expiry_and_warns_two_weeks_ahead(stage, fake_linkedin):
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(60)}}}\n")
    stage.environ["CAMPAIGN_TAS_L_TOKEN_EXPIRES"] = (stage.now + timedelta(days=40)).strftime("%Y-%m-%d")
    [result] = _check(stage)
    assert result.status == "ok" and "token expires" in result.detail and "(in 40 days)" in result.detail
    assert result.warning is None
    stage.environ["CAMPAIGN_TAS_L_TOKEN_EXPIRES"] = (stage.now + timedelta(days=10)).strftime("%Y-%m-%d")
    [result] = _check(stage)
    assert result.status == "ok" and "expires on" in result.warning and "(in 10 days)" in result.warning
    stage.environ["CAMPAIGN_TAS_L_TOKEN_EXPIRES"] = (stage.now - timedelta(days=2)).strftime("%Y-%m-%d")
    [result] = _check(stage)
    assert result.status == "rejected" and "expired" in result.detail
    del stage.environ["CAMPAIGN_TAS_L_TOKEN_EXPIRES"]
    [result] = _check(stage)
    assert result.status == "ok" and "expiry unknown" in result.detail


def test_accounts_check_asks_linkedin_when_the_client_is_known(stage, fake_linkedin):
    fake_linkedin.account.expires_at = datetime.now(timezone.utc) + timedelta(days=5, hours=1)
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(60)}}}\n")
    stage.environ["CAMPAIGN_TAS_L_CLIENT_ID"] = fake_linkedin.account.client_id
    stage.environ["CAMPAIGN_TAS_L_CLIENT_SECRET"] = fake_linkedin.account.client_secret
    [result] = _check(stage)
    assert result.status == "ok" and "(in 5 days)" in result.warning
    assert fake_linkedin.requests_to("introspect")
    assert fake_linkedin.account.client_secret not in result.detail + result.warning


def test_accounts_check_clears_a_flag_and_prints_one_line(stage, fake_linkedin, tmp_path):
    from click.testing import CliRunner

    from campaign.cli import main

    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(60)}}}\n")
    env = {**stage.environ, "CAMPAIGN_TAS_L_TOKEN_EXPIRES": (stage.now + timedelta(days=3)).strftime("%Y-%m-%d")}
    result = CliRunner().invoke(main, ["accounts", "check", str(stage.posts_file), "--db", stage.db_url], env=env)
    assert result.exit_code == 0, result.output
    assert "tas_l" in result.stdout and "signed in as teamsaantstuur" in result.stdout
    assert "warning: account 'tas_l'" in result.stderr


# -- threads as comments ------------------------------------------------------------------------------

def test_a_thread_is_a_post_a_comment_and_replies_in_order(stage, fake_linkedin):
    setup_l(stage, fake_linkedin, f"- {{thread: [Een, Twee, Drie, Vier], at: {stage.at(-1)}}}\n")
    assert stage.run().count("sent") == 1
    post, two, three, four = fake_linkedin.posts
    assert (post["kind"], two["reply_to"], three["reply_to"], four["reply_to"]) == ("post", post["id"], two["id"],
                                                                                    two["id"])
    assert texts(fake_linkedin) == ["Een", "Twee", "Drie", "Vier"]


@pytest.mark.parametrize("fault", [Fault.drop(store=True), Fault.reset(store=True), Fault.garble(201)])
def test_a_lost_answer_to_a_comment_is_found_among_the_pages_comments(stage, fake_linkedin, fault):
    setup_l(stage, fake_linkedin, f"- {{thread: [Een, Twee, Drie], at: {stage.at(-1)}}}\n")
    fake_linkedin.inject("comment", fault, after=1)  # the reply to the first comment
    assert stage.run().count("sent") == 1
    assert texts(fake_linkedin) == ["Een", "Twee", "Drie"]
    assert fake_linkedin.requests_to("comments")


def test_an_abandoned_send_is_settled_by_reading_the_page(stage, fake_linkedin):
    from campaign.queue import claims

    setup_l(stage, fake_linkedin, f"- {{text: verloren antwoord, at: {stage.at(-1)}}}\n")
    dead = claims.claim_next_due(stage.db, stage.now, "killed-worker", lease=timedelta(seconds=1))
    fake_linkedin.seed_post("verloren antwoord")  # it went out before the worker died
    stage.now += timedelta(minutes=5)
    assert dead is not None and [o.state for o in stage.run().outcomes] == ["sent"]
    assert texts(fake_linkedin) == ["verloren antwoord"]


def _yaml_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_a_one_off_reply_to_a_post_is_the_pages_comment_on_it(stage, fake_linkedin):
    from campaign.queue.manual import queue_post

    setup_l(stage, fake_linkedin, f"- {{text: later, at: {stage.at(600)}}}\n")
    original = fake_linkedin.seed_post("Wie praat er mee?")
    url = f"https://www.linkedin.com/feed/update/{original['id']}/"
    queue_post(stage.db, "tas_l", "Wij! Lees mee op @[Gemeente Utrecht](urn:li:organization:1234)", at=stage.now,
               now=stage.now, reply_to_url=url)
    assert stage.run().count("sent") == 1
    reply = fake_linkedin.posts[-1]
    assert (reply["kind"], reply["text"], reply["reply_to"]) == ("comment", "Wij! Lees mee op Gemeente Utrecht",
                                                               original["id"])
    [attribute] = fake_linkedin.requests_to("comment")[0].json()["message"]["attributes"]
    assert attribute["start"] == len("Wij! Lees mee op ") and attribute["length"] == len("Gemeente Utrecht")
    [row] = [r for r in stage.rows() if r.state == "sent"]
    assert row.remote_url.startswith(url + "?commentUrn=urn%3Ali%3Acomment%3A")


def test_a_card_in_posts_yaml_makes_a_link_share(stage, fake_linkedin):
    setup_l(stage, fake_linkedin, f"""\
        - text: "Lees het stuk: {{link}}"
          card: {{title: "Teams aan het stuur!", description: "De public paper over zelfstandige teams"}}
          at: {stage.at(-1)}
        - {{text: "Zonder kaart: {{link}}", card: false, at: {stage.at(-1)}}}
        """)
    assert stage.run().count("sent") == 2
    with_card, without = fake_linkedin.posts
    assert with_card["article"] == {"source": "https://publicpapersutrecht.nl/teams", "title": "Teams aan het stuur!",
                                    "description": "De public paper over zelfstandige teams"}
    assert without["article"] is None and without["text"] == "Zonder kaart: https://publicpapersutrecht.nl/teams"


def test_a_refreshed_token_is_kept_in_the_token_file_for_the_next_run(stage, fake_linkedin):
    import os
    import stat

    token_file = stage.folder / ".campaign-tokens.json"
    fake_linkedin.account.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(-2)}}}\n", refresh=True,
            CAMPAIGN_TOKEN_FILE=str(token_file))
    assert stage.run().count("sent") == 1 and len(fake_linkedin.requests_to("token")) == 1
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    configured = stage.environ["CAMPAIGN_TAS_L_ACCESS_TOKEN"]
    assert configured not in token_file.read_text()
    setup_l(stage, fake_linkedin, f"- {{text: twee, at: {stage.at(-1)}}}\n", refresh=True,
            CAMPAIGN_TOKEN_FILE=str(token_file))
    assert stage.run().count("sent") == 1
    assert len(fake_linkedin.requests_to("token")) == 1  # the next run used the kept token
    # A new token put in the environment by a person wins over the file's older chain.
    stage.environ["CAMPAIGN_TAS_L_ACCESS_TOKEN"] = fake_linkedin.token_for(fake_linkedin.account)
    fake_linkedin.clear_requests()
    assert client(stage, fake_linkedin).whoami() == "teamsaantstuur"
    assert {r.header("Authorization") for r in fake_linkedin.requests} == {
        "Bearer " + stage.environ["CAMPAIGN_TAS_L_ACCESS_TOKEN"]}


def test_an_automatic_card_is_made_from_the_pages_open_graph(stage, fake_linkedin, pages):  # noqa: F811
    stage.environ.update({"CAMPAIGN_CARD_TIMEOUT": "2",
                          "CAMPAIGN_CARD_PROXY": f"http://127.0.0.1:{pages.server_address[1]}"})
    setup_l(stage, fake_linkedin, f"""\
        - {{text: "Praat mee: http://kaart.nl/pagina", at: {stage.at(-2)}}}
        - {{text: "Kapot: http://kaart.nl/bestaat-niet", at: {stage.at(-1)}}}
        """)
    assert stage.run().count("sent") == 2
    with_card, without = fake_linkedin.posts
    article = with_card["article"]
    assert (article["source"], article["title"]) == ("http://kaart.nl/pagina", "Teams aan het stuur!")
    assert article["description"] == "Praat mee over zelfstandige teams bij de gemeente Utrecht."
    assert article["thumbnail"].startswith("urn:li:image:") and len(fake_linkedin.requests_to("image_upload")) == 1
    assert without["article"] is None and without["text"] == "Kapot: http://kaart.nl/bestaat-niet"


def test_a_card_by_hand_with_an_image_carries_its_alt_text(stage, fake_linkedin):
    (stage.folder / "kaart.png").write_bytes(PNG)
    setup_l(stage, fake_linkedin, f"""\
        - text: "Lees het stuk: {{link}}"
          card: {{title: "Teams aan het stuur!", image: kaart.png, alt: "Het logo van de public paper"}}
          at: {stage.at(-1)}
        """)
    assert stage.run().count("sent") == 1
    [post] = fake_linkedin.posts
    assert post["article"]["thumbnailAltText"] == "Het logo van de public paper"


def test_a_403_about_the_content_fails_the_post_without_flagging_the_account(stage, fake_linkedin):
    setup_l(stage, fake_linkedin, f"- {{text: een, at: {stage.at(-2)}}}\n- {{text: twee, at: {stage.at(-1)}}}\n")
    fake_linkedin.inject("post", Fault.status(403, body={
        "status": 403, "serviceErrorCode": 100, "code": "UNPERMITTED_FIELDS",
        "message": "Unpermitted fields present in REQUEST_BODY: Data Processing Exception while processing fields"}))
    report = stage.run()
    assert [o.state for o in report.outcomes] == ["failed", "sent"] and not flagged(stage)
    assert "Unpermitted fields" in report.outcomes[0].message


def test_a_429_with_an_http_date_retry_after_is_waited_out(stage, fake_linkedin):
    from email.utils import format_datetime

    setup_l(stage, fake_linkedin, f"- {{text: geduld, at: {stage.at(-1)}}}\n")
    stage.now = datetime.now(timezone.utc)
    when = format_datetime(stage.now + timedelta(seconds=30), usegmt=True)
    fake_linkedin.inject("post", Fault.rate_limit(headers={"Retry-After": when}))
    assert stage.run().count("sent") == 1 and len(stage.sleeps) == 1 and 25 < stage.sleeps[0] <= 32
