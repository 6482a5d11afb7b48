"""`archive show ACCOUNT`: the timeline as the seed page showed it, `@handle text relative-time`.

Also home of the options `show` and `render` share (--db, --file, filters, --locale, --timezone,
--now), as plain decorators.
"""
from __future__ import annotations

import os
import sys
from datetime import date, datetime, time, timezone
from pathlib import Path

import click

DEFAULT_ZONE = "Europe/Amsterdam"


def archive_options(function):
    function = click.option("--file", "posts_file", type=click.Path(dir_okay=False, path_type=Path),
                            default=None, envvar="CAMPAIGN_FILE",
                            help="posts.yaml, to find the default database beside it [env CAMPAIGN_FILE].")(function)
    return click.option("--db", "db_url", metavar="URL|PATH", envvar="CAMPAIGN_DATABASE_URL",
                        help="Archive database: a SQLAlchemy URL or a SQLite file "
                             "[env CAMPAIGN_DATABASE_URL; default: beside posts.yaml].")(function)


def time_options(function):
    function = click.option("--now", "now_text", metavar="WHEN",
                            help="Pretend it is this moment: 2020-11-27, 2020-11-27T10:00 (in --timezone) "
                                 "or with an offset, 2020-11-27T09:00Z [default: the clock].")(function)
    function = click.option("--timezone", "zone_name", default=None, metavar="ZONE",
                            help=f"IANA zone whose calendar counts days and months [env ARCHIVE_TIMEZONE; "
                                 f"default: {DEFAULT_ZONE}].")(function)
    function = click.option("--units", type=click.IntRange(1, 5), default=2, show_default=True,
                            help="At most this many units (5 jaar 10 maanden = 2).")(function)
    return click.option("--locale", default="nl", show_default=True,
                        help="Language of the relative times: nl, en, or any CLDR locale Babel knows "
                             "(fr, es, de, …).")(function)


# The filters every reading command takes (show/render add --limit, export/stats --account).
FILTER_OPTIONS = [
    click.option("--platform", type=click.Choice(["x", "mastodon", "bluesky"]), help="Only this platform."),
    click.option("--from", "--since", "since", metavar="DATE",
                 help="Posts created on or after this date (in --timezone)."),
    click.option("--until", metavar="DATE", help="Posts created up to the end of this date (in --timezone)."),
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
    """A date (its midnight in zone; with end_of_day the next midnight), a local date-time, or one with an offset."""
    from datetime import timedelta

    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=1 if end_of_day else 0), time(0, 0))
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (2020-11-27) or date-time (2020-11-27T10:00)",
                                 param_hint=param) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    from campaign.spec.timerange import FIRST_YEAR, LAST_YEAR, RANGE

    if not FIRST_YEAR <= moment.year <= LAST_YEAR:  # beyond them a zone offset overflows datetime
        raise click.BadParameter(f"{value!r} is out of range: {RANGE}", param_hint=param)
    return moment.astimezone(timezone.utc)


def relative_formatter(locale: str, zone, units: int):
    from archive.reltime import RelativeTime, UnknownLocale

    try:
        return RelativeTime(locale, zone, units)
    except UnknownLocale as error:
        raise click.BadParameter(str(error), param_hint="--locale") from None


def build_filter(accounts, *, zone, platform=None, since=None, until=None, hashtag=None, kinds=(), campaign=None,
                 search=None, include_deleted=False, limit=None):
    from archive.records import PostFilter

    return PostFilter(accounts=tuple(a.lstrip("@") for a in accounts if a), platform=platform,
                      since=parse_moment(since, zone, param="--from") if since else None,
                      until=parse_moment(until, zone, end_of_day=True, param="--until") if until else None,
                      hashtag=hashtag.lstrip("#") if hashtag else None, kinds=tuple(kinds), campaign=campaign,
                      search=search, include_deleted=include_deleted, newest_first=True, limit=limit)


def query(db_url, posts_file, post_filter):
    """Open the archive once and return its posts for the filter (newest first)."""
    from archive.store import open_archive, query_posts

    database = open_archive(db_url, posts_file=posts_file, create=False)
    return database, query_posts(database, post_filter)


@click.command("show")
@click.argument("accounts", nargs=-1, metavar="[ACCOUNT]...")
@archive_options
@time_options
@filter_options
def command(accounts, db_url, posts_file, locale, zone_name, now_text, units, **filters):
    """Print ACCOUNT's archived timeline, newest first: @handle text relative-time.

    Relative times are calendar-exact and floored ("5 jaar 10 maanden geleden"); --now makes
    the output reproducible. Without ACCOUNT, every account in the archive.

    Example:

        archive show teamsaantstuur --locale nl --now 2020-11-27 --limit 10
    """
    from archive.render import write_lines

    zone = zone_of(zone_name)
    now = parse_moment(now_text, zone) if now_text else datetime.now(timezone.utc)
    relative = relative_formatter(locale, zone, units)
    database, posts = query(db_url, posts_file, build_filter(accounts, zone=zone, **filters))
    try:
        write_lines(posts, sys.stdout, now=now, relative=relative)
    finally:
        dispose = getattr(getattr(database, "engine", None), "dispose", None)
        if dispose:
            dispose()
