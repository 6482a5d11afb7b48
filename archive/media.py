"""The images and videos archived posts reference, kept as local files (`archive media fetch`),
and the attachments `archive render` shows.

Files are content-addressed: `<media folder>/ab/abcdef….jpg`, named by the sha256 of their bytes,
so a picture two posts share is stored once and a file is never half-replaced. The media folder is
`media/` beside a SQLite database; for any other database it must be named (--media-dir or
CAMPAIGN_MEDIA_DIR). Table archive_media (archive.tables.media) records per post and URL what was
stored: file, content type, size, alt text, where it came from.

Safety of a download: only http(s), at each of at most MAX_REDIRECTS redirects; the response's
content type must be image/* or video/* (not SVG, which can hold scripts); a file larger than the
cap is refused from its Content-Length before reading, or as soon as the bytes read pass the cap;
a server silent for `timeout` seconds, or a download taking longer than DOWNLOAD_DEADLINE, fails.
Bytes go to a temporary file in the media folder's `.incoming/`, are fsynced, and only then
renamed into place: an interrupted run leaves no partial file under its name (what is left in
`.incoming/` is removed by the next run). Resumable: a URL already recorded whose file is there is
not fetched again.

An X archive (its folder or zip, --from-archive) holds the tweets' media as
`data/tweets_media/<tweet id>-<name>`: those files are copied instead of downloaded (a photo by
the name in its URL; a video, whose stored URL is its preview image, by the tweet's video file).
The import does not keep where it read from (the archive may since have moved), so the folder
is always named here.
"""
from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Mapping
from urllib.parse import unquote, urljoin, urlsplit

import orjson
from sqlalchemy import func, select

from campaign.queue.db import Database

from . import tables as t
from .errors import ArchiveError

MEDIA_ENV = "CAMPAIGN_MEDIA_DIR"
DEFAULT_MAX_BYTES = 50 * 1000 * 1000
DEFAULT_TIMEOUT = 30.0
MAX_REDIRECTS = 5
DOWNLOAD_DEADLINE = 600.0  # one file, in all: a server trickling bytes is not waited for forever
INCOMING = ".incoming"
CHUNK = 64 * 1024
X_MEDIA_FOLDER = "data/tweets_media/"
VIDEO_TYPES = ("video", "animated_gif", "gifv")
# Our own names for the common types (mimetypes gives .jpe, .qt and the like on some systems).
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
              "image/avif": ".avif", "image/heic": ".heic", "video/mp4": ".mp4", "video/quicktime": ".mov",
              "video/webm": ".webm"}
REFUSED_TYPES = ("image/svg+xml",)  # may hold scripts: opened from the folder, it would run them


class MediaError(ArchiveError):
    """Bad input to `archive media fetch` (no media folder for this database, a bad --from-archive)."""


class FetchFailed(Exception):
    """One file could not be stored: why, in a few words (the caller names the post and URL)."""


@dataclass(frozen=True)
class Wanted:
    """One image or video a post references."""

    platform: str
    remote_id: str
    url: str
    kind: str  # image | video | … as the source named it (X: photo, video, animated_gif)
    alt: str | None


@dataclass(frozen=True)
class Stored:
    path: str  # relative to the media folder, "/"-separated
    sha256: str
    content_type: str
    size: int


@dataclass
class Summary:
    downloaded: int = 0
    copied: int = 0  # from an X archive
    present: int = 0  # already stored
    skipped: list[tuple[Wanted, str]] = field(default_factory=list)  # no URL, not http(s)
    failed: list[tuple[Wanted, str]] = field(default_factory=list)
    bytes: int = 0  # of the files stored by this run

    @property
    def stored(self) -> int:
        return self.downloaded + self.copied


# -- where --------------------------------------------------------------------------------------------


def media_folder(database: Database, option: str | Path | None = None) -> Path:
    """--media-dir, then CAMPAIGN_MEDIA_DIR, then `media/` beside a SQLite database file.
    Raises MediaError for another database without either."""
    chosen = option or os.environ.get(MEDIA_ENV)
    if chosen:
        return Path(chosen).expanduser().resolve()
    if database.is_sqlite and database.url.database not in (None, "", ":memory:") \
            and not database.url.database.startswith("file:"):
        return Path(database.url.database).resolve().parent / "media"
    raise MediaError(f"{database.display} is not a database file, so there is no folder beside it for the "
                     f"media: name one with --media-dir DIR or {MEDIA_ENV}")


