"""Reading the rows of a table export (CSV, XLSX, Parquet) in a child process while this one writes.

On two cores the work splits in two halves that overlap, cut where they come out about equal:
  CSV      the child reads the stored rows and makes every cell but the relative time; this
           process makes that one and writes the CSV (csv_rows);
  XLSX     the child reads the posts and makes each row's values (export.xlsx_cells); this
           process writes the XML and deflates it (xlsx_batches);
  Parquet  the child reads the stored rows; this process turns them into Arrow columns and
           Parquet pages (raw_batches, archive.parquet).
With one CPU the same generators run in this process. What crosses the pipe is a batch of plain
values (pickled), at most AHEAD batches ahead of the writer (see archive.importers.background),
so memory stays bounded.
"""
from __future__ import annotations

import os
from contextlib import closing
from datetime import datetime, timedelta, timezone
from itertools import islice

import orjson
from sqlalchemy import Text, type_coerce

from . import tables as t

BATCH = 2000  # rows per batch handed over
_UNKNOWN = object()

# The columns of a post in its stored form, in this order (times as UTC text on SQLite, naive UTC
# datetimes on PostgreSQL; metrics and entities JSON text).
RAW_COLUMNS = ("platform", "remote_id", "account", "created_at", "text", "kind", "url", "language", "reply_to_id",
               "metrics", "entities", "deleted_at", "campaign_id", "occurrence_key", "visibility")


def in_child(function, *args):
    """function(*args)'s batches, made in a child process when there is more than one CPU."""
    if (os.cpu_count() or 1) > 1:
        from archive.importers.background import iterate_in_child

        return iterate_in_child(function, *args)
    return function(*args)


def xlsx_batches(db_url, posts_file, post_filter, rows_spec):
    """Batches of export.xlsx_cells rows for the posts post_filter selects. rows_spec: (zone,
    now, locale, units) for export.Rows. Close it when stopping early."""
    return in_child(_xlsx_batches, db_url, posts_file, post_filter, rows_spec)


def _xlsx_batches(db_url, posts_file, post_filter, rows_spec):
    from archive import export
    from archive.reltime import RelativeTime
    from archive.store import open_archive, query_flat

    zone, now, locale, units = rows_spec
    rows = export.Rows(zone=zone, now=now, relative=RelativeTime(locale, zone, units))
    cells = export.xlsx_cells
    database = open_archive(db_url, posts_file=posts_file)
    try:
        posts = query_flat(database, post_filter)
        while batch := [cells(rows, post) for post in islice(posts, BATCH)]:
            yield batch
    finally:
        database.engine.dispose()


def raw_batches(db_url, posts_file, post_filter, batch: int = BATCH):
    """Batches of the posts post_filter selects in their stored form (RAW_COLUMNS tuples),
    ordered as query_posts orders them. Close it when stopping early."""
    return in_child(_raw_batches, db_url, posts_file, post_filter, batch)


def raw_statement(post_filter, dialect: str = "sqlite"):
    """The SELECT of RAW_COLUMNS for post_filter: the store's own conditions, campaign join and
    order (archive.store.read, as query_flat reads them)."""
    from archive.store import read

    posts = t.posts
    c = posts.c
    sent = read._sent()
    # Times untyped: SQLAlchemy's per-value processing would cost more than the rest of a row.
    columns = (c.platform, c.remote_id, c.account, type_coerce(c.created_at, Text), c.text, c.kind, c.url,
               c.language, c.reply_to_id, c.metrics, c.entities, type_coerce(c.deleted_at, Text),
               sent.c.campaign_id, sent.c.occurrence_key, c.visibility)
    return read._listing(columns, post_filter, sent, dialect)  # the store's order (a ranked search's too)


def _raw_batches(db_url, posts_file, post_filter, batch):
    from archive.store import open_archive

    database = open_archive(db_url, posts_file=posts_file)
    try:
        with database.transaction() as connection:
            statement = raw_statement(post_filter, connection.dialect.name)
            result = connection.execution_options(yield_per=batch).execute(statement)
            # The columns need no conversion (see raw_statement), so the driver's own tuples do, at
            # a third of the cost of SQLAlchemy's rows. SQLAlchemy may hold the first row back (it
            # reads one ahead when streaming): take that one through it, then read the cursor.
            first = result.fetchone()
            if first is None:
                return
            if getattr(result.cursor_strategy, "_rowbuffer", None):  # it read further ahead: stay with it
                yield [tuple(first)]
                for rows in result.partitions(batch):
                    yield [tuple(row) for row in rows]
                return
            fetch = result.cursor.fetchmany
            rows = [tuple(first), *fetch(batch - 1)]
            while rows:
                yield rows
                rows = fetch(batch)
    finally:
        database.engine.dispose()


# -- CSV straight from the stored form ----------------------------------------


_SEPARATOR = "\x1f"  # joins a row's cells for the trip between the processes


