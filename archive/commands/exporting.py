"""`archive export`: the archive (filtered) as CSV, JSONL, JSON, XLSX or Parquet, to a file or stdout."""
from __future__ import annotations

import io
import os
import sys
from contextlib import closing
from dataclasses import replace
from itertools import chain
from pathlib import Path

import click

from campaign.options import account_option, format_option, parse_now, resolve_posts_file

from .importing import progress_bar

from .show import (FILTER_OPTIONS, archive_file_options, build_filter, open_for_accounts, relative_formatter,
                   time_options, with_options, zone_of)

FORMATS = ["csv", "jsonl", "json", "xlsx", "parquet"]
FILE_ONLY = ("xlsx", "parquet")  # zip and Parquet files are not written to a pipe
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t"}


# --account --from --until --hashtag --kind --campaign --search --include-deleted (and --platform).
export_filter_options = with_options([account_option("posts", multiple=True, dest="accounts"), *FILTER_OPTIONS])


@click.command("export")
@format_option(FORMATS, "csv", dest="format_name",
               help="csv (one row per post), jsonl (every field; `archive import` reads it back), json, xlsx "
                    "(headers in --locale, dates as dates, links as links), parquet (typed columns for "
                    "DuckDB/pandas; needs `pip install 'praatmee[parquet]'`).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here ('-': standard output, the default; xlsx and parquet need a file).")
@click.option("--excel", is_flag=True, help="CSV for (Dutch) Excel: ';' between fields, a BOM, formula-like "
                                            "cells (=, +, -, @) made harmless, and X's 18-digit ids kept exact.")
@click.option("--delimiter", type=click.Choice(list(DELIMITERS)), default=None,
              help="CSV field separator [default: comma; semicolon with --excel].")
@click.option("--bom/--no-bom", default=None, help="Start the CSV with a UTF-8 BOM [default: only with --excel].")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar [default: on a terminal, unless the posts go to that terminal].")
@export_filter_options
@archive_file_options
@time_options
def command(format_name, output, excel, delimiter, bom, progress, accounts, since, until, db_url, posts_file,
            locale, zone_name, now, units, **filters):
    """Export archived posts, oldest first, for analysts.

    Columns: id, platform, account, url, created_at (UTC), created_local (--timezone),
    relative_time (--locale, --now), kind, text, reply_to, hashtags, mentions, links
    (t.co expanded), likes, reposts, replies, quotes, language, campaign, occurrence,
    deleted_at. In csv and xlsx the text shows t.co links expanded, as readers see them;
    jsonl, json and parquet keep it as stored. Rows are streamed: any size in bounded memory.

    Example:

    \b
        archive export --format xlsx -o tas.xlsx --from 2015-01-01 --until 2015-03-31 --hashtag zelfstandigeteams
    """
    from archive import export
    from archive.errors import ExportError
    from archive.store import count_posts, query_posts
    from archive.tabular import csv_rows, raw_batches, xlsx_batches
    from archive.xlsx import MAX_LINKS, MAX_URL

    posts_file = resolve_posts_file(posts_file)
    zone = zone_of(zone_name)
    now = parse_now(now, zone)
    relative_formatter(locale, zone, units)  # an unknown --locale is refused before anything is opened
    post_filter = replace(build_filter((), zone=zone, since=since, until=until, **filters), newest_first=False)
    if output is not None and str(output) == "-":
        output = None
    if format_name in FILE_ONLY and output is None:
        raise click.UsageError(f"{format_name} needs a file: add -o FILE.{format_name}")
    if format_name == "parquet":
        from archive.parquet import require

        require()  # before anything is opened: one line naming the extra
    if output is not None and not output.parent.is_dir():
        raise ExportError(f"{output}: the folder {output.parent} does not exist")
    separator = DELIMITERS[delimiter] if delimiter else (";" if excel else ",")
    with_bom = excel if bom is None else bom
    # A bar on the terminal, unless the posts themselves go to that terminal.
    show = sys.stderr.isatty() and (output is not None or not sys.stdout.isatty()) if progress is None else progress

    database, post_filter = open_for_accounts(db_url, posts_file, accounts, post_filter)
    try:
        total = count_posts(database, post_filter) if show else None
        if format_name in ("jsonl", "json"):  # every field
            posts = query_posts(database, post_filter, with_raw=True)
        else:  # csv, xlsx, parquet: a reading process opens its own connection (see archive.tabular)
            database.engine.dispose()
        target = output.with_name(output.name + ".part") if output else None
        try:
            with progress_bar("export", enabled=show, total=total) as advance:
                if format_name == "xlsx":
                    with closing(xlsx_batches(db_url, posts_file, post_filter, (zone, now, locale, units))) as cells:
                        count = export.write_xlsx_cells(chain.from_iterable(cells), target,
                                                        header=export.headers(locale, zone), progress=advance)
                elif format_name == "parquet":
                    from archive.parquet import write_parquet

                    with closing(raw_batches(db_url, posts_file, post_filter)) as batches:
                        count = write_parquet(batches, target, zone=zone, progress=advance)
                else:
                    encoding = "utf-8-sig" if with_bom and format_name == "csv" else "utf-8"
                    stream = (open(target, "w", encoding=encoding, newline="") if target else
                              io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline="",
                                               write_through=False))
                    try:
                        if format_name == "csv":
                            with closing(csv_rows(db_url, posts_file, post_filter, (zone, now, locale, units))) as cells:
                                count = export.write_csv_cell_batches(cells, stream, delimiter=separator, excel=excel,
                                                                      progress=advance)
                        elif format_name == "jsonl":
                            count = export.write_jsonl(posts, stream, progress=advance)
                        else:
                            count = export.write_json(posts, stream, progress=advance)
                    finally:
                        if target:
                            stream.close()
                        else:
                            stream.flush()
                            stream.detach()
            if target:
                target.replace(output)
        except OSError as error:
            if target is None:  # standard output went away (e.g. `| head`): nothing to say
                raise
            raise ExportError(f"{output}: cannot be written: {error.strerror or error}") from None
        finally:
            if target and target.exists():
                os.unlink(target)
    finally:
        database.engine.dispose()
    if output:
        click.echo(f"{output}: {count} posts", err=True)
    if getattr(count, "links_dropped", 0):
        click.echo(f"{output}: {count.links_dropped:,} links left as plain text (Excel takes at most "
                   f"{MAX_LINKS:,} hyperlinks in a sheet, each at most {MAX_URL:,} characters, http(s) only)",
                   err=True)
