"""X's tweets as archive records, the one place that knows their shapes: API v2 tweets with the
page's includes (record: archive.fetch and the twarc2 importer, which read the same objects) and
the tweets of X's own archive, API v1.1's shape (archive_record: the X archive importer)."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Iterator, Mapping

from ..records import ArchivedPost, Link

_METRICS = (("like_count", "likes"), ("retweet_count", "reposts"), ("reply_count", "replies"),
            ("quote_count", "quotes"), ("bookmark_count", "bookmarks"), ("impression_count", "impressions"))


def records(page, account: str) -> Iterator[ArchivedPost]:
    users, media = index(page.includes)
    tweets = referenced(page.includes)
    for tweet in page.items:
        yield record(tweet, users, media, account, tweets=tweets)


def index(includes: Mapping | None) -> tuple[dict, dict]:
    """(users by id, media by media_key) of a page's includes."""
    includes = includes or {}
    return ({u.get("id"): u for u in includes.get("users") or ()},
            {m.get("media_key"): m for m in includes.get("media") or ()})


def referenced(includes: Mapping | None) -> dict:
    """The referenced tweets of a page's includes, by id."""
    return {str(t.get("id")): t for t in (includes or {}).get("tweets") or ()}


# A post's permalink: twitter.com or x.com, /<user>/status/<id> (or /i/web/status/<id>), nothing
# after the id but a query or fragment: the link X adds for attached media (…/photo/1) is no quote.
STATUS_URL = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(?:i/web|[A-Za-z0-9_]{1,50})"
                        r"/status(?:es)?/(\d{1,25})/?(?:[?#].*)?$", re.IGNORECASE)


def quoted_by_permalink(links, remote_id: str) -> tuple[str, str] | None:
    """(id, URL) of the post that a post quotes by its permalink: the last of its links that is
    another post's permalink. Modern X archives mark quotes no other way (no quoted_status_id)."""
    for link in reversed(links):
        target = link.expanded_url or link.url or ""
        match = STATUS_URL.match(target)
        if match and match.group(1) != remote_id:
            return match.group(1), target
    return None


def quoted_url(quoted_id: str, links, author: str | None) -> str:
    """The quoted post's URL: its permalink among the links, else built from its author, else X's
    form that needs no author (https://x.com/i/status/ID): a URL is never guessed from a handle."""
    for link in links:
        match = STATUS_URL.match(link.expanded_url or link.url or "")
        if match and match.group(1) == quoted_id:
            return link.expanded_url or link.url
    return f"https://x.com/{author}/status/{quoted_id}" if author else f"https://x.com/i/status/{quoted_id}"


def _author_of(referenced_id: str, tweet: dict, users: Mapping, tweets: Mapping | None) -> str | None:
    """The handle of a tweet's referenced tweet: inline (twarc2 flatten) or from the includes."""
    for reference in tweet.get("referenced_tweets") or ():
        if str(reference.get("id")) == referenced_id and isinstance(reference.get("author"), dict):
            return reference["author"].get("username")
    other = (tweets or {}).get(referenced_id) or {}
    return (other.get("author") or users.get(other.get("author_id")) or {}).get("username")


