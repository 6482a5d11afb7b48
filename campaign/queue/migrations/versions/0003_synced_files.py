"""Remember which posts.yaml content the queue was last synced from, so a cron tick with an
unchanged file skips parsing it.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from campaign.queue.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "synced_files",
        sa.Column("path", sa.String(1000), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("synced_files")
