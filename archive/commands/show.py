"""`archive show ACCOUNT`: the timeline as the seed page showed it, `@handle text relative-time`.

Also home of the option groups the archive commands share (--db and --file, filters, --locale,
--timezone, --now), built from the shared definitions in campaign.options.
"""
from __future__ import annotations

import os
import sys
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import datetime

import click

from campaign.options import (db_option, locale_option, now_option, parse_now, parse_time, posts_file_options, range_options,
                              resolve_posts_file, timezone_option)

DEFAULT_ZONE = "Europe/Amsterdam"


def archive_options(function):
    """--file (the posts file) and --db, as in every command (campaign.options)."""
    return db_option("Archive database", "beside posts.yaml")(posts_file_options(positional=False)(function))


def archive_file_options(function):
    """archive_options, and the posts file also as an optional FILE argument (for commands with
    no other positional arguments)."""
    return db_option("Archive database", "beside posts.yaml")(posts_file_options(positional=True)(function))


def time_options(function):
    function = now_option("--timezone")(function)
    function = timezone_option(f"IANA zone whose calendar counts days and months [env ARCHIVE_TIMEZONE; "
                               f"default: {DEFAULT_ZONE}].")(function)
    function = click.option("--units", type=click.IntRange(1, 5), default=2, show_default=True,
                            help="At most this many units (5 jaar 10 maanden = 2).")(function)
    return locale_option(function)


# The filters every reading command takes (show/render add --limit, export/stats --account).
FILTER_OPTIONS = [
    click.option("--platform", type=click.Choice(["x", "mastodon", "bluesky", "linkedin", "threads"]), help="Only this platform."),
    range_options("posts created", "--timezone"),
    click.option("--hashtag", metavar="TAG", help="Posts with this hashtag (without #, any case)."),
    click.option("--kind", "kinds", multiple=True, type=click.Choice(["post", "reply", "repost", "quote"]),
                 help="Only these kinds (repeat the option for more)."),
    click.option("--campaign", metavar="ID", help="Only posts the campaign queue sent for this campaign."),
    click.option("--search", metavar="TEXT",
                 help="Full-text search: words (any case, accents folded), \"a phrase\", word*, #tag, @mention, "
                      "a OR b, -word to exclude; best match first."),
    click.option("--include-deleted", is_flag=True, help="Also posts deleted on the platform."),
    click.option("--include-private", is_flag=True,
                 help="Also followers-only (and X Circle) posts; without it, public and unlisted posts only."),
]


def with_options(options):
    """A decorator applying click options in the order listed."""
    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


DEFAULT_LIMIT = 200

# The paging of show and render: the newest --limit posts, or page --page of them, or --all.
PAGING_OPTIONS = [
    click.option("--limit", type=click.IntRange(min=0), default=None, metavar="N",
                 help=f"At most N posts, the newest; 0 for all [default: {DEFAULT_LIMIT}]."),
    click.option("--page", type=click.IntRange(min=1), default=None, metavar="K",
                 help="The K-th page of --limit posts, newest first (page 1: the newest)."),
    click.option("--all", "all_posts", is_flag=True, help="Every post (the same as --limit 0)."),
]

filter_options = with_options([*FILTER_OPTIONS, *PAGING_OPTIONS])


@dataclass(frozen=True)
class Paging:
    """Which posts of a newest-first list to show: page `page` of `size` (None: all of them)."""

    size: int | None
    page: int = 1

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.size if self.size else 0


def paging_of(limit: int | None, page: int | None, all_posts: bool) -> Paging:
    """--limit, --page and --all as a Paging (a usage error when they contradict each other)."""
    if all_posts and limit:
        raise click.UsageError("--all and --limit contradict each other: give one")
    if all_posts or limit == 0:
        if page and page > 1:
            raise click.UsageError("--page needs pages: give --limit N instead of --all")
        return Paging(None)
    return Paging(limit or DEFAULT_LIMIT, page or 1)


def read_page(database, post_filter, paging: Paging):
    """(the posts of the page, newest first; how many match in all, or None when that is all of
    them). The posts are read on demand: one more than the page decides whether more exist, and
    only then are they counted."""
    from archive.store import count_posts, query_flat

    if paging.size is None:
        return query_flat(database, replace(post_filter, limit=None)), None
    with closing(query_flat(database, replace(post_filter, limit=paging.size + 1), offset=paging.skip)) as reading:
        posts = list(reading)
    if len(posts) > paging.size or (paging.page > 1 and not posts):
        return posts[:paging.size], count_posts(database, replace(post_filter, limit=None))
    return posts, None


