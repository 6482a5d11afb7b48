"""Importers and `archive import`: the X archive's quirks, twarc2, Mastodon, own JSONL; idempotence,
merging across sources, and broken files that leave the database unchanged."""
from __future__ import annotations

import gzip
import json
import multiprocessing
import zipfile
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.errors import ImportFormatError, UnknownFormat
from archive.importers import mastodon_outbox, own_jsonl, parse_twitter_time, twarc, x_archive
from archive.importers.detect import detect
from archive.records import Link, PostFilter
from archive.store import count_posts, get_post, open_archive, query_posts
from tests.archive_fixtures import (ACCOUNT, seed_tweets, write_folder, write_x_zip, x_archive_files, x_tweet,
                                    ytd)


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result


def posts_of(path, **kwargs):
    return {p.remote_id: p for p in x_archive.iter_posts(path, **kwargs)}


# -- the X archive --------------------------------------------------------------------

def test_x_archive_quirks(tmp_path):
    deleted = x_tweet(556000000000000000, "oeps", deleted_at="Wed Jan 28 10:00:00 +0000 2015")
    zip_path = write_x_zip(tmp_path / "twitter-2024.zip", x_archive_files(seed_tweets(), deleted=[deleted], parts=3))
    posts = posts_of(zip_path)
    assert len(posts) == 8
    first = posts["556000000000000001"]
    assert first.account == ACCOUNT
    assert first.created_at == datetime(2014, 12, 28, 10, 0, tzinfo=timezone.utc)
    assert first.url == f"https://x.com/{ACCOUNT}/status/556000000000000001"
    assert first.source_app == "Twitter Web App"
    assert first.metrics == {"likes": 0, "reposts": 0}  # numbers were strings
    reply = posts["556000000000000002"]
    assert (reply.kind, reply.reply_to_id, reply.reply_to_account) == ("reply", "555000000000000009", "moniquedenb")
    linked = posts["556000000000000004"]
    assert linked.links == (Link("http://t.co/HkaCSetas2", "http://publicpapersutrecht.nl/teams",
                                 "publicpapersutrecht.nl/teams"),)
    assert linked.hashtags == ("zelfstandigeteams",) and linked.mentions == ("GemeenteUtrecht",)
    assert linked.metrics["likes"] == 7
    repost = posts["556000000000000005"]
    assert repost.kind == "repost"
    assert repost.text == "RT @GemeenteUtrecht: Teams & vertrouwen <3 \U0001F44D"  # &amp; &lt; unescaped, emoji kept
    assert posts["556000000000000006"].text.startswith("\u200fשלום & welkom 🎉")
    assert posts["556000000000000008"].edit_history == ("556000000000000007",)
    assert posts["556000000000000000"].deleted_at == datetime(2015, 1, 28, 10, 0, tzinfo=timezone.utc)
    assert all(p.deleted_at is None for k, p in posts.items() if k != "556000000000000000")
    assert first.raw["id_str"] == "556000000000000001"


def test_folder_old_name_and_single_file(tmp_path):
    files = x_archive_files(seed_tweets(), old_name=True)
    folder = write_folder(tmp_path / "unpacked", files)
    assert len(posts_of(folder)) == 7
    assert len(posts_of(folder / "data" / "tweet.js")) == 7  # account.js beside it names the account
    lone = tmp_path / "tweets.js"
    lone.write_text(files["data/tweet.js"].replace("window.YTD.tweet.", "window.YTD.tweets."), encoding="utf-8")
    with pytest.raises(ImportFormatError, match="account.js"):
        posts_of(lone)
    assert {p.account for p in posts_of(lone, account="@teamsaantstuur").values()} == {"teamsaantstuur"}


