"""Loopback fake servers for X, Mastodon and Bluesky, driven by the real client libraries.

    from tests.fakes import FakeX, FakeMastodon, FakeBluesky, Fault
    from tests.fakes.clients import x_client, x_api, mastodon_client, bluesky_client

    with FakeMastodon() as fake:
        client = mastodon_client(fake)
        fake.inject("post", Fault.drop())          # store, then lose the answer
        ...
        assert [p["text"] for p in fake.posts] == ["..."]

Fault API and server mechanics: ``tests/fakes/base.py``; per-platform endpoints, endpoint
names and post shapes: the docstrings of ``x.py``, ``mastodon.py``, ``bluesky.py``;
client builders: ``clients.py``.
"""

from .base import MAX_DELAY, Fault, RecordedRequest
from .bluesky import BlueskyAccount, FakeBluesky
from .mastodon import FakeMastodon, MastodonAccount
from .x import FakeX, XAccount
from .linkedin import FakeLinkedIn, LinkedInAccount
from .threads import FakeThreads, ThreadsAccount

__all__ = [
    "Fault", "MAX_DELAY", "RecordedRequest",
    "FakeX", "XAccount", "FakeMastodon", "MastodonAccount", "FakeBluesky", "BlueskyAccount",
    "FakeLinkedIn", "LinkedInAccount",
    "FakeThreads", "ThreadsAccount",
]
