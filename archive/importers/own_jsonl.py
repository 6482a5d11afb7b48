"""The project's own JSONL export (`archive export --format jsonl`): one post per line, every
field of ArchivedPost, so export → import is lossless. `to_json`/`from_json` are the two halves.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..errors import ImportFormatError
from ..records import ArchivedPost, Link
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
        "edit_history": list(post.edit_history), "campaign_id": post.campaign_id,
        "occurrence_key": post.occurrence_key, "raw": post.raw,
    }


def from_json(data: dict) -> ArchivedPost:
    """The inverse of to_json. campaign_id/occurrence_key are read but the store derives its own."""
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
        edit_history=tuple(data.get("edit_history") or ()), raw=data.get("raw"),
        campaign_id=data.get("campaign_id"), occurrence_key=data.get("occurrence_key"))


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
