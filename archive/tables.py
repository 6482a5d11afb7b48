"""The archive's tables (SQLAlchemy Core), in the queue's database but with their own
metadata and their own Alembic chain (version table `archive_alembic_version`).

One row per post, keyed by (platform, remote_id). Hashtags, mentions and links are also
kept in small normalised tables for filters and statistics; the post row carries them
as JSON too, so reading a post back needs no join.
"""
from __future__ import annotations

from sqlalchemy import (DDL, JSON, CheckConstraint, Column, ForeignKeyConstraint, Index, Integer, MetaData, String,
                        Table, Text, column, event, func, literal_column, table)
from sqlalchemy.dialects.postgresql import TSVECTOR

from campaign.queue.tables import UTCDateTime

metadata = MetaData()

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
    Column("reposted_id", String(1000)),
    Column("source_app", String(300)),
    # JSON as text, serialised by archive.store itself (once per row, also hashed for idempotence):
    Column("metrics", Text, nullable=False),  # {"likes": 3, …}
    Column("entities", Text, nullable=False),  # {"hashtags": [...], "mentions": [...], "links": [[url, expanded, display]], "media": [...]}
    Column("edit_history", Text, nullable=False),  # remote ids of earlier versions, oldest first
    Column("raw", Text, nullable=False),  # {source: the source's JSON}
    Column("sources", Text, nullable=False),  # {source: hash of what that source last said}
    Column("deleted_at", UTCDateTime()),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    CheckConstraint("kind IN ('post','reply','repost','quote')", name="ck_archive_posts_kind"),
    Index("ix_archive_posts_created_at", "created_at"),
)
# The account filter compares lower(account) (handles are case-insensitive): an index on that expression.
Index("ix_archive_posts_lower_account_created_at", func.lower(posts.c.account), posts.c.created_at)


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
post_vector = literal_column(f"{posts.name}.search", TSVECTOR)  # PostgreSQL
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