def test_the_manifest_gives_the_number_of_posts_for_the_progress_bar(tmp_path):
    tweets = seed_tweets()
    files = x_archive_files(tweets, deleted=[x_tweet(1, "weg")], parts=2, manifest=True)
    zip_path = write_x_zip(tmp_path / "a.zip", files)
    assert x_archive.count(zip_path) == len(tweets) + 1 == len(list(x_archive.iter_posts(zip_path)))
    folder = write_folder(tmp_path / "unpacked", files)
    assert x_archive.count(folder) == len(tweets) + 1
    assert x_archive.count(folder / "data" / "tweets-part1.js") == len(list(x_archive.iter_posts(
        folder / "data" / "tweets-part1.js")))  # a lone part: its own count, from the manifest beside it
    assert x_archive.count(write_x_zip(tmp_path / "none.zip", x_archive_files(tweets))) is None
    odd = {**files, "data/manifest.js": "window.__THAR_CONFIG = {\"dataTypes\": "}
    assert x_archive.count(write_x_zip(tmp_path / "odd.zip", odd)) is None  # never an error: only a bar's size
    result = run("import", zip_path, "--progress", "--db", tmp_path / "a.db")
    assert result.exit_code == 0 and f"{len(tweets) + 1} new" in result.output


def test_account_js_names_the_account_and_a_different_account_option_is_refused(tmp_path):
    zip_path = write_x_zip(tmp_path / "a.zip", x_archive_files(seed_tweets()))
    refused = run("import", zip_path, "--account", "someone", "--db", tmp_path / "a.db")
    assert refused.exit_code == 2 and "is the archive of @teamsaantstuur (account.js), not @someone" in refused.output
    database = open_archive(f"sqlite:///{tmp_path / 'a.db'}")
    assert count_posts(database) == 0
    database.engine.dispose()
    agreed = run("import", zip_path, "--account", "@TeamsAanTStuur", "--db", tmp_path / "a.db")
    assert agreed.exit_code == 0 and "7 new" in agreed.output


