"""Writing posts: upserts that merge what several sources say of one post, in one transaction,
and the bulk path an import takes (records prepared in batches, plain executemany)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Callable, Iterable, Iterator

from sqlalchemy import select, update

from campaign.queue.db import Database

from .. import tables as t
from ..records import KINDS, ArchivedPost
from .rows import BATCH, POST_COLUMNS, dumps, from_utc_text, loads, record_of_row, utc_text


@dataclass(frozen=True)
class UpsertSummary:
    """What one upsert did: posts added, posts whose content changed, posts seen again unchanged."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged

    def __add__(self, other: "UpsertSummary") -> "UpsertSummary":
        return UpsertSummary(self.new + other.new, self.updated + other.updated, self.unchanged + other.unchanged)


def upsert_posts(database: Database, records: Iterable[ArchivedPost], *, source: str, now: datetime,
                 progress: Callable[[int], None] | None = None) -> UpsertSummary:
    """Store records in ONE transaction: all of them, or (on any error) none.

    Idempotent: a post is identified by (platform, remote_id); giving the same record from the
    same source again changes nothing but its last_seen_at (counted as unchanged). A record
    from another source, or changed data, is merged into the stored post: the newer non-empty
    value of each field wins, metrics are merged key by key (refreshed), edit histories are
    united, a deletion is kept (earliest time), each source's raw JSON is kept side by side,
    first_seen_at never changes. `records` is consumed lazily in batches, so memory stays
    bounded whatever its length; `progress(n)` is called after each batch of n records.
    campaign_id/occurrence_key of the records are ignored (they are derived at query time).
    Raises DatabaseError; exceptions from `records` propagate after the rollback.
    """
    return upsert_prepared(database, prepare(records, source=source), source=source, now=now, progress=progress)


def prepare(records: Iterable[ArchivedPost], *, source: str) -> Iterator[list[tuple]]:
    """records as upsert_prepared takes them: lists of up to BATCH tuples, each what the source
    said of one post, in _SAID_COLUMNS order and the form the database takes (plain str and
    None, which pickle cheaply). No database: `archive import` prepares the batches in a second
    process while the first writes. Each record is encoded as it arrives, so its parsed JSON is
    freed at once."""
    source_key = dumps(source)
    iterator = iter(records)
    while True:
        batch = [_said(record, source_key) for record in islice(iterator, BATCH)]
        if not batch:
            return
        yield batch


def upsert_prepared(database: Database, batches: Iterable[list[tuple]], *, source: str, now: datetime,
                    progress: Callable[[int], None] | None = None) -> UpsertSummary:
    """upsert_posts for records already prepared (by prepare); same transaction, same result."""
    summary = UpsertSummary()
    with database.transaction(write=True) as connection:
        for number, batch in enumerate(batches):
            summary = summary + _upsert_batch(connection, batch, source, now)
            if number == 0 and connection.dialect.name == "postgresql":
                _give_planner_statistics(connection)
            if progress:
                progress(len(batch))
    return summary


def _give_planner_statistics(connection) -> None:
    """ANALYZE archive_posts if PostgreSQL has no statistics of it yet (a new archive), once it holds
    the first batch (ANALYZE counts the transaction's own rows). Without them the planner takes
    `platform = …` for selective and looks each batch's ids up by scanning every post of the
    platform: an import of 100,000 posts took 100 s instead of 10. The statistics (one platform
    value, unique ids) stay true as the table grows; the planner scales row counts by its size."""
    analysed = connection.exec_driver_sql(
        f"SELECT 1 FROM pg_stats WHERE tablename = '{t.posts.name}' AND schemaname = current_schema() LIMIT 1").first()
    if analysed is None:
        connection.exec_driver_sql(f"ANALYZE {t.posts.name}")


def merge(old: ArchivedPost, new: ArchivedPost) -> ArchivedPost:
    """The post that results when `new` (later, or from another source) meets `old`."""
    def pick(a, b):
        return b if b not in (None, "", ()) else a

    deleted = [d for d in (old.deleted_at, new.deleted_at) if d is not None]
    return ArchivedPost(
        platform=old.platform, remote_id=old.remote_id,
        account=pick(old.account, new.account), created_at=new.created_at or old.created_at,
        text=pick(old.text, new.text), kind=new.kind if new.kind != "post" else old.kind,
        url=pick(old.url, new.url), language=pick(old.language, new.language),
        reply_to_id=pick(old.reply_to_id, new.reply_to_id),
        reply_to_account=pick(old.reply_to_account, new.reply_to_account),
        conversation_id=pick(old.conversation_id, new.conversation_id),
        quoted_id=pick(old.quoted_id, new.quoted_id), reposted_id=pick(old.reposted_id, new.reposted_id),
        source_app=pick(old.source_app, new.source_app), metrics={**old.metrics, **new.metrics},
        hashtags=pick(old.hashtags, new.hashtags), mentions=pick(old.mentions, new.mentions),
        links=pick(old.links, new.links), media=pick(old.media, new.media),
        deleted_at=min(deleted) if deleted else None,
        edit_history=tuple(dict.fromkeys(old.edit_history + new.edit_history)),
        raw=new.raw if new.raw is not None else old.raw)