# -- what ---------------------------------------------------------------------------------------------


def wanted(database: Database, accounts: Iterable[str] = ()) -> Iterator[Wanted]:
    """Every image and video the posts of `accounts` (all when empty) reference, deleted, private and
    referenced posts included (the copy is the archive's own), in the order of their posts."""
    posts = t.posts
    statement = select(posts.c.platform, posts.c.remote_id, posts.c.entities).order_by(
        posts.c.created_at, posts.c.remote_id)
    names = [a.lstrip("@").lower() for a in accounts]
    if names:
        statement = statement.where(func.lower(posts.c.account).in_(names))
    with database.transaction() as connection:
        for platform, remote_id, entities in connection.execution_options(yield_per=1000).execute(statement):
            if '"media":[]' in entities:  # the store's compact JSON: most posts have none, left unparsed
                continue
            for item in orjson.loads(entities).get("media") or ():
                if isinstance(item, dict):
                    yield Wanted(platform, remote_id, str(item.get("url") or ""), str(item.get("type") or ""),
                                 item.get("alt") or None)


def recorded(database: Database) -> dict[tuple[str, str, str], Stored]:
    """What archive_media holds, by (platform, remote_id, url)."""
    m = t.media
    with database.transaction() as connection:
        return {(row.platform, row.remote_id, row.url): Stored(row.path, row.sha256, row.content_type, row.bytes)
                for row in connection.execute(select(m.c.platform, m.c.remote_id, m.c.url, m.c.path, m.c.sha256,
                                                     m.c.content_type, m.c.bytes))}


# -- fetching -----------------------------------------------------------------------------------------


def fetch_media(database: Database, folder: Path, *, accounts: Iterable[str] = (), max_bytes: int = DEFAULT_MAX_BYTES,
                from_archive: Path | None = None, timeout: float = DEFAULT_TIMEOUT, now: datetime,
                progress: Callable[[int], None] = lambda n: None, client=None) -> Summary:
    """Store every referenced image and video not stored yet (see the module's docstring); what
    was stored is recorded as it goes (a run interrupted keeps what it finished). A file that
    cannot be had is counted in Summary.failed with the reason, and the rest goes on.
    Raises MediaError for an unusable --from-archive, DatabaseError."""
    import httpx

    summary = Summary()
    store = _Folder(folder)
    known = recorded(database)
    by_url = {key[2]: stored for key, stored in known.items() if store.has(stored)}
    items = list(wanted(database, accounts))
    pending: list[dict] = []
    own_client = client is None
    client = client or httpx.Client(timeout=timeout, follow_redirects=False,
                                    headers={"User-Agent": "praatmee-archive (media fetch)"})
    try:
        with _x_media(from_archive) as archive_files:
            for item in items:
                progress(1)
                key = (item.platform, item.remote_id, item.url)
                if key in known and store.has(known[key]):
                    summary.present += 1
                    continue
                origin = "download"
                try:
                    stored = by_url.get(item.url)
                    if stored is not None:
                        summary.present += 1
                    else:
                        source = archive_files.find(item) if item.platform == "x" else None
                        if source is not None:
                            stored, origin = store.add_member(*source, max_bytes=max_bytes), "x-archive"
                            summary.copied += 1
                        elif not item.url:
                            summary.skipped.append((item, "no URL"))
                            continue
                        elif urlsplit(item.url).scheme.lower() not in ("http", "https"):
                            summary.skipped.append((item, "not an http(s) URL"))
                            continue
                        else:
                            stored = _download(client, item.url, store, max_bytes=max_bytes, timeout=timeout)
                            summary.downloaded += 1
                        summary.bytes += stored.size
                        by_url[item.url] = stored
                except FetchFailed as error:
                    summary.failed.append((item, str(error)))
                    continue
                pending.append({"platform": item.platform, "remote_id": item.remote_id, "url": item.url,
                                "path": stored.path, "sha256": stored.sha256, "content_type": stored.content_type,
                                "bytes": stored.size, "alt": item.alt, "origin": origin, "fetched_at": now})
                if len(pending) >= 50:
                    _record(database, pending)
    finally:
        _record(database, pending)  # also when interrupted: the files it names are in place
        if own_client:
            client.close()
    return summary


