"""Synthetic exports in the real formats' shapes, written by the tests (and the benchmark).

X archive tweets follow the legacy shape of "Download your archive": every number a string,
full_text HTML-escaped, created_at like "Tue Jan 27 10:00:00 +0000 2015", entities with t.co urls.
"""
from __future__ import annotations

import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ACCOUNT = "teamsaantstuur"
T0 = datetime(2015, 1, 27, 10, 0, tzinfo=timezone.utc)


def twitter_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%a %b %d %H:%M:%S +0000 %Y")


def x_tweet(remote_id: int | str, text: str, *, at: datetime = T0, hashtags=(), mentions=(), urls=(),
            reply_to: tuple[str, str] | None = None, likes: int = 0, reposts: int = 0, edit_ids=(), lang: str = "nl",
            media=(), **extra) -> dict:
    """One archive tweet. urls: (t.co, expanded) pairs; reply_to: (status id, screen name).
    `text` is as the reader sees it; it is HTML-escaped here the way X does."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    tweet = {
        "edit_info": {"initial": {"editTweetIds": [str(i) for i in (edit_ids or [remote_id])],
                                  "editableUntil": "2015-01-27T11:00:00.000Z", "editsRemaining": "5",
                                  "isEditEligible": True}},
        "retweeted": False,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "entities": {
            "hashtags": [{"text": tag, "indices": ["0", str(len(tag) + 1)]} for tag in hashtags],
            "symbols": [],
            "user_mentions": [{"name": name, "screen_name": name, "indices": ["0", "5"], "id_str": "123",
                               "id": "123"} for name in mentions],
            "urls": [{"url": short, "expanded_url": long, "display_url": long.split("://", 1)[-1][:40],
                      "indices": ["10", "33"]} for short, long in urls],
        },
        "display_text_range": ["0", str(len(text))],
        "favorite_count": str(likes),
        "id_str": str(remote_id),
        "truncated": False,
        "retweet_count": str(reposts),
        "id": str(remote_id),
        "created_at": twitter_time(at),
        "favorited": False,
        "full_text": escaped,
        "lang": lang,
    }
    if media:
        tweet["entities"]["media"] = [dict(m) for m in media]
        tweet["extended_entities"] = {"media": [dict(m) for m in media]}
    if reply_to:
        tweet.update(in_reply_to_status_id_str=reply_to[0], in_reply_to_status_id=reply_to[0],
                     in_reply_to_user_id_str="42", in_reply_to_user_id="42", in_reply_to_screen_name=reply_to[1])
    tweet.update(extra)
    return tweet


def ytd(name: str, items: list, part: int = 0) -> str:
    return f"window.YTD.{name}.part{part} = " + json.dumps(items, indent=2, ensure_ascii=False)


def account_js(username: str = ACCOUNT) -> str:
    return ytd("account", [{"account": {"email": "x@example.nl", "createdVia": "web", "username": username,
                                        "accountId": "2950000000", "createdAt": "2015-01-20T09:00:00.000Z",
                                        "accountDisplayName": "Teams aan het stuur"}}])


def x_archive_files(tweets: list[dict], *, deleted: list[dict] = (), parts: int = 1, old_name: bool = False,
                    username: str | None = ACCOUNT, manifest: bool = False) -> dict[str, str]:
    """name → content of the data/ files of an archive; manifest=True adds data/manifest.js
    (X's list of the data files with their counts, here with a like.js the archive does not hold)."""
    files = {}
    counts = {"likes": [("data/like.js", 12)]}
    if username:
        files["data/account.js"] = account_js(username)
        counts["account"] = [("data/account.js", 1)]
    stem = "tweet" if old_name else "tweets"
    size = max(1, -(-len(tweets) // parts))
    for part in range(parts):
        chunk = [{"tweet": t} for t in tweets[part * size:(part + 1) * size]]
        name = f"data/{stem}.js" if part == 0 else f"data/{stem}-part{part}.js"
        files[name] = ytd(stem, chunk, part)
        counts.setdefault(stem, []).append((name, len(chunk)))
    if deleted:
        files["data/deleted-tweets.js"] = ytd("deleted_tweets", [{"tweet": t} for t in deleted])
        counts["deletedTweets"] = [("data/deleted-tweets.js", len(deleted))]
    if manifest:
        data_types = {kind: {"files": [{"fileName": name, "globalName": f"YTD.{kind}.part{n}", "count": str(count)}
                                       for n, (name, count) in enumerate(entries)]}
                      for kind, entries in counts.items()}
        files["data/manifest.js"] = "window.__THAR_CONFIG = " + json.dumps(
            {"userInfo": {"userName": username}, "dataTypes": data_types}, indent=2)
    files["Your archive.html"] = "<html></html>"
    return files


def write_x_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def write_folder(path: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return path


def seed_tweets() -> list[dict]:
    """The seed page's timeline (oldest first) with the quirks: &amp;, emoji, RTL mark, RT @, replies, edits."""
    day = timedelta(days=1)
    return [
        x_tweet(556000000000000001, "Mijn eerste tweetje, net voor de ontruiming #stadskantoor030",
                at=T0 - 30 * day, hashtags=["stadskantoor030"]),
        x_tweet(556000000000000002, "@moniquedenb Leuk dat je ons volgt!", at=T0 - 5 * day, mentions=["moniquedenb"],
                reply_to=("555000000000000009", "moniquedenb")),
        x_tweet(556000000000000003, "Nog even en dan gaat de Public Paper 'Teams aan het stuur!' online. "
                                    "De HR-strategen nodigen iedereen uit om mee te discussiëren.", at=T0 - 2 * day,
                likes=3, reposts=1),
        x_tweet(556000000000000004, "Komen er binnen vijf jaar ook bij @GemeenteUtrecht meer #zelfstandigeteams? "
                                    "Laat jouw mening horen via http://t.co/HkaCSetas2!", at=T0,
                hashtags=["zelfstandigeteams"], mentions=["GemeenteUtrecht"],
                urls=[("http://t.co/HkaCSetas2", "http://publicpapersutrecht.nl/teams")], likes=7),
        x_tweet(556000000000000005, "RT @GemeenteUtrecht: Teams & vertrouwen <3 \U0001F44D", at=T0 + day,
                mentions=["GemeenteUtrecht"]),
        x_tweet(556000000000000006, "\u200fשלום & welkom 🎉 #Zelfstandigeteams", at=T0 + 2 * day,
                hashtags=["Zelfstandigeteams"], lang="und"),
        x_tweet(556000000000000008, "Interessante discussie (bewerkt) https://t.co/RnqJ4pQbBb", at=T0 + 3 * day,
                urls=[("https://t.co/RnqJ4pQbBb", "https://publicpapersutrecht.nl/discussie")],
                edit_ids=[556000000000000007, 556000000000000008]),
    ]
