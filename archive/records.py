"""The archive's plain records: what importers and fetchers produce and what exporters,
`archive show` and `archive render` consume. No database, no click.

This is the contract between the parts of the archive package; change it deliberately.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("post", "reply", "repost", "quote")
# Who could see a post, most open first. Direct messages are never archived (no "direct" here);
# "circle" is X's Circle. show, render and export give the first two unless asked for all.
VISIBILITIES = ("public", "unlisted", "followers", "circle")
PUBLIC_VISIBILITIES = ("public", "unlisted")
PLATFORMS = ("x", "mastodon", "bluesky", "linkedin", "threads")


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
    visibility: str = "public"  # one of VISIBILITIES
    content_warning: str | None = None  # shown before the text, which stays hidden until opened
    reposted_account: str | None = None  # a repost: the reposted post's author (text holds its text)
    reposted_url: str | None = None  # a repost: the reposted post's URL (url is the repost's own)
    raw: dict | None = None  # the source JSON, kept for fidelity
    campaign_id: str | None = None  # set when the campaign queue sent this post
    occurrence_key: str | None = None
    quoted_url: str | None = None  # the quoted post's permalink (with quoted_id)
    # The earlier versions of an edited post, oldest first, each {"id", "created_at" (ISO 8601),
    # "text", "links": [[url, expanded, display]]}: the store folds an edit chain into one post,
    # its latest version, and keeps the others here (importers leave it empty).
    versions: tuple[dict, ...] = ()
    # True for a post stored only because a post of the timeline refers to it (a twarc2 page's
    # includes.tweets): not a post of its author's timeline, so left out of listings and stats.
    referenced: bool = False
    # The raw JSON by the source that gave it ({source: JSON}), when a record carries it so (read
    # back from the store, our JSONL export): stored as it is, keeping each source's name. The
    # same JSON as raw, so left out of comparisons.
    raw_sources: dict | None = field(default=None, compare=False)
    # An importer's digest of what its source gave for this post (e.g. the tweet's JSON), stored in
    # the post's sources: importing the same input again is then recognised before it is mapped
    # (SeenAgain). None: the store digests the mapped record instead.
    source_digest: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SeenAgain:
    """A post an importer found stored with the same source digest (ArchivedPost.source_digest): it
    yields this instead of the record, and the store only notes that the post was seen again."""

    platform: str
    remote_id: str


@dataclass(frozen=True)
class ImportNote:
    """Something an importer passed over without failing (e.g. an error line in a twarc2 stream),
    reported and counted by `archive import`. Importers yield it among their posts."""

    record: int | None  # the record (line) number, 1-based
    message: str

    def __str__(self) -> str:
        return (f"record {self.record}: " if self.record is not None else "") + self.message


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
    include_referenced: bool = False  # posts stored only because another post refers to them
    include_private: bool = False  # also followers-only and circle posts (else PUBLIC_VISIBILITIES only)
    newest_first: bool = False
    limit: int | None = None
    ranked: bool = True  # with a search of words or phrases: best match first (False: by time only)

    def __post_init__(self):
        if self.search:  # a query with nothing to search for is refused here, before any work
            from .search import parse

            parse(self.search)
