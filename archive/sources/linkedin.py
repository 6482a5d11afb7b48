"""LinkedIn posts (/rest/posts elements, with the page's social metadata in the includes) as archive
records, for archive.fetch. The commentary is little text; it is read by the same functions the
platform module posts with, so a post's text does not depend on where it was read."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Iterator

from campaign.send.platforms.linkedin_text import from_little_text, hashtags_of, mentions_of, post_url

from ..records import ArchivedPost, Link

_URL = re.compile(r"https?://[^\s<>\"]+")


def records(page, account: str) -> Iterator[ArchivedPost]:
    metadata = (page.includes or {}).get("socialMetadata") or {}
    for item in page.items:
        yield record(item, account, metadata.get(item["id"]))


def record(item: dict, account: str, social: dict | None = None) -> ArchivedPost:
    """One post of the page. A repost (reshareContext) is filed as a repost of its parent. Metrics
    come from socialMetadata when the fetch could read it: reactions of every kind count as likes."""
    urn = item["id"]
    text = from_little_text(item.get("commentary") or "")
    content = item.get("content") or {}
    images = [content["media"]] if "media" in content else list((content.get("multiImage") or {}).get("images") or ())
    article = content.get("article") or {}
    links = [Link(url.rstrip(".,;:!?)"), url.rstrip(".,;:!?)")) for url in _URL.findall(text)]
    if article.get("source") and article["source"] not in {link.url for link in links}:
        links.append(Link(article["source"], article["source"], article.get("title")))
    reshare = item.get("reshareContext") or {}
    metrics = {}
    if social:
        metrics["likes"] = sum(int((r or {}).get("count") or 0) for r in (social.get("reactionSummaries") or {}).values())
        metrics["replies"] = int((social.get("commentSummary") or {}).get("count") or 0)
    created = item.get("publishedAt") or item.get("createdAt")
    return ArchivedPost(
        platform="linkedin", remote_id=urn, account=account,
        created_at=datetime.fromtimestamp(int(created) / 1000, timezone.utc),
        text=text, kind="repost" if reshare else "post", url=post_url(urn),
        reposted_id=reshare.get("parent"), metrics=metrics,
        hashtags=tuple(hashtags_of(item.get("commentary") or "")),
        mentions=tuple(name for name, _ in mentions_of(item.get("commentary") or "")),
        links=tuple(links),
        media=tuple({"type": "image", "url": None, "alt": image.get("altText"), "id": image.get("id")}
                    for image in images),
        visibility="public" if item.get("visibility", "PUBLIC") == "PUBLIC" else "followers",
        raw={"post": item, **({"socialMetadata": social} if social else {})})
