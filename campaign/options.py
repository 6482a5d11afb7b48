"""Command-line options shared by the `campaign` and `archive` commands: one grammar for both.

The posts file (an optional FILE argument where a command has no other positional
arguments, and `--file` everywhere), --db, --now, --from/--until, --account, --format,
--locale, --timezone; the one time parser; and the one mapping of typed errors to a
one-line message and an exit code. Only click and the standard library are imported at
module level: `campaign run` on an idle tick must start cheaply.
"""
from __future__ import annotations

import functools
import os
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Callable, Union

import click

DEFAULT_FILE = "posts.yaml"
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

ZoneLike = Union[tzinfo, str, None, Callable[[], Union[tzinfo, str, None]]]


# --- errors -------------------------------------------------------------------------------------------

class ErrorMappingGroup(click.Group):
    """Maps typed errors to one line on stderr and an exit code, the same way for both commands:
    every problem of a ConfigError as FILE:LINE:COL, any other CampaignError as 'PROG: message'
    (its exit_code, 2), Ctrl-C as 'PROG: interrupted' (130). No traceback reaches the user."""

    def invoke(self, ctx):
        from campaign.errors import CampaignError, ConfigError

        prog = ctx.find_root().command.name or "campaign"
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            if not error.problems:
                click.echo(f"{prog}: {error}", err=True)
            ctx.exit(error.exit_code)
        except CampaignError as error:
            click.echo(f"{prog}: {error}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo(f"{prog}: interrupted", err=True)
            ctx.exit(130)


# --- time ------------------------------------------------------------------------------------------------

def parse_time(value: str, zone: ZoneLike = None, *, end_of_day: bool = False, param: str | None = None) -> datetime:
    """THE time parser of both commands, as UTC: a date (its midnight; with end_of_day the next
    midnight, i.e. up to its end), a local date-time, or one with an offset (Z for UTC). Local means
    in `zone`: a tzinfo, an IANA name, or a function giving one (called only when needed, so a
    time with an offset never loads posts.yaml); None is UTC. Only the supported years
    (campaign.spec.timerange) are accepted; anything else is a one-line BadParameter."""
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text) + timedelta(days=1 if end_of_day else 0), time(0, 0))
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError):
        raise click.BadParameter(f"{value!r} is not a date (2027-01-31), a local date-time (2027-01-31T10:00) "
                                 f"or one with an offset (2027-01-31T10:00+01:00)", param_hint=param) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(zone, param))
    from campaign.spec.timerange import FIRST_YEAR, LAST_YEAR, RANGE

    if not FIRST_YEAR <= moment.year <= LAST_YEAR:  # beyond them a zone offset overflows datetime
        raise click.BadParameter(f"{value!r} is out of range: {RANGE}", param_hint=param)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise click.BadParameter(f"{value!r} is out of range: {RANGE}", param_hint=param) from None


def parse_now(value: str | None, zone: ZoneLike = None) -> datetime:
    """--now as UTC (see parse_time), or the clock when it is not given."""
    return parse_time(value, zone, param="--now") if value else datetime.now(timezone.utc)


def _zone(zone: ZoneLike, param: str | None) -> tzinfo:
    if callable(zone) and not isinstance(zone, tzinfo):
        zone = zone()
    if zone is None:
        return timezone.utc
    if isinstance(zone, tzinfo):
        return zone
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(zone)
    except Exception:
        raise click.BadParameter(f"unknown time zone {zone!r} (use an IANA name like Europe/Amsterdam)",
                                 param_hint=param) from None


# --- the posts file ------------------------------------------------------------------------------------

def resolve_posts_file(value: Path | str | None) -> Path:
    """FILE or --file, else $CAMPAIGN_FILE, else posts.yaml in the current folder."""
    return Path(value) if value else Path(os.environ.get("CAMPAIGN_FILE") or DEFAULT_FILE)


# One instance for every command: click.Path looks up its name's translation (gettext, a few failed
# stat calls) each time one is made, and the commands are built at every start-up.
POSTS_FILE_TYPE = click.Path(path_type=Path)