def test_twitter_time_formats():
    assert parse_twitter_time("Tue Jan 27 10:00:00 +0000 2015") == datetime(2015, 1, 27, 10, tzinfo=timezone.utc)
    assert parse_twitter_time("Tue Jan 27 11:00:00 +0100 2015") == datetime(2015, 1, 27, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize("damage, message", [
    (lambda files: {**files, "data/tweets.js": files["data/tweets.js"][:-200]}, "record .*not valid JSON"),
    (lambda files: {**files, "data/tweets.js": files["data/tweets.js"].replace("window.YTD.tweets.part0 = ", "")},
     "does not start with 'window.YTD"),
    (lambda files: {**files, "data/tweets.js": files["data/tweets.js"].replace('"created_at"', '"made_at"', 1)},
     "record 1: cannot be read"),
])
def test_broken_archives_name_file_and_record_and_store_nothing(tmp_path, database_url, damage, message):
    good = write_x_zip(tmp_path / "good.zip", x_archive_files(seed_tweets()[:2]))
    assert run("import", good, "--db", database_url).exit_code == 0
    broken = write_x_zip(tmp_path / "broken.zip", damage(x_archive_files(seed_tweets())))
    result = run("import", broken, "--db", database_url)
    assert result.exit_code == 2
    assert "broken.zip:data/tweets.js" in result.output
    import re
    assert re.search(message, result.output), result.output
    database = open_archive(database_url)
    assert count_posts(database) == 2  # only the good file's posts
    database.engine.dispose()


# tweets.js is read a chunk at a time (archive.importers.array_items: cut between tweets, parsed by
# orjson, ijson for what it refuses); a chunk of a few hundred bytes makes every path run here.
TRICKY = ['a tweet that reads like the next one: }, {"tweet" : {', "ends the array early: }] ;", "<3 & }"]


def _lone_tweets_js(path, tweets: list[dict], layout: str):
    items = [{"tweet": tweet} for tweet in tweets]
    body = {"x": json.dumps(items, indent=2, ensure_ascii=False),  # X's own layout
            "compact": json.dumps(items, separators=(",", ":")),
            "lines": "[\n" + ",\n".join(json.dumps(item) for item in items) + "\n]\n"}[layout]
    path.write_text("window.YTD.tweets.part0 = " + body, encoding="utf-8")
    return path


@pytest.mark.parametrize("layout", ["x", "compact", "lines"])
@pytest.mark.parametrize("chunk", [200, 1024 * 1024])
def test_tweets_js_reads_the_same_whatever_its_layout_and_however_it_is_cut(tmp_path, monkeypatch, layout, chunk):
    import archive.importers

    monkeypatch.setattr(archive.importers, "SCAN_CHUNK", chunk)
    tweets = [x_tweet(700000000000000000 + n, TRICKY[n % 3] + f" {n}", hashtags=["x"] * (n % 2),
                      mentions=["GemeenteUtrecht", "deboerleo"][:n % 3]) for n in range(60)]
    posts = list(x_archive.iter_posts(_lone_tweets_js(tmp_path / "tweets.js", tweets, layout), account=ACCOUNT))
    assert [p.remote_id for p in posts] == [t["id_str"] for t in tweets]
    assert posts[0].text == 'a tweet that reads like the next one: }, {"tweet" : { 0'
    assert posts[2].text == "<3 & } 2" and posts[2].mentions == ("GemeenteUtrecht", "deboerleo")
    assert posts[59].raw == tweets[59]


@pytest.mark.parametrize("chunk", [300, 1024 * 1024])
def test_a_broken_tweet_after_many_good_ones_is_named_by_its_number(tmp_path, monkeypatch, chunk):
    import archive.importers

    monkeypatch.setattr(archive.importers, "SCAN_CHUNK", chunk)
    path = _lone_tweets_js(tmp_path / "tweets.js", [x_tweet(710000000000000000 + n, f"tweet {n}") for n in range(50)],
                           "x")
    text = path.read_text()
    broken = text.index('"full_text": "tweet 36"')
    path.write_text(text[:broken] + '"full_text": "tweet 36",,' + text[broken + len('"full_text": "tweet 36",'):])
    with pytest.raises(ImportFormatError, match=r"record 37: is not valid JSON"):
        list(x_archive.iter_posts(path, account=ACCOUNT))


def test_a_tweets_js_whose_tweets_start_differently_reads_whole(tmp_path, monkeypatch):
    import archive.importers

    monkeypatch.setattr(archive.importers, "SCAN_CHUNK", 100)
    tweets = [x_tweet(720000000000000000 + n, f"t {n}") for n in range(20)]
    items = [{"tweet": tweet} if n % 2 else tweet for n, tweet in enumerate(tweets)]  # bare among wrapped ones
    path = tmp_path / "tweets.js"
    path.write_text("window.YTD.tweets.part0 = " + json.dumps(items, indent=2))
    assert [p.text for p in x_archive.iter_posts(path, account=ACCOUNT)] == [f"t {n}" for n in range(20)]


def test_not_a_zip_and_unknown_files(tmp_path):
    fake = tmp_path / "twitter-2024.zip"
    fake.write_bytes(b"<html>404</html>")
    result = run("import", fake, "--db", tmp_path / "a.db")
    assert result.exit_code == 2 and "twitter-2024.zip: is not a zip file" in result.output
    other = tmp_path / "notes.txt"
    other.write_text("hello", encoding="utf-8")
    with pytest.raises(UnknownFormat):
        detect(other)
    result = run("import", tmp_path / "missing.zip", "--db", tmp_path / "a.db")
    assert result.exit_code == 2 and "does not exist" in result.output


def test_reimport_is_idempotent_and_a_fresher_archive_merges(tmp_path, database_url):
    zip_path = write_x_zip(tmp_path / "a.zip", x_archive_files(seed_tweets()))
    first = run("import", zip_path, "--db", database_url)
    assert first.exit_code == 0 and "7 new, 0 updated, 0 unchanged" in first.output
    again = run("import", zip_path, "--db", database_url)
    assert "0 new, 0 updated, 7 unchanged" in again.output
    fresher = seed_tweets()
    fresher[3]["favorite_count"] = "12"
    later = write_x_zip(tmp_path / "b.zip", x_archive_files(fresher, deleted=[fresher[0]]))
    assert "0 new, 2 updated, 5 unchanged" in run("import", later, "--db", database_url).output
    database = open_archive(database_url)
    assert get_post(database, "x", "556000000000000004").metrics["likes"] == 12
    assert get_post(database, "x", "556000000000000001").deleted_at is not None
    assert count_posts(database) == 6
    database.engine.dispose()


def test_a_reimport_passes_over_unchanged_tweets_until_the_mapping_changes(tmp_path, database_url, monkeypatch):
    from sqlalchemy import update

    from archive import tables

    zip_path = write_x_zip(tmp_path / "a.zip", x_archive_files(seed_tweets()))
    assert "7 new" in run("import", zip_path, "--db", database_url).output
    first_id = seed_tweets()[0]["id_str"]
    database = open_archive(database_url)
    with database.transaction(write=True) as connection:  # as an older version's mapping might have stored it
        connection.execute(update(tables.posts).where(tables.posts.c.remote_id == first_id).values(text="older"))
    again = run("import", zip_path, "--db", database_url)
    assert "0 new, 0 updated, 7 unchanged" in again.output
    assert get_post(database, "x", first_id).text == "older"  # the same tweet, the same mapping: not mapped again
    monkeypatch.setattr(x_archive, "_MAPPING_CODE", b"a mapping that has changed since")
    third = run("import", zip_path, "--db", database_url)
    assert "0 new, 1 updated, 6 unchanged" in third.output
    assert get_post(database, "x", first_id).text == x_archive.post_from_tweet(seed_tweets()[0], ACCOUNT).text
    database.engine.dispose()


# -- twarc2 ------------------------------------------------------------------------------

def _v2(tweet_id, text, **extra):
    return {"id": tweet_id, "text": text, "created_at": "2015-01-27T10:00:00.000Z", "author_id": "2950000000",
            "conversation_id": tweet_id, "lang": "nl", "edit_history_tweet_ids": [tweet_id],
            "public_metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 9, "quote_count": 0,
                               "impression_count": 100}, **extra}


