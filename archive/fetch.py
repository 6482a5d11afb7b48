"""Incremental timeline fetch: each account's new posts into the archive, resumable, never twice.

The platform files (campaign.send.platforms.x / mastodon / bluesky) read raw pages; this module turns
them into ArchivedPost records and hands each page to `archive.store.upsert_posts` *before* it
records how far it got (`set_fetch_state`), so a crash or a 429 between the two costs at most one
page read again (and upserting it again changes nothing).

Per platform (state kept per account in the archive's fetch state):

* X — `get_users_tweets` newest first, pages of 100 via `next_token`, `since_id` = the newest post
  stored by the last complete run. A run that stops early (429, network, Ctrl-C) keeps
  `{"pending": {"since_id", "token", "newest"}}`; the next run continues from that token and only
  then moves `since_id` forward. X serves only the newest 3,200 posts of a timeline; older ones
  come from the archive export (`archive import`).
* Mastodon — `account_statuses` walked forward with `min_id` (each page's newest id is the next
  `min_id`), so the state after every page is simply `{"newest_id"}`: nothing to resume but that.
* Bluesky — `getAuthorFeed` newest first via `cursor`, down to the newest post stored before
  (`{"newest"}`, its time); an interrupted walk keeps `{"pending": {"cursor", "stop", "newest"}}`.

Metrics of known posts: after the new posts, each run re-reads the account's posts of the last
`refresh_days` (default 7; 0 turns it off) — the window where likes and reposts still move — and
upserts them, which refreshes their metrics. That bounded window is the only thing read twice;
history older than it is never downloaded again.

Errors: RateLimited / TransientError / AuthFailed / Rejected (campaign.errors) stop the account's
run after its state is saved; `fetch_account` reports them in the FetchReport instead of raising,
so `--all` goes on with the next account.
"""
from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from campaign.errors import PlatformError, RateLimited

from .records import ArchivedPost, Link

SOURCE = "api"
X_PAGE = 100
MASTODON_PAGE = 40
BLUESKY_PAGE = 100


@dataclass
class FetchReport:
    account: str
    platform: str
    fetched: int = 0  # records handed to the store (new and refreshed)
    new: int | None = None  # as the store counted them, when it says
    pages: int = 0
    complete: bool = True
    error: str | None = None
    reset_at: datetime | None = None
    summaries: list = field(default_factory=list)

    @property
    def message(self) -> str:
        text = f"{self.account}: {self.fetched} post{'s' * (self.fetched != 1)} in {self.pages} page{'s' * (self.pages != 1)}"
        if self.new is not None:
            text += f" ({self.new} new)"
        if not self.complete:
            text += f"; stopped: {self.error}"
            if self.reset_at:
                text += f" (try again after {self.reset_at.astimezone(timezone.utc):%H:%M} UTC)"
            text += "; the next run continues where this one stopped"
        return text


class _Run:
    """The store calls one account's fetch makes, with its counters."""

    def __init__(self, db, platform: str, account: str, now: datetime, report: FetchReport,
                 on_page: Callable[[int], None] | None, store=None):
        if store is None:
            from . import store as store_module

            store = store_module
        self.db, self.platform, self.account, self.now = db, platform, account, now
        self.report, self.on_page, self.store = report, on_page, store

    def state(self) -> dict:
        return copy.deepcopy(dict(self.store.get_fetch_state(self.db, self.platform, self.account) or {}))

    def save(self, state: dict) -> None:
        self.store.set_fetch_state(self.db, self.platform, self.account, state, self.now)

    def upsert(self, records: list[ArchivedPost]) -> None:
        self.report.pages += 1
        if records:
            summary = self.store.upsert_posts(self.db, records, source=SOURCE, now=self.now)
            self.report.fetched += len(records)
            self.report.summaries.append(summary)
            new = _count(summary, "inserted", "new", "added")
            if new is not None:
                self.report.new = (self.report.new or 0) + new
        if self.on_page:
            self.on_page(len(records))


