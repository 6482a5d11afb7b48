"""Importers: each turns one export format into a stream of ArchivedPost records.

They import neither click nor the database, read their input incrementally (array_items: a
chunk at a time, parsed by orjson; ijson; or one JSONL line at a time) so memory stays bounded
whatever the file's size, and raise
archive.errors.ImportFormatError naming the file and the record number when the input is broken.
No record may hold more than MAX_RECORD bytes of JSON (a twarc2 page: MAX_PAGE), and this is
enforced while reading (Bounded, json_lines, array_items), so a hostile file cannot make one huge record.

Every importer module provides

    iter_posts(path, *, account=None) -> Iterator[ArchivedPost]   # one file (or archive) at a time
    SOURCE: str                                                     # the source name stored with each post

and may provide count(path) -> int | None: how many posts iter_posts will read, when the
input says so cheaply (it sizes the progress bar; None when unknown).
archive.importers.detect chooses the module for a path.
"""
from __future__ import annotations

import codecs
import gzip
import json
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import ijson
import orjson

from ..errors import ImportFormatError
from ..sources.x import parse_twitter_time, source_app  # noqa: F401  (X's, kept here for callers)
from ..sources.x import _unescape as unescape  # noqa: F401

MB = 1024 * 1024
MAX_RECORD = 1 * MB  # one tweet, status or exported post: real ones are a few KB
MAX_PAGE = 4 * MB  # one twarc2 line: a page of up to 100 tweets with their includes
MAX_MEMBER = 4096 * MB  # one file inside a zip, uncompressed: far beyond any real archive
MAX_RATIO = 100  # compression ratio; JSON exports compress about 10:1, zip bombs 1000:1
RATIO_FROM = 10 * MB  # small files may compress better (long runs of one character) and do no harm
_CHUNK = 64 * 1024  # what Bounded hands out per read: the most it holds beyond a limit

def parse_iso_time(value: str) -> datetime:
    """ISO 8601 ("2015-01-27T10:00:00.000Z") as aware UTC; a naive value is taken as UTC."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def as_int(value) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


class Replayed:
    """A binary file object that gives data, then the rest of raw."""

    def __init__(self, data: bytes, raw):
        self._data, self._raw = data, raw

    def read(self, size: int = -1) -> bytes:
        if self._data:
            if size is None or size < 0:
                data, self._data = self._data + self._raw.read(), b""
                return data
            data, self._data = self._data[:size], self._data[size:]
            return data
        return self._raw.read(size)


class Prefixed(Replayed):
    """A binary file object positioned after an X archive's `window.YTD.<name>.partN = ` prefix."""

    PREFIX = re.compile(rb"^\s*window\.YTD\.([A-Za-z0-9_]+)\.part(\d+)\s*=\s*")

    def __init__(self, raw, display: str, *, expected: str | None = None):
        head = raw.read(256)
        match = self.PREFIX.match(head)
        if not match:
            start = head[:40].decode("utf-8", "replace").strip()
            raise ImportFormatError(display, f"does not start with 'window.YTD.….part0 = ' (it starts with {start!r}); "
                                             "is this a file from an X archive?")
        if expected and match.group(1).decode() not in expected.split("|"):
            raise ImportFormatError(display, f"holds 'window.YTD.{match.group(1).decode()}', expected "
                                             f"'window.YTD.{expected.split('|')[0]}'")
        self.name = match.group(1).decode()
        super().__init__(head[match.end():], raw)


def too_large(display: str, record: int, limit: int) -> ImportFormatError:
    return ImportFormatError(display, f"is larger than {limit // MB} MB (a record holds at most "
                                      f"{limit // MB} MB of JSON; is this file damaged or hostile?)", record=record)


