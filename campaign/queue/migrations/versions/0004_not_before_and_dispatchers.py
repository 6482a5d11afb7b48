"""A post held back (rate limit, daily cap, missing credentials) waits until not_before;
dispatchers (serve) leave a heartbeat that `campaign status` shows.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from campaign.queue.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scheduled_posts") as batch:
        batch.add_column(sa.Column("not_before", UTCDateTime()))
    op.create_table(
        "dispatchers",
        sa.Column("worker", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_tick_at", UTCDateTime(), nullable=False),
        sa.Column("stopped_at", UTCDateTime()),
        sa.Column("posts_file", sa.String(1000)),
    )


def downgrade() -> None:
    op.drop_table("dispatchers")
    with op.batch_alter_table("scheduled_posts") as batch:
        batch.drop_column("not_before")
