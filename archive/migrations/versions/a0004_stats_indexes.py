"""Indexes for archive stats (issue 15): on SQLite one that holds every column the per-day counts
read of a post (created_at, deleted_at, kind, platform, account, remote_id, metrics), so that they
read no table row, the account index (a0002) made again holding the same columns after its own (one
account's stats read no table row either), and one over each link's target for the top links; on
both databases a partial index on deleted_at, so that the few deleted posts are found without
reading every post. a0006 gives both the columns that later migrations add (referenced, visibility).

Revision ID: a0004
Revises: a0003
"""
import sqlalchemy as sa
from alembic import op

revision = "a0004"
down_revision = "a0003"
branch_labels = None
depends_on = None

STATS_COLUMNS = ["created_at", "deleted_at", "kind", "platform", "account", "remote_id", "metrics"]
ACCOUNT_INDEX = "ix_archive_posts_lower_account_created_at"


def upgrade() -> None:
    deleted = sa.text("deleted_at IS NOT NULL")
    op.create_index("ix_archive_posts_deleted_at", "archive_posts", ["deleted_at"], sqlite_where=deleted,
                    postgresql_where=deleted)
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_archive_posts_stats", "archive_posts", STATS_COLUMNS)
        account_index([sa.text("lower(account)"), *STATS_COLUMNS])
        op.create_index("ix_archive_links_target", "archive_links",
                        [sa.text("coalesce(expanded_url, url)"), "platform", "remote_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_archive_links_target", table_name="archive_links")
        op.drop_index("ix_archive_posts_stats", table_name="archive_posts")
        account_index([sa.text("lower(account)"), "created_at"])
    op.drop_index("ix_archive_posts_deleted_at", table_name="archive_posts")


def account_index(columns: list) -> None:
    """(SQLite) The account index made again with these columns."""
    op.drop_index(ACCOUNT_INDEX, table_name="archive_posts")
    op.create_index(ACCOUNT_INDEX, "archive_posts", columns)
