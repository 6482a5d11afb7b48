"""twarc2 JSONL: X API v2 responses, one page per line ({"data": […], "includes": {…}}) or one
flattened tweet per line (`twarc2 flatten`: author, referenced tweets and media resolved inline).

Lines are read one at a time (a page is at most a few hundred tweets: a line may hold MAX_PAGE
bytes, more than the MAX_RECORD of other formats); `.gz` files are read compressed.
Each tweet becomes a record by archive.sources.x, the mapping `archive fetch` uses: the same tweet
fetched or imported is the same record.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..errors import ImportFormatError
from ..records import ArchivedPost
from ..sources import x
from . import MAX_PAGE, json_lines

SOURCE = "twarc"


def looks_like(first: dict) -> bool:
    """True for a twarc2 page or flattened tweet (the first JSON line of a file)."""
    return isinstance(first, dict) and ("data" in first and isinstance(first.get("data"), list)
                                        or ("id" in first and "text" in first and "platform" not in first))


def iter_posts(path: Path | str, *, account: str | None = None) -> Iterator[ArchivedPost]:
    """Every tweet in a twarc2 JSONL file. account: used when a tweet's author cannot be resolved.
    Raises ImportFormatError naming the line (record) that cannot be read."""
    path = Path(path)
    for number, document in json_lines(path, limit=MAX_PAGE):
        try:
            if isinstance(document, dict) and isinstance(document.get("data"), list):
                users, media = x.index(document.get("includes"))
                for tweet in document["data"]:
                    yield post_from_tweet(tweet, users, media, account)
            elif isinstance(document, dict) and "id" in document:
                yield post_from_tweet(document, {}, {}, account)
            else:
                raise ValueError("neither a twarc2 page nor a tweet")
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise ImportFormatError(str(path), f"cannot be read ({type(error).__name__}: {error})",
                                    record=number) from None


def post_from_tweet(tweet: dict, users: dict, media: dict, account: str | None) -> ArchivedPost:
    """One API v2 tweet object as an ArchivedPost: archive.sources.x, the mapping archive.fetch uses."""
    return x.record(tweet, users, media, account)
