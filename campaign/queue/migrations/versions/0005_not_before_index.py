"""Index held-back posts, so finding the next wake-up never scans the queue.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_scheduled_posts_state_not_before", "scheduled_posts", ["state", "not_before"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_posts_state_not_before", "scheduled_posts")
