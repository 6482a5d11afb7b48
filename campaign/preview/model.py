"""The view model of a preview: one queued occurrence (a scheduled_posts row) and its account, as
the platform will show it. Built without any template engine, so the web workspace, the CLI and
the tests read the same facts: the final text (variables filled in, UTM added), the segments as
shown, the length counted exactly as `campaign check` counts it, the images with their alt text,
and when it goes out in the campaign's zone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from campaign.preview.segments import Segment, safe_href, segments, shown
from campaign.spec.text import LIMITS, length

PLATFORM_NAMES = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky", "linkedin": "LinkedIn", "threads": "Threads"}
DEFAULT_HOSTS = {"x": "x.com", "bluesky": "bsky.social", "linkedin": "linkedin.com", "threads": "threads.net"}
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True)
class AccountView:
    name: str  # its posts.yaml name
    platform: str  # x | mastodon | bluesky
    handle: str  # @teamsaantstuur, @team@social.example, @team.bsky.social
    instance: str | None  # as configured (Mastodon's server, a Bluesky PDS), or None

    @property
    def platform_name(self) -> str:
        return PLATFORM_NAMES.get(self.platform, self.platform)

    @property
    def host(self) -> str:
        """Where the account lives: the instance's host, else the platform's own."""
        if self.instance and self.platform != "linkedin":  # the queue keeps LinkedIn's organisation there
            try:
                host = urlsplit(self.instance if "://" in self.instance else "https://" + self.instance).hostname
            except ValueError:
                host = None
            if host:
                return host
        return DEFAULT_HOSTS.get(self.platform, "")

    @property
    def shown_handle(self) -> str:
        """As the platform shows it: Mastodon's with its server (@team@social.example)."""
        if self.platform == "linkedin":  # a page's address (a numeric id leads there too)
            return "linkedin.com/company/" + self.handle.strip().lstrip("@")
        handle = "@" + self.handle.strip().lstrip("@")
        if self.platform == "mastodon" and "@" not in handle[1:] and self.host:
            handle += "@" + self.host
        return handle

    @property
    def server(self) -> str | None:
        """A Bluesky account's own PDS, when posts.yaml names one (its handle does not show it)."""
        return self.host if self.platform == "bluesky" and self.instance else None

    @property
    def initial(self) -> str:
        letters = [c for c in self.handle.lstrip("@") if c.isalnum()]
        return letters[0].upper() if letters else "?"


@dataclass(frozen=True)
class MediaView:
    index: int  # position in its part, from 0
    path: str  # absolute path on this machine
    alt: str
    sha256: str | None = None  # as stored in the queue, when it was
    exists: bool = False
    size: int | None = None  # bytes
    kind: str | None = None  # by content (campaign.spec.media.sniff): image/png … video/mp4, or None

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def alt_missing(self) -> bool:
        return not self.alt.strip()

    @property
    def is_image(self) -> bool:
        return self.exists and (self.kind or "").startswith("image/")


@dataclass(frozen=True)
class PartView:
    index: int  # from 0
    total: int
    text: str  # the final text, as it is sent (variables filled in, UTM added)
    segments: tuple[Segment, ...]  # as readers see it
    length: int  # as `campaign check` counts it
    limit: int
    media: tuple[MediaView, ...] = ()

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def shown(self) -> str:
        """The text as readers see it (links shortened)."""
        return shown(self.segments)

    @property
    def over(self) -> bool:
        return self.length > self.limit

    @property
    def remaining(self) -> int:
        return self.limit - self.length

    @property
    def links(self) -> tuple[Segment, ...]:
        return tuple(s for s in self.segments if s.kind == "link")


@dataclass(frozen=True)
class PostView:
    id: int
    key: str
    account: AccountView
    campaign_id: str | None
    post_id: str | None
    variant: int  # from 0, as stored
    state: str
    due_at: datetime  # UTC
    local_time: datetime  # aware, in the campaign's zone
    timezone: str
    parts: tuple[PartView, ...]
    language: str | None = None  # BCP 47 (only a well-formed tag is kept)
    last_error: str | None = None
    remote_url: str | None = None  # only an http(s) URL is kept
    reply_to_url: str | None = None  # only an http(s) URL is kept
    source: str = "file"

    @property
    def platform(self) -> str:
        return self.account.platform

    @property
    def over(self) -> bool:
        return any(part.over for part in self.parts)

    @property
    def alt_missing(self) -> bool:
        return any(m.alt_missing for part in self.parts for m in part.media)


