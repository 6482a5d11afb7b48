"""One sheet of rows streamed into an .xlsx workbook through XlsxWriter (constant_memory: each
row is written out before the next, so a million rows keep memory bounded).

What an analyst's sheet needs, and nothing else: a bold frozen header row with an autofilter over
it, column widths, date cells (Excel serial numbers with a date format), and hyperlinks — up to
Excel's 65,530 per sheet; beyond that, and for targets longer than 2,079 characters or not
http(s), the cell stays plain text and `links_dropped` says how many. Past Excel's 1,048,576 rows
the rows go on in a next sheet, under the header again. Texts are always written as text (never
a formula, number or URL guessed from a string); characters a workbook cannot hold (lone
surrogates) become U+FFFD, and a cell keeps at most Excel's 32,767 characters.

Usage:
    with XlsxWriter(path, columns, sheet="posts") as sheet:
        sheet.header(["id", "text", …])
        sheet.row([…], {3: "https://…"})  # a value per column; the hyperlinks by column

Speed: XlsxWriter's own per-cell work (its XML of each cell, escaping, the temporary file) is
most of the time. What a row needs besides can be done where the row is made, e.g. in the
process that reads it (archive.tabular): prepare_row() makes a row ready, and row(…, prepared=True)
then hands each value to XlsxWriter's typed methods and does nothing else per cell.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

MAX_LINKS = 65_530  # Excel's limit of hyperlinks per sheet
MAX_URL = 2_079  # Excel's limit on the length of a hyperlink's target
MAX_CELL = 32_767  # characters in one cell
MAX_ROWS = 1_048_576  # rows in one sheet

PLAIN, DATETIME, DATE = 0, 1, 2  # a column's number format

_EPOCH = datetime(1899, 12, 30)
_EPOCH_UTC = _EPOCH.replace(tzinfo=timezone.utc)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class Column:
    width: float = 12  # in characters of the default font, as Excel counts them
    style: int = PLAIN  # for numbers that are dates: DATETIME (date and time) or DATE


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_text(value: str) -> str:
    """A string a workbook can hold: lone surrogates replaced, at most MAX_CELL characters."""
    if len(value) > MAX_CELL:
        value = value[:MAX_CELL]
    return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value


def prepare_row(values: list, links: dict[int, str] | None) -> tuple[list, dict | None]:
    """(values, links) ready for XlsxWriter.row(…, prepared=True): texts a workbook can hold
    (cell_text), empty texts None, datetimes as serial numbers, and each link target checked
    (False where one can never be a hyperlink: not http(s), or longer than Excel allows). Changes
    and returns the values list. Call it wherever the rows are made (another process will do)."""
    for index, value in enumerate(values):
        kind = type(value)
        if kind is str:
            if not value:
                values[index] = None
            elif len(value) > MAX_CELL or _SURROGATE.search(value):
                values[index] = cell_text(value)
        elif kind is datetime:
            values[index] = serial(value)
        elif value is not None and kind is not float and kind is not int and kind is not bool:
            raise TypeError(f"cannot write a {kind.__name__} to a cell")
    if links:
        links = {index: target if _linkable(target) else False for index, target in links.items()
                 if values[index] is not None}
    return values, links or None


def _linkable(target: str) -> bool:
    return len(target) <= MAX_URL and target.startswith(("https://", "http://")) and not _SURROGATE.search(target)


def serial(moment: datetime) -> float:
    """Excel's serial number of a date-time: days since 1899-12-30. An aware moment counts in UTC;
    a naive one as it is (a local wall-clock time)."""
    if moment.tzinfo is None:
        return (moment - _EPOCH).total_seconds() / 86400
    return (moment - _EPOCH_UTC).total_seconds() / 86400


class XlsxWriter:
    """Rows appended in order to a sheet, and to a next one ("posts (2)", with the header again)
    when a sheet holds `max_rows`. out: a path or a seekable binary file. close() (or the end of a
    `with` block without an error) finishes the workbook."""

    def __init__(self, out, columns: Sequence[Column], *, sheet: str = "Sheet1", max_links: int = MAX_LINKS,
                 id_columns: Sequence[int] = (), max_rows: int = MAX_ROWS):
        """id_columns: columns of digit strings (ids) that Excel should not flag as numbers stored as text."""
        import xlsxwriter

        self.columns = list(columns)
        self.id_columns = list(id_columns)
        self.name = sheet[:31]
        self.max_links = max_links
        self.max_rows = max_rows
        self.sheets: list[tuple[str, int]] = []  # (name, rows) of each finished sheet
        self.links_dropped = 0
        self.written = 0  # rows written (without the headers)
        self._header: list[str] | None = None
        # The strings_to_* options only matter to write(), which this class never calls (it calls the
        # typed methods); off all the same, so that no text could ever become a formula, number or link.
        self._book = xlsxwriter.Workbook(out, {
            "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
            "strings_to_urls": False, "max_url_length": MAX_URL, "in_memory": False})
        bold = self._book.add_format({"bold": True})
        self._formats = {PLAIN: None, DATETIME: self._book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
                         DATE: self._book.add_format({"num_format": "yyyy-mm-dd"})}
        self._header_format = bold
        self._link_format = self._book.get_default_url_format()
        self._column_formats = [self._formats[c.style] for c in self.columns]
        self._open_sheet()

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if kind is None:
            self.close()
        else:
            self.abandon()

    def _open_sheet(self) -> None:
        number = len(self.sheets) + 1
        self._sheet = sheet = self._book.add_worksheet(self.name if number == 1 else f"{self.name[:25]} ({number})")
        # The typed methods without their wrappers, which only translate "A1" cell names (per cell,
        # their share of the time is worth saving; they are what XlsxWriter's own write_* call).
        self._string, self._number, self._url = sheet._write_string, sheet._write_number, sheet._write_url
        self.rows = 0
        self.links = 0
        for index, column in enumerate(self.columns):
            self._sheet.set_column(index, index, column.width)
        self._sheet.freeze_panes(1, 0)
        if self.id_columns:
            self._sheet.ignore_errors({"number_stored_as_text": " ".join(
                f"{column_letter(i)}2:{column_letter(i)}{MAX_ROWS}" for i in self.id_columns)})
        if self._header is not None:
            self._header_row()

    def header(self, names: Sequence[str]) -> None:
        """The first row (of each sheet): bold, frozen, with the autofilter's buttons."""
        self._header = list(names)
        self._header_row()

    def _header_row(self) -> None:
        for index, name in enumerate(self._header):
            self._sheet.write_string(0, index, cell_text(name), self._header_format)
        self.rows = 1

    def row(self, values: Sequence, links: dict[int, str] | None = None, *, prepared: bool = False) -> None:
        """One row: str, int, float, bool, datetime (see serial) or None (an empty cell) per column.
        links: {column index: target} makes that cell a hyperlink (when the sheet has room for one).
        prepared=True: values and links as prepare_row() returns them."""
        formats = self._column_formats
        if not prepared:
            dated = [index for index, value in enumerate(values) if type(value) is datetime and formats[index] is None]
            values, links = prepare_row(list(values), links)
            if dated:  # a date in a column without a date format still shows as one
                formats = list(formats)
                for index in dated:
                    formats[index] = self._formats[DATETIME]
        if self.rows >= self.max_rows:
            self._close_sheet()
            self._open_sheet()
        number = self.rows
        self.rows += 1
        self.written += 1
        string, numeric = self._string, self._number
        for index, value in enumerate(values):
            if value is None:
                continue
            if links is not None and index in links:
                self._link(number, index, value, links[index])
            elif type(value) is str:
                string(number, index, value)
            elif type(value) is bool:
                self._sheet._write_boolean(number, index, value)
            else:
                numeric(number, index, value, formats[index])

    def _link(self, number: int, index: int, text, target) -> None:
        """A hyperlink cell, or the text alone when the sheet has no room for one or the target can
        never be one (target False: see prepare_row)."""
        if target is not False and self.links < self.max_links and type(text) is str:
            if self._url(number, index, target, self._link_format, text) == 0:
                self.links += 1
                return
        self.links_dropped += 1
        if type(text) is str:
            self._string(number, index, text)
        else:
            self._number(number, index, text, self._column_formats[index])

    def _close_sheet(self) -> None:
        self._sheet.autofilter(0, 0, max(self.rows - 1, 0), len(self.columns) - 1)
        self.sheets.append((self._sheet.name, self.rows))

    def close(self) -> None:
        if self._book is None:
            return
        self._close_sheet()
        self._book.close()
        self._book = None

    def abandon(self) -> None:
        """Stop without finishing (after an error): the file is incomplete, the caller removes it."""
        self._book = None
