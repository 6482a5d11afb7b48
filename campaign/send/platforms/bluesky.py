"""Bluesky through the atproto SDK. Links, #tags and @mentions become facets (a plain
string gets no clickable links); links are shown shortened, the facet carries the
full URL. No idempotency on Bluesky: recovery reads the author feed."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Iterator

import httpx
from atproto import Client, client_utils, models
from atproto_client import exceptions as at_errors
from atproto_client.request import Request

from campaign.errors import AuthFailed, PlatformError, RateLimited, Rejected, TransientError
from campaign.spec.text import bluesky_display
from campaign.send.platforms import (TIMEOUT_SECONDS, AccountInfo, OutgoingPart, Page, RemotePost, TimelineReader,
                                     normalise_text)
from campaign.send.platforms.times import parse_iso_time as _parse_time

DEFAULT_SERVICE = "https://bsky.social"
PAGE = 100  # the most getAuthorFeed serves per request
_TAG = re.compile(r"(?<![\w#])#([^\s#.,:;!?()\[\]{}\"']*[^\d\s#.,:;!?()\[\]{}\"'][^\s#.,:;!?()\[\]{}\"']*)")
_MENTION = re.compile(r"(?<![\w@])@([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+)")


class BlueskyPlatform(TimelineReader):
    idempotent = False

    def __init__(self, account: AccountInfo, secrets: dict[str, str], *, timeout: float = TIMEOUT_SECONDS,
                 card_deadline: float | None = None, card_proxy: str | None = None):
        self.account = account
        self.card_deadline = card_deadline if card_deadline is not None else 5.0
        self.card_proxy = card_proxy
        service = (account.instance or DEFAULT_SERVICE).rstrip("/")
        self.client = Client(base_url=service + "/xrpc", request=Request(timeout=timeout))
        self._password = secrets["app_password"]
        self._logged_in = False

    def _call(self, function, *args, **kwargs):
        if not self._logged_in and function != self._login:
            self._call(self._login)
        try:
            return function(*args, **kwargs)
        except at_errors.RateLimitExceededError as error:
            raise RateLimited("Bluesky answered 429 (rate limited)", reset_at=error.reset_at) from None
        except at_errors.UnauthorizedError as error:
            raise AuthFailed(f"Bluesky answered {_status(error)}: {_detail(error)}", status=_status(error)) from None
        except at_errors.BadRequestError as error:
            raise Rejected(f"Bluesky answered 400: {_detail(error)}", status=400) from None
        except at_errors.InvokeTimeoutError:
            raise TransientError("Bluesky did not answer in time", maybe_posted=True) from None
        except at_errors.NetworkError as error:
            if error.response is not None:
                raise TransientError(f"Bluesky answered {_status(error)}", status=_status(error)) from None
            refused = isinstance(error.__cause__, httpx.ConnectError)
            raise TransientError("could not connect to Bluesky" if refused else "the connection to Bluesky broke",
                                 maybe_posted=not refused) from None
        except at_errors.RequestException as error:
            status = _status(error)
            if status and status >= 500:
                raise TransientError(f"Bluesky answered {status}", status=status) from None
            raise Rejected(f"Bluesky answered {status}: {_detail(error)}", status=status) from None
        except (at_errors.ModelError, ValueError):
            # A 2xx whose body is not the JSON the lexicon promises: the call may have been carried out.
            raise TransientError("Bluesky's answer could not be read", maybe_posted=True) from None
        except at_errors.AtProtocolError as error:
            raise PlatformError(f"Bluesky client error: {type(error).__name__}") from None
        except httpx.ConnectError:
            raise TransientError("could not connect to Bluesky") from None
        except httpx.HTTPError:
            # e.g. RemoteProtocolError: the server closed the connection without an answer.
            raise TransientError("the connection to Bluesky broke", maybe_posted=True) from None

    def _login(self):
        self.client.login(self.account.handle.lstrip("@"), self._password)
        self._logged_in = True

    def whoami(self) -> str:
        self._call(self._login)
        return "@" + self.client.me.handle if self.client.me else "@" + self.account.handle.lstrip("@")

    def _did(self) -> str:
        if not self._logged_in:
            self._call(self._login)
        return self.client.me.did

    def rich_text(self, text: str) -> client_utils.TextBuilder:
        shown, links = bluesky_display(text)
        spans = [(start, end, "link", url) for start, end, url in links]
        taken = [(s, e) for s, e, _, _ in spans]
        free = lambda s, e: all(e <= a or s >= b for a, b in taken)  # noqa: E731
        for match in _TAG.finditer(shown):
            if free(match.start(), match.end()):
                spans.append((match.start(), match.end(), "tag", match.group(1)))
        for match in _MENTION.finditer(shown):
            if free(match.start(), match.end()):
                did = self._resolve(match.group(1))
                if did:
                    spans.append((match.start(), match.end(), "mention", did))
        builder, position = client_utils.TextBuilder(), 0
        for start, end, kind, target in sorted(spans):
            if start > position:
                builder.text(shown[position:start])
            getattr(builder, kind)(shown[start:end], target)
            position = end
        if position < len(shown):
            builder.text(shown[position:])
        return builder

    def _resolve(self, handle: str) -> str | None:
        try:
            return self._call(self.client.resolve_handle, handle).did
        except PlatformError:
            return None  # an unknown handle stays plain text

    def post(self, part: OutgoingPart, *, reply_to: RemotePost | None, root: RemotePost | None) -> RemotePost:
        embed = None
        if part.media:
            images = []
            for path, alt in part.media:
                blob = self._call(self.client.upload_blob, path.read_bytes()).blob
                images.append(models.AppBskyEmbedImages.Image(alt=alt, image=blob))
            embed = models.AppBskyEmbedImages.Main(images=images)
        elif part.card is not False:  # a post has one embed: its images, else its link card
            embed = self._link_card(part)
        reply = None
        if reply_to is not None:
            parent = _strong_ref(reply_to)
            reply = models.AppBskyFeedPost.ReplyRef(parent=parent, root=_strong_ref(root) if root else
                                                    _root_of(reply_to, parent))
        builder = self.rich_text(part.text)
        response = self._call(self.client.send_post, builder, reply_to=reply, embed=embed,
                              langs=[part.language] if part.language else None)
        return RemotePost(response.uri, self._url(response.uri), builder.build_text(), datetime.now(timezone.utc),
                          {"uri": response.uri, "cid": response.cid,
                           "root": (root.ref if root else None) or _root_dict(reply_to)})

    def _link_card(self, part: OutgoingPart):
        """The post's app.bsky.embed.external, or None: a card that cannot be made (page down,
        thumbnail refused) leaves the post without it, or without the thumbnail."""
        from campaign.send.platforms.link_cards import card_for

        card = card_for(part.text, part.card, deadline=self.card_deadline, proxy=self.card_proxy)
        if card is None:
            return None
        thumb = None
        if card.image:
            try:
                thumb = self._call(self.client.upload_blob, card.image).blob
            except (RateLimited, TransientError, Rejected):
                thumb = None  # AuthFailed goes on: the post itself would meet it next
        return models.AppBskyEmbedExternal.Main(external=models.AppBskyEmbedExternal.External(
            uri=card.uri, title=card.title, description=card.description, thumb=thumb))

    def _url(self, uri: str) -> str:
        return f"https://bsky.app/profile/{self.account.handle.lstrip('@')}/post/{uri.rsplit('/', 1)[-1]}"

    def same_text(self, ours: str, theirs: str) -> bool:
        return normalise_text(bluesky_display(ours)[0]) == normalise_text(theirs)

    def timeline_pages(self, *, since: datetime | str | None = None,
                       cursor: str | None = None) -> Iterator[Page]:
        """Pages of 100 author-feed items as lexicon JSON ({"post": {...}, "reason": ...}), newest
        first; cursor is the feed's cursor. The feed cannot be asked for "since", so the walk stops
        at the first item older than a datetime since (by feed_time) or at the post whose uri is
        since. Raises the PlatformError subclasses."""
        did = self._did()
        while True:
            page = self._call(self.client.get_author_feed, actor=did, cursor=cursor, limit=PAGE)
            feed = page.model_dump(mode="json", by_alias=True, exclude_none=True)
            items, done = [], False
            for item in feed.get("feed") or ():
                if isinstance(since, str) and item["post"]["uri"] == since and not item.get("reason"):
                    done = True
                elif isinstance(since, datetime) and (feed_time(item) or since) < since:
                    done = True
                if done:
                    break
                items.append(item)
            cursor = None if done or not items else feed.get("cursor")
            yield Page(tuple(items), cursor)
            if not cursor:
                return

    def own_post(self, item: dict, page: Page) -> RemotePost | None:
        post = item["post"]
        if item.get("reason") or (post.get("author") or {}).get("did") != self._did():
            return None
        record = post.get("record") or {}
        return RemotePost(post["uri"], self._url(post["uri"]), record.get("text") or "",
                          _parse_time(record.get("createdAt")), {"uri": post["uri"], "cid": post["cid"]})

    def did(self) -> str:
        return self._did()

    def lookup(self, url: str) -> RemotePost:
        match = re.match(r"https://bsky\.app/profile/([^/]+)/post/([^/?#]+)", url)
        if not match:
            raise Rejected(f"{url} is not a Bluesky post URL (https://bsky.app/profile/HANDLE/post/ID)")
        actor, rkey = match.groups()
        did = actor if actor.startswith("did:") else self._call(self.client.resolve_handle, actor).did
        uri = f"at://{did}/app.bsky.feed.post/{rkey}"
        found = self._call(self.client.get_posts, [uri]).posts
        if not found:
            raise Rejected(f"{url} was not found")
        post = found[0]
        reply = getattr(post.record, "reply", None)
        root = {"uri": reply.root.uri, "cid": reply.root.cid} if reply else None
        return RemotePost(post.uri, url, post.record.text, None, {"uri": post.uri, "cid": post.cid, "root": root})


def _strong_ref(post: RemotePost):
    return models.ComAtprotoRepoStrongRef.Main(uri=post.ref.get("uri", post.id), cid=post.ref["cid"])


def _root_dict(post: RemotePost | None) -> dict | None:
    if post is None:
        return None
    return post.ref.get("root") or {"uri": post.ref.get("uri", post.id), "cid": post.ref.get("cid")}


def _root_of(reply_to: RemotePost, parent):
    root = reply_to.ref.get("root")
    if root:
        return models.ComAtprotoRepoStrongRef.Main(uri=root["uri"], cid=root["cid"])
    return parent


def feed_time(item: dict) -> datetime | None:
    """When an author-feed item (lexicon JSON) entered the feed: a repost when it was reposted,
    a post when it was indexed (its own createdAt is whatever the writing client claimed)."""
    reason = item.get("reason") or {}
    post = item.get("post") or {}
    return _parse_time(reason.get("indexedAt") or post.get("indexedAt") or (post.get("record") or {}).get("createdAt"))



def _status(error) -> int | None:
    return getattr(error.response, "status_code", None) if error.response is not None else None


def _detail(error) -> str:
    content = getattr(error.response, "content", None)
    message = getattr(content, "message", None) or getattr(content, "error", None)
    return str(message) if message else "request refused"
