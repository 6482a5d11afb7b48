"""The archive's tables (SQLAlchemy Core), in the queue's database but with their own
metadata and their own Alembic chain (version table `archive_alembic_version`).

One row per post, keyed by (platform, remote_id). Hashtags, mentions and links are also
kept in small normalised tables for filters and statistics; the post row carries them
as JSON too, so reading a post back needs no join.
"""
from __future__ import annotations

from sqlalchemy import (DDL, JSON, BigInteger, Boolean, CheckConstraint, Column, ForeignKeyConstraint, Index, Integer, MetaData,
                        String, Table, Text, column, event, func, literal_column, table, text)

from campaign.queue.tables import UTCDateTime

metadata = MetaData()
# The engagement metrics (keys of a post's metrics JSON) kept in columns of their own, and those columns.
METRIC_COLUMNS = {"likes": "like_count", "reposts": "repost_count", "replies": "reply_count", "quotes": "quote_count"}

posts = Table(
    "archive_posts", metadata,
    Column("platform", String(20), primary_key=True),
    Column("remote_id", String(300), primary_key=True),
    Column("account", String(300), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("url", String(1000)),
    Column("language", String(35)),
    Column("reply_to_id", String(300)),
    Column("reply_to_account", String(300)),
    Column("conversation_id", String(300)),
    Column("quoted_id", String(300)),
    Column("quoted_url", String(1000)),  # the quoted post's permalink
    Column("reposted_id", String(1000)),
    Column("source_app", String(300)),
    # Who could see it (archive.records.VISIBILITIES): show, render and export filter on it.
    Column("visibility", String(20), nullable=False, server_default="public"),
    # JSON as text, serialised by archive.store itself (once per row, also hashed for idempotence):
    Column("metrics", Text, nullable=False),  # {"likes": 3, …}
    # Its "likes", "reposts", "replies" and "quotes" as integers (archive.store.rows.metric_count: NULL
    # when absent or not a whole number), which archive stats sums without parsing the JSON (a0008).
    *[Column(name, Integer) for name in METRIC_COLUMNS.values()],
    # {"hashtags": [...], "mentions": [...], "links": [[url, expanded, display]], "media": [...]}, and
    # when there is one "warning": the content warning, "reposted": [the reposted post's author, URL]
    # (kept here, not in columns of their own: few posts have them, and every column costs every import).
    Column("entities", Text, nullable=False),
    Column("edit_history", Text, nullable=False),  # remote ids of earlier versions, oldest first
    # An edited post is one row, its latest version; the earlier ones (JSON: [{"id", "created_at",
    # "text", "links"}], oldest first) are kept here, NULL when there are none. edit_chain is the
    # chain's first id (NULL for a post never edited), how a version arriving later finds its post.
    Column("versions", Text),
    Column("edit_chain", String(300)),
    # True: stored only because a timeline post refers to it (twarc2 includes.tweets); NULL otherwise.
    Column("referenced", Boolean),
    Column("raw", Text, nullable=False),  # {source: the source's JSON}
    Column("sources", Text, nullable=False),  # {source: hash of what that source last said}
    Column("deleted_at", UTCDateTime()),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    CheckConstraint("kind IN ('post','reply','repost','quote')", name="ck_archive_posts_kind"),
    Index("ix_archive_posts_created_at", "created_at"),
)


def _partial_index(name: str, columns: list[str], where: str) -> None:
    """A partial index of archive_posts. On PostgreSQL made by DDL after the table: an Index's
    postgresql_where would import SQLAlchemy's PostgreSQL dialect into every command on SQLite (a
    tenth of what `archive` imports before it can start)."""
    Index(name, *[posts.c[c] for c in columns], sqlite_where=text(where)).ddl_if(dialect="sqlite")
    event.listen(posts, "after_create", DDL(f"CREATE INDEX {name} ON {posts.name} ({', '.join(columns)}) "
                                            f"WHERE {where}").execute_if(dialect="postgresql"))


# Only edited posts have an edit_chain: a partial index stays as small as they are few.
_partial_index("ix_archive_posts_edit_chain", ["platform", "edit_chain"], "edit_chain IS NOT NULL")
# The account filter compares lower(account) (handles are case-insensitive): an index on that expression.
# On SQLite it also holds every column archive stats reads of a post, as ix_archive_posts_stats does: one
# account's stats then read no table row (a third of their time on 1,000,000 posts). PostgreSQL keeps
# it narrow (its b-tree entries may not exceed 2.7 kB; it aggregates in parallel scans).
Index("ix_archive_posts_lower_account_created_at", func.lower(posts.c.account), posts.c.created_at
      ).ddl_if(dialect="postgresql")
# archive stats (SQLite) reads every post of a range: this index holds all it reads of them, so no
# table row is read (a post's raw JSON makes rows large). Only there: PostgreSQL aggregates in
# parallel scans. Made by a0004, given referenced and visibility by a0006, which add those columns,
# and the engagement counts instead of the metrics JSON by a0008.
STATS_COLUMNS = [posts.c[name] for name in ("created_at", "deleted_at", "referenced", "visibility", "kind", "platform",
                                            "account", "remote_id", *METRIC_COLUMNS.values())]
Index("ix_archive_posts_lower_account_created_at", func.lower(posts.c.account), *STATS_COLUMNS
      ).ddl_if(dialect="sqlite")
Index("ix_archive_posts_stats", *STATS_COLUMNS).ddl_if(dialect="sqlite")
# The few deleted posts, found without reading every post.
_partial_index("ix_archive_posts_deleted_at", ["deleted_at"], "deleted_at IS NOT NULL")


def _child(name: str, *columns, index: str | None = None) -> Table:
    return Table(
        name, metadata,
        Column("platform", String(20), primary_key=True),
        Column("remote_id", String(300), primary_key=True),
        *columns,
        ForeignKeyConstraint(["platform", "remote_id"], ["archive_posts.platform", "archive_posts.remote_id"],
                             ondelete="CASCADE", name=f"fk_{name}_post"),
        *([Index(f"ix_{name}_{index}", index)] if index else []),
    )


# tag and handle are lower-cased for matching; the post's entities keep them as written.
hashtags = _child("archive_hashtags", Column("tag", String(300), primary_key=True), index="tag")
mentions = _child("archive_mentions", Column("handle", String(300), primary_key=True), index="handle")
links = _child("archive_links", Column("position", Integer, primary_key=True),
               Column("url", Text, nullable=False), Column("expanded_url", Text))
# The top links of the whole archive are counted per target in this index's order (SQLite; there
# is no limit on an index entry's size there).
Index("ix_archive_links_target", func.coalesce(links.c.expanded_url, links.c.url), links.c.platform,
      links.c.remote_id).ddl_if(dialect="sqlite")

# What `archive media fetch` keeps of the images and videos posts reference (archive.media): one
# row per post and URL, the file by its sha256 under the media folder (`path`, relative to it).
# No foreign key to archive_posts: the store replaces a post's row when it changes (and folds edit
# chains), which must not forget the files; render finds a copy by URL (ix_archive_media_url).
media = Table(
    "archive_media", metadata,
    Column("platform", String(20), primary_key=True),
    Column("remote_id", String(300), primary_key=True),
    Column("url", String(2000), primary_key=True),  # as the post names it
    Column("path", String(200), nullable=False),  # ab/abcdef….jpg
    Column("sha256", String(64), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("alt", Text),
    Column("origin", String(20), nullable=False),  # download | x-archive
    Column("fetched_at", UTCDateTime(), nullable=False),
    Index("ix_archive_media_url", "url"),
)

# Where the fetcher left off, per platform and account: {"newest_id": …, "cursor": …, …}.
fetch_state = Table(
    "archive_fetch_state", metadata,
    Column("platform", String(20), primary_key=True),
    Column("account", String(300), primary_key=True),
    Column("state", JSON, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)


# Full-text search over the posts' text (archive.search builds the queries). Not Table objects: each
# backend has its own form, made by the DDL below after the tables (create_all) and by migration a0003.
#   SQLite: an FTS5 table whose content is archive_posts itself (external content: the text is not
#   stored twice), keyed by archive_posts.rowid, diacritics folded by the tokenizer, kept in step by
#   triggers on every insert, update of the text and delete. VACUUM keeps the rowids of a table with
#   indexes; a migration that recreates archive_posts (Alembic's batch mode) must end with
#   INSERT INTO archive_search(archive_search) VALUES ('rebuild').
#   PostgreSQL: a generated tsvector column, the `dutch` configuration for posts in Dutch, `simple`
#   for the rest, over the text with its diacritics removed (NFD, combining marks U+0300-U+036F
#   dropped: unaccent is an extension), and a GIN index on it.
SEARCH_TABLE = "archive_search"
search_index = table(SEARCH_TABLE, column("rowid", Integer), column("rank"), column(SEARCH_TABLE))
POST_ROWID = literal_column(f"{posts.name}.rowid", Integer)  # SQLite: the key of the FTS5 table
# PostgreSQL (a tsvector; left untyped: importing the PostgreSQL dialect for its type would slow
# every command's start on SQLite, and nothing here depends on the type)
post_vector = literal_column(f"{posts.name}.search")
# Which posts are Dutch (the `dutch` configuration), as SQL over archive_posts' columns; the
# queries compare the same expression (archive.search).
DUTCH_SQL = "split_part(lower(language), '-', 1) = 'nl'"
# Diacritics removed (NFD, then the combining marks dropped); text of ASCII only is left as it is,
# without the cost of normalising it (a third of the column's cost at import, measured).
FOLD_SQL = ("CASE WHEN octet_length({0}) = char_length({0}) THEN {0} "
            "ELSE regexp_replace(normalize({0}, NFD), '[\\u0300-\\u036f]', '', 'g') END")

SEARCH_DDL = {
    "sqlite": [
        f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(text, content='{posts.name}', content_rowid='rowid', "
        "tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {SEARCH_TABLE}_insert AFTER INSERT ON {posts.name} BEGIN "
        f"INSERT INTO {SEARCH_TABLE}(rowid, text) VALUES (new.rowid, new.text); END",
        f"CREATE TRIGGER {SEARCH_TABLE}_update AFTER UPDATE OF text ON {posts.name} WHEN old.text IS NOT new.text BEGIN "
        f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rowid, text) VALUES ('delete', old.rowid, old.text); "
        f"INSERT INTO {SEARCH_TABLE}(rowid, text) VALUES (new.rowid, new.text); END",
        f"CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON {posts.name} BEGIN "
        f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rowid, text) VALUES ('delete', old.rowid, old.text); END",
    ],
    "postgresql": [
        f"ALTER TABLE {posts.name} ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector("
        f"CASE WHEN {DUTCH_SQL} THEN 'dutch'::regconfig ELSE 'simple'::regconfig END, "
        f"{FOLD_SQL.format('text')})) STORED",
        f"CREATE INDEX ix_{posts.name}_search ON {posts.name} USING gin (search)",
    ],
}
for _dialect, _statements in SEARCH_DDL.items():
    for _statement in _statements:
        event.listen(metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))
