"""Importers: each turns one export format into a stream of ArchivedPost records.

They import neither click nor the database, read their input incrementally (ijson, or one
JSONL line at a time) so memory stays bounded whatever the file's size, and raise
archive.errors.ImportFormatError naming the file and the record number when the input is broken.

Every importer module provides

    iter_posts(path, *, account=None) -> Iterator[ArchivedPost]   # one file (or archive) at a time
    SOURCE: str                                                     # the source name stored with each post

and may provide count(path) -> int | None: how many posts iter_posts will read, when the
input says so cheaply (it sizes the progress bar; None when unknown).
archive.importers.detect chooses the module for a path.
"""
from __future__ import annotations

import gzip
import html
import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

from ..errors import ImportFormatError

_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"), 1)}


def parse_twitter_time(value: str) -> datetime:
    """X's legacy format, "Tue Jan 27 10:00:00 +0000 2015", as aware UTC (fast path, then strptime)."""
    try:
        _, month, day, clock, offset, year = value.split()
        hour, minute, second = clock.split(":")
        moment = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=timezone.utc)
        if offset != "+0000":
            moment = datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc)
        return moment
    except (ValueError, KeyError, AttributeError):
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc)


def parse_iso_time(value: str) -> datetime:
    """ISO 8601 ("2015-01-27T10:00:00.000Z") as aware UTC; a naive value is taken as UTC."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def unescape(text: str) -> str:
    """X escapes &, < and > in post texts; readers see the characters."""
    return html.unescape(text) if "&" in text else text


_ANCHOR_TEXT = re.compile(r">([^<]*)<")


@lru_cache(maxsize=1024)  # an account posts from a handful of apps
def source_app(value: str | None) -> str | None:
    """'<a href="…">Twitter Web Client</a>' → 'Twitter Web Client'."""
    if not value:
        return None
    match = _ANCHOR_TEXT.search(value)
    return html.unescape(match.group(1)) if match else value


def as_int(value) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


class _Text(HTMLParser):
    """Mastodon's status HTML as the text a reader sees: paragraphs and line breaks kept, tags dropped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.paragraphs = 0

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            if self.paragraphs:
                self.parts.append("\n\n")
            self.paragraphs += 1
        elif tag == "a":
            href = dict(attrs).get("href")
            classes = (dict(attrs).get("class") or "").split()
            if href and "mention" not in classes and "hashtag" not in classes:
                self.links.append(href)

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(markup: str) -> tuple[str, list[str]]:
    """(text, link targets) of an HTML fragment."""
    parser = _Text()
    parser.feed(markup or "")
    parser.close()
    return "".join(parser.parts).strip(), parser.links


class Prefixed:
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
        self._buffer = head[match.end():]
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        if self._buffer:
            if size is None or size < 0:
                data, self._buffer = self._buffer + self._raw.read(), b""
                return data
            data, self._buffer = self._buffer[:size], self._buffer[size:]
            return data
        return self._raw.read(size)


def json_lines(path: Path) -> Iterator[tuple[int, object]]:
    """(line number, decoded JSON) of each non-blank line of a JSONL file (.gz too), streamed.
    Raises ImportFormatError naming the line that is not JSON, or the last line read when the
    file itself breaks."""
    number = 0
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ImportFormatError(str(path), f"is not valid JSON ({error.msg}, column {error.colno}; "
                                                       "truncated or damaged?)", record=number) from None
                yield number, data
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ImportFormatError(str(path), f"cannot be read after record {number}: {error}") from None
