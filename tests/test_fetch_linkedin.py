"""`archive fetch` for a LinkedIn page: offset paging, resume, only what is new, the social metadata
as metrics when the token may read it, and a clear line naming the scope that is missing."""
from __future__ import annotations

from datetime import timedelta

from archive.fetch import fetch_account
from archive.sources.linkedin import record
from campaign.send.platforms import AccountInfo, Page, connect
from tests.fakes.base import Fault
from tests.fakes.linkedin import linkedin_account_yaml, linkedin_env
from tests.test_fetch import NOW, Store, seed


def linkedin_client(fake):
    return connect(AccountInfo("tas_l", "linkedin", fake.account.vanity_name, None, fake.account.vanity_name),
                   linkedin_env(fake))


def test_pages_resume_after_a_429_and_then_only_what_is_new(fake_linkedin):
    seed(fake_linkedin, 230, start_days_ago=100, step=timedelta(hours=6))
    store, client = Store(), linkedin_client(fake_linkedin)
    fake_linkedin.inject("timeline", Fault.rate_limit(), after=1)
    report = fetch_account(None, client, "linkedin", "teamsaantstuur", now=NOW, store=store, refresh_days=0)
    assert not report.complete and report.fetched == 100 and "429" in report.message
    report = fetch_account(None, client, "linkedin", "teamsaantstuur", now=NOW, store=store, refresh_days=0)
    assert report.complete and report.fetched == 130
    assert len(store.downloaded()) == len(set(store.downloaded())) == 230
    fake_linkedin.seed_post("nieuw #teams", created_at=NOW - timedelta(minutes=2), likes=4)
    report = fetch_account(None, client, "linkedin", "teamsaantstuur", now=NOW, store=store, refresh_days=0)
    assert report.fetched == 1 and report.new == 1
    [new] = [p for p in store.posts.values() if p.text == "nieuw #teams"]
    assert new.url.startswith("https://www.linkedin.com/feed/update/urn:li:share:")
    assert new.hashtags == () and new.metrics == {"likes": 4, "replies": 0}


def test_the_record_reads_little_text_mentions_tags_and_images():
    item = {"id": "urn:li:share:1", "author": "urn:li:organization:5", "createdAt": 1_764_547_200_000,
            "commentary": "Met @[Gemeente Utrecht](urn:li:organization:9) over {hashtag|\\#|teams} \\(nu\\) "
                          "https://publicpapersutrecht.nl/teams",
            "content": {"media": {"id": "urn:li:image:X", "altText": "Het stadskantoor"}}, "visibility": "PUBLIC"}
    social = {"reactionSummaries": {"LIKE": {"count": 3}, "PRAISE": {"count": 2}}, "commentSummary": {"count": 4}}
    post = record(item, "gemeente", social)
    assert post.text == "Met Gemeente Utrecht over #teams (nu) https://publicpapersutrecht.nl/teams"
    assert post.mentions == ("Gemeente Utrecht",) and post.hashtags == ("teams",)
    assert [link.expanded_url for link in post.links] == ["https://publicpapersutrecht.nl/teams"]
    assert post.media[0]["alt"] == "Het stadskantoor" and post.metrics == {"likes": 5, "replies": 4}
    assert post.created_at.year == 2025 and post.created_at.tzinfo is not None
    assert record({**item, "reshareContext": {"parent": "urn:li:share:0"}}, "gemeente").kind == "repost"


def test_without_the_feed_scope_posts_come_without_metrics_and_the_scope_is_named(fake_linkedin):
    fake_linkedin.account.scopes = ("w_organization_social", "r_organization_social")
    seed(fake_linkedin, 3, start_days_ago=3, step=timedelta(hours=1))
    store = Store()
    report = fetch_account(None, linkedin_client(fake_linkedin), "linkedin", "teamsaantstuur", now=NOW, store=store)
    assert report.complete and report.fetched == 3
    assert all(post.metrics == {} for post in store.posts.values())
    assert "r_organization_social_feed" in report.message
    assert len(fake_linkedin.requests_to("social_metadata")) == 1  # asked once, not per page


def test_without_the_read_scope_the_fetch_stops_naming_it(fake_linkedin, tmp_path):
    from click.testing import CliRunner

    from archive.cli import main

    fake_linkedin.account.scopes = ("w_organization_social",)
    seed(fake_linkedin, 2, start_days_ago=3)
    posts = tmp_path / "posts.yaml"
    posts.write_text("timezone: Europe/Amsterdam\naccounts:\n  " + linkedin_account_yaml(fake_linkedin)
                     + "campaigns: {}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["fetch", "tas_l", "--file", str(posts), "--db", str(tmp_path / "a.db")],
                                env=linkedin_env(fake_linkedin))
    assert result.exit_code == 1, result.output
    assert "403" in result.stderr and "r_organization_social" in result.stderr
    assert fake_linkedin.account.access_token not in result.output


def test_metrics_come_per_page_in_one_batch(fake_linkedin):
    seed(fake_linkedin, 150, start_days_ago=40, step=timedelta(hours=6))
    pages = list(linkedin_client(fake_linkedin).timeline_pages())
    assert [len(p.items) for p in pages] == [100, 50]
    assert len(fake_linkedin.requests_to("social_metadata")) == 2
    assert all(set(p.includes["socialMetadata"]) == {i["id"] for i in p.items} for p in pages)
    assert isinstance(pages[0], Page)
