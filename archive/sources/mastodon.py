"""Mastodon statuses as archive records, for archive.fetch; the outbox importer's ActivityPub notes
share the HTML reading (campaign.spec.text.html_to_text, the one the platform module uses too) and
the link extraction, so a post's text and links do not depend on where it was read."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Iterator

from campaign.spec.text import MastodonHTML

from ..records import ArchivedPost, Link

_URL = re.compile(r"https?://[^\s<>\"]+")


# The API's visibility as the archive's (archive.records.VISIBILITIES); "direct" is never archived.
VISIBILITY = {"public": "public", "unlisted": "unlisted", "private": "followers"}


def records(page, account: str) -> Iterator[ArchivedPost]:
    """The page's statuses as records, direct messages left out."""
    for status in page.items:
        if status.get("visibility", "public") != "direct":
            yield record(status, account)


def text_and_links(content: str) -> tuple[str, tuple[Link, ...]]:
    """The text a reader sees and the links in it: anchors other than mentions and hashtags, as
    (shown URL, target, label); when the HTML has none, the bare URLs in the text."""
    parsed = MastodonHTML(content or "")
    text = parsed.text
    links = []
    for href, label, classes in parsed.anchors:
        if not href or classes & {"mention", "hashtag"} or "/tags/" in href or "/@" in href:
            continue
        label = label.strip()
        links.append(Link(label if label.startswith("http") else href, href, label or None))
    if not links:
        links = [Link(url, url) for url in _URL.findall(text)]
    return text, tuple(links)


def record(status: dict, account: str) -> ArchivedPost:
    """One status as the REST API (Mastodon.py) gives it (not a direct message: raises ValueError);
    a boost becomes a repost holding the boosted status's author, text and URL. The content
    warning (spoiler_text) is kept apart from the text."""
    shown = status.get("reblog") or status
    visibility = status.get("visibility") or "public"
    if visibility not in VISIBILITY:
        raise ValueError(f"status {status.get('id')}: visibility {visibility!r} is not archived")
    text, links = text_and_links(shown.get("content") or "")
    kind = "repost" if status.get("reblog") else "reply" if status.get("in_reply_to_id") else "post"
    reblog = status.get("reblog")
    return ArchivedPost(
        platform="mastodon", remote_id=str(status["id"]), account=account, created_at=parse_time(status["created_at"]),
        text=text, kind=kind, url=status.get("url") or status.get("uri"), language=shown.get("language"),
        reply_to_id=str(status["in_reply_to_id"]) if status.get("in_reply_to_id") else None,
        reposted_id=str(shown["id"]) if reblog else None,
        visibility=VISIBILITY[visibility], content_warning=shown.get("spoiler_text") or None,
        reposted_account=(reblog.get("account") or {}).get("acct") if reblog else None,
        reposted_url=(reblog.get("url") or reblog.get("uri")) if reblog else None,
        source_app=(status.get("application") or {}).get("name"),
        metrics={"likes": shown.get("favourites_count", 0), "reposts": shown.get("reblogs_count", 0),
                 "replies": shown.get("replies_count", 0)},
        hashtags=tuple(t.get("name", "") for t in shown.get("tags") or ()),
        mentions=tuple(m.get("acct", "") for m in shown.get("mentions") or ()),
        links=links,
        media=tuple({"type": m.get("type"), "url": m.get("url"), "alt": m.get("description")}
                    for m in shown.get("media_attachments") or ()),
        raw=_jsonable(status))


def parse_time(value) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    return value
