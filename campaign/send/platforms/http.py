"""requests plumbing shared by the tweepy-based platform: timeouts and host rewriting.

tweepy hard-codes https://api.twitter.com (Client) and https://upload.twitter.com
(API media upload) and sets no timeout on Client calls. An adapter mounted on the
session fixes both: every request gets a timeout, and with CAMPAIGN_X_API_BASE set
(tests, a local fake or a proxy) those hosts are sent to that base URL instead.
"""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from requests.adapters import HTTPAdapter

X_HOSTS = ("api.twitter.com", "upload.twitter.com", "api.x.com", "upload.x.com")


class TimeoutAdapter(HTTPAdapter):
    def __init__(self, timeout: float, rewrite_base: str | None = None, **kwargs):
        self.default_timeout = timeout
        self.rewrite = urlsplit(rewrite_base) if rewrite_base else None
        super().__init__(**kwargs)

    def send(self, request, timeout=None, **kwargs):
        if self.rewrite is not None:
            parts = urlsplit(request.url)
            if parts.hostname in X_HOSTS:
                request.url = urlunsplit((self.rewrite.scheme, self.rewrite.netloc, parts.path, parts.query, ""))
        return super().send(request, timeout=timeout or self.default_timeout, **kwargs)


def mount(session, timeout: float, rewrite_base: str | None = None) -> None:
    adapter = TimeoutAdapter(timeout, rewrite_base)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