def _count(summary: Any, *names: str) -> int | None:
    for name in names:
        value = summary.get(name) if isinstance(summary, dict) else getattr(summary, name, None)
        if isinstance(value, int):
            return value
    return None


def fetch_account(db, client, platform: str, account: str, *, now: datetime, refresh_days: int = 7,
                  on_page: Callable[[int], None] | None = None, store=None) -> FetchReport:
    """Fetch one account's new posts (and refresh recent metrics) into db; see the module doc.

    client: the account's campaign platform (campaign.send.platforms.connect); account: its handle
    without '@', as records name it. PlatformErrors end the run early and are reported, not raised.
    """
    report = FetchReport(account, platform)
    run = _Run(db, platform, account, now, report, on_page, store)
    cutoff = now - timedelta(days=refresh_days) if refresh_days > 0 else None
    steps = {"x": _fetch_x, "mastodon": _fetch_mastodon, "bluesky": _fetch_bluesky}
    try:
        steps[platform](run, client, cutoff)
    except RateLimited as error:
        report.complete, report.error, report.reset_at = False, str(error), error.reset_at
    except PlatformError as error:
        report.complete, report.error = False, str(error)
    return report


# -- X ----------------------------------------------------------------------


def _fetch_x(run: _Run, client, cutoff: datetime | None) -> None:
    state = run.state()
    pending = state.get("pending")
    previous = state.get("since_id")
    if pending is None:
        pending = {"since_id": previous, "token": None, "newest": previous}
    while True:
        page = client.timeline_page(since_id=pending["since_id"], pagination_token=pending["token"],
                                    max_results=X_PAGE)
        run.upsert(list(x_records(page, run.account)))
        meta = page.get("meta") or {}
        pending["newest"] = _max_id(pending.get("newest"), meta.get("newest_id"))
        pending["token"] = meta.get("next_token")
        if not pending["token"]:
            break
        run.save({**state, "pending": dict(pending)})
    state = {"since_id": pending["newest"]}
    run.save(state)
    if cutoff is not None and previous:  # refresh the metrics of the recent posts stored before
        token = None
        while True:
            page = client.timeline_page(until_id=str(int(previous) + 1), start_time=cutoff, pagination_token=token,
                                        max_results=X_PAGE)
            run.upsert(list(x_records(page, run.account)))
            token = (page.get("meta") or {}).get("next_token")
            if not token:
                break


def _max_id(a: str | None, b: str | None) -> str | None:
    if not a or not b:
        return a or b
    return a if int(a) >= int(b) else b


def x_records(page: dict, account: str) -> Iterable[ArchivedPost]:
    includes = page.get("includes") or {}
    media = {m.get("media_key"): m for m in includes.get("media") or []}
    users = {u.get("id"): u.get("username") for u in includes.get("users") or []}
    for tweet in page.get("data") or []:
        yield x_record(tweet, account, media, users)


