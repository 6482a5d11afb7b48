"""FakeMastodon: a loopback Mastodon server for Mastodon.py 2.x.

Point ``Mastodon(api_base_url=fake.url, access_token=fake.account.access_token,
ratelimit_method="throw")`` at it (``tests.fakes.clients.mastodon_client(fake)``).
Authenticated endpoints need ``Authorization: Bearer <token>`` of a known account, else
401 ``{"error": "The access token is invalid"}``.

Endpoints (endpoint name for ``inject`` in brackets):

* ``GET /api/v1/accounts/verify_credentials`` [me] -- the CredentialAccount (with ``source``).
* ``GET /api/v1/accounts/:id`` [account], ``GET /api/v1/accounts/lookup?acct=`` [account]
* ``GET /api/v1/accounts/:id/statuses`` [timeline] -- newest first; ``limit`` (default 20,
  max 40), ``max_id``, ``since_id``, ``min_id``, ``exclude_replies``, ``only_media``,
  ``pinned``; ``Link`` header with ``rel="next"`` (``max_id``; only when the page is full)
  and ``rel="prev"`` (``min_id``), like Mastodon.
* ``POST /api/v1/statuses`` [post] -- form or JSON (``status``, ``in_reply_to_id``,
  ``media_ids[]``, ``visibility``, ``language``, ``sensitive``, ``spoiler_text``).  Honours
  ``Idempotency-Key``: the same key for the same account within ``idempotency_ttl`` (3600 s)
  returns the original status (200) and creates nothing.  More than ``max_characters``
  (500; URLs count 23) -> 422 ``"Validation failed: Text character limit of 500 exceeded"``.
* ``GET/DELETE /api/v1/statuses/:id`` [status]
* ``POST /api/v2/media`` and ``POST /api/v1/media`` [media] -- multipart ``file`` +
  ``description`` (alt text) + ``focus``; answers 200 with ``url`` set (images are
  "processed" at once).  ``GET/PUT /api/v1/media/:id`` [media_update].
* ``GET /api/v1/instance`` and ``GET /api/v2/instance`` [instance] -- no auth; version
  ``fake.version`` (default "4.3.2", with ``api_versions.mastodon``).  Mastodon.py's
  ``media_post`` reads these once to choose between v1 and v2 media upload.

Every authenticated response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (ISO 8601, like Mastodon); budgets in
``FakeMastodon.default_rate_limits``; an exhausted budget answers 429.
``Fault.rate_limit(reset_in=s)`` sends ``X-RateLimit-Reset`` as an ISO time; without
``reset_in`` the 429 has no reset header.

Posts (``fake.posts``): dicts with ``id`` (str), ``account`` (username), ``account_id``,
``text`` (as submitted), ``content`` (HTML as served), ``url``, ``uri``, ``created_at``
(aware UTC datetime), ``reply_to`` (str | None), ``visibility``, ``language``,
``media_ids``, ``media`` (list of {id, description, mime, size}), ``idempotency_key``,
``deleted``.
"""

from __future__ import annotations

import copy
import html
import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from .base import FakeServer, Fault, Request, Response, iso_time, json_response

try:
    import regex as _regex
except Exception:  # pragma: no cover
    _regex = None

__all__ = ["FakeMastodon", "MastodonAccount", "mastodon_snowflake"]

_ERRORS = {
    400: "Bad request", 401: "The access token is invalid", 403: "This action is not allowed",
    404: "Record not found", 405: "Method not allowed", 422: "Validation failed",
    429: "Too many requests", 500: "We're sorry, but something went wrong on our end.",
    502: "Bad gateway", 503: "Service unavailable", 504: "Gateway timeout",
}
_TOKEN_RE = re.compile(r"(?P<url>https?://[^\s<]+)|(?P<tag>(?<![\w#])#(?P<tagname>\w+))|(?P<nl>\n)")


def mastodon_snowflake(dt: datetime, seq: int = 0) -> int:
    """Mastodon-style id: milliseconds since the epoch << 16 | sequence."""
    return (int(dt.timestamp() * 1000) << 16) | (seq & 0xFFFF)


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


@dataclass
class MastodonAccount:
    id: str
    username: str
    display_name: str
    access_token: str
    created_at: datetime = field(default_factory=lambda: datetime(2015, 1, 5, tzinfo=timezone.utc))


