"""FakeLinkedIn: a loopback stand-in for LinkedIn's versioned REST API (organisation pages).

Point the platform module at it with ``CAMPAIGN_LINKEDIN_API_BASE=fake.url`` (both api.linkedin.com
and www.linkedin.com, the OAuth host, are served here). Every ``/rest`` call must carry
``Authorization: Bearer <token>`` of a known member, ``Linkedin-Version: YYYYMM`` (one of
``fake.active_versions`` when that is set; else any six digits) and
``X-Restli-Protocol-Version: 2.0.0``. Errors have LinkedIn's shape,
``{"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN", "message": "…"}``.

Endpoints (endpoint name for ``inject`` in brackets):

* ``POST /rest/posts`` [post] -- JSON ``author`` (urn:li:organization:N, the member must administer
  it), ``commentary`` (little text, ≤ 3,000 characters as shown), ``visibility``, ``distribution``,
  ``lifecycleState``, optional ``content`` (``media`` {id, altText}, ``multiImage`` {images},
  ``article`` {source, title, description, thumbnail (an uploaded urn:li:image), thumbnailAltText}). 201, empty body, the post URN in ``x-restli-id``.
  The same commentary as a live post of the page: 422 "Content is a duplicate of urn:li:share:N".
* ``GET /rest/posts?q=author&author=URN&start=&count=&sortBy=`` [timeline] -- ``elements`` newest
  first (LAST_MODIFIED, the default, or CREATED), ``paging`` {start, count, total}; count ≤ 100.
* ``GET /rest/posts/{urn}`` [post_get]
* ``POST /rest/images?action=initializeUpload`` [image_init] -- ``{"value": {"uploadUrl",
  "image", "uploadUrlExpiresAt"}}``; ``PUT /dms-uploads/{id}`` [image_upload] -- the bytes, 201.
* ``POST /rest/socialActions/{urn}/comments`` [comment] -- ``actor``, ``object``, ``message``
  {text, attributes}, ``parentComment``; 201 with the comment (``$URN``, ``id``, ``created``).
  ``GET`` the same path [comments] -- ``elements`` oldest first, ``start``/``count``.
* ``GET /rest/socialMetadata?ids=List(urn,…)`` [social_metadata] -- ``results`` by urn:
  ``reactionSummaries``, ``commentSummary`` {count, topLevelCount}, ``commentsState``.
* ``GET /rest/organizations?q=vanityName&vanityName=`` and ``GET /rest/organizations/{id}``
  [organization]; ``GET /rest/organizationAcls?q=roleAssignee`` [acls].
* ``POST /oauth/v2/accessToken`` [token] (grant_type=refresh_token) and
  ``POST /oauth/v2/introspectToken`` [introspect], form-encoded, as www.linkedin.com answers them.

Scopes per token (``account.scopes``): posting needs w_organization_social, reading posts
r_organization_social, comments w_/r_organization_social_feed, social metadata
r_organization_social_feed; a missing one answers 403 ACCESS_DENIED (serviceErrorCode 100).

Posts (``fake.posts``, oldest first): ``id`` (urn:li:share:N or a comment's
urn:li:comment:(urn:li:share:N,M)), ``kind`` ("post" | "comment"), ``account`` (the organisation
URN), ``commentary`` (as received), ``text`` (as LinkedIn shows it: little text parsed, cut at the
first unescaped reserved character like LinkedIn does), ``reply_to`` (a comment's parent: the
post, or the comment it answers), ``created_at``, ``media`` [{id, altText}], ``article``,
``mentions`` [(name, urn)], ``deleted``.
"""
from __future__ import annotations

import copy
import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, unquote

from .base import FakeServer, Fault, Request, Response, json_response

__all__ = ["FakeLinkedIn", "LinkedInAccount", "linkedin_env", "linkedin_account_yaml"]

RESERVED = set("|{}@[]()<>#\\*_~")
MAX_COMMENTARY = 3000
ALL_SCOPES = ("w_organization_social", "r_organization_social", "w_organization_social_feed",
              "r_organization_social_feed", "rw_organization_admin")