def record(tweet: dict, users: Mapping, media: Mapping, account: str | None = None, *,
           tweets: Mapping | None = None) -> ArchivedPost:
    """One tweet. Its author comes from the tweet (twarc2 flattened `author`) or the includes, else
    account; without either raises ValueError. Every URL entity is a link, the one X appends for
    attached media included, whatever the source. A quote is known from referenced_tweets, or,
    where the tweet has none, from a permalink among its links; tweets (the includes' referenced
    tweets by id) give the quoted post's author for its URL."""
    remote_id = str(tweet["id"])
    author = tweet.get("author") or users.get(tweet.get("author_id")) or {}
    handle = author.get("username") or (account or "").lstrip("@")
    if not handle:
        raise ValueError(f"tweet {remote_id}: author {tweet.get('author_id')} is not in the includes; "
                         "pass --account")
    refs = {r.get("type"): str(r.get("id")) for r in tweet.get("referenced_tweets") or ()}
    entities = tweet.get("entities") or {}
    links = tuple(Link(u["url"], u.get("unwound_url") or u.get("expanded_url"), u.get("display_url"))
                  for u in entities.get("urls") or () if u.get("url"))
    quoted = refs.get("quoted")
    if quoted is None and "referenced_tweets" not in tweet:
        quoted = (quoted_by_permalink(links, remote_id) or (None,))[0]
        if quoted:
            refs["quoted"] = quoted
    quoted_link = quoted_url(quoted, links, _author_of(quoted, tweet, users, tweets)) if quoted else None
    # The order of X's own archive (archive.importers.x_archive): a reply that quotes is a reply.
    kind = ("repost" if "retweeted" in refs else "reply" if "replied_to" in refs
            else "quote" if "quoted" in refs else "post")
    reply_user = tweet.get("in_reply_to_user") or users.get(tweet.get("in_reply_to_user_id")) or {}
    counts = tweet.get("public_metrics") or {}
    attachments = tweet.get("attachments") or {}
    attached = attachments.get("media") or [media[k] for k in attachments.get("media_keys") or () if k in media]
    text = _unescape(tweet.get("text") or "")
    reposted_author = reposted_url = None
    if "retweeted" in refs:
        reposted_author, reposted_url, whole = _retweeted(text, refs["retweeted"], users, tweets)
        text = whole or text
    return ArchivedPost(
        platform="x", remote_id=remote_id, account=handle, created_at=parse_time(tweet["created_at"]),
        kind=kind, url=f"https://x.com/{handle}/status/{remote_id}",
        language=tweet.get("lang"), reply_to_id=refs.get("replied_to"), reply_to_account=reply_user.get("username"),
        conversation_id=str(tweet["conversation_id"]) if tweet.get("conversation_id") else None,
        quoted_id=refs.get("quoted"), reposted_id=refs.get("retweeted"), source_app=tweet.get("source"),
        text=text, reposted_account=reposted_author, reposted_url=reposted_url,
        metrics={name: int(counts[key]) for key, name in _METRICS if counts.get(key) not in (None, "")},
        hashtags=tuple(h.get("tag", "") for h in entities.get("hashtags") or ()),
        mentions=tuple(m.get("username", "") for m in entities.get("mentions") or ()),
        links=links, quoted_url=quoted_link,
        media=tuple({"type": m.get("type"), "url": m.get("url") or m.get("preview_image_url"),
                     "alt": m.get("alt_text")} for m in attached),
        edit_history=tuple(str(i) for i in tweet.get("edit_history_tweet_ids") or () if _earlier(str(i), remote_id)),
        raw={k: v for k, v in tweet.items() if k != "__twarc"})


def _retweeted(text: str, reposted_id: str, users: Mapping, tweets: Mapping | None):
    """(author, URL, whole text or None) of a retweet's reposted post: the author from the includes,
    else from the "RT @author: " X puts before the text; the whole text when the includes hold the
    post (X cuts a retweet's own text short), as "RT @author: text" like X's archive."""
    original = (tweets or {}).get(reposted_id) or {}
    author = ((original.get("author") or users.get(original.get("author_id")) or {}).get("username")
              or retweeted_author(text))
    url = f"https://x.com/{author}/status/{reposted_id}" if author else None
    whole = f"RT @{author}: {_unescape(original['text'])}" if author and original.get("text") else None
    return author, url, whole


_RETWEET = re.compile(r"RT @(\w{1,50}): ")


def retweeted_author(text: str) -> str | None:
    """The author X names at the start of a retweet's text ("RT @author: …"), or None."""
    match = _RETWEET.match(text)
    return match.group(1) if match else None


def _unescape(text: str) -> str:
    """Texts as readers see them: X escapes &, < and > (only those, in practice); most texts have
    none of them, and imports read millions of texts."""
    if "&" not in text:
        return text
    plain = text.replace("&lt;", "<").replace("&gt;", ">")
    if plain.count("&") == plain.count("&amp;"):  # what html.unescape gives, at a tenth of its cost
        return plain.replace("&amp;", "&")
    return html.unescape(text)


_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"), 1)}


def parse_twitter_time(value: str) -> datetime:
    """X's legacy format, "Tue Jan 27 10:00:00 +0000 2015", as aware UTC (fast path, then strptime)."""
    try:
        _, month, day, clock, offset, year = value.split()
        hour, minute, second = clock.split(":")
        moment = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=timezone.utc)
        if offset != "+0000":
            moment = datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc)
        return moment
    except (ValueError, KeyError, AttributeError):
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc)


_ANCHOR_TEXT = re.compile(r">([^<]*)<")


@lru_cache(maxsize=1024)  # an account posts from a handful of apps
def source_app(value: str | None) -> str | None:
    """'<a href="…">Twitter Web Client</a>' → 'Twitter Web Client'."""
    if not value:
        return None
    match = _ANCHOR_TEXT.search(value)
    return html.unescape(match.group(1)) if match else value


