"""`archive import PATH…`: detect each file's format, stream it into the store, one transaction per file."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import click

from campaign.options import resolve_posts_file

from archive.pipelines import (import_path, needs_database, start_import,  # noqa: F401  (names kept for callers)
                               store_import)

from .show import archive_options

FORMAT_CHOICES = ["auto", "x", "twarc", "mastodon", "jsonl", "bluesky"]


@contextmanager
def progress_bar(label: str, *, enabled: bool, total: int | None = None, unit: str = "posts"):
    """A rich progress bar on stderr (only when enabled, i.e. stderr is a terminal); yields advance(n)."""
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    columns = [TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn() if total else TextColumn("{task.completed:,} " + unit),
               TimeElapsedColumn(), *([TimeRemainingColumn()] if total else [])]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def report_notes(path: Path, notes, *, shown: int = 5) -> None:
    """What the importer passed over (e.g. a twarc2 stream's error lines), counted on stderr, the first few named."""
    if not notes:
        return
    click.echo(f"{path}: {len(notes)} record{'s' if len(notes) != 1 else ''} passed over:", err=True)
    for note in notes[:shown]:
        click.echo(f"{path}: {note}", err=True)
    if len(notes) > shown:
        click.echo(f"{path}: … and {len(notes) - shown} more", err=True)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "format_name", type=click.Choice(FORMAT_CHOICES), default="auto", show_default=True,
              help="x: the X archive (zip, folder or tweets.js); twarc: twarc2 JSONL; mastodon: outbox.json "
                   "(or the export's zip/tar.gz); jsonl: this tool's own export; bluesky: a repository export "
                   "(.car). auto looks at the contents.")
@click.option("--account", metavar="HANDLE", help="The account's handle when the file does not name it "
                                                  "(a lone tweets.js without account.js; an account.js that "
                                                  "names another account is an error; a Bluesky .car, which "
                                                  "names its account by DID, when the archive has not seen it).")
@click.option("--referenced", is_flag=True, help="twarc2 files: also store the tweets the file's tweets quote, "
                                                 "reply to or retweet (its includes), as referenced posts: kept "
                                                 "under their authors, left out of show, render, export and stats.")
@click.option("--progress/--no-progress", default=None, help="Show a progress bar [default: on a terminal].")
@archive_options
def command(paths, format_name, account, referenced, progress, db_url, posts_file):
    """Import exported timelines into the archive (idempotent: importing again adds nothing).

    Each file is read as a stream (bounded memory at any size) and stored in one transaction:
    a broken file is named with the record number, and nothing of it is stored. New data
    about a known post (another export, fresher metrics, a deletion) is merged into it.

    Example:

    \b
        archive import twitter-2024-01-01.zip mastodon-export.zip
    """
    from campaign.queue.db import database_url

    show = sys.stderr.isatty() if progress is None else progress
    url = database_url(db_url, resolve_posts_file(posts_file))
    # The first file is read while the database opens (and migrates).
    # A Bluesky repository without --account needs the database (its DID's handle) first.
    first = None if needs_database(paths[0], format_name=format_name, account=account) else \
        start_import(paths[0], format_name=format_name, account=account, referenced=referenced, db_url=url)
    try:
        from archive.store import open_archive

        database = open_archive(url)
    except BaseException:
        if first is not None:
            first[1].close()
        raise
    try:
        for index, path in enumerate(paths):
            started = first if index == 0 and first is not None else \
                start_import(path, format_name=format_name, account=account, database=database, referenced=referenced)
            counter = getattr(started[0], "count", None)  # X archives list their counts in manifest.js
            total = counter(path) if show and counter else None
            with progress_bar(f"{path.name}", enabled=show, total=total) as advance:
                module, summary = store_import(database, started, now=datetime.now(timezone.utc), progress=advance)
            counted = module.likes(path) if hasattr(module, "likes") else None
            click.echo(f"{path}: {summary.new} new, {summary.updated} updated, {summary.unchanged} unchanged "
                       f"({module.SOURCE})" + (f"; {counted} likes given (counted, not stored)" if counted else ""))
            report_notes(path, summary.notes)
    finally:
        database.engine.dispose()
