"""Exporters: ArchivedPost streams to CSV (Excel-friendly on request), JSONL, JSON, XLSX and Parquet.

Every writer consumes its posts one at a time and keeps nothing, so a million rows fit in
bounded memory (XLSX through archive.xlsx, Parquet in row groups). No database, no click.

The table formats (CSV, XLSX) show a post's text as people read it on the platform: t.co
links replaced by where they lead (the expanded links are also a column of their own). JSONL,
JSON and Parquet keep the text as stored, for machines.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import IO, Callable, Iterable, Sequence

from campaign.csvexcel import FORMULA_START, write_csv as _write_csv, write_csv_batches  # noqa: F401 (re-exported)

from .importers.own_jsonl import to_json
from .records import ArchivedPost
from .xlsx import prepare_row

COLUMNS = ["id", "platform", "account", "url", "created_at", "created_local", "relative_time", "kind", "text",
           "reply_to", "hashtags", "mentions", "links", "likes", "reposts", "replies", "quotes", "language",
           "campaign", "occurrence", "deleted_at", "visibility", "content_warning"]

ID_COLUMNS = (COLUMNS.index("id"), COLUMNS.index("reply_to"))

# The XLSX header in the export's --locale (the CSV header stays COLUMNS: scripts read it).
# {zone} is the --timezone of created_local.
HEADERS = {
    "nl": ["ID", "Platform", "Account", "Link naar bericht", "Geplaatst (UTC)", "Geplaatst ({zone})",
           "Hoe lang geleden", "Soort", "Tekst", "Antwoord op", "Hashtags", "Vermeldingen", "Links", "Likes",
           "Reposts", "Antwoorden", "Citaten", "Taal", "Campagne", "Campagnebericht", "Verwijderd (UTC)",
           "Zichtbaarheid", "Inhoudswaarschuwing"],
    "en": ["ID", "Platform", "Account", "Post URL", "Created (UTC)", "Created ({zone})", "Relative time", "Kind",
           "Text", "Reply to", "Hashtags", "Mentions", "Links", "Likes", "Reposts", "Replies", "Quotes", "Language",
           "Campaign", "Occurrence", "Deleted (UTC)", "Visibility", "Content warning"],
}


def headers(locale: str, zone=timezone.utc) -> list[str]:
    """The column names for people in locale's language (nl or en; English for any other)."""
    language = locale.replace("-", "_").split("_")[0].lower()
    zone_name = getattr(zone, "key", None) or str(zone)
    return [name.format(zone=zone_name) for name in HEADERS.get(language, HEADERS["en"])]


def expanded_text(text: str, links) -> str:
    """text with each link that has an expanded target (t.co) replaced by that target."""
    if not links:
        return text
    if len(links) > 1:  # the longer first, so that one short link's URL cannot cut into another's
        links = sorted(links, key=lambda link: len(link.url or ""), reverse=True)
    for link in links:
        if link.expanded_url and link.url and link.expanded_url != link.url:
            text = text.replace(link.url, link.expanded_url)
    return text


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
            post.kind, expanded_text(post.text, post.links), post.reply_to_id or "", _hashtags(post), _mentions(post),
            _links(post), metrics.get("likes"), metrics.get("reposts"), metrics.get("replies"), metrics.get("quotes"),
            post.language or "", post.campaign_id or "", post.occurrence_key or "", post.deleted_at,
            post.visibility, post.content_warning or "",
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
            post.kind, expanded_text(post.text, post.links), post.reply_to_id or "", _hashtags(post), _mentions(post),
            _links(post), "" if likes is None else str(likes), "" if reposts is None else str(reposts),
            "" if replies is None else str(replies), "" if quotes is None else str(quotes),
            post.language or "", post.campaign_id or "", post.occurrence_key or "",
            _utc_text(post.deleted_at) if post.deleted_at is not None else "",
            post.visibility, post.content_warning or "",
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
    return _write_csv(out, COLUMNS, cells, delimiter=delimiter, excel=excel, id_columns=ID_COLUMNS, progress=progress)


def write_csv_cell_batches(batches: Iterable[list[list[str]]], out: IO[str], *, delimiter: str = ",",
                           excel: bool = False, progress: Callable[[int], None] | None = None) -> int:
    """write_csv_cells for rows in batches (as archive.tabular.csv_rows makes them)."""
    return write_csv_batches(out, COLUMNS, batches, delimiter=delimiter, excel=excel, id_columns=ID_COLUMNS,
                             progress=progress)


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


