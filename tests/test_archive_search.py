"""archive.search: the query language and its two back ends (SQLite FTS5, PostgreSQL tsvector), the
index kept in step by the store, its migration; the same tests on both databases."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from archive import search
from archive.cli import main
from archive.records import ArchivedPost, PostFilter
from archive.search import PHRASE, TAG, WORD, SearchSyntaxError, Term, parse
from archive.store import count_posts, open_archive, query_flat, query_posts, upsert_posts

T0 = datetime(2015, 1, 27, 10, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def post(remote_id: str, text: str, *, days: int = 0, **fields) -> ArchivedPost:
    values = dict(platform="x", remote_id=remote_id, account="teamsaantstuur", created_at=T0 + timedelta(days=days),
                  text=text, language="nl", raw={"id_str": remote_id})
    values.update(fields)
    return ArchivedPost(**values)


def found(database, query: str, **filters) -> list[str]:
    """The ids a search finds, in the order a listing shows them (newest first unless ranked)."""
    return [p.remote_id for p in query_posts(database, PostFilter(search=query, newest_first=True, **filters))]


def found_set(database, query: str, **filters) -> set[str]:
    return set(found(database, query, **filters))


# -- the language --------------------------------------------------------------------------------

def test_parse_reads_words_phrases_tags_mentions_or_and_exclusions():
    query = parse('vergadering "teams aan het stuur" #Utrecht, @GemeenteUtrecht. a OR b zelfstu* -nee -#tag')
    assert query.groups == (
        (Term(WORD, "vergadering"),), (Term(PHRASE, "teams aan het stuur"),), (Term(TAG, "utrecht"),),
        (Term("mention", "gemeenteutrecht"),), (Term(WORD, "a"), Term(WORD, "b")),
        (Term(WORD, "zelfstu*", prefix=True),), (Term(WORD, "nee", exclude=True),),
        (Term(TAG, "tag", exclude=True),))
    assert parse("a AND b").groups == parse("a b").groups  # AND says what a space says
    assert parse("OR a").groups == ((Term(WORD, "OR"),), (Term(WORD, "a"),))  # not between two terms: a word
    assert parse('"unclosed phrase').groups == ((Term(PHRASE, "unclosed phrase"),),)


@pytest.mark.parametrize("text", ['"', "*", "-", "- * \"\" ()", "!!!", "🎉", "#", "@", "-#", "\x00"])
def test_a_query_with_nothing_to_search_for_is_refused_in_one_line(text):
    with pytest.raises(SearchSyntaxError, match="nothing to search for") as raised:
        PostFilter(search=text)  # refused where the filter is made, before any work
    assert "\n" not in str(raised.value)


def test_fts5_gets_every_term_as_a_quoted_string():
    assert search.fts5(search._main(parse('NEAR(a b) x:y "say ""hi"""  ^col * -z'))) == (
        '(("NEAR(a") AND ("b)") AND ("x:y") AND ("say ") AND ("hi") AND ("^col")) NOT (("z"))')
    assert search.fts5(Term(WORD, 'a"b', prefix=True)) == '"a""b"*'
    with pytest.raises(SearchSyntaxError, match="more than 50 terms"):
        parse(" ".join(["woord"] * 51))


def test_the_sql_leaves_the_planner_its_indexes():
    from sqlalchemy.dialects import sqlite

    def sql(text: str, **options) -> str:
        return " ".join(str(search.condition(parse(text), **options).compile(dialect=sqlite.dialect())).split())

    # The text index as a plain IN (not `(… IN …) = 1`, which SQLite cannot drive from the index).
    assert sql("woord") == ("(archive_posts.rowid IN (SELECT archive_search.rowid FROM archive_search "
                            "WHERE archive_search.archive_search MATCH ?))")
    assert "(archive_posts.platform, archive_posts.remote_id) IN (SELECT" in sql("#tag")
    assert "EXISTS (SELECT" in sql("#tag", per_post=True)
    # Exclusions post by post: `(a, b) NOT IN (SELECT …)` makes SQLite scan the subquery for every post.
    assert "NOT (EXISTS (SELECT" in sql("-#tag") and "NOT IN" not in sql("-#tag")


