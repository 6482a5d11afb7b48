"""X through tweepy: API v2 for posts and timelines (OAuth 1.0a user context), v1.1 for media.

Never uses wait_on_rate_limit (it retries at once, forever, without a reset
header); 429s are turned into RateLimited and the dispatcher decides.
"""
from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Iterator
from urllib.parse import urlsplit

import requests
import tweepy

from campaign.errors import AuthFailed, DuplicateContent, PlatformError, RateLimited, Rejected, TransientError
from campaign.send.platforms import TIMEOUT_SECONDS, AccountInfo, OutgoingPart, Page, RemotePost, TimelineReader
from campaign.send.platforms.http import mount
from campaign.send.platforms.times import parse_iso_time as _parse_time

DUPLICATE = "duplicate content"
PAGE = 100  # the most X serves per request
TIMELINE_FIELDS = ["created_at", "public_metrics", "entities", "referenced_tweets", "conversation_id", "lang",
                   "edit_history_tweet_ids", "in_reply_to_user_id", "author_id", "attachments", "source"]


class XPlatform(TimelineReader):
    idempotent = False

    def __init__(self, account: AccountInfo, secrets: dict[str, str], *, api_base: str | None = None,
                 timeout: float = TIMEOUT_SECONDS):
        self.account = account
        self._secrets = secrets
        self._api_base = api_base
        self._timeout = timeout
        self.client = self._client(tweepy.Response)
        self._raw_client = None
        self._api = None
        self._me = None

    def _client(self, return_type) -> tweepy.Client:
        secrets = self._secrets
        client = tweepy.Client(
            consumer_key=secrets["api_key"], consumer_secret=secrets["api_secret"],
            access_token=secrets["access_token"], access_token_secret=secrets["access_token_secret"],
            return_type=return_type, wait_on_rate_limit=False)
        mount(client.session, self._timeout, self._api_base)
        return client

    @property
    def _raw(self) -> tweepy.Client:
        """The same account answering plain dicts, for the archive's timeline reads (built on first use)."""
        if self._raw_client is None:
            self._raw_client = self._client(dict)
        return self._raw_client

    @property
    def api(self) -> tweepy.API:
        if self._api is None:
            secrets = self._secrets
            auth = tweepy.OAuth1UserHandler(secrets["api_key"], secrets["api_secret"],
                                            secrets["access_token"], secrets["access_token_secret"])
            self._api = tweepy.API(auth, timeout=self._timeout, wait_on_rate_limit=False)
            mount(self._api.session, self._timeout, self._api_base)
        return self._api

    def _call(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except tweepy.errors.TooManyRequests as error:
            raise RateLimited(_message(error), reset_at=_reset_at(error.response)) from None
        except tweepy.errors.Forbidden as error:
            message = _message(error)
            if DUPLICATE in message.lower():
                raise DuplicateContent(message, status=403) from None
            raise AuthFailed(message, status=403) from None
        except tweepy.errors.Unauthorized as error:
            raise AuthFailed(_message(error), status=401) from None
        except tweepy.errors.TwitterServerError as error:
            raise TransientError(_message(error), status=error.response.status_code) from None
        except tweepy.errors.HTTPException as error:  # 400, 404 and other refusals
            raise Rejected(_message(error), status=error.response.status_code) from None
        except requests.exceptions.ConnectTimeout as error:
            raise TransientError(f"X did not accept the connection in time ({type(error).__name__})") from None
        except requests.exceptions.Timeout:
            raise TransientError("X did not answer in time", maybe_posted=True) from None
        except requests.exceptions.ConnectionError as error:
            refused = "NewConnectionError" in repr(error) or "Connection refused" in repr(error)
            raise TransientError("could not connect to X" if refused else "the connection to X broke",
                                 maybe_posted=not refused) from None
        except requests.exceptions.RequestException as error:
            raise TransientError(f"request to X failed ({type(error).__name__})", maybe_posted=True) from None
        except tweepy.errors.TweepyException as error:
            if "Failed to send request" in str(error):  # tweepy.API wraps transport errors like this
                raise TransientError("the connection to X's upload service failed") from None
            raise PlatformError(f"X client error: {type(error).__name__}") from None

    def me(self):
        if self._me is None:
            self._me = self._call(self.client.get_me, user_auth=True).data
        return self._me

    def whoami(self) -> str:
        return "@" + self.me().username

    def post(self, part: OutgoingPart, *, reply_to: RemotePost | None, root: RemotePost | None) -> RemotePost:
        media_ids = [self._upload(path, alt) for path, alt in part.media] or None
        response = self._call(self.client.create_tweet, text=part.text, media_ids=media_ids,
                              in_reply_to_tweet_id=reply_to.id if reply_to else None, user_auth=True)
        tweet_id = str(response.data["id"])
        return RemotePost(tweet_id, self._url(tweet_id), response.data.get("text", part.text),
                          datetime.now(timezone.utc))

    def _upload(self, path, alt: str) -> str:
        media = self._call(self.api.media_upload, filename=str(path))
        media_id = str(media.media_id_string if hasattr(media, "media_id_string") else media.media_id)
        if alt:
            self._call(self.api.create_media_metadata, media_id, alt)
        return media_id

    def _url(self, tweet_id: str) -> str:
        handle = self.account.handle.lstrip("@") or "i"
        return f"https://x.com/{handle}/status/{tweet_id}"

    def timeline_pages(self, *, since: datetime | str | None = None,
                       cursor: str | None = None) -> Iterator[Page]:
        """Pages of 100 tweets as X's JSON (items: `data`, includes: `includes`), newest first; since
        becomes since_id (a post id) or start_time (a datetime), both applied by X; cursor is X's
        next_token. Tweets carry TIMELINE_FIELDS; X serves only the newest 3,200 posts. Raises
        RateLimited (with reset_at), TransientError, AuthFailed, Rejected."""
        while True:
            response = self._call(
                self._raw.get_users_tweets, self.me().id, max_results=PAGE, pagination_token=cursor,
                since_id=since if isinstance(since, str) else None,
                start_time=_x_time(since) if isinstance(since, datetime) else None,
                tweet_fields=TIMELINE_FIELDS, expansions=["attachments.media_keys", "referenced_tweets.id.author_id"],
                media_fields=["type", "url", "preview_image_url", "alt_text"], user_fields=["username"],
                user_auth=True)
            response = response if isinstance(response, dict) else {}
            cursor = (response.get("meta") or {}).get("next_token")
            yield Page(tuple(response.get("data") or ()), cursor, response.get("includes") or {})
            if not cursor:
                return

    def own_post(self, item: dict, page: Page) -> RemotePost | None:
        if any(ref.get("type") == "retweeted" for ref in item.get("referenced_tweets") or ()):
            return None
        tweet_id = str(item["id"])
        return RemotePost(tweet_id, self._url(tweet_id), html.unescape(item.get("text") or ""),
                          _parse_time(item.get("created_at")))

    def lookup(self, url: str) -> RemotePost:
        path = urlsplit(url).path.rstrip("/").split("/")
        if len(path) < 2 or path[-2] != "status" or not path[-1].isdigit():
            raise Rejected(f"{url} is not an X post URL (https://x.com/USER/status/ID)")
        return RemotePost(path[-1], url)


def _message(error: tweepy.errors.HTTPException) -> str:
    status = error.response.status_code if error.response is not None else "?"
    messages = [m for m in getattr(error, "api_messages", []) if m]
    return f"X answered {status}" + (f": {'; '.join(messages)}" if messages else "")


def _reset_at(response) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(response.headers["x-rate-limit-reset"]), timezone.utc)
    except (KeyError, ValueError, TypeError, AttributeError, OverflowError, OSError):
        return None


def _x_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
