"""archive.store: idempotent upserts, merges across sources, filters, the campaign link, fetch state,
over SQLite and PostgreSQL."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from archive.search import SearchSyntaxError
from sqlalchemy import func, insert, select

from archive import tables
from archive.errors import ImportFormatError
from archive.records import ArchivedPost, Link, PostFilter
from archive.store import (HEAD_REVISION, count_posts, get_fetch_state, get_post, open_archive, post_times,
                           query_posts, set_fetch_state, upsert_posts)
from campaign.queue import tables as campaign_tables

T0 = datetime(2015, 1, 27, 10, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def post(remote_id: str, *, days: int = 0, **fields) -> ArchivedPost:
    values = dict(platform="x", remote_id=remote_id, account="teamsaantstuur", created_at=T0 + timedelta(days=days),
                  text=f"post {remote_id}", raw={"id_str": remote_id})
    values.update(fields)
    return ArchivedPost(**values)


def all_posts(database, **filters):
    return list(query_posts(database, PostFilter(**filters)))


def test_open_archive_is_idempotent_and_keeps_its_own_version_table(database_url):
    first = open_archive(database_url)
    second = open_archive(database_url)
    with second.transaction() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM archive_alembic_version").scalar() == HEAD_REVISION
        assert connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
    first.engine.dispose()
    second.engine.dispose()


def test_an_archive_of_the_first_version_gets_the_account_index(database_url):
    from archive.store import _upgrade
    from campaign.queue.db import Database

    database = Database(database_url)
    database.migrate()  # the queue's tables
    _upgrade(database, "a0001")
    with database.transaction(write=True) as connection:  # rows of that version (today's writer has more columns)
        for remote_id, account in (("1", "TeamsAanTStuur"), ("2", "ander")):
            connection.exec_driver_sql(
                "INSERT INTO archive_posts (platform, remote_id, account, created_at, text, kind, metrics, entities, "
                "edit_history, raw, sources, first_seen_at, last_seen_at) VALUES ('x', '" + remote_id + "', '"
                + account + "', '2015-01-27 10:00:00.000000', 'post', 'post', '{}', "
                "'{\"hashtags\":[],\"mentions\":[],\"links\":[],\"media\":[]}', '[]', '{}', '{}', "
                "'2026-11-27 12:00:00.000000', '2026-11-27 12:00:00.000000')")
    database.engine.dispose()
    archive = open_archive(database_url)
    with archive.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM archive_alembic_version").scalar() == HEAD_REVISION
        indexes = {name for (name,) in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'archive_posts'" if archive.is_sqlite
            else "SELECT indexname FROM pg_indexes WHERE tablename = 'archive_posts' AND schemaname = current_schema()")}
    assert "ix_archive_posts_lower_account_created_at" in indexes
    assert "ix_archive_posts_account_created_at" not in indexes
    assert [p.remote_id for p in all_posts(archive, accounts=("teamsaantstuur",))] == ["1"]
    if archive.is_sqlite:  # the account filter is served by the index, not by reading every post
        from archive.store import _sent, _where

        statement = (select(tables.posts.c.remote_id).where(_where(PostFilter(accounts=("teamsaantstuur",)), _sent()))
                     .order_by(tables.posts.c.created_at))
        with archive.engine.connect() as connection:
            sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
            plan = " ".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        assert "INDEX ix_archive_posts_lower_account_created_at" in plan  # (on SQLite a covering one)
    archive.engine.dispose()


def test_upsert_is_idempotent_and_keeps_first_seen(archive):
    records = [post("1"), post("2", days=1, hashtags=("Zelfstandigeteams",), mentions=("GemeenteUtrecht",),
                                 links=(Link("https://t.co/a", "https://publicpapersutrecht.nl", "publicpapersutrecht.nl"),))]
    assert upsert_posts(archive, records, source="x-archive", now=NOW).new == 2
    later = NOW + timedelta(days=1)
    summary = upsert_posts(archive, records, source="x-archive", now=later)
    assert (summary.new, summary.updated, summary.unchanged) == (0, 0, 2)
    assert post_times(archive, "x", "2") == (NOW, later)
    stored = get_post(archive, "x", "2")
    assert stored == replace(records[1], raw={"id_str": "2"})
    with archive.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(tables.hashtags)).scalar() == 1


def test_merge_across_sources_refreshes_metrics_and_keeps_both_raws(archive):
    upsert_posts(archive, [post("1", metrics={"likes": 1, "reposts": 0})], source="x-archive", now=NOW)
    newer = post("1", metrics={"likes": 5, "replies": 2}, conversation_id="1", kind="quote", quoted_id="9",
                 raw={"id": "1", "text": "post 1"}, hashtags=("nieuw",))
    summary = upsert_posts(archive, [newer], source="twarc", now=NOW + timedelta(hours=1))
    assert summary.updated == 1
    merged = get_post(archive, "x", "1")
    assert merged.metrics == {"likes": 5, "reposts": 0, "replies": 2}
    assert (merged.kind, merged.quoted_id, merged.conversation_id) == ("quote", "9", "1")
    assert merged.raw == {"x-archive": {"id_str": "1"}, "twarc": {"id": "1", "text": "post 1"}}
    assert all_posts(archive, hashtag="NIEUW")[0].remote_id == "1"
    # A source that says less (no kind, no metrics) never erases what is known.
    upsert_posts(archive, [post("1")], source="own-jsonl", now=NOW)
    assert get_post(archive, "x", "1").metrics["likes"] == 5
    assert get_post(archive, "x", "1").kind == "quote"


def test_deletion_and_edit_history_survive_later_imports(archive):
    upsert_posts(archive, [post("1", edit_history=("0",))], source="a", now=NOW)
    upsert_posts(archive, [post("1", deleted_at=T0 + timedelta(days=3))], source="b", now=NOW)
    upsert_posts(archive, [post("1", edit_history=("0", "00"))], source="a", now=NOW)
    stored = get_post(archive, "x", "1")
    assert stored.deleted_at == T0 + timedelta(days=3)
    assert stored.edit_history == ("0", "00")
    assert all_posts(archive) == []
    assert [p.remote_id for p in all_posts(archive, include_deleted=True)] == ["1"]


def test_duplicates_within_one_call_are_merged(archive):
    first = post("1", hashtags=("Oud",), raw={"id_str": "1", "v": 1})
    later = post("1", metrics={"likes": 2}, hashtags=("Nieuw",), raw={"id_str": "1", "v": 2})
    summary = upsert_posts(archive, [first, post("2"), later], source="a", now=NOW)
    assert (summary.new, summary.updated, summary.unchanged) == (2, 0, 0)
    stored = get_post(archive, "x", "1")
    assert (stored.metrics, stored.hashtags, stored.raw) == ({"likes": 2}, ("Nieuw",), {"id_str": "1", "v": 2})
    assert [p.remote_id for p in all_posts(archive, hashtag="nieuw")] == ["1"]
    assert all_posts(archive, hashtag="oud") == []
    again = upsert_posts(archive, [first, post("2"), later], source="a", now=NOW)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)


def test_an_error_in_the_records_rolls_the_whole_call_back(archive):
    def records():
        for number in range(1, 2500):
            if number == 2100:
                raise ImportFormatError("tweets.js", "truncated", record=number)
            yield post(str(number))

    with pytest.raises(ImportFormatError, match="tweets.js: record 2100: truncated"):
        upsert_posts(archive, records(), source="a", now=NOW)
    assert count_posts(archive) == 0


def test_filters(archive):
    upsert_posts(archive, [
        post("1", days=0, text="Praat mee over #Zelfstandigeteams", hashtags=("Zelfstandigeteams",)),
        post("2", days=10, kind="reply", reply_to_id="1", text="@deboerleo Hallo leo"),
        post("3", days=20, kind="repost", text="RT @GemeenteUtrecht: iets"),
        post("4", days=30, account="Other", text="andere ZAAK"),
        post("5", days=40, platform="mastodon", account="team@social.example", text="toot"),
    ], source="a", now=NOW)
    ids = lambda **f: [p.remote_id for p in all_posts(archive, **f)]  # noqa: E731
    assert ids() == ["1", "2", "3", "4", "5"]
    assert ids(newest_first=True, limit=2) == ["5", "4"]
    assert ids(accounts=("@TeamsAanTStuur",)) == ["1", "2", "3"]
    assert ids(platform="mastodon") == ["5"]
    assert ids(since=T0 + timedelta(days=10), until=T0 + timedelta(days=30)) == ["2", "3"]
    assert ids(hashtag="#zelfstandigeteams") == ["1"]
    assert ids(kinds=("reply", "repost")) == ["2", "3"]
    assert ids(search="zaak") == ["4"]
    with pytest.raises(SearchSyntaxError):
        ids(search="%")  # nothing to search for: said, not an empty answer
    assert count_posts(archive, PostFilter(kinds=("post",))) == 3


def _sent(archive, *, remote_id: str, platform: str = "x", account: str = "tas_x"):
    with archive.transaction(write=True) as connection:
        connection.execute(insert(campaign_tables.accounts).values(
            name=account, platform=platform, handle="@teamsaantstuur", updated_at=NOW))
        connection.execute(insert(campaign_tables.campaigns).values(
            id="tas", name="Teams aan het stuur!", timezone="Europe/Amsterdam", updated_at=NOW))
        post_id = connection.execute(insert(campaign_tables.scheduled_posts).values(
            key="tas/aankondiging/tas_x", source="file", campaign_id="tas", post_id="aankondiging", account=account,
            due_at=T0, local_time="2015-01-27T11:00+01:00", timezone="Europe/Amsterdam", late_seconds=3600,
            variant=0, payload={}, content_hash="0" * 64, state="sent", attempts=1, remote_id=remote_id,
            sent_at=T0, created_at=T0, updated_at=T0)).inserted_primary_key[0]
        connection.execute(insert(campaign_tables.sent_parts).values(
            post_id=post_id, part_index=0, account=account, remote_id=remote_id, sent_at=T0))


def test_posts_the_campaign_sent_are_linked_at_query_time(archive):
    upsert_posts(archive, [post("1"), post("2", days=1)], source="a", now=NOW)
    _sent(archive, remote_id="2")  # sent (recorded by the queue) after the import: linked all the same
    linked = {p.remote_id: (p.campaign_id, p.occurrence_key) for p in all_posts(archive)}
    assert linked == {"1": (None, None), "2": ("tas", "tas/aankondiging/tas_x")}
    assert [p.remote_id for p in all_posts(archive, campaign="tas")] == ["2"]
    assert get_post(archive, "x", "2").campaign_id == "tas"


def test_fetch_state_round_trip(archive):
    assert get_fetch_state(archive, "x", "teamsaantstuur") is None
    set_fetch_state(archive, "x", "teamsaantstuur", {"newest_id": "10", "cursor": None}, NOW)
    set_fetch_state(archive, "x", "teamsaantstuur", {"newest_id": "12", "cursor": "abc"}, NOW + timedelta(1))
    assert get_fetch_state(archive, "x", "teamsaantstuur") == {"newest_id": "12", "cursor": "abc",
                                                               "updated_at": NOW + timedelta(1)}
    assert get_fetch_state(archive, "mastodon", "teamsaantstuur") is None


def test_query_streams_in_batches(archive):
    upsert_posts(archive, (post(str(n), days=n % 50) for n in range(3000)), source="a", now=NOW)
    stream = query_posts(archive, PostFilter(newest_first=True), batch=100)
    first = next(stream)
    assert first.created_at == T0 + timedelta(days=49)
    stream.close()
    assert sum(1 for _ in query_posts(archive, PostFilter(), batch=100)) == 3000


def test_a_new_archive_looks_posts_up_by_id_however_large_it_grows(archive):
    """On PostgreSQL a new table has no statistics, and the planner then found each batch's known
    posts by reading every post of the platform: an import slowed down as it grew (100 s for
    100,000 tweets, 8 s now). The store gives the planner statistics with the first batch."""
    upsert_posts(archive, [post(str(n)) for n in range(2500)], source="a", now=NOW)
    with archive.transaction() as connection:
        if archive.is_sqlite:
            plan = " ".join(row[-1] for row in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT sources FROM archive_posts WHERE platform = ? AND remote_id IN (?, ?)",
                ("x", "1", "2")))
            assert "USING INDEX sqlite_autoindex_archive_posts_1 (platform=? AND remote_id=?)" in plan
        else:
            statistics = dict(connection.exec_driver_sql(
                "SELECT attname, n_distinct FROM pg_stats WHERE tablename = 'archive_posts' "
                "AND schemaname = current_schema()").all())
            assert statistics["platform"] == 1 and statistics["remote_id"] == -1  # one platform, unique ids