def test_twarc_pages_and_flattened_lines_merge_into_the_archive_posts(tmp_path):
    page = {"data": [
        _v2("556000000000000004", "Komen er &amp; meer? http://t.co/HkaCSetas2",
            entities={"urls": [{"url": "http://t.co/HkaCSetas2", "expanded_url": "http://publicpapersutrecht.nl/teams",
                                "display_url": "publicpapersutrecht.nl/teams"}],
                      "hashtags": [{"tag": "zelfstandigeteams"}], "mentions": [{"username": "GemeenteUtrecht"}]}),
        _v2("600", "@deboerleo Hallo leo", referenced_tweets=[{"type": "replied_to", "id": "599"}],
            in_reply_to_user_id="77"),
        _v2("601", "kijk hier", referenced_tweets=[{"type": "quoted", "id": "9"}],
            attachments={"media_keys": ["3_1"]}),
    ], "includes": {"users": [{"id": "2950000000", "username": "teamsaantstuur"},
                              {"id": "77", "username": "deboerleo"}],
                    "media": [{"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/a.jpg",
                               "alt_text": "Foto"}]},
        "meta": {"result_count": 3}}
    flat = _v2("602", "RT @GemeenteUtrecht: iets", author={"id": "2950000000", "username": "teamsaantstuur"},
               referenced_tweets=[{"type": "retweeted", "id": "5"}], __twarc={"url": "…"})
    path = tmp_path / "tweets.jsonl"
    path.write_text(json.dumps(page) + "\n" + json.dumps(flat) + "\n", encoding="utf-8")
    assert detect(path) is twarc
    posts = {p.remote_id: p for p in twarc.iter_posts(path)}
    assert posts["556000000000000004"].text == "Komen er & meer? http://t.co/HkaCSetas2"
    assert posts["556000000000000004"].metrics == {"likes": 9, "reposts": 1, "replies": 2, "quotes": 0,
                                                  "impressions": 100}
    assert (posts["600"].kind, posts["600"].reply_to_id, posts["600"].reply_to_account) == ("reply", "599", "deboerleo")
    assert (posts["601"].kind, posts["601"].quoted_id, posts["601"].media[0]["alt"]) == ("quote", "9", "Foto")
    assert (posts["602"].kind, posts["602"].reposted_id) == ("repost", "5")
    assert "__twarc" not in posts["602"].raw

    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    run("import", write_x_zip(tmp_path / "a.zip", x_archive_files(seed_tweets())), "--db", database_url)
    result = run("import", path, "--db", database_url)
    assert "3 new, 1 updated, 0 unchanged (twarc)" in result.output
    database = open_archive(database_url)
    merged = get_post(database, "x", "556000000000000004")
    assert merged.metrics["replies"] == 2 and merged.conversation_id == "556000000000000004"
    assert set(merged.raw) == {"x-archive", "twarc"}
    database.engine.dispose()


