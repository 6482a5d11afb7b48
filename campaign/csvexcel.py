"""CSV that opens cleanly in (Dutch) Excel, shared by `campaign plan --excel` and `archive export --excel`.

Dutch Excel splits a double-clicked CSV on ';' (a comma is its decimal sign) and reads it as UTF-8
only when it starts with a BOM. It also takes a cell that starts with =, +, -, @ (or a tab or
carriage return) for a formula; such cells get a leading apostrophe, as Excel itself writes them.
A number of more than 15 digits (an X id) would be rounded to 15: those are written as ="…",
which Excel shows as the exact text. Only the standard library, no click.
"""
from __future__ import annotations

import csv
from typing import IO, Callable, Iterable, Sequence

SEPARATOR = ";"
ENCODING = "utf-8-sig"  # with the BOM
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_cells(row: list[str], id_columns: Sequence[int] = ()) -> list[str]:
    """The row made safe for Excel: formula-like cells with a leading apostrophe; in id_columns,
    digit strings longer than 15 as ="…"."""
    row = ["'" + cell if cell.startswith(FORMULA_START) else cell for cell in row]
    for index in id_columns:
        if len(row[index]) > 15 and row[index].isdigit():
            row[index] = f'="{row[index]}"'  # Excel keeps 15 digits of a number; this stays text
    return row


def write_csv(out: IO[str], header: Sequence[str], rows: Iterable[list[str]], *, delimiter: str = ",",
              excel: bool = False, id_columns: Sequence[int] = (), lineterminator: str = "\r\n",
              progress: Callable[[int], None] | None = None) -> int:
    """A header and the rows (lists of str) as CSV; returns the number of rows. out: a text stream
    opened with newline="" (its encoding ENCODING for Excel: the BOM is the stream's). excel=True
    passes each row through excel_cells. progress(n) is called every 1,000 rows."""
    writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerow(header)
    count = 0
    for count, row in enumerate(rows, 1):
        writer.writerow(excel_cells(row, id_columns) if excel else row)
        if progress and count % 1000 == 0:
            progress(1000)
    if progress:
        progress(count % 1000)
    return count


def write_csv_batches(out: IO[str], header: Sequence[str], batches: Iterable[list[list[str]]], *,
                      delimiter: str = ",", excel: bool = False, id_columns: Sequence[int] = (),
                      lineterminator: str = "\r\n", progress: Callable[[int], None] | None = None) -> int:
    """write_csv for rows that come in lists (batches): each batch is written by the csv module in
    one call, which saves a Python step per row. progress(n) is called per batch."""
    writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerow(header)
    count = 0
    for batch in batches:
        writer.writerows([excel_cells(row, id_columns) for row in batch] if excel else batch)
        count += len(batch)
        if progress:
            progress(len(batch))
    return count


def write_excel(out: IO[bytes], header: Sequence[str], rows: Iterable[list[str]], *,
                id_columns: Sequence[int] = ()) -> int:
    """write_csv for Excel to a binary stream (e.g. standard output): the BOM, ';', cells made safe."""
    import io

    stream = io.TextIOWrapper(out, encoding=ENCODING, newline="")
    try:
        return write_csv(stream, header, rows, delimiter=SEPARATOR, excel=True, id_columns=id_columns)
    finally:
        stream.flush()
        stream.detach()
