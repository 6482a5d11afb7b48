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
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple

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
    return upsert_prepared(database, prepare(records), source=source, now=now, progress=progress)


def prepare(records: Iterable[ArchivedPost]) -> Iterator[list[Encoded]]:
    """records in batches for upsert_prepared: up to BATCH posts, duplicates within a batch merged,
    each post's JSON columns serialised. No database; the batches pickle cheaply (`archive import`
    prepares them in a second process while the first writes)."""
    iterator = iter(records)
    while True:
        batch: dict[tuple[str, str], ArchivedPost] = {}
        for record in islice(iterator, BATCH):
            key = (record.platform, record.remote_id)
            batch[key] = merge(batch[key], record) if key in batch else record
        if not batch:
            return
        yield [_encoded(record) for record in batch.values()]


def upsert_prepared(database: Database, batches: Iterable[list[Encoded]], *, source: str, now: datetime,
                    progress: Callable[[int], None] | None = None) -> UpsertSummary:
    """upsert_posts for records already prepared (by prepare); same transaction, same result."""
    summary = UpsertSummary()
    with database.transaction(write=True) as connection:
        db_time = _sqlite_time if connection.dialect.name == "sqlite" else _naive_utc
        for batch in batches:
            summary = summary + _upsert_batch(connection, batch, source, now, db_time)
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