class FakeMastodon(FakeServer):
    account_name = 'username'
    extra_state = ('_media', '_idem')

    @staticmethod
    def alt_texts(post: dict[str, Any]) -> list[str | None]:
        return [m["description"] for m in post["media"]]

    default_rate_limits = {
        "post": (300, 3 * 3600),
        "media": (30, 1800),
        "media_update": (300, 300),
        "me": (300, 300),
        "account": (300, 300),
        "timeline": (300, 300),
        "status": (300, 300),
    }

    def __init__(self, username: str = "teamsaantstuur", display_name: str = "Teams aan het stuur!", *,
                 version: str = "4.3.2", max_characters: int = 500, idempotency_ttl: float = 3600) -> None:
        super().__init__()
        self.version = version
        self.max_characters = max_characters
        self.idempotency_ttl = idempotency_ttl
        self._media: dict[str, dict[str, Any]] = {}
        self._idem: dict[tuple[str, str], tuple[str, float]] = {}
        self._seq = itertools.count(1)
        self._last_id = 0
        self.account = self.add_account(username, display_name)

        r = self.route
        r("GET", "/api/v1/accounts/verify_credentials", "me", self._verify_credentials)
        r("GET", "/api/v1/accounts/lookup", "account", self._lookup)
        r("GET", "/api/v1/accounts/{id}", "account", self._get_account)
        r("GET", "/api/v1/accounts/{id}/statuses", "timeline", self._account_statuses)
        r("POST", "/api/v1/statuses", "post", self._post_status)
        r("GET", "/api/v1/statuses/{id}", "status", self._get_status)
        r("DELETE", "/api/v1/statuses/{id}", "status", self._delete_status)
        r("POST", "/api/v2/media", "media", self._post_media)
        r("POST", "/api/v1/media", "media", self._post_media)
        r("GET", "/api/v1/media/{id}", "media_update", self._get_media)
        r("PUT", "/api/v1/media/{id}", "media_update", self._update_media)
        r("GET", "/api/v1/instance", "instance", self._instance_v1)
        r("GET", "/api/v2/instance", "instance", self._instance_v2)

    # -- accounts / state --------------------------------------------------------------
    def add_account(self, username: str, display_name: str | None = None) -> MastodonAccount:
        with self._lock:
            acct = MastodonAccount(
                id=str(109_000_000_000_000_000 + len(self._accounts) + 1), username=username,
                display_name=display_name or username, access_token=secrets.token_urlsafe(32),
            )
            self._accounts[acct.access_token] = acct
            return acct

    def _account_by_id(self, aid: str) -> MastodonAccount | None:
        with self._lock:
            return next((a for a in self._accounts.values() if a.id == aid), None)

    @property
    def media(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._media)

    def seed_post(self, text: str, *, created_at: datetime | None = None,
                  account: MastodonAccount | None = None, reply_to: str | None = None,
                  visibility: str = "public") -> dict[str, Any]:
        """Store a status directly (no HTTP)."""
        return self._store(account or self.account, text, created_at or datetime.now(timezone.utc),
                           reply_to, [], visibility, None, None)

    def _base(self) -> str:
        return self.url if self._server is not None else "http://127.0.0.1:0"

    def _new_id(self, created: datetime) -> str:
        with self._lock:
            nid = mastodon_snowflake(created, next(self._seq))
            if created >= datetime.now(timezone.utc) - timedelta(seconds=5):
                nid = max(nid, self._last_id + 1)
            self._last_id = max(self._last_id, nid)
            return str(nid)

    def _store(self, acct: MastodonAccount, text: str, created: datetime, reply_to: str | None,
               media: list[dict[str, Any]], visibility: str, language: str | None,
               idem_key: str | None) -> dict[str, Any]:
        with self._lock:
            sid = self._new_id(created)
            parent = self._find(reply_to) if reply_to else None
            post = {
                "id": sid, "account": acct.username, "account_id": acct.id, "text": text,
                "content": self._html(text), "url": f"{self._base()}/@{acct.username}/{sid}",
                "uri": f"{self._base()}/users/{acct.username}/statuses/{sid}", "created_at": created,
                "reply_to": reply_to, "in_reply_to_account_id": parent["account_id"] if parent else None,
                "visibility": visibility, "language": language,
                "media_ids": [m["id"] for m in media],
                "media": [{k: m[k] for k in ("id", "description", "mime", "size")} for m in media],
                "idempotency_key": idem_key, "deleted": False,
            }
            self._posts.append(post)
            self._posts.sort(key=lambda p: int(p["id"]))
            return copy.deepcopy(post)

    def _find(self, sid: str | None) -> dict[str, Any] | None:
        with self._lock:
            return next((p for p in self._posts if p["id"] == str(sid) and not p["deleted"]), None)

    # -- rendering ---------------------------------------------------------------------
    def _html(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        for m in _TOKEN_RE.finditer(text):
            out.append(html.escape(text[pos:m.start()], quote=False))
            if m.group("url"):
                url = m.group("url")
                trail = ""
                while url and url[-1] in ".,!?;:)'\"":
                    trail = url[-1] + trail
                    url = url[:-1]
                scheme, rest = url.split("://", 1)
                out.append(
                    f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener noreferrer" '
                    f'translate="no"><span class="invisible">{scheme}://</span>'
                    f'<span class="">{html.escape(rest)}</span><span class="invisible"></span></a>'
                    + html.escape(trail, quote=False))
            elif m.group("tag"):
                tag = m.group("tagname")
                out.append(f'<a href="{self._base()}/tags/{tag.lower()}" class="mention hashtag" rel="tag">'
                           f'#<span>{html.escape(tag)}</span></a>')
            else:
                out.append("\n")
            pos = m.end()
        out.append(html.escape(text[pos:], quote=False))
        body = "".join(out)
        paras = [p for p in re.split(r"\n{2,}", body) if p != ""]
        return "".join("<p>" + p.replace("\n", "<br />") + "</p>" for p in paras) or "<p></p>"

    def _length(self, text: str) -> int:
        counted = re.sub(r"https?://[^\s]+", "x" * 23, text)
        if _regex is not None:
            return len(_regex.findall(r"\X", counted))
        return len(counted)

    def _account_json(self, acct: MastodonAccount, credential: bool = False) -> dict[str, Any]:
        with self._lock:
            mine = [p for p in self._posts if p["account_id"] == acct.id and not p["deleted"]]
        d = {
            "id": acct.id, "username": acct.username, "acct": acct.username,
            "display_name": acct.display_name, "locked": False, "bot": False, "discoverable": True,
            "indexable": True, "group": False, "created_at": iso_time(acct.created_at), "note": "",
            "url": f"{self.url}/@{acct.username}", "uri": f"{self.url}/users/{acct.username}",
            "avatar": f"{self.url}/avatars/original/missing.png",
            "avatar_static": f"{self.url}/avatars/original/missing.png",
            "header": f"{self.url}/headers/original/missing.png",
            "header_static": f"{self.url}/headers/original/missing.png",
            "followers_count": 0, "following_count": 0, "statuses_count": len(mine),
            "last_status_at": mine[-1]["created_at"].strftime("%Y-%m-%d") if mine else None,
            "hide_collections": False, "noindex": False, "emojis": [], "roles": [], "fields": [],
        }
        if credential:
            d["source"] = {"privacy": "public", "sensitive": False, "language": "nl", "note": "",
                           "fields": [], "follow_requests_count": 0, "hide_collections": False,
                           "discoverable": True, "indexable": True}
            d["role"] = {"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": False}
        return d

    def _media_json(self, m: dict[str, Any]) -> dict[str, Any]:
        w, h = m.get("w", 1), m.get("h", 1)
        return {
            "id": m["id"], "type": "image", "url": f"{self.url}/system/media_attachments/{m['id']}/original.png",
            "preview_url": f"{self.url}/system/media_attachments/{m['id']}/small.png", "remote_url": None,
            "preview_remote_url": None, "text_url": None,
            "meta": {"original": {"width": w, "height": h, "size": f"{w}x{h}", "aspect": w / h if h else 1},
                     "small": {"width": w, "height": h, "size": f"{w}x{h}", "aspect": w / h if h else 1}},
            "description": m.get("description"), "blurhash": None,
        }

    def _status_json(self, post: dict[str, Any]) -> dict[str, Any]:
        acct = self._account_by_id(post["account_id"])
        with self._lock:
            media = [self._media_json(self._media[mid]) for mid in post["media_ids"] if mid in self._media]
        tags = [{"name": t.lower(), "url": f"{self.url}/tags/{t.lower()}"}
                for t in re.findall(r"(?<![\w#])#(\w+)", post["text"])]
        return {
            "id": post["id"], "created_at": iso_time(post["created_at"]), "in_reply_to_id": post["reply_to"],
            "in_reply_to_account_id": post["in_reply_to_account_id"], "sensitive": False, "spoiler_text": "",
            "visibility": post["visibility"], "language": post["language"], "uri": post["uri"],
            "url": post["url"], "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
            "edited_at": None, "favourited": False, "reblogged": False, "muted": False, "bookmarked": False,
            "pinned": False, "content": post["content"], "filtered": [], "reblog": None,
            "application": {"name": "Praat mee", "website": None},
            "account": self._account_json(acct) if acct else None,
            "media_attachments": media, "mentions": [], "tags": tags, "emojis": [], "card": None, "poll": None,
        }

    # -- auth / limits / errors ----------------------------------------------------------
    def _authenticate(self, req: Request) -> MastodonAccount | Response:
        header = req.header("authorization") or ""
        if header.startswith("Bearer "):
            with self._lock:
                acct = self._accounts.get(header[len("Bearer "):].strip())
            if acct is not None:
                return acct
        return self.error_response(req, 401)

    def _limited(self, req: Request, endpoint: str, acct: MastodonAccount) -> tuple[dict[str, str], Response | None]:
        budget = self._consume_budget(acct.id, endpoint)
        if budget is None:
            return {}, None
        limit, remaining, reset = budget
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(remaining, 0)),
                   **self.reset_header(reset)}
        if remaining < 0:
            resp = self.error_response(req, 429)
            resp.headers.update(headers)
            return headers, resp
        return headers, None

    def reset_header(self, reset_epoch: float) -> dict[str, str]:
        dt = datetime.fromtimestamp(reset_epoch, timezone.utc)
        return {"X-RateLimit-Reset": dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}

    def error_response(self, req: Request, status: int, fault: Fault | None = None,
                       message: str | None = None) -> Response:
        return json_response(status, {"error": message or _ERRORS.get(status, f"HTTP {status}")})

    def _guard(self, req: Request, endpoint: str) -> tuple[MastodonAccount, dict[str, str]] | Response:
        acct = self._authenticate(req)
        if isinstance(acct, Response):
            return acct
        headers, limited = self._limited(req, endpoint, acct)
        if limited is not None:
            return limited
        return acct, headers

    def _params(self, req: Request) -> dict[str, Any]:
        if req.content_type == "application/json":
            return req.json() or {}
        out: dict[str, Any] = {}
        for k, vals in {**req.form(), **req.query}.items():
            if k.endswith("[]"):
                out[k[:-2]] = vals
            else:
                out[k] = vals[0] if vals else None
        return out

    # -- handlers ----------------------------------------------------------------------
    def _verify_credentials(self, req: Request) -> Response:
        g = self._guard(req, "me")
        if isinstance(g, Response):
            return g
        acct, headers = g
        return json_response(200, self._account_json(acct, credential=True), headers)

    def _get_account(self, req: Request) -> Response:
        g = self._guard(req, "account")
        if isinstance(g, Response):
            return g
        _, headers = g
        target = self._account_by_id(req.params["id"])
        if target is None:
            return json_response(404, {"error": "Record not found"}, headers)
        return json_response(200, self._account_json(target), headers)

    def _lookup(self, req: Request) -> Response:
        g = self._guard(req, "account")
        if isinstance(g, Response):
            return g
        _, headers = g
        name = (req.arg("acct") or "").lstrip("@").split("@")[0]
        target = next((a for a in self.accounts() if a.username == name), None)
        if target is None:
            return json_response(404, {"error": "Record not found"}, headers)
        return json_response(200, self._account_json(target), headers)

    def _account_statuses(self, req: Request) -> Response:
        g = self._guard(req, "timeline")
        if isinstance(g, Response):
            return g
        _, headers = g
        aid = req.params["id"]
        target = self._account_by_id(aid)
        if target is None:
            return json_response(404, {"error": "Record not found"}, headers)
        try:
            limit = min(max(int(req.arg("limit") or 20), 1), 40)
        except ValueError:
            limit = 20
        with self._lock:
            items = [p for p in self._posts if p["account_id"] == aid and not p["deleted"]
                     and p["visibility"] in ("public", "unlisted", "private")]
        items.sort(key=lambda p: int(p["id"]), reverse=True)
        if _truthy(req.arg("pinned", "0")):
            items = []
        if _truthy(req.arg("exclude_replies", "0")):
            items = [p for p in items if not p["reply_to"]]
        if _truthy(req.arg("only_media", "0")):
            items = [p for p in items if p["media_ids"]]
        try:
            max_id, since_id, min_id = (int(req.arg(k)) if req.arg(k) else None
                                        for k in ("max_id", "since_id", "min_id"))
        except ValueError:
            return json_response(400, {"error": "Invalid id"}, headers)
        if max_id is not None:
            items = [p for p in items if int(p["id"]) < max_id]
        if since_id is not None:
            items = [p for p in items if int(p["id"]) > since_id]
        if min_id is not None:
            items = [p for p in items if int(p["id"]) > min_id]
            page = list(reversed(list(reversed(items))[:limit]))  # the `limit` oldest above min_id
        else:
            page = items[:limit]
        keep = {k: v[0] for k, v in req.query.items() if k not in ("max_id", "since_id", "min_id", "limit") and v}
        base = f"{self.url}/api/v1/accounts/{aid}/statuses"
        links = []
        if page and len(page) == limit:
            links.append(f'<{base}?{urlencode({**keep, "limit": limit, "max_id": page[-1]["id"]})}>; rel="next"')
        if page:
            links.append(f'<{base}?{urlencode({**keep, "limit": limit, "min_id": page[0]["id"]})}>; rel="prev"')
        if links:
            headers["Link"] = ", ".join(links)
        return json_response(200, [self._status_json(p) for p in page], headers)

    def _post_status(self, req: Request) -> Response:
        g = self._guard(req, "post")
        if isinstance(g, Response):
            return g
        acct, headers = g
        key = req.header("idempotency-key")
        now = time.time()
        with self._lock:
            if key:
                hit = self._idem.get((acct.id, key))
                if hit and now - hit[1] < self.idempotency_ttl:
                    post = self._find(hit[0]) or next((p for p in self._posts if p["id"] == hit[0]), None)
                    if post is not None:
                        return json_response(200, self._status_json(post), headers)
            p = self._params(req)
            text = p.get("status") or ""
            media_ids = p.get("media_ids") or []
            if isinstance(media_ids, str):
                media_ids = [media_ids]
            media_ids = [str(m) for m in media_ids]
            if p.get("scheduled_at"):
                return json_response(422, {"error": "Validation failed: scheduled posts are not supported by the fake"}, headers)
            if not text.strip() and not media_ids:
                return json_response(422, {"error": "Validation failed: Text can't be blank"}, headers)
            if self._length(text) > self.max_characters:
                return json_response(422, {"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"}, headers)
            if len(media_ids) > 4:
                return json_response(422, {"error": "Validation failed: Media attachments exceed the limit of 4"}, headers)
            media = []
            for mid in media_ids:
                m = self._media.get(mid)
                if m is None or m["owner"] != acct.id or m.get("status_id"):
                    return json_response(422, {"error": f"Validation failed: Media {mid} not found or already attached"}, headers)
                media.append(m)
            reply_to = p.get("in_reply_to_id")
            reply_to = str(reply_to) if reply_to not in (None, "") else None
            if reply_to is not None and self._find(reply_to) is None:
                return json_response(404, {"error": "The post you are trying to reply to does not appear to exist."}, headers)
            visibility = (p.get("visibility") or "public").lower()
            if visibility not in ("public", "unlisted", "private", "direct"):
                return json_response(422, {"error": "Validation failed: Visibility is not included in the list"}, headers)
            post = self._store(acct, text, datetime.now(timezone.utc), reply_to, media, visibility,
                               p.get("language"), key)
            for m in media:
                m["status_id"] = post["id"]
            if key:
                self._idem[(acct.id, key)] = (post["id"], now)
            return json_response(200, self._status_json(post), headers)

    def _get_status(self, req: Request) -> Response:
        g = self._guard(req, "status")
        if isinstance(g, Response):
            return g
        _, headers = g
        post = self._find(req.params["id"])
        if post is None:
            return json_response(404, {"error": "Record not found"}, headers)
        return json_response(200, self._status_json(post), headers)

    def _delete_status(self, req: Request) -> Response:
        g = self._guard(req, "status")
        if isinstance(g, Response):
            return g
        acct, headers = g
        with self._lock:
            post = self._find(req.params["id"])
            if post is None or post["account_id"] != acct.id:
                return json_response(404, {"error": "Record not found"}, headers)
            body = self._status_json(post)
            body["text"] = post["text"]
            post["deleted"] = True
        return json_response(200, body, headers)

    def _post_media(self, req: Request) -> Response:
        g = self._guard(req, "media")
        if isinstance(g, Response):
            return g
        acct, headers = g
        files = req.files()
        if "file" not in files:
            return json_response(422, {"error": "Validation failed: File can't be blank"}, headers)
        f = files["file"]
        form = req.form()
        desc = (form.get("description") or [None])[0]
        if desc is not None and len(desc) > 1500:
            return json_response(422, {"error": "Validation failed: Description is too long (maximum is 1500 characters)"}, headers)
        w, h = _image_size(f["data"])
        with self._lock:
            mid = self._new_id(datetime.now(timezone.utc))
            m = {"id": mid, "owner": acct.id, "mime": f["content_type"], "size": len(f["data"]),
                 "description": desc, "focus": (form.get("focus") or [None])[0], "w": w, "h": h,
                 "filename": f["filename"], "status_id": None}
            self._media[mid] = m
            return json_response(200, self._media_json(m), headers)

    def _get_media(self, req: Request) -> Response:
        g = self._guard(req, "media_update")
        if isinstance(g, Response):
            return g
        acct, headers = g
        with self._lock:
            m = self._media.get(req.params["id"])
            if m is None or m["owner"] != acct.id:
                return json_response(404, {"error": "Record not found"}, headers)
            return json_response(200, self._media_json(m), headers)

    def _update_media(self, req: Request) -> Response:
        g = self._guard(req, "media_update")
        if isinstance(g, Response):
            return g
        acct, headers = g
        p = self._params(req)
        with self._lock:
            m = self._media.get(req.params["id"])
            if m is None or m["owner"] != acct.id:
                return json_response(404, {"error": "Record not found"}, headers)
            if "description" in p:
                m["description"] = p["description"]
                for post in self._posts:
                    for pm in post["media"]:
                        if pm["id"] == m["id"]:
                            pm["description"] = p["description"]
            return json_response(200, self._media_json(m), headers)

    def _instance_v1(self, req: Request) -> Response:
        host = self.url.split("://", 1)[1]
        return json_response(200, {
            "uri": host, "title": "Fake Mastodon", "short_description": "", "description": "",
            "email": "admin@example.invalid", "version": self.version,
            "urls": {"streaming_api": self.url.replace("http", "ws", 1)},
            "stats": {"user_count": len(self.accounts()), "status_count": len(self.posts), "domain_count": 1},
            "thumbnail": None, "languages": ["nl", "en"], "registrations": False,
            "approval_required": False, "invites_enabled": False,
            "configuration": {
                "accounts": {"max_featured_tags": 10},
                "statuses": {"max_characters": self.max_characters, "max_media_attachments": 4,
                             "characters_reserved_per_url": 23},
                "media_attachments": {"supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
                                      "image_size_limit": 16777216, "image_matrix_limit": 33177600,
                                      "video_size_limit": 103809024, "video_frame_rate_limit": 120,
                                      "video_matrix_limit": 8294400},
                "polls": {"max_options": 4, "max_characters_per_option": 50,
                          "min_expiration": 300, "max_expiration": 2629746},
            },
            "contact_account": None, "rules": [],
        })

    def _instance_v2(self, req: Request) -> Response:
        host = self.url.split("://", 1)[1]
        return json_response(200, {
            "domain": host, "title": "Fake Mastodon", "version": self.version,
            "source_url": "https://github.com/mastodon/mastodon", "description": "",
            "usage": {"users": {"active_month": len(self.accounts())}},
            "thumbnail": {"url": f"{self.url}/packs/media/images/preview.png"},
            "icon": [], "languages": ["nl", "en"],
            "configuration": {
                "urls": {"streaming": self.url.replace("http", "ws", 1), "status": None},
                "vapid": {"public_key": ""},
                "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                "statuses": {"max_characters": self.max_characters, "max_media_attachments": 4,
                             "characters_reserved_per_url": 23},
                "media_attachments": {"supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
                                      "description_limit": 1500, "image_size_limit": 16777216,
                                      "image_matrix_limit": 33177600, "video_size_limit": 103809024,
                                      "video_frame_rate_limit": 120, "video_matrix_limit": 8294400},
                "polls": {"max_options": 4, "max_characters_per_option": 50,
                          "min_expiration": 300, "max_expiration": 2629746},
                "translation": {"enabled": False},
            },
            "registrations": {"enabled": False, "approval_required": False, "message": None, "url": None},
            "api_versions": {"mastodon": 2},
            "contact": {"email": "admin@example.invalid", "account": None},
            "rules": [],
        })


def _image_size(data: bytes) -> tuple[int, int]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 1, 1