def x_record(tweet: dict, account: str, media: dict | None = None, users: dict | None = None) -> ArchivedPost:
    media, users = media or {}, users or {}
    tweet_id = str(tweet["id"])
    refs = {r.get("type"): str(r.get("id")) for r in tweet.get("referenced_tweets") or []}
    kind = ("repost" if "retweeted" in refs else "quote" if "quoted" in refs
            else "reply" if "replied_to" in refs else "post")
    entities = tweet.get("entities") or {}
    metrics = tweet.get("public_metrics") or {}
    history = [str(i) for i in tweet.get("edit_history_tweet_ids") or [] if str(i) != tweet_id]
    attached = [media[k] for k in (tweet.get("attachments") or {}).get("media_keys") or [] if k in media]
    return ArchivedPost(
        platform="x", remote_id=tweet_id, account=account, created_at=_parse_time(tweet.get("created_at")),
        text=html.unescape(tweet.get("text") or ""), kind=kind, url=f"https://x.com/{account}/status/{tweet_id}",
        language=tweet.get("lang"), reply_to_id=refs.get("replied_to"),
        reply_to_account=users.get(tweet.get("in_reply_to_user_id")),
        conversation_id=str(tweet["conversation_id"]) if tweet.get("conversation_id") else None,
        quoted_id=refs.get("quoted"), reposted_id=refs.get("retweeted"), source_app=tweet.get("source"),
        metrics={name: metrics[key] for name, key in (("likes", "like_count"), ("reposts", "retweet_count"),
                                                      ("replies", "reply_count"), ("quotes", "quote_count"),
                                                      ("bookmarks", "bookmark_count"),
                                                      ("impressions", "impression_count")) if key in metrics},
        hashtags=tuple(h.get("tag", "") for h in entities.get("hashtags") or []),
        mentions=tuple(m.get("username", "") for m in entities.get("mentions") or []),
        links=tuple(Link(u.get("url", ""), u.get("unwound_url") or u.get("expanded_url"), u.get("display_url"))
                    for u in entities.get("urls") or []),
        media=tuple({"type": m.get("type"), "url": m.get("url") or m.get("preview_image_url"),
                     "alt": m.get("alt_text")} for m in attached),
        edit_history=tuple(history), raw=tweet)


# -- Mastodon ---------------------------------------------------------------


def _fetch_mastodon(run: _Run, client, cutoff: datetime | None) -> None:
    state = run.state()
    previous = state.get("newest_id")
    newest = previous
    while True:
        page = client.timeline_page(min_id=newest or "0", limit=MASTODON_PAGE)
        records = [mastodon_record(status, run.account) for status in page]
        run.upsert(records)
        if not records:
            break
        newest = _max_id(newest, max((r.remote_id for r in records), key=int))
        run.save({"newest_id": newest})
        if len(records) < MASTODON_PAGE:
            break
    if cutoff is not None and previous:
        max_id = str(int(previous) + 1)
        while True:
            page = client.timeline_page(max_id=max_id, limit=MASTODON_PAGE)
            records = [mastodon_record(status, run.account) for status in page]
            recent = [r for r in records if r.created_at >= cutoff]
            run.upsert(recent)
            if len(recent) < len(records) or len(records) < MASTODON_PAGE:
                break
            max_id = min((r.remote_id for r in records), key=int)