def test_twarc_truncated_line_names_the_line(tmp_path):
    path = tmp_path / "tweets.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(json.dumps({"data": [_v2("1", "a")], "includes": {"users": [{"id": "2950000000", "username": "t"}]}})
                  + "\n" + '{"data": [{"id": "2", "te\n')
    with pytest.raises(ImportFormatError, match=r"tweets.jsonl.gz: record 2: is not valid JSON"):
        list(twarc.iter_posts(path))


# -- Mastodon ------------------------------------------------------------------------------

ACTOR = "https://social.example/users/team"


def _note(status_id, content, **extra):
    return {"id": f"{ACTOR}/statuses/{status_id}/activity", "type": "Create", "actor": ACTOR,
            "published": "2024-03-01T09:00:00Z", "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [f"{ACTOR}/followers"],
            "object": {"id": f"{ACTOR}/statuses/{status_id}", "type": "Note", "published": "2024-03-01T09:00:00Z",
                       "url": f"https://social.example/@team/{status_id}", "content": content,
                       "contentMap": {"nl": content}, "to": ["https://www.w3.org/ns/activitystreams#Public"],
                       "attachment": [], "tag": [], **extra}}


def _direct_message(status_id):
    note = _note(status_id, "<p>geheim</p>", to=["https://other.example/users/leo"], cc=[])
    return {**note, "to": ["https://other.example/users/leo"], "cc": []}


