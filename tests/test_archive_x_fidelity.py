"""Issue 16, X and twarc2: quotes known from their permalink, twarc2 stream output, users and lists
files refused, authors never invented, referenced posts, edit chains folded into one post, and the
smaller ones (show expands t.co links, our JSONL keeps the sources' names). Every fixture is written
here in the shapes of the real exports (tests/archive_fixtures)."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.errors import ImportFormatError
from archive.importers import twarc, x_archive
from archive.records import PostFilter
from archive.store import count_posts, get_post, open_archive, query_posts
from tests.archive_fixtures import ACCOUNT, T0, seed_tweets, write_x_zip, x_archive_files, x_tweet, ytd
from tests.archive_fixtures.shapes import (lists_page, stream_error, stream_line, twarc_page, users_page,
                                           v2_tweet, v2_user, write_jsonl, x_quote, x_version)

DAY = timedelta(days=1)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def stored(database_url, **filters):
    database = open_archive(database_url)
    try:
        return {p.remote_id: p for p in query_posts(database, PostFilter(**filters))}
    finally:
        database.engine.dispose()


# -- quotes ---------------------------------------------------------------------------------

def test_a_modern_archive_quote_is_known_from_the_permalink_it_ends_with(tmp_path):
    # Before: modern archives carry neither quoted_status_id_str nor is_quote_status, and such a
    # quote was stored as a plain post.
    tweets = [
        x_quote(700, "Lees dit!", "599000000000000001"),
        x_quote(701, "Ook op x.com", "599000000000000002", host="x.com", user="deboerleo",
                short="https://t.co/QuOtEd0002"),
        # A link to a post and then another link: the last link pointing at a post is the quote.
        x_quote(702, "Twee links https://t.co/other", "599000000000000003", short="https://t.co/QuOtEd0003",
                urls=[("https://t.co/other", "https://publicpapersutrecht.nl/teams")]),
        # The link X adds for a post's own photo points at the post itself: no quote.
        x_tweet(703, "Foto https://t.co/photo", urls=[("https://t.co/photo",
                                                        f"https://twitter.com/{ACCOUNT}/status/703/photo/1")]),
        # A reply that quotes stays a reply, with the quoted post known.
        x_quote(704, "@deboerleo zie", "599000000000000004", short="https://t.co/QuOtEd0004",
                reply_to=("598", "deboerleo")),
        x_tweet(705, "Gewoon een link https://t.co/site", urls=[("https://t.co/site", "https://example.org/a")]),
    ]
    posts = {p.remote_id: p for p in x_archive.iter_posts(write_x_zip(tmp_path / "a.zip", x_archive_files(tweets)))}
    assert (posts["700"].kind, posts["700"].quoted_id, posts["700"].quoted_url) == (
        "quote", "599000000000000001", "https://twitter.com/GemeenteUtrecht/status/599000000000000001")
    assert (posts["701"].kind, posts["701"].quoted_url) == (
        "quote", "https://x.com/deboerleo/status/599000000000000002")
    assert (posts["702"].kind, posts["702"].quoted_id) == ("quote", "599000000000000003")
    assert (posts["703"].kind, posts["703"].quoted_id) == ("post", None)
    assert (posts["704"].kind, posts["704"].quoted_id) == ("reply", "599000000000000004")
    assert (posts["705"].kind, posts["705"].quoted_id, posts["705"].quoted_url) == ("post", None, None)


def test_an_older_archive_names_the_quoted_post_itself(tmp_path):
    tweet = x_tweet(706, "Citaat", quoted_status_id_str="599000000000000009", is_quote_status="true",
                    quoted_status_permalink={"url": "https://t.co/q", "expanded":
                                             "https://twitter.com/deboerleo/status/599000000000000009",
                                             "display": "twitter.com/deboerleo/s…"})
    post = next(x_archive.iter_posts(write_x_zip(tmp_path / "a.zip", x_archive_files([tweet]))))
    assert (post.kind, post.quoted_id, post.quoted_url) == (
        "quote", "599000000000000009", "https://twitter.com/deboerleo/status/599000000000000009")


def test_twarc_quotes_by_reference_or_by_permalink_with_the_quoted_url(tmp_path):
    quoted = v2_tweet("599", "het origineel", author_id="77")
    page = twarc_page([
        # referenced_tweets names the quote; its author comes from the includes.
        v2_tweet("710", "kijk", refs=[("quoted", "599")]),
        # No referenced_tweets (not requested): the permalink the text ends with.
        v2_tweet("711", "kijk ook https://t.co/q2", urls=[("https://t.co/q2", "https://x.com/iemand/status/598")]),
        # Quoted post unknown: X's own URL form, no guessed handle.
        v2_tweet("712", "en dit", refs=[("quoted", "597")]),
    ], users=[v2_user(), v2_user("77", "deboerleo")], referenced=[quoted])
    posts = {p.remote_id: p for p in twarc.iter_posts(write_jsonl(tmp_path / "t.jsonl", [page]))}
    assert (posts["710"].kind, posts["710"].quoted_url) == ("quote", "https://x.com/deboerleo/status/599")
    assert (posts["711"].kind, posts["711"].quoted_id, posts["711"].quoted_url) == (
        "quote", "598", "https://x.com/iemand/status/598")
    assert posts["712"].quoted_url == "https://x.com/i/status/597"


def test_quotes_are_kind_quote_in_show_render_export_and_stats(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    tweets = seed_tweets() + [x_quote(556000000000000020, "Lees dit!", "599000000000000001", at=T0 + 5 * DAY)]
    assert run("import", write_x_zip(tmp_path / "a.zip", x_archive_files(tweets)), "--db", url).exit_code == 0
    shown = run("show", ACCOUNT, "--kind", "quote", "--now", "2020-11-27", "--db", url)
    assert shown.output.startswith("@teamsaantstuur Lees dit! https://twitter.com/GemeenteUtrecht/status/")
    assert shown.output.count("\n") == 1
    page = tmp_path / "quotes.html"
    assert run("render", ACCOUNT, "--kind", "quote", "--html", page, "--now", "2020-11-27", "--db", url).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "Lees dit!" in html and "Mijn eerste tweetje" not in html
    exported = run("export", "--format", "csv", "--db", url)
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(exported.output))}
    assert rows["556000000000000020"]["kind"] == "quote"
    lines = [json.loads(line) for line in run("export", "--format", "jsonl", "--kind", "quote", "--db", url
                                                   ).output.splitlines()]
    assert [(line["kind"], line["quoted_id"], line["quoted_url"]) for line in lines] == [
        ("quote", "599000000000000001", "https://twitter.com/GemeenteUtrecht/status/599000000000000001")]
    stats = json.loads(run("stats", "--format", "json", "--db", url).output)
    assert stats["kinds"]["quote"] == 1 and stats["posts"] == 8


# -- twarc2: stream output, users and lists, authors -------------------------------------------

def test_twarc_stream_output_with_matching_rules_and_error_lines(tmp_path, database_url):
    # Before: "neither a twarc2 page nor a tweet" for the first line, and nothing imported.
    lines = [
        stream_line(v2_tweet("720", "#zelfstandigeteams in Utrecht"), users=[v2_user()]),
        stream_error(),
        stream_line(v2_tweet("721", "nog een", author_id="77"), users=[v2_user("77", "deboerleo")]),
        stream_error("ConnectionException", "This stream is currently at the maximum allowed connection limit."),
        stream_line(v2_tweet("722", "en de laatste"), users=[v2_user()]),
    ]
    path = write_jsonl(tmp_path / "stream.jsonl", lines, blank_between=True)  # with the keep-alive lines
    result = run("import", path, "--db", database_url)
    assert result.exit_code == 0, result.output
    assert "3 new, 0 updated, 0 unchanged (twarc)" in result.stdout
    assert "2 records passed over" in result.stderr
    assert "record 3: the API sent an error instead of data: operational-disconnect: This stream" in result.stderr
    assert "record 7: " in result.stderr and "ConnectionException" in result.stderr
    posts = stored(database_url)
    assert (posts["721"].account, posts["721"].url) == ("deboerleo", "https://x.com/deboerleo/status/721")
    assert posts["720"].account == ACCOUNT


@pytest.mark.parametrize("content, what", [
    ([users_page()], "holds users"),
    ([lists_page()], "holds lists"),
    ([v2_user(), v2_user("77", "deboerleo")], "holds users"),  # `twarc2 flatten` of a users file
    ([{"data": [{"end": "2024-03-02T00:00:00.000Z", "start": "2024-03-01T00:00:00.000Z", "tweet_count": 12}],
      "meta": {"total_tweet_count": 12}}], "holds tweet counts"),
])
def test_users_and_lists_files_are_refused_whatever_the_options(tmp_path, database_url, content, what):
    # Before: with --account each user became an empty post of that account.
    path = write_jsonl(tmp_path / "users.jsonl", content)
    for options in ([], ["--account", ACCOUNT], ["--account", ACCOUNT, "--format", "twarc"]):
        result = run("import", path, *options, "--db", database_url)
        assert result.exit_code == 2, result.output
        assert "users.jsonl: record 1: " + what in result.output and "not tweets" in result.output
    database = open_archive(database_url)
    assert count_posts(database, PostFilter(include_deleted=True, include_referenced=True)) == 0
    database.engine.dispose()


def test_account_names_the_timeline_and_never_an_unknown_author(tmp_path, database_url):
    # Before: --account stored a tweet whose author was missing from the includes as the account's,
    # with a made-up URL.
    someone_else = v2_tweet("731", "van iemand anders", author_id="88")
    page = twarc_page([v2_tweet("730", "van ons"), v2_tweet("732", "van leo", author_id="77")],
                      users=[v2_user(), v2_user("77", "deboerleo")])
    path = write_jsonl(tmp_path / "timeline.jsonl", [page, twarc_page([someone_else], users=[])])
    result = run("import", path, "--account", ACCOUNT, "--db", database_url)
    assert result.exit_code == 2
    assert "timeline.jsonl: record 2: " in result.output and "tweet 731 is by user 88" in result.output
    database = open_archive(database_url)
    assert count_posts(database) == 0  # nothing of the file
    database.engine.dispose()

    # The account's own id is known from the includes: its tweets need no user object on every page;
    # a tweet without any author field is the account's by --account.
    good = write_jsonl(tmp_path / "good.jsonl", [page, twarc_page([v2_tweet("733", "weer van ons")], users=[]),
                                                 v2_tweet("734", "geen auteur", author_id=None)])
    assert run("import", good, "--account", ACCOUNT, "--db", database_url).exit_code == 0
    posts = stored(database_url)
    assert {k: (p.account, p.url) for k, p in posts.items()} == {
        "730": (ACCOUNT, f"https://x.com/{ACCOUNT}/status/730"),
        "732": ("deboerleo", "https://x.com/deboerleo/status/732"),  # under its real author, not --account
        "733": (ACCOUNT, f"https://x.com/{ACCOUNT}/status/733"),
        "734": (ACCOUNT, f"https://x.com/{ACCOUNT}/status/734")}
    with pytest.raises(ImportFormatError, match="record 1: .*tweet 734 names no author"):
        list(twarc.iter_posts(write_jsonl(tmp_path / "anon.jsonl", [v2_tweet("734", "x", author_id=None)])))


def test_referenced_tweets_are_stored_on_request_and_kept_out_of_the_timeline(tmp_path, database_url):
    quoted = v2_tweet("599", "het origineel #verwezen", author_id="77", entities={"hashtags": [{"tag": "verwezen"}]})
    own_old = v2_tweet("598", "ons oude bericht")  # also in the timeline below: a timeline post after all
    unknown = v2_tweet("597", "van wie?", author_id="99")
    page = twarc_page([v2_tweet("740", "kijk", refs=[("quoted", "599")]),
                       v2_tweet("741", "@ons", refs=[("replied_to", "598"), ("quoted", "597")])],
                      users=[v2_user(), v2_user("77", "deboerleo")], referenced=[quoted, own_old, unknown])
    path = write_jsonl(tmp_path / "t.jsonl", [page])
    assert "2 new" in run("import", path, "--db", database_url).output  # by default only the data
    result = run("import", path, "--referenced", "--db", database_url)
    assert result.exit_code == 0 and "2 new, 0 updated, 2 unchanged" in result.stdout
    assert "referenced tweet 597: its author 99 is not in the includes; not stored" in result.stderr
    assert set(stored(database_url)) == {"740", "741"}
    everything = stored(database_url, include_referenced=True)
    assert (everything["599"].account, everything["599"].referenced) == ("deboerleo", True)
    assert everything["599"].url == "https://x.com/deboerleo/status/599"
    assert run("show", "deboerleo", "--db", database_url).output == ""
    stats = json.loads(run("stats", "--format", "json", "--db", database_url).output)
    assert stats["posts"] == 2 and [a["account"] for a in stats["accounts"]] == [ACCOUNT]
    assert "verwezen" not in json.dumps(stats["top_hashtags"])
    timeline = write_jsonl(tmp_path / "timeline.jsonl", [twarc_page([own_old], users=[v2_user()])])
    assert run("import", timeline, "--db", database_url).exit_code == 0
    assert set(stored(database_url)) == {"740", "741", "598"}  # no longer only referenced


# -- edit chains -------------------------------------------------------------------------------

V1, V2, V3 = "556000000000000030", "556000000000000031", "556000000000000032"


def _archive_with(tmp_path, name, tweets):
    return write_x_zip(tmp_path / name, x_archive_files(tweets))


def _chain_files(tmp_path):
    """What exports of one edited post look like: an archive made before the edit (the first
    version alone), one made after (every version), and twarc2 captures of the later versions."""
    before = _archive_with(tmp_path, "before.zip", [x_tweet(V1, "Praat mee over teams", at=T0, edit_ids=[V1])])
    after = _archive_with(tmp_path, "after.zip", [
        x_version(V1, "Praat mee over teams", [V1, V2], at=T0),
        x_version(V2, "Praat mee over zelfstandige teams", [V1, V2], at=T0 + timedelta(minutes=5))])
    later = write_jsonl(tmp_path / "later.jsonl", [twarc_page(
        [v2_tweet(V3, "Praat mee over zelfstandige teams! https://t.co/d", edits=[V1, V2, V3],
                  at=T0 + timedelta(minutes=9), urls=[("https://t.co/d", "https://publicpapersutrecht.nl/d")])],
        users=[v2_user()])])
    return before, after, later


def _chain_state(database_url):
    posts = stored(database_url, include_deleted=True)
    return {key: (p.text, p.edit_history, p.versions, p.url, p.kind, p.links) for key, p in posts.items()}


def test_an_edited_post_is_one_post_its_latest_version_with_the_earlier_ones_in_its_history(tmp_path, database_url):
    # Before: importing the earlier, then the later version showed both texts.
    before, after, later = _chain_files(tmp_path)
    assert "1 new" in run("import", before, "--db", database_url).output
    result = run("import", after, "--db", database_url)
    assert result.exit_code == 0 and "0 new, 1 updated, 0 unchanged" in result.output
    post = get_post(open_archive(database_url), "x", V2)
    assert (post.text, post.edit_history) == ("Praat mee over zelfstandige teams", (V1,))
    assert [(v["id"], v["text"]) for v in post.versions] == [(V1, "Praat mee over teams")]
    assert get_post(open_archive(database_url), "x", V1) is None
    assert "0 new, 0 updated, 2 unchanged" not in run("import", after, "--db", database_url).output  # counted per post
    assert "0 new, 0 updated, 1 unchanged" in run("import", after, "--db", database_url).output
    assert run("import", later, "--db", database_url).exit_code == 0
    shown = run("show", ACCOUNT, "--now", "2020-11-27", "--db", database_url).output
    assert shown.count("\n") == 1 and "zelfstandige teams! https://publicpapersutrecht.nl/d" in shown
    lines = [json.loads(line) for line in run("export", "--format", "jsonl", "--db", database_url).output.splitlines()]
    assert [(line["remote_id"], line["edit_history"], [v["text"] for v in line["versions"]]) for line in lines] == [
        (V3, [V1, V2], ["Praat mee over teams", "Praat mee over zelfstandige teams"])]
    assert [p.remote_id for p in query_posts(open_archive(database_url), PostFilter(search="zelfstandige"))] == [V3]


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0), (2, 0, 1), (1, 0, 2)])
def test_importing_the_versions_in_any_order_gives_the_same_post(tmp_path, order):
    files = _chain_files(tmp_path)
    results = []
    for name, sequence in (("reference", (0, 1, 2)), ("shuffled", order)):
        url = f"sqlite:///{tmp_path / (name + '.db')}"
        for index in sequence:
            assert run("import", files[index], "--db", url).exit_code == 0
        results.append(_chain_state(url))
    assert results[0] == results[1]
    assert list(results[0]) == [V3]


def test_versions_of_one_chain_in_one_file_fold_in_one_import(tmp_path, database_url):
    tweets = [x_version(V2, "tweede", [V1, V2], at=T0 + DAY), x_tweet(556000000000000040, "los"),
              x_version(V1, "eerste", [V1, V2], at=T0)]
    result = run("import", _archive_with(tmp_path, "a.zip", tweets), "--db", database_url)
    assert "2 new, 0 updated, 0 unchanged" in result.output
    posts = stored(database_url)
    assert set(posts) == {V2, "556000000000000040"}
    assert posts[V2].text == "tweede" and [v["id"] for v in posts[V2].versions] == [V1]


def test_a_database_with_both_versions_stored_is_folded_by_the_migration(database_url):
    from sqlalchemy import text

    from archive import store as archive_store
    from campaign.queue.db import Database

    url = database_url
    database = Database(url)
    archive_store._upgrade(database, "a0004")
    row = ("INSERT INTO archive_posts (platform, remote_id, account, created_at, text, kind, metrics, entities, "
           "edit_history, raw, sources, first_seen_at, last_seen_at) VALUES ('x', :id, 'teamsaantstuur', "
           ":at, :text, 'post', '{}', '{\"hashtags\":[],\"mentions\":[],\"links\":[],\"media\":[]}', :history, "
           "'{}', '{}', :at, :at)")
    with database.transaction(write=True) as connection:
        connection.execute(text(row), {"id": V1, "at": "2015-01-27 10:00:00.000000", "text": "eerste",
                                       "history": "[]"})
        connection.execute(text(row), {"id": V2, "at": "2015-01-27 10:05:00.000000", "text": "tweede",
                                       "history": json.dumps([V1])})
    database.engine.dispose()
    archive = open_archive(url)  # migrates to the head
    posts = {p.remote_id: p for p in query_posts(archive)}
    assert list(posts) == [V2]
    assert posts[V2].versions == ({"id": V1, "created_at": "2015-01-27T10:00:00+00:00", "text": "eerste",
                                   "links": []},)
    archive.engine.dispose()


# -- the small ones ---------------------------------------------------------------------------

def test_show_expands_tco_links_as_readers_see_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    run("import", write_x_zip(tmp_path / "a.zip", x_archive_files(seed_tweets())), "--db", url)
    shown = run("show", ACCOUNT, "--now", "2020-11-27", "--db", url).output
    assert "Laat jouw mening horen via http://publicpapersutrecht.nl/teams!" in shown and "t.co" not in shown
    as_posted = run("show", ACCOUNT, "--now", "2020-11-27", "--as-posted", "--db", url).output
    assert "Laat jouw mening horen via http://t.co/HkaCSetas2!" in as_posted


def test_our_jsonl_imported_again_keeps_the_names_of_the_sources(tmp_path):
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    run("import", write_x_zip(tmp_path / "a.zip", x_archive_files(seed_tweets())), "--db", first)
    page = twarc_page([v2_tweet("556000000000000004", "Komen er meer?")], users=[v2_user()])
    run("import", write_jsonl(tmp_path / "t.jsonl", [page]), "--db", first)
    export = tmp_path / "export.jsonl"
    export.write_text(run("export", "--format", "jsonl", "--db", first).output, encoding="utf-8")
    result = run("import", export, "--db", second)
    assert result.exit_code == 0 and "7 new" in result.output
    database = open_archive(second)
    raws = {p.remote_id: p.raw_sources for p in query_posts(database)}
    database.engine.dispose()
    assert set(raws["556000000000000001"]) == {"x-archive"}  # before: {"praatmee-jsonl"}
    assert set(raws["556000000000000004"]) == {"x-archive", "twarc"}
    assert raws["556000000000000001"]["x-archive"]["id_str"] == "556000000000000001"


def test_stats_lists_the_months_without_posts(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    tweets = [x_tweet(1, "januari", at=datetime(2015, 1, 27, 10, tzinfo=timezone.utc)),
              x_tweet(2, "april", at=datetime(2015, 4, 7, 10, tzinfo=timezone.utc))]
    run("import", write_x_zip(tmp_path / "a.zip", x_archive_files(tweets)), "--db", url)
    table = list(csv.DictReader(io.StringIO(run("stats", "--by", "month", "--format", "csv", "--db", url).output)))
    assert [(row["period"], row["posts"]) for row in table] == [("2015-01", "1"), ("2015-02", "0"), ("2015-03", "0"),
                                                                ("2015-04", "1")]


def test_a_lone_tweets_file_with_a_quote_and_an_edit(tmp_path):
    """The same rules when the archive is a single tweets.js (with --account)."""
    lone = tmp_path / "tweets.js"
    lone.write_text(ytd("tweets", [{"tweet": x_version(V1, "eerste", [V1, V2])},
                                   {"tweet": x_version(V2, "tweede", [V1, V2], at=T0 + DAY)},
                                   {"tweet": x_quote(750, "kijk", "599")}]), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert "2 new" in run("import", lone, "--account", ACCOUNT, "--db", url).output
    posts = stored(url)
    assert posts["750"].kind == "quote" and posts[V2].edit_history == (V1,)


def test_an_edited_post_from_a_second_source_keeps_both_raw_jsons(database_url):
    from archive.records import ArchivedPost
    from archive.store import upsert_posts

    def version(source_raw):
        return ArchivedPost("x", V2, ACCOUNT, T0, "tweede", edit_history=(V1,), raw=source_raw)

    database = open_archive(database_url)
    try:
        first = upsert_posts(database, [version({"id_str": V2})], source="x-archive", now=T0)
        again = upsert_posts(database, [version({"id": V2})], source="twarc", now=T0 + DAY)
        assert (first.new, again.unchanged) == (1, 1)
        assert get_post(database, "x", V2).raw == {"x-archive": {"id_str": V2}, "twarc": {"id": V2}}
    finally:
        database.engine.dispose()


def test_the_reltime_docstring_says_what_the_code_does_on_feb_29():
    # Before: the docstring said Feb 29 → Feb 28 next year is "11 maanden 30 dagen".
    import re

    from archive import reltime

    claims = re.findall(r'Feb 29 → Feb 28 next year is "([^"]+)"', " ".join(reltime.__doc__.split()))
    assert claims == ["1 jaar"]
    then, now = datetime(2024, 2, 29, tzinfo=timezone.utc), datetime(2025, 2, 28, tzinfo=timezone.utc)
    assert reltime.relative_time(then, now, locale="nl", zone="UTC") == claims[0] + " geleden"


def test_flattened_twarc_lines_give_their_inline_referenced_tweets(tmp_path):
    quoted = dict(v2_tweet("599", "het origineel", author_id="77"), author=v2_user("77", "deboerleo"))
    line = dict(v2_tweet("760", "kijk", refs=[("quoted", "599")]), author=v2_user())
    line["referenced_tweets"] = [dict(quoted, type="quoted")]  # as `twarc2 flatten` writes it
    path = write_jsonl(tmp_path / "flat.jsonl", [line])
    posts = {p.remote_id: p for p in twarc.iter_posts(path, referenced=True)}
    assert (posts["760"].kind, posts["760"].quoted_url) == ("quote", "https://x.com/deboerleo/status/599")
    assert (posts["599"].account, posts["599"].referenced) == ("deboerleo", True)
    assert {p.remote_id for p in twarc.iter_posts(path)} == {"760"}
