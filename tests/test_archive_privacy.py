"""Privacy and reposts in the archive: visibility stored for every platform, only public and unlisted
posts in show, render and export unless --include-private, direct messages never imported, content
warnings kept apart and shown folded, reposts stored and shown as "🔁 @author: text"; migration a0006
fills all this in for archives made before it."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.importers import own_jsonl, twarc, x_archive
from archive.records import ArchivedPost, PostFilter
from archive.reltime import RelativeTime
from archive.render import lines, render_html
from archive.sources import bluesky as bluesky_source
from archive.sources import mastodon as mastodon_source
from archive.store import count_posts, get_post, open_archive, query_posts, upsert_posts
from campaign.send.platforms import Page
from tests.archive_fixtures import seed_tweets, write_x_zip, x_archive_files

ACTOR = "https://social.example/users/team"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
FOLLOWERS = f"{ACTOR}/followers"
NOW = "2026-11-30T12:00:00+00:00"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def note(status_id, content, *, to, cc, **extra):
    return {"id": f"{ACTOR}/statuses/{status_id}/activity", "type": "Create", "actor": ACTOR,
            "published": "2024-03-01T09:00:00Z", "to": to, "cc": cc,
            "object": {"id": f"{ACTOR}/statuses/{status_id}", "type": "Note", "published": f"2024-03-0{status_id[-1]}T09:00:00Z",
                       "url": f"https://social.example/@team/{status_id}", "content": content, "to": to, "cc": cc,
                       "contentMap": {"nl": content}, "attachment": [], "tag": [], **extra}}


def outbox(tmp_path):
    items = [
        note("101", "<p>Voor iedereen</p>", to=[PUBLIC], cc=[FOLLOWERS]),
        note("102", "<p>Stil openbaar</p>", to=[FOLLOWERS], cc=[PUBLIC]),
        note("103", "<p>Alleen voor volgers</p>", to=[FOLLOWERS], cc=[]),
        note("104", "<p>geheim</p>", to=["https://other.example/users/leo"], cc=[]),
        note("105", "<p>Over de reorganisatie</p>", to=[PUBLIC], cc=[FOLLOWERS], summary="Politiek", sensitive=True),
        {"id": f"{ACTOR}/statuses/106/activity", "type": "Announce", "actor": ACTOR,
         "published": "2024-03-06T09:00:00Z", "to": [PUBLIC], "cc": [FOLLOWERS],
         "object": "https://other.example/users/leo/statuses/5"},
        {"id": f"{ACTOR}/statuses/107/activity", "type": "Announce", "actor": ACTOR,
         "published": "2024-03-07T09:00:00Z", "to": ["https://other.example/users/leo"], "cc": [],
         "object": "https://other.example/users/leo/statuses/6"},
    ]
    path = tmp_path / "outbox.json"
    path.write_text(json.dumps({"type": "OrderedCollection", "orderedItems": items}), encoding="utf-8")
    return path


@pytest.fixture
def imported(database_url, tmp_path):
    result = run("import", outbox(tmp_path), "--db", database_url)
    assert result.exit_code == 0, result.output
    return database_url


def test_the_outbox_keeps_visibility_and_warnings_and_never_direct_messages(imported):
    database = open_archive(imported)
    try:
        every = {p.remote_id: p for p in query_posts(database, PostFilter(include_private=True))}
        assert set(every) == {"101", "102", "103", "105", "106"}  # 104 and 107 were direct
        assert [every[i].visibility for i in ("101", "102", "103", "105", "106")] == [
            "public", "unlisted", "followers", "public", "public"]
        warned = every["105"]
        assert (warned.content_warning, warned.text) == ("Politiek", "Over de reorganisatie")
        boost = every["106"]
        assert (boost.kind, boost.reposted_account, boost.reposted_url) == (
            "repost", "leo@other.example", "https://other.example/users/leo/statuses/5")
        assert {p.remote_id for p in query_posts(database)} == {"101", "102", "105", "106"}
        assert count_posts(database) == 4 and count_posts(database, PostFilter(include_private=True)) == 5
    finally:
        database.engine.dispose()


def test_show_gives_public_and_unlisted_posts_with_the_warning_marked_and_boosts_named(imported):
    result = run("show", "--db", imported, "--now", NOW, "--locale", "en")
    assert result.exit_code == 0, result.output
    shown = result.output.splitlines()
    assert "Alleen voor volgers" not in result.output and "geheim" not in result.output
    assert shown[0].startswith("@team@social.example 🔁 @leo@other.example: https://other.example/users/leo/statuses/5 ")
    assert shown[1].startswith("@team@social.example [CW: Politiek] Over de reorganisatie ")
    private = run("show", "--db", imported, "--now", NOW, "--include-private")
    assert "Alleen voor volgers" in private.output and "geheim" not in private.output


def test_render_folds_the_warned_text_and_leaves_private_posts_out(imported, tmp_path):
    page = tmp_path / "tijdlijn.html"
    result = run("render", "--db", imported, "--html", page, "--fragment", "--now", NOW)
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert ('<details class="praatmee-cw"><summary>Politiek</summary>\n <span class="praatmee-text">'
            'Over de reorganisatie</span>\n </details>') in html
    assert ('<span class="praatmee-repost">🔁 <a class="praatmee-mention" href="https://other.example/@leo" '
            'rel="nofollow noopener">@leo@other.example</a>:</span>') in html
    assert "Alleen voor volgers" not in html
    from xml.etree import ElementTree

    ElementTree.fromstring(html)  # still well-formed
    run("render", "--db", imported, "--html", page, "--fragment", "--now", NOW, "--include-private")
    assert "Alleen voor volgers" in page.read_text(encoding="utf-8")


def test_export_leaves_private_posts_out_unless_asked_and_jsonl_keeps_the_fields(imported, tmp_path):
    out = tmp_path / "posts.jsonl"
    assert run("export", "--format", "jsonl", "-o", out, "--db", imported).exit_code == 0
    exported = {row["remote_id"]: row for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert set(exported) == {"101", "102", "105", "106"}
    assert exported["105"]["content_warning"] == "Politiek" and exported["102"]["visibility"] == "unlisted"
    assert exported["106"]["reposted_account"] == "leo@other.example"
    assert run("export", "--format", "jsonl", "-o", out, "--db", imported, "--include-private").exit_code == 0
    every = [own_jsonl.from_json(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {p.remote_id: p.visibility for p in every}["103"] == "followers"
    csv_out = tmp_path / "posts.csv"
    assert run("export", "-o", csv_out, "--db", imported).exit_code == 0
    assert "Alleen voor volgers" not in csv_out.read_text(encoding="utf-8")
    # With --include-private a table says which posts are not public, and what each warning is.
    assert run("export", "-o", csv_out, "--db", imported, "--include-private").exit_code == 0
    table = {row["id"]: row for row in csv.DictReader(io.StringIO(csv_out.read_text(encoding="utf-8")))}
    assert table["103"]["visibility"] == "followers" and table["101"]["visibility"] == "public"
    assert table["105"]["content_warning"] == "Politiek" and table["105"]["text"] == "Over de reorganisatie"


def test_a_jsonl_line_holding_a_direct_message_is_refused(tmp_path):
    from archive.errors import ImportFormatError

    post = ArchivedPost(platform="mastodon", remote_id="1", account="team@social.example",
                        created_at=datetime(2024, 3, 1, tzinfo=timezone.utc), text="geheim")
    line = {**own_jsonl.to_json(post), "visibility": "direct"}
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="record 1: .*visibility 'direct'"):
        list(own_jsonl.iter_posts(path))


# -- the API mappings ---------------------------------------------------------------------------

def status(status_id, visibility, **more):
    return {"id": status_id, "created_at": "2024-03-01T09:00:00Z", "content": "<p>tekst</p>",
            "url": f"https://social.example/@team/{status_id}", "visibility": visibility, "spoiler_text": "", **more}


def test_mastodon_fetch_maps_visibility_warnings_and_boosts_and_skips_direct_messages():
    boosted = status("9", "public", content="<p>Het originele bericht</p>", spoiler_text="Lang",
                     account={"acct": "leo@other.example"}, url="https://other.example/@leo/9")
    page = Page((status("1", "public"), status("2", "unlisted"), status("3", "private"), status("4", "direct"),
                 status("5", "public", spoiler_text="Politiek"), status("6", "public", reblog=boosted, url=None,
                                                                        uri="https://social.example/users/team/statuses/6/activity")),
                None)
    found = {p.remote_id: p for p in mastodon_source.records(page, "team@social.example")}
    assert set(found) == {"1", "2", "3", "5", "6"}
    assert [found[i].visibility for i in ("1", "2", "3")] == ["public", "unlisted", "followers"]
    assert (found["5"].content_warning, found["5"].text) == ("Politiek", "tekst")
    boost = found["6"]
    assert (boost.kind, boost.text, boost.reposted_account, boost.reposted_url, boost.content_warning) == (
        "repost", "Het originele bericht", "leo@other.example", "https://other.example/@leo/9", "Lang")


def test_bluesky_feed_reposts_name_the_reposted_author():
    item = {"post": {"uri": "at://did:plc:other/app.bsky.feed.post/3x", "cid": "c",
                     "author": {"did": "did:plc:other", "handle": "gemeenteutrecht.bsky.social"},
                     "record": {"text": "Het raadsvoorstel", "createdAt": "2024-03-01T09:00:00Z"},
                     "indexedAt": "2024-03-01T09:00:01Z", "likeCount": 4},
            "reason": {"$type": "app.bsky.feed.defs#reasonRepost", "indexedAt": "2024-03-02T09:00:00Z"}}
    repost = bluesky_source.record(item, "teamsaantstuur.bsky.social")
    assert (repost.remote_id, repost.account, repost.kind) == (
        "repost:at://did:plc:other/app.bsky.feed.post/3x", "teamsaantstuur.bsky.social", "repost")
    assert (repost.text, repost.reposted_account, repost.reposted_url) == (
        "Het raadsvoorstel", "gemeenteutrecht.bsky.social",
        "https://bsky.app/profile/gemeenteutrecht.bsky.social/post/3x")
    assert repost.created_at == datetime(2024, 3, 2, 9, 0, tzinfo=timezone.utc) and repost.visibility == "public"


def test_x_retweets_name_the_retweeted_author_in_both_formats(tmp_path):
    archived = {p.remote_id: p for p in x_archive.iter_posts(write_x_zip(tmp_path / "x.zip",
                                                                         x_archive_files(seed_tweets())))}
    retweet = archived["556000000000000005"]
    assert (retweet.kind, retweet.reposted_account, retweet.visibility) == ("repost", "GemeenteUtrecht", "public")
    relative = RelativeTime("nl", "UTC")
    now = datetime(2026, 11, 30, tzinfo=timezone.utc)
    assert next(lines([retweet], now=now, relative=relative)).startswith(
        "@teamsaantstuur 🔁 @GemeenteUtrecht: Teams & vertrouwen <3 👍 ")
    v2 = {"id": "1500", "text": "RT @GemeenteUtrecht: Het raadsvoorstel", "author_id": "1",
          "created_at": "2024-03-01T09:00:00.000Z", "referenced_tweets": [{"type": "retweeted", "id": "1400"}]}
    path = tmp_path / "tweets.jsonl"
    path.write_text(json.dumps({"data": [v2], "includes": {"users": [{"id": "1", "username": "teamsaantstuur"}]}})
                    + "\n", encoding="utf-8")
    (tweet,) = twarc.iter_posts(path)
    assert (tweet.reposted_account, tweet.reposted_url) == (
        "GemeenteUtrecht", "https://x.com/GemeenteUtrecht/status/1400")
    whole = tmp_path / "whole.jsonl"  # the includes hold the retweeted tweet: its text whole, X cut it short
    whole.write_text(json.dumps({"data": [{**v2, "text": "RT @GemeenteUtrecht: Het raadsvoorstel over de te…"}],
                                 "includes": {"users": [{"id": "1", "username": "teamsaantstuur"},
                                                        {"id": "2", "username": "GemeenteUtrecht"}],
                                              "tweets": [{"id": "1400", "author_id": "2", "text":
                                                          "Het raadsvoorstel over de teams &amp; de stad"}]}})
                     + "\n", encoding="utf-8")
    (complete,) = twarc.iter_posts(whole)
    assert complete.text == "RT @GemeenteUtrecht: Het raadsvoorstel over de teams & de stad"
    html = render_html([tweet], now=now, relative=relative, fragment=True)
    assert "🔁 <a class=\"praatmee-mention\" href=\"https://x.com/GemeenteUtrecht\"" in html
    assert "RT @GemeenteUtrecht" not in html


def test_the_least_open_visibility_any_source_gives_is_kept(database_url):
    database = open_archive(database_url)
    try:
        base = dict(platform="mastodon", remote_id="7", account="team@social.example",
                    created_at=datetime(2024, 3, 1, tzinfo=timezone.utc), text="tekst")
        upsert_posts(database, [ArchivedPost(**base, visibility="followers")], source="mastodon-export",
                     now=datetime(2024, 3, 2, tzinfo=timezone.utc))
        upsert_posts(database, [ArchivedPost(**base)], source="api", now=datetime(2024, 3, 3, tzinfo=timezone.utc))
        assert get_post(database, "mastodon", "7").visibility == "followers"
    finally:
        database.engine.dispose()


# -- migration a0006 ---------------------------------------------------------------------------

OLD_COLUMNS = ("platform, remote_id, account, created_at, text, kind, url, reposted_id, metrics, entities, "
               "edit_history, raw, sources, first_seen_at, last_seen_at")


def old_row(platform, remote_id, text, kind, raw_by_source, url=None, reposted_id=None):
    return (platform, remote_id, "team@social.example", "2024-03-01 09:00:00.000000", text, kind, url, reposted_id,
            "{}", '{"hashtags":[],"mentions":[],"links":[],"media":[]}', "[]", json.dumps(raw_by_source),
            "{}", "2024-03-02 09:00:00.000000", "2024-03-02 09:00:00.000000")


def test_migration_a0006_fills_in_archives_made_before_it(database_url):
    from archive.store import _upgrade
    from campaign.queue.db import Database

    database = Database(database_url)
    database.migrate()
    _upgrade(database, "a0005")
    cw_note = note("105", "<p>Over de reorganisatie</p>", to=[PUBLIC], cc=[], summary="Politiek")
    rows = [
        old_row("mastodon", "1", "tekst", "post", {"api": status("1", "private", spoiler_text="Let op")}),
        old_row("mastodon", "2", "geheim", "post", {"api": status("2", "direct")}),
        old_row("mastodon", "105", "Politiek\n\nOver de reorganisatie", "post", {"mastodon-export": cw_note}),
        old_row("mastodon", "102", "Stil", "post", {"mastodon-export": note("102", "<p>Stil</p>", to=[FOLLOWERS],
                                                                             cc=[PUBLIC])}),
        old_row("mastodon", "106", "", "repost", {"mastodon-export": {
            "id": f"{ACTOR}/statuses/106/activity", "type": "Announce", "actor": ACTOR, "to": [PUBLIC],
            "published": "2024-03-06T09:00:00Z", "object": "https://other.example/users/leo/statuses/5"}},
            reposted_id="https://other.example/users/leo/statuses/5"),
        old_row("bluesky", "repost:at://did:plc:o/app.bsky.feed.post/3x", "Het raadsvoorstel", "repost", {"api": {
            "post": {"uri": "at://did:plc:o/app.bsky.feed.post/3x", "author": {"handle": "gemeenteutrecht.bsky.social"},
                     "record": {"text": "Het raadsvoorstel"}}, "reason": {"indexedAt": "2024-03-02T09:00:00Z"}}}),
        old_row("x", "1500", "Gewoon een tweet", "post", {"x-archive": {"id_str": "1500"}}),
    ]
    with database.transaction(write=True) as connection:
        marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(f"INSERT INTO archive_posts ({OLD_COLUMNS}) VALUES "
                                   f"({', '.join([marker] * 15)})", rows)
    database.engine.dispose()
    archive = open_archive(database_url)  # brings it to the head revision
    try:
        found = {p.remote_id: p for p in query_posts(archive, PostFilter(include_private=True))}
        assert (found["1"].visibility, found["1"].content_warning) == ("followers", "Let op")
        assert "2" not in found  # a direct message fetched before: removed
        assert (found["105"].visibility, found["105"].content_warning, found["105"].text) == (
            "public", "Politiek", "Over de reorganisatie")
        assert found["102"].visibility == "unlisted"
        assert (found["106"].reposted_account, found["106"].reposted_url) == (
            "leo@other.example", "https://other.example/users/leo/statuses/5")
        bluesky = found["repost:at://did:plc:o/app.bsky.feed.post/3x"]
        assert (bluesky.reposted_account, bluesky.reposted_url) == (
            "gemeenteutrecht.bsky.social", "https://bsky.app/profile/gemeenteutrecht.bsky.social/post/3x")
        assert found["1500"].visibility == "public" and found["1500"].content_warning is None
        assert {p.remote_id for p in query_posts(archive)} == {"105", "102", "106", "1500",
                                                               "repost:at://did:plc:o/app.bsky.feed.post/3x"}
        assert [p.remote_id for p in query_posts(archive, PostFilter(search="reorganisatie"))] == ["105"]
        assert list(query_posts(archive, PostFilter(search="politiek"))) == []  # the warning left the text's index
    finally:
        archive.engine.dispose()


def test_stats_count_public_and_unlisted_posts_unless_asked_for_all(database_url):
    from datetime import timedelta

    from archive.stats import collect

    database = open_archive(database_url)
    try:
        start = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
        upsert_posts(database, [
            ArchivedPost(platform="mastodon", remote_id=str(n), account="team@social.example",
                         created_at=start + timedelta(days=n), text=f"bericht {n}", hashtags=(tag,), visibility=seen)
            for n, (tag, seen) in enumerate([("open", "public"), ("stil", "unlisted"), ("binnen", "followers")])],
            source="test", now=start + timedelta(days=10))
        shown = collect(database)
        assert sorted(shown.hashtags) == [("open", 1), ("stil", 1)]
        assert len(shown.days) == 2  # days with posts
        every = collect(database, PostFilter(include_private=True))
        assert sorted(every.hashtags) == [("binnen", 1), ("open", 1), ("stil", 1)]
    finally:
        database.engine.dispose()