# -- XLSX -------------------------------------------------------------------

# Widths in characters (Excel's unit); dates as date cells; the post's URL and its first link as hyperlinks.
XLSX_WIDTHS = {"id": 20, "platform": 9, "account": 18, "url": 50, "created_at": 19, "created_local": 19,
               "relative_time": 26, "kind": 8, "text": 90, "reply_to": 20, "hashtags": 24, "mentions": 22,
               "links": 45, "likes": 7, "reposts": 8, "replies": 8, "quotes": 8, "language": 7, "campaign": 16,
               "occurrence": 28, "deleted_at": 19, "visibility": 10, "content_warning": 30}
DATE_COLUMNS = ("created_at", "created_local", "deleted_at")
URL_COLUMN, LINKS_COLUMN = COLUMNS.index("url"), COLUMNS.index("links")
_DAY = 86400.0
_UNIX_SERIAL = 25569.0  # Excel's serial number of 1970-01-01


def xlsx_columns():
    from .xlsx import DATETIME, Column

    return [Column(XLSX_WIDTHS[name], DATETIME if name in DATE_COLUMNS else 0) for name in COLUMNS]


def xlsx_cells(rows: "Rows", post) -> tuple[list, dict | None]:
    """One XLSX row: (values, hyperlink targets by column), made ready for the writer
    (archive.xlsx.prepare_row; so a reading process does that work, not the writing one). Dates
    are Excel serial numbers (the writer gives their columns a date format): created_at and
    deleted_at in UTC, created_local as the wall-clock time in the zone; metrics numbers; absent
    values None."""
    metrics = post.metrics
    created = post.created_at
    stamp = created.timestamp()
    offset = created.astimezone(rows.zone).utcoffset().total_seconds()
    links = post.links
    url = post.url
    targets = None
    if url:
        targets = {URL_COLUMN: url}
    if links:
        first = links[0].expanded_url or links[0].url
        if first:
            targets = {**targets, LINKS_COLUMN: first} if targets else {LINKS_COLUMN: first}
    deleted = post.deleted_at
    return prepare_row([
        post.remote_id, post.platform, post.account, url, stamp / _DAY + _UNIX_SERIAL,
        (stamp + offset) / _DAY + _UNIX_SERIAL, rows.relative(created, rows.now) if rows.relative else None,
        post.kind, expanded_text(post.text, links), post.reply_to_id, _hashtags(post), _mentions(post), _links(post),
        metrics.get("likes"), metrics.get("reposts"), metrics.get("replies"), metrics.get("quotes"),
        post.language, post.campaign_id, post.occurrence_key,
        None if deleted is None else deleted.timestamp() / _DAY + _UNIX_SERIAL,
        post.visibility, post.content_warning,
    ], targets)


class XlsxResult(int):
    """The number of rows written, with the number of cells that could not be hyperlinks."""

    links_dropped: int = 0


def write_xlsx_cells(cells: Iterable[tuple[list, dict | None]], out, *, header: Sequence[str],
                     progress: Callable[[int], None] | None = None) -> XlsxResult:
    """An .xlsx workbook of rows made by xlsx_cells (e.g. in another process): one sheet "posts"
    with the header (bold, frozen, with an autofilter), column widths, date cells and hyperlinks.
    out: a path or a seekable binary file. Streams: memory stays bounded at any size."""
    from .xlsx import XlsxWriter

    count = 0
    with XlsxWriter(out, xlsx_columns(), sheet="posts", id_columns=ID_COLUMNS) as sheet:
        sheet.header(header)
        row = sheet.row
        for count, (values, targets) in enumerate(cells, 1):
            row(values, targets, prepared=True)
            if progress and count % 1000 == 0:
                progress(1000)
    if progress:
        progress(count % 1000)
    result = XlsxResult(count)
    result.links_dropped = sheet.links_dropped
    return result


def write_xlsx(posts: Iterable[ArchivedPost], out, rows: Rows, *, locale: str = "nl",
               progress: Callable[[int], None] | None = None) -> XlsxResult:
    """write_xlsx_cells for posts, with the header in locale's language."""
    return write_xlsx_cells((xlsx_cells(rows, post) for post in posts), out, header=headers(locale, rows.zone),
                            progress=progress)