# -- both databases ---------------------------------------------------------------------------------

def test_diacritics_are_folded_both_ways(archive):
    upsert_posts(archive, [
        post("1", "Wij gaan discussiëren over ideeën"),
        post("2", "discussieren zonder accenten, ideeen ook"),
        post("3", "Een CAFÉ in België", language="en"),
        post("4", "the cafe in belgie", language="en"),
        post("5", "iets anders"),
    ], source="a", now=NOW)
    for query in ("discussieren", "discussiëren", "DISCUSSIËREN", "ideeen", "ideeën"):
        assert found_set(archive, query) == {"1", "2"}, query
    for query in ("café", "cafe", "Belgie", "belgië"):
        assert found_set(archive, query) == {"3", "4"}, query
    assert found_set(archive, '"discussiëren over ideeen"') == {"1"}


def test_phrases_need_the_words_together_and_in_order(archive):
    upsert_posts(archive, [
        post("1", "Nog even en dan gaat de Public Paper 'Teams aan het stuur!' online."),
        post("2", "Het stuur gaat aan de teams"),
        post("3", "Public papers and teams", language="en"),
    ], source="a", now=NOW)
    assert found_set(archive, '"teams aan het stuur"') == {"1"}
    assert found_set(archive, "teams stuur") == {"1", "2"}
    assert found_set(archive, '"public paper"') == {"1"}
    assert found_set(archive, '"paper public"') == set()


def test_tags_and_mentions_match_their_normalised_forms(archive):
    upsert_posts(archive, [
        post("1", "Praat mee over #ZelfstandigeTeams", hashtags=("ZelfstandigeTeams",)),
        post("2", "zelfstandigeteams als woord, geen tag"),
        post("3", "@GemeenteUtrecht via #Verander2015", mentions=("GemeenteUtrecht",), hashtags=("Verander2015",)),
        post("4", "Weer een #Reünie", hashtags=("Reünie",)),
        post("5", "toot @team@social.example", platform="mastodon", account="anna@social.example",
             mentions=("team@social.example",)),
    ], source="a", now=NOW)
    assert found(archive, "#zelfstandigeteams") == ["1"]
    assert found(archive, "#ZELFSTANDIGETEAMS,") == ["1"]
    assert found_set(archive, "zelfstandigeteams") == {"1", "2"}  # the word is in both texts
    assert found(archive, "@gemeenteutrecht") == ["3"]
    assert found(archive, "@GemeenteUtrecht:") == ["3"]
    assert found(archive, "#verander*") == ["3"]
    assert found(archive, "#reünie") == ["4"]
    assert found(archive, "#reunie") == []  # tags keep their diacritics, as stored
    assert found(archive, "@team@social.example") == ["5"]
    assert found(archive, "@team*") == ["5"]
    assert found(archive, "#100%_") == []  # LIKE's wildcards are plain characters


def test_or_and_exclusion(archive):
    upsert_posts(archive, [
        post("1", "vertrouwen in teams", days=1, hashtags=("utrecht",)),
        post("2", "ruimte voor teams", days=2),
        post("3", "vertrouwen en ruimte", days=3, mentions=("deboerleo",)),
        post("4", "iets anders", days=4, hashtags=("utrecht",)),
    ], source="a", now=NOW)
    assert found_set(archive, "vertrouwen OR ruimte") == {"1", "2", "3"}
    assert found_set(archive, "teams vertrouwen OR ruimte") == {"1", "2"}  # teams AND (vertrouwen OR ruimte)
    assert found_set(archive, "teams -vertrouwen") == {"2"}
    assert found_set(archive, 'teams -"ruimte voor"') == {"1"}
    assert found_set(archive, "-teams") == {"3", "4"}  # exclusions only
    assert found_set(archive, "-teams -ruimte") == {"4"}
    assert found_set(archive, "vertrouwen -#utrecht") == {"3"}
    assert found_set(archive, "vertrouwen -@deboerleo") == {"1"}
    assert found_set(archive, "ruimte OR #utrecht") == {"1", "2", "3", "4"}
    assert found_set(archive, "anders OR -teams") == {"3", "4"}
    assert found_set(archive, "#utrecht -anders") == {"1"}
    assert found_set(archive, "vertrouwen AND teams") == {"1"}


