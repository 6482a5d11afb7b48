"""What the queue needs to tell the truth and raise alerts.

- scheduled_posts.in_doubt_since: an attempt may have reached the platform and its outcome is not
  settled yet; whoever takes the post next reads the timeline before posting again.
- scheduled_posts.acknowledged_at: a person has seen a failed, unknown or missed post.
- invalid_files: a posts.yaml that currently fails validation (the last good queue keeps running).
- notifications: one row per alert (event + subject), so overlapping runs and restarts never
  repeat it.
- notify_targets: posts.yaml's `notify:` as of its last good sync (URLs with their {env:NAME}
  placeholders unresolved), with each target's daily-digest bookkeeping.
- notify_deliveries: one notification to one target, claimed before sending, with retries.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

from campaign.queue.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scheduled_posts") as batch:
        batch.add_column(sa.Column("in_doubt_since", UTCDateTime()))
        batch.add_column(sa.Column("acknowledged_at", UTCDateTime()))
    op.create_index("ix_scheduled_posts_state_sent_at", "scheduled_posts", ["state", "sent_at"])
    op.create_table(
        "invalid_files",
        sa.Column("path", sa.String(1000), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("first_error", sa.Text, nullable=False),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("subject", sa.String(1000), nullable=False),
        sa.Column("post_id", sa.Integer),
        sa.Column("account", sa.String(100)),
        sa.Column("campaign_id", sa.String(100)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.UniqueConstraint("event", "subject", name="uq_notifications_event_subject"),
    )
    op.create_index("ix_notifications_delivered_at", "notifications", ["delivered_at"])
    op.create_table(
        "notify_targets",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("campaign_id", sa.String(100)),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.JSON),
        sa.Column("digest", sa.String(10)),
        sa.Column("digest_at", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("last_digest_at", UTCDateTime()),
        sa.Column("digest_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retry_at", UTCDateTime()),
        sa.Column("last_error", sa.Text),
    )
    op.create_table(
        "notify_deliveries",
        sa.Column("notification_id", sa.Integer, sa.ForeignKey("notifications.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("target", sa.String(64), primary_key=True),
        sa.Column("delivered_at", UTCDateTime()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retry_at", UTCDateTime()),
        sa.Column("claimed_until", UTCDateTime()),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("notify_deliveries")
    op.drop_table("notify_targets")
    op.drop_index("ix_notifications_delivered_at", "notifications")
    op.drop_table("notifications")
    op.drop_table("invalid_files")
    op.drop_index("ix_scheduled_posts_state_sent_at", "scheduled_posts")
    with op.batch_alter_table("scheduled_posts") as batch:
        batch.drop_column("acknowledged_at")
        batch.drop_column("in_doubt_since")
