"""The archive store: every post of every account, in the queue's database.

This module is the contract the rest of the archive relies on (import, fetch, export, stats,
show, render). All SQL about archived posts lives here; callers get and give plain
`archive.records` values.

Errors: every function raises campaign.errors.DatabaseError (via campaign.queue.db.Database) when
the database cannot be opened, read or written; nothing else from the driver escapes. An
exception raised by the caller's iterable (e.g. an importer's ImportFormatError) rolls the
whole call back and propagates unchanged.

Campaign link: posts the campaign queue sent are recognised *at query time*, by joining the
queue's `sent_parts` (remote id of each accepted part) through `scheduled_posts` (campaign,
occurrence key) and `accounts` (platform). A post sent after it was imported is therefore
linked without re-importing, and nothing is stored twice.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

import orjson
from sqlalchemy import Text, and_, exc, exists, func, insert, select, text, true, type_coerce, update

from campaign.queue.db import Database, alembic_upgrade, database_url
from campaign.errors import DatabaseError

from . import tables as t
from .records import KINDS, ArchivedPost, Link, PostFilter

HEAD_REVISION = "a0002"
VERSION_TABLE = "archive_alembic_version"
MIGRATIONS = Path(__file__).parent / "migrations"
BATCH = 1000


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


# -- opening -----------------------------------------------------------------

def open_archive(db_url: str | None, posts_file: Path | str | None = None, *, create: bool = True) -> Database:
    """Open the database the way `campaign` does (--db, then CAMPAIGN_DATABASE_URL, then campaign.db
    beside posts_file or in the current folder), apply the queue's and the archive's migrations,
    and return it. create=False (commands that only read) refuses a SQLite file that does not
    exist rather than making an empty one: a mistyped --db is then named, not shown as an empty
    archive. Raises DatabaseError (bad URL, unreachable, corrupt, locked, or not there)."""
    url = database_url(db_url, posts_file)
    if not create:
        _require_sqlite_file(url)
    database = Database(url)
    migrate(database)
    return database


def _require_sqlite_file(url: str) -> None:
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        return  # Database() names a bad URL
    path = parsed.database
    if parsed.get_backend_name() == "sqlite" and path and path != ":memory:" and not path.startswith("file:") \
            and not Path(path).exists():
        raise DatabaseError(f"{path}: no database here (import or fetch posts first, or check --db)")


def migrate(database: Database) -> None:
    """Bring the archive's tables to HEAD_REVISION (its own Alembic chain and version table).
    Cheap when current: one SELECT, Alembic is not imported; a new archive is created in one
    step, without Alembic either. Safe when processes race."""
    database.bring_to_head(t.metadata, head=HEAD_REVISION, version_table=VERSION_TABLE, migrations=MIGRATIONS,
                           lock="archive-migrate")


def _upgrade(database: Database, revision: str = "head") -> None:
    """Alembic's way, one migration after another (how an archive made by an older version gets here)."""
    with database.migration_transaction("archive-migrate") as connection:
        alembic_upgrade(connection, MIGRATIONS, revision)


# -- writing -------------------------------------------------------------------

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
    source_key = _dumps(source)
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


def _json_encoder() -> Callable[[object], str]:
    """Compact JSON, non-ASCII kept: the same text as json.dumps(ensure_ascii=False, separators=(",", ":")).

    orjson writes it four times as fast as the standard library, which matters for the raw JSON
    of every imported post. What orjson refuses (a lone surrogate, an integer beyond 64 bits, a
    non-string key) goes through the standard library's C encoder, built once rather than per
    call; no circular-reference check: the values are parsed JSON or built from it."""
    from json import encoder

    default = json.JSONEncoder().default  # raises TypeError naming the type, as json.dumps does
    if encoder.c_make_encoder is None:
        standard = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    else:
        iterencode = encoder.c_make_encoder(None, default, encoder.encode_basestring, None, ":", ",", False, False,
                                            True)

        def standard(value):
            return "".join(iterencode(value, 0))

    fast, refused = orjson.dumps, orjson.JSONEncodeError

    def dumps(value) -> str:
        try:
            return fast(value).decode()
        except refused:
            return standard(value)

    return dumps


