"""FakeThreads: a loopback subset of Meta's Threads Graph API (https://graph.threads.net).

Point the platform at it with ``CAMPAIGN_THREADS_API_BASE=fake.url``; paths carry the version
(``/v1.0/...``) except the token refresh. The token comes as ``Authorization: Bearer`` or as
the ``access_token`` parameter; parameters of a POST come in the query string or a form body.

Endpoints (name for ``inject`` in brackets):

* ``GET /v1.0/me`` [me] -- ``{id, username}`` (fields as asked).
* ``POST /v1.0/{user}/threads`` [container] -- ``media_type`` TEXT | IMAGE | CAROUSEL, ``text``
  (<= 500, an emoji counts its UTF-8 bytes; <= 5 links), ``image_url`` (http(s)), ``alt_text``,
  ``is_carousel_item``, ``children`` (comma-separated container ids), ``reply_to_id``,
  ``link_attachment`` (TEXT only) -> ``{id}``.
* ``GET /v1.0/{id}`` [object] -- a container (``status`` IN_PROGRESS for the first
  ``fake.processing_polls`` polls, then FINISHED, PUBLISHED once published, ERROR when
  ``fake.fail_images`` and it has an image) or a published post (the fields of a thread).
* ``POST /v1.0/{user}/threads_publish`` [post] -- ``creation_id`` -> ``{id}`` of the new post;
  a container is published once (a second time: 400).  No idempotency, like Threads.
* ``GET /v1.0/{user}/threads`` [timeline] -- the user's top-level threads: ``fields``,
  ``limit`` (1..100, default 25), ``since``/``until`` (Unix seconds), ``after`` cursor; newest
  first; ``{data, paging: {cursors: {before, after}, next?}}`` (``next`` only when more follow).
* ``GET /v1.0/{user}/replies`` [replies] -- the same for the user's replies (thread parts after
  the first are replies), each with ``replied_to``/``root_post`` ``{id}``.
* ``GET /v1.0/{media}/insights`` [insights] -- ``metric`` list; 403 code 10 unless
  ``fake.insights_allowed``.
* ``GET /refresh_access_token`` [refresh] -- ``grant_type=th_refresh_token``,
  ``access_token`` -> ``{access_token, token_type, expires_in}`` (a new token; the old one
  stays valid until it expires, as with Meta's long-lived tokens).

Errors are Graph API bodies: ``{"error": {"message", "type": "OAuthException", "code",
"error_subcode"?, "fbtrace_id"}}`` -- bad token 400/401 code 190, permission 403 code 10,
parameters 400 code 100, rate limits 429 code 4 (``Retry-After`` seconds only with
``reset_in``), 5xx code 2 ``is_transient``.

Posts (``fake.posts``): dicts with ``id``, ``account`` (username), ``text``, ``created_at``
(aware UTC), ``reply_to`` (parent id | None), ``media_type``, ``media`` (list of
``{url, alt}``), ``link_attachment``, ``shortcode``, ``permalink``, ``container``,
``metrics`` (views, likes, replies, reposts, quotes), ``deleted``.
"""
from __future__ import annotations

import base64
import copy
import itertools
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from .base import FakeServer, Fault, Request, Response, json_response

try:
    import regex as _regex
except Exception:  # pragma: no cover
    _regex = None

__all__ = ["FakeThreads", "ThreadsAccount"]

V = "/v1.0"
_EMOJI = _regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3") if _regex else None
_LINK = re.compile(r"https?://\S+")
_MESSAGES = {
    400: (100, "Invalid parameter"), 401: (190, "Invalid OAuth access token - Cannot parse access token"),
    403: (10, "Application does not have permission for this action"), 404: (803, "Object does not exist"),
    405: (100, "Unsupported request - method type"), 422: (100, "Invalid parameter"),
    429: (4, "Application request limit reached"),
    500: (2, "An unexpected error has occurred. Please retry your request later."),
    502: (2, "Service temporarily unavailable"), 503: (2, "Service temporarily unavailable"),
    504: (2, "Service temporarily unavailable"),
}


