"""Privacy and reposts: archive_posts gains `visibility` (public, unlisted, followers, circle; NOT NULL,
'public' by default); a post's content warning and a repost's reposted author and URL are kept in
its `entities` JSON ("warning", "reposted": [author, URL]).

The posts already stored are filled in from their stored raw JSON where it tells (Mastodon, and the
reposts of Mastodon and Bluesky), in batches, so memory stays bounded at any archive size:
- a Mastodon status from the API: its `visibility` (private → followers), its `spoiler_text`;
- an outbox activity: visibility from its audience (the public in `to`: public, in `cc`: unlisted,
  followers only: followers), the note's `summary`, which earlier versions put before the text:
  that prefix is taken off the text again;
- a boost (API `reblog`, outbox Announce, Bluesky feed repost): the reposted post's author and URL.
A direct message that `archive fetch` stored before it learned to leave them out (visibility
`direct` in its API JSON) is removed, with its hashtags, mentions and links. The rules are written
out here, not imported from the archive's modules, so that later changes there cannot alter this step.

Revision ID: a0006
Revises: a0005
"""
import json
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision = "a0006"
down_revision = "a0005"
branch_labels = None
depends_on = None

BATCH = 500
PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}
API_VISIBILITY = {"public": "public", "unlisted": "unlisted", "private": "followers"}
DIRECT = "direct"


def upgrade() -> None:
    op.add_column("archive_posts", sa.Column("visibility", sa.String(20), nullable=False, server_default="public"))
    _backfill(op.get_bind())
    _stats_index(["created_at", "deleted_at", "referenced", "visibility", "kind", "platform", "account", "remote_id",
                  "metrics"])


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy of the table would renumber the rowids the
    # search index is keyed by. Warnings and reposted authors stay in the entities JSON, unread there.
    _stats_index(["created_at", "deleted_at", "kind", "platform", "account", "remote_id", "metrics"])
    op.drop_column("archive_posts", "visibility")


def _backfill(connection) -> None:
    keys = connection.exec_driver_sql(
        "SELECT platform, remote_id FROM archive_posts WHERE platform = 'mastodon' "
        "OR (platform = 'bluesky' AND kind = 'repost')").all()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    for start in range(0, len(keys), BATCH):
        chunk = keys[start:start + BATCH]
        by_platform: dict[str, list[str]] = {}
        for platform, remote_id in chunk:
            by_platform.setdefault(platform, []).append(remote_id)
        updates, direct = [], []
        for platform, ids in by_platform.items():
            rows = connection.exec_driver_sql(
                f"SELECT remote_id, text, entities, raw FROM archive_posts WHERE platform = {marker} "
                f"AND remote_id IN ({', '.join([marker] * len(ids))})", (platform, *ids))
            for remote_id, text, entities, raw in rows:
                found = _from_raw(platform, text, json.loads(raw or "{}"))
                if found == DIRECT:
                    direct.append((platform, remote_id))
                elif found:
                    visibility, warning, account, url, text = found
                    entities = json.loads(entities)
                    if warning:
                        entities["warning"] = warning
                    if account or url:
                        entities["reposted"] = [account, url]
                    updates.append((visibility, json.dumps(entities, ensure_ascii=False, separators=(",", ":")),
                                    text, platform, remote_id))
        if direct:
            for table in ("archive_hashtags", "archive_mentions", "archive_links", "archive_posts"):
                connection.exec_driver_sql(f"DELETE FROM {table} WHERE platform = {marker} AND remote_id = {marker}",
                                           direct)
        if updates:
            connection.exec_driver_sql(
                f"UPDATE archive_posts SET visibility = {marker}, entities = {marker}, text = {marker} "
                f"WHERE platform = {marker} AND remote_id = {marker}", updates)


def _from_raw(platform: str, text: str, sources: dict):
    """(visibility, content warning, reposted account, reposted url, text) from a post's raw JSON by
    source; DIRECT for a direct message; None when it tells nothing."""
    visibility, warning, account, url = "public", None, None, None
    told = False
    for source, raw in sources.items():
        if not isinstance(raw, dict):
            continue
        if platform == "bluesky" and raw.get("reason"):
            post = raw.get("post") or {}
            account = (post.get("author") or {}).get("handle")
            uri = post.get("uri") or ""
            url = f"https://bsky.app/profile/{account}/post/{uri.rsplit('/', 1)[-1]}" if account and uri else None
            told = True
        elif platform == "mastodon" and raw.get("type") in ("Create", "Announce"):
            visibility = _least_open(visibility, _audience_visibility(raw))
            note = raw.get("object")
            if raw["type"] == "Announce":
                url = note.get("id") if isinstance(note, dict) else note
                account = _actor_handle(url) if isinstance(url, str) else None
            elif isinstance(note, dict) and note.get("summary"):
                warning = note["summary"]
                prefix = f"{warning}\n\n"
                text = text[len(prefix):] if text.startswith(prefix) else text
            told = True
        elif platform == "mastodon" and raw.get("visibility") == "direct":
            return DIRECT
        elif platform == "mastodon" and "visibility" in raw:
            visibility = _least_open(visibility, API_VISIBILITY.get(raw.get("visibility"), "public"))
            shown = raw.get("reblog") if isinstance(raw.get("reblog"), dict) else raw
            warning = shown.get("spoiler_text") or warning
            if raw.get("reblog"):
                account = (shown.get("account") or {}).get("acct")
                url = shown.get("url") or shown.get("uri")
            told = True
    return (visibility, warning, account, url, text) if told else None


def _least_open(a: str, b: str) -> str:
    order = ("public", "unlisted", "followers", "circle")
    return max(a, b, key=order.index)


def _audience_visibility(activity: dict) -> str:
    def listed(item, key):
        value = item.get(key) if isinstance(item, dict) else None
        return value if isinstance(value, list) else [value] if value else []

    note = activity.get("object")
    to = set(listed(activity, "to") + listed(note, "to"))
    cc = set(listed(activity, "cc") + listed(note, "cc"))
    if to & PUBLIC:
        return "public"
    if cc & PUBLIC:
        return "unlisted"
    return "followers"


def _actor_handle(url: str) -> str | None:
    """https://other.example/users/alice/statuses/1 → alice@other.example"""
    parts = urlsplit(url)
    path = parts.path.strip("/").split("/")
    if parts.hostname and len(path) >= 2 and path[0] == "users":
        return f"{path[1]}@{parts.hostname}"
    if parts.hostname and path and path[0].startswith("@"):
        return f"{path[0][1:]}@{parts.hostname}"
    return None


def _stats_index(columns: list[str]) -> None:
    """archive stats' index (a0004, SQLite only) holds every column its per-day counts read, the
    filter's referenced and visibility too (added by a0005 and here): made again with these columns,
    and so is the account index, which holds them after lower(account) (a0004)."""
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_archive_posts_stats", table_name="archive_posts")
        op.create_index("ix_archive_posts_stats", "archive_posts", columns)
        op.drop_index("ix_archive_posts_lower_account_created_at", table_name="archive_posts")
        op.create_index("ix_archive_posts_lower_account_created_at", "archive_posts", [sa.text("lower(account)"),
                                                                                        *columns])
