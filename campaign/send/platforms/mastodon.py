"""Mastodon through Mastodon.py. Posts carry an Idempotency-Key, so a retry after a lost
response returns the original status instead of posting twice (the server remembers
keys for about an hour)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urlsplit

from mastodon import Mastodon
from mastodon.errors import (MastodonAPIError, MastodonError, MastodonNetworkError, MastodonNotFoundError,
                             MastodonRatelimitError, MastodonServerError, MastodonUnauthorizedError)

from campaign.errors import AuthFailed, PlatformError, RateLimited, Rejected, TransientError
from campaign.send.platforms import TIMEOUT_SECONDS, AccountInfo, OutgoingPart, RemotePost, normalise_text

_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p>", re.IGNORECASE)


class MastodonPlatform:
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

    def recent_posts(self, since: datetime) -> list[RemotePost]:
        out, page = [], self._call(self.api.account_statuses, self.me()["id"], limit=40)
        while page:
            for status in page:
                post = _remote(status)
                if post.created_at and post.created_at < since:
                    return out
                out.append(post)
            if len(out) >= 3200:  # a busy account: as far back as X would let us look
                break
            page = self._call(self.api.fetch_next, page)
        return out

    def same_text(self, ours: str, theirs: str) -> bool:
        return normalise_text(ours) == normalise_text(theirs)

    def timeline_page(self, *, min_id: str | None = None, max_id: str | None = None, limit: int = 40) -> list[dict]:
        """One raw page of the account's statuses (newest first within the page), as Mastodon.py's dicts.

        With min_id: the statuses right after min_id (walk forward by passing the page's newest id);
        with max_id: those right before it (walk back). Raises the PlatformError subclasses; never waits.
        """
        page = self._call(self.api.account_statuses, self.me()["id"], min_id=min_id, max_id=max_id, limit=limit)
        return [dict(status) for status in page or []]

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


def _remote(status) -> RemotePost:
    created = status.get("created_at")
    if isinstance(created, datetime) and created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return RemotePost(str(status["id"]), status.get("url") or status.get("uri"), _text(status.get("content", "")),
                      created if isinstance(created, datetime) else None)


def _text(content: str) -> str:
    import html

    return html.unescape(_TAG.sub("", _BREAK.sub("\n", content or "")))


def _status(error: MastodonAPIError) -> int | None:
    return error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else None


def _message(error: MastodonAPIError) -> str:
    status = _status(error)
    detail = error.args[3] if len(error.args) > 3 and error.args[3] else None
    return f"Mastodon answered {status or '?'}" + (f": {detail}" if detail else "")
