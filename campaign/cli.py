"""The `campaign` command: parses arguments, calls the library, prints.

Library errors (campaign.errors) become one line on stderr and exit code 2.
"""
from __future__ import annotations

import os
import sys
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import click

from .errors import CampaignError, ConfigError

DEFAULT_FILE = "posts.yaml"


class CampaignGroup(click.Group):
    """Maps typed errors to exit codes in one place; no traceback reaches the user."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            ctx.exit(error.exit_code)
        except CampaignError as error:
            click.echo(f"campaign: {error}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("campaign: interrupted", err=True)
            ctx.exit(130)


def parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date-time like 2027-01-11T10:00+01:00") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give a UTC offset, e.g. 2027-01-11T10:00+01:00 or 2027-01-11T09:00Z")
    return moment.astimezone(timezone.utc)


def posts_file_argument(function):
    return click.argument("posts_file", metavar="[FILE]", required=False, default=None,
                          type=click.Path(dir_okay=True, path_type=Path))(function)


def resolve_posts_file(value: Path | None) -> Path:
    return value or Path(os.environ.get("CAMPAIGN_FILE", DEFAULT_FILE))


def database_options(function):
    return click.option("--db", "db_url", metavar="URL|PATH", envvar="CAMPAIGN_DATABASE_URL",
                        help="Queue database: a SQLAlchemy URL or a SQLite file "
                             "[env CAMPAIGN_DATABASE_URL; default: campaign.db beside posts.yaml].")(function)


def parse_bound(value: str, zone_name: str, *, end_of_day: bool) -> datetime:
    """A local date or date-time (or one with an offset) as UTC; a date with end_of_day means up to its end."""
    from .schedule import zone

    try:
        if len(value) == 10:
            moment = datetime.combine(datetime.fromisoformat(value).date(), time(0, 0))
            if end_of_day:
                moment += timedelta(days=1)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (2027-01-31) or date-time (2027-01-31 10:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(zone_name))
    return moment.astimezone(timezone.utc)


def now_option(function):
    return click.option("--now", "now", metavar="TIME", default=None,
                        help="Act as if it were TIME (ISO 8601 with offset); for previews and tests.")(function)


def open_database(db_url: str | None, posts_file: Path | None):
    from .db import Database, database_url

    return Database(database_url(db_url, posts_file))


@click.group(cls=CampaignGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="praatmee", prog_name="campaign")
def main():
    """Schedule campaign posts to X, Mastodon and Bluesky from posts.yaml, exactly once.

    Example:

        campaign check && campaign plan && campaign sync
    """


@main.command()
@posts_file_argument
def check(posts_file):
    """Validate posts.yaml and report every problem as FILE:LINE:COL.

    Exit status: 0 when valid (warnings are printed), 2 on errors.

    Example:

        campaign check posts.yaml
    """
    from .plan import analyse

    path = resolve_posts_file(posts_file)
    plan = analyse(path)
    for problem in plan.problems.sorted():
        click.echo(str(problem))
    errors, warnings = len(plan.problems.errors), len(plan.problems.warnings)
    if errors:
        click.echo(f"{path}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
        sys.exit(2)
    accounts = {o.account for o in plan.occurrences}
    click.echo(f"{path}: OK — {len(plan.file.campaigns)} campaign{'s' * (len(plan.file.campaigns) != 1)}, "
               f"{len(plan.occurrences)} occurrence{'s' * (len(plan.occurrences) != 1)} on "
               f"{len(accounts)} account{'s' * (len(accounts) != 1)}"
               + (f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""))


@main.command()
@posts_file_argument
@click.option("--from", "start", metavar="TIME", help="Only occurrences at or after TIME (local date or date-time).")
@click.option("--until", "end", metavar="TIME", help="Only occurrences before TIME (a date means up to its end).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default=None,
              help="Output format [default: table on a terminal, tab-separated lines when piped].")
def plan(posts_file, start, end, fmt):
    """Show every concrete occurrence in order: local time, UTC, account, text, length, id.

    Example:

        campaign plan --from 2027-01-01 --until 2027-01-31
    """
    from . import output
    from .plan import load_plan

    plan_ = load_plan(resolve_posts_file(posts_file))
    for problem in plan_.problems.sorted():
        click.echo(str(problem), err=True)
    zone_name = plan_.file.timezone
    low = parse_bound(start, zone_name, end_of_day=False) if start else None
    high = parse_bound(end, zone_name, end_of_day=True) if end else None
    chosen = [o for o in plan_.occurrences if (low is None or o.due_at >= low) and (high is None or o.due_at < high)]
    if fmt == "json":
        click.echo(output.plan_json(chosen), nl=False)
    elif fmt == "csv":
        click.echo(output.plan_csv(chosen), nl=False)
    elif fmt == "table" or (fmt is None and sys.stdout.isatty()):
        output.plan_table(chosen)
    else:
        click.echo(output.plan_plain(chosen), nl=False)


@main.command()
@posts_file_argument
@database_options
@now_option
def sync(posts_file, db_url, now):
    """Make the queue match posts.yaml, in one transaction.

    New occurrences are queued, edited unsent ones updated, removed unsent ones
    cancelled; posts that were sent (or are being sent) are never touched.

    Example:

        campaign sync posts.yaml --db campaign.db
    """
    from .plan import load_plan
    from .queue import file_fingerprint
    from .queue import sync as sync_queue

    path = resolve_posts_file(posts_file)
    moment = parse_now(now)
    fingerprint = file_fingerprint(path)
    plan_ = load_plan(path)
    for problem in plan_.problems.sorted():
        click.echo(str(problem), err=True)
    database = open_database(db_url, path)
    summary = sync_queue(database, plan_, moment, fingerprint=fingerprint)
    click.echo(f"Synced {path}: {summary}")
    if summary.edited_after_sending:
        click.echo(f"note: {len(summary.edited_after_sending)} edited post(s) were already sent or in flight "
                   f"and were left as they are, e.g. {summary.edited_after_sending[0]}", err=True)


@main.command()
@posts_file_argument
@database_options
@now_option
@click.option("--limit", default=5, show_default=True, help="How many next and problem posts to list.")
def status(posts_file, db_url, now, limit):
    """Show counts per state, the next due posts and recent problems.

    Example:

        campaign status
    """
    from .status import status as queue_status
    from .output import status_text

    database = open_database(db_url, resolve_posts_file(posts_file))
    moment = parse_now(now)
    click.echo(status_text(queue_status(database, moment, limit=limit), database.display, moment), nl=False)


def load_environment(posts_file: Path) -> dict[str, str]:
    """The process environment, plus a .env beside posts.yaml for what the environment does not set."""
    from dotenv import dotenv_values

    values = {}
    for candidate in (Path.cwd() / ".env", posts_file.resolve().parent / ".env"):
        if candidate.is_file():
            values.update({k: v for k, v in dotenv_values(candidate).items() if v is not None})
    return {**values, **os.environ}


def _stop_flag():
    """SIGTERM/SIGINT: finish the post in flight, then stop taking new ones."""
    import signal

    stopping = {"now": False}

    def request_stop(signum, frame):
        if stopping["now"]:
            raise KeyboardInterrupt
        stopping["now"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return lambda: stopping["now"]


@main.command()
@posts_file_argument
@database_options
@now_option
@click.option("--dry-run", is_flag=True, help="Show what would be posted now; nothing leaves the machine.")
@click.option("--lease", default=180, show_default=True, metavar="SECONDS",
              help="How long a claimed post stays ours before another run may take it over.")
@click.option("-v", "--verbose", is_flag=True, help="One line per post handled, also when all is well.")
def run(posts_file, db_url, now, dry_run, lease, verbose):
    """Sync posts.yaml, post everything due exactly once, then exit (for cron).

    Prints nothing when all is well. Exit status: 0 all good, 1 when a post
    failed, was missed or needs a person (summary on stderr), 2 for
    configuration errors.

    Example:

        */5 * * * * cd /srv/campagne && .venv/bin/campaign run
    """
    # Imports are deferred to the branch that needs them: a tick with nothing to do stays cheap.
    from datetime import timedelta

    from .claims import has_work
    from .queue import file_fingerprint, is_synced

    path = resolve_posts_file(posts_file)
    moment = parse_now(now)
    database = open_database(db_url, path)
    config_problem = None
    fingerprint = file_fingerprint(path)
    if not is_synced(database, path, fingerprint):
        from .plan import load_plan
        from .queue import sync as sync_queue

        try:
            sync_queue(database, load_plan(path), moment, fingerprint=fingerprint)
        except ConfigError as error:
            # Keep posting what was queued from the last good file; say so, and exit 2.
            config_problem = error
    if dry_run:
        _print_dry_run(database, moment)
        return
    if config_problem is None and not has_work(database, moment):
        return
    from .dispatch import Dispatcher

    clock = (lambda: moment) if now else None
    dispatcher_args = {"clock": clock} if clock else {}
    dispatcher = Dispatcher(database, environ=load_environment(path), lease=timedelta(seconds=lease),
                            should_stop=_stop_flag(), **dispatcher_args,
                            on_outcome=(lambda o: click.echo(_outcome_line(o))) if verbose else None)
    report = dispatcher.run_due()
    if config_problem is not None:
        for problem in config_problem.problems:
            click.echo(str(problem), err=True)
        click.echo(f"campaign: {path} has errors; kept posting what was queued before it changed", err=True)
        report.config_errors.append(str(config_problem))
    for message in dict.fromkeys(report.config_errors[:-1] if config_problem else report.config_errors):
        click.echo(f"campaign: {message}", err=True)
    problems = report.needs_attention
    if problems:
        click.echo(f"campaign run: {len(problems)} post{'s' * (len(problems) != 1)} need attention "
                   f"({report.count('sent')} sent):", err=True)
        for outcome in problems:
            click.echo("  " + _outcome_line(outcome), err=True)
    sys.exit(report.exit_code)


def _print_dry_run(database, moment: datetime) -> None:
    from .manual import due_now

    due = due_now(database, moment)
    for row in due:
        late = moment > row.due_at + timedelta(seconds=row.late_seconds)
        parts = row.payload.get("parts", [])
        verb = "would be MISSED (too late)" if late else "would post"
        click.echo(f"{verb} #{row.id} to {row.account} (due {row.local_time[:16].replace('T', ' ')}):")
        for number, part in enumerate(parts, 1):
            prefix = f"  {number}/{len(parts)} " if len(parts) > 1 else "  "
            click.echo(prefix + part["text"].replace("\n", "\n" + " " * len(prefix)))
            for media in part.get("media", []):
                click.echo(f"{' ' * len(prefix)}[image {Path(media['path']).name}, alt: {media['alt']}]")
    if not due:
        click.echo(f"nothing due at {moment:%Y-%m-%d %H:%M} UTC")


@main.command()
@posts_file_argument
@database_options
@click.option("--lease", default=180, show_default=True, metavar="SECONDS",
              help="How long a claimed post stays ours before another dispatcher may take it over.")
@click.option("--tick", default=30.0, show_default=True, metavar="SECONDS",
              help="Safety tick: look at the queue at least this often (work queued by others).")
def serve(posts_file, db_url, lease, tick):
    """Run as one long-lived dispatcher: posts go out on time, posts.yaml edits apply live.

    SIGTERM/SIGINT finish the post in flight and exit 0; SIGHUP reloads posts.yaml
    and .env. Logs one line per post on stderr. Can run beside cron 'campaign run'
    and other 'serve' processes on the same database.

    Example:

        campaign serve /srv/campagne/posts.yaml --db postgresql+psycopg://campagne@db/campagne
    """
    import logging
    import time as _time
    from datetime import timedelta

    from .serve import Server

    logging.Formatter.converter = _time.gmtime
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)sZ %(levelname)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    path = resolve_posts_file(posts_file)
    database = open_database(db_url, path)
    server = Server(database, path, lambda: load_environment(path), lease=timedelta(seconds=lease), tick=tick)
    sys.exit(server.serve())


def _outcome_line(outcome) -> str:
    line = f"#{outcome.post_id} {outcome.state} {outcome.account} {outcome.key}"
    if outcome.url:
        line += f" {outcome.url}"
    if outcome.message:
        line += f": {outcome.message}"
    return line


@main.command()
@click.argument("account")
@click.argument("text")
@click.option("--file", "posts_file", type=click.Path(path_type=Path), default=None,
              help="posts.yaml (for the default database).")
@database_options
@now_option
@click.option("--at", "at", metavar="TIME", help="When (local date-time in posts.yaml's zone, or with offset); default now.")
@click.option("--reply-to", metavar="URL", help="Reply to this post.")
@click.option("--media", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
              help="An image to attach (repeat for more, up to 4).")
@click.option("--alt", multiple=True, help="Alt text for each --media, in order.")
def post(account, text, posts_file, db_url, now, at, reply_to, media, alt):
    """Queue a one-off post or reply without editing posts.yaml.

    It goes out through the same queue with the same guarantees at the next
    run; sync leaves it alone.

    Example:

        campaign post teamsaantstuur "@moniquedenb Leuk dat je ons volgt!" --reply-to https://x.com/moniquedenb/status/1
    """
    from .manual import queue_post

    if len(media) != len(alt):
        raise click.BadParameter("give one --alt for every --media", param_hint="--alt")
    path = resolve_posts_file(posts_file)
    moment = parse_now(now)
    when = parse_bound(at, _file_zone(path), end_of_day=False) if at else moment
    database = open_database(db_url, path)
    queued = queue_post(database, account, text, at=when, now=moment, reply_to_url=reply_to,
                        media=tuple(zip(media, alt)))
    click.echo(f"queued #{queued.id} for {account} at {queued.due_at:%Y-%m-%d %H:%M} UTC")


def _file_zone(path: Path) -> str:
    from .config import load

    try:
        cfile, _ = load(path)
    except CampaignError:
        return "UTC"
    return cfile.timezone if cfile is not None else "UTC"


@main.command()
@click.argument("post_id", type=int)
@click.option("--sent", "url", required=True, metavar="URL", help="The URL where the post appeared.")
@click.option("--file", "posts_file", type=click.Path(path_type=Path), default=None,
              help="posts.yaml (for the default database).")
@database_options
@now_option
def resolve(post_id, url, posts_file, db_url, now):
    """Mark an unknown (or failed) post as sent, after checking the account by hand.

    Example:

        campaign resolve 42 --sent https://x.com/teamsaantstuur/status/1885
    """
    from .manual import resolve_sent

    resolve_sent(open_database(db_url, resolve_posts_file(posts_file)), post_id, url, parse_now(now))
    click.echo(f"#{post_id} marked sent: {url}")


@main.command()
@click.argument("post_id", type=int)
@click.option("--file", "posts_file", type=click.Path(path_type=Path), default=None,
              help="posts.yaml (for the default database).")
@database_options
@now_option
def retry(post_id, posts_file, db_url, now):
    """Queue a failed, unknown or missed post again; the next run sends it (a thread resumes where it stopped).

    Example:

        campaign retry 42
    """
    from .manual import retry as retry_post

    retry_post(open_database(db_url, resolve_posts_file(posts_file)), post_id, parse_now(now))
    click.echo(f"#{post_id} queued again")


@main.group()
def accounts():
    """Check the accounts' credentials.

    Example:

        campaign accounts check
    """


@accounts.command("check")
@posts_file_argument
@database_options
@now_option
def accounts_check(posts_file, db_url, now):
    """Call each account's platform with its credentials: ok, missing variables, or rejected.

    Example:

        campaign accounts check posts.yaml
    """
    from .accounts import check_accounts
    from .plan import load_plan

    path = resolve_posts_file(posts_file)
    plan_ = load_plan(path)
    database = open_database(db_url, path)
    results = check_accounts(plan_.file, load_environment(path), database, parse_now(now))
    for result in results:
        click.echo(f"{result.account:<24} {result.platform:<9} {result.status:<8} {result.detail}")
    sys.exit(0 if all(r.status == "ok" for r in results) else 1)


if __name__ == "__main__":  # pragma: no cover
    main()
