"""Parquet export: typed columns that DuckDB, pandas or Polars read directly.

Columns (the CSV's, typed; no relative_time, which depends on the moment of export):
    id, platform, account, url, kind, text (as stored), reply_to, language, campaign,
    occurrence: string
    created_at, deleted_at: timestamp[us, tz=UTC]; created_local: timestamp[us] (wall clock in
    the export's zone, for "posts per hour of the day")
    hashtags, mentions (without # and @), links (t.co expanded): list<string>
    likes, reposts, replies, quotes: int64 (null when the source did not say)
    visibility (public, unlisted, followers, circle), content_warning (null when none): string
Ids stay strings: X's fit in int64, a Mastodon id is a string and a Bluesky one a URI.

Rows arrive in their stored form (archive.tabular.RAW_COLUMNS) and are converted a row group
at a time by Arrow's compute functions and JSON reader, not row by row in Python; a row group
is ROW_GROUP posts, so memory stays bounded. pyarrow is an optional dependency
(`pip install 'praatmee[parquet]'`); ParquetUnavailable says so.
"""
from __future__ import annotations

import io
import json
import re
from typing import Callable, Iterable

from .errors import ArchiveError

ROW_GROUP = 16_384
# Columns of few distinct values, dictionary-encoded. Not the ids, texts and URLs: nearly every value
# is new there, so a dictionary is built only to be given up (a fifth of the writer's time, measured).
DICTIONARY_COLUMNS = ["platform", "account", "kind", "hashtags", "mentions", "links", "language", "campaign",
                      "occurrence", "visibility"]
_SURROGATE = re.compile(r"[\ud800-\udfff]")
EXTRA = "praatmee[parquet]"


class ParquetUnavailable(ArchiveError):
    """pyarrow is not installed."""


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.json
        import pyarrow.parquet
    except ImportError:
        raise ParquetUnavailable(f"--format parquet needs pyarrow: pip install '{EXTRA}'") from None
    return pyarrow


def require() -> None:
    """Raise ParquetUnavailable unless pyarrow is installed (checked before anything is opened,
    without importing it: the process reading the rows starts leaner without it)."""
    from importlib.util import find_spec

    if find_spec("pyarrow") is None:
        raise ParquetUnavailable(f"--format parquet needs pyarrow: pip install '{EXTRA}'")


def schema(zone_name: str = "UTC"):
    pa = _pyarrow()
    text, moment = pa.string(), pa.timestamp("us", tz="UTC")
    words = pa.list_(pa.string())
    return pa.schema([
        ("id", text), ("platform", text), ("account", text), ("url", text), ("created_at", moment),
        pa.field("created_local", pa.timestamp("us"), metadata={"timezone": zone_name}),
        ("kind", text), ("text", text), ("reply_to", text), ("hashtags", words), ("mentions", words),
        ("links", words), ("likes", pa.int64()), ("reposts", pa.int64()), ("replies", pa.int64()),
        ("quotes", pa.int64()), ("language", text), ("campaign", text), ("occurrence", text),
        ("deleted_at", moment), ("visibility", text), ("content_warning", text)])