def _field(row: Any, name: str, default=None):
    if isinstance(row, Mapping):
        return row.get(name, default)
    mapping = getattr(row, "_mapping", None)
    if mapping is not None:
        return mapping.get(name, default)
    return getattr(row, name, default)


def _media(index: int, item: Mapping) -> MediaView:
    from campaign.spec.media import sniff

    path = str(item.get("path") or "")
    file = Path(path)
    exists, size, kind = False, None, None
    try:
        if path and file.is_file():
            exists, size, kind = True, file.stat().st_size, sniff(file)
    except OSError:
        exists = False
    return MediaView(index, path, str(item.get("alt") or ""), item.get("sha256"), exists, size, kind)


def _local_time(value: str | None, zone_name: str, due_at: datetime) -> datetime:
    try:
        zone = ZoneInfo(zone_name)
    except Exception:
        zone = timezone.utc
    try:
        moment = datetime.fromisoformat(value) if value else due_at
    except ValueError:
        moment = due_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def build_view(row: Any, account: Any, *, limit: int | None = None) -> PostView:
    """The preview of one scheduled_posts row (a SQLAlchemy Row or a mapping of its columns) on
    `account` (campaign.queue.accounts.StoredAccount, or anything with name, platform, handle and
    instance). `limit` is the account's own limit where posts.yaml gives one (Mastodon max_chars);
    otherwise the platform's (campaign.spec.text.LIMITS)."""
    platform = account.platform
    limit = limit or LIMITS[platform]
    payload = _field(row, "payload") or {}
    raw_parts = payload.get("parts") or []
    parts = tuple(PartView(index, len(raw_parts), str(part.get("text") or ""),
                           segments(platform, str(part.get("text") or "")),
                           length(platform, str(part.get("text") or "")), limit,
                           tuple(_media(i, m) for i, m in enumerate(part.get("media") or ())))
                  for index, part in enumerate(raw_parts))
    language = payload.get("language")
    due_at = _field(row, "due_at")
    zone_name = _field(row, "timezone") or "UTC"
    return PostView(
        id=_field(row, "id"), key=_field(row, "key") or "",
        account=AccountView(getattr(account, "name", None) or _field(row, "account") or "", platform,
                            account.handle, getattr(account, "instance", None)),
        campaign_id=_field(row, "campaign_id"), post_id=_field(row, "post_id"), variant=_field(row, "variant") or 0,
        state=_field(row, "state") or "queued", due_at=due_at,
        local_time=_local_time(_field(row, "local_time"), zone_name, due_at), timezone=zone_name, parts=parts,
        language=language if isinstance(language, str) and _LANGUAGE_TAG.fullmatch(language) else None,
        last_error=_field(row, "last_error"), remote_url=safe_href(_field(row, "remote_url")),
        reply_to_url=safe_href(_field(row, "reply_to_url")), source=_field(row, "source") or "file")


def load_view(db, post_id: int, *, limits: Mapping[str, int] | None = None) -> PostView:
    """The preview of queued post `post_id` (scheduled_posts.id, as `campaign retry` takes it).
    `limits`: accounts' own limits by posts.yaml name (Mastodon max_chars), where posts.yaml gives
    them. Raises NotFoundError (exit 2) for an id that is not in the queue, DatabaseError."""
    from sqlalchemy import select

    from campaign.errors import NotFoundError
    from campaign.queue.accounts import load_accounts
    from campaign.queue.manual import MAX_POST_ID
    from campaign.queue.tables import scheduled_posts

    if not 1 <= post_id <= MAX_POST_ID:
        raise NotFoundError(f"no post #{post_id} in the queue (ids run from 1 to {MAX_POST_ID})")
    with db.transaction() as connection:
        row = connection.execute(select(scheduled_posts).where(scheduled_posts.c.id == post_id)).first()
    if row is None:
        raise NotFoundError(f"no post #{post_id} in the queue (see 'campaign status')")
    account = load_accounts(db).get(row.account)
    if account is None:
        raise NotFoundError(f"post #{post_id}: its account '{row.account}' is not in the queue")
    return build_view(row, account, limit=(limits or {}).get(row.account))