_dumps = _json_encoder()
_loads = orjson.loads
_POST_COLUMNS = [column.name for column in t.posts.c]


def _utc_text(moment: datetime) -> str:
    """An aware datetime as UTC text, the way UTCDateTime stores it in SQLite (SQLAlchemy's form:
    always six fractional digits, so text comparisons order correctly); PostgreSQL reads the
    same text into its timestamp columns. A naive datetime is refused, as UTCDateTime does."""
    if moment.tzinfo is not timezone.utc:
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime {moment.isoformat()} given to the archive; use aware datetimes")
        moment = moment.astimezone(timezone.utc)
    text_form = moment.isoformat(" ")  # "2015-01-27 10:00:00+00:00", or with ".ffffff" before the offset
    return text_form[:19] + ".000000" if len(text_form) == 25 else text_form[:26]


def _from_utc_text(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc) if value else None


# A post's values as prepare() gives them: the posts row up to raw, then deleted_at.
_SAID_COLUMNS = _POST_COLUMNS[:_POST_COLUMNS.index("raw") + 1] + ["deleted_at"]
_ENTITIES, _RAW = _SAID_COLUMNS.index("entities"), _SAID_COLUMNS.index("raw")


def _said(r: ArchivedPost, source_key: str) -> tuple:
    """What a source said of a post, in _SAID_COLUMNS order and the database's form (times as UTC
    text, JSON columns as text, the raw JSON under the source's name)."""
    if r.kind not in KINDS:
        raise ValueError(f"post {r.platform}/{r.remote_id}: kind {r.kind!r} is not one of {KINDS}")
    links = r.links
    entities = _dumps({"hashtags": list(r.hashtags), "mentions": list(r.mentions),
                       "links": [[link.url, link.expanded_url, link.display_url] for link in links] if links else [],
                       "media": list(r.media)})
    return (r.platform, r.remote_id, r.account, _utc_text(r.created_at), r.text, r.kind, r.url, r.language,
            r.reply_to_id, r.reply_to_account, r.conversation_id, r.quoted_id, r.reposted_id, r.source_app,
            _dumps(r.metrics), entities, _dumps(list(r.edit_history)) if r.edit_history else "[]",
            "{" + source_key + ":" + _dumps(r.raw) + "}" if r.raw is not None else "{}", _said_deleted(r))


