"""Each platform's API objects as archive records: one module per platform, next to its
campaign.send.platforms module, used by every reader of that platform's objects (archive.fetch,
the importers of the platform's own export formats, the contract tests).

Every module provides

    records(page: campaign.send.platforms.Page, account: str) -> Iterator[ArchivedPost]

account: the handle (without '@') the records are filed under when an item does not name its
author. A mapping raises KeyError/ValueError/TypeError on an object it cannot read; importers
turn those into ImportFormatError naming the record.
"""
from __future__ import annotations

from importlib import import_module
from typing import Iterator

from ..records import ArchivedPost


def records(platform: str, page, account: str) -> Iterator[ArchivedPost]:
    """The page's items as records, by the mapping of the platform (x, mastodon, bluesky)."""
    return import_module(f"{__name__}.{platform}").records(page, account)