def posts_file_options(positional: bool = True):
    """The posts file, the same way in every command: `--file FILE`, and (positional=True, for a
    command without other positional arguments) an optional FILE argument. The command receives
    `posts_file` (a Path or None; resolve_posts_file gives the default)."""
    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, posts_file=None, posts_file_argument=None, **kwargs):
            if posts_file and posts_file_argument and Path(posts_file) != Path(posts_file_argument):
                raise click.UsageError(f"two posts files: {posts_file_argument} and --file {posts_file}; give one")
            return function(*args, posts_file=posts_file or posts_file_argument, **kwargs)

        wrapper = click.option("--file", "posts_file", metavar="FILE", type=POSTS_FILE_TYPE, default=None,
                               help="The posts file (also as the FILE argument where a command takes one) "
                                    "[env CAMPAIGN_FILE; default: posts.yaml].")(wrapper)
        if positional:
            wrapper = click.argument("posts_file_argument", metavar="[FILE]", required=False, default=None,
                                     type=POSTS_FILE_TYPE)(wrapper)
        return wrapper
    return decorate


# --- the other shared options ----------------------------------------------------------------------------

def db_option(what: str = "Queue database", default: str = "campaign.db beside posts.yaml"):
    return click.option("--db", "db_url", metavar="URL|PATH", envvar="CAMPAIGN_DATABASE_URL",
                        help=f"{what}: a SQLAlchemy URL or a SQLite file "
                             f"[env CAMPAIGN_DATABASE_URL; default: {default}].")


def now_option(zone_words: str = "posts.yaml's zone"):
    return click.option("--now", "now", metavar="TIME", default=None,
                        help=f"Act as if it were TIME: a date, a local date-time (in {zone_words}) or one "
                             f"with an offset, e.g. 2027-01-11T10:00+01:00 [default: the clock].")


def range_options(what: str, zone_words: str = "posts.yaml's zone"):
    """--from (alias --since) and --until, read by parse_time."""
    def decorate(function):
        function = click.option("--until", "until", metavar="TIME",
                                help=f"Only {what} before TIME (a date means up to its end).")(function)
        return click.option("--from", "--since", "since", metavar="TIME",
                            help=f"Only {what} at or after TIME (a date or date-time in {zone_words}).")(function)
    return decorate


def account_option(what: str = "posts", *, multiple: bool = False, dest: str = "account"):
    more = " (repeat for more)" if multiple else ""
    return click.option("--account", dest, metavar="ACCOUNT", multiple=multiple,
                        help=f"Only {what} of this account: its posts.yaml name or its handle{more}.")


def format_option(choices, default=None, help: str = "Output format.", dest: str = "fmt"):
    return click.option("--format", dest, type=click.Choice(list(choices)), default=default,
                        show_default=default is not None, help=help)


def locale_option(function):
    return click.option("--locale", default="nl", show_default=True,
                        help="Language of the relative times: nl, en, or any CLDR locale Babel knows "
                             "(fr, es, de, …).")(function)


def timezone_option(help: str):
    return click.option("--timezone", "zone_name", default=None, metavar="ZONE", help=help)


# --- accounts ------------------------------------------------------------------------------------------

def match_account(value: str, accounts) -> str | None:
    """The name of the account `value` means, among accounts as (name, handle) pairs: its
    posts.yaml name, or its handle (`@teamsaantstuur`, `@team@social.example`; any case, the
    leading @ optional). None when it is neither, or when the handle is ambiguous."""
    pairs = list(accounts)
    if any(name == value for name, _ in pairs):
        return value
    wanted = value.strip().lstrip("@").casefold()
    matches = [name for name, handle in pairs if (handle or "").strip().lstrip("@").casefold() == wanted]
    return matches[0] if len(matches) == 1 else None


def unknown_account(value: str, known) -> Exception:
    """The error (exit 2) for an account nobody knows, naming the accounts that exist."""
    from campaign.errors import NotFoundError

    known = sorted(dict.fromkeys(known))
    return NotFoundError(f"unknown account '{value}'; " + (f"known: {', '.join(known)}" if known else
                                                          "no accounts are known yet"))
