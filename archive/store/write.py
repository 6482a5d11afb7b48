"""Writing posts: upserts that merge what several sources say of one post, in one transaction,
and the bulk path an import takes (records prepared in batches, plain executemany). The versions
of an edited post are folded into one post, its latest version (fold_chain), whatever order they
arrive in; the few records of edit chains take a path of their own (_Chains, _upsert_chains)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from itertools import chain, islice
from typing import Callable, Iterable, Iterator

import orjson
from sqlalchemy import BigInteger, or_, select, update

from campaign.queue.db import Database

from .. import tables as t
from ..records import KINDS, VISIBILITIES, ArchivedPost, ImportNote, SeenAgain
from .rows import BATCH, dumps, from_utc_text, loads, metric_counts, record_of_row, utc_text


@dataclass(frozen=True)
class UpsertSummary:
    """What one upsert did: posts added, posts whose content changed, posts seen again unchanged."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    notes: tuple[ImportNote, ...] = ()  # what the importer passed over (archive.records.ImportNote)

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged

    def __add__(self, other: "UpsertSummary") -> "UpsertSummary":
        return UpsertSummary(self.new + other.new, self.updated + other.updated, self.unchanged + other.unchanged,
                             self.notes + other.notes)


def upsert_posts(database: Database, records: Iterable[ArchivedPost], *, source: str, now: datetime,
                 progress: Callable[[int], None] | None = None) -> UpsertSummary:
    """Store records in ONE transaction: all of them, or (on any error) none.

    Idempotent: a post is identified by (platform, remote_id); giving the same record from the
    same source again changes nothing but its last_seen_at (counted as unchanged). A record
    from another source, or changed data, is merged into the stored post: the newer non-empty
    value of each field wins, metrics are merged key by key (refreshed), edit histories are
    united, a deletion is kept (earliest time), each source's raw JSON is kept side by side,
    first_seen_at never changes. Versions of one edited post (X: a tweet per version, each naming
    the earlier ones) become one post, the latest version, with the earlier ones in its
    edit_history and versions (fold_chain); a row stored for an earlier version gives way to it.
    An ImportNote among the records is counted in the summary's notes.
    `records` is consumed lazily in batches, so memory stays
    bounded whatever its length; `progress(n)` is called after each batch of n records.
    campaign_id/occurrence_key of the records are ignored (they are derived at query time).
    Raises DatabaseError; exceptions from `records` propagate after the rollback.
    """
    return upsert_prepared(database, prepare(records, source=source), source=source, now=now, progress=progress)


def prepare(records: Iterable[ArchivedPost | SeenAgain], *, source: str) -> Iterator[tuple[list, list, tuple, list]]:
    """records as upsert_prepared takes them: batches of up to BATCH records, each batch (what the
    source said of each post: a tuple in _SAID_COLUMNS order and the form the database takes,
    plain str and None, which pickle cheaply; the digest of each: the record's source_digest or
    one of that tuple; the child-table rows of them all: (hashtags, mentions, links); the
    (platform, remote_id) of each SeenAgain). No database: `archive import` prepares the batches
    in a second process while the first writes, so the digests and child rows too are made
    there. Each record is encoded as it arrives, so its parsed JSON is freed at once. An
    ImportNote among the records is handed on as it is, between batches."""
    source_key = dumps(source)
    iterator = iter(records)
    while True:
        batch, digests, seen, taken = [], [], [], 0
        tags, handles, urls = [], [], []
        for record in islice(iterator, BATCH):
            taken += 1
            kind = type(record)
            if kind is SeenAgain:
                seen.append((record.platform, record.remote_id))
            elif kind is ImportNote:
                yield record
            else:
                said = _said(record, source_key)
                batch.append(said)
                digests.append(record.source_digest or _digest(said))
                _child_rows(record.platform, record.remote_id, record.hashtags, record.mentions,
                            [(link.url, link.expanded_url) for link in record.links] if record.links else (),
                            tags, handles, urls)
        if seen and batch:  # a post given again in the batch (e.g. deleted too) is counted once, by its record
            given = {(said[0], said[1]) for said in batch}
            seen = [key for key in seen if key not in given]
        if batch or seen:
            yield batch, digests, (tags, handles, urls), seen
        if taken < BATCH:
            return


