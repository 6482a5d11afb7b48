"""The archive's tables (SQLAlchemy Core), in the queue's database but with their own
metadata and their own Alembic chain (version table `archive_alembic_version`).

One row per post, keyed by (platform, remote_id). Hashtags, mentions and links are also
kept in small normalised tables for filters and statistics; the post row carries them
as JSON too, so reading a post back needs no join.
"""
from __future__ import annotations

from sqlalchemy import (JSON, CheckConstraint, Column, ForeignKeyConstraint, Index, Integer, MetaData, String,
                        Table, Text, func)

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
