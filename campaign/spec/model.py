"""The validated contents of posts.yaml, as plain frozen records."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from campaign.spec.problems import Mark

PLATFORMS = ("x", "mastodon", "bluesky", "linkedin", "threads")
# What `notify:` targets hear about (README, "Notifications").
NOTIFY_EVENTS = ("failed", "unknown", "missed", "account-flagged", "invalid-file", "serve-stopped")
DEFAULT_LATE = timedelta(hours=1)


@dataclass(frozen=True)
class Account:
    """An account posts go out from, as posts.yaml declares it (no secrets: those come from the environment)."""

    name: str
    platform: str
    handle: str
    instance: str | None = None
    max_per_day: int | None = None
    max_chars: int | None = None  # Mastodon instances may allow more than 500
    mark: Mark = Mark()
    # LinkedIn only (required there): the organisation page's numeric id or vanity name.
    organization: str | None = None


@dataclass(frozen=True)
class Media:
    """An image or video attached to a part, with its alt text."""

    path: Path
    alt: str
    mark: Mark = Mark()
    sha256: str | None = None  # of the file's content when posts.yaml was read; None: unreadable


@dataclass(frozen=True)
class Card:
    """A link card set by hand (Bluesky shows it under the post; other platforms ignore it)."""

    title: str | None = None
    description: str | None = None
    image: Media | None = None  # the thumbnail, with its alt text
    mark: Mark = Mark()


@dataclass(frozen=True)
class Part:
    """One post on the platform: the text template, its media and its link card."""

    text: str
    media: tuple[Media, ...] = ()
    mark: Mark = Mark()
    # True: automatic (Bluesky builds the card from the first http(s) link at send time);
    # False: no card; a Card: written by hand in posts.yaml.
    card: Card | bool = True


@dataclass(frozen=True)
class Schedule:
    """Local wall-clock times; conversion to UTC happens per occurrence."""

    at: datetime | None = None  # one-off, naive local time
    rule: str | None = None  # recurrence as an RRULE (without DTSTART)
    times: tuple[tuple[int, int], ...] = ()  # (hour, minute) for recurrences
    start: datetime | None = None  # naive local
    until: datetime | None = None  # naive local, inclusive
    count: int | None = None
    fold: str | None = None  # "earlier" | "later" for ambiguous or missing local times
    mark: Mark = Mark()

    @property
    def recurring(self) -> bool:
        return self.at is None


@dataclass(frozen=True)
class Post:
    """A post of a campaign: its accounts, its text variants (each one part or a thread) and its schedule."""

    id: str
    campaign_id: str
    accounts: tuple[str, ...]
    variants: tuple[tuple[Part, ...], ...]  # each variant is one or more parts (a thread)
    schedule: Schedule
    late: timedelta
    mark: Mark = Mark()
    text_mark: Mark = Mark()


@dataclass(frozen=True)
class Utm:
    """The UTM parameters a campaign adds to links to its own hosts."""

    params: tuple[tuple[str, str], ...]  # ("utm_source", "{platform}"), …
    hosts: frozenset[str]


@dataclass(frozen=True)
class Campaign:
    """A campaign of posts.yaml: its name, time zone, accounts, variables and posts."""

    id: str
    name: str
    timezone: str
    accounts: tuple[str, ...]
    vars: dict
    utm: Utm | None
    posts: tuple[Post, ...]
    mark: Mark = Mark()
    language: str | None = None  # BCP 47, passed to Mastodon and Bluesky
    # How many distinct people must approve each post before it is sent (0: no approval).
    approvals_needed: int = 0


@dataclass(frozen=True)
class NotifyTarget:
    """Where alerts go (an Apprise URL) and which ones.

    `url` is kept as written: `{env:NAME}` placeholders are resolved only when sending, so the
    secret never reaches the database, a log or a message.
    """

    url: str
    campaign_id: str | None = None  # None: the top level, every campaign's events
    events: tuple[str, ...] | None = None  # None: every event
    digest: str | None = None  # "daily": one message a day listing the events
    digest_at: str = "09:00"  # local time of the daily digest
    timezone: str = "UTC"  # of digest_at
    mark: Mark = Mark()


@dataclass(frozen=True)
class CampaignFile:
    """posts.yaml as read and validated: its accounts, campaigns and notification targets."""

    path: Path
    timezone: str
    accounts: dict[str, Account] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    notify: tuple[NotifyTarget, ...] = ()  # top-level and campaign targets together
    post_count: int = 0  # posts written in the file, those with errors included