def upsert_prepared(database: Database, batches: Iterable[tuple[list, list, tuple, list]], *, source: str,
                    now: datetime,
                    progress: Callable[[int], None] | None = None) -> UpsertSummary:
    """upsert_posts for records already prepared (by prepare); same transaction, same result."""
    summary = UpsertSummary()
    with database.transaction(write=True) as connection:
        chains = _Chains(connection)
        first = True
        for batch in batches:
            if type(batch) is ImportNote:
                summary = summary + UpsertSummary(notes=(batch,))
                continue
            said, digests, children, seen = batch
            if said:
                summary = summary + _upsert_batch(connection, said, digests, children, source, now, chains)
            if seen:
                _seen_again(connection, seen, utc_text(now))
                summary = summary + UpsertSummary(unchanged=len(seen))
            if first and connection.dialect.name == "postgresql":
                _give_planner_statistics(connection)
            first = False
            if progress:
                progress(len(said) + len(seen))
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
        # Visibility cannot be changed after posting: a source that says less open is believed.
        visibility=max(old.visibility, new.visibility, key=VISIBILITIES.index),
        content_warning=pick(old.content_warning, new.content_warning),
        reposted_account=pick(old.reposted_account, new.reposted_account),
        reposted_url=pick(old.reposted_url, new.reposted_url),
        hashtags=pick(old.hashtags, new.hashtags), mentions=pick(old.mentions, new.mentions),
        links=pick(old.links, new.links), media=pick(old.media, new.media),
        deleted_at=min(deleted) if deleted else None,
        edit_history=tuple(sorted(set(old.edit_history + new.edit_history), key=id_order)),
        raw=new.raw if new.raw is not None else old.raw,
        quoted_url=pick(old.quoted_url, new.quoted_url), versions=_united(old.versions, new.versions),
        referenced=old.referenced and new.referenced)  # one timeline holding it makes it a timeline post


def id_order(remote_id: str):
    """Sorts ids as numbers where they are (X's ids grow with time, so this is the edit order)."""
    return (0, int(remote_id), remote_id) if remote_id.isdigit() else (1, 0, remote_id)


def _united(*histories: tuple[dict, ...]) -> tuple[dict, ...]:
    """Versions of several histories, each id once (the later history's copy), oldest first."""
    by_id = {version["id"]: version for history in histories for version in history}
    return tuple(by_id[key] for key in sorted(by_id, key=id_order))


def _version(post: ArchivedPost) -> dict:
    """An earlier version of an edited post, as the post that is its latest version keeps it."""
    return {"id": post.remote_id, "created_at": post.created_at.isoformat(), "text": post.text,
            "links": [[link.url, link.expanded_url, link.display_url] for link in post.links]}


def fold_chain(posts: list[ArchivedPost]) -> ArchivedPost:
    """The one post an edit chain's versions make, whatever order they came in: the latest version
    (what each source said of it, merged in the given order), with every earlier id in its
    edit_history and every earlier version whose content is known in its versions."""
    latest = max((post.remote_id for post in posts), key=id_order)
    result = None
    for post in posts:
        if post.remote_id == latest:
            result = post if result is None else merge(result, post)
    earlier = [_version(post) for post in posts if post.remote_id != latest]
    versions = tuple(v for v in _united(*(post.versions for post in posts), tuple(earlier)) if v["id"] != latest)
    ids = {i for post in posts for i in post.edit_history} | {post.remote_id for post in posts} | {
        v["id"] for v in versions}
    history = tuple(sorted((i for i in ids if id_order(i) < id_order(latest)), key=id_order))
    return replace(result, edit_history=history, versions=versions,
                   referenced=all(post.referenced for post in posts))


# What a source said of a post, in the order prepare() gives it (every column of archive_posts but
# the three the store keeps itself: sources, first_seen_at, last_seen_at). A new column needs its
# place here and in _said. The metric counts come last: they only restate the metrics.
_SAID_COLUMNS = ["platform", "remote_id", "account", "created_at", "text", "kind", "url", "language", "reply_to_id",
                 "reply_to_account", "conversation_id", "quoted_id", "quoted_url", "reposted_id", "source_app",
                 "visibility", "metrics", "entities",
                 "edit_history", "versions", "edit_chain", "referenced", "raw", "deleted_at",
                 *t.METRIC_COLUMNS.values()]
