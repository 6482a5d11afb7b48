"""The archive in the workspace: paged, filtered, searchable, exportable as the filter shows it."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from lxml import html as lxml_html

from archive.records import ArchivedPost, Link
from tests.web_support import add_people, client, make_workspace, signed_in_client

NOW = datetime(2020, 11, 27, 12, 0, tzinfo=timezone.utc)
START = datetime(2015, 1, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def app(db):
    from archive.store import migrate, upsert_posts

    migrate(db)
    records = [ArchivedPost(platform="x", remote_id=str(1000 + n), account="teamsaantstuur",
                            created_at=START + timedelta(days=n), text=f"Bericht {n} over #zelfstandigeteams",
                            url=f"https://x.com/teamsaantstuur/status/{1000 + n}", hashtags=("zelfstandigeteams",),
                            metrics={"likes": n, "reposts": 1, "replies": 0})
               for n in range(120)]
    records.append(ArchivedPost(platform="x", remote_id="9", account="teamsaantstuur", kind="reply",
                                created_at=START - timedelta(days=1),
                                text="Lees https://t.co/abc <script>alert(1)</script>",
                                links=(Link("https://t.co/abc", "javascript:alert(1)"),)))
    records.append(ArchivedPost(platform="x", remote_id="7", account="iemandanders", created_at=START,
                                text="Een ander account"))
    upsert_posts(db, records, source="test", now=NOW)
    add_people(db, NOW)
    application, _ws = make_workspace(db, now=NOW)
    return application


def rows(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    return [" ".join(td.text_content().split()) for td in tree.xpath("//table[contains(@class,'archive')]//td[3]")]


def test_a_viewer_pages_through_the_archive_newest_first(app):
    http = signed_in_client(app, "viewer")
    first = http.get("/archive")
    assert first.status_code == 200
    assert "122 berichten in het archief passen bij de filters." in first.text
    assert rows(first.text)[0] == "Bericht 119 over #zelfstandigeteams" and len(rows(first.text)) == 50
    third = http.get("/archive?page=3")
    assert len(rows(third.text)) == 22 and rows(third.text)[-1].startswith("Lees")
    assert client(app).get("/archive").status_code == 303, "not without signing in"


def test_filters_narrow_and_the_export_holds_exactly_what_they_show(app):
    http = signed_in_client(app, "viewer")
    page = http.get("/archive?account=teamsaantstuur&from=2015-01-10&until=2015-01-12&kind=post")
    assert rows(page.text) == [f"Bericht {n} over #zelfstandigeteams" for n in (11, 10, 9)]
    tree = lxml_html.fromstring(page.text)
    [csv_link] = tree.xpath("//a[contains(@href,'/archive/export.csv')]/@href")
    exported = http.get(csv_link)
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert [row[table[0].index("text")] for row in table[1:]] == [
        f"Bericht {n} over #zelfstandigeteams" for n in (11, 10, 9)]
    [jsonl_link] = tree.xpath("//a[contains(@href,'/archive/export.jsonl')]/@href")
    lines = http.get(jsonl_link).text.splitlines()
    assert [json.loads(line)["remote_id"] for line in lines] == ["1011", "1010", "1009"]


def test_search_finds_words(app):
    http = signed_in_client(app, "viewer")
    assert rows(http.get("/archive?search=ander").text) == ["Een ander account"]


def test_bad_filters_are_explained_not_crashed(app):
    http = signed_in_client(app, "viewer")
    for query, message in (("account=nobody", "Dat account staat niet in het archief."),
                           ("kind=bogus", "Onbekende soort bericht."),
                           ("from=31-01-2015", "Schrijf datums als jaar-maand-dag"),
                           ("search=%2A%2A%2A", "nothing to search for")):
        page = http.get(f"/archive?{query}")
        assert page.status_code == 200 and message in page.text, query
    assert http.get("/archive/export.csv?kind=bogus").status_code == 400


def test_hostile_text_and_links_stay_inert(app):
    page = signed_in_client(app, "viewer").get("/archive?kind=reply").text
    tree = lxml_html.fromstring(page)
    assert tree.xpath("//script") == []
    assert not [href for href in tree.xpath("//a/@href") if href.lower().startswith("javascript")]
    assert "<script>alert(1)</script>" in rows(page)[0]


def test_followers_only_posts_warnings_and_reposts_show_as_the_team_would_expect(db):
    from archive.store import migrate, upsert_posts

    migrate(db)
    upsert_posts(db, [
        ArchivedPost(platform="mastodon", remote_id="1", account="team@social.example", created_at=START,
                     text="Alleen voor volgers", visibility="followers", url="https://social.example/@team/1"),
        ArchivedPost(platform="mastodon", remote_id="2", account="team@social.example",
                     created_at=START + timedelta(hours=1), text="De uitslag <b>staat</b> hier",
                     content_warning="Spoiler <i>", url="https://social.example/@team/2"),
        ArchivedPost(platform="mastodon", remote_id="3", account="team@social.example",
                     created_at=START + timedelta(hours=2), kind="repost", text="Mooi stuk over teams",
                     reposted_account="gemeente@social.example", reposted_url="https://social.example/@gemeente/9",
                     url="https://social.example/@team/3"),
    ], source="test", now=NOW)
    add_people(db, NOW)
    application, _ws = make_workspace(db, now=NOW)
    http = signed_in_client(application, "viewer")

    public = http.get("/archive").text
    assert rows(public) == ["🔁 @gemeente@social.example: Mooi stuk over teams",
                            "Spoiler <i> De uitslag <b>staat</b> hier"]
    tree = lxml_html.fromstring(public)
    warning = tree.xpath("//table[contains(@class,'archive')]//details")
    assert len(warning) == 1 and warning[0].get("open") is None, "the warned text stays folded"
    assert warning[0].xpath("./summary")[0].text_content() == "Spoiler <i>"
    assert tree.xpath("//details//i") == [] and tree.xpath("//details//b") == [], "hostile markup stays text"

    everything = http.get("/archive?private=1").text
    assert rows(everything)[-1] == "alleen voor volgers Alleen voor volgers"
    assert 'name="private" value="1" checked' in everything
    exported = http.get("/archive/export.jsonl?private=1").text
    assert "Alleen voor volgers" in exported and "Alleen voor volgers" not in http.get("/archive/export.jsonl").text
