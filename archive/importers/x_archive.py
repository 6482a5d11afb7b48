"""The official X archive ("Download your archive"): a zip, its unpacked folder, or one tweets.js.

Quirks handled: `window.YTD.tweets.part0 = [` before the JSON; the older name tweet.js; large
archives split into tweets-part1.js, …; account.js naming the account; deleted-tweets.js
(posts marked deleted); every number a string; HTML-escaped full_text; the created_at format
"Tue Jan 27 10:00:00 +0000 2015"; retweets ("RT @…"), replies and quotes classified (a modern
archive marks a quote only by the quoted post's permalink among its links); t.co links expanded
from the entities; edit_info giving the earlier versions of an edited post (each version is a
tweet of its own here; the store folds them into one post).
Each file is read a chunk at a time (array_items: orjson, ijson for what it refuses), no tweet
larger than MAX_RECORD bytes.
"""
from __future__ import annotations

import hashlib
import json
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Callable, Iterator

import ijson
import orjson

from ..errors import ImportFormatError
from ..records import ArchivedPost, SeenAgain
from ..sources.x import archive_record
from . import Bounded, Prefixed, array_items, check_member

SOURCE = "x-archive"

TWEETS_FILE = re.compile(r"(?:^|/)(deleted-)?tweets?(?:-part(\d+))?\.js$")
ACCOUNT_FILE = re.compile(r"(?:^|/)account\.js$")
MANIFEST_FILE = re.compile(r"(?:^|/)manifest\.js$")
MANIFEST_PREFIX = re.compile(rb"^\s*window\.[A-Za-z0-9_.]+\s*=\s*")  # window.__THAR_CONFIG = {…}


@dataclass
class _Container:
    """Names inside a zip, a folder, or a single file, and a way to open them."""

    path: Path
    names: list[str]
    zip: zipfile.ZipFile | None = None

    def display(self, name: str) -> str:
        if self.zip is not None:
            return f"{self.path}:{name}"
        return str(self.path / name) if self.path.is_dir() else str(self.path.parent / name)

    @contextmanager
    def open(self, name: str):
        if self.zip is not None:
            check_member(self.zip.getinfo(name), self.display(name))
            with self.zip.open(name) as handle:
                yield handle
        else:
            base = self.path if self.path.is_dir() else self.path.parent
            with open(base / name, "rb") as handle:
                yield handle


@contextmanager
def _container(path: Path):
    if path.is_dir():
        names = sorted(str(p.relative_to(path)).replace("\\", "/") for p in path.rglob("*.js"))
        yield _Container(path, names)
        return
    if path.suffix.lower() == ".js":
        siblings = [path.name] + [p.name for p in path.parent.glob("account.js") if p != path]
        yield _Container(path, siblings)
        return
    if not zipfile.is_zipfile(path):
        raise ImportFormatError(str(path), "is not a zip file (expected an X archive: a .zip, its folder, or tweets.js)")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ImportFormatError(str(path), f"cannot be read as a zip file: {error}") from None
    with archive:
        yield _Container(path, sorted(archive.namelist()), archive)


def _order(name: str):
    match = TWEETS_FILE.search(name)
    return (bool(match.group(1)), int(match.group(2) or 0), name)


def tweet_files(names: list[str]) -> list[str]:
    """The tweet files among names, in reading order: tweets.js, parts 1, 2, …, then deleted tweets."""
    return sorted((n for n in names if TWEETS_FILE.search(n)), key=_order)


def looks_like(path: Path) -> bool:
    """True for a zip/folder holding tweets.js/tweet.js, or such a file itself."""
    try:
        if path.is_dir():
            return any(TWEETS_FILE.search(p.name) for p in path.rglob("*.js"))
        if path.suffix.lower() == ".js":
            with open(path, "rb") as handle:
                return Prefixed.PREFIX.match(handle.read(256)) is not None
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return any(TWEETS_FILE.search(n) for n in archive.namelist())
    except OSError:
        return False
    return False


def count(path: Path | str) -> int | None:
    """How many posts iter_posts will read, from the archive's data/manifest.js (X lists each data
    file with its "count"), or None when there is no readable manifest: it only sizes a progress
    bar, so a missing or odd one is never an error."""
    path = Path(path)
    try:
        with _container(path) as container:
            read = {name.rsplit("/", 1)[-1] for name in tweet_files(container.names)}  # e.g. tweets-part1.js
            manifest = next((name for name in container.names if MANIFEST_FILE.search(name)), None)
            if manifest is None:  # a lone tweets.js may have it beside it
                if path.suffix.lower() != ".js" or not (path.parent / "manifest.js").is_file():
                    return None
                manifest = "manifest.js"
            with container.open(manifest) as raw:
                head = raw.read(2_000_000)  # a few kilobytes in real archives
        data = json.loads(head[MANIFEST_PREFIX.match(head).end():])
        counts = [int(entry["count"]) for kind in data["dataTypes"].values() for entry in kind.get("files", ())
                  if entry["fileName"].rsplit("/", 1)[-1] in read]
    except (ImportFormatError, OSError, zipfile.BadZipFile, AttributeError, KeyError, TypeError, ValueError):
        return None
    return sum(counts) if counts else None


