"""The queue: accounts, campaigns and scheduled posts.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from campaign.queue.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("handle", sa.String(300), nullable=False),
        sa.Column("instance", sa.String(300)),
        sa.Column("max_per_day", sa.Integer),
        sa.Column("flagged_at", UTCDateTime()),
        sa.Column("flag_reason", sa.Text),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "scheduled_posts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(400), nullable=False, unique=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("campaign_id", sa.String(100), sa.ForeignKey("campaigns.id")),
        sa.Column("post_id", sa.String(100)),
        sa.Column("account", sa.String(100), sa.ForeignKey("accounts.name"), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("local_time", sa.String(40), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("late_seconds", sa.Integer, nullable=False),
        sa.Column("variant", sa.Integer, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("remote_id", sa.String(200)),
        sa.Column("remote_url", sa.String(500)),
        sa.Column("reply_to_url", sa.String(500)),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_at", UTCDateTime()),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("state IN ('queued','sending','sent','failed','unknown','missed','cancelled')",
                           name="ck_scheduled_posts_state"),
        sa.CheckConstraint("source IN ('file','manual')", name="ck_scheduled_posts_source"),
    )
    op.create_index("ix_scheduled_posts_state_due", "scheduled_posts", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_posts_state_due", "scheduled_posts")
    op.drop_table("scheduled_posts")
    op.drop_table("campaigns")
    op.drop_table("accounts")