def csv_rows(db_url, posts_file, post_filter, rows_spec):
    """Batches of the CSV rows (export.Rows.texts, made from the stored form without building a post first)
    of the posts post_filter selects. rows_spec: (zone, now, locale, units). Close it when
    stopping early.

    The work is split in two about equal halves: a child process reads the rows and makes every
    cell but the relative time (where it leaves the stored created_at), this one makes the
    relative time (and then the caller writes the CSV). A row crosses as one string of its cells
    joined by _SEPARATOR: unpickling twenty strings a row cost more than anything else."""
    from archive.reltime import RelativeTime

    zone, now, locale, units = rows_spec
    relative = RelativeTime(locale, zone, units)
    fromisoformat = datetime.fromisoformat
    with closing(in_child(_csv_batches, db_url, posts_file, post_filter, zone)) as batches:
        for batch in batches:
            rows = [line.split(_SEPARATOR) if type(line) is str else line for line in batch]
            for row in rows:
                row[6] = relative(fromisoformat(row[6]), now)
            yield rows


def _csv_batches(db_url, posts_file, post_filter, zone):
    from archive import export

    texts = RawTexts(export.Rows(zone=zone), created_for_relative=True)
    separators = len(export.COLUMNS) - 1
    with closing(_raw_batches(db_url, posts_file, post_filter, BATCH)) as batches:
        for batch in batches:
            lines = []
            for row in batch:
                cells = texts(row)
                line = _SEPARATOR.join(cells)
                lines.append(line if line.count(_SEPARATOR) == separators else cells)
            yield lines


class RawTexts:
    """export.Rows.texts for a post in its stored form (a RAW_COLUMNS tuple): the same cells,
    at half the cost (no post object, no datetime where text will do). A test holds the two equal."""

    def __init__(self, rows, *, created_for_relative: bool = False):
        """created_for_relative: put the stored created_at (ISO 8601 with +00:00) where the relative
        time goes, for a caller that makes that cell itself (see csv_rows)."""
        self.rows = rows
        self.created_for_relative = created_for_relative
        self.zone = rows.zone
        self._offsets: dict[int, timedelta | None] = {}

    def _local(self, moment: datetime) -> str:
        """A naive UTC datetime as local wall-clock text in the zone, to the second."""
        day = moment.toordinal()
        offsets = self._offsets
        offset = offsets.get(day, _UNKNOWN)
        if offset is _UNKNOWN:  # the zone's offset that whole UTC day, or None when it changes that day
            start = datetime.fromordinal(day).replace(tzinfo=timezone.utc)
            first = start.astimezone(self.zone).utcoffset()
            last = (start + timedelta(days=1, microseconds=-1)).astimezone(self.zone).utcoffset()
            offset = offsets[day] = first if first == last else None
        local = moment + offset if offset is not None else \
            moment.replace(tzinfo=timezone.utc).astimezone(self.zone).replace(tzinfo=None)
        return local.isoformat(" ", "seconds")[:19]

    def __call__(self, raw: tuple, loads=orjson.loads, fromisoformat=datetime.fromisoformat,
                 utc=timezone.utc) -> list[str]:
        (platform, remote_id, account, created, text, kind, url, language, reply_to, metrics, entities, deleted,
         campaign, occurrence, visibility) = raw
        if type(created) is str:  # SQLite: "2015-01-27 10:00:00.000000"
            stored = created
            created_text = created[:10] + "T" + created[11:19] + "Z"
            created = fromisoformat(created)
        else:  # PostgreSQL: a naive UTC datetime
            stored = None
            created_text = created.isoformat(timespec="seconds")[:19] + "Z"
        rows = self.rows
        if self.created_for_relative:
            relative = (stored or created.isoformat()) + "+00:00"  # read back aware, without a replace() per row
        else:
            relative = rows.relative(created.replace(tzinfo=utc), rows.now) if rows.relative else ""
        metrics = loads(metrics)
        entities = loads(entities)
        hashtags, mentions, links = entities.get("hashtags"), entities.get("mentions"), entities.get("links")
        likes, reposts, replies, quotes = (metrics.get("likes"), metrics.get("reposts"), metrics.get("replies"),
                                           metrics.get("quotes"))
        if deleted is not None:
            deleted = (deleted[:10] + "T" + deleted[11:19] + "Z" if type(deleted) is str
                       else deleted.isoformat(timespec="seconds")[:19] + "Z")
        return [
            remote_id, platform, account, url or "", created_text, self._local(created), relative, kind, _expanded(text, links) if links else text, reply_to or "",
            " ".join(["#" + tag for tag in hashtags]) if hashtags else "",
            " ".join(["@" + handle for handle in mentions]) if mentions else "",
            " ".join([link[1] or link[0] for link in links]) if links else "",
            "" if likes is None else str(likes), "" if reposts is None else str(reposts),
            "" if replies is None else str(replies), "" if quotes is None else str(quotes),
            language or "", campaign or "", occurrence or "", deleted or "",
            visibility, entities.get("warning") or "",
        ]


def _expanded(text: str, links: list) -> str:
    """export.expanded_text for links in their stored form ([url, expanded_url, display_url])."""
    if len(links) > 1:
        links = sorted(links, key=lambda link: len(link[0] or ""), reverse=True)
    for link in links:
        if link[1] and link[0] and link[1] != link[0]:
            text = text.replace(link[0], link[1])
    return text
