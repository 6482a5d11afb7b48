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


# Metrics as sources give them, and the integer columns they make (archive.store.rows.metric_count):
# whole numbers from 0 to 2,147,483,647, as integers or strings of digits; NULL for anything else.
HOSTILE_METRICS = [
    ({"likes": 3, "reposts": 0, "replies": "12", "quotes": "0007"}, (3, 0, 12, 7)),
    ({"likes": True, "reposts": False, "replies": None, "quotes": 2.0}, (None, None, None, None)),
    ({"likes": -1, "reposts": "-1", "replies": "1e3", "quotes": " 4"}, (None, None, None, None)),
    ({"likes": 2_147_483_647, "reposts": 2_147_483_648, "replies": "2147483648", "quotes": "00000000001"},
     (2_147_483_647, None, None, None)),
    ({"likes": 10 ** 30, "reposts": [1], "replies": {"n": 1}, "quotes": "veel", "views": 900}, (None,) * 4),
    ({"views": 5, "bookmarks": 1}, (None,) * 4),
    ({"likes": "٣", "reposts": "", "replies": 1.5}, (None,) * 4),  # an Arabic-Indic digit is no ASCII digit
]


def metric_columns(database) -> dict[str, tuple]:
    names = ", ".join(tables.METRIC_COLUMNS.values())
    with database.transaction() as connection:
        return {remote_id: tuple(values) for remote_id, *values in connection.exec_driver_sql(
            f"SELECT remote_id, {names} FROM archive_posts")}


def test_metric_columns_follow_the_metrics_on_insert_and_merge(archive):
    upsert_posts(archive, [post(str(n), metrics=metrics) for n, (metrics, _) in enumerate(HOSTILE_METRICS)] +
                 [post("r", kind="repost", metrics={"likes": 50})], source="x-archive", now=NOW)
    assert metric_columns(archive) == {**{str(n): counts for n, (_, counts) in enumerate(HOSTILE_METRICS)},
                                       "r": (50, None, None, None)}  # a repost's metrics are kept (not counted)
    # A later source with new metrics: merged key by key, the columns follow.
    upsert_posts(archive, [post("0", metrics={"likes": 9, "quotes": "x"}), post("5", metrics={"replies": 4}),
                           post("1", metrics={"likes": 6})], source="twarc", now=NOW + timedelta(hours=1))
    columns = metric_columns(archive)
    assert columns["0"] == (9, 0, 12, None) and get_post(archive, "x", "0").metrics["quotes"] == "x"
    assert columns["5"] == (None, None, 4, None) and columns["1"] == (6, None, None, None)
    # Twice in one call (merged before it is stored), and an edit chain folded into its latest version.
    upsert_posts(archive, [post("d", metrics={"likes": 1}), post("d", metrics={"reposts": 2}),
                           post("e1", metrics={"likes": 4}), post("e2", metrics={"likes": 5}, edit_history=("e1",))],
                 source="twarc", now=NOW)
    columns = metric_columns(archive)
    assert columns["d"] == (1, 2, None, None) and columns["e2"] == (5, None, None, None) and "e1" not in columns


def test_migration_a0008_fills_the_metric_columns_of_older_archives(database_url):
    from archive.store import _upgrade
    from archive.store.rows import dumps, metric_counts
    from campaign.queue.db import Database

    database = Database(database_url)
    database.migrate()
    _upgrade(database, "a0007")
    with database.transaction(write=True) as connection:  # rows as the store wrote them before a0008
        marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(
            "INSERT INTO archive_posts (platform, remote_id, account, created_at, text, kind, metrics, entities, "
            "edit_history, raw, sources, first_seen_at, last_seen_at) VALUES "
            f"('x', {marker}, 'teamsaantstuur', '2015-01-27 10:00:00.000000', 'post', {marker}, {marker}, "
            "'{\"hashtags\":[],\"mentions\":[],\"links\":[],\"media\":[]}', '[]', '{}', '{}', "
            "'2026-11-27 12:00:00.000000', '2026-11-27 12:00:00.000000')",
            [(str(n), "repost" if n == 0 else "post", dumps(metrics))
             for n, (metrics, _) in enumerate(HOSTILE_METRICS + [({}, (None,) * 4)])])
    database.engine.dispose()
    archive = open_archive(database_url)  # brings it to the head revision
    try:
        columns = metric_columns(archive)
        for n, (metrics, counts) in enumerate(HOSTILE_METRICS):
            assert columns[str(n)] == counts == metric_counts(metrics), metrics  # SQL's rule is the store's
        assert columns[str(len(HOSTILE_METRICS))] == (None,) * 4
        from archive.stats import compute

        totals = compute(archive).totals  # post 0 is a repost: its metrics are not counted
        assert (totals.likes, totals.reposts, totals.replies, totals.quotes) == (2_147_483_647, 0, 0, 0)
        if archive.is_sqlite:  # the stats' covering indexes hold the columns, not the metrics JSON
            with archive.transaction() as connection:
                sql = " ".join(sql for (sql,) in connection.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name IN ('ix_archive_posts_stats', "
                    "'ix_archive_posts_lower_account_created_at')"))
            assert sql.count("quote_count") == 2 and "metrics" not in sql
    finally:
        archive.engine.dispose()


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


def test_every_value_comes_back_as_it_was_written(archive):
    """What the bulk path writes (COPY in binary form on PostgreSQL) reads back unchanged: text with
    the characters a text-format COPY escapes, times to the microsecond, flags, counts, nothing."""
    text = "tab\there, a line\nbreak, back\\slash, \\N, \\.\r, café 🎉"
    record = post("1", created_at=datetime(2015, 1, 27, 10, 0, 0, 123456, tzinfo=timezone.utc), text=text,
                  kind="reply", url=None, language="nl", reply_to_id="0", reply_to_account="deboerleo",
                  metrics={"likes": 2_147_483_647, "reposts": 0}, hashtags=("Tab\tTag",), mentions=("a\\b",),
                  links=(Link("https://t.co/a", "https://example.org/\\N", None),),
                  deleted_at=datetime(2024, 1, 1, 10, 0, 0, 999999, tzinfo=timezone.utc), referenced=True,
                  raw={"full_text": text})
    upsert_posts(archive, [record], source="x-archive", now=NOW + timedelta(microseconds=1))
    assert get_post(archive, "x", "1") == record
    assert post_times(archive, "x", "1") == (NOW + timedelta(microseconds=1),) * 2
    for name, value in {"search": "cafe", "hashtag": "tab\ttag"}.items():  # the search column, the child rows
        assert [p.remote_id for p in all_posts(archive, include_deleted=True, include_referenced=True,
                                               **{name: value})] == ["1"], name
