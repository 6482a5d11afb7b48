"""The archive's plain records: what importers and fetchers produce and what exporters,
`archive show` and `archive render` consume. No database, no click.

This is the contract between the parts of the archive package; change it deliberately.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("post", "reply", "repost", "quote")
PLATFORMS = ("x", "mastodon", "bluesky")


@dataclass(frozen=True)
class Link:
    url: str  # as it appears in the text (e.g. https://t.co/RnqJ4pQbBb)
    expanded_url: str | None = None  # where it leads (t.co expanded from the entities)
    display_url: str | None = None


@dataclass(slots=True)
class ArchivedPost:
    """One post as a value. Treat it as immutable (dataclasses.replace makes a changed copy); it is
    not declared frozen because a frozen dataclass costs five times as much to build, and importers
    build one per post."""

    platform: str  # x | mastodon | bluesky
    remote_id: str  # unique per platform (X: id_str; Mastodon: status id; Bluesky: at:// uri)
    account: str  # the account's handle without '@' (e.g. teamsaantstuur)
    created_at: datetime  # aware, UTC
    text: str  # as shown to readers: HTML entities decoded, HTML turned into text
    kind: str = "post"  # one of KINDS
    url: str | None = None
    language: str | None = None
    reply_to_id: str | None = None
    reply_to_account: str | None = None
    conversation_id: str | None = None
    quoted_id: str | None = None
    reposted_id: str | None = None
    source_app: str | None = None
    metrics: dict = field(default_factory=dict)  # e.g. {"likes": 3, "reposts": 1, "replies": 0, "quotes": 0}
    hashtags: tuple[str, ...] = ()  # without '#', as written
    mentions: tuple[str, ...] = ()  # handles without '@'
    links: tuple[Link, ...] = ()
    media: tuple[dict, ...] = ()  # {"type", "url", "alt"}
    deleted_at: datetime | None = None
    edit_history: tuple[str, ...] = ()  # remote ids of earlier versions, oldest first
    raw: dict | None = None  # the source JSON, kept for fidelity
    campaign_id: str | None = None  # set when the campaign queue sent this post
    occurrence_key: str | None = None


@dataclass(frozen=True)
class PostFilter:
    """Filters shared by export, stats, show and render (all optional)."""

    accounts: tuple[str, ...] = ()
    platform: str | None = None
    since: datetime | None = None  # created_at >= since (aware)
    until: datetime | None = None  # created_at < until (aware)
    hashtag: str | None = None  # case-insensitive, without '#'
    kinds: tuple[str, ...] = ()
    campaign: str | None = None
    search: str | None = None  # a query (archive.search: words, "phrases", #tag, @mention, OR, -term)
    include_deleted: bool = False
    newest_first: bool = False
    limit: int | None = None
    ranked: bool = True  # with a search of words or phrases: best match first (False: by time only)

    def __post_init__(self):
        if self.search:  # a query with nothing to search for is refused here, before any work
            from .search import parse

            parse(self.search)