class Bounded:
    """A binary file object that stops ijson after `limit` bytes since the last whole record, or
    `total` bytes in all. ijson builds each string whole before handing it over, so only the
    reader can stop a 2 GB string; ijson reads a chunk only once it has handed over every record
    the earlier chunks completed, so bytes since the last mark() are the current record's."""

    def __init__(self, raw, display: str, *, limit: int = MAX_RECORD, total: int = MAX_MEMBER):
        self._raw, self._display, self._limit, self._total = raw, display, limit, total
        self._read = self._mark = 0
        self.records = 0

    def mark(self, records: int) -> None:
        """Call with the number of records read so far, as each one arrives."""
        self.records, self._mark = records, self._read

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(_CHUNK if size is None or size < 0 else min(size, _CHUNK))
        self._read += len(data)
        if self._read - self._mark > self._limit:
            raise too_large(self._display, self.records + 1, self._limit)
        if self._read > self._total:  # declared sizes can lie; what is read cannot
            raise ImportFormatError(self._display, f"unpacks to more than {self._total // MB} MB; refused")
        return data


def check_member(info: zipfile.ZipInfo, display: str) -> None:
    """Refuse a zip member that would unpack to an absurd size before reading any of it (a zip bomb)."""
    if info.file_size > MAX_MEMBER:
        raise ImportFormatError(display, f"would unpack to {info.file_size / MB:,.0f} MB; at most "
                                         f"{MAX_MEMBER // MB} MB per file is read")
    if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * info.compress_size:
        raise ImportFormatError(display, f"is compressed {info.file_size / max(info.compress_size, 1):,.0f}:1 "
                                         f"(at most {MAX_RATIO}:1 is read; a zip bomb?)")


def json_lines(path: Path, *, limit: int = MAX_RECORD) -> Iterator[tuple[int, object]]:
    """(line number, decoded JSON) of each non-blank line of a JSONL file (.gz too), streamed; the
    line number is the record number. Raises ImportFormatError naming the line that is too long
    (checked before more than `limit` bytes of it are read), not UTF-8, or not JSON."""
    number = 0
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as lines:
            while line := lines.readline(limit + 1):
                number += 1
                if len(line) > limit and not line.endswith(b"\n"):
                    raise too_large(str(path), number, limit)
                data = _json_line(path, number, line)
                if data is not _BLANK:
                    yield number, data
    except (OSError, EOFError) as error:
        raise ImportFormatError(str(path), f"cannot be read: {error} (truncated or damaged?)",
                                record=number + 1) from None


_BLANK = object()


def _json_line(path: Path, number: int, line: bytes):
    if number == 1 and line.startswith(codecs.BOM_UTF8):
        line = line[len(codecs.BOM_UTF8):]
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ImportFormatError(str(path), f"is not valid UTF-8 (byte 0x{line[error.start]:02x} at byte "
                                           f"{error.start + 1} of line {number})", record=number) from None
    if not text.strip():
        return _BLANK
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFormatError(str(path), f"is not valid JSON ({error.msg}, column {error.colno}; "
                                           "truncated or damaged?)", record=number) from None


def first_json_line(path: Path, *, limit: int) -> object:
    """The first non-blank line's JSON (None for an empty file); errors as json_lines."""
    lines = json_lines(path, limit=limit)
    try:
        return next(lines, (0, None))[1]
    finally:
        lines.close()  # the file, now


SCAN_CHUNK = 256 * 1024  # read per step by array_items: a few hundred tweets, parsed at once
_FIRST_KEY = re.compile(rb'\s*\[\s*\{\s*("(?:[^"\\]|\\.)*")\s*:')
_BEFORE_KEY = re.compile(rb"\}\s*,\s*\{\s*\Z")  # what comes before the first key of an element not the first
_BEFORE_KEY_REACH = 256  # bytes of whitespace looked at between "}" and the key