def test_a_trailing_star_matches_words_that_start_so(archive):
    upsert_posts(archive, [
        post("1", "Zelfsturing en vertrouwen"),
        post("2", "zelfstandige teams"),
        post("3", "zelf doen", language="en"),
        post("4", "Nog even en dan gaat de Public Paper online"),
    ], source="a", now=NOW)
    assert found_set(archive, "zelfst*") == {"1", "2"}
    assert found_set(archive, "zelf*") == {"1", "2", "3"}
    assert found_set(archive, "zelfst") == set()
    assert found_set(archive, "vertrouw*") == {"1"}
    assert found_set(archive, '"public pap"*') == {"4"}


@pytest.mark.parametrize("query", ['NEAR(', 'NEAR(a b)', 'a:b', 'text:zaak', '^zaak', '"zaak" OR', "zaak*)",
                                   "zaak'); DROP TABLE archive_posts; --", '{text}: zaak', "zaak -", "zaak AND",
                                   "a\x00zaak", "-- zaak", "''zaak''", "zaak \udcff", "zaak OR #a\ud7ff*",
                                   "zaak OR @%_*"])
def test_hostile_and_odd_input_is_text(archive, query):
    upsert_posts(archive, [post("1", "Een zaak van ons allen: NEAR de a b, text en col"),
                           post("2", "niets hier")], source="a", now=NOW)
    ids = found(archive, query)
    assert "2" not in ids
    assert count_posts(archive) == 2  # and the table is still there


def test_ranked_best_match_first_unless_no_words_or_asked_by_time(archive):
    upsert_posts(archive, [
        post("1", "vertrouwen", days=1),
        post("2", "Een lange tekst waarin het woord vertrouwen maar een keer staat tussen veel andere woorden "
                  "die er niets mee te maken hebben en nog meer woorden", days=3, hashtags=("utrecht",)),
        post("3", "vertrouwen vertrouwen vertrouwen in teams", days=2, hashtags=("utrecht",)),
        post("4", "niets", days=4, hashtags=("utrecht",)),
    ], source="a", now=NOW)
    ranked = found(archive, "vertrouwen")
    assert ranked[-1] == "2" and set(ranked) == {"1", "2", "3"}
    # Export's order (oldest first) is ranked too; the order among equals is by time.
    assert [p.remote_id for p in query_flat(archive, PostFilter(search="vertrouwen"))] == ranked
    assert found(archive, "vertrouwen", ranked=False) == ["2", "3", "1"]
    assert found(archive, "#utrecht") == ["4", "2", "3"]  # nothing to rank by: newest first
    assert found(archive, "vertrouwen", limit=1) == ranked[:1]
    assert count_posts(archive, PostFilter(search="vertrouwen")) == 3


def test_common_tags_are_checked_post_by_post_and_find_the_same_posts(archive):
    posts = [post(str(n), f"bericht {n}", days=n, hashtags=("veel",) + (("weinig",) if n % 50 == 0 else ()))
             for n in range(1, 201)]
    upsert_posts(archive, posts, source="a", now=NOW)
    with archive.transaction() as connection:
        assert search.per_post_is_faster(parse("#veel"), connection) is archive.is_sqlite
        assert search.per_post_is_faster(parse("#veel #weinig"), connection) is False  # the rare one leads
        assert search.per_post_is_faster(parse("#veel OR x"), connection) is False
    assert found(archive, "#veel", limit=3) == ["200", "199", "198"]
    assert found(archive, "#veel #weinig") == ["200", "150", "100", "50"]
    assert found(archive, "#veel -#weinig", limit=2) == ["199", "198"]
    assert count_posts(archive, PostFilter(search="#veel")) == 200


