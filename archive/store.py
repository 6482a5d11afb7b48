"""The archive store: every post of every account, in the queue's database.

This module is the contract the rest of the archive relies on (import, fetch, export, stats,
show, render). All SQL about archived posts lives here; callers get and give plain
`archive.records` values.

Errors: every function raises campaign.errors.DatabaseError (via campaign.db.Database) when
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
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from sqlalchemy import and_, bindparam, delete, exc, exists, func, insert, select, text, true, update

from campaign.db import Database, database_url

from . import tables as t
from .records import KINDS, ArchivedPost, Link, PostFilter

HEAD_REVISION = "a0001"
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

def open_archive(db_url: str | None, posts_file: Path | str | None = None) -> Database:
    """Open the database the way `campaign` does (--db, then CAMPAIGN_DATABASE_URL, then campaign.db
    beside posts_file or in the current folder), apply the queue's and the archive's migrations,
    and return it. Raises DatabaseError (bad URL, unreachable, corrupt, locked)."""
    database = Database(database_url(db_url, posts_file))
    migrate(database)
    return database


def migrate(database: Database) -> None:
    """Bring the archive's tables to HEAD_REVISION (its own Alembic chain and version table).
    Cheap when current: one SELECT, Alembic is not imported. Safe when processes race."""
    if _revision(database) == HEAD_REVISION:
        return
    for attempt in range(20):
        try:
            _upgrade(database)
            return
        except exc.DBAPIError as error:
            time.sleep(0.05 * (attempt + 1))
            if _revision(database) == HEAD_REVISION:
                return
            if attempt == 19:
                raise database.describe(error) from None


def _revision(database: Database) -> str | None:
    try:
        with database.engine.connect() as connection:
            return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except (exc.OperationalError, exc.ProgrammingError) as error:
        if isinstance(error, exc.ProgrammingError) or "no such table" in str(error).lower():
            return None
        raise database.describe(error) from None
    except exc.DBAPIError as error:
        raise database.describe(error) from None


def _upgrade(database: Database) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.connect() as connection:
        if database.is_sqlite:
            connection = connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        elif database.url.get_backend_name() == "postgresql":
            key = int.from_bytes(hashlib.sha256(b"praatmee:archive-migrate").digest()[:8], "big") >> 1
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


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
    summary = UpsertSummary()
    iterator = iter(records)
    with database.transaction(write=True) as connection:
        while True:
            batch: dict[tuple[str, str], ArchivedPost] = {}
            for record in islice(iterator, BATCH):
                key = (record.platform, record.remote_id)
                batch[key] = merge(batch[key], record) if key in batch else record
            if not batch:
                break
            summary = summary + _upsert_batch(connection, batch, source, now)
            if progress:
                progress(len(batch))
    return summary


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


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # the C encoder
_POST_COLUMNS = [column.name for column in t.posts.c]


def _entities(record: ArchivedPost) -> dict:
    return {"hashtags": list(record.hashtags), "mentions": list(record.mentions),
            "links": [[link.url, link.expanded_url, link.display_url] for link in record.links],
            "media": list(record.media)}


class _Serialised:
    """A record's JSON columns, serialised once, and the digest of everything a source said."""

    __slots__ = ("record", "metrics", "entities", "edits", "raw", "digest")

    def __init__(self, record: ArchivedPost):
        if record.kind not in KINDS:
            raise ValueError(f"post {record.platform}/{record.remote_id}: kind {record.kind!r} is not one of {KINDS}")
        self.record = record
        self.metrics = _dumps(record.metrics)
        self.entities = _dumps(_entities(record))
        self.edits = _dumps(list(record.edit_history))
        self.raw = _dumps(record.raw) if record.raw is not None else None
        r = record
        key = "\x1e".join(str(v) for v in (
            r.account, r.created_at.isoformat(), r.text, r.kind, r.url, r.language, r.reply_to_id, r.reply_to_account,
            r.conversation_id, r.quoted_id, r.reposted_id, r.source_app, r.deleted_at, self.metrics, self.entities,
            self.edits, self.raw))
        self.digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()

    def values(self, *, raw: str, sources: str, first_seen, now, db_time) -> tuple:
        """The row in _POST_COLUMNS order, datetimes already in the driver's form (db_time)."""
        r = self.record
        return (r.platform, r.remote_id, r.account, db_time(r.created_at), r.text, r.kind, r.url, r.language,
                r.reply_to_id, r.reply_to_account, r.conversation_id, r.quoted_id, r.reposted_id, r.source_app,
                self.metrics, self.entities, self.edits, raw, sources,
                db_time(r.deleted_at) if r.deleted_at else None, db_time(first_seen), db_time(now))


def _db_time(connection) -> Callable[[datetime], object]:
    """How the driver takes a UTC datetime in this database, the way UTCDateTime stores it
    (SQLite: SQLAlchemy's text form, so comparisons with bound values stay right; others: naive UTC)."""
    if connection.dialect.name == "sqlite":
        def sqlite_time(moment: datetime) -> str:
            u = moment.astimezone(timezone.utc)
            return (f"{u.year:04d}-{u.month:02d}-{u.day:02d} {u.hour:02d}:{u.minute:02d}:{u.second:02d}"
                    f".{u.microsecond:06d}")
        return sqlite_time
    return lambda moment: moment.astimezone(timezone.utc).replace(tzinfo=None)


