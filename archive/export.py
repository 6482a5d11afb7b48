"""Exporters: ArchivedPost streams to CSV (Excel-friendly on request), JSONL, JSON and XLSX.

Every writer consumes its posts one at a time and keeps nothing, so a million rows fit in
bounded memory (XLSX via openpyxl's write-only mode). No database, no click.
"""
from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from typing import IO, Callable, Iterable

from .importers.own_jsonl import to_json
from .records import ArchivedPost

COLUMNS = ["id", "platform", "account", "url", "created_at", "created_local", "relative_time", "kind", "text",
           "reply_to", "hashtags", "mentions", "links", "likes", "reposts", "replies", "quotes", "language",
           "campaign", "occurrence", "deleted_at"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ID_COLUMNS = (COLUMNS.index("id"), COLUMNS.index("reply_to"))


class Rows:
    """Turns posts into flat rows (the COLUMNS) for one zone, one 'now' and one relative-time formatter.

    relative: a callable (moment, now) -> str such as archive.reltime.RelativeTime; None leaves the
    column empty.
    """

    def __init__(self, *, zone=timezone.utc, now: datetime | None = None,
                 relative: Callable[[datetime, datetime], str] | None = None):
        self.zone = zone
        self.now = now or datetime.now(timezone.utc)
        self.relative = relative

    def values(self, post: ArchivedPost) -> list:
        """One row; created_at/created_local/deleted_at stay datetimes (aware UTC, naive local, aware UTC),
        metrics numbers (None when the source did not say)."""
        metrics = post.metrics
        return [
            post.remote_id, post.platform, post.account, post.url, post.created_at,
            post.created_at.astimezone(self.zone).replace(tzinfo=None),
            self.relative(post.created_at, self.now) if self.relative else "",
            post.kind, post.text, post.reply_to_id or "", _hashtags(post), _mentions(post), _links(post),
            metrics.get("likes"), metrics.get("reposts"), metrics.get("replies"), metrics.get("quotes"),
            post.language or "", post.campaign_id or "", post.occurrence_key or "", post.deleted_at,
        ]

    def texts(self, post: ArchivedPost) -> list[str]:
        """The row of values() with every cell as text, the way CSV shows it: times in ISO 8601 to the
        second (UTC ones ending in Z, local ones without a zone), absent values empty. Built directly
        rather than by converting values(): CSV export spends most of its time here."""
        metrics = post.metrics
        created = post.created_at
        likes, reposts, replies, quotes = (metrics.get("likes"), metrics.get("reposts"), metrics.get("replies"),
                                           metrics.get("quotes"))
        return [
            post.remote_id, post.platform, post.account, post.url or "", _utc_text(created),
            created.astimezone(self.zone).isoformat(" ", "seconds")[:19],
            self.relative(created, self.now) if self.relative else "",
            post.kind, post.text, post.reply_to_id or "", _hashtags(post), _mentions(post), _links(post),
            "" if likes is None else str(likes), "" if reposts is None else str(reposts),
            "" if replies is None else str(replies), "" if quotes is None else str(quotes),
            post.language or "", post.campaign_id or "", post.occurrence_key or "",
            _utc_text(post.deleted_at) if post.deleted_at is not None else "",
        ]


def _hashtags(post) -> str:
    return " ".join(["#" + tag for tag in post.hashtags]) if post.hashtags else ""


def _mentions(post) -> str:
    return " ".join(["@" + handle for handle in post.mentions]) if post.mentions else ""


def _links(post) -> str:
    return " ".join([link.expanded_url or link.url for link in post.links]) if post.links else ""


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat(timespec="seconds")[:19] + "Z"  # without the "+00:00"


def write_csv(posts: Iterable[ArchivedPost], out: IO[str], rows: Rows, *, delimiter: str = ",",
              excel: bool = False, progress: Callable[[int], None] | None = None) -> int:
    """CSV with a header row; returns the number of posts written. out: a text stream opened with
    newline="". excel=True guards cells that Excel would take for a formula (=, +, -, @) with a
    leading apostrophe, as Excel itself does, and writes ids of more than 15 digits (X's) as ="…",
    which Excel shows as the exact text instead of rounding a number. The BOM, if wanted, is the
    caller's (encoding utf-8-sig)."""
    return write_csv_cells(map(rows.texts, posts), out, delimiter=delimiter, excel=excel, progress=progress)


def write_csv_cells(cells: Iterable[list[str]], out: IO[str], *, delimiter: str = ",", excel: bool = False,
                    progress: Callable[[int], None] | None = None) -> int:
    """write_csv for rows already made by Rows.texts (e.g. in another process)."""
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for count, row in enumerate(cells, 1):
        if excel:
            row = ["'" + c if c.startswith(FORMULA_START) else c for c in row]
            for index in ID_COLUMNS:
                if len(row[index]) > 15 and row[index].isdigit():
                    row[index] = f'="{row[index]}"'  # Excel keeps 15 digits of a number; this stays text
        writer.writerow(row)
        if progress and count % 1000 == 0:
            progress(1000)
    if progress:
        progress(count % 1000)
    return count


def write_jsonl(posts: Iterable[ArchivedPost], out: IO[str], *, progress=None) -> int:
    """One post per line with every field (the lossless format `archive import` reads back)."""
    count = 0
    for count, post in enumerate(posts, 1):
        out.write(json.dumps(to_json(post), ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        if progress and count % 1000 == 0:
            progress(1000)
    if progress:
        progress(count % 1000)
    return count


def write_json(posts: Iterable[ArchivedPost], out: IO[str], *, progress=None) -> int:
    """A JSON array of the same objects as write_jsonl, written element by element."""
    out.write("[")
    count = 0
    for count, post in enumerate(posts, 1):
        out.write("\n" if count == 1 else ",\n")
        out.write(json.dumps(to_json(post), ensure_ascii=False))
        if progress and count % 1000 == 0:
            progress(1000)
    out.write("\n]\n" if count else "]\n")
    if progress:
        progress(count % 1000)
    return count


def write_xlsx(posts: Iterable[ArchivedPost], out, rows: Rows, *, progress=None) -> int:
    """An .xlsx workbook (write-only: rows go to disk as they come) with real date cells:
    created_at and deleted_at in UTC, created_local in the zone. out: a path or binary file."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("posts")
    sheet.freeze_panes = "A2"
    sheet.append(COLUMNS)
    dates = {COLUMNS.index(name) for name in ("created_at", "created_local", "deleted_at")}
    text_column = COLUMNS.index("text")
    count = 0
    for count, post in enumerate(posts, 1):
        values = rows.values(post)
        for index in dates:
            value = values[index]
            if value is not None:
                cell = WriteOnlyCell(sheet, value.astimezone(timezone.utc).replace(tzinfo=None)
                                     if value.tzinfo else value)
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
                values[index] = cell
        text = values[text_column]
        if text.startswith("="):  # openpyxl would store it as a formula
            cell = WriteOnlyCell(sheet, text)
            cell.data_type = "s"
            values[text_column] = cell
        sheet.append(values)
        if progress and count % 1000 == 0:
            progress(1000)
    workbook.save(out)
    if progress:
        progress(count % 1000)
    return count
