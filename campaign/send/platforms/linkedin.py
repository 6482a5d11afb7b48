"""LinkedIn organisation pages through the versioned REST API (plain HTTP with requests).

Posts: POST /rest/posts (commentary in LinkedIn's "little text", author urn:li:organization:N);
images through the Images API (initializeUpload, PUT the bytes, reference urn:li:image with its alt
text); a link share is `content.article`, from the part's card (by hand, or the linked page's Open
Graph metadata, as for Bluesky). A thread becomes the first part as a post, the second as the
page's comment on it and every later part as a reply to that comment (LinkedIn nests replies one
level deep and lists them in order, while top-level comments are sorted by relevance). No idempotency on LinkedIn: recovery reads the page's recent
posts and the page's own comments on them.

Every LinkedIn call carries `Linkedin-Version` (LINKEDIN_VERSION, or CAMPAIGN_LINKEDIN_VERSION) and
`X-Restli-Protocol-Version: 2.0.0`; URNs are URL-encoded in paths and queries.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Iterator, Mapping
from urllib.parse import parse_qs, quote, unquote, urlsplit

import requests

from campaign.errors import AuthFailed, DuplicateContent, PlatformError, RateLimited, Rejected, TransientError
from campaign.send.platforms import (RECENT_LIMIT, TIMEOUT_SECONDS, AccountInfo, OutgoingPart, Page, RemotePost,
                                     TimelineReader, normalise_text, tokens)
from campaign.send.platforms.linkedin_text import comment_message, from_little_text, little_text, post_url, shown_text
from campaign.send.platforms.times import retry_after as _retry_after

# Versions retire about a year after release and LinkedIn has no "latest": bump this with each release
# of Praat mee, or set CAMPAIGN_LINKEDIN_VERSION (YYYYMM) when LinkedIn answers 426.
LINKEDIN_VERSION = "202610"
API_BASE = "https://api.linkedin.com"
OAUTH_BASE = "https://www.linkedin.com"
PAGE = 100  # the most /rest/posts serves per request
REFRESH_AHEAD = timedelta(days=7)  # refresh a token that expires sooner than this (when refresh is set up)
WARN_AHEAD = timedelta(days=14)  # `campaign accounts check` warns this long before the token expires
POST_SCOPE, READ_SCOPE = "w_organization_social", "r_organization_social"
FEED_SCOPES = ("w_organization_social_feed", "r_organization_social_feed")  # comments; likes and comment counts

def parse_expiry(value: str | None) -> datetime | None:
    """CAMPAIGN_<ACCOUNT>_TOKEN_EXPIRES: a date (2027-01-31, the end of that day UTC) or an ISO time."""
    if not value:
        return None
    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.fromisoformat(value).replace(tzinfo=timezone.utc) + timedelta(days=1)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date like 2027-01-31 or a time like 2027-01-31T12:00:00Z: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class LinkedInPlatform(TimelineReader):
    idempotent = False
    WARN_AHEAD = WARN_AHEAD

    def __init__(self, account: AccountInfo, secrets: Mapping[str, str], *, organization: str,
                 api_base: str | None = None, version: str | None = None, timeout: float = TIMEOUT_SECONDS,
                 token_file: str | None = None, card_deadline: float = 5.0, card_proxy: str | None = None):
        self.account = account
        self.organization = str(organization).strip()
        self.api = (api_base or API_BASE).rstrip("/")
        self.oauth = (api_base or OAUTH_BASE).rstrip("/")
        self.version = version or LINKEDIN_VERSION
        self.timeout = timeout
        self._token = secrets["access_token"]
        self._refresh_token = secrets.get("refresh_token") or None
        self._client_id = secrets.get("client_id") or None
        self._client_secret = secrets.get("client_secret") or None
        self._expires_at = parse_expiry(secrets.get("token_expires"))
        self._refreshed = False
        self._configured = self._token
        self.card_deadline, self.card_proxy = card_deadline, card_proxy
        # A refreshed token outlives the process in the token file (0600, never the database), as
        # long as it descends from the token the environment gives: a new one there wins.
        self._store = tokens.TokenStore(token_file) if token_file and self.can_refresh else None
        if self._store is not None:
            stored = self._store.current(account.name, self._configured)
            if stored:
                self._token = stored
                self._expires_at = self._store.expires_at(account.name, self._configured)
        self._urn: str | None = None
        self._page: dict | None = None
        self.scopes: tuple[str, ...] | None = None  # as introspection said, when it was asked
        self.notes: list[str] = []  # what a reader should know (a missing scope), said once
        self.session = requests.Session()
        self.session.trust_env = False

    # -- HTTP ------------------------------------------------------------------------------------
    @property
    def can_refresh(self) -> bool:
        return bool(self._refresh_token and self._client_id and self._client_secret)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", "Linkedin-Version": self.version,
                "X-Restli-Protocol-Version": "2.0.0"}

    def _ensure_token(self) -> None:
        """A token known to be expired (or about to) is refreshed when refresh is set up, else refused
        like a 401, without asking LinkedIn."""
        if self._expires_at is None or self._refreshed:
            return
        now = datetime.now(timezone.utc)
        if self.can_refresh and self._expires_at - now < REFRESH_AHEAD:
            self.refresh()
        elif self._expires_at <= now:
            raise AuthFailed(f"the LinkedIn access token expired on {self._expires_at:%Y-%m-%d %H:%M} UTC; "
                             "get a new one (see README, LinkedIn)", status=401)

    def _request(self, method: str, url: str, *, expect_json: bool = True, may_post: bool = False, **kwargs):
        """One call; 401 once refreshes the token (when set up) and repeats: a 401 changed nothing."""
        self._ensure_token()
        extra = kwargs.pop("headers", {})
        for attempt in (1, 2):
            response = self._send(method, url, may_post=may_post, headers={**self._headers(), **extra}, **kwargs)
            if response.status_code == 401 and attempt == 1 and self.can_refresh and not self._refreshed:
                self.refresh()
                continue
            break
        if response.status_code >= 400:
            raise _error(response, may_post)
        if not expect_json:
            return response
        try:
            return response, (response.json() if response.content else {})
        except ValueError:
            raise TransientError(f"LinkedIn's answer ({response.status_code}) could not be read",
                                 maybe_posted=may_post) from None

    def _send(self, method: str, url: str, *, may_post: bool, **kwargs) -> requests.Response:
        try:
            return self.session.request(method, url, timeout=self.timeout, allow_redirects=False, **kwargs)
        except requests.exceptions.ConnectTimeout:
            raise TransientError("LinkedIn did not accept the connection in time") from None
        except requests.exceptions.Timeout:
            raise TransientError("LinkedIn did not answer in time", maybe_posted=may_post) from None
        except requests.exceptions.ConnectionError as error:
            refused = "NewConnectionError" in repr(error) or "Connection refused" in repr(error)
            raise TransientError("could not connect to LinkedIn" if refused else "the connection to LinkedIn broke",
                                 maybe_posted=may_post and not refused) from None
        except requests.exceptions.RequestException as error:
            raise TransientError(f"request to LinkedIn failed ({type(error).__name__})",
                                 maybe_posted=may_post) from None

    def refresh(self) -> None:
        """A new access token from the refresh token (kept in this process only: secrets never leave
        the environment). Raises AuthFailed when LinkedIn refuses the refresh token."""
        response = self._send("POST", f"{self.oauth}/oauth/v2/accessToken", may_post=False, data={
            "grant_type": "refresh_token", "refresh_token": self._refresh_token,
            "client_id": self._client_id, "client_secret": self._client_secret})
        if response.status_code >= 400:
            error = _error(response, False)
            if isinstance(error, (RateLimited, TransientError)):
                raise error
            raise AuthFailed(f"LinkedIn refused the refresh token ({error}); authorise the app again", status=401)
        try:
            body = response.json()
            self._token = body["access_token"]
            self._expires_at = datetime.now(timezone.utc) + timedelta(seconds=int(body.get("expires_in") or 0))
        except (ValueError, KeyError, TypeError):
            raise TransientError("LinkedIn's token answer could not be read") from None
        self._refreshed = True
        if self._store is not None:
            try:
                self._store.save(self.account.name, self._configured, self._token, self._expires_at)
            except OSError:
                pass  # kept for this process; the next one refreshes again

    def token_expiry(self) -> datetime | None:
        """When the access token expires: introspection (needs the client id and secret) or
        CAMPAIGN_<ACCOUNT>_TOKEN_EXPIRES; None when neither says. Raises AuthFailed for a token
        LinkedIn says is no longer active."""
        if not (self._client_id and self._client_secret) or self._refreshed:
            return self._expires_at
        response = self._send("POST", f"{self.oauth}/oauth/v2/introspectToken", may_post=False, data={
            "client_id": self._client_id, "client_secret": self._client_secret, "token": self._token})
        if response.status_code >= 400:
            raise _error(response, False)
        try:
            body = response.json()
        except ValueError:
            raise TransientError("LinkedIn's introspection answer could not be read") from None
        if not body.get("active"):
            raise AuthFailed(f"LinkedIn says the access token is {body.get('status') or 'not active'}", status=401)
        if body.get("scope"):
            self.scopes = tuple(s.strip() for s in str(body["scope"]).split(",") if s.strip())
        if body.get("expires_at"):
            self._expires_at = datetime.fromtimestamp(int(body["expires_at"]), timezone.utc)
        return self._expires_at

    # -- the organisation --------------------------------------------------------------------------
    def organization_urn(self) -> str:
        """urn:li:organization:N of the page; a vanity name is looked up once per process."""
        if self._urn is None:
            if self.organization.isdigit():
                self._urn = f"urn:li:organization:{self.organization}"
            else:
                _, body = self._request("GET", f"{self.api}/rest/organizations",
                                        params={"q": "vanityName", "vanityName": self.organization})
                found = body.get("elements") or []
                if not found:
                    raise Rejected(f"LinkedIn knows no organisation page with the vanity name {self.organization!r}",
                                   status=404)
                self._page = found[0]
                self._urn = f"urn:li:organization:{found[0]['id']}"
        return self._urn

    def whoami(self) -> str:
        urn = self.organization_urn()
        org_id = urn.rsplit(":", 1)[-1]
        if self._page is None:
            _, self._page = self._request("GET", f"{self.api}/rest/organizations/{org_id}")
        _, acls = self._request("GET", f"{self.api}/rest/organizationAcls", params={
            "q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"})
        if urn not in {acl.get("organization") for acl in acls.get("elements") or ()}:
            raise AuthFailed(f"the member whose token this is is not an administrator of {urn}", status=403)
        vanity = self._page.get("vanityName")
        given = self.account.handle.lstrip("@")
        return given if given in (org_id, vanity) else (vanity or org_id)

    # -- posting ---------------------------------------------------------------------------------
    def post(self, part: OutgoingPart, *, reply_to: RemotePost | None, root: RemotePost | None) -> RemotePost:
        if reply_to is not None:
            return self._comment(part, reply_to)
        author = self.organization_urn()
        body = {"author": author, "commentary": little_text(part.text), "visibility": "PUBLIC",
                "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                                 "thirdPartyDistributionChannels": []},
                "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
        content = self._content(part, author)
        if content:
            body["content"] = content
        response, _ = self._request("POST", f"{self.api}/rest/posts", json=body, may_post=True)
        urn = response.headers.get("x-restli-id")
        if not urn:
            raise TransientError("LinkedIn accepted the post but did not say its id", maybe_posted=True)
        return RemotePost(urn, post_url(urn), shown_text(part.text), datetime.now(timezone.utc), {"post": urn})

    def _content(self, part: OutgoingPart, author: str) -> dict | None:
        if part.media:
            images = [{"id": self._upload(path.read_bytes(), author), "altText": alt} for path, alt in part.media]
            return {"media": images[0]} if len(images) == 1 else {"multiImage": {"images": images}}
        return self._article(part, author)

    def _article(self, part: OutgoingPart, author: str) -> dict | None:
        """The link share: LinkedIn builds no preview for a post made through the API, so the card is
        made here as for Bluesky (campaign.send.platforms.link_cards: by hand, or from the page's
        Open Graph metadata, never holding the post back). LinkedIn requires a title."""
        from campaign.send.platforms.link_cards import card_for

        card = getattr(part, "card", True)
        found = card_for(part.text, card, deadline=self.card_deadline, proxy=self.card_proxy)
        if found is None or not found.title:
            return None
        article = {"source": found.uri, "title": found.title}
        if found.description:
            article["description"] = found.description
        if found.image:
            try:
                article["thumbnail"] = self._upload(found.image, author)
            except (RateLimited, TransientError, Rejected):
                pass  # a card's picture is never worth holding the post back
            alt = ((_field(card, "image") or {}).get("alt") if isinstance(card, Mapping) else None)
            if "thumbnail" in article and alt:
                article["thumbnailAltText"] = alt
        return {"article": article}

    def _upload(self, data: bytes, owner: str) -> str:
        _, body = self._request("POST", f"{self.api}/rest/images", params={"action": "initializeUpload"},
                                json={"initializeUploadRequest": {"owner": owner}})
        value = body.get("value") or {}
        if not value.get("uploadUrl") or not value.get("image"):
            raise TransientError("LinkedIn's image upload answer could not be read")
        host = urlsplit(value["uploadUrl"]).hostname or ""
        if not (host == "linkedin.com" or host.endswith(".linkedin.com") or host == urlsplit(self.api).hostname):
            # The upload carries the bearer token: only to LinkedIn (or the stand-in the API is).
            raise Rejected(f"LinkedIn named an upload address outside linkedin.com ({host})")
        self._request("PUT", value["uploadUrl"], data=data, expect_json=False,
                      headers={"Content-Type": "application/octet-stream"})
        return value["image"]

    def _comment(self, part: OutgoingPart, reply_to: RemotePost) -> RemotePost:
        if part.media:
            raise Rejected("a LinkedIn comment cannot carry an image with alt text: put the image in the first "
                           "part of the thread")
        post = reply_to.ref.get("post") or reply_to.id
        top = reply_to.ref.get("top") or (reply_to.id if reply_to.id.startswith("urn:li:comment:") else None)
        text, attributes = comment_message(part.text)
        body = {"actor": self.organization_urn(), "object": post, "message": {"text": text}}
        if attributes:
            body["message"]["attributes"] = attributes
        if top:
            body["parentComment"] = top
        target = top or post
        response, answer = self._request("POST", f"{self.api}/rest/socialActions/{_enc(target)}/comments",
                                         json=body, may_post=True)
        urn = answer.get("$URN") or answer.get("commentUrn")
        if not urn:
            raise TransientError("LinkedIn accepted the comment but did not say its id", maybe_posted=True)
        return RemotePost(urn, _comment_url(post, urn), text, datetime.now(timezone.utc),
                          {"post": post, "top": top or urn})

    # -- reading ---------------------------------------------------------------------------------
    def timeline_pages(self, *, since: datetime | str | None = None,
                       cursor: str | None = None) -> Iterator[Page]:
        """Pages of up to 100 posts of the page as /rest/posts serves them (newest change first),
        with their social metadata in includes["socialMetadata"] (urn -> LinkedIn's object) when the
        token may read it (otherwise notes says which scope is missing). since: a datetime keeps
        posts created at or after it (the walk ends at the first post last changed before it); a
        post urn ends the walk at that post. cursor: the start of the next page."""
        return self._pages(since, cursor, metrics=True)

    def _pages(self, since, cursor, *, metrics: bool) -> Iterator[Page]:
        start = int(cursor) if cursor and str(cursor).isdigit() else 0
        author = self.organization_urn()
        while True:
            _, body = self._request("GET", f"{self.api}/rest/posts", params={
                "author": author, "q": "author", "count": PAGE, "start": start, "sortBy": "LAST_MODIFIED"})
            elements = body.get("elements") or []
            items, done = [], len(elements) < PAGE
            for item in elements:
                if isinstance(since, str) and item.get("id") == since:
                    done = True
                    break
                if isinstance(since, datetime):
                    changed = _ms(item.get("lastModifiedAt") or item.get("createdAt"))
                    if changed is not None and changed < since:
                        done = True
                        break
                    created = _ms(item.get("createdAt"))
                    if created is not None and created < since:
                        continue
                items.append(item)
            start += len(elements)
            includes = {"socialMetadata": self._social_metadata(items)} if metrics and items else {}
            yield Page(tuple(items), None if done else str(start), includes)
            if done:
                return

    def _social_metadata(self, items) -> dict:
        urns = [item["id"] for item in items if item.get("id")]
        if not urns or any(FEED_SCOPES[1] in note for note in self.notes):
            return {}
        try:
            # Rest.li 2.0 lists stay literal (List(…,…)) around the encoded URNs: no params= encoding.
            _, body = self._request("GET", f"{self.api}/rest/socialMetadata?ids=List("
                                    + ",".join(_enc(u) for u in urns) + ")")
        except AuthFailed:
            self.notes.append(f"likes and comment counts left out: the token lacks the {FEED_SCOPES[1]} scope "
                              "(Community Management API)")
            return {}
        return body.get("results") or {}

    def own_post(self, item: dict, page: Page) -> RemotePost | None:
        if item.get("reshareContext") or item.get("author") != self.organization_urn():
            return None
        return RemotePost(item["id"], post_url(item["id"]), from_little_text(item.get("commentary") or ""),
                          _ms(item.get("createdAt")), {"post": item["id"]})

    def recent_posts(self, since: datetime) -> list[RemotePost]:
        """The page's own posts since `since`, and its own comments on them (the later parts of a
        thread), newest first."""
        posts: list[RemotePost] = []
        read = 0
        for page in self._pages(since, None, metrics=False):
            for item in page.items:
                read += 1
                post = self.own_post(item, page)
                if post is not None:
                    posts.append(post)
            if read >= RECENT_LIMIT:
                break
        comments = [c for post in posts for c in self._own_comments(post.id, since)]
        return sorted(posts + comments, key=lambda p: p.created_at or since, reverse=True)

    def _own_comments(self, target: str, since: datetime, *, post: str | None = None) -> list[RemotePost]:
        post = post or target
        out, start = [], 0
        me = self.organization_urn()
        while True:
            _, body = self._request("GET", f"{self.api}/rest/socialActions/{_enc(target)}/comments",
                                    params={"start": start, "count": PAGE})
            elements = body.get("elements") or []
            for comment in elements:
                urn = comment.get("$URN") or comment.get("commentUrn")
                created = _ms((comment.get("created") or {}).get("time"))
                if urn and comment.get("actor") == me and (created is None or created >= since):
                    out.append(RemotePost(urn, _comment_url(post, urn), (comment.get("message") or {}).get("text", ""),
                                          created, {"post": post, "top": comment.get("parentComment") or urn}))
                replies = (comment.get("commentsSummary") or {}).get("aggregatedTotalComments") or 0
                if urn and replies and not comment.get("parentComment"):
                    out.extend(self._own_comments(urn, since, post=post))
            start += len(elements)
            if len(elements) < PAGE:
                return out

    def same_text(self, ours: str, theirs: str) -> bool:
        return normalise_text(shown_text(ours)) == normalise_text(theirs)

    def lookup(self, url: str) -> RemotePost:
        """A post (https://www.linkedin.com/feed/update/urn:li:share:N/) or a comment on one
        (…?commentUrn=urn:li:comment:(…))."""
        parts = urlsplit(url)
        match = re.search(r"(urn:li:(?:share|ugcPost|activity):\d+)", unquote(parts.path))
        if not parts.hostname or not parts.hostname.endswith("linkedin.com") or not match:
            raise Rejected(f"{url} is not a LinkedIn post URL (https://www.linkedin.com/feed/update/urn:li:share:ID/)")
        urn = match.group(1)
        comment = (parse_qs(parts.query).get("commentUrn") or [None])[0]
        if comment:
            return RemotePost(comment, url, "", None, {"post": urn, "top": comment})
        if urn.startswith("urn:li:activity:"):  # a feed activity is commented on as it is, not read as a post
            return RemotePost(urn, post_url(urn), "", None, {"post": urn})
        _, body = self._request("GET", f"{self.api}/rest/posts/{_enc(urn)}")
        return RemotePost(body.get("id") or urn, post_url(body.get("id") or urn),
                          from_little_text(body.get("commentary") or ""), _ms(body.get("createdAt")), {"post": urn})

    def close(self) -> None:
        self.session.close()


def _error(response: requests.Response, may_post: bool) -> PlatformError:
    """LinkedIn's error body ({"status", "serviceErrorCode", "code", "message"}) as our typed error."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = str(body.get("code") or "")
    service = body.get("serviceErrorCode")
    detail = str(body.get("message") or code or response.reason or "").strip()
    message = f"LinkedIn answered {status}" + (f" ({code or service})" if code or service else "") + \
        (f": {detail[:300]}" if detail and detail != code else "")
    if status == 429:
        return RateLimited(message, reset_at=_retry_after(response.headers.get("Retry-After")))
    if status == 401:
        return AuthFailed(message, status=401)
    if status == 426:  # NONEXISTENT_VERSION: every call fails until the version is changed
        return AuthFailed(message + "; set CAMPAIGN_LINKEDIN_VERSION to an active version (YYYYMM)", status=426)
    if status in (409, 422) and "duplicate" in detail.lower():
        return DuplicateContent(message, status=status)
    if status == 403:
        if "unpermitted field" in detail.lower() or code in ("UNPERMITTED_FIELDS", "INVALID_CONTENT"):
            return Rejected(message, status=403)
        if service == 100 or code == "ACCESS_DENIED":
            scope = READ_SCOPE if response.request.method == "GET" else POST_SCOPE
            return AuthFailed(message + f" (does the token have {scope}, and is its member an administrator of "
                                        "the page?)", status=403)
        return AuthFailed(message, status=403)
    if status >= 500:
        # 500 and 504 may have come after the post was stored; 502 and 503 come from before it.
        return TransientError(message, status=status, maybe_posted=may_post and status in (500, 504))
    if status in (408, 425):
        return TransientError(message, status=status, maybe_posted=may_post)
    return Rejected(message, status=status)



def _comment_url(post: str, comment: str) -> str:
    return post_url(post) + "?commentUrn=" + quote(comment, safe="")


def _enc(urn: str) -> str:
    return quote(urn, safe="")


def _ms(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _field(card, name: str):
    if card is None or isinstance(card, bool):
        return None
    return card.get(name) if isinstance(card, Mapping) else getattr(card, name, None)