def more_message(shown: int, total: int, paging: Paging, *, what: str = "posts", hints=()) -> str:
    """One line for stderr when not every post was shown: which ones, and how to get the rest."""
    if paging.size is None or total <= 0:
        return ""
    pages = -(-total // paging.size)
    if paging.page > pages:
        return f"no page {paging.page}: {total:,} {what} make {pages:,} page{'s' * (pages != 1)} of {paging.size:,}"
    first = paging.skip + 1
    more_hints, hints = hints, []
    if paging.page < pages:
        hints.append(f"next: --page {paging.page + 1}")
    hints.append("everything: --all")
    hints.extend(more_hints)
    return f"{what} {first:,}–{first + shown - 1:,} of {total:,} shown, newest first; " + ", ".join(hints)


def zone_of(zone_name: str | None):
    from archive.reltime import as_zone

    name = zone_name or os.environ.get("ARCHIVE_TIMEZONE") or DEFAULT_ZONE
    try:
        return as_zone(name)
    except Exception:
        raise click.BadParameter(f"unknown time zone {name!r} (use an IANA name like Europe/Amsterdam)",
                                 param_hint="--timezone") from None


def parse_moment(value: str, zone, *, end_of_day: bool = False, param: str = "--now") -> datetime:
    """A date, a local date-time (in zone) or one with an offset, as UTC: campaign.options.parse_time."""
    return parse_time(value, zone, end_of_day=end_of_day, param=param)


def relative_formatter(locale: str, zone, units: int):
    from archive.reltime import RelativeTime, UnknownLocale

    try:
        return RelativeTime(locale, zone, units)
    except UnknownLocale as error:
        raise click.BadParameter(str(error), param_hint="--locale") from None


def build_filter(accounts, *, zone, platform=None, since=None, until=None, hashtag=None, kinds=(), campaign=None,
                 search=None, include_deleted=False, include_private=False, limit=None):
    from archive.records import PostFilter

    return PostFilter(accounts=tuple(a.strip().lstrip("@") for a in accounts if a), platform=platform,
                      since=parse_moment(since, zone, param="--from") if since else None,
                      until=parse_moment(until, zone, end_of_day=True, param="--until") if until else None,
                      hashtag=hashtag.lstrip("#") if hashtag else None, kinds=tuple(kinds), campaign=campaign,
                      search=search, include_deleted=include_deleted, include_private=include_private,
                      newest_first=True, limit=limit)


def open_for_accounts(db_url, posts_file, accounts, post_filter, *, create: bool = False):
    """Open the archive and name the accounts asked for by their archive handles (posts.yaml names
    and handles alike, see archive.accounts): (database, post_filter with those accounts)."""
    from archive.accounts import resolve_handles
    from archive.store import open_archive

    path = resolve_posts_file(posts_file)
    database = open_archive(db_url, posts_file=path, create=create)
    try:
        handles = resolve_handles(accounts, posts_file=path, database=database) if accounts else ()
    except BaseException:
        database.engine.dispose()
        raise
    return database, replace(post_filter, accounts=handles)


@click.command("show")
@click.argument("accounts", nargs=-1, metavar="[ACCOUNT]...")
@archive_options
@time_options
@filter_options
@click.option("--as-posted", is_flag=True, help="Texts as posted: t.co links as they are (as the seed page showed "
                                                "them) rather than where they lead.")
def command(accounts, db_url, posts_file, locale, zone_name, now, units, limit, page, all_posts, as_posted,
            **filters):
    """Print ACCOUNT's archived timeline, newest first: @handle text relative-time.

    Links show where they lead, as readers see them (t.co expanded; --as-posted: as posted).
    Relative times are calendar-exact and floored ("5 jaar 10 maanden geleden"); --now makes
    the output reproducible. Without ACCOUNT, every account in the archive. The newest 200
    posts unless --limit, --page or --all say otherwise; when there are more, a line on
    standard error says how many and how to see them.

    Example:

    \b
        archive show teamsaantstuur --locale nl --now 2020-11-27 --limit 10
    """
    from archive.render import write_lines

    paging = paging_of(limit, page, all_posts)
    zone = zone_of(zone_name)
    now = parse_now(now, zone)
    relative = relative_formatter(locale, zone, units)
    database, post_filter = open_for_accounts(db_url, posts_file, accounts, build_filter((), zone=zone, **filters))
    try:
        posts, total = read_page(database, post_filter, paging)
        shown = write_lines(posts, sys.stdout, now=now, relative=relative, expand_links=not as_posted)
    finally:
        database.engine.dispose()
    report_paging(shown, total, paging)


def report_paging(shown: int, total: int | None, paging: Paging, prefix: str = "", hints=()) -> None:
    """Say on stderr that more posts exist (see more_message); a page past the end is an error."""
    if total is None:
        return
    from archive.errors import ArchiveError

    message = more_message(shown, total, paging, hints=hints)
    if not shown and paging.page > 1:
        raise ArchiveError(message)
    sys.stdout.flush()
    click.echo(prefix + message, err=True)
