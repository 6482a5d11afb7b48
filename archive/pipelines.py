"""The import and export pipelines as library functions; the `archive import` and `archive export`
commands only parse options, call these and print.

Import: start_import detects a file's format and starts reading it (in a child process when
there is more than one CPU), store_import stores it in one transaction; import_path does both.
Export: csv_cells reads the CSV cells of a filter in a child process while the caller writes.
"""
from __future__ import annotations

import gc
import os
from contextlib import closing, contextmanager
from datetime import datetime
from itertools import islice
from pathlib import Path


def import_path(database, path: Path, *, format_name: str = "auto", account: str | None = None, now: datetime,
                progress=None):
    """Import one file (or archive) in one transaction: (importer module, UpsertSummary)."""
    return store_import(database, start_import(path, format_name=format_name, account=account, database=database),
                        now=now, progress=progress)


def needs_database(path: Path, *, format_name: str = "auto", account: str | None = None) -> bool:
    """Whether start_import needs the database for path: a Bluesky repository names its account
    by DID only, and without --account the archive is asked for the handle."""
    from archive.importers.detect import FORMATS, detect

    module = detect(path) if format_name == "auto" else FORMATS[format_name]
    return account is None and hasattr(module, "repository_did")


def start_import(path: Path, *, format_name: str = "auto", account: str | None = None, database=None,
                 referenced: bool = False, db_url: str | None = None):
    """Detect path's format and start reading it: (importer module, its batches for the store).

    With more than one CPU the file is read and its posts prepared in a child process, which
    starts now and reads while this one opens the database and writes (see
    archive.importers.background); the result is the same. Raises ImportFormatError (unknown
    format). Give the result to store_import, or close its batches. database: where to look up
    the handle of a Bluesky repository's DID (archive.accounts.bluesky_handle) when account is None.
    referenced: also store the posts a twarc2 file's tweets refer to (its includes), as referenced.
    db_url (else database's): the archive the posts go to, so that an importer that can (X archives)
    passes over the posts stored unchanged before mapping them (archive.store.known)."""
    from archive.importers.background import iterate_in_child
    from archive.importers.detect import FORMATS, detect

    module = detect(path) if format_name == "auto" else FORMATS[format_name]
    if account is None and database is not None and hasattr(module, "repository_did"):
        from archive.accounts import bluesky_handle

        account = bluesky_handle(database, module.repository_did(path))
    if database is not None:
        db_url = database.url.render_as_string(hide_password=False)
    arguments = (module.__name__, path, account, referenced, _holding_posts(db_url))
    import archive.store.known  # noqa: F401  (both processes need the store: loaded once, before the fork)

    if (os.cpu_count() or 1) > 1:
        return module, iterate_in_child(_prepared_batches, *arguments)
    return module, _prepared_batches(*arguments)


def _holding_posts(url: str | None) -> str | None:
    """url when it may hold posts already: not a SQLite file that does not exist yet (the reading
    process must not make it, nor hold it while this one sets it up). Looked at before the
    reading process starts, so as the import began."""
    if url is None or not url.startswith("sqlite"):
        return url
    path = url.partition(":///")[2].split("?", 1)[0]
    return url if path and path != ":memory:" and Path(path).exists() else None


def store_import(database, started, *, now: datetime, progress=None):
    """Store what start_import started reading, in one transaction: (importer module, UpsertSummary)."""
    from archive.store import upsert_prepared

    module, batches = started
    with fewer_collections(), closing(batches):  # the batches (a generator here with one CPU) end first
        return module, upsert_prepared(database, batches, source=module.SOURCE, now=now, progress=progress)


def _prepared_batches(module_name: str, path: Path, account: str | None, referenced: bool = False,
                      db_url: str | None = None):
    """The posts of path, read by the importer module_name, prepared for the store in batches."""
    import importlib
    import inspect

    from archive.store import prepare
    from archive.store.known import StoredDigests

    module = importlib.import_module(module_name)
    options = {"referenced": True} if referenced else {}  # only twarc2 files hold referenced posts
    stored = None
    if "stored" in inspect.signature(module.iter_posts).parameters:
        stored = options["stored"] = StoredDigests(db_url, module.SOURCE)
    try:
        with fewer_collections():
            yield from prepare(module.iter_posts(path, account=account, **options), source=module.SOURCE)
    finally:
        if stored is not None:
            stored.close()


@contextmanager
def fewer_collections():
    """The cyclic garbage collector run rarely, and never over what existed before: an import
    makes millions of objects (parsed JSON, records, rows) that form no cycles, so reference
    counting frees them, but each of them counts towards the collector's next run, and its full
    runs walked everything alive: 15% of the reading process's CPU (measured, 100,000 tweets)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def csv_cells(db_url, posts_file, post_filter, rows_spec):
    """The CSV cells of the posts post_filter selects, in batches of rows: read (query, JSON,
    relative time, formatting) in a child process while this one writes the CSV, when there
    is more than one CPU. rows_spec: (zone, now, locale, units) for export.Rows. Close it when
    stopping early."""
    if (os.cpu_count() or 1) > 1:
        from archive.importers.background import iterate_in_child

        return iterate_in_child(_csv_cells, db_url, posts_file, post_filter, rows_spec)
    return _csv_cells(db_url, posts_file, post_filter, rows_spec)


def _csv_cells(db_url, posts_file, post_filter, rows_spec):
    from archive import export
    from archive.reltime import RelativeTime
    from archive.store import BATCH, open_archive, query_flat

    zone, now, locale, units = rows_spec
    rows = export.Rows(zone=zone, now=now, relative=RelativeTime(locale, zone, units))
    database = open_archive(db_url, posts_file=posts_file)
    try:
        posts = query_flat(database, post_filter)
        while batch := [rows.texts(post) for post in islice(posts, BATCH)]:
            yield batch
    finally:
        database.engine.dispose()
