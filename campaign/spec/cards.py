"""Which link of a post becomes its Bluesky link card: one rule for check, plan and the sender."""
from __future__ import annotations

from campaign.spec.text import urls


def card_link(text: str) -> str | None:
    """The first http(s) link of `text` (as X's link rules find links), or None.

    A link written without a scheme (publicpapersutrecht.nl) is a link to readers but not a card:
    the card needs a page to fetch, and guessing https could point it at the wrong one.
    """
    for _start, _end, url in urls(text):
        if url.lower().startswith(("http://", "https://")):
            return url
    return None
