"""FakeBluesky: a loopback PDS + AppView subset for the atproto Python SDK.

Use ``atproto.Client(base_url=fake.url + "/xrpc")`` and ``client.login(handle,
app_password)`` (``tests.fakes.clients.bluesky_client(fake)``).  ``createSession`` returns
a JWT-shaped ``accessJwt`` (``exp`` = now + ``access_ttl``, default 2 h, so the SDK does not
refresh before every call -- it refreshes when fewer than 15 min remain) and *no*
``didDoc``, so the SDK keeps using ``fake.url`` as its PDS endpoint.

XRPC methods (endpoint name for ``inject`` in brackets), all under ``/xrpc/``:

* ``com.atproto.server.createSession`` [login] -- ``{identifier, password}``; identifier is
  the handle, the DID or the e-mail; wrong password -> 401 ``AuthenticationRequired``.
* ``com.atproto.server.getSession`` [session], ``com.atproto.server.refreshSession``
  [refresh] (with the refresh JWT), ``com.atproto.server.deleteSession`` [logout]
* ``com.atproto.repo.createRecord`` [post] -- ``app.bsky.feed.post`` records are validated
  (``$type``, ``createdAt``, text <= 300 graphemes / 3000 bytes, <= 3 ``langs``, embedded
  image blobs must have been uploaded by this account and be <= 1,000,000 bytes, alt text
  present; a link card ``app.bsky.embed.external`` needs ``uri``, ``title`` and ``description``
  and its ``thumb`` the same as an image) and stored; other collections are stored in ``fake.records``.  Answers
  ``{uri, cid, commit:{cid, rev}, validationStatus}``.  No idempotency (like Bluesky).
* ``com.atproto.repo.deleteRecord`` [delete], ``com.atproto.repo.getRecord`` [record]
* ``com.atproto.repo.uploadBlob`` [blob] -- raw body; mime sniffed (the SDK sends
  ``Content-Type: */*``); answers ``{"blob": {"$type":"blob","ref":{"$link":cid},...}}``.
* ``com.atproto.sync.getBlob`` [getblob]
* ``app.bsky.feed.getAuthorFeed`` [timeline] -- ``actor``, ``limit`` (1..100, default 50),
  ``cursor``, ``filter`` (``posts_with_replies`` default, ``posts_no_replies``,
  ``posts_with_media``, ``posts_and_author_threads``); newest first; ``cursor`` is present
  whenever the page is non-empty (so the last request returns an empty page), as on the
  AppView.
* ``app.bsky.feed.getPosts`` [posts], ``app.bsky.actor.getProfile`` [profile],
  ``com.atproto.identity.resolveHandle`` [resolve] (no auth; handle -> ``{did}``)
* anything else -> 501 ``MethodNotImplemented``.

Auth errors: no token -> 401 ``AuthMissing``; unknown token -> 401 ``InvalidToken``; expired
(see ``fake.expire_access_tokens()``) -> 400 ``ExpiredToken``.  Responses carry
``ratelimit-limit/-remaining/-reset/-policy`` headers; ``Fault.rate_limit(reset_in=s)``
sets ``ratelimit-reset`` (Unix seconds), without ``reset_in`` there is no reset header.

Posts (``fake.posts``): dicts with ``id`` (= ``uri``), ``uri`` (``at://did/app.bsky.feed.post/rkey``),
``cid``, ``rkey``, ``account`` (handle), ``did``, ``text``, ``created_at`` (indexedAt, aware
UTC datetime), ``record_created_at`` (the client's ``createdAt`` string), ``reply_to``
(parent uri | None), ``reply`` (``{root:{uri,cid}, parent:{uri,cid}}`` | None), ``facets``,
``embed``, ``langs``, ``media`` (list of {cid, alt, mime, size}), ``record`` (raw),
``deleted``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .base import FakeServer, Fault, Request, Response, iso_time, json_response

try:
    import regex as _regex
except Exception:  # pragma: no cover
    _regex = None

__all__ = ["FakeBluesky", "BlueskyAccount", "make_tid", "make_cid"]

_S32 = "234567abcdefghijklmnopqrstuvwxyz"
_ERRORS = {
    400: ("InvalidRequest", "Invalid request"), 401: ("AuthMissing", "Authentication Required"),
    403: ("Forbidden", "Forbidden"), 404: ("NotFound", "Not Found"),
    405: ("InvalidRequest", "Method Not Allowed"), 413: ("PayloadTooLarge", "request entity too large"),
    429: ("RateLimitExceeded", "Rate Limit Exceeded"), 500: ("InternalServerError", "Internal Server Error"),
    501: ("MethodNotImplemented", "Method Not Implemented"), 502: ("UpstreamFailure", "Upstream Failure"),
    503: ("NotEnoughResources", "Service Unavailable"), 504: ("UpstreamTimeout", "Upstream Timeout"),
}


def make_tid(dt: datetime, clock: int = 0) -> str:
    """A TID (13-char base32-sortable timestamp id) for ``dt``."""
    v = (int(dt.timestamp() * 1_000_000) << 10) | (clock & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_S32[v & 31])
        v >>= 5
    return "".join(reversed(chars))


def make_cid(data: bytes, codec: int = 0x71) -> str:
    """CIDv1, sha2-256, base32 ("b..."); codec 0x71 dag-cbor (records) or 0x55 raw (blobs)."""
    raw = bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _graphemes(text: str) -> int:
    if _regex is not None:
        return len(_regex.findall(r"\X", text))
    return len(text)


@dataclass
class BlueskyAccount:
    did: str
    handle: str
    display_name: str
    app_password: str
    email: str
    created_at: datetime = field(default_factory=lambda: datetime(2023, 5, 1, tzinfo=timezone.utc))


class FakeBluesky(FakeServer):
    account_name = 'handle'
    extra_state = ('_records', '_blobs')

    @staticmethod
    def alt_texts(post: dict[str, Any]) -> list[str | None]:
        return [m["alt"] for m in post["media"]]

    default_rate_limits = {
        "login": (30, 300),
        "post": (1666, 3600),
        "delete": (1666, 3600),
        "blob": (3000, 300),
        "timeline": (3000, 300),
        "profile": (3000, 300),
        "posts": (3000, 300),
        "session": (3000, 300),
        "refresh": (3000, 300),
    }

    def __init__(self, handle: str = "teamsaantstuur.bsky.social", display_name: str = "Teams aan het stuur!",
                 *, access_ttl: float = 7200, refresh_ttl: float = 90 * 86400) -> None:
        super().__init__()
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._access: dict[str, tuple[str, float]] = {}  # jwt -> (did, exp)
        self._refresh: dict[str, tuple[str, float]] = {}
        self._records: list[dict[str, Any]] = []
        self._blobs: dict[str, dict[str, Any]] = {}  # cid -> {did, data, mime, size}
        self._clock = itertools.count(1)
        self._last_tid = ""
        self.account = self.add_account(handle, display_name)

        x = lambda nsid: f"/xrpc/{nsid}"  # noqa: E731
        r = self.route
        r("POST", x("com.atproto.server.createSession"), "login", self._create_session)
        r("GET", x("com.atproto.server.getSession"), "session", self._get_session)
        r("POST", x("com.atproto.server.refreshSession"), "refresh", self._refresh_session)
        r("POST", x("com.atproto.server.deleteSession"), "logout", self._delete_session)
        r("POST", x("com.atproto.repo.createRecord"), "post", self._create_record)
        r("POST", x("com.atproto.repo.deleteRecord"), "delete", self._delete_record)
        r("GET", x("com.atproto.repo.getRecord"), "record", self._get_record)
        r("POST", x("com.atproto.repo.uploadBlob"), "blob", self._upload_blob)
        r("GET", x("com.atproto.sync.getBlob"), "getblob", self._get_blob)
        r("GET", x("app.bsky.feed.getAuthorFeed"), "timeline", self._author_feed)
        r("GET", x("app.bsky.feed.getPosts"), "posts", self._get_posts)
        r("GET", x("app.bsky.actor.getProfile"), "profile", self._get_profile)
        r("GET", x("com.atproto.identity.resolveHandle"), "resolve", self._resolve_handle)

    # -- accounts / state --------------------------------------------------------------
    def add_account(self, handle: str, display_name: str | None = None) -> BlueskyAccount:
        digest = hashlib.sha256(f"{handle}|{len(self._accounts)}".encode()).digest()
        did = "did:plc:" + base64.b32encode(digest).decode().lower()[:24]
        pw = "-".join(secrets.token_hex(2) for _ in range(4))  # app-password shape xxxx-xxxx-xxxx-xxxx
        acct = BlueskyAccount(did=did, handle=handle, display_name=display_name or handle,
                              app_password=pw, email=f"{handle.split('.')[0]}@example.invalid")
        with self._lock:
            self._accounts[did] = acct
        return acct

    def _resolve(self, actor: str | None) -> BlueskyAccount | None:
        if not actor:
            return None
        with self._lock:
            if actor in self._accounts:
                return self._accounts[actor]
            return next((a for a in self._accounts.values()
                         if a.handle == actor.lstrip("@") or a.email == actor), None)

    @property
    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._records)

    @property
    def blobs(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: {kk: vv for kk, vv in v.items() if kk != "data"} for k, v in self._blobs.items()}

    def expire_access_tokens(self) -> None:
        """Make every issued access JWT expired server-side (clients still think it is valid)."""
        with self._lock:
            self._access = {k: (d, 0.0) for k, (d, _) in self._access.items()}

    def _next_tid(self, dt: datetime) -> str:
        with self._lock:
            tid = make_tid(dt, next(self._clock))
            if dt >= datetime.now(timezone.utc) - timedelta(seconds=5) and tid <= self._last_tid:
                tid = make_tid(datetime.now(timezone.utc) + timedelta(microseconds=1), next(self._clock))
            self._last_tid = max(self._last_tid, tid)
            return tid

    def seed_post(self, text: str, *, created_at: datetime | None = None,
                  account: BlueskyAccount | None = None, reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store a post directly (no HTTP). ``reply_to`` is a stored post dict (parent)."""
        acct = account or self.account
        created = created_at or datetime.now(timezone.utc)
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": iso_time(created),
                                  "langs": ["nl"]}
        if reply_to:
            root = (reply_to.get("reply") or {}).get("root") or {"uri": reply_to["uri"], "cid": reply_to["cid"]}
            record["reply"] = {"root": root, "parent": {"uri": reply_to["uri"], "cid": reply_to["cid"]}}
        return self._store_post(acct, record, created, self._next_tid(created))

    def _store_post(self, acct: BlueskyAccount, record: dict[str, Any], indexed: datetime, rkey: str) -> dict[str, Any]:
        cid = make_cid(json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + rkey.encode())
        uri = f"at://{acct.did}/app.bsky.feed.post/{rkey}"
        media = []
        embed = record.get("embed") or {}
        images = embed.get("images") or (embed.get("media") or {}).get("images") or []
        for img in images:
            ref = ((img.get("image") or {}).get("ref") or {}).get("$link")
            with self._lock:
                blob = self._blobs.get(ref or "", {})
            media.append({"cid": ref, "alt": img.get("alt"), "mime": blob.get("mime"), "size": blob.get("size")})
        reply = record.get("reply")
        post = {
            "id": uri, "uri": uri, "cid": cid, "rkey": rkey, "account": acct.handle, "did": acct.did,
            "text": record.get("text", ""), "created_at": indexed, "record_created_at": record.get("createdAt"),
            "reply_to": (reply or {}).get("parent", {}).get("uri"), "reply": copy.deepcopy(reply),
            "facets": copy.deepcopy(record.get("facets")), "embed": copy.deepcopy(record.get("embed")),
            "langs": record.get("langs"), "media": media, "record": copy.deepcopy(record), "deleted": False,
        }
        with self._lock:
            self._posts.append(post)
            self._posts.sort(key=lambda p: p["rkey"])
        return copy.deepcopy(post)

    def _find(self, uri: str | None) -> dict[str, Any] | None:
        with self._lock:
            return next((p for p in self._posts if p["uri"] == uri and not p["deleted"]), None)

    # -- tokens ------------------------------------------------------------------------
    def _jwt(self, payload: dict[str, Any]) -> str:
        header = {"typ": "at+jwt", "alg": "ES256K"}
        return ".".join([_b64url(json.dumps(header).encode()), _b64url(json.dumps(payload).encode()),
                         _b64url(secrets.token_bytes(64))])

    def _issue(self, acct: BlueskyAccount) -> dict[str, str]:
        now = int(time.time())
        aud = "did:web:127.0.0.1"
        access = self._jwt({"scope": "com.atproto.appPass", "sub": acct.did, "iat": now,
                            "exp": now + int(self.access_ttl), "aud": aud})
        refresh = self._jwt({"scope": "com.atproto.refresh", "sub": acct.did, "aud": aud,
                             "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + int(self.refresh_ttl)})
        with self._lock:
            self._access[access] = (acct.did, now + self.access_ttl)
            self._refresh[refresh] = (acct.did, now + self.refresh_ttl)
        return {"accessJwt": access, "refreshJwt": refresh}

    def _xerr(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Response:
        return json_response(status, {"error": error, "message": message}, headers)

    def _auth(self, req: Request, *, refresh: bool = False) -> BlueskyAccount | Response:
        header = req.header("authorization") or ""
        if not header.startswith("Bearer "):
            return self._xerr(401, "AuthMissing", "Authentication Required")
        token = header[len("Bearer "):].strip()
        with self._lock:
            entry = (self._refresh if refresh else self._access).get(token)
            if entry is None:
                other = (self._access if refresh else self._refresh).get(token)
                if other is not None:
                    return self._xerr(400, "InvalidToken", "Invalid token type")
                return self._xerr(401, "InvalidToken", "Token could not be verified")
            did, exp = entry
            if exp <= time.time():
                return self._xerr(400, "ExpiredToken", "Token has expired")
            return self._accounts[did]

    def _limited(self, req: Request, endpoint: str, key: str) -> tuple[dict[str, str], Response | None]:
        budget = self._consume_budget(key, endpoint)
        if budget is None:
            return {}, None
        limit, remaining, reset = budget
        window = self.rate_limits[endpoint][1]
        headers = {"ratelimit-limit": str(limit), "ratelimit-remaining": str(max(remaining, 0)),
                   "ratelimit-reset": str(reset), "ratelimit-policy": f"{limit};w={window}"}
        if remaining < 0:
            return headers, self._xerr(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
        return headers, None

    def _guard(self, req: Request, endpoint: str) -> tuple[BlueskyAccount, dict[str, str]] | Response:
        acct = self._auth(req)
        if isinstance(acct, Response):
            return acct
        headers, limited = self._limited(req, endpoint, acct.did)
        if limited is not None:
            return limited
        return acct, headers

    def error_response(self, req: Request, status: int, fault: Fault | None = None,
                       message: str | None = None) -> Response:
        error, msg = _ERRORS.get(status, ("InternalServerError", f"HTTP {status}"))
        if status == 401 and fault is not None:
            error, msg = "InvalidToken", "Token could not be verified"
        return self._xerr(status, error, message or msg)

    def reset_header(self, reset_epoch: float) -> dict[str, str]:
        return {"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": str(int(reset_epoch)),
                "ratelimit-policy": "3000;w=300"}

    def unknown_route(self, req: Request, path_matched: bool) -> Response:
        if path_matched:
            return self._xerr(405, "InvalidRequest", "Method Not Allowed")
        return self._xerr(501, "MethodNotImplemented", "Method Not Implemented")

    # -- views -------------------------------------------------------------------------
    def _author_basic(self, acct: BlueskyAccount) -> dict[str, Any]:
        return {"did": acct.did, "handle": acct.handle, "displayName": acct.display_name,
                "avatar": f"{self.url}/img/avatar/plain/{acct.did}/avatar@jpeg",
                "viewer": {"muted": False, "blockedBy": False}, "labels": [], "createdAt": iso_time(acct.created_at)}

    def _embed_view(self, post: dict[str, Any]) -> dict[str, Any] | None:
        embed = post["embed"] or {}
        t = embed.get("$type")
        did = post["did"]
        if t == "app.bsky.embed.images":
            return {"$type": "app.bsky.embed.images#view", "images": [
                {"thumb": f"{self.url}/img/feed_thumbnail/plain/{did}/{m['cid']}@jpeg",
                 "fullsize": f"{self.url}/img/feed_fullsize/plain/{did}/{m['cid']}@jpeg",
                 "alt": m["alt"] or ""} for m in post["media"]]}
        if t == "app.bsky.embed.external":
            ext = embed.get("external") or {}
            return {"$type": "app.bsky.embed.external#view",
                    "external": {"uri": ext.get("uri", ""), "title": ext.get("title", ""),
                                 "description": ext.get("description", "")}}
        return None

    def _post_view(self, post: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            acct = self._accounts[post["did"]]
            replies = sum(1 for p in self._posts if p["reply_to"] == post["uri"] and not p["deleted"])
        view = {"uri": post["uri"], "cid": post["cid"], "author": self._author_basic(acct),
                "record": post["record"], "replyCount": replies, "repostCount": 0, "likeCount": 0,
                "quoteCount": 0, "indexedAt": iso_time(post["created_at"]), "viewer": {"threadMuted": False},
                "labels": []}
        ev = self._embed_view(post)
        if ev is not None:
            view["embed"] = ev
        return view

    def _feed_item(self, post: dict[str, Any]) -> dict[str, Any]:
        item: dict[str, Any] = {"post": self._post_view(post)}
        if post["reply"]:
            root = self._find(post["reply"].get("root", {}).get("uri"))
            parent = self._find(post["reply"].get("parent", {}).get("uri"))
            if root and parent:
                item["reply"] = {"root": {"$type": "app.bsky.feed.defs#postView", **self._post_view(root)},
                                 "parent": {"$type": "app.bsky.feed.defs#postView", **self._post_view(parent)}}
        return item

    # -- handlers: server ----------------------------------------------------------------
    def _create_session(self, req: Request) -> Response:
        body = req.json() or {}
        acct = self._resolve(body.get("identifier"))
        headers, limited = self._limited(req, "login", (acct.did if acct else str(body.get("identifier"))))
        if limited is not None:
            return limited
        if acct is None or body.get("password") != acct.app_password:
            return self._xerr(401, "AuthenticationRequired", "Invalid identifier or password", headers)
        tokens = self._issue(acct)
        return json_response(200, {**tokens, "handle": acct.handle, "did": acct.did, "email": acct.email,
                                   "emailConfirmed": True, "emailAuthFactor": False, "active": True}, headers)

    def _get_session(self, req: Request) -> Response:
        g = self._guard(req, "session")
        if isinstance(g, Response):
            return g
        acct, headers = g
        return json_response(200, {"handle": acct.handle, "did": acct.did, "email": acct.email,
                                   "emailConfirmed": True, "emailAuthFactor": False, "active": True}, headers)

    def _refresh_session(self, req: Request) -> Response:
        acct = self._auth(req, refresh=True)
        if isinstance(acct, Response):
            return acct
        headers, limited = self._limited(req, "refresh", acct.did)
        if limited is not None:
            return limited
        old = (req.header("authorization") or "")[len("Bearer "):].strip()
        with self._lock:
            self._refresh.pop(old, None)
        tokens = self._issue(acct)
        return json_response(200, {**tokens, "handle": acct.handle, "did": acct.did, "active": True}, headers)

    def _delete_session(self, req: Request) -> Response:
        acct = self._auth(req, refresh=True)
        if isinstance(acct, Response):
            return acct
        old = (req.header("authorization") or "")[len("Bearer "):].strip()
        with self._lock:
            self._refresh.pop(old, None)
        return Response(200, None, content_type="")

    # -- handlers: repo ----------------------------------------------------------------
    def _validate_post(self, acct: BlueskyAccount, record: dict[str, Any]) -> str | None:
        text = record.get("text", "")
        if not isinstance(text, str):
            return "Record/text must be a string"
        if _graphemes(text) > 300:
            return "Record/text must not be longer than 300 graphemes"
        if len(text.encode("utf-8")) > 3000:
            return "Record/text must not be longer than 3000 characters"
        if not record.get("createdAt"):
            return 'Record must have the property "createdAt"'
        if len(record.get("langs") or []) > 3:
            return "Record/langs must not have more than 3 elements"
        reply = record.get("reply")
        if reply is not None:
            for k in ("root", "parent"):
                ref = reply.get(k) or {}
                if not ref.get("uri") or not ref.get("cid"):
                    return f'Record/reply/{k} must have the properties "uri" and "cid"'
        embed = record.get("embed") or {}
        if embed.get("$type") == "app.bsky.embed.external":
            external = embed.get("external") or {}
            for key in ("uri", "title", "description"):
                if not isinstance(external.get(key), str):
                    return f'Record/embed/external must have the property "{key}"'
            if external.get("thumb") is not None:
                problem = self._blob_problem(external["thumb"], acct, "Record/embed/external/thumb")
                if problem:
                    return problem
        images = embed.get("images") or (embed.get("media") or {}).get("images")
        if images is not None:
            if len(images) > 4:
                return "Record/embed/images must not have more than 4 elements"
            for i, img in enumerate(images):
                if "alt" not in img:
                    return f'Record/embed/images/{i} must have the property "alt"'
                problem = self._blob_problem(img.get("image"), acct, f"Record/embed/images/{i}/image")
                if problem:
                    return problem
        return None

    def _blob_problem(self, reference, acct: BlueskyAccount, where: str) -> str | None:
        """The server's complaint about a record's blob reference (not uploaded by this account, or
        over the 1,000,000-byte limit), or None."""
        ref = ((reference or {}).get("ref") or {}).get("$link")
        with self._lock:
            blob = self._blobs.get(ref or "")
        if blob is None or blob["did"] != acct.did:
            return f"Could not find blob: {ref}"
        if blob["size"] > 1_000_000:
            return f"{where} file too large. {blob['size']} bytes. Maximum: 1000000"
        return None

    def _create_record(self, req: Request) -> Response:
        g = self._guard(req, "post")
        if isinstance(g, Response):
            return g
        acct, headers = g
        body = req.json() or {}
        repo, collection, record = body.get("repo"), body.get("collection"), body.get("record") or {}
        if repo not in (acct.did, acct.handle):
            return self._xerr(400, "InvalidRequest", "Input/repo must be the authenticated repo", headers)
        if record.get("$type") != collection:
            return self._xerr(400, "InvalidRequest", f"Invalid $type: expected {collection}, got {record.get('$type')}", headers)
        now = datetime.now(timezone.utc)
        rkey = body.get("rkey") or self._next_tid(now)
        rev = self._next_tid(now)
        if collection == "app.bsky.feed.post":
            problem = self._validate_post(acct, record)
            if problem:
                return self._xerr(400, "InvalidRequest", f"Invalid app.bsky.feed.post record: {problem}", headers)
            post = self._store_post(acct, record, now, rkey)
            uri, cid = post["uri"], post["cid"]
        else:
            cid = make_cid(json.dumps(record, sort_keys=True).encode() + rkey.encode())
            uri = f"at://{acct.did}/{collection}/{rkey}"
            with self._lock:
                self._records.append({"uri": uri, "cid": cid, "did": acct.did, "collection": collection,
                                      "rkey": rkey, "record": copy.deepcopy(record), "created_at": now})
        return json_response(200, {"uri": uri, "cid": cid, "commit": {"cid": make_cid(rev.encode()), "rev": rev},
                                   "validationStatus": "valid"}, headers)

    def _delete_record(self, req: Request) -> Response:
        g = self._guard(req, "delete")
        if isinstance(g, Response):
            return g
        acct, headers = g
        body = req.json() or {}
        uri = f"at://{acct.did}/{body.get('collection')}/{body.get('rkey')}"
        with self._lock:
            for p in self._posts:
                if p["uri"] == uri:
                    p["deleted"] = True
            self._records = [r for r in self._records if r["uri"] != uri]
        rev = self._next_tid(datetime.now(timezone.utc))
        return json_response(200, {"commit": {"cid": make_cid(rev.encode()), "rev": rev}}, headers)

    def _get_record(self, req: Request) -> Response:
        acct = self._resolve(req.arg("repo"))
        if acct is None:
            return self._xerr(400, "InvalidRequest", f"Could not find repo: {req.arg('repo')}")
        uri = f"at://{acct.did}/{req.arg('collection')}/{req.arg('rkey')}"
        post = self._find(uri)
        if post is not None:
            return json_response(200, {"uri": uri, "cid": post["cid"], "value": post["record"]})
        with self._lock:
            rec = next((r for r in self._records if r["uri"] == uri), None)
        if rec is None:
            return self._xerr(400, "RecordNotFound", f"Could not locate record: {uri}")
        return json_response(200, {"uri": uri, "cid": rec["cid"], "value": rec["record"]})

    def _upload_blob(self, req: Request) -> Response:
        g = self._guard(req, "blob")
        if isinstance(g, Response):
            return g
        acct, headers = g
        data = req.body
        declared = (req.header("content-type") or "").split(";")[0].strip().lower()
        mime = _sniff(data) or (declared if declared and "*" not in declared else "application/octet-stream")
        cid = make_cid(data, codec=0x55)
        with self._lock:
            self._blobs[cid] = {"did": acct.did, "data": data, "mime": mime, "size": len(data)}
        return json_response(200, {"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime,
                                            "size": len(data)}}, headers)

    def _get_blob(self, req: Request) -> Response:
        with self._lock:
            blob = self._blobs.get(req.arg("cid") or "")
        if blob is None or blob["did"] != req.arg("did"):
            return self._xerr(400, "BlobNotFound", "Blob not found")
        return Response(200, blob["data"], content_type=blob["mime"])

    # -- handlers: app.bsky --------------------------------------------------------------
    def _author_feed(self, req: Request) -> Response:
        g = self._guard(req, "timeline")
        if isinstance(g, Response):
            return g
        _, headers = g
        target = self._resolve(req.arg("actor"))
        if target is None:
            return self._xerr(400, "InvalidRequest", "Profile not found", headers)
        try:
            limit = int(req.arg("limit") or 50)
        except ValueError:
            return self._xerr(400, "InvalidRequest", "limit must be an integer", headers)
        if not 1 <= limit <= 100:
            return self._xerr(400, "InvalidRequest", "limit must be between 1 and 100", headers)
        filt = req.arg("filter") or "posts_with_replies"
        with self._lock:
            items = [p for p in self._posts if p["did"] == target.did and not p["deleted"]]
        items.sort(key=lambda p: p["rkey"], reverse=True)
        if filt == "posts_no_replies":
            items = [p for p in items if not p["reply"]]
        elif filt == "posts_with_media":
            items = [p for p in items if p["media"]]
        elif filt == "posts_and_author_threads":
            items = [p for p in items if not p["reply"] or p["reply"]["root"]["uri"].startswith(f"at://{target.did}/")]
        cursor = req.arg("cursor")
        if cursor:
            items = [p for p in items if p["rkey"] < cursor]
        page = items[:limit]
        body: dict[str, Any] = {"feed": [self._feed_item(p) for p in page]}
        if page:
            body["cursor"] = page[-1]["rkey"]
        return json_response(200, body, headers)

    def _get_posts(self, req: Request) -> Response:
        g = self._guard(req, "posts")
        if isinstance(g, Response):
            return g
        _, headers = g
        uris = req.query.get("uris", [])
        if len(uris) > 25:
            return self._xerr(400, "InvalidRequest", "uris must not have more than 25 elements", headers)
        posts = [self._post_view(p) for p in (self._find(u) for u in uris) if p is not None]
        return json_response(200, {"posts": posts}, headers)

    def _resolve_handle(self, req: Request) -> Response:
        """com.atproto.identity.resolveHandle: public, no auth, like the real service."""
        acct = self._resolve(req.arg("handle"))
        if acct is None or acct.did == req.arg("handle"):
            return json_response(400, {"error": "InvalidRequest", "message": "Unable to resolve handle"})
        return json_response(200, {"did": acct.did})

    def _get_profile(self, req: Request) -> Response:
        g = self._guard(req, "profile")
        if isinstance(g, Response):
            return g
        _, headers = g
        acct = self._resolve(req.arg("actor"))
        if acct is None:
            return self._xerr(400, "InvalidRequest", "Profile not found", headers)
        posts = self.posts_for(acct)
        return json_response(200, {
            **self._author_basic(acct), "description": "", "followersCount": 0, "followsCount": 0,
            "postsCount": len(posts), "indexedAt": iso_time(acct.created_at),
            "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": False},
        }, headers)


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