def iter_posts(path: Path | str, *, account: str | None = None,
               stored: Callable[[str, list[str]], dict[str, str]] | None = None) -> Iterator[ArchivedPost | SeenAgain]:
    """Every post of the archive at path (tweets, then deleted tweets marked deleted), each with its
    source_digest (of the tweet as the file gives it, the account and the mapping's own code).

    account: the handle, when the archive has no account.js (e.g. a lone tweets.js); where account.js
    names another account, that is an error.
    stored: the digests the archive holds of tweets of this source (archive.store.known), asked a
    group of ids at a time: a tweet stored with the same digest is not mapped again but given as
    SeenAgain (so a re-import of an archive costs little more than reading it).
    Raises ImportFormatError (file and record number) on anything it cannot read.
    """
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(str(path), "does not exist")
    with _container(path) as container:
        files = [path.name] if path.is_file() and path.suffix.lower() == ".js" else tweet_files(container.names)
        if not files:
            raise ImportFormatError(str(path), "holds no tweets.js or tweet.js (is it an X archive?)")
        named = _account(container)
        if account and named and account.lstrip("@").lower() != named.lower():
            raise ImportFormatError(str(path), f"is the archive of @{named} (account.js), not @{account.lstrip('@')}; "
                                               "--account is only for files that do not name their account")
        handle = named or account
        if not handle:
            raise ImportFormatError(str(path), "has no account.js naming the account; pass the account's handle "
                                               "(archive import --account NAME)")
        for name in files:
            yield from _read(container, name, handle.lstrip("@"), stored)


def _account(container: _Container) -> str | None:
    for name in container.names:
        if ACCOUNT_FILE.search(name):
            display = container.display(name)
            try:
                with container.open(name) as raw:
                    stream = Bounded(Prefixed(raw, display, expected="account"), display)
                    for value in ijson.items(stream, "item.account.username"):
                        return value
            except (ijson.JSONError, zipfile.BadZipFile, EOFError, OSError) as error:
                raise ImportFormatError(display, f"is not valid JSON: {_first_line(error)}") from None
    return None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


LOOKUP = 1000  # tweets whose stored digests are asked for at once


def _read(container: _Container, name: str, account: str, stored=None) -> Iterator[ArchivedPost | SeenAgain]:
    display = container.display(name)
    number = 0
    try:
        with container.open(name) as raw:
            prefixed = Prefixed(raw, display, expected="tweets|tweet|deleted_tweets|deleted_tweet")
            deleted = prefixed.name.startswith("deleted")
            context = _digest_context(account, deleted)
            items = array_items(prefixed, display)
            while True:
                tweets = []
                for item in islice(items, LOOKUP):
                    number += 1
                    tweet = item.get("tweet", item) if isinstance(item, dict) else None
                    if not isinstance(tweet, dict):
                        raise ImportFormatError(display, "is not a tweet object", record=number)
                    tweets.append(tweet)
                if not tweets:
                    break
                ids = [str(tweet.get("id_str") or tweet.get("id")) for tweet in tweets]
                known = stored("x", ids) if stored else {}
                for offset, (remote_id, tweet) in enumerate(zip(ids, tweets), number - len(tweets) + 1):
                    digest = _source_digest(context, tweet)
                    if known and digest is not None and known.get(remote_id) == digest:
                        yield SeenAgain("x", remote_id)
                        continue
                    try:
                        post = archive_record(tweet, account, deleted=deleted)
                    except (KeyError, ValueError, TypeError, AttributeError) as error:
                        raise ImportFormatError(display, f"cannot be read ({type(error).__name__}: {error})",
                                                record=offset) from None
                    post.source_digest = digest
                    yield post
    except ijson.JSONError as error:
        raise ImportFormatError(display, f"is not valid JSON: {_first_line(error)} "
                                         "(truncated or damaged?)", record=number + 1) from None
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise ImportFormatError(display, f"cannot be read after record {number}: {_first_line(error)}") from None


def _digest_context(account: str, deleted: bool) -> bytes:
    """What a tweet's digest covers besides the tweet: the account, whether the file holds deleted
    tweets, and the code that maps tweets (a new version that maps them differently must store
    them again, not pass them over as unchanged)."""
    return hashlib.sha256(_MAPPING_CODE + b"\x1e" + account.encode() + (b"\x1edeleted" if deleted else b"")).digest()


def _mapping_code() -> bytes:
    """The source of the mapping's modules (where installed without it: the package's version)."""
    from .. import records
    from ..sources import x as mapping

    try:
        return b"".join(Path(file).read_bytes() for file in (mapping.__file__, records.__file__, __file__))
    except OSError:
        from importlib.metadata import version

        return version("praatmee").encode()


_MAPPING_CODE = hashlib.sha256(_mapping_code()).digest()


def _source_digest(context: bytes, tweet: dict) -> str | None:
    """The digest of a tweet as the file gives it (its JSON, as orjson writes the parsed object:
    the same for the same input), or None for one orjson cannot write (a lone surrogate): the
    store then digests the mapped record."""
    try:
        digest = hashlib.sha256(context)
        digest.update(orjson.dumps(tweet))
    except orjson.JSONEncodeError:
        return None
    return "t" + digest.hexdigest()[:23]


# The mapping of an archive tweet lives with X's other mapping (archive.sources.x); this name is
# kept for callers that know it from here.
post_from_tweet = archive_record
