"""Bluesky posts as archive records: author-feed items (lexicon JSON) for archive.fetch, and the
records of a repository export (archive.importers.bluesky_car). Both go through post(), the one
reading of an app.bsky.feed.post record (text, facets, reply, quote, languages, time), so a post
gives the same row whichever way it came in."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Iterator

from campaign.send.platforms.bluesky import feed_time

from ..records import ArchivedPost, Link

CDN = "https://cdn.bsky.app/img/feed_fullsize/plain"


def records(page, account: str) -> Iterator[ArchivedPost]:
    for item in page.items:
        yield record(item, account)


def post_url(uri: str, author: str) -> str:
    """The bsky.app address of the post at://DID/app.bsky.feed.post/RKEY by author (handle or DID)."""
    return f"https://bsky.app/profile/{author}/post/{uri.rsplit('/', 1)[-1]}"


def post(uri: str, data: dict, account: str, *, author: str | None = None, raw: dict | None = None) -> ArchivedPost:
    """One app.bsky.feed.post record (lexicon JSON: blob and record references as {"$link": …}) at
    uri, filed under account, written by author (default: account). Links, tags and mentions come
    from the facets, which carry the full URL; facet indexes count UTF-8 bytes. Images as the CDN
    serves them. No metrics: a record holds none."""
    text = data.get("text") or ""
    raw_bytes = text.encode("utf-8")
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
    embed_type = embed.get("$type", "")
    quoted = None
    if embed_type.startswith("app.bsky.embed.record"):
        quoted = (embed.get("record") or {}).get("uri")
        quoted = quoted or ((embed.get("record") or {}).get("record") or {}).get("uri")  # recordWithMedia
    images = embed.get("images") or (embed.get("media") or {}).get("images") or ()
    did = uri.split("/")[2] if uri.startswith("at://") else ""
    return ArchivedPost(
        platform="bluesky", remote_id=uri, account=account, created_at=parse_time(data["createdAt"]),
        text=text, kind="reply" if reply else "quote" if quoted else "post", url=post_url(uri, author or account),
        language=(data.get("langs") or [None])[0], reply_to_id=(reply.get("parent") or {}).get("uri"),
        conversation_id=(reply.get("root") or {}).get("uri") or uri, quoted_id=quoted,
        hashtags=tuple(tags), mentions=tuple(mentions), links=tuple(links),
        media=tuple({"type": "image", "url": _image_url(did, i), "alt": i.get("alt")} for i in images),
        raw=raw if raw is not None else data)


def record(item: dict, account: str) -> ArchivedPost:
    """One author-feed item. A repost is filed under its own id ("repost:" + the post's uri) at the
    time it was reposted, holding the reposted post's author, text and URL."""
    view = item["post"]
    data = view.get("record") or {}
    if not data.get("createdAt"):
        data = {**data, "createdAt": view.get("indexedAt")}
    author = (view.get("author") or {}).get("handle")
    shown = post(view["uri"], data, account, author=author or account, raw=item)
    images = (view.get("embed") or {}).get("images") or (((view.get("embed") or {}).get("media") or {})
                                                          .get("images")) or ()
    shown = replace(shown, metrics={"likes": view.get("likeCount", 0), "reposts": view.get("repostCount", 0),
                                    "replies": view.get("replyCount", 0), "quotes": view.get("quoteCount", 0)},
                    # the app view's addresses of the same images
                    media=tuple({"type": "image", "url": i.get("fullsize"), "alt": i.get("alt")} for i in images)
                    if images else shown.media)
    if item.get("reason"):
        shown = repost_of(shown, remote_id="repost:" + view["uri"], account=account,
                          created_at=_utc(feed_time(item)), author=author)
    return shown


def repost_of(reposted: ArchivedPost, *, remote_id: str, account: str, created_at: datetime,
              author: str | None, raw: dict | None = None) -> ArchivedPost:
    """account's repost (remote_id, at created_at) of the post `reposted` by author."""
    return replace(reposted, remote_id=remote_id, account=account, created_at=created_at, kind="repost",
                   reposted_id=reposted.remote_id, reposted_account=author, reposted_url=reposted.url,
                   raw=raw if raw is not None else reposted.raw)


def parse_time(value) -> datetime:
    """A record's time (ISO 8601) as aware UTC; naive taken as UTC."""
    return _utc(_time(value))


def _image_url(did: str, image: dict) -> str | None:
    ref = (image.get("image") or {}).get("ref") or {}
    cid = ref.get("$link") if isinstance(ref, dict) else None
    return f"{CDN}/{did}/{cid}@jpeg" if did and cid else None


def _time(value) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
