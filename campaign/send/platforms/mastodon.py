"""Mastodon through Mastodon.py. Posts carry an Idempotency-Key, so a retry after a lost
response returns the original status instead of posting twice (the server remembers
keys for about an hour)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator
from urllib.parse import urlsplit

from mastodon import Mastodon
from mastodon.errors import (MastodonAPIError, MastodonError, MastodonNetworkError, MastodonNotFoundError,
                             MastodonRatelimitError, MastodonServerError, MastodonUnauthorizedError)

from campaign.errors import AuthFailed, PlatformError, RateLimited, Rejected, TransientError
from campaign.send.platforms import TIMEOUT_SECONDS, AccountInfo, OutgoingPart, Page, RemotePost, TimelineReader
from campaign.spec.text import html_to_text

PAGE = 40  # the most Mastodon serves per request


class MastodonPlatform(TimelineReader):
    idempotent = True

    def __init__(self, account: AccountInfo, secrets: dict[str, str], *, timeout: float = TIMEOUT_SECONDS):
        self.account = account
        self.api = _client(secrets["access_token"], account.instance, timeout)
        self._me = None

    def _call(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except MastodonRatelimitError:
            reset = self.api.ratelimit_reset
            reset_at = datetime.fromtimestamp(reset, timezone.utc) if reset else None
            raise RateLimited("Mastodon answered 429 (rate limited)", reset_at=reset_at) from None
        except MastodonUnauthorizedError as error:
            raise AuthFailed(_message(error), status=401) from None
        except MastodonServerError as error:
            raise TransientError(_message(error), status=_status(error)) from None
        except MastodonNotFoundError as error:
            raise Rejected(_message(error), status=404) from None
        except MastodonAPIError as error:
            status = _status(error)
            if status is None and "could not parse response" in str(error.args[0] if error.args else "").lower():
                # A 2xx whose body is not JSON: the call may have been carried out.
                raise TransientError("Mastodon's answer could not be read", maybe_posted=True) from None
            if status == 403:
                raise AuthFailed(_message(error), status=403) from None
            if status in (408, 409, 425) or (status or 0) >= 500:
                raise TransientError(_message(error), status=status) from None
            raise Rejected(_message(error), status=status) from None
        except MastodonNetworkError as error:
            refused = "Connection refused" in str(error) or "NewConnectionError" in str(error)
            raise TransientError("could not connect to the Mastodon instance" if refused
                                 else "the connection to the Mastodon instance broke or timed out",
                                 maybe_posted=not refused) from None
        except MastodonError as error:
            raise PlatformError(f"Mastodon client error: {type(error).__name__}") from None

    def me(self):
        if self._me is None:
            self._me = self._call(self.api.account_verify_credentials)
        return self._me

    def whoami(self) -> str:
        me = self.me()
        host = urlsplit(self.account.instance or "").hostname or ""
        return f"@{me['acct']}@{host}" if "@" not in me["acct"] else f"@{me['acct']}"

    def post(self, part: OutgoingPart, *, reply_to: RemotePost | None, root: RemotePost | None) -> RemotePost:
        media_ids = []
        for path, alt in part.media:
            media = self._call(self.api.media_post, str(path), description=alt)
            media_ids.append(media["id"])
        status = self._call(self.api.status_post, part.text, in_reply_to_id=reply_to.id if reply_to else None,
                            media_ids=media_ids or None, idempotency_key=part.idempotency_key or None,
                            language=part.language)
        return _remote(status)

    def timeline_pages(self, *, since: datetime | str | None = None,
                       cursor: str | None = None) -> Iterator[Page]:
        """Pages of 40 statuses as Mastodon.py's dicts. With a post id as since, the walk goes forward
        (min_id: the statuses right after it, oldest page first, each page's cursor its newest id)
        and ends at a short page; otherwise backward from the newest (max_id, the cursor each page's
        oldest id), ending at the first status older than a datetime since. Raises the PlatformError
        subclasses."""
        account_id = self.me()["id"]
        forward = isinstance(since, str)
        position = cursor or (since if forward else None)
        while True:
            statuses = self._call(self.api.account_statuses, account_id, limit=PAGE,
                                  **({"min_id": position} if forward else {"max_id": position})) or []
            items = [dict(status) for status in statuses]
            if not items:
                yield Page((), position if forward else None)
                return
            if forward:
                position = max((str(item["id"]) for item in items), key=int)
                yield Page(tuple(items), position)
                if len(items) < PAGE:
                    return
                continue
            kept = [item for item in items if since is None or _created(item) is None or _created(item) >= since]
            position = min((str(item["id"]) for item in items), key=int)
            done = len(kept) < len(items)
            yield Page(tuple(kept), None if done else position)
            if done:
                return

    def own_post(self, item: dict, page: Page) -> RemotePost | None:
        return None if item.get("reblog") else _remote(item)

    def lookup(self, url: str) -> RemotePost:
        parts = urlsplit(url)
        if parts.hostname == urlsplit(self.account.instance or "").hostname:
            status_id = parts.path.rstrip("/").rsplit("/", 1)[-1]
            if status_id.isdigit():
                return _remote(self._call(self.api.status, status_id))
        found = self._call(self.api.search_v2, url, resolve=True, result_type="statuses")
        statuses = found.get("statuses") or []
        if not statuses:
            raise Rejected(f"{url} was not found from {self.account.instance}")
        return _remote(statuses[0])


# Mastodon.py asks the server's version before some calls (media_post picks /api/v1 or /api/v2 by it).
# When the instance endpoint fails and the answer lacks `api_versions`, its probe calls itself until
# RecursionError (Mastodon.py 2.x). Every server we can meet has served /api/v2/media since 3.1.4 (2020),
# so we state a version instead of letting it probe.
ASSUMED_SERVER_VERSION = "4.0.0"


def _client(access_token: str, instance: str | None, timeout: float) -> Mastodon:
    from mastodon.versions import parse_version_string

    api = Mastodon(access_token=access_token, api_base_url=instance, ratelimit_method="throw",
                   request_timeout=timeout, version_check_mode="none", mastodon_version=ASSUMED_SERVER_VERSION)
    # With version_check_mode "none" Mastodon.py marks the version as known but does not parse it.
    api.mastodon_major, api.mastodon_minor, api.mastodon_patch = parse_version_string(ASSUMED_SERVER_VERSION)
    return api


def _created(status) -> datetime | None:
    created = status.get("created_at")
    if isinstance(created, str):
        try:
            created = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(created, datetime) and created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return created if isinstance(created, datetime) else None


def _remote(status) -> RemotePost:
    return RemotePost(str(status["id"]), status.get("url") or status.get("uri"),
                      html_to_text(status.get("content", "")), _created(status))


def _status(error: MastodonAPIError) -> int | None:
    return error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else None


def _message(error: MastodonAPIError) -> str:
    status = _status(error)
    detail = error.args[3] if len(error.args) > 3 and error.args[3] else None
    return f"Mastodon answered {status or '?'}" + (f": {detail}" if detail else "")