# A post's values as prepare() gives them: the posts row up to raw, then deleted_at.
_SAID_COLUMNS = POST_COLUMNS[:POST_COLUMNS.index("raw") + 1] + ["deleted_at"]
_ENTITIES, _RAW = _SAID_COLUMNS.index("entities"), _SAID_COLUMNS.index("raw")


def _said(r: ArchivedPost, source_key: str) -> tuple:
    """What a source said of a post, in _SAID_COLUMNS order and the database's form (times as UTC
    text, JSON columns as text, the raw JSON under the source's name)."""
    if r.kind not in KINDS:
        raise ValueError(f"post {r.platform}/{r.remote_id}: kind {r.kind!r} is not one of {KINDS}")
    links = r.links
    entities = dumps({"hashtags": list(r.hashtags), "mentions": list(r.mentions),
                       "links": [[link.url, link.expanded_url, link.display_url] for link in links] if links else [],
                       "media": list(r.media)})
    return (r.platform, r.remote_id, r.account, utc_text(r.created_at), r.text, r.kind, r.url, r.language,
            r.reply_to_id, r.reply_to_account, r.conversation_id, r.quoted_id, r.reposted_id, r.source_app,
            dumps(r.metrics), entities, dumps(list(r.edit_history)) if r.edit_history else "[]",
            "{" + source_key + ":" + dumps(r.raw) + "}" if r.raw is not None else "{}", _said_deleted(r))