def write_parquet(batches: Iterable[list[tuple]], out, *, zone, progress: Callable[[int], None] | None = None,
                  row_group: int = ROW_GROUP) -> int:
    """Write the rows (batches of RAW_COLUMNS tuples) to out (a path or binary file) as Parquet
    (zstd), one row group per row_group rows; returns the number of rows."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    zone_name = getattr(zone, "key", None) or "UTC"
    target = schema(zone_name)
    # Arrow's default allocator (mimalloc) keeps a third more memory for the same work here.
    pool = pa.default_memory_pool()
    for lean in ("jemalloc_memory_pool", "system_memory_pool"):
        try:
            pa.set_memory_pool(getattr(pa, lean)())
            break
        except (AttributeError, NotImplementedError, pa.ArrowNotImplementedError):
            continue
    try:
        return _write(batches, out, target, zone, progress, row_group, pa, pq)
    finally:
        pa.set_memory_pool(pool)


def _write(batches, out, target, zone, progress, row_group, pa, pq) -> int:
    count = 0
    pending: list[tuple] = []
    with pq.ParquetWriter(out, target, compression="zstd", use_dictionary=DICTIONARY_COLUMNS) as writer:
        for batch in batches:
            pending.extend(batch)
            while len(pending) >= row_group:
                writer.write_table(_table(pending[:row_group], zone, target, pa), row_group_size=row_group)
                del pending[:row_group]
                count += row_group
                if progress:
                    progress(row_group)
        if pending or count == 0:
            writer.write_table(_table(pending, zone, target, pa), row_group_size=row_group)
            count += len(pending)
            if progress:
                progress(len(pending))
    return count


def _table(rows: list[tuple], zone, target, pa):
    import pyarrow.compute as pc

    size = len(rows)
    (platform, remote_id, account, created_at, text, kind, url, language, reply_to, metrics, entities, deleted_at,
     campaign, occurrence, visibility) = zip(*rows) if rows else ((),) * 15
    created = _utc(created_at, pa)
    metric_columns = _metrics(metrics, size, pa)
    hashtags, mentions, links, warnings = _entities(entities, size, pa, pc)
    columns = [
        _strings(remote_id, pa), _strings(platform, pa), _strings(account, pa), _strings(url, pa),
        created, _local(created, zone, pa, pc),
        _strings(kind, pa), _strings(text, pa), _strings(reply_to, pa), hashtags, mentions, links,
        *metric_columns, _strings(language, pa), _strings(campaign, pa), _strings(occurrence, pa),
        _utc(deleted_at, pa), _strings(visibility, pa), warnings]
    return pa.Table.from_arrays(columns, schema=target)


def _strings(values, pa):
    try:
        return pa.array(values, pa.string())
    except (UnicodeEncodeError, pa.ArrowInvalid):  # a lone surrogate (from a broken import) has no UTF-8
        return pa.array([None if v is None else _SURROGATE.sub("\ufffd", v) for v in values], pa.string())


def _utc(values, pa):
    """Stored times (UTC text on SQLite, naive UTC datetimes on PostgreSQL, None) as timestamp[us, UTC]."""
    naive = pa.timestamp("us")
    first = next((value for value in values if value is not None), None)
    if isinstance(first, str):
        array = pa.array(values, pa.string()).cast(naive)
    else:
        array = pa.array([None if v is None else v.replace(tzinfo=None) for v in values], naive)
    return array.cast(pa.timestamp("us", tz="UTC"))


def _local(created, zone, pa, pc):
    """created (timestamp[us, UTC]) as the wall-clock time in zone, without a zone."""
    name = getattr(zone, "key", None)
    if name:
        try:
            return pc.local_timestamp(created.cast(pa.timestamp("us", tz=name)))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # Arrow without this zone: Python's own rules
            pass
    from datetime import timezone

    local = [moment.astimezone(zone).replace(tzinfo=None)
             for moment in (value.replace(tzinfo=timezone.utc) for value in created.to_pylist())]
    return pa.array(local, pa.timestamp("us"))


METRICS = ("likes", "reposts", "replies", "quotes")


def _metrics(values, size, pa):
    import pyarrow.json as pj

    fields = pa.schema([(name, pa.int64()) for name in METRICS])
    try:
        table = pj.read_json(io.BytesIO("\n".join(values).encode()),
                             read_options=pj.ReadOptions(block_size=1 << 24, use_threads=False),
                             parse_options=pj.ParseOptions(explicit_schema=fields,
                                                           unexpected_field_behavior="ignore"))
        if table.num_rows == size:
            return [table.column(name).combine_chunks() for name in METRICS]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    parsed = [json.loads(value) for value in values]  # a value Arrow would not take (e.g. a float): by hand
    return [pa.array([_integer(metric.get(name)) for metric in parsed], pa.int64()) for name in METRICS]


def _integer(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _entities(values, size, pa, pc):
    """(hashtags, mentions, links) list<string> arrays from the entities JSON; links as their
    expanded target where there is one."""
    import pyarrow.json as pj

    words = pa.list_(pa.string())
    fields = pa.schema([("hashtags", words), ("mentions", words), ("links", pa.list_(words)),
                        ("warning", pa.string())])
    try:
        table = pj.read_json(io.BytesIO("\n".join(values).encode()),
                             read_options=pj.ReadOptions(block_size=1 << 24, use_threads=False),
                             parse_options=pj.ParseOptions(explicit_schema=fields, unexpected_field_behavior="ignore"))
        if table.num_rows != size:
            raise ValueError("rows lost")
        hashtags, mentions, links, warnings = (table.column(name).combine_chunks()
                                               for name in ("hashtags", "mentions", "links", "warning"))
        empty = pa.scalar([], words)
        hashtags, mentions = pc.fill_null(hashtags, empty), pc.fill_null(mentions, empty)
        links = pc.fill_null(links, pa.scalar([], pa.list_(words)))
        inner = links.flatten()  # one list<string> [url, expanded, display] per link
        targets = pc.coalesce(pc.list_element(inner, 1), pc.list_element(inner, 0))
        links = pa.ListArray.from_arrays(links.offsets, targets)
        return hashtags, mentions, links, warnings
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, IndexError):
        parsed = [json.loads(value) for value in values]
        return (pa.array([list(e.get("hashtags") or ()) for e in parsed], words),
                pa.array([list(e.get("mentions") or ()) for e in parsed], words),
                pa.array([[(link[1] if len(link) > 1 and link[1] else link[0]) for link in e.get("links") or ()]
                          for e in parsed], words),
                pa.array([e.get("warning") for e in parsed], pa.string()))