_OWN_COLUMNS = ["sources", "first_seen_at", "last_seen_at"]
_INSERT_COLUMNS = _SAID_COLUMNS + _OWN_COLUMNS
_ENTITIES, _RAW = _SAID_COLUMNS.index("entities"), _SAID_COLUMNS.index("raw")
_HISTORY, _CHAIN = _SAID_COLUMNS.index("edit_history"), _SAID_COLUMNS.index("edit_chain")


def _said(r: ArchivedPost, source_key: str) -> tuple:
    """What a source said of a post, in _SAID_COLUMNS order and the database's form (times as UTC
    text, JSON columns as text, the raw JSON under the source's name unless the record names its
    sources itself)."""
    if r.kind not in KINDS:
        raise ValueError(f"post {r.platform}/{r.remote_id}: kind {r.kind!r} is not one of {KINDS}")
    if r.visibility not in VISIBILITIES:  # a direct message, too: never stored
        raise ValueError(f"post {r.platform}/{r.remote_id}: visibility {r.visibility!r} is not one of {VISIBILITIES}")
    links = r.links
    # Tuples are written as JSON arrays as lists are (orjson and the standard library alike).
    entities = {"hashtags": r.hashtags, "mentions": r.mentions,
                "links": [[link.url, link.expanded_url, link.display_url] for link in links] if links else (),
                "media": r.media}
    if r.content_warning:
        entities["warning"] = r.content_warning
    if r.reposted_account or r.reposted_url:
        entities["reposted"] = [r.reposted_account, r.reposted_url]
    entities = dumps(entities)
    history = r.edit_history
    if r.raw_sources:
        raw = dumps(r.raw_sources)
    else:
        raw = "{" + source_key + ":" + dumps(r.raw) + "}" if r.raw is not None else "{}"
    return (r.platform, r.remote_id, r.account, utc_text(r.created_at), r.text, r.kind, r.url, r.language,
            r.reply_to_id, r.reply_to_account, r.conversation_id, r.quoted_id, r.quoted_url, r.reposted_id,
            r.source_app, r.visibility, dumps(r.metrics),
            entities, dumps(history) if history else "[]", dumps(r.versions) if r.versions else None,
            history[0] if history else None, True if r.referenced else None, raw, _said_deleted(r),
            *metric_counts(r.metrics))


def _digest(said: tuple) -> str:
    """The digest of what a source said of a post (kept in `sources`, so that importing the same
    data again is recognised): of its values as a JSON array, the raw JSON then (orjson: half the
    cost of joining their str()), or, for a text orjson refuses (a lone surrogate), of str() of each value
    joined by the record separator (U+001E), which JSON text cannot hold unescaped."""
    try:  # the raw JSON as it is: written into the array it would be escaped, at twice its size
        digest = hashlib.sha256(_array(said[:_RAW] + said[_RAW + 1:]))
        digest.update(said[_RAW].encode())
        return digest.hexdigest()[:24]
    except (_refused, UnicodeEncodeError):
        return hashlib.sha256("\x1e".join(map(str, said)).encode("utf-8", "surrogatepass")).hexdigest()[:24]


_array, _refused = orjson.dumps, orjson.JSONEncodeError


def _row(said: tuple, sources: str, first_seen: str, last_seen: str) -> tuple:
    """The archive_posts row (in _INSERT_COLUMNS order) of what a source said."""
    return said + (sources, first_seen, last_seen)


def _children(said: tuple, tags: list, handles: list, urls: list) -> None:
    """Add the child-table rows of a post (from its entities JSON) to tags, handles and urls."""
    entities = loads(said[_ENTITIES])
    _child_rows(said[0], said[1], entities["hashtags"], entities["mentions"], entities["links"], tags, handles, urls)


