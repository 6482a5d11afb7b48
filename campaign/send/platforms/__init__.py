"""One small interface for X, Mastodon and Bluesky; one module each, imported only when needed.

Every method raises only campaign.errors.PlatformError subclasses:
RateLimited (429), TransientError (5xx, timeouts, broken connections; maybe_posted
says whether the request may have been processed), AuthFailed (401/403),
DuplicateContent (X's duplicate-text 403) and Rejected (any other refusal).
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator, Mapping, Protocol

from campaign.credentials import FIELDS_BY_PLATFORM, OPTIONAL_FIELDS_BY_PLATFORM, env_prefix
from campaign.errors import MissingCredentials

TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class AccountInfo:
    name: str
    platform: str
    handle: str
    instance: str | None = None
    organization: str | None = None  # LinkedIn: the page's numeric id or vanity name


@dataclass(frozen=True)
class OutgoingPart:
    text: str
    media: tuple[tuple[Path, str], ...] = ()  # (file, alt text)
    idempotency_key: str = ""
    language: str | None = None  # BCP 47, e.g. "nl"; Bluesky would otherwise tag posts "en"
    # Bluesky's link card: True builds it from the first link's page, False leaves it out, a dict
    # ({"title", "description", "image": {"path", "alt"} | None}) is set by hand in posts.yaml.
    card: bool | dict = True


@dataclass(frozen=True)
class RemotePost:
    id: str
    url: str | None
    text: str = ""
    created_at: datetime | None = None
    ref: dict = field(default_factory=dict)  # what a reply needs besides the id (Bluesky: uri + cid)


@dataclass(frozen=True)
class Page:
    """One page of an account's own timeline, as the platform served it.

    items: the platform's raw objects, untouched, for the archive's mapping (archive.sources.<platform>)
    and for own_post(); includes: what the items refer to (X's `includes`: media, users), empty
    elsewhere; cursor: pass it to timeline_pages(cursor=...) to continue right after this page
    (None: nothing to continue from).
    """

    items: tuple = ()
    cursor: str | None = None
    includes: Mapping = field(default_factory=dict)


RECENT_LIMIT = 3200  # X serves no more of a timeline than this; the others are held to the same bound


class Platform(Protocol):
    """One account on one platform: posts, reads its timeline, looks posts up.

    Every method raises only campaign.errors.PlatformError subclasses, never waits for a rate
    limit and never retries on its own: RateLimited (reset_at when the platform said), TransientError
    (maybe_posted: the request may have been carried out), AuthFailed, Rejected, DuplicateContent.
    """

    idempotent: bool  # True when a retry with the same idempotency key can never post twice

    def whoami(self) -> str:
        """The account's handle as the platform knows it. Raises AuthFailed when the credentials are
        refused, TransientError/RateLimited when the platform cannot answer now."""

    def post(self, part: OutgoingPart, *, reply_to: RemotePost | None, root: RemotePost | None) -> RemotePost:
        """Publish one part (its media with their alt texts), as a reply to reply_to in the thread
        starting at root if given. Raises DuplicateContent (X: identical text exists), Rejected (never
        acceptable as it is), AuthFailed, RateLimited, TransientError (maybe_posted when it may be out)."""

    def timeline_pages(self, *, since: datetime | str | None = None,
                       cursor: str | None = None) -> Iterator[Page]:
        """The account's own timeline, one request per page, read lazily.

        since: a datetime keeps the walk to posts created at or after it (newest first, the walk
        ends at the first older one); a post id (str) to posts newer than that post (X and Bluesky:
        newest first; Mastodon walks forward, oldest first, and each page's cursor is its newest id,
        so it is where the next walk with since=cursor starts); None: all the platform serves, newest
        first. cursor: a page's cursor from an earlier walk with the same since; the walk goes on
        right after that page, so nothing is read twice or skipped. Raises the PlatformErrors of
        the request that fails, after yielding the pages before it.
        """

    def own_post(self, item, page: Page) -> RemotePost | None:
        """A timeline item as a RemotePost, None when it is not the account's own post (a repost)."""

    def recent_posts(self, since: datetime) -> list[RemotePost]:
        """The account's own posts created at or after since, newest first: at most RECENT_LIMIT
        posts are read, whatever the platform. Raises what timeline_pages raises."""

    def same_text(self, ours: str, theirs: str) -> bool:
        """Whether a post read back from the platform is the text we sent (links normalised)."""

    def lookup(self, url: str) -> RemotePost:
        """The post behind a public URL (for replies and for `resolve --sent`). Raises Rejected when
        the URL is not a post of this platform or the post does not exist."""


class TimelineReader:
    """What every platform builds the same way on top of its timeline_pages and own_post."""

    def recent_posts(self, since: datetime) -> list[RemotePost]:
        posts: list[RemotePost] = []
        read = 0
        for page in self.timeline_pages(since=since):
            for item in page.items:
                read += 1
                post = self.own_post(item, page)
                if post is not None and (post.created_at is None or post.created_at >= since):
                    posts.append(post)
            if read >= RECENT_LIMIT:
                break
        return posts

    def same_text(self, ours: str, theirs: str) -> bool:
        return normalise_text(ours) == normalise_text(theirs)


def credentials_for(account: AccountInfo, environ: Mapping[str, str]) -> dict[str, str]:
    prefix = env_prefix(account.name)
    fields = FIELDS_BY_PLATFORM[account.platform]
    missing = [prefix + f for f in fields if not environ.get(prefix + f)]
    if missing:
        raise MissingCredentials(account.name, missing)
    optional = {f.lower(): environ[prefix + f] for f in OPTIONAL_FIELDS_BY_PLATFORM.get(account.platform, ())
                if environ.get(prefix + f)}
    return {**optional, **{f.lower(): environ[prefix + f] for f in fields}}


def connect(account: AccountInfo, environ: Mapping[str, str]) -> Platform:
    """Build the account's platform client; platform libraries are imported here, not before."""
    secrets = credentials_for(account, environ)
    try:
        timeout = float(environ.get("CAMPAIGN_HTTP_TIMEOUT") or TIMEOUT_SECONDS)
    except ValueError:
        timeout = TIMEOUT_SECONDS
    if account.platform == "x":
        from campaign.send.platforms.x import XPlatform

        return XPlatform(account, secrets, api_base=environ.get("CAMPAIGN_X_API_BASE"), timeout=timeout)
    if account.platform == "mastodon":
        from campaign.send.platforms.mastodon import MastodonPlatform

        return MastodonPlatform(account, secrets, timeout=timeout)
    if account.platform == "bluesky":
        from campaign.send.platforms.bluesky import BlueskyPlatform

        return BlueskyPlatform(account, secrets, timeout=timeout,
                               card_deadline=_seconds(environ.get("CAMPAIGN_CARD_TIMEOUT"), 5.0),
                               card_proxy=environ.get("CAMPAIGN_CARD_PROXY"))
    if account.platform == "threads":
        from campaign.send.platforms.threads import ThreadsPlatform

        return ThreadsPlatform(account, secrets, api_base=environ.get("CAMPAIGN_THREADS_API_BASE"), timeout=timeout,
                               media_url=environ.get(env_prefix(account.name) + "MEDIA_URL"),
                               token_file=environ.get("CAMPAIGN_TOKEN_FILE"),
                               token_expires=environ.get(env_prefix(account.name) + "TOKEN_EXPIRES"),
                               poll_interval=_seconds(environ.get("CAMPAIGN_THREADS_POLL_SECONDS"), 1.0))
    if account.platform == "linkedin":
        from campaign.send.platforms.linkedin import LinkedInPlatform

        # The queue keeps a LinkedIn account's organisation where others keep their instance.
        return LinkedInPlatform(account, secrets, organization=account.organization or account.instance or
                                account.handle.lstrip("@"), api_base=environ.get("CAMPAIGN_LINKEDIN_API_BASE"),
                                version=environ.get("CAMPAIGN_LINKEDIN_VERSION"), timeout=timeout,
                                token_file=environ.get("CAMPAIGN_TOKEN_FILE"),
                                card_deadline=_seconds(environ.get("CAMPAIGN_CARD_TIMEOUT"), 5.0),
                                card_proxy=environ.get("CAMPAIGN_CARD_PROXY"))
    raise ValueError(f"unknown platform {account.platform!r}")


def _seconds(value: str | None, default: float) -> float:
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default


_URLISH = re.compile(r"(?:https?://)?(?:[\w-]+\.)+[a-z]{2,}(?:/\S*)?", re.IGNORECASE)


def normalise_text(text: str) -> str:
    """Compare texts across platforms' rewriting: links (t.co, shortened labels) become one token."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    text = _URLISH.sub("<link>", text)
    return " ".join(text.replace("…", "").split())