def test_search_combines_with_the_other_filters(archive):
    upsert_posts(archive, [
        post("1", "vertrouwen", days=1),
        post("2", "vertrouwen", days=2, account="ander"),
        post("3", "vertrouwen", days=3, deleted_at=T0 + timedelta(days=5)),
        post("4", "vertrouwen", days=4, kind="reply"),
    ], source="a", now=NOW)
    assert found_set(archive, "vertrouwen", accounts=("teamsaantstuur",)) == {"1", "4"}
    assert found_set(archive, "vertrouwen", kinds=("post",), since=T0 + timedelta(days=2)) == {"2"}
    assert found_set(archive, "vertrouwen", include_deleted=True) == {"1", "2", "3", "4"}


def test_the_index_is_kept_in_step_on_import_merge_and_edit(archive):
    upsert_posts(archive, [post("1", "eerste versie over vertrouwen"), post("2", "ander bericht")], source="a", now=NOW)
    assert found(archive, "vertrouwen") == ["1"]
    upsert_posts(archive, [post("1", "eerste versie over vertrouwen")], source="a", now=NOW)  # again: unchanged
    upsert_posts(archive, [post("1", "eerste versie over vertrouwen", metrics={"likes": 3})], source="b", now=NOW)
    assert found(archive, "vertrouwen") == ["1"]
    # An edit of the text, from another source: the old words are gone from the index, the new ones in it.
    upsert_posts(archive, [post("1", "tweede versie over ruimte", edit_history=("0",))], source="c", now=NOW)
    assert found(archive, "vertrouwen") == [] and found(archive, "ruimte") == ["1"]
    assert found(archive, '"tweede versie"') == ["1"] and found(archive, "eerste") == []
    # Several versions of one post in one batch (twarc files repeat tweets): the last text wins.
    upsert_posts(archive, [post("3", "een"), post("3", "twee")], source="a", now=NOW)
    assert found(archive, "twee") == ["3"] and found(archive, "een") == []
    _check_index(archive)


def test_a_deleted_row_leaves_the_index(archive):
    from archive import tables

    upsert_posts(archive, [post("1", "weg ermee"), post("2", "blijft")], source="a", now=NOW)
    with archive.transaction(write=True) as connection:
        connection.execute(tables.posts.delete().where(tables.posts.c.remote_id == "1"))
    upsert_posts(archive, [post("3", "nieuw")], source="a", now=NOW)  # SQLite may give it the freed rowid
    assert found(archive, "weg") == [] and found(archive, "nieuw") == ["3"]
    _check_index(archive)


def _check_index(database) -> None:
    """SQLite: FTS5's own check of the index against archive_posts (it raises when they differ)."""
    if database.is_sqlite:
        with database.transaction(write=True) as connection:
            connection.exec_driver_sql("INSERT INTO archive_search(archive_search, rank) VALUES ('integrity-check', 1)")


