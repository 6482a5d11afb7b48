"""FakeX: a loopback stand-in for the X (Twitter) API as tweepy 4.17 calls it.

Hosts: tweepy hard-codes ``https://api.twitter.com`` (``tweepy.Client``) and
``https://upload.twitter.com`` (``tweepy.API`` media upload), so use
``tests.fakes.clients.x_client(fake)`` / ``x_api(fake)``, which mount a transport adapter
rewriting those hosts to ``fake.url``.  OAuth 1.0a signatures are computed by the client
over the *original* https URL; the fake verifies them against that URL (HMAC-SHA1 with the
account's consumer secret and token secret) and answers 401 when the header is missing,
names an unknown key/token, or carries a wrong signature.  App-only Bearer auth is accepted
on read endpoints when ``fake.bearer_token`` matches (``Bearer None`` -> 401).

Endpoints (endpoint name for ``inject`` in brackets):

* ``POST /2/tweets`` [post] -- json ``{text, reply:{in_reply_to_tweet_id}, media:{media_ids}}``
  -> 201 ``{"data":{"id","text","edit_history_tweet_ids"}}``.  URLs in the returned
  ``text`` are shortened to ``https://t.co/...`` (``shorten_urls=True``) like the real API.
  Duplicate text (same account, identical text as a stored post within
  ``duplicate_window`` seconds, default: any stored post) -> 403 problem+json
  ``{"detail":"You are not allowed to create a Tweet with duplicate content.",...}``.
  Weighted length > 280 (twitter-text, when ``twitter_text`` is importable) -> 400 "Your
  Tweet text is too long...".  Unknown media id -> 400; reply to unknown tweet -> 403.
* ``DELETE /2/tweets/:id`` [delete], ``GET /2/tweets/:id`` [tweet]
* ``GET /2/users/me`` [me] -> ``{"data":{"id","name","username"}}`` (+ ``user.fields``)
* ``GET /2/users/:id/tweets`` [timeline] -- ``max_results`` (5..100, default 10),
  ``since_id``, ``until_id``, ``pagination_token``, ``start_time``/``end_time``,
  ``exclude``, ``tweet.fields``, ``expansions=attachments.media_keys`` (+``media.fields``).
  Newest first; ``meta.{result_count,newest_id,oldest_id,next_token}``; ``next_token`` is
  absent on the last page; only the newest ``timeline_cap`` (3200) posts are reachable.
* ``GET /1.1/account/verify_credentials.json`` [me_v1]
* ``POST /1.1/media/upload.json`` [media] (multipart ``media``; what ``tweepy.API.media_upload``
  / ``simple_upload`` call in 4.17) and ``POST /2/media/upload`` [media] (v2 shape).
* ``POST /1.1/media/metadata/create.json`` [media_metadata] (json
  ``{"media_id", "alt_text":{"text"}}``, answers 200 with an empty body) and
  ``POST /2/media/metadata`` [media_metadata].

Every authenticated response carries ``x-rate-limit-limit/-remaining/-reset`` for its
endpoint and account (budgets in ``FakeX.default_rate_limits``, change with
``fake.set_rate_limit(endpoint, limit, window)``); an exhausted budget answers 429.
``daily_post_cap=N`` additionally caps posts per 24 h with the
``x-user-limit-24hour-*`` headers (429 when exceeded), like X's usage caps.

Faults (see ``tests.fakes.base``): ``Fault.duplicate()`` gives the exact duplicate-content
403; ``Fault.rate_limit(reset_in=...)`` adds ``x-rate-limit-limit``, ``-remaining: 0`` and
``-reset``; without ``reset_in`` the 429 carries no rate-limit headers at all.

Posts (``fake.posts``): dicts with ``id`` (str), ``account`` (username), ``author_id``,
``text`` (exactly as submitted), ``api_text`` (as the API returns it, t.co-shortened),
``created_at`` (aware UTC datetime), ``reply_to`` (str | None), ``conversation_id``,
``media_ids`` (list[str]), ``media`` (list of {id, media_key, alt_text, mime, size}),
``deleted`` (bool; deleted posts are hidden from the API but kept here).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import re
import secrets
import string
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from oauthlib.oauth1.rfc5849 import signature as oauth_sig
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from .base import FakeServer, Fault, Request, Response, iso_time, json_response

try:  # the project depends on twitter-text-parser; stay usable without it
    import twitter_text as _twitter_text
except Exception:  # pragma: no cover
    _twitter_text = None

__all__ = ["FakeX", "XAccount", "snowflake_for"]

TWITTER_EPOCH_MS = 1288834974657
ORIGINAL_HOSTS = ("https://api.twitter.com", "https://upload.twitter.com", "https://api.x.com")
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
TOO_LONG = ("Your Tweet text is too long. For more information on how Twitter determines "
            "text length see https://github.com/twitter/twitter-text.")
INVALID_TYPE = "https://api.twitter.com/2/problems/invalid-request"

_REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}
_V1_CODES = {
    401: (32, "Could not authenticate you."), 403: (200, "Forbidden."),
    404: (34, "Sorry, that page does not exist."), 429: (88, "Rate limit exceeded"),
    500: (131, "Internal error"), 503: (130, "Over capacity"),
}


def snowflake_for(dt: datetime, seq: int = 0) -> int:
    """An X-style id whose timestamp bits encode ``dt``."""
    ms = int(dt.timestamp() * 1000)
    return ((ms - TWITTER_EPOCH_MS) << 22) | (seq & 0x3FFFFF)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(18)


@dataclass
class XAccount:
    id: str
    username: str
    name: str
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    created_at: datetime = field(default_factory=lambda: datetime(2015, 1, 5, 9, 0, tzinfo=timezone.utc))

    @property
    def credentials(self) -> dict[str, str]:
        """Keyword arguments for ``tweepy.Client``."""
        return {
            "consumer_key": self.consumer_key, "consumer_secret": self.consumer_secret,
            "access_token": self.access_token, "access_token_secret": self.access_token_secret,
        }


class FakeX(FakeServer):
    account_name = 'username'
    extra_state = ('_media',)
    refuses_duplicates = True  # 403 duplicate content

    @staticmethod
    def alt_texts(post: dict[str, Any]) -> list[str | None]:
        return [m["alt_text"] for m in post["media"]]

    default_rate_limits = {
        "post": (200, 900),  # recorded in tweepy's cassette for POST /2/tweets
        "delete": (50, 900),
        "tweet": (900, 900),
        "timeline": (900, 900),
        "me": (75, 900),
        "me_v1": (75, 900),
        "media": (500, 900),
        "media_metadata": (500, 900),
    }

    def __init__(self, username: str = "teamsaantstuur", name: str = "Teams aan het stuur!", *,
                 shorten_urls: bool = True, duplicate_window: float | None = None,
                 daily_post_cap: int | None = None, timeline_cap: int = 3200,
                 bearer_token: str | None = None, verify_signatures: bool = True) -> None:
        super().__init__()
        self.shorten_urls = shorten_urls
        self.duplicate_window = duplicate_window
        self.daily_post_cap = daily_post_cap
        self.timeline_cap = timeline_cap
        self.bearer_token = bearer_token or _token("AAAA")
        self.verify_signatures = verify_signatures
        self._media: dict[str, dict[str, Any]] = {}
        self._seq = itertools.count(1)
        self._last_id = 0
        self._tco = itertools.count(1)
        self._tco_map: dict[str, str] = {}
        self._consumer = (_token("ck-"), _token("cs-"))
        self.account = self.add_account(username, name)

        r = self.route
        r("POST", "/2/tweets", "post", self._create_tweet)
        r("DELETE", "/2/tweets/{id}", "delete", self._delete_tweet)
        r("GET", "/2/tweets/{id}", "tweet", self._get_tweet)
        r("GET", "/2/users/me", "me", self._me)
        r("GET", "/2/users/{id}/tweets", "timeline", self._timeline)
        r("GET", "/1.1/account/verify_credentials.json", "me_v1", self._me_v1)
        r("POST", "/1.1/media/upload.json", "media", self._media_upload_v1)
        r("GET", "/1.1/media/upload.json", "media", self._media_status_v1)
        r("POST", "/2/media/upload", "media", self._media_upload_v2)
        r("POST", "/1.1/media/metadata/create.json", "media_metadata", self._media_metadata_v1)
        r("POST", "/2/media/metadata", "media_metadata", self._media_metadata_v2)

    # -- accounts / seeding ------------------------------------------------------------
    def add_account(self, username: str, name: str | None = None) -> XAccount:
        """Add an account under the same app (consumer key); returns its credentials."""
        with self._lock:
            uid = str(2_900_000_000 + len(self._accounts) + 1)
            acct = XAccount(
                id=uid, username=username, name=name or username,
                consumer_key=self._consumer[0], consumer_secret=self._consumer[1],
                access_token=f"{uid}-{secrets.token_urlsafe(20)}", access_token_secret=_token("ats-"),
            )
            self._accounts[acct.access_token] = acct
            return acct

    def _account_by_id(self, uid: str) -> XAccount | None:
        with self._lock:
            for a in self._accounts.values():
                if a.id == uid:
                    return a
        return None

    def _account_by_name(self, username: str) -> XAccount:
        with self._lock:
            for a in self._accounts.values():
                if a.username == username:
                    return a
        raise KeyError(username)

    def _new_id(self, created_at: datetime) -> str:
        with self._lock:
            nid = snowflake_for(created_at, next(self._seq))
            if created_at >= datetime.now(timezone.utc) - timedelta(seconds=5):
                nid = max(nid, self._last_id + 1)  # live posts: strictly increasing
            self._last_id = max(self._last_id, nid)
            return str(nid)

    def seed_post(self, text: str, *, created_at: datetime | None = None, account: XAccount | None = None,
                  reply_to: str | None = None) -> dict[str, Any]:
        """Store a post directly (no HTTP), e.g. history for timeline paging tests."""
        acct = account or self.account
        created = created_at or datetime.now(timezone.utc)
        return self._store(acct, text, created, reply_to, [])

    def _store(self, acct: XAccount, text: str, created: datetime, reply_to: str | None,
               media: list[dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            pid = self._new_id(created)
            conv = pid
            if reply_to:
                parent = self._find(reply_to)
                conv = parent["conversation_id"] if parent else reply_to
            post = {
                "id": pid, "account": acct.username, "author_id": acct.id, "text": text,
                "api_text": self._shorten(text), "created_at": created, "reply_to": reply_to,
                "in_reply_to_user_id": (self._find(reply_to) or {}).get("author_id") if reply_to else None,
                "conversation_id": conv, "media_ids": [m["id"] for m in media],
                "media": [dict(m) for m in media], "deleted": False,
            }
            self._posts.append(post)
            self._posts.sort(key=lambda p: int(p["id"]))
            return copy.deepcopy(post)

    def _find(self, pid: str) -> dict[str, Any] | None:
        with self._lock:
            for p in self._posts:
                if p["id"] == pid and not p["deleted"]:
                    return p
        return None

    @property
    def media(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._media)

    # -- text helpers ------------------------------------------------------------------
    def _urls(self, text: str) -> list[tuple[int, int, str]]:
        out = []
        for m in re.finditer(r"https?://[^\s]+", text):
            url = m.group(0)
            while url and url[-1] in ".,!?;:)'\"":
                url = url[:-1]
            out.append((m.start(), m.start() + len(url), url))
        return out

    def _tco_for(self, url: str) -> str:
        with self._lock:
            if url not in self._tco_map:
                digest = hashlib.sha1(f"{url}|{next(self._tco)}".encode()).digest()
                alphabet = string.ascii_letters + string.digits
                code = "".join(alphabet[b % len(alphabet)] for b in digest[:10])
                self._tco_map[url] = f"https://t.co/{code}"
            return self._tco_map[url]

    def _shorten(self, text: str) -> str:
        if not self.shorten_urls:
            return text
        out, pos = [], 0
        for start, end, url in self._urls(text):
            out.append(text[pos:start])
            out.append(self._tco_for(url))
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def _entities(self, post: dict[str, Any]) -> dict[str, Any]:
        text = post["api_text"]
        ents: dict[str, Any] = {}
        urls = []
        originals = self._urls(post["text"])
        for i, (start, end, url) in enumerate(self._urls(text)):
            expanded = originals[i][2] if i < len(originals) else url
            display = expanded.split("://", 1)[-1]
            urls.append({"start": start, "end": end, "url": url, "expanded_url": expanded,
                         "display_url": display if len(display) <= 26 else display[:25] + "\u2026"})
        if urls:
            ents["urls"] = urls
        tags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)}
                for m in re.finditer(r"(?<![\w#])#(\w+)", text)]
        if tags:
            ents["hashtags"] = tags
        mentions = [{"start": m.start(), "end": m.end(), "username": m.group(1)}
                    for m in re.finditer(r"(?<![\w@])@(\w{1,15})", text)]
        if mentions:
            ents["mentions"] = mentions
        return ents

    # -- auth --------------------------------------------------------------------------
    def _oauth_account(self, req: Request) -> XAccount | None:
        header = req.header("authorization") or ""
        if not header.startswith("OAuth "):
            return None
        try:
            params = {k: oauth_utils.unescape(v) for k, v in oauth_utils.parse_authorization_header(header)}
        except Exception:
            return None
        token = params.get("oauth_token")
        with self._lock:
            acct = self._accounts.get(token or "")
        if acct is None or params.get("oauth_consumer_key") != acct.consumer_key:
            return None
        if not self.verify_signatures:
            return acct
        if params.get("oauth_signature_method") != "HMAC-SHA1":
            return None
        body = req.body.decode("utf-8") if req.content_type == "application/x-www-form-urlencoded" else None
        collected = oauth_sig.collect_parameters(
            uri_query=req.raw_query, body=body, headers={"Authorization": header},
            exclude_oauth_signature=True,
        )
        normalized = oauth_sig.normalize_parameters(collected)
        given = params.get("oauth_signature", "")
        for host in ORIGINAL_HOSTS + (self.url,):
            base = oauth_sig.signature_base_string(req.method, oauth_sig.base_string_uri(host + req.path), normalized)
            key = f"{oauth_utils.escape(acct.consumer_secret)}&{oauth_utils.escape(acct.access_token_secret)}"
            expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
            if hmac.compare_digest(expected, given):
                return acct
        return None

    def _authenticate(self, req: Request, *, allow_bearer: bool = False) -> XAccount | str | Response:
        """Return the account (user context), "app" (valid bearer) or a 401 response."""
        acct = self._oauth_account(req)
        if acct is not None:
            return acct
        header = req.header("authorization") or ""
        if allow_bearer and header == f"Bearer {self.bearer_token}":
            return "app"
        return self.error_response(req, 401)

    def _limited(self, req: Request, endpoint: str, who: XAccount | str) -> tuple[dict[str, str], Response | None]:
        key = who.id if isinstance(who, XAccount) else "app"
        budget = self._consume_budget(key, endpoint)
        if budget is None:
            return {}, None
        limit, remaining, reset = budget
        headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(max(remaining, 0)),
                   "x-rate-limit-reset": str(reset)}
        if remaining < 0:
            resp = self.error_response(req, 429)
            resp.headers.update(headers)
            return headers, resp
        return headers, None

    # -- error shapes ------------------------------------------------------------------
    def error_response(self, req: Request, status: int, fault: Fault | None = None,
                       message: str | None = None) -> Response:
        if req.path.startswith("/1.1/"):
            code, msg = _V1_CODES.get(status, (0, _REASONS.get(status, "Error")))
            return json_response(status, {"errors": [{"code": code, "message": message or msg}]})
        title = _REASONS.get(status, "Error")
        if fault is not None and fault.reason == "duplicate":
            body = {"detail": DUPLICATE_DETAIL, "type": "about:blank", "title": "Forbidden", "status": 403}
        else:
            body = {"title": title, "detail": message or title, "type": "about:blank", "status": status}
        return json_response(status, body, content_type="application/problem+json")

    def reset_header(self, reset_epoch: float) -> dict[str, str]:
        return {"x-rate-limit-limit": "200", "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(reset_epoch))}

    def _invalid(self, message: str, parameters: dict[str, Any] | None = None) -> Response:
        err: dict[str, Any] = {"message": message}
        if parameters is not None:
            err["parameters"] = parameters
        return json_response(400, {"errors": [err], "title": "Invalid Request",
                                   "detail": "One or more parameters to your request was invalid.",
                                   "type": INVALID_TYPE})

    # -- representations ---------------------------------------------------------------
    def _tweet_json(self, post: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        d: dict[str, Any] = {"edit_history_tweet_ids": [post["id"]], "id": post["id"], "text": post["api_text"]}
        if "created_at" in fields:
            d["created_at"] = iso_time(post["created_at"])
        if "author_id" in fields:
            d["author_id"] = post["author_id"]
        if "conversation_id" in fields:
            d["conversation_id"] = post["conversation_id"]
        if "in_reply_to_user_id" in fields and post["in_reply_to_user_id"]:
            d["in_reply_to_user_id"] = post["in_reply_to_user_id"]
        if "referenced_tweets" in fields and post["reply_to"]:
            d["referenced_tweets"] = [{"type": "replied_to", "id": post["reply_to"]}]
        if "attachments" in fields and post["media"]:
            d["attachments"] = {"media_keys": [m["media_key"] for m in post["media"]]}
        if "entities" in fields:
            ents = self._entities(post)
            if ents:
                d["entities"] = ents
        if "lang" in fields:
            d["lang"] = "nl"
        if "public_metrics" in fields:
            d["public_metrics"] = {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0,
                                   "bookmark_count": 0, "impression_count": 0}
        if "possibly_sensitive" in fields:
            d["possibly_sensitive"] = False
        if "reply_settings" in fields:
            d["reply_settings"] = "everyone"
        if "edit_controls" in fields:
            d["edit_controls"] = {"edits_remaining": 5, "is_edit_eligible": True,
                                  "editable_until": iso_time(post["created_at"] + timedelta(hours=1))}
        return d

    def _media_json(self, m: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        d = {"media_key": m["media_key"], "type": "photo"}
        if "url" in fields:
            d["url"] = f"https://pbs.twimg.com/media/{m['id']}.png"
        if "alt_text" in fields and m.get("alt_text"):
            d["alt_text"] = m["alt_text"]
        if "width" in fields:
            d["width"] = m.get("w", 1)
        if "height" in fields:
            d["height"] = m.get("h", 1)
        return d

    def _user_json(self, acct: XAccount, fields: set[str]) -> dict[str, Any]:
        d: dict[str, Any] = {"id": acct.id, "name": acct.name, "username": acct.username}
        if "created_at" in fields:
            d["created_at"] = iso_time(acct.created_at)
        if "description" in fields:
            d["description"] = ""
        if "protected" in fields:
            d["protected"] = False
        if "verified" in fields:
            d["verified"] = False
        if "public_metrics" in fields:
            d["public_metrics"] = {"followers_count": 0, "following_count": 0,
                                   "tweet_count": len(self.posts_for(acct)), "listed_count": 0, "like_count": 0}
        return d

    @staticmethod
    def _fields(req: Request, name: str) -> set[str]:
        raw = req.arg(name) or ""
        return {f.strip() for f in raw.split(",") if f.strip()}

    # -- handlers ----------------------------------------------------------------------
    def _create_tweet(self, req: Request) -> Response:
        who = self._authenticate(req)
        if isinstance(who, Response):
            return who
        headers, limited = self._limited(req, "post", who)
        if limited:
            return limited
        try:
            payload = req.json() or {}
        except ValueError:
            return self._invalid("Request body is not valid JSON")
        text = payload.get("text")
        media_ids = [str(m) for m in (payload.get("media") or {}).get("media_ids", [])]
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        reply_to = str(reply_to) if reply_to is not None else None
        if not text and not media_ids:
            return self._invalid("Tweet text or media is required", {"text": [text]})
        text = text or ""

        if _twitter_text is not None and text:
            parsed = _twitter_text.parse_tweet(text)
            if not parsed.valid and parsed.weightedLength > 280:
                resp = self._invalid(TOO_LONG)
                resp.headers.update(headers)
                return resp

        with self._lock:
            media = []
            for mid in media_ids:
                m = self._media.get(mid)
                if m is None or m["owner"] != who.id:
                    resp = self._invalid("Your media IDs are invalid.", {"media.media_ids": media_ids})
                    resp.headers.update(headers)
                    return resp
                media.append({k: m[k] for k in ("id", "media_key", "alt_text", "mime", "size")})
            if reply_to is not None and self._find(reply_to) is None:
                resp = json_response(403, {
                    "detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
                    "type": "about:blank", "title": "Forbidden", "status": 403,
                }, headers, content_type="application/problem+json")
                return resp
            if text and self._is_duplicate(who, text):
                resp = self.error_response(req, 403, Fault.duplicate())
                resp.headers.update(headers)
                return resp
            if self.daily_post_cap is not None:
                day_ago = datetime.now(timezone.utc) - timedelta(hours=24)
                recent = sorted(p["created_at"] for p in self._posts
                                if p["author_id"] == who.id and p["created_at"] > day_ago)
                cap_headers = {
                    "x-user-limit-24hour-limit": str(self.daily_post_cap),
                    "x-user-limit-24hour-remaining": str(max(self.daily_post_cap - len(recent) - 1, 0)),
                    "x-user-limit-24hour-reset": str(int((recent[0] if recent else datetime.now(timezone.utc)).timestamp() + 86400)),
                }
                headers.update(cap_headers)
                if len(recent) >= self.daily_post_cap:
                    cap_headers["x-user-limit-24hour-remaining"] = "0"
                    resp = self.error_response(req, 429)
                    resp.headers.update(headers)
                    resp.headers.update(cap_headers)
                    return resp
            post = self._store(who, text, datetime.now(timezone.utc), reply_to, media)
        headers["location"] = f"https://api.twitter.com/2/tweets/{post['id']}"
        return json_response(201, {"data": {"edit_history_tweet_ids": [post["id"]], "id": post["id"],
                                            "text": post["api_text"]}}, headers)

    def _is_duplicate(self, acct: XAccount, text: str) -> bool:
        cutoff = None
        if self.duplicate_window is not None:
            cutoff = datetime.now(timezone.utc) - timedelta(seconds=self.duplicate_window)
        for p in self._posts:
            if p["author_id"] == acct.id and not p["deleted"] and p["text"].strip() == text.strip():
                if cutoff is None or p["created_at"] >= cutoff:
                    return True
        return False

    def _delete_tweet(self, req: Request) -> Response:
        who = self._authenticate(req)
        if isinstance(who, Response):
            return who
        headers, limited = self._limited(req, "delete", who)
        if limited:
            return limited
        with self._lock:
            post = self._find(req.params["id"])
            if post is None:
                return json_response(200, {"data": {"deleted": False}}, headers)
            if post["author_id"] != who.id:
                resp = self.error_response(req, 403, message="You are not allowed to delete this Tweet.")
                resp.headers.update(headers)
                return resp
            post["deleted"] = True
        return json_response(200, {"data": {"deleted": True}}, headers)

    def _get_tweet(self, req: Request) -> Response:
        who = self._authenticate(req, allow_bearer=True)
        if isinstance(who, Response):
            return who
        headers, limited = self._limited(req, "tweet", who)
        if limited:
            return limited
        post = self._find(req.params["id"])
        if post is None:
            return json_response(200, {"errors": [{
                "value": req.params["id"], "detail": f"Could not find tweet with id: [{req.params['id']}].",
                "title": "Not Found Error", "resource_type": "tweet", "parameter": "id",
                "resource_id": req.params["id"], "type": "https://api.twitter.com/2/problems/resource-not-found"}]},
                headers)
        return json_response(200, {"data": self._tweet_json(post, self._fields(req, "tweet.fields"))}, headers)

    def _me(self, req: Request) -> Response:
        who = self._authenticate(req)
        if isinstance(who, Response):
            return who
        headers, limited = self._limited(req, "me", who)
        if limited:
            return limited
        return json_response(200, {"data": self._user_json(who, self._fields(req, "user.fields"))}, headers)

    def _me_v1(self, req: Request) -> Response:
        who = self._authenticate(req)
        if isinstance(who, Response):
            return who
        headers, limited = self._limited(req, "me_v1", who)
        if limited:
            return limited
        return json_response(200, {
            "id": int(who.id), "id_str": who.id, "name": who.name, "screen_name": who.username,
            "created_at": who.created_at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
            "statuses_count": len(self.posts_for(who)), "protected": False, "verified": False,
        }, headers)

    def _timeline(self, req: Request) -> Response:
        who = self._authenticate(req, allow_bearer=True)
        if isinstance(who, Response):
            return who
        headers, limited = self._limited(req, "timeline", who)
        if limited:
            return limited

        def bad(resp: Response) -> Response:
            resp.headers.update(headers)
            return resp

        target = self._account_by_id(req.params["id"])
        if target is None:
            uid = req.params["id"]
            return json_response(200, {"errors": [{
                "value": uid, "detail": f"Could not find user with id: [{uid}].", "title": "Not Found Error",
                "resource_type": "user", "parameter": "id", "resource_id": uid,
                "type": "https://api.twitter.com/2/problems/resource-not-found"}]}, headers)
        raw_max = req.arg("max_results")
        try:
            max_results = int(raw_max) if raw_max is not None else 10
        except ValueError:
            return bad(self._invalid(f"The `max_results` query parameter value [{raw_max}] is not a number",
                                     {"max_results": [raw_max]}))
        if not 5 <= max_results <= 100:
            return bad(self._invalid(
                f"The `max_results` query parameter value [{raw_max}] is not between 5 and 100",
                {"max_results": [raw_max]}))
        exclude = self._fields(req, "exclude")
        with self._lock:
            visible = [p for p in self._posts if p["author_id"] == target.id and not p["deleted"]]
        visible.sort(key=lambda p: int(p["id"]), reverse=True)
        visible = visible[: self.timeline_cap]
        if "replies" in exclude:
            visible = [p for p in visible if not p["reply_to"]]
        since_id, until_id = req.arg("since_id"), req.arg("until_id")
        if since_id:
            visible = [p for p in visible if int(p["id"]) > int(since_id)]
        if until_id:
            visible = [p for p in visible if int(p["id"]) < int(until_id)]
        if req.arg("start_time"):
            start = _parse_time(req.arg("start_time"))
            visible = [p for p in visible if p["created_at"] >= start]
        if req.arg("end_time"):
            end = _parse_time(req.arg("end_time"))
            visible = [p for p in visible if p["created_at"] <= end]
        token = req.arg("pagination_token")
        if token:
            try:
                below = int(base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode().split(":")[1])
            except Exception:
                return bad(self._invalid(f"The `pagination_token` query parameter value [{token}] is not valid",
                                         {"pagination_token": [token]}))
            visible = [p for p in visible if int(p["id"]) < below]
        page, rest = visible[:max_results], visible[max_results:]
        fields = self._fields(req, "tweet.fields")
        expansions = self._fields(req, "expansions")
        if "attachments.media_keys" in expansions:
            fields = fields | {"attachments"}
        if not page:
            return json_response(200, {"meta": {"result_count": 0}}, headers)
        body: dict[str, Any] = {"data": [self._tweet_json(p, fields) for p in page]}
        includes: dict[str, Any] = {}
        if "attachments.media_keys" in expansions:
            mfields = self._fields(req, "media.fields")
            media = [self._media_json(m, mfields) for p in page for m in p["media"]]
            if media:
                includes["media"] = media
        if "author_id" in expansions:
            includes["users"] = [self._user_json(target, self._fields(req, "user.fields"))]
        if includes:
            body["includes"] = includes
        meta: dict[str, Any] = {"result_count": len(page), "newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if rest:
            meta["next_token"] = base64.b32encode(f"next:{page[-1]['id']}".encode()).decode().rstrip("=").lower()
        body["meta"] = meta
        return json_response(200, body, headers)

    # media -------------------------------------------------------------------------
    def _store_media(self, who: XAccount, data: bytes, mime: str) -> dict[str, Any]:
        w, h = _image_size(data)
        with self._lock:
            mid = self._new_id(datetime.now(timezone.utc))
            m = {"id": mid, "media_key": f"3_{mid}", "owner": who.id, "mime": mime, "size": len(data),
                 "alt_text": None, "w": w, "h": h, "created": time.time()}
            self._media[mid] = m
            return dict(m)

    def _upload_common(self, req: Request, who: XAccount) -> dict[str, Any] | Response:
        files = req.files()
        form = req.form()
        if "media" in files:
            data = files["media"]["data"]
            mime = files["media"]["content_type"]
        elif "media_data" in form:
            data = base64.b64decode(form["media_data"][0])
            mime = "application/octet-stream"
        else:
            command = (form.get("command") or [req.arg("command") or ""])[0]
            if command:
                return self.error_response(req, 400, message=f"chunked upload ({command}) is not supported by the fake")
            return self.error_response(req, 400, message="media parameter is missing.")
        sniffed = _sniff_mime(data)
        if sniffed is None:
            return self.error_response(req, 400, message="media type unrecognized.")
        return self._store_media(who, data, sniffed or mime)

    def _media_upload_v1(self, req: Request) -> Response:
        who = self._authenticate(req)
        if isinstance(who, Response):
            return who
        headers, limited = self._limited(req, "media", who)
        if limited:
            return limited
        m = self._upload_common(req, who)
        if isinstance(m, Response):
            m.headers.update(headers)
            return m
        return json_response(200, {
            "media_id": int(m["id"]), "media_id_string": m["id"], "media_key": m["media_key"],
            "size": m["size"], "expires_after_secs": 86400,
            "image": {"image_type": m["mime"], "w": m["w"], "h": m["h"]},
        }, headers)

    def _media_status_v1(self, req: Request) -> Response:
        who = self._authenticate(req)
        if isinstance(who, Response):
            return who
        m = self.media.get(req.arg("media_id") or "")
        if m is None:
            return self.error_response(req, 404)
        return json_response(200, {"media_id": int(m["id"]), "media_id_string": m["id"],
                                   "processing_info": {"state": "succeeded", "progress_percent": 100}})

    def _media_upload_v2(self, req: Request) -> Response:
        who = self._authenticate(req)
        if isinstance(who, Response):
            return who
        headers, limited = self._limited(req, "media", who)
        if limited:
            return limited
        m = self._upload_common(req, who)
        if isinstance(m, Response):
            m.headers.update(headers)
            return m
        return json_response(200, {"data": {
            "id": m["id"], "media_key": m["media_key"], "size": m["size"], "expires_after_secs": 86400,
            "image": {"image_type": m["mime"], "w": m["w"], "h": m["h"]},
        }}, headers)

    def _set_alt(self, req: Request, who: XAccount, media_id: str, alt: str | None) -> Response | None:
        with self._lock:
            m = self._media.get(media_id)
            if m is None or m["owner"] != who.id:
                return self.error_response(req, 400, message="Invalid media id.")
            if alt is not None and len(alt) > 1000:
                return self.error_response(req, 400, message="Alt text is too long.")
            m["alt_text"] = alt
        return None

    def _media_metadata_v1(self, req: Request) -> Response:
        who = self._authenticate(req)
        if isinstance(who, Response):
            return who
        headers, limited = self._limited(req, "media_metadata", who)
        if limited:
            return limited
        payload = req.json() or {}
        err = self._set_alt(req, who, str(payload.get("media_id")), (payload.get("alt_text") or {}).get("text"))
        if err:
            err.headers.update(headers)
            return err
        return Response(200, None, headers, content_type="")

    def _media_metadata_v2(self, req: Request) -> Response:
        who = self._authenticate(req)
        if isinstance(who, Response):
            return who
        headers, limited = self._limited(req, "media_metadata", who)
        if limited:
            return limited
        payload = req.json() or {}
        alt = ((payload.get("metadata") or {}).get("alt_text") or {}).get("text")
        err = self._set_alt(req, who, str(payload.get("id")), alt)
        if err:
            err.headers.update(headers)
            return err
        return json_response(200, {"data": {"id": str(payload.get("id")),
                                            "associated_metadata": {"alt_text": {"text": alt}}}}, headers)


def _sniff_mime(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _image_size(data: bytes) -> tuple[int, int]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    return 1, 1
