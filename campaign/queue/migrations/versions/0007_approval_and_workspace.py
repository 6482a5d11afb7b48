"""Approval before sending, and the people and sessions of the web workspace.

- scheduled_posts.state may be 'awaiting_approval' or 'rejected' (the column grows to 20
  characters); scheduled_posts.approvals_needed: distinct approvals this content needs.
- approvals: every approve/reject decision, pinned to the content hash it was made on.
- users, web_sessions, login_attempts: the workspace's people, signed-in browsers (token hashes
  only) and sign-in attempts (for slowing down guessing).

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from campaign.queue.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NEW_STATES = ("state IN ('queued','sending','sent','failed','unknown','missed','cancelled',"
              "'awaiting_approval','rejected')")
OLD_STATES = "state IN ('queued','sending','sent','failed','unknown','missed','cancelled')"


def upgrade() -> None:
    with op.batch_alter_table("scheduled_posts") as batch:
        batch.drop_constraint("ck_scheduled_posts_state", type_="check")
        batch.alter_column("state", type_=sa.String(20), existing_type=sa.String(12), existing_nullable=False)
        batch.add_column(sa.Column("approvals_needed", sa.Integer, nullable=False, server_default="0"))
        batch.create_check_constraint("ck_scheduled_posts_state", NEW_STATES)
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("post_id", sa.Integer, sa.ForeignKey("scheduled_posts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("via", sa.String(10), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("decision IN ('approve','reject')", name="ck_approvals_decision"),
    )
    op.create_index("ix_approvals_post_hash", "approvals", ["post_id", "content_hash"])
    op.create_table(
        "users",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("locale", sa.String(10)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('viewer','editor','approver','admin')", name="ck_users_role"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(100), sa.ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_web_sessions_user", "web_sessions", ["user_name"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("address", sa.String(100), nullable=False),
        sa.Column("succeeded", sa.Integer, nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_login_attempts_user_time", "login_attempts", ["user_name", "attempted_at"])
    op.create_index("ix_login_attempts_address_time", "login_attempts", ["address", "attempted_at"])


def downgrade() -> None:
    op.drop_table("login_attempts")
    op.drop_table("web_sessions")
    op.drop_table("users")
    op.drop_table("approvals")
    op.execute("UPDATE scheduled_posts SET state = 'cancelled' WHERE state IN ('awaiting_approval', 'rejected')")
    with op.batch_alter_table("scheduled_posts") as batch:
        batch.drop_constraint("ck_scheduled_posts_state", type_="check")
        batch.drop_column("approvals_needed")
        batch.alter_column("state", type_=sa.String(12), existing_type=sa.String(20), existing_nullable=False)
        batch.create_check_constraint("ck_scheduled_posts_state", OLD_STATES)
