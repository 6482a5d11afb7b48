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
        self._sheet = self._book.add_worksheet(self.name if number == 1 else f"{self.name[:25]} ({number})")
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

    def row(self, values: Sequence, links: dict[int, str] | None = None) -> None:
        """One row: str, int, float, bool, datetime (see serial) or None (an empty cell) per column.
        links: {column index: target} makes that cell a hyperlink (when the sheet has room for one)."""
        if self.rows >= self.max_rows:
            self._close_sheet()
            self._open_sheet()
        sheet, number = self._sheet, self.rows
        self.rows += 1
        self.written += 1
        for index, value in enumerate(values):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                if not value:
                    continue
                target = links.get(index) if links else None
                if target is not None and self._link(target):
                    sheet.write_url(number, index, target, self._link_format, cell_text(value))
                else:
                    sheet.write_string(number, index, cell_text(value))
            elif kind is float or kind is int:
                sheet.write_number(number, index, value, self._column_formats[index])
            elif kind is datetime:
                sheet.write_number(number, index, serial(value),
                                   self._column_formats[index] or self._formats[DATETIME])
            elif kind is bool:
                sheet.write_boolean(number, index, value)
            else:
                raise TypeError(f"cannot write a {kind.__name__} to a cell")

    def _link(self, target: str) -> bool:
        if self.links >= self.max_links or len(target) > MAX_URL or not target.startswith(("https://", "http://")):
            self.links_dropped += 1
            return False
        self.links += 1
        return True

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
