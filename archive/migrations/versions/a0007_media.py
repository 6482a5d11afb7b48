"""Media: archive_media records the images and videos `archive media fetch` stored (archive.media):
per post and URL, the file's place under the media folder (by sha256), content type, size, alt
text and where it came from. Nothing to fill in: no file has been fetched before this revision.

Revision ID: a0007
Revises: a0006
"""
import sqlalchemy as sa
from alembic import op

from campaign.queue.tables import UTCDateTime

revision = "a0007"
down_revision = "a0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_media",
        sa.Column("platform", sa.String(20), primary_key=True),
        sa.Column("remote_id", sa.String(300), primary_key=True),
        sa.Column("url", sa.String(2000), primary_key=True),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("alt", sa.Text),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_archive_media_url", "archive_media", ["url"])


def downgrade() -> None:
    op.drop_index("ix_archive_media_url", "archive_media")
    op.drop_table("archive_media")
