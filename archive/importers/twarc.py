"""twarc2 JSONL: X API v2 responses, one per line: a page of a search or timeline ({"data": […],
"includes": {…}, "meta": {…}}), a line of `twarc2 stream` / `filtered-stream` ({"data": {…},
"includes": {…}, "matching_rules": […]}), or one flattened tweet (`twarc2 flatten`: author,
referenced tweets and media resolved inline).

Lines are read one at a time (a page is at most a few hundred tweets: a line may hold MAX_PAGE
bytes, more than the MAX_RECORD of other formats); `.gz` files are read compressed.
Each tweet becomes a record by archive.sources.x, the mapping `archive fetch` uses: the same tweet
fetched or imported is the same record.

What a line of the stream may also be: an error the API sent instead of data (a disconnect, a
rate limit): it is reported as an ImportNote and counted, and the rest is read. A file of users
or lists (`twarc2 users`, `followers`, `lists …`) holds no tweets and is refused whatever the
options, rather than turned into empty posts.

Authors: each tweet is stored under its real author, from the tweet (flattened) or the line's
includes. `account` names the account whose timeline the file is; it stands in only for a tweet
that names no author at all, or whose author id is that account's (learned from any includes of
the file). A tweet whose author cannot be known is refused with its record number: a URL is never
made up from a guess.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterator

from ..errors import ImportFormatError
from ..records import ArchivedPost, ImportNote
from ..sources import x
from . import MAX_PAGE, json_lines

SOURCE = "twarc"


def looks_like(first: dict) -> bool:
    """True for any twarc2 line (the first JSON line of a file): a page, a stream line, an error
    line or a flattened object (tweets, and users and lists too, so that they are refused clearly)."""
    if not isinstance(first, dict) or "platform" in first or "format" in first:
        return False
    return (isinstance(first.get("data"), (list, dict)) or isinstance(first.get("errors"), list)
            or ("id" in first and ("text" in first or "username" in first or "member_count" in first)))


def iter_posts(path: Path | str, *, account: str | None = None,
               referenced: bool = False) -> Iterator[ArchivedPost | ImportNote]:
    """Every tweet in a twarc2 JSONL file, and an ImportNote for each line that is an API error.

    account: the account whose timeline the file is (see the module's doc). referenced: also the
    tweets the data refers to (includes.tweets: what is quoted, replied to, retweeted), stored as
    referenced posts, not as timeline posts. Raises ImportFormatError naming the line (record)
    that cannot be read, holds users or lists, or holds a tweet whose author is unknown."""
    path = Path(path)
    handle = account.lstrip("@") if account else None
    own_ids: set[str] = set()  # the ids of `account`, from the includes read so far
    for number, document in json_lines(path, limit=MAX_PAGE):
        try:
            if not isinstance(document, dict):
                raise ValueError("neither a twarc2 page, a stream line nor a tweet")
            data = document.get("data")
            if data is None:
                if "errors" in document:
                    yield ImportNote(number, _error_text(document["errors"]))
                    continue
                if "id" not in document:
                    if "meta" in document:  # a page with no results
                        continue
                    raise ValueError("neither a twarc2 page, a stream line nor a tweet")
                data, includes = [document], {}
            else:
                data = [data] if isinstance(data, dict) else data
                includes = document.get("includes") or {}
            _refuse_non_tweets(path, number, data)
            users, media = x.index(includes)
            if handle:
                own_ids.update(i for i, user in users.items()
                               if (user.get("username") or "").lower() == handle.lower())
            tweets = x.referenced(includes)
            for tweet in data:  # `twarc2 flatten` puts the referenced tweets inline
                tweets.update((str(r["id"]), r) for r in tweet.get("referenced_tweets") or ()
                              if isinstance(r, dict) and "text" in r and "id" in r)
            for tweet in data:
                yield x.record(tweet, users, media, _author(tweet, users, handle, own_ids), tweets=tweets)
            if referenced:
                for tweet in tweets.values():
                    author = tweet.get("author") or users.get(tweet.get("author_id"))
                    if not author or not author.get("username"):
                        yield ImportNote(number, f"referenced tweet {tweet.get('id')}: its author "
                                                 f"{tweet.get('author_id')} is not in the includes; not stored")
                        continue
                    post = x.record(tweet, users, media, None, tweets=tweets)
                    yield _as_referenced(post)
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise ImportFormatError(str(path), f"cannot be read ({type(error).__name__}: {error})",
                                    record=number) from None


def _as_referenced(post: ArchivedPost) -> ArchivedPost:
    return replace(post, referenced=True)


def _author(tweet: dict, users: dict, handle: str | None, own_ids: set[str]) -> str | None:
    """The handle that stands in for a tweet's author when neither the tweet nor the includes name
    it: the file's account where the tweet names no author or is by that account's id; else
    ValueError (the author is unknown: never guessed)."""
    author = tweet.get("author") or users.get(tweet.get("author_id"))
    if author and author.get("username"):
        return None  # the record takes the real author
    author_id = tweet.get("author_id")
    if handle and (author_id is None or str(author_id) in own_ids):
        return handle
    if author_id is None:
        raise ValueError(f"tweet {tweet.get('id')} names no author; if the file is one account's timeline, "
                         "name the account with --account")
    raise ValueError(f"tweet {tweet.get('id')} is by user {author_id}, who is not in the includes"
                     + (f" and is not @{handle}" if handle else "")
                     + "; its author is unknown, so the file is not imported (collect it with twarc2's default "
                       "expansions, which include the authors)")


_NOT_TWEETS = (("username", "users (as `twarc2 users`, `followers` or `following` write)"),
               ("member_count", "lists (as `twarc2 lists` writes)"), ("follower_count", "lists"),
               ("owner_id", "lists"), ("tweet_count", "tweet counts (as `twarc2 counts` writes)"))


def _refuse_non_tweets(path: Path, number: int, data: list) -> None:
    """Refuse a line whose data are users or lists (objects without a text), whatever the options."""
    for item in data:
        if isinstance(item, dict) and "text" not in item:
            what = next((name for key, name in _NOT_TWEETS if key in item), None)
            if what:
                raise ImportFormatError(str(path), f"holds {what}, not tweets: nothing of it is imported; "
                                                   "import twarc2's tweet files (search, timeline, stream)",
                                        record=number)


def _error_text(errors) -> str:
    """One line for the errors the API sent in place of data (e.g. a stream's disconnect)."""
    if not isinstance(errors, list) or not errors:
        return "an error line from the API, without details"
    first = errors[0] if isinstance(errors[0], dict) else {"detail": str(errors[0])}
    text = ": ".join(str(part) for part in (first.get("title"), first.get("detail") or first.get("message"))
                     if part)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"the API sent an error instead of data: {text or first}{more}"


def post_from_tweet(tweet: dict, users: dict, media: dict, account: str | None) -> ArchivedPost:
    """One API v2 tweet object as an ArchivedPost: archive.sources.x, the mapping archive.fetch uses."""
    return x.record(tweet, users, media, account)