_ERRORS = {
    400: (None, "ILLEGAL_ARGUMENT", "Invalid request"),
    401: (65600, "INVALID_ACCESS_TOKEN", "Invalid access token"),
    403: (100, "ACCESS_DENIED", "Not enough permissions to access: partnerApiPostsExternal.CREATE.20261001"),
    404: (None, "NOT_FOUND", "Not Found"),
    422: (None, "UNPROCESSABLE_ENTITY", "Unprocessable entity"),
    426: (None, "NONEXISTENT_VERSION", "Requested version is not active"),
    429: (101, "TOO_MANY_REQUESTS", "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."),
    500: (None, None, "Internal Server Error"),
    502: (None, None, "Bad Gateway"),
    503: (None, None, "Service Unavailable"),
    504: (None, None, "Gateway Timeout"),
}


def error_body(status: int, message: str | None = None, *, code: str | None = None,
               service: int | None = None) -> dict:
    default_service, default_code, default_message = _ERRORS.get(status, (None, None, f"HTTP {status}"))
    body: dict[str, Any] = {"status": status}
    if service or default_service:
        body["serviceErrorCode"] = service or default_service
    if code or default_code:
        body["code"] = code or default_code
    body["message"] = message or default_message
    return body


def parse_little_text(commentary: str) -> tuple[str, list[tuple[str, str]], list[str]]:
    """(shown text, mentions, hashtags) of a commentary, as LinkedIn reads little text: a backslash
    escapes the next character; {hashtag|\\#|tag} and @[Name](urn) are markup; any other unescaped
    reserved character ends what is shown (LinkedIn cuts the text there)."""
    out, mentions, tags, i = [], [], [], 0
    while i < len(commentary):
        c = commentary[i]
        if c == "\\" and i + 1 < len(commentary):
            out.append(commentary[i + 1])
            i += 2
            continue
        if c == "{":
            m = re.match(r"\{hashtag\|\\#\|([^}|]+)\}", commentary[i:])
            if m:
                out.append("#" + m.group(1))
                tags.append(m.group(1))
                i += m.end()
                continue
        if c == "@":
            m = re.match(r"@\[((?:\\.|[^\]\\])+)\]\((urn:li:(?:organization|person):\w+)\)", commentary[i:])
            if m:
                name = re.sub(r"\\(.)", r"\1", m.group(1))
                out.append(name)
                mentions.append((name, m.group(2)))
                i += m.end()
                continue
        if c in RESERVED:
            break
        out.append(c)
        i += 1
    return "".join(out), mentions, tags


def escape_little_text(text: str) -> str:
    return "".join("\\" + c if c in RESERVED else c for c in text)


@dataclass
class LinkedInAccount:
    """A member with a token, administering one organisation page."""

    member_id: str
    access_token: str
    organization_id: str
    vanity_name: str
    name: str
    refresh_token: str = field(default_factory=lambda: "AQX" + secrets.token_urlsafe(24))
    client_id: str = "86fakeclient"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    scopes: tuple[str, ...] = ALL_SCOPES
    expires_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc) + timedelta(days=60))
    admin: bool = True

    @property
    def urn(self) -> str:
        return f"urn:li:organization:{self.organization_id}"


