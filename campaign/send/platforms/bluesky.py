"""Bluesky through the atproto SDK. Links, #tags and @mentions become facets (a plain
string gets no clickable links); links are shown shortened, the facet carries the
full URL. No idempotency on Bluesky: recovery reads the author feed."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import httpx
from atproto import Client, client_utils, models
from atproto_client import exceptions as at_errors
from atproto_client.request import Request

from campaign.errors import AuthFailed, PlatformError, RateLimited, Rejected, TransientError
from campaign.spec.text import bluesky_display
from campaign.send.platforms import TIMEOUT_SECONDS, AccountInfo, OutgoingPart, RemotePost, normalise_text

DEFAULT_SERVICE = "https://bsky.social"
_TAG = re.compile(r"(?<![\w#])#([^\s#.,:;!?()\[\]{}\"']*[^\d\s#.,:;!?()\[\]{}\"'][^\s#.,:;!?()\[\]{}\"']*)")
_MENTION = re.compile(r"(?<![\w@])@([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+)")


class BlueskyPlatform:
    idempotent = False

    def __init__(self, account: AccountInfo, secrets: dict[str, str], *, timeout: float = TIMEOUT_SECONDS):
        self.account = account
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

    def _url(self, uri: str) -> str:
        return f"https://bsky.app/profile/{self.account.handle.lstrip('@')}/post/{uri.rsplit('/', 1)[-1]}"

    def recent_posts(self, since: datetime) -> list[RemotePost]:
        did, out, cursor = self._did(), [], None
        for _ in range(64):  # pages of 50, newest first; stops at the first post older than `since`
            page = self._call(self.client.get_author_feed, actor=did, cursor=cursor, limit=50)
            for item in page.feed:
                if getattr(item, "reason", None) is not None or item.post.author.did != did:
                    continue
                created = _parse_time(getattr(item.post.record, "created_at", None))
                if created is not None and created < since:
                    return out
                out.append(RemotePost(item.post.uri, self._url(item.post.uri), item.post.record.text, created,
                                      {"uri": item.post.uri, "cid": item.post.cid}))
            cursor = page.cursor
            if not cursor:
                break
        return out

    def same_text(self, ours: str, theirs: str) -> bool:
        return normalise_text(bluesky_display(ours)[0]) == normalise_text(theirs)

    def timeline_page(self, *, cursor: str | None = None, limit: int = 100) -> dict:
        """One raw page of the account's author feed, newest first, as lexicon JSON:
        {"feed": [{"post": {...}, "reason": ...}, ...], "cursor": "..."}. Pass the page's cursor for
        the next (older) page. Raises the PlatformError subclasses; never waits.
        """
        page = self._call(self.client.get_author_feed, actor=self._did(), cursor=cursor, limit=limit)
        return page.model_dump(mode="json", by_alias=True, exclude_none=True)

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


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _status(error) -> int | None:
    return getattr(error.response, "status_code", None) if error.response is not None else None


def _detail(error) -> str:
    content = getattr(error.response, "content", None)
    message = getattr(content, "message", None) or getattr(content, "error", None)
    return str(message) if message else "request refused"
