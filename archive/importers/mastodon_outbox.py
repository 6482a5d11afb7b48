"""Mastodon's account export: outbox.json (ActivityPub), as a file, in the unpacked folder, or
inside the export's .zip / .tar.gz. Streamed with ijson, one activity (at most MAX_RECORD bytes)
at a time.

Create activities become posts (HTML content turned into text and links by archive.sources.mastodon,
as `archive fetch` does; the note's summary, its content warning, kept apart), Announce activities
reposts of the announced status (its author from its URL; the outbox does not hold its text).
Visibility comes from the audience: the public in `to` is public, in `cc` unlisted, the followers
collection alone followers-only. Direct messages (addressed neither to the public nor to
followers) are never imported: the archive is for the timeline.
"""
from __future__ import annotations

import re
import tarfile
import zipfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import ijson
import orjson

from ..errors import ImportFormatError
from ..records import ArchivedPost
from ..sources.mastodon import text_and_links
from . import Bounded, Replayed, array_items, check_member, parse_iso_time

SOURCE = "mastodon-export"
PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}


def _last(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _status_id(activity_id: str) -> str:
    parts = activity_id.rstrip("/").split("/")
    return parts[-2] if parts[-1] == "activity" else parts[-1]


@lru_cache(maxsize=64)  # an outbox is one actor's
def _handle(actor: str) -> str:
    """https://social.example/users/team → team@social.example"""
    return f"{_last(actor)}@{urlsplit(actor).hostname}"


@contextmanager
def _outbox(path: Path):
    """(display name, binary file) of the outbox.json at or inside path."""
    if path.is_dir():
        found = next(iter(sorted(path.rglob("outbox.json"))), None)
        if not found:
            raise ImportFormatError(str(path), "holds no outbox.json (is it a Mastodon export?)")
        with open(found, "rb") as handle:
            yield str(found), handle
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            name = next((n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "outbox.json"), None)
            if not name:
                raise ImportFormatError(str(path), "holds no outbox.json (is it a Mastodon export?)")
            check_member(archive.getinfo(name), f"{path}:{name}")
            with archive.open(name) as handle:
                yield f"{path}:{name}", handle
    elif path.name.endswith((".tar.gz", ".tgz", ".tar")):
        try:
            archive = tarfile.open(path, "r|*")
        except tarfile.TarError as error:
            raise ImportFormatError(str(path), f"cannot be read as a tar file: {error}") from None
        with archive:
            for member in archive:
                if member.name.rsplit("/", 1)[-1] == "outbox.json":
                    yield f"{path}:{member.name}", archive.extractfile(member)
                    return
        raise ImportFormatError(str(path), "holds no outbox.json (is it a Mastodon export?)")
    else:
        with open(path, "rb") as handle:
            yield str(path), handle


def iter_posts(path: Path | str, *, account: str | None = None) -> Iterator[ArchivedPost]:
    """Every post and boost in the export but direct messages. account overrides the handle taken
    from the actor. Raises ImportFormatError (file, record number)."""
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(str(path), "does not exist")
    number = 0
    display = str(path)
    try:
        with _outbox(path) as (display, handle):
            for number, activity in enumerate(_activities(handle, display), 1):
                try:
                    post = post_from_activity(activity, account)
                except (KeyError, ValueError, TypeError, AttributeError) as error:
                    raise ImportFormatError(display, f"cannot be read ({type(error).__name__}: {error})",
                                            record=number) from None
                if post is not None:
                    yield post
    except ijson.JSONError as error:
        message = (str(error).strip().splitlines() or ["invalid JSON"])[0]
        raise ImportFormatError(display, f"is not valid JSON: {message} "
                                         "(truncated or damaged?)", record=number + 1) from None
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise ImportFormatError(display, f"cannot be read after record {number}: {error}") from None


_ITEMS = re.compile(rb'"orderedItems"\s*:\s*\[')
_HEAD = 64 * 1024  # Mastodon writes the collection's few other members first, orderedItems last


def _activities(handle, display: str) -> Iterator[dict]:
    """The outbox's activities: where orderedItems is its last member, as Mastodon writes it, by
    array_items (orjson, a chunk at a time); otherwise by ijson, a record at a time."""
    head = handle.read(_HEAD)
    found = _ITEMS.search(head)
    if found is not None and _at_top(head[:found.end()]):
        yield from array_items(Replayed(head[found.end() - 1:], handle), display, last_member=True)
        return
    stream = Bounded(Replayed(head, handle), display)
    for number, activity in enumerate(ijson.items(stream, "orderedItems.item", use_float=True), 1):
        stream.mark(number)
        yield activity


def _at_top(opening: bytes) -> bool:
    """Whether opening (the outbox up to its orderedItems' "[") holds that array as a member of the
    outbox itself, not of something within it: then "]}" makes it whole JSON."""
    try:
        orjson.loads(opening + b"]}")
    except orjson.JSONDecodeError:
        return False
    return True


def _listed(value) -> list:
    return value if isinstance(value, list) else [value] if value else []


def visibility(activity: dict) -> str | None:
    """public, unlisted or followers from an activity's audience (and its object's); None for a
    direct message."""
    note = activity.get("object") if isinstance(activity.get("object"), dict) else {}
    to = set(_listed(activity.get("to")) + _listed(note.get("to")))
    cc = set(_listed(activity.get("cc")) + _listed(note.get("cc")))
    if to & PUBLIC:
        return "public"
    if cc & PUBLIC:
        return "unlisted"
    if any(isinstance(a, str) and a.endswith("/followers") for a in to | cc):
        return "followers"
    return None


def author_of(url: str) -> str | None:
    """The handle in a status URL: https://other.example/users/alice/statuses/1 (or /@alice/1) →
    alice@other.example; None when the URL does not say."""
    parts = urlsplit(url)
    path = parts.path.strip("/").split("/")
    if not parts.hostname or not path or not path[0]:
        return None
    if path[0] == "users" and len(path) >= 2:
        return f"{path[1]}@{parts.hostname}"
    if path[0].startswith("@") and len(path[0]) > 1:
        return f"{path[0][1:]}@{parts.hostname}"
    return None


def post_from_activity(activity: dict, account: str | None) -> ArchivedPost | None:
    """One outbox activity as an ArchivedPost; None for what the archive does not keep (DMs, other types)."""
    kind = activity.get("type")
    if kind not in ("Create", "Announce"):
        return None
    seen_by = visibility(activity)
    if seen_by is None:
        return None
    actor = activity.get("actor") or ""
    handle = (account or "").lstrip("@") or _handle(actor)
    if kind == "Announce":
        target = activity["object"]
        target = target["id"] if isinstance(target, dict) else target
        return ArchivedPost(platform="mastodon", remote_id=_status_id(activity["id"]), account=handle,
                            created_at=parse_iso_time(activity["published"]), text="", kind="repost",
                            reposted_id=target, url=target, visibility=seen_by, reposted_account=author_of(target),
                            reposted_url=target, raw=activity)
    note = activity["object"]
    text, links = text_and_links(note.get("content") or "")
    tags = note.get("tag") or []
    tags = tags if isinstance(tags, list) else [tags]
    reply_to = note.get("inReplyTo")
    language = next(iter(note.get("contentMap") or {}), None)
    return ArchivedPost(
        platform="mastodon", remote_id=_status_id(note["id"]), account=handle,
        created_at=parse_iso_time(note.get("published") or activity["published"]), text=text,
        kind="reply" if reply_to else "post", url=note.get("url") or note["id"], language=language,
        reply_to_id=_last(reply_to) if reply_to else None, conversation_id=note.get("conversation"),
        hashtags=tuple(t["name"].lstrip("#") for t in tags if t.get("type") == "Hashtag"),
        mentions=tuple(t["name"].lstrip("@") for t in tags if t.get("type") == "Mention"),
        links=links, visibility=seen_by, content_warning=note.get("summary") or None,
        media=tuple({"type": (a.get("mediaType") or "").split("/")[0] or a.get("type"), "url": a.get("url"),
                     "alt": a.get("name")} for a in note.get("attachment") or ()),
        raw=activity)
