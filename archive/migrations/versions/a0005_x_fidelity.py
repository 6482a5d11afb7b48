"""X fidelity: the quoted post's permalink, edit chains folded into one post, referenced posts.

Adds archive_posts.quoted_url, versions (the earlier versions of an edited post), edit_chain
(the chain's first id, with a partial index: only edited posts have one) and referenced (a post
stored only because another refers to it). Posts already stored whose edit_history names
another stored post (an edit chain imported before chains were folded: one post per version) are
folded here as the store now does it: the latest version stays, each earlier one moves into its
versions and its row is removed.

Revision ID: a0005
Revises: a0004
"""
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "a0005"
down_revision = "a0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("archive_posts", sa.Column("quoted_url", sa.String(1000)))
    op.add_column("archive_posts", sa.Column("versions", sa.Text))
    op.add_column("archive_posts", sa.Column("edit_chain", sa.String(300)))
    op.add_column("archive_posts", sa.Column("referenced", sa.Boolean))
    edit_chain = sa.column("edit_chain")
    op.create_index("ix_archive_posts_edit_chain", "archive_posts", ["platform", "edit_chain"],
                    sqlite_where=edit_chain.isnot(None), postgresql_where=edit_chain.isnot(None))
    _fold_stored_chains(op.get_bind())


def _fold_stored_chains(connection) -> None:
    """Fold each stored post with an edit history and the stored rows of its earlier versions."""
    edited = connection.exec_driver_sql(
        "SELECT platform, remote_id, edit_history FROM archive_posts WHERE edit_history <> '[]'").fetchall()
    marker = _marker(connection)
    for platform, remote_id, history in edited:
        earlier = json.loads(history)
        if not earlier:
            continue
        connection.exec_driver_sql(f"UPDATE archive_posts SET edit_chain = {marker} WHERE platform = {marker} "
                                   f"AND remote_id = {marker}", (earlier[0], platform, remote_id))
        rows = connection.exec_driver_sql(
            f"SELECT remote_id, created_at, text, entities FROM archive_posts WHERE platform = {marker} "
            f"AND remote_id IN ({', '.join([marker] * len(earlier))})", (platform, *earlier)).fetchall()
        if not rows:
            continue
        versions = [{"id": row[0], "created_at": _iso(row[1]), "text": row[2],
                     "links": json.loads(row[3]).get("links") or []} for row in rows]
        versions.sort(key=lambda version: (len(version["id"]), version["id"]))
        connection.exec_driver_sql(
            f"UPDATE archive_posts SET versions = {marker} WHERE platform = {marker} AND remote_id = {marker}",
            (json.dumps(versions, ensure_ascii=False, separators=(",", ":")), platform, remote_id))
        gone = [(platform, row[0]) for row in rows]
        for child in ("archive_hashtags", "archive_mentions", "archive_links", "archive_posts"):
            connection.exec_driver_sql(f"DELETE FROM {child} WHERE platform = {marker} AND remote_id = {marker}",
                                       gone)


def _marker(connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _iso(value) -> str:
    """A stored created_at (SQLite: UTC text; PostgreSQL: a naive UTC datetime) as the store writes
    a version's time (archive.store.write: ISO 8601 with the UTC offset)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=timezone.utc).isoformat()


def downgrade() -> None:
    op.drop_index("ix_archive_posts_edit_chain", "archive_posts")
    for name in ("referenced", "edit_chain", "versions", "quoted_url"):  # SQLite 3.35+ drops columns in place
        op.get_bind().exec_driver_sql(f"ALTER TABLE archive_posts DROP COLUMN {name}")
