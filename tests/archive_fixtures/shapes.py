"""More synthetic exports in the real shapes, for quotes, edit chains and twarc2's other outputs.

X archive ("Download your archive"): a modern quote carries neither quoted_status_id_str nor
is_quote_status; its text ends with the t.co link of the quoted post's permalink, which the
entities expand. An edited tweet appears once per version: the first with
edit_info.initial.editTweetIds naming every version, the later ones with edit_info.edit
(initialTweetId, editControlInitial.editTweetIds). An archive made before the edit has the first
version alone, its editTweetIds naming only itself.

twarc2 (X API v2, one response per line): pages of `search`/`timeline` ({"data": [...],
"includes": {"users", "tweets", "media"}, "meta"}), lines of `stream`/`filtered-stream`
({"data": {...}, "includes": {...}, "matching_rules": [{"id", "tag"}]}, and in between the
errors X sends instead of data), `flatten` (one tweet per line, author inline), and the users and
lists that `twarc2 users`, `followers` and `lists` write.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import ACCOUNT, T0, x_tweet

ACCOUNT_ID = "2950000000"


def x_quote(remote_id, text: str, quoted: str, *, short: str = "https://t.co/QuOtEd0001", user: str = "GemeenteUtrecht",
            host: str = "twitter.com", **extra) -> dict:
    """A modern archive quote: text ending in the permalink's t.co link, no quote fields."""
    permalink = f"https://{host}/{user}/status/{quoted}"
    return x_tweet(remote_id, f"{text} {short}", urls=[*extra.pop("urls", ()), (short, permalink)], **extra)


def x_version(remote_id, text: str, chain: list, *, at: datetime = T0, **extra) -> dict:
    """One version of an edited archive tweet; chain: every version's id, oldest first (as X lists them
    once the edit is made). The first version has edit_info.initial, the later ones edit_info.edit."""
    tweet = x_tweet(remote_id, text, at=at, edit_ids=chain, **extra)
    ids = [str(i) for i in chain]
    if str(remote_id) != ids[0]:
        tweet["edit_info"] = {"edit": {"initialTweetId": ids[0], "editControlInitial": {
            "editTweetIds": ids, "editableUntil": (at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "editsRemaining": str(5 - len(ids) + 1), "isEditEligible": True}}}
    return tweet


def v2_tweet(tweet_id, text: str, *, author_id: str | None = ACCOUNT_ID, at: datetime = T0, urls=(), refs=(),
             edits=None, **extra) -> dict:
    """An API v2 tweet as twarc2 writes it (ids and counts as the API gives them)."""
    tweet = {"id": str(tweet_id), "text": text, "created_at": at.astimezone(timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"), "conversation_id": str(tweet_id), "lang": "nl",
        "edit_history_tweet_ids": [str(i) for i in (edits or [tweet_id])],
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 1, "quote_count": 0}}
    if author_id is not None:
        tweet["author_id"] = author_id
    if urls:
        tweet["entities"] = {"urls": [{"start": 0, "end": 23, "url": short, "expanded_url": long,
                                       "display_url": long.split("://", 1)[-1][:26]} for short, long in urls]}
    if refs:
        tweet["referenced_tweets"] = [{"type": kind, "id": str(ref)} for kind, ref in refs]
    tweet.update(extra)
    return tweet


def v2_user(user_id: str = ACCOUNT_ID, username: str = ACCOUNT) -> dict:
    return {"id": user_id, "username": username, "name": username.title(), "created_at": "2015-01-20T09:00:00.000Z"}


def twarc_page(tweets: list, users=(), referenced=(), **extra) -> dict:
    """A page of `twarc2 search` / `timeline`."""
    includes = {"users": list(users)}
    if referenced:
        includes["tweets"] = list(referenced)
    return {"data": tweets, "includes": includes,
            "meta": {"result_count": len(tweets), "newest_id": tweets[0]["id"] if tweets else None},
            "__twarc": {"url": "https://api.twitter.com/2/tweets/search/recent?…", "version": "2.14.0",
                        "retrieved_at": "2024-03-01T09:00:00+00:00"}, **extra}


def stream_line(tweet: dict, users=(), rule: str = "zelfstandigeteams") -> dict:
    """A line of `twarc2 stream` / `filtered-stream`: one tweet as an object, with the matching rules."""
    return {"data": tweet, "includes": {"users": list(users)},
            "matching_rules": [{"id": "1580000000000000000", "tag": rule}],
            "__twarc": {"url": "https://api.twitter.com/2/tweets/search/stream?…", "version": "2.14.0",
                        "retrieved_at": "2024-03-01T09:00:00+00:00"}}


def stream_error(title: str = "operational-disconnect",
                 detail: str = "This stream has been disconnected upstream for operational reasons.") -> dict:
    """An error X sends on a stream in place of data (twarc2 writes it as a line of its own)."""
    return {"errors": [{"title": title, "disconnect_type": "UpstreamOperationalDisconnect", "detail": detail,
                        "type": "https://api.twitter.com/2/problems/operational-disconnect"}]}


def users_page() -> dict:
    """A page of `twarc2 users` / `followers`: user objects, no tweets."""
    return {"data": [dict(v2_user(), description="Teams aan het stuur!",
                          public_metrics={"followers_count": 12, "following_count": 3, "tweet_count": 10}),
                     v2_user("77", "deboerleo")],
            "includes": {"tweets": [v2_tweet(556000000000000001, "Mijn eerste tweetje")]},
            "meta": {"result_count": 2}}


def lists_page() -> dict:
    """A page of `twarc2 lists owned` / `followed`."""
    return {"data": [{"id": "1500000000000000001", "name": "Gemeenten", "owner_id": ACCOUNT_ID,
                      "member_count": 12, "follower_count": 3, "private": False,
                      "created_at": "2021-01-01T00:00:00.000Z", "description": "Utrecht e.o."}],
            "meta": {"result_count": 1}}


def write_jsonl(path: Path, lines: list, *, blank_between: bool = False) -> Path:
    """lines as JSON lines (blank_between: the empty keep-alive lines of a stream between them)."""
    separator = "\n\n" if blank_between else "\n"
    path.write_text(separator.join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    return path
