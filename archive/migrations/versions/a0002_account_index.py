"""Posts by account: an index on (lower(account), created_at), the expression the account filter
compares, replacing the (account, created_at) index that no query could use.

Revision ID: a0002
Revises: a0001
"""
import sqlalchemy as sa
from alembic import op

revision = "a0002"
down_revision = "a0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_archive_posts_account_created_at", table_name="archive_posts")
    op.create_index("ix_archive_posts_lower_account_created_at", "archive_posts",
                    [sa.text("lower(account)"), "created_at"])


def downgrade() -> None:
    op.drop_index("ix_archive_posts_lower_account_created_at", table_name="archive_posts")
    op.create_index("ix_archive_posts_account_created_at", "archive_posts", ["account", "created_at"])