def array_items(raw, display: str, *, last_member: bool = False) -> Iterator[object]:
    """The elements of the JSON array that raw (a binary file object) holds, e.g. an X archive's
    tweets.js after its prefix, with memory bounded whatever the array's size: at most
    SCAN_CHUNK plus one record (MAX_RECORD) of bytes, and the elements of one chunk.
    last_member: the array is the last member of an object (a Mastodon outbox's orderedItems), so
    a "}" closes the input after it.

    Fast path: each chunk is cut after the last element that ends in it and parsed at once by
    orjson (half the CPU of ijson's C backend with `items` and use_float: 0.4 s against 0.75 s
    per 100,000 tweets of X's layout, measured). The cut is found from the end, without
    scanning the chunk in Python: where an element closes and the next opens with the first
    element's first key (`}, {"tweet" :`); orjson then checks the cut, since it parses only a
    whole array of whole elements. Anything else (a cut it refuses, a record over MAX_RECORD,
    broken JSON, an array that is not of objects) hands the rest of the input from the first
    element not yet given to ijson, which gives the same elements and raises (ijson.JSONError,
    or ImportFormatError for a record too large) naming the same record number as it would have
    from the start."""
    closing = b"}" if last_member else b""
    read, number = 0, 0
    buffer = raw.read(SCAN_CHUNK)
    read += len(buffer)
    first = _FIRST_KEY.match(buffer)
    if first is None:  # not an array of objects, or an empty one, or a huge first key
        yield from _ijson_items(Replayed(buffer, raw), display, 0, read - len(buffer), closing)
        return
    key = first.group(1)
    position = buffer.index(b"{")
    end = False
    while True:
        if end:
            cut, after = _array_end(buffer, closing), len(buffer)
        else:
            cut, after = _last_cut(buffer, position, key)
        items = None
        # Every element after the first lies within the last chunk read (SCAN_CHUNK <= MAX_RECORD);
        # only the first, carried over from earlier chunks, can be too large.
        if cut is not None and (len(buffer) - position <= MAX_RECORD or _first_fits(buffer, position, key)):
            try:  # at the end the array's own "]" closes it
                items = orjson.loads(b"[" + buffer[position:cut] + (b"" if end else b"]"))
            except orjson.JSONDecodeError:
                items = None
        if items is None and (cut is not None or end or len(buffer) - position > MAX_RECORD):
            yield from _ijson_items(Replayed(b"[" + buffer[position:], raw), display, number,
                                    read - (len(buffer) - position), closing)
            return
        if items is not None:
            number += len(items)
            yield from items
            if end:
                return
            position = after
        data = raw.read(SCAN_CHUNK)
        read += len(data)
        if read > MAX_MEMBER:
            raise ImportFormatError(display, f"unpacks to more than {MAX_MEMBER // MB} MB; refused")
        buffer = buffer[position:] + data
        position = 0
        end = not data


def _array_end(buffer: bytes, closing: bytes) -> int | None:
    """Where the array ends in its last bytes (just after its "]"), before what closes the rest
    (closing, whitespace around it); None when the bytes end otherwise (ijson then says how)."""
    if not closing:
        return len(buffer)
    end = len(buffer.rstrip())
    if not buffer[:end].endswith(closing):
        return None
    end = len(buffer[:end - len(closing)].rstrip())
    return end if buffer[:end].endswith(b"]") else None


def _last_cut(buffer: bytes, start: int, key: bytes) -> tuple[int | None, int]:
    """(end, next start) of the last element of buffer[start:] that another one follows, found
    by the next one's first key (key, quoted); (None, 0) when there is none."""
    limit = len(buffer)
    while (at := buffer.rfind(key, start, limit)) > start:
        before = _BEFORE_KEY.search(buffer, max(start, at - _BEFORE_KEY_REACH), at)
        if before is not None:
            return before.start() + 1, buffer.rindex(b"{", before.start(), at)
        limit = at + len(key) - 1
    return None, 0


def _first_fits(buffer: bytes, start: int, key: bytes) -> bool:
    """Whether the first element of buffer[start:] ends within MAX_RECORD bytes (seen from the
    element after it)."""
    following = re.compile(rb"\}\s*,\s*\{\s*" + re.escape(key)).search(buffer, start, start + MAX_RECORD + 2)
    return following is not None


def _ijson_items(raw, display: str, number: int, already: int, closing: bytes = b"") -> Iterator[object]:
    """array_items' slow path: ijson from the element after number, records as there. With a
    closing "}", the array is read as the member of an object that it is ({"items": [...]})."""
    stream = Bounded(Replayed(b'{"items":', raw) if closing else raw, display, total=MAX_MEMBER - already)
    stream.mark(number)
    for item in ijson.items(stream, "items.item" if closing else "item", use_float=True):
        number += 1
        stream.mark(number)
        yield item