def _record(database: Database, rows: list[dict]) -> None:
    if not rows:
        return
    m = t.media
    with database.transaction(write=True) as connection:
        for row in rows:  # a row whose file went missing is replaced
            connection.execute(m.delete().where(m.c.platform == row["platform"], m.c.remote_id == row["remote_id"],
                                                m.c.url == row["url"]))
        connection.execute(m.insert(), rows)
    rows.clear()


def _download(client, url: str, store: _Folder, *, max_bytes: int, timeout: float) -> Stored:
    import httpx

    deadline = time.monotonic() + DOWNLOAD_DEADLINE
    for _ in range(MAX_REDIRECTS + 1):
        try:
            with client.stream("GET", url, timeout=timeout) as response:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    url = urljoin(url, location)
                    if urlsplit(url).scheme.lower() not in ("http", "https"):
                        raise FetchFailed(f"redirected to {url[:100]} (only http(s) is followed)")
                    continue
                if response.status_code != 200:
                    raise FetchFailed(f"HTTP {response.status_code}")
                content_type = _media_type(response.headers.get("content-type", ""))
                length = response.headers.get("content-length")
                if length and length.isdigit() and int(length) > max_bytes:
                    raise FetchFailed(f"{human_size(int(length))}, over the cap of {human_size(max_bytes)}")
                return store.add(response.iter_bytes(CHUNK), content_type, max_bytes=max_bytes, deadline=deadline)
        except httpx.TimeoutException:
            raise FetchFailed(f"no answer within {timeout:g} s") from None
        except httpx.HTTPError as error:
            raise FetchFailed(f"{type(error).__name__}: {error}"[:200]) from None
    raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")


def _media_type(header: str) -> str:
    content_type = header.split(";")[0].strip().lower()
    if not content_type.startswith(("image/", "video/")):
        raise FetchFailed(f"content type {content_type or 'missing'!r} is no image or video")
    if content_type in REFUSED_TYPES:
        raise FetchFailed(f"content type {content_type!r} is not kept (it can hold scripts)")
    return content_type


def human_size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 100_000 else f"{count:,} bytes"


