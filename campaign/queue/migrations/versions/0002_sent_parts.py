"""Per-part progress of threads, so a thread that fails midway resumes without re-posting.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from campaign.queue.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_parts",
        sa.Column("post_id", sa.Integer, sa.ForeignKey("scheduled_posts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("part_index", sa.Integer, primary_key=True),
        sa.Column("account", sa.String(100), nullable=False),
        sa.Column("remote_id", sa.String(300), nullable=False),
        sa.Column("remote_url", sa.String(500)),
        sa.Column("remote_ref", sa.JSON),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_sent_parts_account_sent_at", "sent_parts", ["account", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_sent_parts_account_sent_at", "sent_parts")
    op.drop_table("sent_parts")
