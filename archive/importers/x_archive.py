"""The official X archive ("Download your archive"): a zip, its unpacked folder, or one tweets.js.

Quirks handled: `window.YTD.tweets.part0 = [` before the JSON; the older name tweet.js; large
archives split into tweets-part1.js, …; account.js naming the account; deleted-tweets.js
(posts marked deleted); every number a string; HTML-escaped full_text; the created_at format
"Tue Jan 27 10:00:00 +0000 2015"; retweets ("RT @…"), replies and quotes classified; t.co
links expanded from the entities; edit_info giving the earlier versions of an edited post.
Each file is read with ijson, one tweet (at most MAX_RECORD bytes) at a time.
"""
from __future__ import annotations

import json
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import ijson

from ..errors import ImportFormatError
from ..records import ArchivedPost, Link
from . import Bounded, Prefixed, check_member, parse_iso_time, parse_twitter_time, source_app, unescape

SOURCE = "x-archive"

TWEETS_FILE = re.compile(r"(?:^|/)(deleted-)?tweets?(?:-part(\d+))?\.js$")
ACCOUNT_FILE = re.compile(r"(?:^|/)account\.js$")
MANIFEST_FILE = re.compile(r"(?:^|/)manifest\.js$")
MANIFEST_PREFIX = re.compile(rb"^\s*window\.[A-Za-z0-9_.]+\s*=\s*")  # window.__THAR_CONFIG = {…}
STATUS_URL = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/]+/status(?:es)?/(\d+)")


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


def iter_posts(path: Path | str, *, account: str | None = None) -> Iterator[ArchivedPost]:
    """Every post of the archive at path (tweets, then deleted tweets marked deleted).

    account: the handle, when the archive has no account.js (e.g. a lone tweets.js); where account.js
    names another account, that is an error.
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
            yield from _read(container, name, handle.lstrip("@"))


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


def _read(container: _Container, name: str, account: str) -> Iterator[ArchivedPost]:
    display = container.display(name)
    number = 0
    try:
        with container.open(name) as raw:
            prefixed = Prefixed(raw, display, expected="tweets|tweet|deleted_tweets|deleted_tweet")
            deleted = prefixed.name.startswith("deleted")
            stream = Bounded(prefixed, display)
            for number, item in enumerate(ijson.items(stream, "item", use_float=True), 1):
                stream.mark(number)
                tweet = item.get("tweet", item) if isinstance(item, dict) else None
                if not isinstance(tweet, dict):
                    raise ImportFormatError(display, "is not a tweet object", record=number)
                try:
                    yield post_from_tweet(tweet, account, deleted=deleted)
                except (KeyError, ValueError, TypeError, AttributeError) as error:
                    raise ImportFormatError(display, f"cannot be read ({type(error).__name__}: {error})",
                                            record=number) from None
    except ijson.JSONError as error:
        raise ImportFormatError(display, f"is not valid JSON: {_first_line(error)} "
                                         "(truncated or damaged?)", record=number + 1) from None
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise ImportFormatError(display, f"cannot be read after record {number}: {_first_line(error)}") from None


_NONE: dict = {}
_METRICS = (("favorite_count", "likes"), ("retweet_count", "reposts"), ("reply_count", "replies"),
            ("quote_count", "quotes"))


def post_from_tweet(tweet: dict, account: str, *, deleted: bool = False) -> ArchivedPost:
    """One archive tweet (the object inside {"tweet": …}) as an ArchivedPost."""
    # Runs once per tweet of archives of hundreds of thousands: lookups are local and absent
    # parts are skipped early (most tweets have no media, no edits, no quote).
    get = tweet.get
    remote_id = get("id_str") or tweet["id"]
    if type(remote_id) is not str:
        remote_id = str(remote_id)
    text = unescape(get("full_text") or get("text") or "")
    entities = get("entities") or _NONE
    urls = entities.get("urls")
    links = tuple([Link(u["url"], u.get("expanded_url"), u.get("display_url")) for u in urls if u.get("url")]
                  ) if urls else ()
    media_entities = (get("extended_entities") or _NONE).get("media") or entities.get("media")
    media = tuple([{"type": m.get("type", "photo"), "url": m.get("media_url_https") or m.get("media_url"),
                    "alt": m.get("ext_alt_text")} for m in media_entities]) if media_entities else ()
    reply_to = get("in_reply_to_status_id_str") or get("in_reply_to_status_id")
    retweeted = get("retweeted_status")
    quoted = get("quoted_status_id_str")
    if not quoted and links and str(get("is_quote_status", "")).lower() == "true":
        for link in links:
            match = STATUS_URL.match(link.expanded_url or "")
            if match:
                quoted = match.group(1)
                break
    if retweeted or text.startswith("RT @"):
        kind = "repost"
    elif reply_to:
        kind = "reply"
    elif quoted:
        kind = "quote"
    else:
        kind = "post"
    metrics = {}
    for key, name in _METRICS:
        value = get(key)
        if value is not None and value != "":
            metrics[name] = int(value)
    earlier = ()
    edit = get("edit_info")
    if edit:
        edit_ids = (((edit.get("edit") or _NONE).get("editControlInitial") or _NONE).get("editTweetIds")
                    or (edit.get("initial") or _NONE).get("editTweetIds"))
        if edit_ids:
            own = int(remote_id)
            earlier = tuple([str(i) for i in edit_ids if int(i) < own])
    deleted_at = None
    if deleted:
        value = get("deleted_at")
        deleted_at = (parse_twitter_time(value) if value and value[:1].isalpha() else
                      parse_iso_time(value) if value else parse_twitter_time(tweet["created_at"]))
    tags = entities.get("hashtags")
    handles = entities.get("user_mentions")
    return ArchivedPost(
        platform="x", remote_id=remote_id, account=account, created_at=parse_twitter_time(tweet["created_at"]),
        text=text, kind=kind, url=f"https://x.com/{account}/status/{remote_id}", language=get("lang"),
        reply_to_id=str(reply_to) if reply_to else None,
        reply_to_account=get("in_reply_to_screen_name") if reply_to else None,
        quoted_id=quoted, reposted_id=(retweeted or _NONE).get("id_str"), source_app=source_app(get("source")),
        metrics=metrics, hashtags=tuple([h["text"] for h in tags]) if tags else (),
        mentions=tuple([m["screen_name"] for m in handles]) if handles else (), links=links, media=media,
        deleted_at=deleted_at, edit_history=earlier, raw=tweet)