def test_migration_indexes_the_posts_an_older_archive_holds(database_url):
    from archive.store import _upgrade
    from campaign.queue.db import Database

    from sqlalchemy import text

    database = Database(database_url)
    _upgrade(database, "a0002")
    # Rows as that version stored them (today's store writes columns it did not have yet).
    with database.transaction(write=True) as connection:
        for remote_id, words, language in (("1", "Wij gaan discussiëren", "nl"), ("2", "vertrouwen", "en")):
            connection.execute(text(
                "INSERT INTO archive_posts (platform, remote_id, account, created_at, text, kind, language, metrics, "
                "entities, edit_history, raw, sources, first_seen_at, last_seen_at) VALUES ('x', :id, "
                "'teamsaantstuur', :at, :text, 'post', :language, '{}', "
                "'{\"hashtags\":[],\"mentions\":[],\"links\":[],\"media\":[]}', '[]', '{}', '{}', :at, :at)"),
                {"id": remote_id, "at": NOW, "text": words, "language": language})
    database.engine.dispose()
    archive = open_archive(database_url)  # migrates to the head
    try:
        assert found(archive, "discussieren") == ["1"] and found(archive, "vertrouwen") == ["2"]
        upsert_posts(archive, [post("3", "nog meer vertrouwen")], source="a", now=NOW)
        assert found_set(archive, "vertrouwen") == {"2", "3"}
        _check_index(archive)
    finally:
        archive.engine.dispose()


def test_the_search_objects_made_in_one_step_equal_the_migrations(database_url, tmp_path):
    """test_schema compares tables, columns and indexes; triggers and the FTS5 table's own SQL here."""
    from sqlalchemy import create_engine, text

    from archive.store import _upgrade, migrate
    from campaign.queue.db import Database

    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's generated column is compared by test_schema")
    other = f"sqlite:///{tmp_path / 'other.db'}"
    for url, make in ((database_url, migrate), (other, _upgrade)):
        database = Database(url)
        make(database)
        database.engine.dispose()
    objects = []
    for url in (database_url, other):
        engine = create_engine(url)
        with engine.connect() as connection:
            objects.append(connection.execute(text(
                "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'archive_search%' ORDER BY name")).all())
        engine.dispose()
    assert objects[0] == objects[1]
    assert {row[1] for row in objects[0]} >= {"archive_search", "archive_search_insert", "archive_search_update",
                                              "archive_search_delete"}


def test_vacuum_keeps_the_index_right(tmp_path):
    """The FTS5 table is keyed by archive_posts' rowid; VACUUM keeps the rowids of a table with indexes."""
    import sqlite3

    from archive import tables

    archive = open_archive(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        upsert_posts(archive, [post(str(n), f"bericht {n} woord{n}") for n in range(1, 50)], source="a", now=NOW)
        with archive.transaction(write=True) as connection:
            connection.execute(tables.posts.delete().where(tables.posts.c.remote_id.in_(["3", "10", "11", "12"])))
        vacuum = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
        vacuum.execute("VACUUM")
        vacuum.close()
        assert found(archive, "woord20") == ["20"] and found(archive, "woord10") == []
        _check_index(archive)
    finally:
        archive.engine.dispose()


# -- the commands ------------------------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], env={"CAMPAIGN_DATABASE_URL": None})


@pytest.mark.parametrize("command", [["show"], ["render", "--html", "-"], ["export"], ["stats"]])
def test_the_commands_refuse_a_query_of_punctuation_with_exit_status_2(tmp_path, command):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    archive = open_archive(url)
    upsert_posts(archive, [post("1", "vertrouwen")], source="a", now=NOW)
    archive.engine.dispose()
    result = run(*command, "--search", '"*"', "--db", url)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1].startswith("archive: search: nothing to search for")
    assert run(*command, "--search", "vertrouwen", "--db", url).exit_code == 0


def test_show_lists_the_best_match_first(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    archive = open_archive(url)
    upsert_posts(archive, [post("1", "vertrouwen vertrouwen in teams", days=1),
                           post("2", "Een lange tekst over heel veel dingen waarin vertrouwen ook een keer staat",
                                days=2)], source="a", now=NOW)
    archive.engine.dispose()
    result = run("show", "--search", "vertrouwen", "--db", url, "--now", "2026-01-01")
    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in result.output.splitlines()] == ["vertrouwen", "Een"]


def test_a_post_filter_with_a_search_is_still_a_value():
    assert replace(PostFilter(search="a"), search="b").search == "b"