class FakeLinkedIn(FakeServer):
    account_name = "urn"
    extra_state = ("_images",)
    refuses_duplicates = True

    @staticmethod
    def alt_texts(post: dict[str, Any]) -> list[str | None]:
        return [m.get("altText") for m in post["media"]]

    default_rate_limits: dict[str, tuple[int, int]] = {}

    def __init__(self, vanity_name: str = "teamsaantstuur", name: str = "Teams aan het stuur!") -> None:
        super().__init__()
        self._images: dict[str, dict[str, Any]] = {}
        self._seq = itertools.count(7_140_000_000_000_000_000)
        self.active_versions: set[str] | None = None
        self.versions_seen: list[str] = []
        self.account = self.add_account(vanity_name, name)
        r = self.route
        r("POST", "/rest/posts", "post", self._create_post)
        r("GET", "/rest/posts", "timeline", self._posts_by_author)
        r("GET", "/rest/posts/{urn}", "post_get", self._get_post)
        r("POST", "/rest/images", "image_init", self._initialize_upload)
        r("PUT", "/dms-uploads/{id}", "image_upload", self._upload)
        r("POST", "/rest/socialActions/{urn}/comments", "comment", self._create_comment)
        r("GET", "/rest/socialActions/{urn}/comments", "comments", self._comments)
        r("GET", "/rest/socialMetadata", "social_metadata", self._social_metadata)
        r("GET", "/rest/organizations", "organization", self._organization_by_vanity)
        r("GET", "/rest/organizations/{id}", "organization", self._organization)
        r("GET", "/rest/organizationAcls", "acls", self._acls)
        r("POST", "/oauth/v2/accessToken", "token", self._token)
        r("POST", "/oauth/v2/introspectToken", "introspect", self._introspect)

    # -- accounts and state --------------------------------------------------------------
    def add_account(self, vanity_name: str, name: str | None = None, **kwargs: Any) -> LinkedInAccount:
        with self._lock:
            number = len(self._accounts) + 1
            account = LinkedInAccount(member_id=f"mbr{number}", access_token="AQV" + secrets.token_urlsafe(32),
                                      organization_id=str(2_414_180 + number), vanity_name=vanity_name,
                                      name=name or vanity_name, **kwargs)
            self._accounts[account.access_token] = account
            return account

    def token_for(self, account: LinkedInAccount) -> str:
        """A fresh access token for the account's member (the old ones stay valid)."""
        with self._lock:
            token = "AQV" + secrets.token_urlsafe(32)
            self._accounts[token] = account
            return token

    def _account_by_org(self, urn: str) -> LinkedInAccount | None:
        with self._lock:
            return next((a for a in self._accounts.values() if a.urn == urn), None)

    def seed_post(self, text: str, *, created_at: datetime | None = None, account: LinkedInAccount | None = None,
                  likes: int = 0) -> dict[str, Any]:
        """Store a post of the page directly (its commentary escaped the way LinkedIn expects)."""
        account = account or self.account
        post = self._store(account.urn, escape_little_text(text), created_at or datetime.now(timezone.utc))
        with self._lock:
            self._find(post["id"])["likes"] = likes
        return self._find(post["id"])

    def _store(self, author: str, commentary: str, created: datetime, *, kind: str = "post",
               reply_to: str | None = None, media=(), article=None, parent_post: str | None = None) -> dict[str, Any]:
        text, mentions, tags = parse_little_text(commentary) if kind == "post" else (commentary, [], [])
        with self._lock:
            number = next(self._seq)
            urn = f"urn:li:share:{number}" if kind == "post" else f"urn:li:comment:({parent_post},{number})"
            post = {"id": urn, "number": number, "kind": kind, "account": author, "commentary": commentary,
                    "text": text, "mentions": mentions, "hashtags": tags, "reply_to": reply_to,
                    "post": parent_post or urn, "created_at": created, "media": [dict(m) for m in media],
                    "article": article, "likes": 0, "deleted": False}
            self._posts.append(post)
            self._posts.sort(key=lambda p: (p["created_at"], p["number"]))
            return copy.deepcopy(post)

    def _find(self, urn: str) -> dict[str, Any] | None:
        with self._lock:
            return next((p for p in self._posts if p["id"] == urn and not p["deleted"]), None)

    # -- protocol checks -------------------------------------------------------------------
    def error_response(self, req: Request, status: int, fault: Fault | None = None,
                       message: str | None = None) -> Response:
        return json_response(status, error_body(status, message))

    def reset_header(self, reset_epoch: float) -> dict[str, str]:
        return {"Retry-After": str(max(0, round(reset_epoch - time.time())))}

    def _guard(self, req: Request, scope: str | None) -> LinkedInAccount | Response:
        version = req.header("linkedin-version")
        if not version or not re.fullmatch(r"\d{6}", version):
            return json_response(400, error_body(400, "A version must be present. Please specify a version by adding "
                                                      "the LinkedIn-Version header.", code="VERSION_MISSING"))
        self.versions_seen.append(version)
        if self.active_versions is not None and version not in self.active_versions:
            return json_response(426, error_body(426, f"Requested version {version} is not active"))
        if req.header("x-restli-protocol-version") != "2.0.0":
            return json_response(400, error_body(400, "Rest.li protocol version 2.0.0 is required"))
        auth = req.header("authorization") or ""
        account = self._accounts.get(auth[7:]) if auth.startswith("Bearer ") else None
        if account is None:
            return json_response(401, error_body(401))
        if account.expires_at <= datetime.now(timezone.utc):
            return json_response(401, error_body(401, "The token used in the request has expired", service=65601,
                                                 code="EXPIRED_ACCESS_TOKEN"))
        if scope and scope not in account.scopes:
            return json_response(403, error_body(403, f"Not enough permissions to access: {req.method} {req.path}"))
        return account

    # -- posts -----------------------------------------------------------------------------
    def _create_post(self, req: Request) -> Response:
        account = self._guard(req, "w_organization_social")
        if isinstance(account, Response):
            return account
        body = req.json() or {}
        author = body.get("author")
        if author != account.urn or not account.admin:
            return json_response(403, error_body(403, f"Not enough permissions to post as {author}"))
        missing = [k for k in ("author", "visibility", "distribution", "lifecycleState") if k not in body]
        if missing:
            return json_response(422, error_body(422, f"ERROR :: /{missing[0]} :: field is required but not found"))
        commentary = body.get("commentary") or ""
        shown, _, _ = parse_little_text(commentary)
        if len(shown) > MAX_COMMENTARY:
            return json_response(422, error_body(422, f"ERROR :: /commentary :: Text of length {len(shown)} exceeds "
                                                      f"the maximum allowed length of {MAX_COMMENTARY}"))
        content = body.get("content") or {}
        media = []
        if "media" in content:
            media = [content["media"]]
        elif "multiImage" in content:
            media = list((content["multiImage"] or {}).get("images") or [])
        for item in media:
            image = self._images.get(item.get("id"))
            if image is None or not image.get("uploaded"):
                return json_response(422, error_body(422, f"ERROR :: /content/media/id :: {item.get('id')} is not "
                                                          "an uploaded image"))
        article = content.get("article")
        if article is not None and not (article.get("source") and article.get("title")):
            return json_response(422, error_body(422, "ERROR :: /content/article :: source and title are required"))
        if article is not None and "thumbnail" in article:
            image = self._images.get(article["thumbnail"])
            if image is None or not image.get("uploaded"):
                return json_response(422, error_body(422, "ERROR :: /content/article/thumbnail :: not an uploaded "
                                                          "image"))
        with self._lock:
            for post in self._posts:
                if (post["kind"] == "post" and post["account"] == author and not post["deleted"]
                        and post["text"] == shown):
                    return json_response(422, {"message": f"Content is a duplicate of {post['id']}", "status": 422})
            post = self._store(author, commentary, datetime.now(timezone.utc), media=media, article=article)
        return Response(201, None, {"x-restli-id": post["id"], "x-linkedin-id": post["id"]})

    def _post_json(self, post: dict[str, Any]) -> dict[str, Any]:
        created = int(post["created_at"].timestamp() * 1000)
        element = {
            "id": post["id"], "author": post["account"], "commentary": post["commentary"],
            "visibility": "PUBLIC", "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False,
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "createdAt": created, "publishedAt": created, "lastModifiedAt": created,
            "lifecycleStateInfo": {"isEditedByAuthor": False},
        }
        if post["media"]:
            element["content"] = ({"media": post["media"][0]} if len(post["media"]) == 1
                                  else {"multiImage": {"images": post["media"]}})
        elif post["article"]:
            element["content"] = {"article": post["article"]}
        return element

    def _posts_by_author(self, req: Request) -> Response:
        account = self._guard(req, "r_organization_social")
        if isinstance(account, Response):
            return account
        if req.arg("q") != "author" or not req.arg("author"):
            return json_response(400, error_body(400, "q=author and author are required"))
        try:
            start, count = int(req.arg("start") or 0), int(req.arg("count") or 10)
        except ValueError:
            return json_response(400, error_body(400, "start and count must be numbers"))
        if count > 100 or count < 1 or start < 0:
            return json_response(400, error_body(400, "count must be between 1 and 100"))
        author = req.arg("author")
        with self._lock:
            mine = [p for p in self._posts if p["kind"] == "post" and p["account"] == author and not p["deleted"]]
        mine.sort(key=lambda p: (p["created_at"], p["number"]), reverse=True)
        page = mine[start:start + count]
        return json_response(200, {"paging": {"start": start, "count": count, "links": [], "total": len(mine)},
                                   "elements": [self._post_json(p) for p in page]})

    def _get_post(self, req: Request) -> Response:
        account = self._guard(req, "r_organization_social")
        if isinstance(account, Response):
            return account
        post = self._find(unquote(req.params["urn"]))
        if post is None or post["kind"] != "post":
            return json_response(404, error_body(404))
        return json_response(200, self._post_json(post))

    # -- images ----------------------------------------------------------------------------
    def _initialize_upload(self, req: Request) -> Response:
        account = self._guard(req, "w_organization_social")
        if isinstance(account, Response):
            return account
        if req.arg("action") != "initializeUpload":
            return json_response(400, error_body(400, "action=initializeUpload is required"))
        owner = ((req.json() or {}).get("initializeUploadRequest") or {}).get("owner")
        if owner != account.urn:
            return json_response(403, error_body(403, f"Not enough permissions to upload for {owner}"))
        with self._lock:
            upload = secrets.token_hex(8)
            urn = f"urn:li:image:D4E10AQ{upload}"
            self._images[urn] = {"upload": upload, "owner": owner, "uploaded": False, "size": 0}
        return json_response(200, {"value": {"uploadUrlExpiresAt": int((time.time() + 3600) * 1000),
                                             "uploadUrl": f"{self.url}/dms-uploads/{upload}", "image": urn}})

    def _upload(self, req: Request) -> Response:
        auth = req.header("authorization") or ""
        if self._accounts.get(auth[7:]) is None:
            return json_response(401, error_body(401))
        with self._lock:
            image = next((i for i in self._images.values() if i["upload"] == req.params["id"]), None)
            if image is None:
                return json_response(404, error_body(404))
            image["uploaded"], image["size"] = True, len(req.body)
        return Response(201, None)

    # -- comments --------------------------------------------------------------------------
    def _create_comment(self, req: Request) -> Response:
        account = self._guard(req, "w_organization_social_feed")
        if isinstance(account, Response):
            return account
        target = unquote(req.params["urn"])
        body = req.json() or {}
        if body.get("actor") != account.urn:
            return json_response(403, error_body(403, f"Not enough permissions to comment as {body.get('actor')}"))
        text = (body.get("message") or {}).get("text") or ""
        if not text.strip():
            return json_response(422, error_body(422, "ERROR :: /message/text :: must not be empty"))
        parent = self._find(target)
        if parent is None:
            return json_response(404, error_body(404))
        if parent["kind"] == "comment":
            if parent["reply_to"] != parent["post"]:
                return json_response(422, error_body(422, "Nested comments are only one level deep"))
            if body.get("parentComment") != target:
                return json_response(422, error_body(422, "parentComment must be the comment in the path"))
        if body.get("object") != parent["post"]:
            return json_response(422, error_body(422, f"object must be {parent['post']}"))
        comment = self._store(account.urn, text, datetime.now(timezone.utc), kind="comment", reply_to=target,
                              parent_post=parent["post"])
        with self._lock:
            self._find(comment["id"])["attributes"] = (body.get("message") or {}).get("attributes") or []
        return json_response(201, self._comment_json(self._find(comment["id"])),
                             {"x-restli-id": str(comment["number"])})

    def _comment_json(self, comment: dict[str, Any]) -> dict[str, Any]:
        time_ms = int(comment["created_at"].timestamp() * 1000)
        with self._lock:
            replies = sum(1 for p in self._posts if p["reply_to"] == comment["id"] and not p["deleted"])
        element = {"actor": comment["account"], "agent": comment["account"], "id": str(comment["number"]),
                   "commentUrn": comment["id"], "$URN": comment["id"], "object": comment["post"],
                   "message": {"text": comment["text"], "attributes": comment.get("attributes") or []},
                   "created": {"actor": comment["account"], "time": time_ms},
                   "lastModified": {"actor": comment["account"], "time": time_ms},
                   "commentsSummary": {"aggregatedTotalComments": replies, "selectedComments": []},
                   "likesSummary": {"totalLikes": 0, "likedByCurrentUser": False, "selectedLikes": []}}
        if comment["reply_to"] != comment["post"]:
            element["parentComment"] = comment["reply_to"]
        return element

    def _comments(self, req: Request) -> Response:
        account = self._guard(req, "r_organization_social_feed")
        if isinstance(account, Response):
            return account
        target = unquote(req.params["urn"])
        if self._find(target) is None:
            return json_response(404, error_body(404))
        start, count = int(req.arg("start") or 0), min(int(req.arg("count") or 10), 100)
        with self._lock:
            found = [p for p in self._posts if p["kind"] == "comment" and p["reply_to"] == target and not p["deleted"]]
        page = found[start:start + count]
        return json_response(200, {"paging": {"start": start, "count": count, "total": len(found), "links": []},
                                   "elements": [self._comment_json(c) for c in page]})

    def _social_metadata(self, req: Request) -> Response:
        account = self._guard(req, "r_organization_social_feed")
        if isinstance(account, Response):
            return account
        raw = parse_qs(req.raw_query.replace("+", "%2B"), keep_blank_values=True)
        # Rest.li 2.0 lists: ids=List(urn%3Ali%3Ashare%3A1,urn%3Ali%3Ashare%3A2), URNs encoded inside.
        ids = (re.fullmatch(r"List\((.*)\)", req.raw_query.split("ids=", 1)[-1].split("&")[0]) if "ids=" in
               req.raw_query else None)
        if ids is None or not raw:
            return json_response(400, error_body(400, "ids=List(...) is required"))
        results, errors = {}, {}
        for encoded in ids.group(1).split(","):
            urn = unquote(encoded)
            post = self._find(urn)
            if post is None:
                errors[urn] = {"status": 404, "message": "Not Found"}
                continue
            with self._lock:
                comments = [p for p in self._posts if p["post"] == urn and p["kind"] == "comment" and not p["deleted"]]
            results[urn] = {"entity": urn, "commentsState": "OPEN",
                            "reactionSummaries": ({"LIKE": {"reactionType": "LIKE", "count": post["likes"]}}
                                                  if post["likes"] else {}),
                            "commentSummary": {"count": len(comments),
                                               "topLevelCount": sum(c["reply_to"] == urn for c in comments)}}
        return json_response(200, {"results": results, "statuses": {u: 200 for u in results}, "errors": errors})

    # -- organisations -----------------------------------------------------------------------
    def _organization_json(self, account: LinkedInAccount) -> dict[str, Any]:
        return {"id": int(account.organization_id), "vanityName": account.vanity_name,
                "localizedName": account.name, "name": {"localized": {"nl_NL": account.name},
                                                       "preferredLocale": {"country": "NL", "language": "nl"}},
                "$URN": account.urn}

    def _organization_by_vanity(self, req: Request) -> Response:
        account = self._guard(req, None)
        if isinstance(account, Response):
            return account
        if req.arg("q") != "vanityName":
            return json_response(400, error_body(400, "q=vanityName is required"))
        found = [a for a in self.accounts() if a.vanity_name == req.arg("vanityName")]
        return json_response(200, {"elements": [self._organization_json(found[0])] if found else [],
                                   "paging": {"start": 0, "count": 10, "links": []}})

    def _organization(self, req: Request) -> Response:
        account = self._guard(req, None)
        if isinstance(account, Response):
            return account
        found = [a for a in self.accounts() if a.organization_id == req.params["id"]]
        if not found:
            return json_response(404, error_body(404))
        return json_response(200, self._organization_json(found[0]))

    def _acls(self, req: Request) -> Response:
        account = self._guard(req, None)
        if isinstance(account, Response):
            return account
        elements = []
        if account.admin and req.arg("q") == "roleAssignee":
            elements.append({"roleAssignee": f"urn:li:person:{account.member_id}", "state": "APPROVED",
                             "role": "ADMINISTRATOR", "organization": account.urn})
        return json_response(200, {"paging": {"start": 0, "count": 10, "total": len(elements)},
                                   "elements": elements})

    # -- OAuth (www.linkedin.com) --------------------------------------------------------------
    def _token(self, req: Request) -> Response:
        form = {k: v[0] for k, v in req.form().items()}
        if form.get("grant_type") != "refresh_token":
            return json_response(400, {"error": "invalid_request", "error_description": "grant_type"})
        account = next((a for a in self.accounts() if a.refresh_token == form.get("refresh_token")), None)
        if account is None or (form.get("client_id"), form.get("client_secret")) != (account.client_id,
                                                                                     account.client_secret):
            return json_response(400, {"error": "invalid_request",
                                       "error_description": "The provided authorization grant or refresh token is "
                                                            "invalid, expired or revoked"})
        token = self.token_for(account)
        account.expires_at = max(account.expires_at, datetime.now(timezone.utc) + timedelta(days=60))
        return json_response(200, {"access_token": token, "expires_in": 5_183_999, "refresh_token": account.refresh_token,
                                   "refresh_token_expires_in": 31_535_000, "scope": ",".join(account.scopes)})

    def _introspect(self, req: Request) -> Response:
        form = {k: v[0] for k, v in req.form().items()}
        account = self._accounts.get(form.get("token", ""))
        if account is None or (form.get("client_id"), form.get("client_secret")) != (account.client_id,
                                                                                     account.client_secret):
            return json_response(200, {"active": False})
        active = account.expires_at > datetime.now(timezone.utc)
        return json_response(200, {"active": active, "client_id": account.client_id, "status":
                                   "active" if active else "expired", "auth_type": "3L",
                                   "authorized_at": int(time.time()) - 86400, "created_at": int(time.time()) - 86400,
                                   "expires_at": int(account.expires_at.timestamp()),
                                   "scope": ",".join(account.scopes)})


def linkedin_env(fake: FakeLinkedIn, name: str = "tas_l", account: LinkedInAccount | None = None,
                 refresh: bool = False) -> dict[str, str]:
    account = account or fake.account
    prefix = f"CAMPAIGN_{name.upper()}_"
    env = {prefix + "ACCESS_TOKEN": account.access_token, "CAMPAIGN_LINKEDIN_API_BASE": fake.url}
    if refresh:
        env.update({prefix + "REFRESH_TOKEN": account.refresh_token, prefix + "CLIENT_ID": account.client_id,
                    prefix + "CLIENT_SECRET": account.client_secret})
    return env


def linkedin_account_yaml(fake: FakeLinkedIn, name: str = "tas_l", organization: str | None = None) -> str:
    return f"{name}: {{platform: linkedin, organization: {organization or fake.account.vanity_name}}}\n"
