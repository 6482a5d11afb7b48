"""Mastodon's account export: outbox.json (ActivityPub), as a file, in the unpacked folder, or
inside the export's .zip / .tar.gz. Streamed with ijson, one activity (at most MAX_RECORD bytes)
at a time.

Create activities become posts (HTML content turned into text and links by archive.sources.mastodon,
as `archive fetch` does), Announce activities reposts.
Direct messages (addressed neither to the public nor to followers) are skipped: the archive is
for the public timeline.
"""
from __future__ import annotations

import tarfile
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import ijson

from ..errors import ImportFormatError
from ..records import ArchivedPost
from ..sources.mastodon import text_and_links
from . import Bounded, check_member, parse_iso_time

SOURCE = "mastodon-export"
PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}


def _last(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _status_id(activity_id: str) -> str:
    parts = activity_id.rstrip("/").split("/")
    return parts[-2] if parts[-1] == "activity" else parts[-1]


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
    """Every public post and boost in the export. account overrides the handle taken from the actor.
    Raises ImportFormatError (file, record number)."""
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(str(path), "does not exist")
    number = 0
    display = str(path)
    try:
        with _outbox(path) as (display, handle):
            stream = Bounded(handle, display)
            for number, activity in enumerate(ijson.items(stream, "orderedItems.item", use_float=True), 1):
                stream.mark(number)
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


def _audience(item: dict) -> set:
    def listed(value):
        return value if isinstance(value, list) else [value] if value else []
    return set(listed(item.get("to")) + listed(item.get("cc")))


def post_from_activity(activity: dict, account: str | None) -> ArchivedPost | None:
    """One outbox activity as an ArchivedPost; None for what the archive does not keep (DMs, other types)."""
    kind = activity.get("type")
    if kind not in ("Create", "Announce"):
        return None
    audience = _audience(activity) | (_audience(activity["object"]) if isinstance(activity.get("object"), dict)
                                      else set())
    actor = activity.get("actor") or ""
    if not (audience & PUBLIC or any(a.endswith("/followers") for a in audience)):
        return None
    handle = (account or "").lstrip("@") or _handle(actor)
    if kind == "Announce":
        target = activity["object"]
        target = target["id"] if isinstance(target, dict) else target
        return ArchivedPost(platform="mastodon", remote_id=_status_id(activity["id"]), account=handle,
                            created_at=parse_iso_time(activity["published"]), text="", kind="repost",
                            reposted_id=target, url=target, raw=activity)
    note = activity["object"]
    text, links = text_and_links(note.get("content") or "")
    if note.get("summary"):  # a content warning is shown before the text
        text = f"{note['summary']}\n\n{text}"
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
        links=links,
        media=tuple({"type": (a.get("mediaType") or "").split("/")[0] or a.get("type"), "url": a.get("url"),
                     "alt": a.get("name")} for a in note.get("attachment") or ()),
        raw=activity)
