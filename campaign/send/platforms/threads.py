"""Threads (Meta) through its Graph API over plain HTTP (requests).

Publishing takes two calls: a media container is created (POST /{user}/threads), its status
is polled until FINISHED, then it is published (POST /{user}/threads_publish). Only the
publish call can make anything public: a lost answer to the container call is harmless (an
unpublished container expires), a lost answer to the publish call puts the post in doubt.
Threads has no idempotency: recovery reads the user's own threads, like Bluesky.

Images: the API fetches them from a public URL (there is no upload). With
CAMPAIGN_<ACCOUNT>_MEDIA_URL set, a media file is sent as that base URL + its file name;
without it a post with images is refused with a message saying so.

The access token goes in the Authorization header (only the token refresh takes it as a URL
parameter, as Threads asks), and no error message names a URL, so none can carry the token.
Long-lived tokens are renewed before they expire and kept in the token file
(campaign.send.platforms.tokens), never in the database.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator
from urllib.parse import quote, urlsplit

import requests

from campaign.credentials import env_prefix
from campaign.errors import AuthFailed, PlatformError, RateLimited, Rejected, TransientError
from campaign.send.platforms import (RECENT_LIMIT, TIMEOUT_SECONDS, AccountInfo, OutgoingPart, Page, RemotePost,
                                     TimelineReader, tokens)
from campaign.spec.cards import card_link
from campaign.send.platforms.times import parse_iso_time as parse_time, retry_after as _retry_after

DEFAULT_HOST = "https://graph.threads.net"
VERSION = "v1.0"
PAGE = 100  # the most /threads serves per request
FIELDS = ("id,media_product_type,media_type,media_url,permalink,username,text,timestamp,shortcode,children,"
          "is_quote_post,quoted_post,reposted_post,alt_text,link_attachment_url,is_reply,replied_to,root_post,"
          "topic_tag")
# Container polling: immediately, then waits growing to POLL_CAP; the whole wait stays under a minute.
POLLS = 8
POLL_CAP = 10.0
CAROUSEL_MAX = 20
# Graph API error codes: 190 expired/invalid token, 102 session, 10 and 200-299 permissions;
# 4, 17, 32, 613 are request limits; 1 and 2 "try again later".
AUTH_CODES = {102, 190, 10} | set(range(200, 300))
LIMIT_CODES = {4, 17, 32, 613}
TRANSIENT_CODES = {1, 2}


class ThreadsPlatform(TimelineReader):
    idempotent = False

    def __init__(self, account: AccountInfo, secrets: dict[str, str], *, api_base: str | None = None,
                 timeout: float = TIMEOUT_SECONDS, media_url: str | None = None, token_file: str | None = None,
                 poll_interval: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 token_expires: str | None = None):
        self.account = account
        self.host = (api_base or DEFAULT_HOST).rstrip("/")
        self.base = f"{self.host}/{VERSION}"
        self.timeout = timeout
        self.media_url = media_url.rstrip("/") + "/" if media_url else None
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.session = requests.Session()
        self._configured_token = secrets["access_token"]
        self._store = tokens.TokenStore(token_file) if token_file else None
        self._token = self._store.current(account.name, self._configured_token) if self._store else None
        self._token = self._token or self._configured_token
        self._refresh_checked = False
        self._configured_expiry = _expiry(token_expires) if token_expires else None
        self._me: dict | None = None
        self._insights_allowed = True
        self.notes: list[str] = []  # what the token could not read (archive fetch reports them)

    # -- HTTP ------------------------------------------------------------------
    def _request(self, method: str, path: str, *, params: dict | None = None, publishes: bool = False,
                 url: str | None = None, auth: bool = True) -> dict:
        """One Graph API call; publishes: whether the call can make something public (then a
        lost answer means the post may be out). Raises the PlatformError subclasses only."""
        if auth and not self._refresh_checked:
            self._refresh_checked = True
            self._refresh_if_due()
        headers = {"Authorization": f"Bearer {self._token}"} if auth else {}
        try:
            response = self.session.request(method, url or f"{self.base}/{path}", params=params, headers=headers,
                                            timeout=self.timeout, allow_redirects=False)
        except requests.ConnectionError as error:
            refused = isinstance(error, requests.exceptions.ConnectTimeout) or "refused" in str(error).lower() \
                or "NewConnectionError" in str(error)
            raise TransientError("could not connect to Threads" if refused else "the connection to Threads broke",
                                 maybe_posted=publishes and not refused) from None
        except requests.Timeout:
            raise TransientError("Threads did not answer in time", maybe_posted=publishes) from None
        except requests.RequestException as error:
            raise TransientError(f"the request to Threads failed ({type(error).__name__})",
                                 maybe_posted=publishes) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code < 300:
            if not isinstance(body, dict):
                raise TransientError("Threads' answer could not be read", maybe_posted=publishes,
                                     status=response.status_code)
            return body
        raise _error(response, body)

    def _refresh_if_due(self) -> None:
        """Refresh the long-lived token when the token file says it is due; a failure is left to
        the call itself (an expired token answers 190) and to `campaign accounts check`."""
        if self._store is None or not self._store.due(self.account.name, self._configured_token):
            return
        try:
            self._store.note_attempt(self.account.name, self._configured_token)
            self.refresh_token()
        except (PlatformError, OSError):
            pass  # an unwritable token file: the renewed token still serves this process

    def refresh_token(self) -> datetime:
        """Exchange the current long-lived token for a fresh one (60 days) and keep it in the token
        file. Returns its expiry. Raises AuthFailed when Threads refuses (an expired token cannot
        be refreshed: a new one has to be made)."""
        self._refresh_checked = True
        # The one call with the token in its URL (Threads asks it so): its errors carry no URL.
        body = self._request("GET", "", url=f"{self.host}/refresh_access_token", auth=False,
                             params={"grant_type": "th_refresh_token", "access_token": self._token})
        token, expires_in = body.get("access_token"), body.get("expires_in")
        if not token or not isinstance(expires_in, int):
            raise TransientError("Threads' answer to the token refresh could not be read")
        expires_at = datetime.now(timezone.utc) + timedelta(seconds=expires_in)
        self._token = token
        if self._store is not None:
            self._store.save(self.account.name, self._configured_token, token, expires_at)
        return expires_at

    @property
    def can_refresh(self) -> bool:
        """Whether the token is renewed before it expires (there is a token file to keep it in)."""
        return self._store is not None

    def token_expiry(self) -> datetime | None:
        """When the token in use expires: as the token file knows it, else as configured
        (CAMPAIGN_<ACCOUNT>_TOKEN_EXPIRES), else None."""
        known = self._store.expires_at(self.account.name, self._configured_token) if self._store else None
        return known or self._configured_expiry

    # -- who ---------------------------------------------------------------------
    def me(self) -> dict:
        if self._me is None:
            self._me = self._request("GET", "me", params={"fields": "id,username"})
        return self._me

    def whoami(self) -> str:
        return "@" + str(self.me().get("username") or self.account.handle.lstrip("@"))

    # -- posting -----------------------------------------------------------------
    def post(self, part: OutgoingPart, *, reply_to: RemotePost | None, root: RemotePost | None) -> RemotePost:
        user = self.me()["id"]
        params: dict[str, str] = {"text": part.text}
        if reply_to is not None:
            params["reply_to_id"] = reply_to.id
        if len(part.media) > CAROUSEL_MAX:
            raise Rejected(f"Threads takes at most {CAROUSEL_MAX} images in one post")
        if len(part.media) == 1:
            path, alt = part.media[0]
            params.update(media_type="IMAGE", image_url=self._public_url(path), alt_text=alt)
        elif part.media:
            children = []
            for path, alt in part.media:
                item = self._container(user, {"media_type": "IMAGE", "is_carousel_item": "true",
                                              "image_url": self._public_url(path), "alt_text": alt})
                children.append(item)
            for child in children:
                self._wait_until_ready(child)
            params.update(media_type="CAROUSEL", children=",".join(children))
        else:
            params["media_type"] = "TEXT"
            link = card_link(part.text) if getattr(part, "card", True) is not False else None
            if link:
                params["link_attachment"] = link
        container = self._container(user, params)
        self._wait_until_ready(container)
        published = self._request("POST", f"{user}/threads_publish", params={"creation_id": container},
                                  publishes=True)
        media_id = published.get("id")
        if not media_id:
            raise TransientError("Threads' answer to the publish call could not be read", maybe_posted=True)
        return RemotePost(str(media_id), self._permalink(str(media_id)), part.text, datetime.now(timezone.utc))

    def _public_url(self, path) -> str:
        if self.media_url is None:
            raise Rejected(f"Threads takes images only from a public web address; publish the media files and "
                           f"set {env_prefix(self.account.name)}MEDIA_URL to the address they are "
                           f"served under (file '{path.name}')")
        return self.media_url + quote(path.name)

    def _container(self, user: str, params: dict[str, str]) -> str:
        body = self._request("POST", f"{user}/threads", params=params)
        if not body.get("id"):
            raise TransientError("Threads' answer to the container call could not be read")
        return str(body["id"])

    def _wait_until_ready(self, container: str) -> None:
        """Poll the container until FINISHED (at most POLLS times). ERROR and EXPIRED are refusals;
        still IN_PROGRESS after the last poll: nothing was published, so a later attempt may try
        again."""
        delay = self.poll_interval
        for poll in range(POLLS):
            state = self._request("GET", container, params={"fields": "id,status,error_message"})
            status = state.get("status")
            if status in ("FINISHED", None):  # None: an API version that does not report it
                return
            if status == "PUBLISHED":
                raise Rejected("the Threads container was already published")
            if status in ("ERROR", "EXPIRED"):
                detail = state.get("error_message") or status.lower()
                hint = "; Threads fetches each image from its public address (a JPEG or PNG of at most 8 MB)"
                raise Rejected(f"Threads could not prepare the post ({detail})"
                               + (hint if "DOWNLOAD" in str(detail).upper() else ""))
            if poll < POLLS - 1:
                self.sleep(delay)
                delay = min(POLL_CAP, delay * 2)
        raise TransientError("Threads was still preparing the post after waiting; it was not published")

    def _permalink(self, media_id: str) -> str | None:
        try:
            return self._request("GET", media_id, params={"fields": "permalink"}).get("permalink")
        except PlatformError:
            return None  # it is out; the URL is a nicety that `campaign history` can live without

    # -- reading -----------------------------------------------------------------
    def timeline_pages(self, *, since: datetime | str | None = None,
                       cursor: str | None = None) -> Iterator[Page]:
        """Pages of up to 100 of the user's own posts (Graph API JSON objects): first the
        top-level threads, newest first, then the replies (the later parts of a thread), newest
        first; Threads lists the two apart. cursor: "threads:AFTER" or "replies:AFTER" ("replies:"
        starts the second walk). A datetime since is passed to the API (Unix seconds) and also
        enforced here; a post id since is turned into its time (whole seconds: posts of that same
        second come too, the post itself does not). Raises the PlatformError subclasses."""
        user = self.me()["id"]
        since_id = since if isinstance(since, str) else None
        if since_id is not None:
            since = parse_time(self._request("GET", since_id, params={"fields": "id,timestamp"}).get("timestamp"))
        start, _, after = (cursor or "threads:").partition(":")
        edges = ("threads", "replies")
        if start not in edges:
            raise Rejected(f"not a Threads timeline cursor: {cursor!r}")
        for edge in edges[edges.index(start):]:
            while True:
                params = {"fields": FIELDS, "limit": str(PAGE)}
                if since is not None:
                    params["since"] = str(int(since.timestamp()))
                if after:
                    params["after"] = after
                body = self._request("GET", f"{user}/{edge}", params=params)
                items, done = [], False
                for item in body.get("data") or ():
                    if since is not None and (parse_time(item.get("timestamp")) or since) < since:
                        done = True
                        break
                    if str(item.get("id")) != since_id:  # newer than that post: not the post itself
                        items.append(item)
                paging = body.get("paging") or {}
                following = (paging.get("cursors") or {}).get("after")
                more = bool(items and not done and paging.get("next") and following)
                after = following if more else ""
                last = not more and edge == edges[-1]
                yield Page(tuple(items), None if last else f"{edge}:{after}" if more else "replies:")
                if not more:
                    break

    def own_post(self, item: dict, page: Page) -> RemotePost | None:
        if item.get("media_type") == "REPOST_FACADE":
            return None
        return RemotePost(str(item["id"]), item.get("permalink"), item.get("text") or "",
                          parse_time(item.get("timestamp")))

    def with_insights(self, page: Page) -> Page:
        """The page with each post's insights under "insights" (for archive.sources.threads), as
        far as the token may read them: without threads_manage_insights they are left out, once
        noted in `notes`."""
        if not self._insights_allowed:
            return page
        items = []
        for item in page.items:
            found = self.insights(str(item["id"])) if item.get("media_type") != "REPOST_FACADE" else None
            if found is None and not self._insights_allowed:
                return page
            items.append({**item, "insights": found} if found is not None else item)
        return Page(tuple(items), page.cursor, page.includes)

    def insights(self, media_id: str) -> dict[str, int] | None:
        """likes, replies, reposts, quotes (and views) of one post; None when the token lacks
        threads_manage_insights. Raises the other PlatformErrors."""
        try:
            body = self._request("GET", f"{media_id}/insights",
                                 params={"metric": "views,likes,replies,reposts,quotes"})
        except AuthFailed as error:
            if error.status == 403:
                self._insights_allowed = False
                self.notes.append("no likes, replies, reposts or quotes: the token lacks the "
                                  "threads_manage_insights permission")
                return None
            raise
        out = {}
        for metric in body.get("data") or ():
            values = metric.get("values") or [{}]
            value = values[0].get("value") if values else None
            if isinstance(value, int):
                out[metric.get("name")] = value
        return out

    def lookup(self, url: str) -> RemotePost:
        parts = urlsplit(url)
        path = parts.path.rstrip("/").split("/")
        if parts.hostname not in ("www.threads.net", "threads.net", "www.threads.com", "threads.com") \
                or len(path) < 4 or path[-2] != "post":
            raise Rejected(f"{url} is not a Threads post URL (https://www.threads.net/@USER/post/CODE)")
        code = path[-1]
        # The API looks posts up by id only: find the shortcode among the account's own posts.
        read = 0
        for page in self.timeline_pages():
            for item in page.items:
                if item.get("shortcode") == code or (item.get("permalink") or "").rstrip("/").endswith("/" + code):
                    return RemotePost(str(item["id"]), item.get("permalink"), item.get("text") or "",
                                      parse_time(item.get("timestamp")))
            read += len(page.items)
            if read >= RECENT_LIMIT:
                break
        raise Rejected(f"{url} is not one of this account's threads (Threads' API can reply only to posts it "
                       f"can look up by id)")


def _error(response, body) -> PlatformError:
    """The PlatformError for a non-2xx Graph API answer ({"error": {"message", "type", "code", …}})."""
    status = response.status_code
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    message = str(error.get("error_user_msg") or error.get("message") or f"HTTP {status}")[:300]
    text = f"Threads answered {status}" + (f" (code {code})" if code is not None else "") + f": {message}"
    if status == 429 or code in LIMIT_CODES:
        return RateLimited(text, reset_at=_retry_after(response.headers.get("Retry-After")), status=status)
    if status == 401 or code in AUTH_CODES:
        return AuthFailed(text, status=403 if status == 403 else 401)
    if status == 403:
        return AuthFailed(text, status=403)
    if status >= 500 or code in TRANSIENT_CODES or error.get("is_transient") is True:
        return TransientError(text, status=status)
    return Rejected(text, status=status)



def _expiry(value: str) -> datetime | None:
    """CAMPAIGN_<ACCOUNT>_TOKEN_EXPIRES: a date (the end of that day, UTC) or an ISO time."""
    value = value.strip()
    if len(value) == 10:
        day = parse_time(value)
        return day + timedelta(days=1) - timedelta(seconds=1) if day else None
    return parse_time(value)