class _Folder:
    """The content-addressed media folder."""

    def __init__(self, root: Path):
        self.root = root
        self.incoming = root / INCOMING
        try:
            self.incoming.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise MediaError(f"{root}: cannot make the media folder here ({error.strerror})") from None
        for stale in self.incoming.glob("*.part"):  # what an interrupted run was writing
            stale.unlink(missing_ok=True)

    def has(self, stored: Stored) -> bool:
        return (self.root / stored.path).is_file()

    def add(self, chunks: Iterable[bytes], content_type: str, *, max_bytes: int,
            deadline: float = float("inf")) -> Stored:
        digest, size = hashlib.sha256(), 0
        handle, name = tempfile.mkstemp(dir=self.incoming, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchFailed(f"over the cap of {human_size(max_bytes)} (stopped reading)")
                    if time.monotonic() > deadline:
                        raise FetchFailed(f"not complete within {DOWNLOAD_DEADLINE:g} s")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            relative = f"{sha[:2]}/{sha}{_extension(content_type)}"
            target = self.root / relative
            target.parent.mkdir(exist_ok=True)
            os.replace(name, target)  # the same bytes if it was there: the same name
            _sync_folder(target.parent)
            return Stored(relative, sha, content_type, size)
        finally:
            Path(name).unlink(missing_ok=True)

    def add_member(self, opener: Callable[[], IO[bytes]], size: int, name: str, *, max_bytes: int) -> Stored:
        if size > max_bytes:
            raise FetchFailed(f"{name}: {human_size(size)}, over the cap of {human_size(max_bytes)}")
        content_type = mimetypes.guess_type(name)[0] or ""
        if not content_type.startswith(("image/", "video/")) or content_type in REFUSED_TYPES:
            raise FetchFailed(f"{name}: not an image or video")
        with opener() as source:
            return self.add(iter(lambda: source.read(CHUNK), b""), content_type, max_bytes=max_bytes)


def _extension(content_type: str) -> str:
    return EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"


def _sync_folder(folder: Path) -> None:
    """The rename itself made durable (POSIX; Windows has no fsync of a folder)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


class _XMedia:
    """The files of an X archive's data/tweets_media, by name (`<tweet id>-<name>`)."""

    def __init__(self, files: Mapping[str, tuple[Callable[[], IO[bytes]], int]], display: str):
        self.files = files
        self.display = display
        self.videos: dict[str, list[str]] = {}
        for name in files:
            tweet, _, rest = name.partition("-")
            if (mimetypes.guess_type(rest)[0] or "").startswith("video/"):
                self.videos.setdefault(tweet, []).append(name)

    def find(self, item: Wanted):
        """(opener, size, display name) of the file for item, or None."""
        if item.kind in VIDEO_TYPES:
            names = self.videos.get(item.remote_id) or ()
            name = names[0] if names else None
        else:
            base = unquote(urlsplit(item.url).path.rsplit("/", 1)[-1])
            name = f"{item.remote_id}-{base}" if base else None
        if name is None or name not in self.files:
            return None
        opener, size = self.files[name]
        return opener, size, f"{self.display}/{name}"


@contextmanager
def _x_media(path: Path | None) -> Iterator[_XMedia]:
    if path is None:
        yield _XMedia({}, "")
        return
    if path.is_dir():
        base = path / X_MEDIA_FOLDER
        if not base.is_dir():
            raise MediaError(f"{path}: no {X_MEDIA_FOLDER} here (expected the folder of an X archive, or its zip)")
        files = {p.name: ((lambda p=p: open(p, "rb")), p.stat().st_size) for p in base.iterdir() if p.is_file()}
        yield _XMedia(files, str(base).rstrip("/"))
        return
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise MediaError(f"{path}: not an X archive (its folder or its zip)")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise MediaError(f"{path}: cannot be read as a zip file: {error}") from None
    with archive:
        files = {}
        for info in archive.infolist():
            folder, _, name = info.filename.rpartition("/")
            if (folder + "/").endswith(X_MEDIA_FOLDER) and name and not info.is_dir():
                files[name] = ((lambda info=info: archive.open(info)), info.file_size)
        yield _XMedia(files, f"{path}:{X_MEDIA_FOLDER.rstrip('/')}")


# -- showing ------------------------------------------------------------------------------------------


def attachments(database: Database, posts: Iterable, *, folder: Path | None, page_folder: Path) -> dict:
    """{(platform, remote_id): (archive.render.Attachment, …)} for the posts about to be rendered: each
    image or video they reference, with its alt text; src the local copy relative to page_folder (where
    the HTML goes) when one is stored under folder (None: none looked for)."""
    from .render import Attachment

    keys = [(p.platform, p.remote_id) for p in posts]
    if not keys:
        return {}
    posts_table, m = t.posts, t.media
    found: dict[tuple[str, str], list[dict]] = {}
    with database.transaction() as connection:
        by_platform: dict[str, list[str]] = {}
        for platform, remote_id in keys:
            by_platform.setdefault(platform, []).append(remote_id)
        for platform, ids in by_platform.items():
            for start in range(0, len(ids), 400):  # by the primary key (platform, remote_id)
                rows = connection.execute(
                    select(posts_table.c.platform, posts_table.c.remote_id, posts_table.c.entities)
                    .where(posts_table.c.platform == platform, posts_table.c.remote_id.in_(ids[start:start + 400])))
                for platform_, remote_id, entities in rows:
                    if '"media":[]' in entities:
                        continue
                    media = [i for i in orjson.loads(entities).get("media") or () if isinstance(i, dict)]
                    if media:
                        found[(platform_, remote_id)] = media
        urls = {str(i.get("url")) for media in found.values() for i in media if i.get("url")}
        local: dict[str, tuple[str, str]] = {}
        if folder is not None and urls:
            listed = sorted(urls)
            for start in range(0, len(listed), 400):
                for url, path, content_type in connection.execute(
                        select(m.c.url, m.c.path, m.c.content_type).where(m.c.url.in_(listed[start:start + 400]))):
                    local[url] = (path, content_type)
    out = {}
    for key, media in found.items():
        shown = []
        for item in media:
            url = str(item.get("url") or "")
            copy = local.get(url)
            src = None
            if copy is not None and (folder / copy[0]).is_file():
                try:
                    src = Path(os.path.relpath(folder / copy[0], page_folder)).as_posix()
                except ValueError:  # Windows: another drive than the page's; the original is linked
                    src = None
            kind = "video" if (copy and copy[1].startswith("video/")) or item.get("type") in VIDEO_TYPES \
                else "image"
            shown.append(Attachment(kind=kind, alt=str(item.get("alt") or ""), src=src, original=url or None))
        out[key] = tuple(shown)
    return out