def _digest(said: tuple) -> str:
    """The digest of what a source said of a post (kept in `sources`, so that importing the same
    data again is recognised): str() of each value, joined by the record separator (U+001E),
    which JSON text cannot hold unescaped."""
    return hashlib.sha256("\x1e".join(map(str, said)).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _row(said: tuple, sources: str, first_seen: str, last_seen: str) -> tuple:
    """The archive_posts row (in _POST_COLUMNS order) of what a source said."""
    return said[:-1] + (sources, said[-1], first_seen, last_seen)


def _children(said: tuple, tags: list, handles: list, urls: list) -> None:
    """Add the child-table rows of a post (from its entities JSON) to tags, handles and urls."""
    platform, remote_id = said[0], said[1]
    entities = _loads(said[_ENTITIES])
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
    return _utc_text(record.deleted_at) if record.deleted_at is not None else None


def _record_of(said: tuple) -> ArchivedPost:
    """The record (without raw) of a post's values in _SAID_COLUMNS order."""
    mapping = dict(zip(_SAID_COLUMNS, said))
    mapping["created_at"] = _from_utc_text(mapping["created_at"])
    mapping["deleted_at"] = _from_utc_text(mapping["deleted_at"])
    return _record(mapping, raw=False)


def _insert_many(connection, table, names: list[str], rows: list[tuple]) -> None:
    """A plain executemany of pre-converted tuples: the bulk path (no per-row SQLAlchemy processing)."""
    if not rows:
        return
    marker = _marker(connection)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) "
                               f"VALUES ({', '.join([marker] * len(names))})", rows)


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
    stored_now = _utc_text(now)
    source_key = _dumps(source)
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
    _insert_many(connection, posts, _POST_COLUMNS, inserts)
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
        old = _record_of(tuple(_utc_text(value) if isinstance(value, datetime) else value for value in stored[:-1]))
        merged = merge(old, _record_of(said))
        if merged != old:
            updated += 1
        merged_said = _said(merged, "")
        raw = {**_loads(stored.raw or "{}"), **_loads(said[_RAW])}
        sources = {**_loads(stored.sources), source: digest}
        updates.append(merged_said[2:_RAW] + (_dumps(raw), _dumps(sources), merged_said[-1], stored_now) + key)
        _children(merged_said, tags, handles, urls)
    names = _SAID_COLUMNS[2:_RAW] + ["raw", "sources", "deleted_at", "last_seen_at"]
    connection.exec_driver_sql(f"UPDATE {posts.name} SET {', '.join(f'{name} = {marker}' for name in names)} "
                               f"WHERE platform = {marker} AND remote_id = {marker}", updates)
    for child in (t.hashtags, t.mentions, t.links):
        connection.exec_driver_sql(f"DELETE FROM {child.name} WHERE platform = {marker} AND remote_id = {marker}",
                                   list(changed))
    return updated


# -- reading -------------------------------------------------------------------

def _sent():
    """(remote_id, platform, campaign_id, occurrence key) of every part the campaign queue sent."""
    from campaign.queue.tables import accounts, scheduled_posts, sent_parts

    return (select(sent_parts.c.remote_id.label("remote_id"), accounts.c.platform.label("platform"),
                   scheduled_posts.c.campaign_id.label("campaign_id"), scheduled_posts.c.key.label("occurrence_key"))
            .select_from(sent_parts.join(scheduled_posts, scheduled_posts.c.id == sent_parts.c.post_id)
                         .join(accounts, accounts.c.name == scheduled_posts.c.account))
            .subquery("sent"))


def _where(post_filter: PostFilter, sent):
    posts = t.posts
    conditions = []
    if post_filter.accounts:
        conditions.append(func.lower(posts.c.account).in_([a.lstrip("@").lower() for a in post_filter.accounts]))
    if post_filter.platform:
        conditions.append(posts.c.platform == post_filter.platform)
    if post_filter.since is not None:
        conditions.append(posts.c.created_at >= post_filter.since)
    if post_filter.until is not None:
        conditions.append(posts.c.created_at < post_filter.until)
    if post_filter.hashtag:
        tags = t.hashtags
        conditions.append(exists().where(tags.c.platform == posts.c.platform, tags.c.remote_id == posts.c.remote_id,
                                         tags.c.tag == post_filter.hashtag.lstrip("#").lower()))
    if post_filter.kinds:
        conditions.append(posts.c.kind.in_(post_filter.kinds))
    if post_filter.campaign:
        conditions.append(sent.c.campaign_id == post_filter.campaign)
    if post_filter.search:
        conditions.append(func.lower(posts.c.text).contains(post_filter.search.lower(), autoescape=True))
    if not post_filter.include_deleted:
        conditions.append(posts.c.deleted_at.is_(None))
    return and_(true(), *conditions)


def _joined(sent):
    posts = t.posts
    return posts.outerjoin(sent, and_(sent.c.remote_id == posts.c.remote_id, sent.c.platform == posts.c.platform))