def _json_encoder() -> Callable[[object], str]:
    """Compact JSON, non-ASCII kept: the same text as json.dumps(ensure_ascii=False, separators=(",", ":")).

    The C encoder is built once rather than per call (json.dumps builds one each time, a
    quarter of its cost on small values). No circular-reference check: the values are parsed
    JSON or built from it, which cannot refer to themselves."""
    from json import encoder

    if encoder.c_make_encoder is None:
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    default = json.JSONEncoder().default  # raises TypeError naming the type, as json.dumps does
    iterencode = encoder.c_make_encoder(None, default, encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda value: "".join(iterencode(value, 0))


_dumps = _json_encoder()
_POST_COLUMNS = [column.name for column in t.posts.c]


_POST_COLUMNS = [column.name for column in t.posts.c]


class Encoded(NamedTuple):
    """A post as prepare() hands it over: plain values, its JSON columns as text."""

    platform: str
    remote_id: str
    account: str
    created_at: datetime
    text: str
    kind: str
    url: str | None
    language: str | None
    reply_to_id: str | None
    reply_to_account: str | None
    conversation_id: str | None
    quoted_id: str | None
    reposted_id: str | None
    source_app: str | None
    metrics: str
    entities: str
    edit_history: str
    raw: str | None  # the source's JSON
    deleted_at: datetime | None
    hashtags: tuple  # for the child tables
    mentions: tuple
    links: tuple  # (url, expanded_url)


def _encoded(record: ArchivedPost) -> Encoded:
    r = record
    if r.kind not in KINDS:
        raise ValueError(f"post {r.platform}/{r.remote_id}: kind {r.kind!r} is not one of {KINDS}")
    entities = _dumps({"hashtags": list(r.hashtags), "mentions": list(r.mentions),
                       "links": [[link.url, link.expanded_url, link.display_url] for link in r.links],
                       "media": list(r.media)})
    return Encoded(r.platform, r.remote_id, r.account, r.created_at, r.text, r.kind, r.url, r.language, r.reply_to_id,
                   r.reply_to_account, r.conversation_id, r.quoted_id, r.reposted_id, r.source_app,
                   _dumps(r.metrics), entities, _dumps(list(r.edit_history)) if r.edit_history else "[]",
                   _dumps(r.raw) if r.raw is not None else None, r.deleted_at,
                   r.hashtags, r.mentions, tuple((link.url, link.expanded_url) for link in r.links))


def _digest(e: Encoded) -> str:
    """The digest of everything a source said about a post (stored in `sources`): the fields as
    str() (which f-string fields are, for these types) joined by \\x1e."""
    key = (f"{e.account}\x1e{e.created_at.isoformat()}\x1e{e.text}\x1e{e.kind}\x1e{e.url}\x1e{e.language}\x1e"
           f"{e.reply_to_id}\x1e{e.reply_to_account}\x1e{e.conversation_id}\x1e{e.quoted_id}\x1e{e.reposted_id}\x1e"
           f"{e.source_app}\x1e{e.deleted_at}\x1e{e.metrics}\x1e{e.entities}\x1e{e.edit_history}\x1e{e.raw}")
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _row(e: Encoded, *, raw: str, sources: str, first_seen, now, db_time) -> tuple:
    """The posts row in _POST_COLUMNS order; created_at/deleted_at through db_time (the driver's
    form), first_seen and now given in that form."""
    return (e.platform, e.remote_id, e.account, db_time(e.created_at), e.text, e.kind, e.url, e.language,
            e.reply_to_id, e.reply_to_account, e.conversation_id, e.quoted_id, e.reposted_id, e.source_app,
            e.metrics, e.entities, e.edit_history, raw, sources,
            db_time(e.deleted_at) if e.deleted_at else None, first_seen, now)


def _children(e: Encoded, tags: list, handles: list, urls: list) -> None:
    platform, remote_id = e.platform, e.remote_id
    if e.hashtags:
        tags += [(platform, remote_id, tag) for tag in dict.fromkeys(tag.lower() for tag in e.hashtags)]
    if e.mentions:
        handles += [(platform, remote_id, h) for h in dict.fromkeys(h.lower() for h in e.mentions)]
    if e.links:
        urls += [(platform, remote_id, index, url, expanded) for index, (url, expanded) in enumerate(e.links)]


def _record_of(e: Encoded) -> ArchivedPost:
    """The record (without raw) an Encoded was made from, read back as from the database."""
    return _record({**e._asdict(), "raw": None}, raw=False)


def _sqlite_time(moment: datetime) -> str:
    """A UTC datetime the way UTCDateTime stores it in SQLite: SQLAlchemy's text form (always six
    fractional digits, which isoformat leaves out when they are zero), so comparisons stay right."""
    text_form = moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ")
    return text_form if len(text_form) > 19 else text_form + ".000000"


def _naive_utc(moment: datetime) -> datetime:
    """A UTC datetime the way UTCDateTime stores it in other databases."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _insert_many(connection, table, names: list[str], rows: list[tuple]) -> None:
    """A plain executemany of pre-converted tuples: the bulk path (no per-row SQLAlchemy processing)."""
    if not rows:
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) "
                               f"VALUES ({', '.join([marker] * len(names))})", rows)


def _with_source(raw_json: str, source: str, raw: str | None) -> str:
    stored = json.loads(raw_json) if raw_json else {}
    if raw is not None:
        stored[source] = json.loads(raw)
    return _dumps(stored)


def _upsert_batch(connection, batch: list[Encoded], source: str, now: datetime, db_time) -> UpsertSummary:
    posts = t.posts
    by_platform: dict[str, list[str]] = {}
    for e in batch:
        by_platform.setdefault(e.platform, []).append(e.remote_id)
    known: dict[tuple[str, str], dict] = {}
    for platform, ids in by_platform.items():
        for row in connection.execute(select(posts.c.platform, posts.c.remote_id, posts.c.sources)
                                      .where(posts.c.platform == platform, posts.c.remote_id.in_(ids))):
            known[(row.platform, row.remote_id)] = json.loads(row.sources)

    inserts, unchanged, changed = [], [], {}
    tags, handles, urls = [], [], []
    source_key = _dumps(source)
    stored_now = db_time(now)
    for e in batch:
        key = (e.platform, e.remote_id)
        digest = _digest(e)
        if key not in known:
            raw = "{" + source_key + ":" + e.raw + "}" if e.raw is not None else "{}"
            inserts.append(_row(e, raw=raw, sources="{" + source_key + ":\"" + digest + "\"}", first_seen=stored_now,
                                now=stored_now, db_time=db_time))
            _children(e, tags, handles, urls)
        elif known[key].get(source) == digest:
            unchanged.append(key)
        else:
            changed[key] = (e, digest)

    updated = 0
    if changed:
        updates = []
        for platform in {platform for platform, _ in changed}:
            ids = [remote_id for (p, remote_id) in changed if p == platform]
            for row in connection.execute(select(posts).where(posts.c.platform == platform,
                                                              posts.c.remote_id.in_(ids))):
                e, digest = changed[(row.platform, row.remote_id)]
                old = _record(row._mapping, raw=False)
                merged_record = merge(old, _record_of(e))
                merged = _encoded(merged_record)
                if merged_record != old:
                    updated += 1
                sources = {**json.loads(row.sources), source: digest}
                values = dict(zip(_POST_COLUMNS, _row(
                    merged, raw=_with_source(row.raw, source, e.raw), sources=_dumps(sources),
                    first_seen=row.first_seen_at, now=now, db_time=lambda moment: moment)))
                updates.append({("b_" + k if k in ("platform", "remote_id") else k): v for k, v in values.items()})
                _children(merged, tags, handles, urls)
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
        names = list(result.keys())
        for row in result:  # as plain dicts: _record's lookups (and misses, e.g. raw) cost less than on RowMapping
            yield _record(dict(zip(names, row)))


class FlatPost:
    """The fields of a post that a table row needs (CSV, XLSX), read without building a full
    ArchivedPost: no raw JSON, media or edit history. Attribute names match ArchivedPost."""

    __slots__ = ("platform", "remote_id", "account", "created_at", "text", "kind", "url", "language",
                 "reply_to_id", "metrics", "hashtags", "mentions", "links", "deleted_at", "campaign_id",
                 "occurrence_key")

    def __init__(self, row: tuple, loads=json.loads):
        (self.platform, self.remote_id, self.account, self.created_at, self.text, self.kind, self.url,
         self.language, self.reply_to_id, metrics, entities, self.deleted_at, self.campaign_id,
         self.occurrence_key) = row
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
    statement = (select(c.platform, c.remote_id, c.account, c.created_at, c.text, c.kind, c.url, c.language,
                        c.reply_to_id, c.metrics, c.entities, c.deleted_at, sent.c.campaign_id,
                        sent.c.occurrence_key)
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