def test_mastodon_outbox_in_a_zip(tmp_path):
    items = [
        _note("111", '<p>Praat mee over <a href="https://social.example/tags/zelfstandigeteams" class="mention '
                     'hashtag" rel="tag">#<span>zelfstandigeteams</span></a> &amp; meer!</p><p>Zie <a href="https://'
                     'publicpapersutrecht.nl/teams" rel="nofollow"><span class="invisible">https://</span><span '
                     'class="">publicpapersutrecht.nl/teams</span></a><br>tot dan</p>',
              tag=[{"type": "Hashtag", "name": "#zelfstandigeteams", "href": "https://social.example/tags/x"},
                   {"type": "Mention", "name": "@leo@other.example", "href": "https://other.example/@leo"}],
              attachment=[{"type": "Document", "mediaType": "image/png", "url": "/media/a.png", "name": "Logo"}]),
        _note("112", "<p>antwoord</p>", inReplyTo="https://other.example/users/leo/statuses/99"),
        {"id": f"{ACTOR}/statuses/113/activity", "type": "Announce", "actor": ACTOR, "published": "2024-03-02T09:00:00Z",
         "to": ["https://www.w3.org/ns/activitystreams#Public"], "object": "https://other.example/users/leo/statuses/5"},
        _direct_message("114"),
    ]
    outbox = {"@context": "https://www.w3.org/ns/activitystreams", "id": "outbox.json", "type": "OrderedCollection",
              "totalItems": len(items), "orderedItems": items}
    zip_path = tmp_path / "archive-20240301.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("actor.json", "{}")
        archive.writestr("outbox.json", json.dumps(outbox))
    assert detect(zip_path) is mastodon_outbox
    posts = {p.remote_id: p for p in mastodon_outbox.iter_posts(zip_path)}
    assert set(posts) == {"111", "112", "113"}  # the direct message is left out
    first = posts["111"]
    assert first.account == "team@social.example"
    assert first.text == "Praat mee over #zelfstandigeteams & meer!\n\nZie https://publicpapersutrecht.nl/teams\ntot dan"
    assert first.hashtags == ("zelfstandigeteams",) and first.mentions == ("leo@other.example",)
    assert first.links == (Link("https://publicpapersutrecht.nl/teams", "https://publicpapersutrecht.nl/teams",
                                "https://publicpapersutrecht.nl/teams"),)
    assert first.media == ({"type": "image", "url": "/media/a.png", "alt": "Logo"},)
    assert first.language == "nl"
    assert (posts["112"].kind, posts["112"].reply_to_id) == ("reply", "99")
    assert (posts["113"].kind, posts["113"].reposted_id) == ("repost", "https://other.example/users/leo/statuses/5")


# An outbox is read a chunk at a time when orderedItems is its last member (as Mastodon writes it),
# by ijson otherwise: every layout, however it is cut, gives the same posts.
@pytest.mark.parametrize("layout", ["mastodon", "items first", "nested decoy", "indented"])
@pytest.mark.parametrize("chunk", [150, 1024 * 1024])
def test_mastodon_outbox_reads_the_same_whatever_its_layout_and_however_it_is_cut(tmp_path, monkeypatch, layout,
                                                                                   chunk):
    import archive.importers

    monkeypatch.setattr(archive.importers, "SCAN_CHUNK", chunk)
    items = [_note(str(200 + n), f'<p>bericht {n} ], "orderedItems": [ }}, {{"id": </p>') for n in range(30)]
    items[7] = _direct_message("207")
    head = {"@context": ["https://www.w3.org/ns/activitystreams", {"orderedItems": {"@container": "@list"}}],
            "id": "outbox.json", "type": "OrderedCollection", "totalItems": len(items)}
    if layout == "items first":
        outbox = {"orderedItems": items, **head}
    elif layout == "nested decoy":
        outbox = {**head, "first": {"orderedItems": [_note("999", "<p>niet van ons</p>")]}, "orderedItems": items}
    else:
        outbox = {**head, "orderedItems": items}
    path = tmp_path / "outbox.json"
    path.write_text(json.dumps(outbox, indent=2 if layout == "indented" else None), encoding="utf-8")
    posts = list(mastodon_outbox.iter_posts(path))
    assert [p.remote_id for p in posts] == [str(200 + n) for n in range(30) if n != 7]
    assert posts[0].text == 'bericht 0 ], "orderedItems": [ }, {"id":'


def test_a_broken_activity_in_an_outbox_is_named_by_its_number(tmp_path):
    items = [_note(str(300 + n), f"<p>{n}</p>") for n in range(40)]
    text = json.dumps({"type": "OrderedCollection", "orderedItems": items})
    broken = text.index('"<p>25</p>"')
    (tmp_path / "outbox.json").write_text(text[:broken] + '"<p>25</p>",,' + text[broken + len('"<p>25</p>",'):])
    with pytest.raises(ImportFormatError, match=r"record 26: is not valid JSON"):
        list(mastodon_outbox.iter_posts(tmp_path / "outbox.json"))