def query_posts(database: Database, post_filter: PostFilter = PostFilter(), *,
                batch: int = BATCH, with_raw: bool = True) -> Iterator[ArchivedPost]:
    """The posts matching post_filter, streamed (a server-side cursor on PostgreSQL, `batch` rows
    at a time), ordered by created_at then remote_id, oldest first unless filter.newest_first.
    Deleted posts only with filter.include_deleted. campaign_id/occurrence_key are filled for posts
    the campaign queue sent. The read transaction stays open until the iterator is exhausted or
    closed. with_raw=False leaves raw None (faster when the source JSON is not needed).
    Raises DatabaseError."""
    posts = t.posts
    sent = _sent()
    columns = [c for c in posts.c if with_raw or c.name != "raw"]
    order = ((posts.c.created_at.desc(), posts.c.remote_id.desc()) if post_filter.newest_first
             else (posts.c.created_at, posts.c.remote_id))
    statement = (select(*columns, sent.c.campaign_id, sent.c.occurrence_key).select_from(_joined(sent))
                 .where(_where(post_filter, sent)).order_by(*order))
    if post_filter.limit is not None:
        statement = statement.limit(post_filter.limit)
    with database.transaction() as connection:
        result = connection.execution_options(yield_per=batch).execute(statement)
        names = list(result.keys())
        for row in result:  # as plain dicts: _record's lookups (and misses, e.g. raw) cost less than on RowMapping
            yield _record(dict(zip(names, row)))


class FlatPost:
    """The fields of a post that a table row needs (CSV, XLSX), read without building a full
    ArchivedPost: no raw JSON, media or edit history. Attribute names match ArchivedPost."""

    __slots__ = ("platform", "remote_id", "account", "created_at", "text", "kind", "url", "language",
                 "reply_to_id", "metrics", "hashtags", "mentions", "links", "deleted_at", "campaign_id",
                 "occurrence_key")

    def __init__(self, row: tuple, loads=orjson.loads, fromisoformat=datetime.fromisoformat, utc=timezone.utc):
        (self.platform, self.remote_id, self.account, created_at, self.text, self.kind, self.url,
         self.language, self.reply_to_id, metrics, entities, deleted_at, self.campaign_id,
         self.occurrence_key) = row
        # As the driver returns them untyped (SQLite: text; PostgreSQL: naive datetime), made aware.
        self.created_at = (fromisoformat(created_at) if type(created_at) is str else created_at).replace(tzinfo=utc)
        self.deleted_at = (None if deleted_at is None else
                           (fromisoformat(deleted_at) if type(deleted_at) is str else deleted_at).replace(tzinfo=utc))
        self.metrics = loads(metrics)
        entities = loads(entities)
        self.hashtags = entities.get("hashtags", ())
        self.mentions = entities.get("mentions", ())
        links = entities.get("links")
        self.links = tuple(Link(*link) for link in links) if links else ()


def query_flat(database: Database, post_filter: PostFilter = PostFilter(), *,
               batch: int = BATCH) -> Iterator[FlatPost]:
    """Like query_posts, for exporters of flat rows: the same posts in the same order, as FlatPost."""
    posts = t.posts
    sent = _sent()
    order = ((posts.c.created_at.desc(), posts.c.remote_id.desc()) if post_filter.newest_first
             else (posts.c.created_at, posts.c.remote_id))
    c = posts.c
    # The times are read untyped and made aware by FlatPost: SQLAlchemy's per-value processing
    # cost more than the rest of reading a row.
    statement = (select(c.platform, c.remote_id, c.account, type_coerce(c.created_at, Text), c.text, c.kind, c.url,
                        c.language, c.reply_to_id, c.metrics, c.entities, type_coerce(c.deleted_at, Text),
                        sent.c.campaign_id, sent.c.occurrence_key)
                 .select_from(_joined(sent)).where(_where(post_filter, sent)).order_by(*order))
    if post_filter.limit is not None:
        statement = statement.limit(post_filter.limit)
    with database.transaction() as connection:
        for row in connection.execution_options(yield_per=batch).execute(statement):
            yield FlatPost(row)


