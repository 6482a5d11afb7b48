"""Bluesky author-feed items (lexicon JSON) as archive records, for archive.fetch."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator

from campaign.send.platforms.bluesky import feed_time

from ..records import ArchivedPost, Link


def records(page, account: str) -> Iterator[ArchivedPost]:
    for item in page.items:
        yield record(item, account)


def record(item: dict, account: str) -> ArchivedPost:
    """One feed item; a repost is filed under its own id ("repost:" + the post's uri) at the time it
    was reposted. Links, tags and mentions come from the facets, which carry the full URL."""
    post = item["post"]
    data = post.get("record") or {}
    text = data.get("text") or ""
    raw_bytes = text.encode("utf-8")  # facet indexes count UTF-8 bytes
    links, tags, mentions = [], [], []
    for facet in data.get("facets") or ():
        index = facet.get("index") or {}
        shown = raw_bytes[index.get("byteStart", 0):index.get("byteEnd", 0)].decode("utf-8", "replace")
        for feature in facet.get("features") or ():
            kind = feature.get("$type", "")
            if kind.endswith("#link"):
                links.append(Link(shown, feature.get("uri"), shown))
            elif kind.endswith("#tag"):
                tags.append(feature.get("tag", ""))
            elif kind.endswith("#mention"):
                mentions.append(shown.lstrip("@"))
    reply = data.get("reply") or {}
    embed = data.get("embed") or {}
    quoted = (embed.get("record") or {}).get("uri") if embed.get("$type", "").startswith("app.bsky.embed.record") else None
    reason = item.get("reason")
    author = (post.get("author") or {}).get("handle") or account
    images = (post.get("embed") or {}).get("images") or ()
    return ArchivedPost(
        platform="bluesky", remote_id=("repost:" + post["uri"]) if reason else post["uri"], account=account,
        created_at=_utc(feed_time(item) if reason else _time(data.get("createdAt") or post.get("indexedAt"))),
        text=text, kind="repost" if reason else "reply" if reply else "quote" if quoted else "post",
        url=f"https://bsky.app/profile/{author}/post/{post['uri'].rsplit('/', 1)[-1]}",
        language=(data.get("langs") or [None])[0], reply_to_id=(reply.get("parent") or {}).get("uri"),
        conversation_id=(reply.get("root") or {}).get("uri") or post["uri"],
        quoted_id=quoted, reposted_id=post["uri"] if reason else None,
        metrics={"likes": post.get("likeCount", 0), "reposts": post.get("repostCount", 0),
                 "replies": post.get("replyCount", 0), "quotes": post.get("quoteCount", 0)},
        hashtags=tuple(tags), mentions=tuple(mentions), links=tuple(links),
        media=tuple({"type": "image", "url": i.get("fullsize"), "alt": i.get("alt")} for i in images),
        raw=item)


def _time(value) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