def test_mastodon_html_paragraphs_are_a_blank_line_and_br_a_line_break():
    from campaign.spec.text import html_to_text

    assert html_to_text("<p>a<br />b</p><p>c &lt;3</p>") == "a\nb\n\nc <3"
    assert html_to_text('<p>Praat mee!</p>\n<p>Lees <a href="https://x.example/a"><span class="invisible">'
                        'https://</span><span>x.example/a</span></a></p>') == "Praat mee!\n\nLees https://x.example/a"


def test_the_same_mastodon_status_fetched_or_imported_from_the_outbox_reads_the_same():
    # Before: fetch read 'Praat mee!\nLees…', the outbox 'Praat mee!\n\nLees…', and the archive kept
    # whichever ran last.
    from archive.sources.mastodon import record
    from campaign.send.platforms.mastodon import _remote

    content = ('<p>Praat mee!</p><p>Lees <a href="https://publicpapersutrecht.nl/teams" rel="nofollow"><span '
               'class="invisible">https://</span><span class="">publicpapersutrecht.nl/teams</span></a><br />en '
               '<a href="https://social.example/tags/teams" class="mention hashtag" rel="tag">#<span>teams</span></a>'
               '</p>')
    imported = mastodon_outbox.post_from_activity(_note("120", content), None)
    status = {"id": "120", "created_at": "2024-03-01T09:00:00Z", "content": content,
              "url": "https://social.example/@team/120"}
    fetched = record(status, "team@social.example")
    assert imported.text == fetched.text == _remote(status).text == (
        "Praat mee!\n\nLees https://publicpapersutrecht.nl/teams\nen #teams")
    assert imported.links == fetched.links


def test_a_twarc_tweet_with_media_keeps_its_media_link_like_fetch():
    # Before: the twarc importer dropped the URL X appends for attached media; fetch kept it.
    from archive.sources.x import record

    tweet = _v2("603", "Kijk https://t.co/pic", attachments={"media_keys": ["3_9"]},
                entities={"urls": [{"url": "https://t.co/pic", "expanded_url": "https://x.com/t/status/603/photo/1",
                                    "display_url": "pic.x.com/pic", "media_key": "3_9"}]})
    includes = {"users": [{"id": "2950000000", "username": "teamsaantstuur"}],
                "media": [{"media_key": "3_9", "type": "photo", "url": "https://pbs.twimg.com/b.jpg"}]}
    imported = twarc.post_from_tweet(tweet, *_index(includes), None)
    fetched = record(tweet, *_index(includes), "teamsaantstuur")
    assert imported.links == fetched.links == (Link("https://t.co/pic", "https://x.com/t/status/603/photo/1",
                                                    "pic.x.com/pic"),)
    assert imported.media == fetched.media


def test_a_reply_that_quotes_is_a_reply_whether_fetched_or_imported():
    # Before: fetch called it a quote, the twarc and X archive importers a reply.
    from archive.sources.x import record

    tweet = _v2("604", "ja", referenced_tweets=[{"type": "quoted", "id": "9"}, {"type": "replied_to", "id": "8"}])
    assert record(tweet, {}, {}, "teamsaantstuur").kind == "reply"
    assert twarc.post_from_tweet(tweet, {}, {}, "teamsaantstuur").kind == "reply"


def _index(includes):
    from archive.sources.x import index

    return index(includes)


# -- own JSONL -------------------------------------------------------------------------------