def count_posts(database: Database, post_filter: PostFilter = PostFilter()) -> int:
    """How many posts query_posts would yield (for progress bars). Raises DatabaseError."""
    sent = _sent()
    statement = select(func.count()).select_from(_joined(sent)).where(_where(post_filter, sent))
    with database.transaction() as connection:
        count = connection.execute(statement).scalar_one()
    return min(count, post_filter.limit) if post_filter.limit is not None else count


def get_post(database: Database, platform: str, remote_id: str) -> ArchivedPost | None:
    """One post by its identity (deleted or not), or None. Raises DatabaseError."""
    posts = t.posts
    sent = _sent()
    statement = (select(posts, sent.c.campaign_id, sent.c.occurrence_key).select_from(_joined(sent))
                 .where(posts.c.platform == platform, posts.c.remote_id == remote_id))
    with database.transaction() as connection:
        row = connection.execute(statement).first()
    return _record(row._mapping) if row else None


def post_times(database: Database, platform: str, remote_id: str) -> tuple[datetime, datetime] | None:
    """(first_seen_at, last_seen_at) of a post, or None. Raises DatabaseError."""
    posts = t.posts
    with database.transaction() as connection:
        row = connection.execute(select(posts.c.first_seen_at, posts.c.last_seen_at)
                                 .where(posts.c.platform == platform, posts.c.remote_id == remote_id)).first()
    return (row.first_seen_at, row.last_seen_at) if row else None


def _record(row, *, raw: bool = True) -> ArchivedPost:
    entities = json.loads(row["entities"])
    sources = json.loads(row["raw"]) if raw and row.get("raw") else {}
    links = entities.get("links")
    return ArchivedPost(
        platform=row["platform"], remote_id=row["remote_id"], account=row["account"], created_at=row["created_at"],
        text=row["text"], kind=row["kind"], url=row["url"], language=row["language"],
        reply_to_id=row["reply_to_id"], reply_to_account=row["reply_to_account"],
        conversation_id=row["conversation_id"], quoted_id=row["quoted_id"], reposted_id=row["reposted_id"],
        source_app=row["source_app"], metrics=json.loads(row["metrics"]),
        hashtags=tuple(entities.get("hashtags", ())), mentions=tuple(entities.get("mentions", ())),
        links=tuple(Link(*link) for link in links) if links else (), media=tuple(entities.get("media", ())),
        deleted_at=row["deleted_at"], edit_history=tuple(json.loads(row["edit_history"])),
        # One source: its JSON as it was. Several: {source: JSON}.
        raw=next(iter(sources.values())) if len(sources) == 1 else (sources or None),
        campaign_id=row.get("campaign_id"), occurrence_key=row.get("occurrence_key"))


# -- the fetcher's state -------------------------------------------------------------

def get_fetch_state(database: Database, platform: str, account: str) -> dict | None:
    """What set_fetch_state last stored for (platform, account), plus "updated_at" (aware UTC);
    None if never set. Raises DatabaseError."""
    state = t.fetch_state
    with database.transaction() as connection:
        row = connection.execute(select(state.c.state, state.c.updated_at)
                                 .where(state.c.platform == platform, state.c.account == account)).first()
    return {**row.state, "updated_at": row.updated_at} if row else None


def set_fetch_state(database: Database, platform: str, account: str, state: dict, now: datetime) -> None:
    """Replace the stored state (a JSON-able dict: newest_id/since_id, cursor, …) of (platform, account)
    in its own transaction. Raises DatabaseError."""
    table = t.fetch_state
    values = {k: v for k, v in state.items() if k != "updated_at"}
    with database.transaction(write=True) as connection:
        done = connection.execute(update(table).where(table.c.platform == platform, table.c.account == account)
                                  .values(state=values, updated_at=now)).rowcount
        if not done:
            connection.execute(insert(table).values(platform=platform, account=account, state=values, updated_at=now))