_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_HREF = re.compile(r"<a\s[^>]*href=\"([^\"]+)\"[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_URL = re.compile(r"https?://[^\s<>\"]+")


def html_text(content: str) -> str:
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", content or ""))).strip()


def mastodon_record(status: dict, account: str) -> ArchivedPost:
    shown = status.get("reblog") or status
    content = shown.get("content") or ""
    text = html_text(content)
    links = []
    for href, label in _HREF.findall(content):
        if 'class="mention' in label or "/tags/" in href or "/@" in href:
            continue
        visible = html_text(label)
        links.append(Link(visible if visible.startswith("http") else href, html.unescape(href), visible or None))
    if not links:
        links = [Link(url, url) for url in _URL.findall(text)]
    kind = "repost" if status.get("reblog") else "reply" if status.get("in_reply_to_id") else "post"
    created = _parse_time(status.get("created_at"))
    return ArchivedPost(
        platform="mastodon", remote_id=str(status["id"]), account=account, created_at=created, text=text,
        kind=kind, url=status.get("url") or status.get("uri"), language=shown.get("language"),
        reply_to_id=str(status["in_reply_to_id"]) if status.get("in_reply_to_id") else None,
        reposted_id=str(shown["id"]) if status.get("reblog") else None,
        source_app=(status.get("application") or {}).get("name"),
        metrics={"likes": shown.get("favourites_count", 0), "reposts": shown.get("reblogs_count", 0),
                 "replies": shown.get("replies_count", 0)},
        hashtags=tuple(t.get("name", "") for t in shown.get("tags") or []),
        mentions=tuple(m.get("acct", "") for m in shown.get("mentions") or []),
        links=tuple(links),
        media=tuple({"type": m.get("type"), "url": m.get("url"), "alt": m.get("description")}
                    for m in shown.get("media_attachments") or []),
        raw=_jsonable(status))


# -- Bluesky ----------------------------------------------------------------


def _fetch_bluesky(run: _Run, client, cutoff: datetime | None) -> None:
    state = run.state()
    pending = state.get("pending")
    if pending is None:
        pending = {"cursor": None, "stop": state.get("newest"), "newest": state.get("newest")}
    stop = _parse_time(pending["stop"]) if pending.get("stop") else None

    def wanted(moment: datetime) -> bool:  # new since the last run, or inside the refresh window
        return stop is None or moment > stop or (cutoff is not None and moment >= cutoff)
    while True:
        page = client.timeline_page(cursor=pending["cursor"], limit=BLUESKY_PAGE)
        items = page.get("feed") or []
        records, reached = [], False
        for item in items:
            record = bluesky_record(item, run.account)
            if not wanted(_sort_time(item)):
                reached = True
                break
            records.append(record)
            if pending.get("newest") is None or _sort_time(item) > _parse_time(pending["newest"]):
                pending["newest"] = _iso(_sort_time(item))
        run.upsert(records)
        pending["cursor"] = page.get("cursor")
        if reached or not items or not pending["cursor"]:
            break
        run.save({**state, "pending": dict(pending)})
    run.save({"newest": pending.get("newest")})


def _sort_time(item: dict) -> datetime:
    reason = item.get("reason") or {}
    return _parse_time(reason.get("indexedAt") or item["post"].get("indexedAt")
                       or item["post"].get("record", {}).get("createdAt"))


def bluesky_record(item: dict, account: str) -> ArchivedPost:
    post = item["post"]
    record = post.get("record") or {}
    text = record.get("text") or ""
    raw_bytes = text.encode("utf-8")
    links, tags, mentions = [], [], []
    for facet in record.get("facets") or []:
        index = facet.get("index") or {}
        shown = raw_bytes[index.get("byteStart", 0):index.get("byteEnd", 0)].decode("utf-8", "replace")
        for feature in facet.get("features") or []:
            kind = feature.get("$type", "")
            if kind.endswith("#link"):
                links.append(Link(shown, feature.get("uri"), shown))
            elif kind.endswith("#tag"):
                tags.append(feature.get("tag", ""))
            elif kind.endswith("#mention"):
                mentions.append(shown.lstrip("@"))
    reply = record.get("reply") or {}
    embed = record.get("embed") or {}
    quoted = (embed.get("record") or {}).get("uri") if embed.get("$type", "").startswith("app.bsky.embed.record") else None
    reason = item.get("reason")
    author = (post.get("author") or {}).get("handle") or account
    rkey = post["uri"].rsplit("/", 1)[-1]
    images = ((post.get("embed") or {}).get("images") or [])
    return ArchivedPost(
        platform="bluesky", remote_id=("repost:" + post["uri"]) if reason else post["uri"], account=account,
        created_at=_sort_time(item) if reason else _parse_time(record.get("createdAt") or post.get("indexedAt")),
        text=text, kind="repost" if reason else "reply" if reply else "quote" if quoted else "post",
        url=f"https://bsky.app/profile/{author}/post/{rkey}", language=(record.get("langs") or [None])[0],
        reply_to_id=(reply.get("parent") or {}).get("uri"),
        conversation_id=(reply.get("root") or {}).get("uri") or post["uri"],
        quoted_id=quoted, reposted_id=post["uri"] if reason else None,
        metrics={"likes": post.get("likeCount", 0), "reposts": post.get("repostCount", 0),
                 "replies": post.get("replyCount", 0), "quotes": post.get("quoteCount", 0)},
        hashtags=tuple(tags), mentions=tuple(mentions), links=tuple(links),
        media=tuple({"type": "image", "url": i.get("fullsize"), "alt": i.get("alt")} for i in images),
        raw=item)


# -- helpers ----------------------------------------------------------------


def _parse_time(value) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return _iso(value)
    return value