def _insert_many(connection, table, names: list[str], rows: list[tuple]) -> None:
    """A plain executemany of pre-converted tuples: the bulk path (no per-row SQLAlchemy processing)."""
    if not rows:
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) "
                               f"VALUES ({', '.join([marker] * len(names))})", rows)


def _children(record: ArchivedPost, tags: list, handles: list, urls: list) -> None:
    platform, remote_id = record.platform, record.remote_id
    if record.hashtags:
        tags += [(platform, remote_id, tag) for tag in dict.fromkeys(tag.lower() for tag in record.hashtags)]
    if record.mentions:
        handles += [(platform, remote_id, h) for h in dict.fromkeys(h.lower() for h in record.mentions)]
    if record.links:
        urls += [(platform, remote_id, index, link.url, link.expanded_url) for index, link in enumerate(record.links)]


def _with_source(raw_json: str, source: str, raw: str | None) -> str:
    stored = json.loads(raw_json) if raw_json else {}
    if raw is not None:
        stored[source] = json.loads(raw)
    return _dumps(stored)


def _upsert_batch(connection, batch: dict, source: str, now: datetime) -> UpsertSummary:
    posts = t.posts
    db_time = _db_time(connection)
    by_platform: dict[str, list[str]] = {}
    for platform, remote_id in batch:
        by_platform.setdefault(platform, []).append(remote_id)
    known: dict[tuple[str, str], dict] = {}
    for platform, ids in by_platform.items():
        for row in connection.execute(select(posts.c.platform, posts.c.remote_id, posts.c.sources)
                                      .where(posts.c.platform == platform, posts.c.remote_id.in_(ids))):
            known[(row.platform, row.remote_id)] = json.loads(row.sources)

    inserts, unchanged, changed = [], [], {}
    tags, handles, urls = [], [], []
    source_key = _dumps(source)
    for key, record in batch.items():
        serialised = _Serialised(record)
        if key not in known:
            raw = "{" + source_key + ":" + serialised.raw + "}" if serialised.raw is not None else "{}"
            inserts.append(serialised.values(raw=raw, sources="{" + source_key + ":\"" + serialised.digest + "\"}",
                                             first_seen=now, now=now, db_time=db_time))
            _children(record, tags, handles, urls)
        elif known[key].get(source) == serialised.digest:
            unchanged.append(key)
        else:
            changed[key] = serialised

    updated = 0
    if changed:
        updates = []
        for platform in {platform for platform, _ in changed}:
            ids = [remote_id for (p, remote_id) in changed if p == platform]
            for row in connection.execute(select(posts).where(posts.c.platform == platform,
                                                              posts.c.remote_id.in_(ids))):
                serialised = changed[(row.platform, row.remote_id)]
                old = _record(row._mapping, raw=False)
                merged = _Serialised(merge(old, replace(serialised.record, raw=None)))
                if merged.record != old:
                    updated += 1
                sources = {**json.loads(row.sources), source: serialised.digest}
                values = dict(zip(_POST_COLUMNS, merged.values(
                    raw=_with_source(row.raw, source, serialised.raw), sources=_dumps(sources),
                    first_seen=row.first_seen_at, now=now, db_time=lambda moment: moment)))
                updates.append({("b_" + k if k in ("platform", "remote_id") else k): v for k, v in values.items()})
                _children(merged.record, tags, handles, urls)
        statement = (update(posts).where(posts.c.platform == bindparam("b_platform"),
                                         posts.c.remote_id == bindparam("b_remote_id"))
                     .values({k: bindparam(k) for k in updates[0] if not k.startswith("b_")}))
        connection.execute(statement, updates)
        for child in (t.hashtags, t.mentions, t.links):
            connection.execute(delete(child).where(child.c.platform == bindparam("b_platform"),
                                                   child.c.remote_id == bindparam("b_remote_id")),
                               [{"b_platform": p, "b_remote_id": r} for p, r in changed])
    _insert_many(connection, posts, _POST_COLUMNS, inserts)
    _insert_many(connection, t.hashtags, ["platform", "remote_id", "tag"], tags)
    _insert_many(connection, t.mentions, ["platform", "remote_id", "handle"], handles)
    _insert_many(connection, t.links, ["platform", "remote_id", "position", "url", "expanded_url"], urls)
    for platform in {platform for platform, _ in unchanged}:
        ids = [remote_id for (p, remote_id) in unchanged if p == platform]
        connection.execute(update(posts).where(posts.c.platform == platform, posts.c.remote_id.in_(ids))
                           .values(last_seen_at=now))
    return UpsertSummary(new=len(inserts), updated=updated, unchanged=len(batch) - len(inserts) - updated)


# -- reading -------------------------------------------------------------------

def _sent():
    """(remote_id, platform, campaign_id, occurrence key) of every part the campaign queue sent."""
    from campaign.tables import accounts, scheduled_posts, sent_parts

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
        for row in result:
            yield _record(row._mapping)


def count_posts(database: Database, post_filter: PostFilter = PostFilter()) -> int:
    """How many posts query_posts would yield (for progress bars). Raises DatabaseError."""
    posts = t.posts
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
