"""X API v2 tweets (with the page's includes) as archive records: for archive.fetch and the twarc2
importer, which read the same objects."""
from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Iterator, Mapping

from ..records import ArchivedPost, Link

_METRICS = (("like_count", "likes"), ("retweet_count", "reposts"), ("reply_count", "replies"),
            ("quote_count", "quotes"), ("bookmark_count", "bookmarks"), ("impression_count", "impressions"))


def records(page, account: str) -> Iterator[ArchivedPost]:
    users, media = index(page.includes)
    for tweet in page.items:
        yield record(tweet, users, media, account)


def index(includes: Mapping | None) -> tuple[dict, dict]:
    """(users by id, media by media_key) of a page's includes."""
    includes = includes or {}
    return ({u.get("id"): u for u in includes.get("users") or ()},
            {m.get("media_key"): m for m in includes.get("media") or ()})


def record(tweet: dict, users: Mapping, media: Mapping, account: str | None = None) -> ArchivedPost:
    """One tweet. Its author comes from the tweet (twarc2 flattened `author`) or the includes, else
    account; without either raises ValueError. Every URL entity is a link, the one X appends for
    attached media included, whatever the source."""
    remote_id = str(tweet["id"])
    author = tweet.get("author") or users.get(tweet.get("author_id")) or {}
    handle = author.get("username") or (account or "").lstrip("@")
    if not handle:
        raise ValueError(f"tweet {remote_id}: author {tweet.get('author_id')} is not in the includes; "
                         "pass --account")
    refs = {r.get("type"): str(r.get("id")) for r in tweet.get("referenced_tweets") or ()}
    # The order of X's own archive (archive.importers.x_archive): a reply that quotes is a reply.
    kind = ("repost" if "retweeted" in refs else "reply" if "replied_to" in refs
            else "quote" if "quoted" in refs else "post")
    reply_user = tweet.get("in_reply_to_user") or users.get(tweet.get("in_reply_to_user_id")) or {}
    entities = tweet.get("entities") or {}
    counts = tweet.get("public_metrics") or {}
    attachments = tweet.get("attachments") or {}
    attached = attachments.get("media") or [media[k] for k in attachments.get("media_keys") or () if k in media]
    return ArchivedPost(
        platform="x", remote_id=remote_id, account=handle, created_at=parse_time(tweet["created_at"]),
        text=_unescape(tweet.get("text") or ""), kind=kind, url=f"https://x.com/{handle}/status/{remote_id}",
        language=tweet.get("lang"), reply_to_id=refs.get("replied_to"), reply_to_account=reply_user.get("username"),
        conversation_id=str(tweet["conversation_id"]) if tweet.get("conversation_id") else None,
        quoted_id=refs.get("quoted"), reposted_id=refs.get("retweeted"), source_app=tweet.get("source"),
        metrics={name: int(counts[key]) for key, name in _METRICS if counts.get(key) not in (None, "")},
        hashtags=tuple(h.get("tag", "") for h in entities.get("hashtags") or ()),
        mentions=tuple(m.get("username", "") for m in entities.get("mentions") or ()),
        links=tuple(Link(u["url"], u.get("unwound_url") or u.get("expanded_url"), u.get("display_url"))
                    for u in entities.get("urls") or () if u.get("url")),
        media=tuple({"type": m.get("type"), "url": m.get("url") or m.get("preview_image_url"),
                     "alt": m.get("alt_text")} for m in attached),
        edit_history=tuple(str(i) for i in tweet.get("edit_history_tweet_ids") or () if _earlier(str(i), remote_id)),
        raw={k: v for k, v in tweet.items() if k != "__twarc"})


def _unescape(text: str) -> str:
    # X escapes &, < and >; most texts have none, and imports read millions of them.
    return html.unescape(text) if "&" in text else text


def _earlier(other: str, remote_id: str) -> bool:
    """Whether an id of the edit history is an earlier version (X lists every version, this one too)."""
    return other.isdigit() and remote_id.isdigit() and int(other) < int(remote_id)


def parse_time(value) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