def test_own_jsonl_broken_record_is_named(tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_text('{"format": "praatmee-archive/1", "platform": "x"}\n', encoding="utf-8")
    assert detect(path) is own_jsonl
    with pytest.raises(ImportFormatError, match=r"export.jsonl: record 1: cannot be read \(KeyError"):
        list(own_jsonl.iter_posts(path))


def test_import_command_reads_several_files_and_keeps_earlier_ones_on_failure(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    good = write_x_zip(tmp_path / "good.zip", x_archive_files(seed_tweets()))
    bad = tmp_path / "bad.js"
    bad.write_text(ytd("tweets", [{"tweet": x_tweet(1, "a")}])[:-5], encoding="utf-8")
    result = run("import", good, bad, "--account", "teamsaantstuur", "--db", database_url)
    assert result.exit_code == 2
    assert "good.zip: 7 new" in result.output and "bad.js: record 1: is not valid JSON" in result.output
    database = open_archive(database_url)
    assert count_posts(database, PostFilter(include_deleted=True)) == 7
    assert [p.remote_id for p in query_posts(database, PostFilter(search="EERSTE tweet*"))] == ["556000000000000001"]
    database.engine.dispose()


# -- reading in a child process ---------------------------------------------------------------

def test_one_cpu_imports_in_process_with_the_same_result(tmp_path, monkeypatch):
    import gc

    monkeypatch.setattr("os.cpu_count", lambda: 1)
    collector = gc.get_threshold()
    zip_path = write_x_zip(tmp_path / "a.zip", x_archive_files(seed_tweets()))
    assert "7 new, 0 updated, 0 unchanged" in run("import", zip_path, "--db", tmp_path / "a.db").output
    assert "0 new, 0 updated, 7 unchanged" in run("import", zip_path, "--db", tmp_path / "a.db").output
    broken = write_x_zip(tmp_path / "b.zip", {**x_archive_files(seed_tweets()), "data/tweets.js": "["})
    result = run("import", broken, "--db", tmp_path / "a.db")
    assert result.exit_code == 2 and "b.zip:data/tweets.js" in result.output
    # The import runs the garbage collector rarely (archive.pipelines.fewer_collections); a process
    # that imports in-process (the workspace, one CPU) gets its own settings back, whatever happened.
    assert gc.get_threshold() == collector and gc.get_freeze_count() == 0


def _numbers(count, fail_at=None):
    for n in range(count):
        if n == fail_at:
            raise ImportFormatError("f.js", "is broken", record=n)
        yield n


def test_iterate_in_child_hands_over_items_errors_and_stops_early():
    from archive.importers.background import iterate_in_child

    assert list(iterate_in_child(_numbers, 5)) == [0, 1, 2, 3, 4]
    with pytest.raises(ImportFormatError) as caught:
        list(iterate_in_child(_numbers, 5, 3))
    assert (caught.value.file, caught.value.record, str(caught.value)) == ("f.js", 3, "f.js: record 3: is broken")
    items = iterate_in_child(_numbers, 10**9)
    assert next(items) == 0
    items.close()  # the child is stopped, not left running
    assert multiprocessing.active_children() == []
    unread = iterate_in_child(_numbers, 10**9)  # the child starts at once, before anything is read
    assert len(multiprocessing.active_children()) == 1
    unread.close()
    assert multiprocessing.active_children() == []


def test_a_reading_child_whose_parent_stops_listening_ends():
    import gc
    import time

    from archive.importers.background import iterate_in_child

    items = iterate_in_child(_numbers, 10**9)
    del items  # never read, never closed: its end of the pipe closes
    gc.collect()
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []


def test_iterate_in_child_also_spawns(monkeypatch, tmp_path):
    """Where fork is not safe (macOS, Windows, a process with threads) the child is spawned."""
    from archive.importers import background

    monkeypatch.setattr(background, "_context", lambda: multiprocessing.get_context("spawn"))
    assert list(background.iterate_in_child(_numbers, 3)) == [0, 1, 2]
    with pytest.raises(ImportFormatError, match="record 1: is broken"):
        list(background.iterate_in_child(_numbers, 3, 1))
    zip_path = write_x_zip(tmp_path / "a.zip", x_archive_files(seed_tweets()))
    result = run("import", zip_path, "--db", tmp_path / "a.db")
    assert result.exit_code == 0 and "7 new" in result.output
    exported = run("export", "--db", tmp_path / "a.db")
    assert exported.exit_code == 0 and exported.output.count("\n") == 8  # the header and seven posts