def _digest(said: tuple) -> str:
    """The digest of what a source said of a post (kept in `sources`, so that importing the same
    data again is recognised): str() of each value, joined by the record separator (U+001E),
    which JSON text cannot hold unescaped."""
    return hashlib.sha256("\x1e".join(map(str, said)).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _row(said: tuple, sources: str, first_seen: str, last_seen: str) -> tuple:
    """The archive_posts row (in POST_COLUMNS order) of what a source said."""
    return said[:-1] + (sources, said[-1], first_seen, last_seen)


def _children(said: tuple, tags: list, handles: list, urls: list) -> None:
    """Add the child-table rows of a post (from its entities JSON) to tags, handles and urls."""
    platform, remote_id = said[0], said[1]
    entities = loads(said[_ENTITIES])
    if entities["hashtags"]:  # matched in lower case, each once
        tags.extend([(platform, remote_id, tag) for tag in dict.fromkeys([t.lower() for t in entities["hashtags"]])])
    if entities["mentions"]:
        handles.extend([(platform, remote_id, h) for h in dict.fromkeys([h.lower() for h in entities["mentions"]])])
    if entities["links"]:
        urls.extend([(platform, remote_id, position, link[0], link[1])
                     for position, link in enumerate(entities["links"])])


def _without_duplicates(batch: list[tuple], keys: list[tuple[str, str]], source_key: str) -> list[tuple]:
    """batch with the posts it holds more than once (twarc files repeat tweets) merged into the
    place of their first appearance, later values winning as in merge()."""
    merged: dict[tuple[str, str], tuple] = {}
    for key, said in zip(keys, batch):
        if key not in merged:
            merged[key] = said
            continue
        earlier = merged[key]
        record = merge(_record_of(earlier), _record_of(said))
        raw = said[_RAW] if said[_RAW] != "{}" else earlier[_RAW]
        merged[key] = _said(record, source_key)[:_RAW] + (raw, _said_deleted(record))
    return list(merged.values())


def _said_deleted(record: ArchivedPost) -> str | None:
    return utc_text(record.deleted_at) if record.deleted_at is not None else None


def _record_of(said: tuple) -> ArchivedPost:
    """The record (without raw) of a post's values in _SAID_COLUMNS order."""
    mapping = dict(zip(_SAID_COLUMNS, said))
    mapping["created_at"] = from_utc_text(mapping["created_at"])
    mapping["deleted_at"] = from_utc_text(mapping["deleted_at"])
    return record_of_row(mapping, raw=False)


def _insert_many(connection, table, names: list[str], rows: list[tuple]) -> None:
    """Pre-converted tuples inserted in bulk (no per-row SQLAlchemy processing): an executemany on
    PostgreSQL; on SQLite one INSERT of many VALUES rows per batch. There the search index's
    trigger (archive.tables.SEARCH_DDL) then adds the whole batch to FTS5's memory at once: row by
    row, FTS5 writes each post out as a segment of its own when the next statement begins, and
    indexing cost four times as much (measured: 3.8 s against 0.9 s per 100,000 posts)."""
    if not rows:
        return
    marker = _marker(connection)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
    one = f"({', '.join([marker] * len(names))})"
    if connection.dialect.name != "sqlite":
        connection.exec_driver_sql(sql + one, rows)
        return
    step = max(1, _sqlite_variables(connection) // len(names))
    for start in range(0, len(rows), step):
        chunk = rows[start:start + step]
        connection.exec_driver_sql(sql + ", ".join([one] * len(chunk)), tuple(v for row in chunk for v in row))


def _sqlite_variables(connection) -> int:
    """How many parameters one SQLite statement may have (999 before SQLite 3.32, 250,000 in Debian's)."""
    import sqlite3

    return connection.connection.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


def _marker(connection) -> str:
    """The driver's parameter placeholder for plain SQL (sqlite3: ?, psycopg: %s)."""
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _by_platform(keys) -> dict[str, list[str]]:
    """(platform, remote_id) keys as {platform: [remote_id, …]}."""
    grouped: dict[str, list[str]] = {}
    for platform, remote_id in keys:
        grouped.setdefault(platform, []).append(remote_id)
    return grouped


def _stored(connection, table_columns, keys) -> Iterator:
    """The rows (of the given columns) of the stored posts among keys ((platform, remote_id) pairs)."""
    posts = t.posts
    for platform, ids in _by_platform(keys).items():
        yield from connection.execute(select(*table_columns).where(posts.c.platform == platform,
                                                                   posts.c.remote_id.in_(ids)))


def _known_sources(connection, keys) -> dict[tuple[str, str], dict]:
    """{(platform, remote_id): sources} of the stored posts among keys. Plain SQL: it runs once
    per batch of an import, and building the statement through SQLAlchemy cost more than running it."""
    marker = _marker(connection)
    known = {}
    for platform, ids in _by_platform(keys).items():
        rows = connection.exec_driver_sql(f"SELECT remote_id, sources FROM {t.posts.name} WHERE platform = {marker} "
                                          f"AND remote_id IN ({', '.join([marker] * len(ids))})", (platform, *ids))
        for remote_id, sources in rows:
            known[(platform, remote_id)] = json.loads(sources)
    return known


def _upsert_batch(connection, batch: list[tuple], source: str, now: datetime) -> UpsertSummary:
    posts = t.posts
    stored_now = utc_text(now)
    source_key = dumps(source)
    keys = [(said[0], said[1]) for said in batch]
    if len(set(keys)) < len(keys):
        batch = _without_duplicates(batch, keys, source_key)
        keys = [(said[0], said[1]) for said in batch]
    known = _known_sources(connection, keys)
    inserts, changed, tags, handles, urls = [], {}, [], [], []
    for key, said in zip(keys, batch):
        digest = _digest(said)
        sources = known.get(key)
        if sources is None:
            inserts.append(_row(said, "{" + source_key + ':"' + digest + '"}', stored_now, stored_now))
            _children(said, tags, handles, urls)
        elif sources.get(source) != digest:
            changed[key] = (said, digest)
    updated = _update_changed(connection, changed, source, stored_now, tags, handles, urls) if changed else 0
    _insert_many(connection, posts, POST_COLUMNS, inserts)
    _insert_many(connection, t.hashtags, ["platform", "remote_id", "tag"], tags)
    _insert_many(connection, t.mentions, ["platform", "remote_id", "handle"], handles)
    _insert_many(connection, t.links, ["platform", "remote_id", "position", "url", "expanded_url"], urls)
    seen_again = [key for key in keys if key in known and key not in changed]
    for platform, ids in _by_platform(seen_again).items():
        connection.execute(update(posts).where(posts.c.platform == platform, posts.c.remote_id.in_(ids))
                           .values(last_seen_at=now))
    return UpsertSummary(new=len(inserts), updated=updated, unchanged=len(keys) - len(inserts) - updated)


def _update_changed(connection, changed: dict, source: str, stored_now: str, tags: list, handles: list,
                    urls: list) -> int:
    """Merge each changed post (key → (what the source said, digest)) into its stored row; add the
    merged posts' child rows to tags, handles and urls (their old ones are deleted). Returns how
    many posts' content changed (a post another source already said the same of is only re-stamped)."""
    posts = t.posts
    marker = _marker(connection)
    updated, updates = 0, []
    columns = [posts.c[name] for name in _SAID_COLUMNS] + [posts.c.sources]
    for stored in _stored(connection, columns, changed):
        key = (stored.platform, stored.remote_id)
        said, digest = changed[key]
        old = _record_of(tuple(utc_text(value) if isinstance(value, datetime) else value for value in stored[:-1]))
        merged = merge(old, _record_of(said))
        if merged != old:
            updated += 1
        merged_said = _said(merged, "")
        raw = {**loads(stored.raw or "{}"), **loads(said[_RAW])}
        sources = {**loads(stored.sources), source: digest}
        updates.append(merged_said[2:_RAW] + (dumps(raw), dumps(sources), merged_said[-1], stored_now) + key)
        _children(merged_said, tags, handles, urls)
    names = _SAID_COLUMNS[2:_RAW] + ["raw", "sources", "deleted_at", "last_seen_at"]
    connection.exec_driver_sql(f"UPDATE {posts.name} SET {', '.join(f'{name} = {marker}' for name in names)} "
                               f"WHERE platform = {marker} AND remote_id = {marker}", updates)
    for child in (t.hashtags, t.mentions, t.links):
        connection.exec_driver_sql(f"DELETE FROM {child.name} WHERE platform = {marker} AND remote_id = {marker}",
                                   list(changed))
    return updated
