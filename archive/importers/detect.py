"""Which importer reads a path: by its shape (zip members, folder contents) and its first bytes,
never by trusting the extension alone."""
from __future__ import annotations

import codecs
import gzip
import importlib
import tarfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from ..errors import ImportFormatError, UnknownFormat
from . import MAX_PAGE, Prefixed, first_json_line, mastodon_outbox, own_jsonl, twarc, x_archive


class _Importers(Mapping):
    """--format name → importer module, each imported when first asked for: the Bluesky importer
    brings the atproto SDK, over a second of start-up (measured) that importing anything else
    must not pay."""

    _MODULES = {"x": "x_archive", "twarc": "twarc", "mastodon": "mastodon_outbox", "jsonl": "own_jsonl",
                "bluesky": "bluesky_car"}

    def __getitem__(self, name: str) -> ModuleType:
        return importlib.import_module(f"{__package__}.{self._MODULES[name]}")

    def __iter__(self):
        return iter(self._MODULES)

    def __len__(self) -> int:
        return len(self._MODULES)


FORMATS = _Importers()


def _starts_like_json_lines(path: Path) -> bool:
    """True when the first bytes (uncompressed, for .gz) open a JSON object: from then on the file
    is taken as JSON lines, so a broken one is reported for what it is (a line too long, not
    UTF-8, not JSON) rather than as an unknown format."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(4096)
    except (OSError, EOFError):
        return False
    return head.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"{")


def detect(path: Path | str) -> ModuleType:
    """The importer module for path (see archive.importers). Raises UnknownFormat or ImportFormatError."""
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(str(path), "does not exist")
    if path.is_dir():
        if any(path.rglob("outbox.json")):
            return mastodon_outbox
        if x_archive.looks_like(path):
            return x_archive
        raise UnknownFormat(f"{path}: a folder with neither tweets.js (X archive) nor outbox.json (Mastodon export)")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as error:
            raise ImportFormatError(str(path), f"cannot be read as a zip file: {error}") from None
        if any(n.rsplit("/", 1)[-1] == "outbox.json" for n in names):
            return mastodon_outbox
        if x_archive.tweet_files(names):
            return x_archive
        raise UnknownFormat(f"{path}: a zip with neither data/tweets.js (X archive) nor outbox.json (Mastodon export)")
    if path.name.endswith((".tar.gz", ".tgz", ".tar")) and tarfile.is_tarfile(path):
        return mastodon_outbox
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if Prefixed.PREFIX.match(head):
        return x_archive
    # JSON is no CAR file: JSON lines and outbox.json are told apart without importing the Bluesky
    # importer (a .car is always asked, whatever it starts with).
    json_like = head.removeprefix(codecs.BOM_UTF8).lstrip()[:1] in (b"{", b"[")
    if (not json_like or path.suffix.lower() == ".car") and FORMATS["bluesky"].looks_like(head):
        return FORMATS["bluesky"]
    if path.suffix.lower() == ".car":
        raise ImportFormatError(str(path), "does not start with a CARv1 header (is it a Bluesky repository export?)")
    if path.suffix.lower() == ".zip":
        raise ImportFormatError(str(path), "is not a zip file (damaged or incomplete download?)")
    if path.suffix.lower() == ".js":
        raise ImportFormatError(str(path), "does not start with 'window.YTD.tweets.part0 = ' "
                                           "(is this a file from an X archive?)")
    if b'"orderedItems"' in head or (path.name == "outbox.json"):
        return mastodon_outbox
    if _starts_like_json_lines(path):
        first = first_json_line(path, limit=MAX_PAGE)  # the largest line any JSON-lines format reads
        if own_jsonl.looks_like(first):
            return own_jsonl
        if twarc.looks_like(first):
            return twarc
    raise UnknownFormat(f"{path}: not an X archive, twarc2 JSONL, Mastodon outbox.json, Bluesky repository (.car) "
                        "or an archive JSONL export")
