"""The project's own JSONL export (`archive export --format jsonl`): one post per line, every
field of ArchivedPost, so export → import is lossless. `to_json`/`from_json` are the two halves.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..errors import ImportFormatError
from ..records import VISIBILITIES, ArchivedPost, Link
from . import json_lines, parse_iso_time

SOURCE = "praatmee-jsonl"
FORMAT = "praatmee-archive/1"


def to_json(post: ArchivedPost) -> dict:
    """A post as a JSON-able dict (times ISO 8601 UTC); the first key names the format."""
    return {
        "format": FORMAT, "platform": post.platform, "remote_id": post.remote_id, "account": post.account,
        "created_at": post.created_at.isoformat(), "text": post.text, "kind": post.kind, "url": post.url,
        "language": post.language, "reply_to_id": post.reply_to_id, "reply_to_account": post.reply_to_account,
        "conversation_id": post.conversation_id, "quoted_id": post.quoted_id, "reposted_id": post.reposted_id,
        "source_app": post.source_app, "metrics": post.metrics, "hashtags": list(post.hashtags),
        "mentions": list(post.mentions),
        "links": [{"url": l.url, "expanded_url": l.expanded_url, "display_url": l.display_url} for l in post.links],
        "media": list(post.media), "deleted_at": post.deleted_at.isoformat() if post.deleted_at else None,
        "edit_history": list(post.edit_history), "visibility": post.visibility,
        "content_warning": post.content_warning, "reposted_account": post.reposted_account,
        "reposted_url": post.reposted_url, "campaign_id": post.campaign_id,
        "occurrence_key": post.occurrence_key, "quoted_url": post.quoted_url, "versions": list(post.versions),
        "referenced": post.referenced, "raw": post.raw,
        # Which sources raw is from (one: raw is its JSON; several: raw is {source: JSON}), so that
        # importing this file again keeps each source's name rather than calling it ours.
        "raw_from": list(post.raw_sources) if post.raw_sources else None,
    }


def from_json(data: dict) -> ArchivedPost:
    """The inverse of to_json. campaign_id/occurrence_key are read but the store derives its own.
    A visibility the archive does not keep (a direct message) raises ValueError."""
    if (data.get("visibility") or "public") not in VISIBILITIES:
        raise ValueError(f"visibility {data.get('visibility')!r} is not one of {', '.join(VISIBILITIES)}")
    return ArchivedPost(
        platform=data["platform"], remote_id=str(data["remote_id"]), account=data["account"],
        created_at=parse_iso_time(data["created_at"]), text=data.get("text") or "", kind=data.get("kind") or "post",
        url=data.get("url"), language=data.get("language"), reply_to_id=data.get("reply_to_id"),
        reply_to_account=data.get("reply_to_account"), conversation_id=data.get("conversation_id"),
        quoted_id=data.get("quoted_id"), reposted_id=data.get("reposted_id"), source_app=data.get("source_app"),
        metrics=data.get("metrics") or {}, hashtags=tuple(data.get("hashtags") or ()),
        mentions=tuple(data.get("mentions") or ()),
        links=tuple(Link(l["url"], l.get("expanded_url"), l.get("display_url")) for l in data.get("links") or ()),
        media=tuple(data.get("media") or ()),
        deleted_at=parse_iso_time(data["deleted_at"]) if data.get("deleted_at") else None,
        edit_history=tuple(data.get("edit_history") or ()), visibility=data.get("visibility") or "public",
        content_warning=data.get("content_warning"), reposted_account=data.get("reposted_account"),
        reposted_url=data.get("reposted_url"), raw=data.get("raw"),
        campaign_id=data.get("campaign_id"), occurrence_key=data.get("occurrence_key"),
        quoted_url=data.get("quoted_url"), versions=tuple(_version(v) for v in data.get("versions") or ()),
        referenced=bool(data.get("referenced")), raw_sources=_raw_sources(data))


def _version(data: dict) -> dict:
    """An earlier version as the store keeps it (archive.records.ArchivedPost.versions)."""
    return {"id": str(data["id"]), "created_at": parse_iso_time(data["created_at"]).isoformat(),
            "text": data.get("text") or "", "links": [list(link)[:3] for link in data.get("links") or ()]}


def _raw_sources(data: dict) -> dict | None:
    """{source: JSON} of a line's raw, by its raw_from (None for lines of exports without it)."""
    names, raw = data.get("raw_from"), data.get("raw")
    if not names or raw is None:
        return None
    if len(names) == 1:
        return {str(names[0]): raw}
    if not isinstance(raw, dict) or set(raw) != set(names):
        raise ValueError(f"raw_from names {names}, but raw holds {sorted(raw) if isinstance(raw, dict) else 'one'}")
    return raw


def looks_like(first: dict) -> bool:
    return isinstance(first, dict) and first.get("format") == FORMAT


def iter_posts(path: Path | str, *, account: str | None = None) -> Iterator[ArchivedPost]:
    """Every post in an own JSONL export (account is ignored: each line names its own).
    Raises ImportFormatError naming the line."""
    path = Path(path)
    for number, data in json_lines(path):
        try:
            if not looks_like(data):
                raise ValueError(f"not a {FORMAT} record")
            yield from_json(data)
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise ImportFormatError(str(path), f"cannot be read ({type(error).__name__}: {error})",
                                    record=number) from None
