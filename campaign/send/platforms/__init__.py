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
from typing import Mapping, Protocol

from campaign.credentials import FIELDS_BY_PLATFORM, env_prefix
from campaign.errors import MissingCredentials

TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class AccountInfo:
    name: str
    platform: str
    handle: str
    instance: str | None = None


@dataclass(frozen=True)
class OutgoingPart:
    text: str
    media: tuple[tuple[Path, str], ...] = ()  # (file, alt text)
    idempotency_key: str = ""
    language: str | None = None  # BCP 47, e.g. "nl"; Bluesky would otherwise tag posts "en"


@dataclass(frozen=True)
class RemotePost:
    id: str
    url: str | None
    text: str = ""
    created_at: datetime | None = None
    ref: dict = field(default_factory=dict)  # what a reply needs besides the id (Bluesky: uri + cid)


class Platform(Protocol):
    idempotent: bool  # True when a retry with the same idempotency key can never post twice

    def whoami(self) -> str:
        """The account's handle as the platform knows it. Raises AuthFailed when rejected."""

    def post(self, part: OutgoingPart, *, reply_to: RemotePost | None, root: RemotePost | None) -> RemotePost:
        """Publish one part, as a reply to reply_to (in the thread starting at root) if given."""

    def recent_posts(self, since: datetime) -> list[RemotePost]:
        """The account's own posts created at or after since (newest first, at most a few hundred)."""

    def same_text(self, ours: str, theirs: str) -> bool:
        """Whether a post read back from the platform is the text we sent (links normalised)."""

    def lookup(self, url: str) -> RemotePost:
        """The post behind a public URL (for replies and for `resolve --sent`)."""


def credentials_for(account: AccountInfo, environ: Mapping[str, str]) -> dict[str, str]:
    prefix = env_prefix(account.name)
    fields = FIELDS_BY_PLATFORM[account.platform]
    missing = [prefix + f for f in fields if not environ.get(prefix + f)]
    if missing:
        raise MissingCredentials(account.name, missing)
    return {f.lower(): environ[prefix + f] for f in fields}


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

        return BlueskyPlatform(account, secrets, timeout=timeout)
    raise ValueError(f"unknown platform {account.platform!r}")


_URLISH = re.compile(r"(?:https?://)?(?:[\w-]+\.)+[a-z]{2,}(?:/\S*)?", re.IGNORECASE)


def normalise_text(text: str) -> str:
    """Compare texts across platforms' rewriting: links (t.co, shortened labels) become one token."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    text = _URLISH.sub("<link>", text)
    return " ".join(text.replace("…", "").split())
