"""twarc2 JSONL: X API v2 responses, one page per line ({"data": […], "includes": {…}}) or one
flattened tweet per line (`twarc2 flatten`: author, referenced tweets and media resolved inline).

Lines are read one at a time (a page is at most a few hundred tweets: a line may hold MAX_PAGE
bytes, more than the MAX_RECORD of other formats); `.gz` files are read compressed. Users and media are resolved from the page's `includes`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..errors import ImportFormatError
from ..records import ArchivedPost, Link
from . import MAX_PAGE, as_int, json_lines, parse_iso_time, unescape

SOURCE = "twarc"

_METRICS = (("like_count", "likes"), ("retweet_count", "reposts"), ("reply_count", "replies"),
            ("quote_count", "quotes"), ("impression_count", "impressions"), ("bookmark_count", "bookmarks"))


def looks_like(first: dict) -> bool:
    """True for a twarc2 page or flattened tweet (the first JSON line of a file)."""
    return isinstance(first, dict) and ("data" in first and isinstance(first.get("data"), list)
                                        or ("id" in first and "text" in first and "platform" not in first))


def iter_posts(path: Path | str, *, account: str | None = None) -> Iterator[ArchivedPost]:
    """Every tweet in a twarc2 JSONL file. account: used when a tweet's author cannot be resolved.
    Raises ImportFormatError naming the line (record) that cannot be read."""
    path = Path(path)
    for number, document in json_lines(path, limit=MAX_PAGE):
        try:
            if isinstance(document, dict) and isinstance(document.get("data"), list):
                includes = document.get("includes") or {}
                users = {u["id"]: u for u in includes.get("users") or ()}
                media = {m["media_key"]: m for m in includes.get("media") or ()}
                for tweet in document["data"]:
                    yield post_from_tweet(tweet, users, media, account)
            elif isinstance(document, dict) and "id" in document:
                yield post_from_tweet(document, {}, {}, account)
            else:
                raise ValueError("neither a twarc2 page nor a tweet")
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise ImportFormatError(str(path), f"cannot be read ({type(error).__name__}: {error})",
                                    record=number) from None


def post_from_tweet(tweet: dict, users: dict, media: dict, account: str | None) -> ArchivedPost:
    """One API v2 tweet object as an ArchivedPost; users/media: the page's includes by id/media_key."""
    remote_id = str(tweet["id"])
    author = tweet.get("author") or users.get(tweet.get("author_id")) or {}
    handle = author.get("username") or (account or "").lstrip("@")
    if not handle:
        raise ValueError(f"tweet {remote_id}: author {tweet.get('author_id')} is not in the includes; "
                         "pass --account")
    references = {r.get("type"): str(r.get("id")) for r in tweet.get("referenced_tweets") or ()}
    if "retweeted" in references:
        kind = "repost"
    elif "replied_to" in references:
        kind = "reply"
    elif "quoted" in references:
        kind = "quote"
    else:
        kind = "post"
    reply_user = tweet.get("in_reply_to_user") or users.get(tweet.get("in_reply_to_user_id")) or {}
    entities = tweet.get("entities") or {}
    attachments = tweet.get("attachments") or {}
    media_items = attachments.get("media") or [media[k] for k in attachments.get("media_keys") or () if k in media]
    metrics = {}
    for key, name in _METRICS:
        value = as_int((tweet.get("public_metrics") or {}).get(key))
        if value is not None:
            metrics[name] = value
    history = tweet.get("edit_history_tweet_ids") or ()
    return ArchivedPost(
        platform="x", remote_id=remote_id, account=handle, created_at=parse_iso_time(tweet["created_at"]),
        text=unescape(tweet.get("text") or ""), kind=kind, url=f"https://x.com/{handle}/status/{remote_id}",
        language=tweet.get("lang"), reply_to_id=references.get("replied_to"),
        reply_to_account=reply_user.get("username"), conversation_id=tweet.get("conversation_id"),
        quoted_id=references.get("quoted"), reposted_id=references.get("retweeted"), source_app=tweet.get("source"),
        metrics=metrics, hashtags=tuple(h["tag"] for h in entities.get("hashtags") or ()),
        mentions=tuple(m["username"] for m in entities.get("mentions") or ()),
        links=tuple(Link(u["url"], u.get("unwound_url") or u.get("expanded_url"), u.get("display_url"))
                    for u in entities.get("urls") or () if u.get("url") and not u.get("media_key")),
        media=tuple({"type": m.get("type"), "url": m.get("url") or m.get("preview_image_url"),
                     "alt": m.get("alt_text")} for m in media_items),
        edit_history=tuple(str(i) for i in history if int(i) < int(remote_id)),
        raw={k: v for k, v in tweet.items() if k != "__twarc"})
