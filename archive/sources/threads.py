"""Threads Graph API objects (the user's own threads) as archive records, for archive.fetch.

Likes, replies, reposts and quotes are not fields of a thread: archive.fetch asks
/{media-id}/insights for each post when the token may (threads_manage_insights) and puts the
answer under the item's "insights" key before this mapping reads it; without them the
metrics stay empty rather than zero (unknown is not none).
"""
from __future__ import annotations

import re
from typing import Iterator

from campaign.send.platforms.times import parse_iso_time as parse_time

from ..records import ArchivedPost, Link

_URL = re.compile(r"https?://[^\s<>\"]+")
_TAG = re.compile(r"(?<![\w&#/])#(\w*[^\W\d_]\w*)")
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._]+[A-Za-z0-9_])")
METRICS = ("likes", "replies", "reposts", "quotes", "views")


def records(page, account: str) -> Iterator[ArchivedPost]:
    for item in page.items:
        yield record(item, account)


def record(item: dict, account: str) -> ArchivedPost:
    """One thread; a repost (media_type REPOST_FACADE) points at the post it shows."""
    text = item.get("text") or ""
    kind_of_media = item.get("media_type") or ""
    replied_to = (item.get("replied_to") or {}).get("id") or item.get("reply_to_id")
    quoted = (item.get("quoted_post") or {}).get("id")
    reposted = (item.get("reposted_post") or {}).get("id")
    if kind_of_media == "REPOST_FACADE":
        kind = "repost"
    elif replied_to or item.get("is_reply"):
        kind = "reply"
    elif quoted or item.get("is_quote_post"):
        kind = "quote"
    else:
        kind = "post"
    links = [Link(url, url) for url in _URL.findall(text)]
    attached = item.get("link_attachment_url")
    if attached and attached not in {link.url for link in links}:
        links.append(Link(attached, attached))
    tags = _TAG.findall(text)
    if item.get("topic_tag") and item["topic_tag"] not in tags:
        tags.append(item["topic_tag"])
    insights = item.get("insights") or {}
    return ArchivedPost(
        platform="threads", remote_id=str(item["id"]), account=item.get("username") or account,
        created_at=parse_time(item["timestamp"]), text=text, kind=kind, url=item.get("permalink"),
        reply_to_id=str(replied_to) if replied_to else None,
        conversation_id=str((item.get("root_post") or {}).get("id") or item["id"]),
        quoted_id=str(quoted) if quoted else None, reposted_id=str(reposted) if reposted else None,
        metrics={name: insights[name] for name in METRICS if isinstance(insights.get(name), int)},
        hashtags=tuple(tags), mentions=tuple(_MENTION.findall(text)), links=tuple(links),
        media=_media(item), raw=item)


def _media(item: dict) -> tuple[dict, ...]:
    kind = item.get("media_type")
    if kind == "CAROUSEL_ALBUM":
        return tuple({"type": "image", "url": child.get("media_url"), "alt": child.get("alt_text")}
                     for child in (item.get("children") or {}).get("data") or ())
    if kind in ("IMAGE", "VIDEO"):
        return ({"type": kind.lower(), "url": item.get("media_url"), "alt": item.get("alt_text")},)
    return ()
