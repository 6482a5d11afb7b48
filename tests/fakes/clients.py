"""Build *real* client objects (tweepy, Mastodon.py, atproto) wired to a running fake.

* ``x_client(fake, account=None, timeout=5.0) -> tweepy.Client`` -- OAuth 1.0a user context
  (consumer key/secret + access token/secret).  tweepy hard-codes ``https://api.twitter.com``
  and passes no timeout, so a ``LoopbackAdapter`` is mounted on ``client.session`` that
  rewrites ``https://api.twitter.com`` / ``https://upload.twitter.com`` / ``https://api.x.com``
  to ``fake.url`` and applies ``timeout`` when the caller gave none.  Any other
  ``http(s)://`` URL on that session fails with ``requests.ConnectionError`` (nothing leaks
  to the internet).  ``trust_env`` is off (no proxies / .netrc).
* ``x_api(fake, account=None, timeout=5.0) -> tweepy.API`` -- v1.1 (media upload, alt text),
  same adapter on ``api.session``.
* ``loopback_session(fake, timeout=5.0) -> requests.Session`` -- a bare session with that
  adapter, for code that takes a session.
* ``mount_loopback(session, fake, timeout=5.0) -> session`` -- mount the adapter on any
  ``requests.Session`` (e.g. one your production code builds).
* ``mastodon_client(fake, account=None, timeout=5.0) -> mastodon.Mastodon`` --
  ``ratelimit_method="throw"``, ``version_check_mode="none"``, ``request_timeout=timeout``,
  a ``trust_env=False`` session.  Note: ``media_post`` still calls ``GET /api/v1/instance``
  and ``GET /api/v2/instance`` once (Mastodon.py decides between ``/api/v1/media`` and
  ``/api/v2/media`` by the server version); the fake serves both.
* ``bluesky_client(fake, account=None, timeout=5.0, login=True) -> atproto.Client`` --
  ``Client(base_url=fake.url + "/xrpc", request=Request(timeout=timeout, trust_env=False))``,
  logged in with handle + app password (``createSession`` then ``getProfile``).

Every client built here has its connection pool closed by ``fake.stop()``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

__all__ = [
    "LoopbackAdapter",
    "mount_loopback",
    "loopback_session",
    "x_client",
    "x_api",
    "mastodon_client",
    "bluesky_client",
    "X_HOSTS",
]

X_HOSTS = ("https://api.twitter.com", "https://upload.twitter.com", "https://api.x.com", "https://upload.x.com")


class LoopbackAdapter(HTTPAdapter):
    """Send every request to ``target`` (``http://127.0.0.1:PORT``), keeping path and query.

    Headers (including an OAuth ``Authorization`` computed over the original URL) and the
    body are left untouched.  ``timeout`` is applied when the caller passes none.
    """

    def __init__(self, target: str, timeout: float | None = 5.0) -> None:
        super().__init__(max_retries=0)
        parts = urlsplit(target)
        if parts.hostname != "127.0.0.1":
            raise ValueError(f"refusing non-loopback target {target!r}")
        self.target = parts
        self.default_timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url)
        request.url = urlunsplit((self.target.scheme, self.target.netloc, parts.path, parts.query, parts.fragment))
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().send(request, **kwargs)


class _RefuseAdapter(HTTPAdapter):
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raise requests.ConnectionError(f"test session refuses to contact {request.url!r}")


def mount_loopback(session: requests.Session, fake: Any, timeout: float | None = 5.0,
                   hosts: tuple[str, ...] = X_HOSTS) -> requests.Session:
    session.trust_env = False
    refuse = _RefuseAdapter()
    session.mount("https://", refuse)
    session.mount("http://", refuse)
    adapter = LoopbackAdapter(fake.url, timeout)
    for host in hosts:
        session.mount(host, adapter)
    session.mount(fake.url + "/", adapter)
    return session


def loopback_session(fake: Any, timeout: float | None = 5.0) -> requests.Session:
    session = mount_loopback(requests.Session(), fake, timeout)
    _close_with(fake, session.close)
    return session


def _close_with(fake: Any, close: Any) -> None:
    """Close the client's connection pool when the fake stops (no ResourceWarnings)."""
    add = getattr(fake, "add_cleanup", None)
    if add is not None:
        add(close)


# -- X ---------------------------------------------------------------------------------


def x_client(fake: Any, account: Any = None, timeout: float | None = 5.0, **kwargs: Any):
    """A ``tweepy.Client`` (OAuth 1.0a user context) talking to ``fake`` (a ``FakeX``)."""
    import tweepy

    acct = account or fake.account
    kwargs.setdefault("wait_on_rate_limit", False)
    client = tweepy.Client(**acct.credentials, **kwargs)
    mount_loopback(client.session, fake, timeout)
    _close_with(fake, client.session.close)
    return client


def x_bearer_client(fake: Any, timeout: float | None = 5.0, **kwargs: Any):
    """A ``tweepy.Client`` with app-only Bearer auth (read endpoints only)."""
    import tweepy

    client = tweepy.Client(bearer_token=fake.bearer_token, **kwargs)
    mount_loopback(client.session, fake, timeout)
    _close_with(fake, client.session.close)
    return client


def x_api(fake: Any, account: Any = None, timeout: float = 5.0, **kwargs: Any):
    """A ``tweepy.API`` (v1.1: media upload + alt text) talking to ``fake``."""
    import tweepy

    acct = account or fake.account
    auth = tweepy.OAuth1UserHandler(acct.consumer_key, acct.consumer_secret,
                                    acct.access_token, acct.access_token_secret)
    api = tweepy.API(auth, timeout=timeout, **kwargs)
    mount_loopback(api.session, fake, timeout)
    _close_with(fake, api.session.close)
    return api


# -- Mastodon --------------------------------------------------------------------------


def mastodon_client(fake: Any, account: Any = None, timeout: float = 5.0, **kwargs: Any):
    """A ``mastodon.Mastodon`` for ``account`` (default ``fake.account``) of a ``FakeMastodon``."""
    from mastodon import Mastodon

    acct = account or fake.account
    session = requests.Session()
    session.trust_env = False
    kwargs.setdefault("ratelimit_method", "throw")
    kwargs.setdefault("version_check_mode", "none")
    _close_with(fake, session.close)
    return Mastodon(access_token=acct.access_token, api_base_url=fake.url, request_timeout=timeout,
                    session=session, **kwargs)


# -- Bluesky ---------------------------------------------------------------------------


def bluesky_client(fake: Any, account: Any = None, timeout: float = 5.0, login: bool = True):
    """An ``atproto.Client`` on ``fake.url + "/xrpc"``, logged in unless ``login=False``."""
    from atproto import Client
    from atproto_client.request import Request

    acct = account or fake.account
    request = Request(timeout=timeout, trust_env=False)
    _close_with(fake, request.close)
    client = Client(base_url=fake.url + "/xrpc", request=request)
    if login:
        client.login(acct.handle, acct.app_password)
    return client