def _earlier(other: str, remote_id: str) -> bool:
    """Whether an id of the edit history is an earlier version (X lists every version, this one too)."""
    return other.isdigit() and remote_id.isdigit() and int(other) < int(remote_id)


def parse_time(value) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


_NONE: dict = {}
_ARCHIVE_METRICS = (("favorite_count", "likes"), ("retweet_count", "reposts"), ("reply_count", "replies"),
                    ("quote_count", "quotes"))


def archive_record(tweet: dict, account: str, *, deleted: bool = False) -> ArchivedPost:
    """One tweet of X's own archive (the object inside {"tweet": …}, API v1.1's shape: every number
    a string, HTML-escaped full_text, entities) as an ArchivedPost; deleted: a tweet of
    deleted-tweets.js (its deleted_at, else its created_at, is when it was deleted)."""
    # Runs once per tweet of archives of hundreds of thousands: lookups are local and absent
    # parts are skipped early (most tweets have no media, no edits, no quote).
    get = tweet.get
    remote_id = get("id_str") or tweet["id"]
    if type(remote_id) is not str:
        remote_id = str(remote_id)
    text = _unescape(get("full_text") or get("text") or "")
    entities = get("entities") or _NONE
    urls = entities.get("urls")
    links = tuple([Link(u["url"], u.get("expanded_url"), u.get("display_url")) for u in urls if u.get("url")]
                  ) if urls else ()
    media_entities = (get("extended_entities") or _NONE).get("media") or entities.get("media")
    media = tuple([{"type": m.get("type", "photo"), "url": m.get("media_url_https") or m.get("media_url"),
                    "alt": m.get("ext_alt_text")} for m in media_entities]) if media_entities else ()
    reply_to = get("in_reply_to_status_id_str") or get("in_reply_to_status_id")
    retweeted = get("retweeted_status")
    # Older archives name the quoted post (quoted_status_id_str, is_quote_status); modern ones only
    # end the text with its permalink, the last of the links pointing at a post.
    quoted = get("quoted_status_id_str") or get("quoted_status_id")
    quoted_link = None
    if quoted:
        quoted = str(quoted)
        quoted_link = ((get("quoted_status_permalink") or _NONE).get("expanded")
                       or quoted_url(quoted, links, None))
    elif links and not retweeted:
        found = quoted_by_permalink(links, remote_id)
        if found:
            quoted, quoted_link = found
    if retweeted or text.startswith("RT @"):
        kind = "repost"
    elif reply_to:
        kind = "reply"
    elif quoted:
        kind = "quote"
    else:
        kind = "post"
    metrics = {}
    for key, name in _ARCHIVE_METRICS:
        value = get(key)
        if value is not None and value != "":
            metrics[name] = int(value)
    earlier = ()
    edit = get("edit_info")
    if edit:
        edit_ids = (((edit.get("edit") or _NONE).get("editControlInitial") or _NONE).get("editTweetIds")
                    or (edit.get("initial") or _NONE).get("editTweetIds"))
        if edit_ids and not (len(edit_ids) == 1 and edit_ids[0] == remote_id):  # most: never edited
            own = int(remote_id)
            earlier = tuple([str(i) for i in edit_ids if int(i) < own])
    deleted_at = None
    if deleted:
        value = get("deleted_at")
        deleted_at = (parse_twitter_time(value) if value and value[:1].isalpha() else
                      parse_time(value) if value else parse_twitter_time(tweet["created_at"]))
    tags = entities.get("hashtags")
    handles = entities.get("user_mentions")
    return ArchivedPost(
        platform="x", remote_id=remote_id, account=account, created_at=parse_twitter_time(tweet["created_at"]),
        text=text, kind=kind, url=f"https://x.com/{account}/status/{remote_id}", language=get("lang"),
        reply_to_id=str(reply_to) if reply_to else None,
        reply_to_account=get("in_reply_to_screen_name") if reply_to else None,
        quoted_id=quoted, quoted_url=quoted_link, reposted_id=(retweeted or _NONE).get("id_str"),
        source_app=source_app(get("source")),
        reposted_account=retweeted_author(text) if kind == "repost" else None,
        metrics=metrics, hashtags=tuple([h["text"] for h in tags]) if tags else (),
        mentions=tuple([m["screen_name"] for m in handles]) if handles else (), links=links, media=media,
        deleted_at=deleted_at, edit_history=earlier, raw=tweet)
