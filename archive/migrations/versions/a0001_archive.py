"""The archive: posts, their hashtags, mentions and links, and the fetcher's state.

Revision ID: a0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from campaign.queue.tables import UTCDateTime

revision = "a0001"
down_revision = None
branch_labels = None
depends_on = None


def _post_key(name: str):
    return (sa.Column("platform", sa.String(20), primary_key=True),
            sa.Column("remote_id", sa.String(300), primary_key=True))


def _fk(name: str):
    return sa.ForeignKeyConstraint(["platform", "remote_id"], ["archive_posts.platform", "archive_posts.remote_id"],
                                   ondelete="CASCADE", name=f"fk_{name}_post")


def upgrade() -> None:
    op.create_table(
        "archive_posts",
        *_post_key("archive_posts"),
        sa.Column("account", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("url", sa.String(1000)),
        sa.Column("language", sa.String(35)),
        sa.Column("reply_to_id", sa.String(300)),
        sa.Column("reply_to_account", sa.String(300)),
        sa.Column("conversation_id", sa.String(300)),
        sa.Column("quoted_id", sa.String(300)),
        sa.Column("reposted_id", sa.String(1000)),
        sa.Column("source_app", sa.String(300)),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("entities", sa.Text, nullable=False),
        sa.Column("edit_history", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("deleted_at", UTCDateTime()),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('post','reply','repost','quote')", name="ck_archive_posts_kind"),
    )
    op.create_index("ix_archive_posts_created_at", "archive_posts", ["created_at"])
    op.create_index("ix_archive_posts_account_created_at", "archive_posts", ["account", "created_at"])
    op.create_table("archive_hashtags", *_post_key("archive_hashtags"),
                    sa.Column("tag", sa.String(300), primary_key=True), _fk("archive_hashtags"))
    op.create_index("ix_archive_hashtags_tag", "archive_hashtags", ["tag"])
    op.create_table("archive_mentions", *_post_key("archive_mentions"),
                    sa.Column("handle", sa.String(300), primary_key=True), _fk("archive_mentions"))
    op.create_index("ix_archive_mentions_handle", "archive_mentions", ["handle"])
    op.create_table("archive_links", *_post_key("archive_links"),
                    sa.Column("position", sa.Integer, primary_key=True),
                    sa.Column("url", sa.Text, nullable=False), sa.Column("expanded_url", sa.Text),
                    _fk("archive_links"))
    op.create_table(
        "archive_fetch_state",
        sa.Column("platform", sa.String(20), primary_key=True),
        sa.Column("account", sa.String(300), primary_key=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for name in ("archive_fetch_state", "archive_links", "archive_mentions", "archive_hashtags", "archive_posts"):
        op.drop_table(name)