def _child_rows(platform: str, remote_id: str, hashtags, mentions, links, tags: list, handles: list,
                urls: list) -> None:
    """Add a post's child-table rows to tags, handles and urls: each hashtag and mention once, in
    lower case (they are matched so), each link ((url, expanded url, …)) at its position."""
    if hashtags:
        tags.extend([(platform, remote_id, tag) for tag in dict.fromkeys([t.lower() for t in hashtags])])
    if mentions:
        handles.extend([(platform, remote_id, h) for h in dict.fromkeys([h.lower() for h in mentions])])
    if links:
        urls.extend([(platform, remote_id, position, link[0], link[1]) for position, link in enumerate(links)])


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
        again = _said(record, source_key)
        merged[key] = again[:_RAW] + (raw,) + again[_RAW + 1:]
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
    """Pre-converted tuples inserted in bulk (no per-row SQLAlchemy processing): COPY on
    PostgreSQL (psycopg's copy in binary form, _copy_binary; rows of the batch's posts known to be
    new: the statement checks nothing per row; an executemany cost four times the time); on SQLite one INSERT of many
    VALUES rows per batch. There the search index's trigger (archive.tables.SEARCH_DDL) then adds
    the whole batch to FTS5's memory at once: row by row (an executemany), FTS5 writes each post
    out as a segment of its own when the next statement begins, and indexing cost four times as
    much (measured: 3.8 s against 0.9 s per 100,000 posts)."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        _copy_binary(connection.connection.driver_connection, table, names, rows)
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
        connection.exec_driver_sql(sql + ", ".join([one] * len(chunk)), tuple(chain.from_iterable(chunk)))


def _copy_binary(driver, table, names: list[str], rows: list[tuple]) -> None:
    """COPY rows into table in PostgreSQL's binary form. The server, whose CPU bounds the import
    (its backend is busy most of the import's wall time), then takes each value as it comes: no
    text to unescape, no time to parse. Measured on the 100,000-tweet X archive (medians of
    alternating runs): the server's CPU 6.9 → 6.1 s, the command's 6.3 → 5.7 s. Each value must be
    of its column's exact type: the UTC text of a time (utc_text) is sent as the datetime it names."""
    types, times = _binary_types(table, tuple(names))
    with driver.cursor() as cursor, \
            cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        write = copy.write_row
        if not times:
            for row in rows:
                write(row)
        else:
            parse = datetime.fromisoformat
            for row in rows:
                values = list(row)
                for position in times:
                    if values[position] is not None:
                        values[position] = parse(values[position])
                write(values)


@lru_cache
def _binary_types(table, names: tuple[str, ...]) -> tuple[list[str], tuple[int, ...]]:
    """The PostgreSQL types of table's columns names as binary COPY sends them (String and Text
    alike as text: varchar takes text's binary form), and the positions of the times among them."""
    types = []
    for name in names:
        kind = table.c[name].type
        kind = getattr(kind, "impl_instance", kind)  # UTCDateTime: the DateTime it is stored as
        python = kind.python_type
        if python is datetime and not kind.timezone:  # UTC without its zone, as utc_text writes it
            types.append("timestamp")
        elif python is bool:
            types.append("bool")
        elif python is int:
            types.append("int8" if isinstance(kind, BigInteger) else "int4")
        elif python is str:
            types.append("text")
        else:
            raise TypeError(f"{table.name}.{name}: no binary COPY form for {kind!r}")
    return types, tuple(position for position, kind in enumerate(types) if kind == "timestamp")


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
    driver = connection.connection.driver_connection  # rows as the driver gives them: a third of the cost
    known = {}
    for platform, ids in _by_platform(keys).items():
        rows = driver.execute(f"SELECT remote_id, sources FROM {t.posts.name} WHERE platform = {marker} "
                              f"AND remote_id IN ({', '.join([marker] * len(ids))})", (platform, *ids)).fetchall()
        for remote_id, sources in rows:
            known[(platform, remote_id)] = loads(sources)
    return known


def _upsert_batch(connection, batch: list[tuple], digests: list[str], children: tuple, source: str, now: datetime,
                  chains: "_Chains") -> UpsertSummary:
    posts = t.posts
    stored_now = utc_text(now)
    source_key = dumps(source)
    keys = [(said[0], said[1]) for said in batch]
    given = dict(zip(keys, digests))
    merged = len(given) < len(keys)
    if merged:  # merged posts have digests (and child rows) of their own
        batch = _without_duplicates(batch, keys, source_key)
        keys = [(said[0], said[1]) for said in batch]
        given = {key: _digest(said) for key, said in zip(keys, batch)}
    batch, keys, chained = chains.take(connection, batch, keys)
    known = _known_sources(connection, keys)
    inserts, changed = [], {}
    for key, said in zip(keys, batch):
        digest = given[key]
        sources = known.get(key)
        if sources is None:
            inserts.append(_row(said, "{" + source_key + ':"' + digest + '"}', stored_now, stored_now))
        elif sources.get(source) != digest:
            changed[key] = (said, digest)
    tags, handles, urls = _new_child_rows(inserts, children, merged=merged, every=len(inserts) == len(digests))
    updated = _update_changed(connection, changed, source, stored_now, tags, handles, urls) if changed else 0
    summary = UpsertSummary(new=len(inserts), updated=updated, unchanged=len(keys) - len(inserts) - updated)
    if chained:
        summary = summary + _upsert_chains(connection, chained, source, stored_now, inserts, tags, handles, urls)
        chains.stored = True
    _insert_many(connection, posts, _INSERT_COLUMNS, inserts)
    _insert_many(connection, t.hashtags, ["platform", "remote_id", "tag"], tags)
    _insert_many(connection, t.mentions, ["platform", "remote_id", "handle"], handles)
    _insert_many(connection, t.links, ["platform", "remote_id", "position", "url", "expanded_url"], urls)
    _seen_again(connection, [key for key in keys if key in known and key not in changed], stored_now)
    return summary


def _seen_again(connection, keys: list[tuple[str, str]], stored_now: str) -> None:
    """Note that the posts keys name were seen again (their last_seen_at), nothing else."""
    marker = _marker(connection)
    for platform, ids in _by_platform(keys).items():
        connection.exec_driver_sql(f"UPDATE {t.posts.name} SET last_seen_at = {marker} WHERE platform = {marker} "
                                   f"AND remote_id IN ({', '.join([marker] * len(ids))})", (stored_now, platform, *ids))


def _new_child_rows(inserts: list[tuple], children: tuple, *, merged: bool, every: bool) -> tuple[list, list, list]:
    """The child rows (tags, handles, urls) of the inserted posts: those prepared with the batch
    (children): all of them when every post of the batch is new (every), else those of the posts
    inserted; made from the inserted rows themselves when posts of the batch were merged."""
    if merged:
        tags, handles, urls = [], [], []
        for row in inserts:
            _children(row, tags, handles, urls)
        return tags, handles, urls
    if every:
        return children
    new = {(row[0], row[1]) for row in inserts}
    return tuple([row for row in rows if (row[0], row[1]) in new] for rows in children)


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
        old = _record_of(_said_of_row(stored[:-1]))
        merged = merge(old, _record_of(said))
        if merged != old:
            updated += 1
        merged_said = list(_said(merged, ""))
        merged_said[_RAW] = dumps({**loads(stored.raw or "{}"), **loads(said[_RAW])})
        sources = {**loads(stored.sources), source: digest}
        updates.append(tuple(merged_said[2:]) + (dumps(sources), stored_now) + key)
        _children(merged_said, tags, handles, urls)
    names = _SAID_COLUMNS[2:] + ["sources", "last_seen_at"]
    connection.exec_driver_sql(f"UPDATE {posts.name} SET {', '.join(f'{name} = {marker}' for name in names)} "
                               f"WHERE platform = {marker} AND remote_id = {marker}", updates)
    _delete(connection, list(changed), children_only=True)
    return updated


def _said_of_row(values) -> tuple:
    """A stored row's _SAID_COLUMNS values as _said gives them (PostgreSQL returns datetimes)."""
    return tuple(utc_text(value) if isinstance(value, datetime) else value for value in values)


def _delete(connection, keys: list[tuple[str, str]], *, children_only: bool = False) -> None:
    """Delete the child rows (hashtags, mentions, links) of the posts keys name, and the posts too
    unless children_only."""
    if not keys:
        return
    marker = _marker(connection)
    for table in (t.hashtags, t.mentions, t.links) + (() if children_only else (t.posts,)):
        connection.exec_driver_sql(f"DELETE FROM {table.name} WHERE platform = {marker} AND remote_id = {marker}",
                                   keys)


class _Chains:
    """Which records of a batch belong to an edit chain: their own (they name earlier versions) or
    a stored one (a stored post is a later version of them). Those take _upsert_chains, the rest
    the bulk path. Edits are rare: while the archive holds no chain, a batch without edited
    records costs nothing here."""

    def __init__(self, connection):
        self.stored = connection.exec_driver_sql(
            f"SELECT 1 FROM {t.posts.name} WHERE edit_chain IS NOT NULL LIMIT 1").first() is not None

    def take(self, connection, batch: list[tuple], keys: list[tuple[str, str]]):
        """(the batch and its keys without the chained records, the chained records)."""
        starts: set[tuple[str, str]] = set()  # (platform, first id) of the chains in play
        members: set[tuple[str, str]] = set()  # (platform, id) of every version they name
        for said in batch:
            if said[_HISTORY] != "[]":
                platform, history = said[0], loads(said[_HISTORY])
                starts.add((platform, history[0]))
                members.update((platform, remote_id) for remote_id in history)
        if self.stored:
            starts |= self._stored_starts(connection, keys)
        if not starts:
            return batch, keys, []
        kept, kept_keys, chained = [], [], []
        for key, said in zip(keys, batch):
            if (said[0], said[_CHAIN] or said[1]) in starts or key in members:
                chained.append(said)
            else:
                kept.append(said)
                kept_keys.append(key)
        return kept, kept_keys, chained

    @staticmethod
    def _stored_starts(connection, keys) -> set[tuple[str, str]]:
        """(platform, id) among keys that is the first id of a stored chain (an earlier version
        arriving after a later one)."""
        marker = _marker(connection)
        found = set()
        for platform, ids in _by_platform(keys).items():
            rows = connection.exec_driver_sql(
                f"SELECT edit_chain FROM {t.posts.name} WHERE platform = {marker} "
                f"AND edit_chain IN ({', '.join([marker] * len(ids))})", (platform, *ids))
            found.update((platform, start) for start, in rows)
        return found


def _upsert_chains(connection, chained: list[tuple], source: str, stored_now: str, inserts: list, tags: list,
                   handles: list, urls: list) -> UpsertSummary:
    """Fold each edit chain of the chained records with its stored versions into one post (see
    fold_chain): the stored rows of the chain are replaced by one row, its latest version, added
    to inserts (and its child rows to tags, handles and urls). Returns what happened per post."""
    groups: dict[tuple[str, str], list[tuple]] = {}
    member_of: dict[tuple[str, str], tuple[str, str]] = {}
    for said in chained:
        if said[_HISTORY] != "[]":
            start = (said[0], said[_CHAIN])
            for remote_id in loads(said[_HISTORY]) + [said[1]]:
                member_of[(said[0], remote_id)] = start
    for said in chained:
        start = member_of.get((said[0], said[1])) or (said[0], said[_CHAIN] or said[1])
        groups.setdefault(start, []).append(said)
    summary = UpsertSummary()
    posts = t.posts
    columns = [posts.c[name] for name in _SAID_COLUMNS] + [posts.c.sources, posts.c.first_seen_at]
    for (platform, start), group in groups.items():
        ids = {start} | {said[1] for said in group} | {i for said in group for i in loads(said[_HISTORY])}
        stored = connection.execute(select(*columns).where(
            posts.c.platform == platform, or_(posts.c.remote_id.in_(ids), posts.c.edit_chain == start))).all()
        old = {row.remote_id: _record_of(_said_of_row(row[:len(_SAID_COLUMNS)])) for row in stored}
        result = fold_chain(list(old.values()) + [_record_of(said) for said in group])
        latest = result.remote_id
        raw, sources, stored_raw, stored_sources = {}, {}, {}, {}
        for row in stored:
            if row.remote_id == latest:
                stored_raw, stored_sources = loads(row.raw or "{}"), loads(row.sources)
        raw.update(stored_raw)
        sources.update(stored_sources)
        for said in group:
            if said[1] == latest:
                raw.update(loads(said[_RAW]))
                sources[source] = _digest(said)
        if old.get(latest) == result and len(old) == 1:  # the same post: at most another source's raw JSON
            summary = summary + UpsertSummary(unchanged=1)
            values = {"last_seen_at": from_utc_text(stored_now)}
            if (raw, sources) != (stored_raw, stored_sources):
                values.update(raw=dumps(raw), sources=dumps(sources))
            connection.execute(update(posts).where(posts.c.platform == platform, posts.c.remote_id == latest)
                               .values(**values))
            continue
        summary = summary + (UpsertSummary(updated=1) if stored else UpsertSummary(new=1))
        first_seen = min((_said_of_row([row.first_seen_at])[0] for row in stored), default=stored_now)
        _delete(connection, [(platform, row.remote_id) for row in stored])
        folded = list(_said(result, ""))
        folded[_RAW] = dumps(raw)
        inserts.append(_row(tuple(folded), dumps(sources), first_seen, stored_now))
        _children(folded, tags, handles, urls)
    return summary