def _length(text: str) -> int:
    if _regex is None:  # pragma: no cover
        return len(text)
    return sum(len(c.encode()) if _EMOJI.search(c) else len(c) for c in _regex.findall(r"\X", text))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(post_id: str) -> str:
    return base64.urlsafe_b64encode(f"QVFI:{post_id}".encode()).decode().rstrip("=")


def _uncursor(cursor: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return raw.split(":", 1)[1] if raw.startswith("QVFI:") else None


@dataclass
class ThreadsAccount:
    user_id: str
    username: str
    access_token: str


class FakeThreads(FakeServer):
    account_name = "username"
    extra_state = ("_containers",)
    default_rate_limits = {"post": (250, 86400), "container": (2000, 3600), "timeline": (2000, 3600)}

    @staticmethod
    def alt_texts(post: dict[str, Any]) -> list[str | None]:
        return [m["alt"] for m in post["media"]]

    def __init__(self, username: str = "teamsaantstuur") -> None:
        super().__init__()
        self._ids = itertools.count(17_841_400_000_000_001)
        self._containers: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (user id, expires epoch)
        self.processing_polls = 0  # polls a container answers IN_PROGRESS before FINISHED
        self.fail_images = False  # image containers end in ERROR (the image could not be fetched)
        self.insights_allowed = True
        self.account = self.add_account(username)
        r = self.route
        r("GET", f"{V}/me", "me", self._me)
        r("GET", "/refresh_access_token", "refresh", self._refresh)
        r("POST", f"{V}/{{user}}/threads", "container", self._create_container)
        r("GET", f"{V}/{{user}}/threads", "timeline", self._timeline)
        r("GET", f"{V}/{{user}}/replies", "replies", self._timeline)
        r("POST", f"{V}/{{user}}/threads_publish", "post", self._publish)
        r("GET", f"{V}/{{media}}/insights", "insights", self._insights)
        r("GET", f"{V}/{{id}}", "object", self._object)

    # -- accounts, tokens ----------------------------------------------------------------
    def add_account(self, username: str) -> ThreadsAccount:
        user_id = str(next(self._ids))
        account = ThreadsAccount(user_id, username, self.issue_token(user_id))
        with self._lock:
            self._accounts[user_id] = account
        return account

    def issue_token(self, user_id: str, ttl: float = 60 * 86400) -> str:
        token = "THAA" + secrets.token_urlsafe(40)
        with self._lock:
            self._tokens[token] = (user_id, time.time() + ttl)
        return token

    def expire_token(self, token: str) -> None:
        with self._lock:
            user_id, _ = self._tokens[token]
            self._tokens[token] = (user_id, 0.0)

    def _error(self, status: int, code: int | None = None, message: str | None = None,
               headers: dict[str, str] | None = None, **extra: Any) -> Response:
        default_code, default_message = _MESSAGES.get(status, (1, "An unknown error occurred"))
        error = {"message": message or default_message, "type": "OAuthException", "code": code or default_code,
                 "fbtrace_id": "A" + secrets.token_hex(10), **extra}
        if status >= 500:
            error["is_transient"] = True
        return json_response(status, {"error": error}, headers)

    def error_response(self, req: Request, status: int, fault: Fault | None = None,
                       message: str | None = None) -> Response:
        return self._error(status, message=message)

    def reset_header(self, reset_epoch: float) -> dict[str, str]:
        return {"Retry-After": str(max(0, round(reset_epoch - time.time())))}

    def unknown_route(self, req: Request, path_matched: bool) -> Response:
        return self._error(405 if path_matched else 400, 100,
                           "Unsupported request - method type" if path_matched else "Unknown path components")

    def _params(self, req: Request) -> dict[str, str]:
        params = {k: v[0] for k, v in req.query.items() if v}
        params.update({k: v[0] for k, v in req.form().items() if v})
        return params

    def _auth(self, req: Request, endpoint: str, *,
              for_user: bool = False) -> tuple[ThreadsAccount, dict[str, str]] | Response:
        """(account, headers) of the request's token, or the error Graph gives; for_user: the path's
        {user-id} must be the token's user (or "me")."""
        header = req.header("authorization") or ""
        bearer = header[len("Bearer "):].strip() if header.startswith("Bearer ") else None
        token = bearer or self._params(req).get("access_token")
        if not token:
            return self._error(400, 2500, "An active access token must be used to query information about the "
                                          "current user.")
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None:
            return self._error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        user_id, expires = entry
        if expires <= time.time():
            return self._error(400, 190, "Error validating access token: Session has expired.", error_subcode=463)
        account = self._accounts[user_id]
        budget = self._consume_budget(user_id, endpoint)
        if budget is not None and budget[1] < 0:
            return self._error(429, 4, "Application request limit reached")
        if for_user and req.params.get("user") not in (account.user_id, "me"):
            return self._error(400, 100, "Unsupported post request. Object does not exist or cannot be loaded "
                                         "due to missing permissions")
        return account, {}

    # -- history ---------------------------------------------------------------------------
    def seed_post(self, text: str, *, created_at: datetime | None = None, account: ThreadsAccount | None = None,
                  reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store a published post directly (no HTTP)."""
        return self._store(account or self.account, {"text": text, "media_type": "TEXT"},
                           created_at or datetime.now(timezone.utc), reply_to["id"] if reply_to else None)

    def _store(self, account: ThreadsAccount, container: dict[str, Any], created: datetime,
               reply_to: str | None) -> dict[str, Any]:
        post_id = str(next(self._ids))
        shortcode = base64.urlsafe_b64encode(int(post_id).to_bytes(8, "big")).decode().rstrip("=")[:11]
        post = {
            "id": post_id, "account": account.username, "user_id": account.user_id, "text": container.get("text", ""),
            "created_at": created, "reply_to": reply_to, "media_type": container.get("media_type", "TEXT"),
            "media": copy.deepcopy(container.get("media", [])), "link_attachment": container.get("link_attachment"),
            "shortcode": shortcode, "permalink": f"https://www.threads.net/@{account.username}/post/{shortcode}",
            "container": container.get("id"), "metrics": {"views": 0, "likes": 0, "replies": 0, "reposts": 0,
                                                          "quotes": 0},
            "deleted": False,
        }
        with self._lock:
            self._posts.append(post)
            self._posts.sort(key=lambda p: (p["created_at"], int(p["id"])))
        return copy.deepcopy(post)

    def _find(self, post_id: str | None) -> dict[str, Any] | None:
        with self._lock:
            return next((p for p in self._posts if p["id"] == post_id and not p["deleted"]), None)

    def _view(self, post: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        full = {
            "id": post["id"], "media_product_type": "THREADS", "media_type": post["media_type"] + (
                "_POST" if post["media_type"] == "TEXT" else ""),
            "permalink": post["permalink"], "owner": {"id": post["user_id"]}, "username": post["account"],
            "text": post["text"], "timestamp": _stamp(post["created_at"]), "shortcode": post["shortcode"],
            "is_quote_post": False, "is_reply": post["reply_to"] is not None,
        }
        if post["media_type"] == "CAROUSEL_ALBUM":
            full["children"] = {"data": [{"id": f"{post['id']}{i}"} for i, _ in enumerate(post["media"])]}
        if post["media_type"] == "IMAGE" and post["media"]:
            full["media_url"] = post["media"][0]["url"]
            full["alt_text"] = post["media"][0]["alt"]
        if post["reply_to"]:
            full["replied_to"] = {"id": post["reply_to"]}
            full["root_post"] = {"id": self._root(post)}
            full["is_reply_owned_by_me"] = True
        if post["link_attachment"]:
            full["link_attachment_url"] = post["link_attachment"]
        return {k: v for k, v in full.items() if k in fields or k == "id"}

    def _root(self, post: dict[str, Any]) -> str:
        with self._lock:
            by_id = {p["id"]: p for p in self._posts}
        while post["reply_to"] and post["reply_to"] in by_id:
            post = by_id[post["reply_to"]]
        return post["id"]

    # -- handlers ------------------------------------------------------------------------------
    def _me(self, req: Request) -> Response:
        got = self._auth(req, "me")
        if isinstance(got, Response):
            return got
        account, headers = got
        fields = (self._params(req).get("fields") or "id").split(",")
        body = {"id": account.user_id, "username": account.username,
                "threads_profile_picture_url": f"{self.url}/avatar/{account.user_id}.jpg",
                "threads_biography": "Praat mee!"}
        return json_response(200, {k: v for k, v in body.items() if k in fields or k == "id"}, headers)

    def _refresh(self, req: Request) -> Response:
        params = self._params(req)
        if params.get("grant_type") != "th_refresh_token":
            return self._error(400, 100, "Unsupported grant_type")
        got = self._auth(req, "refresh")
        if isinstance(got, Response):
            return got
        account, headers = got
        return json_response(200, {"access_token": self.issue_token(account.user_id), "token_type": "bearer",
                                   "expires_in": 60 * 86400}, headers)

    def _create_container(self, req: Request) -> Response:
        got = self._auth(req, "container", for_user=True)
        if isinstance(got, Response):
            return got
        account, headers = got
        p = self._params(req)
        kind = p.get("media_type", "")
        text = p.get("text", "")
        if kind not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            return self._error(400, 100, "The parameter media_type is required and must be TEXT, IMAGE, VIDEO or "
                                         "CAROUSEL")
        if _length(text) > 500:
            return self._error(400, 100, "Param text must be at most 500 characters long.",
                               error_user_msg="The post text is too long.")
        if len(_LINK.findall(text)) > 5:
            return self._error(400, 100, "A post may have at most 5 links.")
        if kind == "TEXT" and not text:
            return self._error(400, 100, "The parameter text is required for a TEXT post.")
        if p.get("reply_to_id") and self._find(p["reply_to_id"]) is None:
            return self._error(400, 100, "Invalid parameter: reply_to_id does not exist")
        if "link_attachment" in p and kind != "TEXT":
            return self._error(400, 100, "link_attachment is only supported on TEXT posts.")
        media: list[dict[str, Any]] = []
        if kind == "IMAGE":
            url = p.get("image_url", "")
            if not url.startswith(("http://", "https://")):
                return self._error(400, 100, "The parameter image_url is required and must be a public URL.")
            media = [{"url": url, "alt": p.get("alt_text")}]
        if kind == "CAROUSEL":
            ids = [c for c in (p.get("children") or "").split(",") if c]
            if not 2 <= len(ids) <= 20:
                return self._error(400, 100, "A carousel takes 2 to 20 children.")
            with self._lock:
                children = [self._containers.get(c) for c in ids]
            if any(c is None or not c["carousel_item"] or c["user_id"] != account.user_id for c in children):
                return self._error(400, 100, "Invalid parameter: children must be carousel item containers.")
            media = [m for c in children for m in c["media"]]
        container_id = str(next(self._ids))
        container = {"id": container_id, "user_id": account.user_id, "media_type": kind, "text": text,
                     "media": media, "reply_to_id": p.get("reply_to_id"), "link_attachment": p.get("link_attachment"),
                     "carousel_item": p.get("is_carousel_item") == "true", "polls": 0, "published": None,
                     "created": time.time()}
        with self._lock:
            self._containers[container_id] = container
        return json_response(200, {"id": container_id}, headers)

    @property
    def containers(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._containers)

    def _status(self, container: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            container["polls"] += 1
            polls = container["polls"]
        if container["published"]:
            return {"id": container["id"], "status": "PUBLISHED"}
        if self.fail_images and container["media"]:
            return {"id": container["id"], "status": "ERROR", "error_message": "FAILED_DOWNLOADING_IMAGE"}
        if polls <= self.processing_polls:
            return {"id": container["id"], "status": "IN_PROGRESS"}
        return {"id": container["id"], "status": "FINISHED"}

    def _object(self, req: Request) -> Response:
        got = self._auth(req, "object")
        if isinstance(got, Response):
            return got
        _, headers = got
        fields = (self._params(req).get("fields") or "id").split(",")
        object_id = req.params["id"]
        with self._lock:
            container = self._containers.get(object_id)
        if container is not None:
            state = self._status(container)
            return json_response(200, {k: v for k, v in state.items() if k in fields or k == "id"}, headers)
        post = self._find(object_id)
        if post is None:
            return self._error(400, 100, f"Unsupported get request. Object with ID '{object_id}' does not exist")
        return json_response(200, self._view(post, fields), headers)

    def _publish(self, req: Request) -> Response:
        got = self._auth(req, "post", for_user=True)
        if isinstance(got, Response):
            return got
        account, headers = got
        creation_id = self._params(req).get("creation_id")
        with self._lock:
            container = self._containers.get(creation_id or "")
            if container is None or container["user_id"] != account.user_id or container["carousel_item"]:
                return self._error(400, 100, "Invalid parameter: creation_id")
            if container["published"]:
                return self._error(400, 24, "The media has already been published.", error_subcode=4279009)
            if self.fail_images and container["media"]:
                return self._error(400, 24, "The media is not ready for publishing, please wait for a moment",
                                   error_subcode=2207027)
            if container["polls"] < self.processing_polls:
                return self._error(400, 24, "The media is not ready for publishing, please wait for a moment",
                                   error_subcode=2207027)
            kind = {"TEXT": "TEXT", "IMAGE": "IMAGE", "CAROUSEL": "CAROUSEL_ALBUM"}[container["media_type"]]
            post = self._store(account, {**container, "media_type": kind}, datetime.now(timezone.utc),
                               container["reply_to_id"])
            container["published"] = post["id"]
        return json_response(200, {"id": post["id"]}, headers)

    def _timeline(self, req: Request) -> Response:
        got = self._auth(req, "timeline", for_user=True)
        if isinstance(got, Response):
            return got
        account, headers = got
        p = self._params(req)
        try:
            limit = int(p.get("limit") or 25)
            since = int(p["since"]) if p.get("since") else None
            until = int(p["until"]) if p.get("until") else None
        except ValueError:
            return self._error(400, 100, "Invalid parameter")
        if not 1 <= limit <= 100:
            return self._error(400, 100, "Param limit must be a number between 1 and 100")
        fields = (p.get("fields") or "id").split(",")
        with self._lock:
            items = [post for post in self._posts if post["user_id"] == account.user_id and not post["deleted"]
                     and (post["reply_to"] is None) == (not req.path.endswith("/replies"))]
        items.sort(key=lambda post: (post["created_at"], int(post["id"])), reverse=True)
        if since is not None:
            items = [post for post in items if post["created_at"].timestamp() >= since]
        if until is not None:
            items = [post for post in items if post["created_at"].timestamp() <= until]
        if p.get("after"):
            after = _uncursor(p["after"])
            ids = [post["id"] for post in items]
            if after not in ids:
                return self._error(400, 100, "Invalid cursor")
            items = items[ids.index(after) + 1:]
        page, more = items[:limit], len(items) > limit
        body: dict[str, Any] = {"data": [self._view(post, fields) for post in page]}
        if page:
            body["paging"] = {"cursors": {"before": _cursor(page[0]["id"]), "after": _cursor(page[-1]["id"])}}
            if more:
                query = {k: v for k, v in p.items() if k != "access_token"}
                query["after"] = _cursor(page[-1]["id"])
                body["paging"]["next"] = f"{self.url}{req.path}?{urlencode(query)}"
        return json_response(200, body, headers)

    def _insights(self, req: Request) -> Response:
        got = self._auth(req, "insights")
        if isinstance(got, Response):
            return got
        _, headers = got
        if not self.insights_allowed:
            return self._error(403, 10, "(#10) Application does not have permission for this action")
        post = self._find(req.params["media"])
        if post is None:
            return self._error(400, 100, "Object does not exist")
        metrics = (self._params(req).get("metric") or "").split(",")
        data = [{"name": name, "period": "lifetime", "values": [{"value": post["metrics"][name]}],
                 "title": name.capitalize(), "description": f"The number of {name} on your post.",
                 "id": f"{post['id']}/insights/{name}/lifetime"}
                for name in metrics if name in post["metrics"]]
        return json_response(200, {"data": data}, headers)

    def set_metrics(self, post_id: str, **metrics: int) -> None:
        with self._lock:
            for post in self._posts:
                if post["id"] == post_id:
                    post["metrics"].update(metrics)
