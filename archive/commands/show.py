"""`archive show ACCOUNT`: the timeline as the seed page showed it, `@handle text relative-time`.

Also home of the option groups the archive commands share (--db and --file, filters, --locale,
--timezone, --now), built from the shared definitions in campaign.options.
"""
from __future__ import annotations

import os
import sys
from dataclasses import replace
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
    click.option("--platform", type=click.Choice(["x", "mastodon", "bluesky"]), help="Only this platform."),
    range_options("posts created", "--timezone"),
    click.option("--hashtag", metavar="TAG", help="Posts with this hashtag (without #, any case)."),
    click.option("--kind", "kinds", multiple=True, type=click.Choice(["post", "reply", "repost", "quote"]),
                 help="Only these kinds (repeat the option for more)."),
    click.option("--campaign", metavar="ID", help="Only posts the campaign queue sent for this campaign."),
    click.option("--search", metavar="TEXT", help="Posts whose text contains TEXT (any case)."),
    click.option("--include-deleted", is_flag=True, help="Also posts deleted on the platform."),
]


def with_options(options):
    """A decorator applying click options in the order listed."""
    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


filter_options = with_options([*FILTER_OPTIONS, click.option(
    "--limit", type=click.IntRange(min=1), help="At most this many posts (the newest).")])


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
                 search=None, include_deleted=False, limit=None):
    from archive.records import PostFilter

    return PostFilter(accounts=tuple(a.strip().lstrip("@") for a in accounts if a), platform=platform,
                      since=parse_moment(since, zone, param="--from") if since else None,
                      until=parse_moment(until, zone, end_of_day=True, param="--until") if until else None,
                      hashtag=hashtag.lstrip("#") if hashtag else None, kinds=tuple(kinds), campaign=campaign,
                      search=search, include_deleted=include_deleted, newest_first=True, limit=limit)


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


def query(db_url, posts_file, post_filter, accounts=()):
    """Open the archive once and return its posts for the filter (newest first)."""
    from archive.store import query_posts

    database, post_filter = open_for_accounts(db_url, posts_file, accounts, post_filter)
    return database, query_posts(database, post_filter)


@click.command("show")
@click.argument("accounts", nargs=-1, metavar="[ACCOUNT]...")
@archive_options
@time_options
@filter_options
def command(accounts, db_url, posts_file, locale, zone_name, now, units, **filters):
    """Print ACCOUNT's archived timeline, newest first: @handle text relative-time.

    Relative times are calendar-exact and floored ("5 jaar 10 maanden geleden"); --now makes
    the output reproducible. Without ACCOUNT, every account in the archive.

    Example:

    \b
        archive show teamsaantstuur --locale nl --now 2020-11-27 --limit 10
    """
    from archive.render import write_lines

    zone = zone_of(zone_name)
    now = parse_now(now, zone)
    relative = relative_formatter(locale, zone, units)
    database, posts = query(db_url, posts_file, build_filter((), zone=zone, **filters), accounts)
    try:
        write_lines(posts, sys.stdout, now=now, relative=relative)
    finally:
        dispose = getattr(getattr(database, "engine", None), "dispose", None)
        if dispose:
            dispose()
