"""Engagement counts as columns: archive_posts gains like_count, repost_count, reply_count and
quote_count, the post's metrics "likes", "reposts", "replies" and "quotes" as integers (NULL when
the metric is absent or not a whole number from 0 to 2,147,483,647: a JSON integer or a string of
digits). archive stats sums them instead of parsing every post's metrics JSON (on 1,000,000 posts
that parsing was a quarter of the time); the metrics JSON stays, with every metric the platform gave.

The posts already stored are filled in by one UPDATE, the rule written out in SQL per database
(the store's Python rule, archive.store.rows.metric_count, is tested equal to it; 1,000,000 posts
on SQLite: about 30 s, once). On SQLite the stats' covering indexes (a0004, a0006) are made again
with the four columns instead of the metrics text (on 1,000,000 posts 136 MB less).

Revision ID: a0008
Revises: a0007
"""
import sqlalchemy as sa
from alembic import op

revision = "a0008"
down_revision = "a0007"
branch_labels = None
depends_on = None

# (metric in the metrics JSON, its column)
COUNTS = (("likes", "like_count"), ("reposts", "repost_count"), ("replies", "reply_count"),
          ("quotes", "quote_count"))
LARGEST = 2_147_483_647  # the largest a PostgreSQL integer holds
STATS_INDEX = "ix_archive_posts_stats"
ACCOUNT_INDEX = "ix_archive_posts_lower_account_created_at"
BEFORE = ["created_at", "deleted_at", "referenced", "visibility", "kind", "platform", "account", "remote_id"]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # made again below; no reason to keep them up to date meanwhile
        op.drop_index(STATS_INDEX, table_name="archive_posts")
        op.drop_index(ACCOUNT_INDEX, table_name="archive_posts")
    for _, name in COUNTS:
        op.add_column("archive_posts", sa.Column(name, sa.Integer))
    count = _sqlite_count if sqlite else _postgresql_count
    op.execute(f"UPDATE archive_posts SET {', '.join(f'{name} = {count(metric)}' for metric, name in COUNTS)}")
    if sqlite:
        _stats_indexes(BEFORE + [name for _, name in COUNTS])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.drop_index(STATS_INDEX, table_name="archive_posts")
        op.drop_index(ACCOUNT_INDEX, table_name="archive_posts")
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy of the table would renumber the rowids the
    # search index is keyed by.
    for _, name in reversed(COUNTS):
        op.drop_column("archive_posts", name)
    if sqlite:
        _stats_indexes(BEFORE + ["metrics"])


def _sqlite_count(metric: str) -> str:
    """The metric as an integer: a JSON integer or a string of 1-10 digits, at most LARGEST; else NULL
    (json_type tells true and false, which json_extract gives as 1 and 0, from numbers)."""
    value = f"json_extract(metrics, '$.{metric}')"
    return (f"CASE WHEN json_type(metrics, '$.{metric}') IN ('integer', 'text') AND {value} <> '' "
            f"AND {value} NOT GLOB '*[^0-9]*' AND length({value}) <= 10 "
            f"AND CAST({value} AS INTEGER) <= {LARGEST} THEN CAST({value} AS INTEGER) END")


def _postgresql_count(metric: str) -> str:
    """The same rule: ->> gives a JSON number and a JSON string alike as text (a float with its
    point, true as 'true'); nested CASEs, as PostgreSQL may evaluate an AND's terms in any order."""
    value = f"(CASE WHEN left(metrics, 1) = '{{' THEN metrics::jsonb ->> '{metric}' END)"
    return (f"CASE WHEN {value} ~ '^[0-9]{{1,10}}$' THEN CASE WHEN {value}::bigint <= {LARGEST} "
            f"THEN {value}::integer END END")


def _stats_indexes(columns: list[str]) -> None:
    """(SQLite) archive stats' covering indexes made with these columns after their own: the stats
    index (a0004) and the account index (lower(account) first)."""
    op.create_index(STATS_INDEX, "archive_posts", columns)
    op.create_index(ACCOUNT_INDEX, "archive_posts", [sa.text("lower(account)"), *columns])
