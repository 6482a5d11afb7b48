"""`archive media fetch`: local copies of the images and videos archived posts reference (archive.media)."""
from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from campaign.options import resolve_posts_file

from .show import archive_options

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$", re.IGNORECASE)
_UNITS = {None: 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3}


class Size(click.ParamType):
    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        match = _SIZE.match(str(value))
        if not match or float(match.group(1)) <= 0:
            self.fail(f"{value!r} is not a size (e.g. 50MB, 800kB, 1GB)", param, ctx)
        return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower() or None])


def media_dir_option(function):
    return click.option("--media-dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
                        help="The media folder [env CAMPAIGN_MEDIA_DIR; default: media/ beside a SQLite "
                             "database; required for any other database].")(function)


def media_lookup(database, option: Path | None, page_folder: Path):
    """render's attachments of a page's posts: local copies (relative to page_folder) from the media
    folder when there is one for this database, else links to the originals."""
    from archive.media import MediaError, attachments, media_folder

    try:
        folder = media_folder(database, option)
    except MediaError:
        folder = None  # a PostgreSQL archive without a media folder: links to the originals
    page_folder = page_folder.resolve()
    return lambda posts: attachments(database, posts, folder=folder, page_folder=page_folder)


@click.group("media")
def group():
    """Local copies of the images and videos of archived posts.

    Example:

    \b
        archive media fetch --account teamsaantstuur --from-archive twitter-2024-01-01.zip
    """


@group.command("fetch")
@click.option("--account", "accounts", multiple=True, metavar="HANDLE",
              help="Only this account's posts (repeat for more) [default: every account].")
@click.option("--max-size", type=Size(), default="50MB", show_default=True,
              help="Refuse a file larger than this (from its Content-Length before reading, or while reading).")
@click.option("--from-archive", type=click.Path(exists=True, path_type=Path), metavar="PATH",
              help="An X archive (zip or folder): its data/tweets_media files are used instead of downloading.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              help="Seconds a server may stay silent before the file counts as failed.")
@media_dir_option
@click.option("--progress/--no-progress", default=None, help="Show a progress bar [default: on a terminal].")
@archive_options
def fetch(accounts, max_size, from_archive, timeout, media_dir, progress, db_url, posts_file):
    """Download the images and videos archived posts reference into the media folder.

    Files are named by their sha256 (media/ab/abcdef….jpg). Resumable: what is stored already is
    not fetched again, and an interrupted run leaves no partial file. Only http(s), at most 5
    redirects, image/* or video/* only, each file at most --max-size. Exit 1 when some files
    could not be had (each is named on stderr), 2 for bad input.

    Example:

    \b
        archive media fetch --account teamsaantstuur --max-size 20MB
        archive media fetch --from-archive twitter-2024-01-01.zip
    """
    from archive.media import fetch_media, human_size, media_folder
    from archive.store import open_archive

    from .importing import progress_bar

    show = sys.stderr.isatty() if progress is None else progress
    database = open_archive(db_url, posts_file=resolve_posts_file(posts_file), create=False)
    try:
        folder = media_folder(database, media_dir)
        with progress_bar("media", enabled=show, unit="files") as advance:
            summary = fetch_media(database, folder, accounts=accounts, max_bytes=max_size, from_archive=from_archive,
                                  timeout=timeout, now=datetime.now(timezone.utc), progress=advance)
    finally:
        database.engine.dispose()
    for item, reason in summary.failed:
        click.echo(f"{item.platform} {item.remote_id}: {item.url}: {reason}", err=True)
    skipped = f", {len(summary.skipped):,} skipped (no http(s) URL)" if summary.skipped else ""
    failed = f", {len(summary.failed):,} failed" if summary.failed else ""
    click.echo(f"{folder}: {summary.downloaded:,} downloaded, {summary.copied:,} copied from the archive, "
               f"{summary.present:,} already there{skipped}{failed}; {human_size(summary.bytes)} stored")
    if summary.failed:
        click.get_current_context().exit(1)
