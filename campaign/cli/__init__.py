"""The `campaign` command: parses arguments, calls the library, prints.

Library errors (campaign.errors) become one line on stderr and exit code 2.
"""
from __future__ import annotations

import functools
import gc
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from campaign.errors import CampaignError, ConfigError
from campaign.options import (CONTEXT_SETTINGS, POSTS_FILE_TYPE, ErrorMappingGroup, account_option, db_option,
                              format_option, now_option, parse_now, parse_time, posts_file_options, range_options,
                              resolve_posts_file)


# Commands imported only when used (or listed, for --help): `campaign web` lives in the web package,
# which imports campaign and is never imported by it otherwise; the others are rarely run, so
# `campaign status` and the cron tick do not build their options.
LAZY_COMMANDS = {
    "web": "web.command:command",
    "users": "campaign.cli.users_command:users",
    "approvals": "campaign.cli.approval_commands:approvals",
    "approve": "campaign.cli.approval_commands:approve",
    "reject": "campaign.cli.approval_commands:reject",
    "preview": "campaign.cli.preview_command:preview",
}


class CampaignGroup(ErrorMappingGroup):
    """Maps typed errors to exit codes in one place (campaign.options, shared with `archive`)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        global _process_ends_with_command
        # Called without arguments, as the console script calls it, click reads sys.argv and exits
        # when the command returns: this process is the command (see without_collector_pauses).
        _process_ends_with_command = args is None and standalone_mode
        return super().main(args, prog_name, complete_var, standalone_mode, **extra)

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | {name for name in LAZY_COMMANDS if self._lazy(name)})

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is None and self._lazy(name):
            import importlib

            module, attribute = LAZY_COMMANDS[name].split(":")
            command = getattr(importlib.import_module(module), attribute)
        return command

    @staticmethod
    def _lazy(name: str) -> bool:
        import importlib.util

        return name in LAZY_COMMANDS and importlib.util.find_spec(LAZY_COMMANDS[name].split(":")[0]) is not None


# True when this process runs one command and exits (CampaignGroup.main); False under CliRunner.
_process_ends_with_command = False
# The databases a brief command opened (open_database, open_existing_database), closed when it returns.
_opened_by_brief_command: list | None = None


def without_collector_pauses(function):
    """For commands that start, do one bounded piece of work and exit (check, plan, sync, status,
    history): Python's cyclic garbage collector is off while they run, and their databases are
    closed (SQLite checkpoints its WAL) when they return.

    Their start-up imports SQLAlchemy, YAML and the spec: hundreds of thousands of objects that
    live as long as the process, and no cycles worth collecting. The collector's passes over them
    cost about 2% of `campaign status` and `campaign sync`, and the full collection at the
    interpreter's exit about 8% (instructions counted with callgrind): when the process ends with
    the command, what it made is frozen (gc.freeze), so the exit does not walk it. In a process
    that goes on (tests), the collector is on again afterwards, with everything collectable.
    Long-running commands (run, serve, web) keep the collector."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        global _opened_by_brief_command
        was_enabled = gc.isenabled()
        gc.disable()
        opened = _opened_by_brief_command = []
        try:
            return function(*args, **kwargs)
        finally:
            _opened_by_brief_command = None
            for database in opened:
                database.engine.dispose()  # closed now, not by a collection at exit
            # freeze: out of the collector's (and the exit's) way; unfreeze: back to the oldest
            # generation, uncollected (enabling alone would walk it all at the next allocation).
            gc.freeze()
            if not _process_ends_with_command:
                gc.unfreeze()
                if was_enabled:
                    gc.enable()

    return wrapper


def _opened(database):
    if _opened_by_brief_command is not None:
        _opened_by_brief_command.append(database)
    return database


def posts_file_argument(function):
    """[FILE] and --file (see campaign.options.posts_file_options)."""
    return posts_file_options()(function)


def database_options(function):
    return db_option()(function)


def parse_bound(value: str, zone_name: str, *, end_of_day: bool, param: str | None = None) -> datetime:
    """A local date or date-time (or one with an offset) as UTC (campaign.options.parse_time)."""
    return parse_time(value, _zone_of(zone_name), end_of_day=end_of_day, param=param)


def _zone_of(zone_name: str):
    from campaign.spec.schedule import zone

    return zone(zone_name)


def _now(value: str | None, path: Path | None) -> datetime:
    """--now; a local date-time is in posts.yaml's zone (read only when the value has no offset)."""
    return parse_now(value, lambda: _zone_of(_file_zone(resolve_posts_file(path))))


def debug_option(function):
    return click.option("--debug", is_flag=True,
                        help="Write full tracebacks of unexpected errors to a log file (CAMPAIGN_LOG_FILE, or "
                             "campaign-debug.log beside posts.yaml); stderr keeps one line per problem.")(function)


def open_database(db_url: str | None, posts_file: Path | None):
    from campaign.queue.db import Database, database_url

    return _opened(Database(database_url(db_url, posts_file)))


@click.group("campaign", cls=CampaignGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="praatmee", prog_name="campaign")
def main():
    """Schedule campaign posts to X, Mastodon and Bluesky from posts.yaml, exactly once.

    Example:

    \b
        campaign check && campaign plan && campaign sync
    """


@main.command()
@without_collector_pauses
@click.argument("files", metavar="[FILE]...", nargs=-1, type=POSTS_FILE_TYPE)
@click.option("--file", "posts_file", metavar="FILE", type=POSTS_FILE_TYPE, default=None,
              help="The posts file (also as the FILE argument) [env CAMPAIGN_FILE; default: posts.yaml].")
@now_option()
@format_option(["text", "json", "github"], "text",
               help="text: for people (each YAML syntax error with its line and a caret); json: one object "
                    "with every problem (a list of them for several files), for tools; github: workflow "
                    "commands, so GitHub Actions annotates the lines in a pull request.")
def check(files, posts_file, now, fmt):
    """Validate posts.yaml and report every problem as FILE:LINE:COL.

    Every post and account is checked on its own, so one pass shows every mistake, each once. Several
    files (as pre-commit passes them) are checked one after the other.
    Exit status: 0 when valid (warnings are printed), 2 on errors.

    Example:

    \b
        campaign check posts.yaml
        campaign check --format github posts.yaml   # in CI
    """
    if posts_file and files and any(Path(f) != Path(posts_file) for f in files):
        raise click.UsageError(f"two posts files: {files[0]} and --file {posts_file}; give one")
    paths = list(files) + ([posts_file] if posts_file else [])
    paths = [resolve_posts_file(path) for path in paths] if paths else [resolve_posts_file(None)]
    reports = [_check_one(path, now, fmt) for path in dict.fromkeys(paths)]
    if fmt == "json":
        import json

        body = reports[0] if len(reports) == 1 else reports
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    if any(report["errors"] for report in reports):
        sys.exit(2)


def _check_one(path: Path, now: str | None, fmt: str) -> dict:
    """Check one file, print it in `fmt` (except json: returned for the caller to print)."""
    from campaign.spec.plan import analyse

    plan = analyse(path, _now(now, path) if now else None)
    if fmt == "text":
        warn_about_env_files(path)
    problems = plan.problems.sorted(notes=True)
    errors, warnings = len(plan.problems.errors), len(plan.problems.warnings)
    posts = plan.file.post_count if plan.file is not None else 0
    summary = (f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
               + (f" in {posts} post{'s' * (posts != 1)}" if plan.file is not None else ""))
    if fmt == "github":
        for problem in problems:
            click.echo(_github_annotation(problem))
        click.echo(f"{path}: {summary}" if errors or warnings else f"{path}: OK")
    elif fmt == "text":
        for problem in problems:
            click.echo(problem.with_context())
        if errors:
            click.echo(f"{path}: {summary}")
        else:
            accounts = {o.account for o in plan.occurrences}
            click.echo(f"{path}: OK — {len(plan.file.campaigns)} campaign{'s' * (len(plan.file.campaigns) != 1)}, "
                       f"{len(plan.occurrences)} occurrence{'s' * (len(plan.occurrences) != 1)} on "
                       f"{len(accounts)} account{'s' * (len(accounts) != 1)}"
                       + (f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""))
    return {"file": str(path), "ok": not errors, "errors": errors, "warnings": warnings, "posts": posts,
            "problems": [p.as_dict() for p in problems]}


def _github_annotation(problem) -> str:
    """A GitHub Actions workflow command: the message shows on the line in the pull request."""
    def escape(value: str, *, prop: bool = False) -> str:
        value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return value.replace(":", "%3A").replace(",", "%2C") if prop else value

    level = "notice" if problem.severity == "note" else problem.severity
    return (f"::{level} file={escape(problem.file, prop=True)},line={problem.mark.line},"
            f"col={problem.mark.col},title={escape('campaign check', prop=True)}::{escape(problem.message)}")


@main.command()
@without_collector_pauses
@posts_file_argument
@range_options("occurrences")
@format_option(["table", "json", "csv", "xlsx", "ics"],
               help="Output format [default: table on a terminal, tab-separated lines when piped]. xlsx: an "
                    "Excel workbook, one row per occurrence, thread parts and media in their own columns; "
                    "ics: an iCalendar file, one event per occurrence (UID: the occurrence's id). Both are "
                    "written to standard output: redirect it to a file.")
@click.option("--excel", is_flag=True, help="CSV for (Dutch) Excel, as `archive export --excel`: ';' between "
                                            "fields, a BOM, formula-like cells (=, +, -, @) made harmless "
                                            "(implies --format csv).")
@account_option("occurrences", multiple=True, dest="accounts")
@click.option("--campaign", "campaigns", metavar="ID", multiple=True,
              help="Only this campaign's occurrences (repeat for more).")
@click.option("--state", "states", metavar="STATE", multiple=True,
              help="Only occurrences in this state in the queue (queued, sent, failed, unknown, missed, "
                   "awaiting_approval, rejected, …; 'new': not synced yet). Reads the database (--db).")
@database_options
@now_option()
def plan(posts_file, since, until, fmt, excel, accounts, campaigns, states, db_url, now):
    """Show every concrete occurrence in order: local time, UTC, account, text, length, id.

    Example:

    \b
        campaign plan --from 2027-01-01 --until 2027-01-31
        campaign plan --account teamsaantstuur --format xlsx > plan.xlsx
        campaign plan --format ics > plan.ics
    """
    from campaign.cli import output
    from campaign.spec.plan import load_plan

    if excel and fmt not in (None, "csv"):
        raise click.UsageError(f"--excel is a kind of CSV: leave out --format {fmt}")
    fmt = "csv" if excel else fmt
    if fmt in ("xlsx", "ics") and sys.stdout.isatty():
        raise click.UsageError(f"--format {fmt} writes a file: redirect it, e.g. campaign plan --format {fmt} "
                               f"> plan.{fmt}")
    path = resolve_posts_file(posts_file)
    moment = _now(now, path) if now else None
    plan_ = load_plan(path, moment)
    for problem in plan_.problems.sorted():
        click.echo(str(problem), err=True)
    zone_name = plan_.file.timezone
    low = parse_bound(since, zone_name, end_of_day=False, param="--from") if since else None
    high = parse_bound(until, zone_name, end_of_day=True, param="--until") if until else None
    chosen = [o for o in plan_.occurrences if (low is None or o.due_at >= low) and (high is None or o.due_at < high)]
    chosen = _plan_filters(chosen, plan_.file, accounts, campaigns)
    if states:
        chosen = _in_states(chosen, states, db_url, path)
    if fmt == "json":
        click.echo(output.plan_json(chosen), nl=False)
    elif fmt == "xlsx":
        from campaign.planfiles import write_xlsx

        write_xlsx(sys.stdout.buffer, chosen)
        sys.stdout.buffer.flush()
    elif fmt == "ics":
        from campaign.planfiles import ics

        sys.stdout.buffer.write(ics(chosen, now=moment))
        sys.stdout.buffer.flush()
    elif fmt == "csv" and excel:
        from campaign.csvexcel import write_excel

        write_excel(sys.stdout.buffer, output.PLAN_FIELDS,
                    ([str(record[field]) for field in output.PLAN_FIELDS] for record in output.plan_records(chosen)))
    elif fmt == "csv":
        click.echo(output.plan_csv(chosen), nl=False)
    elif fmt == "table" or (fmt is None and sys.stdout.isatty()):
        output.plan_table(chosen)
    else:
        click.echo(output.plan_plain(chosen), nl=False)


def _plan_filters(occurrences: list, cfile, accounts: tuple[str, ...], campaigns: tuple[str, ...]) -> list:
    """--account (a posts.yaml name or a handle) and --campaign; an unknown one is exit 2, naming those that exist."""
    from campaign.options import match_account, unknown_account
    from campaign.errors import NotFoundError

    if accounts:
        pairs = [(name, account.handle) for name, account in cfile.accounts.items()]
        names = set()
        for value in accounts:
            name = match_account(value, pairs)
            if name is None:
                raise unknown_account(value, cfile.accounts)
            names.add(name)
        occurrences = [o for o in occurrences if o.account in names]
    if campaigns:
        for value in campaigns:
            if value not in cfile.campaigns:
                known = ", ".join(sorted(cfile.campaigns)) or "none"
                raise NotFoundError(f"unknown campaign '{value}'; known: {known}")
        occurrences = [o for o in occurrences if o.campaign_id in campaigns]
    return occurrences


def _in_states(occurrences: list, states: tuple[str, ...], db_url: str | None, path: Path) -> list:
    """Occurrences whose queued post is in one of `states` ('new': not in the queue yet)."""
    from sqlalchemy import select

    from campaign.queue.tables import STATES, scheduled_posts

    wanted = set()
    for state in states:
        state = state.strip().lower().replace("-", "_")
        if state not in STATES and state != "new":
            raise click.BadParameter(f"unknown state '{state}'; use {', '.join(STATES)} or new",
                                     param_hint="--state")
        wanted.add(state)
    database = open_existing_database(db_url, path)
    with database.engine.connect() as connection:
        known = dict(connection.execute(select(scheduled_posts.c.key, scheduled_posts.c.state)).all())
    return [o for o in occurrences if known.get(o.key, "new") in wanted]


@main.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the schema to this file instead of standard output.")
def schema(output):
    """Print the JSON Schema (draft 2020-12) of posts.yaml, for completion and inline errors in editors.

    It is built from the same definitions `campaign check` uses. With VS Code's YAML extension (or any
    editor using yaml-language-server), save it beside posts.yaml and start posts.yaml with the line
    `# yaml-language-server: $schema=posts.schema.json`.

    Example:

    \b
        campaign schema > posts.schema.json
    """
    import json

    from campaign.spec.schema import posts_schema

    text = json.dumps(posts_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@main.command()
@without_collector_pauses
@posts_file_argument
@database_options
@now_option()
def sync(posts_file, db_url, now):
    """Make the queue match posts.yaml, in one transaction.

    New occurrences are queued, edited unsent ones updated, removed unsent ones
    cancelled; posts that were sent (or are being sent) are never touched.

    Example:

    \b
        campaign sync posts.yaml --db campaign.db
    """
    from campaign.spec.plan import load_plan
    from campaign.queue.sync import file_fingerprint
    from campaign.queue.sync import sync as sync_queue

    path = resolve_posts_file(posts_file)
    moment = _now(now, path)
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


def open_existing_database(db_url: str | None, posts_file: Path | None):
    """For commands that only read: a SQLite file that is not there is named, not created empty
    (a mistyped --db, or a check run from the wrong folder, would otherwise look all clear)."""
    from campaign.queue.db import Database, database_url
    from campaign.errors import DatabaseError

    url = database_url(db_url, posts_file)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        file = Path(url[len("sqlite:///"):].split("?", 1)[0])
        if not file.exists():
            raise DatabaseError(f"database {url}: not there (run 'campaign sync' first, or check --db)")
    return _opened(Database(url))


@main.command()
@without_collector_pauses
@posts_file_argument
@database_options
@now_option()
@click.option("--limit", default=5, show_default=True, metavar="N", help="How many posts to list per section.")
@format_option(["table", "json"], "table", help="table: for people; json: the documented shape (README), for machines.")
@click.option("--check", is_flag=True,
              help="Print one line and exit 0 (ok), 1 (needs attention) or 2 (broken), like a monitoring plugin.")
def status(posts_file, db_url, now, limit, fmt, check):
    """Show what needs a person, counts per state, the next due and the last sent posts.

    Needs a person: an invalid posts.yaml, posts stuck in sending, failed,
    unknown and missed posts, flagged accounts, a serve without heartbeat.

    Example:

    \b
        campaign status
        campaign status --format json
        campaign status --check    # Nagios/Icinga: CAMPAIGN OK - 12 queued, next at …
    """
    from campaign.cli import output
    from campaign.queue.status import status as queue_status

    if check and fmt == "json":
        raise click.UsageError("--check prints one line; for JSON use --format json alone (its check.exit_code)")
    moment = _now(now, posts_file)
    try:
        database = open_existing_database(db_url, resolve_posts_file(posts_file))
        report = queue_status(database, moment, limit=limit)
    except CampaignError as error:
        if not check:
            raise
        click.echo(output.check_failure_line(error))
        sys.exit(2)
    if check:
        click.echo(output.check_line(report))
        sys.exit(report.exit_code)
    if fmt == "json":
        click.echo(output.status_json(report, database.display), nl=False)
    else:
        click.echo(output.status_text(report, database.display, moment), nl=False)


@main.command()
@without_collector_pauses
@posts_file_argument
@database_options
@now_option()
@range_options("posts sent")
@account_option()
@click.option("--campaign", "campaign_id", metavar="ID", help="Only this campaign's posts.")
@click.option("--limit", type=click.IntRange(min=0), default=None, metavar="N",
              help="The newest N only; 0 for all [default: 50 for table, all for csv and json].")
@format_option(["table", "csv", "json"], "table")
def history(posts_file, db_url, now, since, until, account, campaign_id, limit, fmt):
    """List sent posts, newest first, with their URLs.

    Times (--from, --until and the local time shown) are in posts.yaml's zone,
    or UTC without a posts.yaml.

    Example:

    \b
        campaign history --from 2027-01-01 --until 2027-01-31 --account teamsaantstuur --format csv
    """
    from campaign.cli import output
    from campaign.spec.schedule import zone
    from campaign.queue.status import history as sent_history

    path = resolve_posts_file(posts_file)
    zone_name = _file_zone(path)
    low = parse_bound(since, zone_name, end_of_day=False, param="--from") if since else None
    high = parse_bound(until, zone_name, end_of_day=True, param="--until") if until else None
    moment = parse_now(now, lambda: _zone_of(zone_name))
    if limit is None:
        limit = 50 if fmt == "table" else 0
    database = open_existing_database(db_url, path)
    sent, total = sent_history(database, start=low, end=high, account=_account_name(database, account),
                               campaign=campaign_id, limit=limit or None, now=moment)
    if fmt == "json":
        click.echo(output.history_json(sent, zone(zone_name)), nl=False)
    elif fmt == "csv":
        click.echo(output.history_csv(sent, zone(zone_name)), nl=False)
    else:
        click.echo(output.history_table(sent, total, zone(zone_name)), nl=False)


def load_environment(posts_file: Path) -> dict[str, str]:
    from campaign.credentials import load_environment as load

    return load(posts_file)


def warn_about_env_files(posts_file: Path) -> None:
    from campaign.credentials import env_file_warnings

    for warning in env_file_warnings(posts_file):
        click.echo(f"campaign: {warning}", err=True)


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
@now_option()
@click.option("--dry-run", is_flag=True, help="Show what would be posted now; nothing leaves the machine.")
@click.option("--lease", default=180, show_default=True, metavar="SECONDS",
              help="How long a claimed post stays ours before another run may take it over.")
@click.option("-v", "--verbose", is_flag=True, help="One line per post handled, also when all is well.")
@debug_option
def run(posts_file, db_url, now, dry_run, lease, verbose, debug):
    """Sync posts.yaml, post everything due exactly once, then exit (for cron).

    Prints nothing when all is well. Exit status: 0 all good, 1 when a post
    failed, was missed or needs a person (summary on stderr), 2 for
    configuration errors.

    Example:

    \b
        */5 * * * * cd /srv/campagne && .venv/bin/campaign run
    """
    # The runner imports the parser, the plan and the platforms only when it needs them:
    # a tick with nothing to do stays cheap.
    from datetime import timedelta

    from campaign.send.runner import Runner, utcnow

    path = resolve_posts_file(posts_file)
    moment = _now(now, path)
    database = open_database(db_url, path)
    runner = Runner(database, path, lambda: load_environment(path), lease=timedelta(seconds=lease),
                    clock=(lambda: moment) if now else utcnow,
                    on_outcome=(lambda o: click.echo(_outcome_line(o))) if verbose else None,
                    prepare_sending=lambda: attach_traceback_log(debug, path))
    if dry_run:
        runner.sync(moment, strict=True)
        _print_dry_run(database, moment, load_environment(path))
        return
    runner.should_stop = _stop_flag()
    result = runner.run_once()
    if result.sync.problem is not None:
        # The last good file's posts went out; the record lets `campaign status` show the problem
        # between cron mails, and the next good sync removes it.
        for problem in getattr(result.sync.problem, "problems", None) or [result.sync.problem]:
            click.echo(str(problem), err=True)
        click.echo(f"campaign: {path} has errors; kept posting what was queued before it changed", err=True)
    for message in result.config_errors:
        click.echo(f"campaign: {message}", err=True)
    problems = result.needs_attention
    if problems:
        click.echo(f"campaign run: {len(problems)} post{'s' * (len(problems) != 1)} need attention "
                   f"({result.report.count('sent')} sent):", err=True)
        for outcome in problems:
            click.echo("  " + _outcome_line(outcome), err=True)
    for failure in result.alerts.failures if result.alerts else ():
        click.echo(f"campaign: notification not sent to {failure}", err=True)
    if result.alerts_error is not None:
        click.echo(f"campaign: {result.alerts_error}", err=True)
    sys.exit(max(result.exit_code, _remind_open_problems(database, len(problems))))


def _remind_open_problems(database, reported_now: int) -> int:
    """Cron keeps hearing of failed, unknown and missed posts until a person retries, resolves or
    acknowledges them: 1 while there are any (beyond those this run just reported), else 0."""
    from campaign.queue.status import open_problem_count

    earlier = open_problem_count(database) - reported_now
    if earlier <= 0:
        return 0
    click.echo(f"campaign run: {earlier} earlier post{'s' * (earlier != 1)} (failed, unknown or missed) still "
               f"need{'s' * (earlier == 1)} a person: see 'campaign status', then 'campaign retry', 'campaign "
               f"resolve' or 'campaign acknowledge'", err=True)
    return 1


def _print_dry_run(database, moment: datetime, environ) -> None:
    from campaign.send.dryrun import preview

    verbs = {"post": "would post", "settle": "would first check the timeline for", "missed": "would be MISSED:",
             "held": "would hold back"}
    items = preview(database, moment, environ)
    for item in items:
        row = item.row
        parts = row.payload.get("parts", [])
        reason = f" — {item.reason}" if item.reason else ""
        click.echo(f"{verbs[item.action]} #{row.id} to {row.account} (due {row.local_time[:16].replace('T', ' ')})"
                   f"{reason}:")
        for number, part in enumerate(parts, 1):
            prefix = f"  {number}/{len(parts)} " if len(parts) > 1 else "  "
            click.echo(prefix + part["text"].replace("\n", "\n" + " " * len(prefix)))
            for media in part.get("media", []):
                click.echo(f"{' ' * len(prefix)}[image {Path(media['path']).name}, alt: {media['alt']}]")
    if not items:
        click.echo(f"nothing due at {moment:%Y-%m-%d %H:%M} UTC")


class _RedactingFormatter:
    """A logging formatter whose output, tracebacks included, carries no secret."""

    def __init__(self, pattern: str, secrets: tuple[str, ...]):
        import logging

        self.inner = logging.Formatter(pattern)
        self.secrets = secrets

    def format(self, record) -> str:
        from campaign.redact import redact

        return redact(self.inner.format(record), self.secrets)


def attach_traceback_log(debug: bool, posts_file: Path) -> Path | None:
    """Send the dispatcher's tracebacks to a file (never to stderr, which cron mails)."""
    import logging

    target = os.environ.get("CAMPAIGN_LOG_FILE") or (str(posts_file.resolve().parent / "campaign-debug.log")
                                                     if debug else None)
    if not target:
        return None
    path = Path(target).expanduser()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # tracebacks can be sensitive
        os.close(descriptor)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as error:
        raise CampaignError(f"cannot write the log file {path}: {error.strerror or error}") from None
    from campaign.redact import secret_values

    handler.setFormatter(_RedactingFormatter("%(asctime)s %(name)s %(levelname)s %(message)s",
                                             secret_values(load_environment(posts_file))))
    logger = logging.getLogger("campaign.traceback")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return path


@main.command()
@posts_file_argument
@database_options
@click.option("--lease", default=180, show_default=True, metavar="SECONDS",
              help="How long a claimed post stays ours before another dispatcher may take it over.")
@click.option("--tick", default=30.0, show_default=True, metavar="SECONDS",
              help="Safety tick: look at the queue at least this often (work queued by others).")
@debug_option
def serve(posts_file, db_url, lease, tick, debug):
    """Run as one long-lived dispatcher: posts go out on time, posts.yaml edits apply live.

    SIGTERM/SIGINT finish the post in flight and exit 0; SIGHUP reloads posts.yaml
    and .env. Logs one line per post on stderr. Can run beside cron 'campaign run'
    and other 'serve' processes on the same database.

    Example:

    \b
        campaign serve /srv/campagne/posts.yaml --db postgresql+psycopg://campagne@db/campagne
    """
    import logging
    import time as _time
    from datetime import timedelta

    from campaign.send.serve import Server

    logging.Formatter.converter = _time.gmtime
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)sZ %(levelname)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # a migration at start-up is not news
    path = resolve_posts_file(posts_file)
    attach_traceback_log(debug, path)
    warn_about_env_files(path)
    load_environment(path)  # a broken .env stops serve at the start, with one line, not at the first post
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
@posts_file_options(positional=False)
@database_options
@now_option()
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

    \b
        campaign post teamsaantstuur "@moniquedenb Leuk dat je ons volgt!" --reply-to https://x.com/moniquedenb/status/1
    """
    from campaign.queue.manual import queue_post

    if len(media) != len(alt):
        raise click.BadParameter("give one --alt for every --media", param_hint="--alt")
    path = resolve_posts_file(posts_file)
    moment = _now(now, path)
    when = parse_bound(at, _file_zone(path), end_of_day=False, param="--at") if at else moment
    database = open_database(db_url, path)
    account = _account_name(database, account)
    queued = queue_post(database, account, text, at=when, now=moment, reply_to_url=reply_to,
                        media=tuple(zip(media, alt)))
    click.echo(f"queued #{queued.id} for {account} at {queued.due_at:%Y-%m-%d %H:%M} UTC")


def _file_zone(path: Path) -> str:
    from campaign.spec.config import load

    try:
        cfile, _ = load(path)
    except CampaignError:
        return "UTC"
    return cfile.timezone if cfile is not None else "UTC"


def selection_options(function):
    """POST_ID… and the filters that pick posts by state, account and campaign."""
    function = click.option("--campaign", "campaign_id", metavar="ID", help="Only posts of this campaign.")(function)
    function = account_option()(function)
    return click.argument("post_ids", metavar="[POST_ID]...", nargs=-1, type=click.IntRange(min=1))(function)


def _selection(post_ids, states, account, campaign_id):
    from campaign.queue.manual import Selection

    if not post_ids and not states:
        raise click.UsageError("name the posts: one or more POST_IDs, or a filter such as --all-failed")
    if (account or campaign_id) and not states:
        raise click.UsageError("--account and --campaign narrow a filter such as --all-failed")
    return Selection(tuple(post_ids), tuple(states), account, campaign_id)


def _account_name(database, account: str | None) -> str | None:
    """An account named by its posts.yaml name or its handle, as its name (campaign.queue.manual.account_name)."""
    if account is None:
        return None
    from campaign.queue.manual import account_name

    return account_name(database, account)


def _with_account_name(database, selection):
    from dataclasses import replace

    return replace(selection, account=_account_name(database, selection.account)) if selection.account else selection


def _done(ids: list[int], what: str) -> None:
    if ids:
        click.echo(f"{', '.join(f'#{i}' for i in ids)} {what}")
    else:
        click.echo("nothing to do: no post matches")


@main.command()
@selection_options
@click.option("--sent", "url", metavar="URL", help="The URL where the post appeared (one POST_ID).")
@click.option("--not-sent", is_flag=True, help="They did not go out and should not: mark them failed, seen.")
@posts_file_options(positional=False)
@database_options
@now_option()
def resolve(post_ids, account, campaign_id, url, not_sent, posts_file, db_url, now):
    """Settle unknown (or stuck) posts after checking the account by hand.

    --sent URL: it did go out, there. --not-sent: they did not, and should not
    ('campaign retry' sends them instead).

    Example:

    \b
        campaign resolve 42 --sent https://x.com/teamsaantstuur/status/1885
    """
    from campaign.queue.manual import resolve_not_sent, resolve_sent

    if bool(url) == bool(not_sent):
        raise click.UsageError("say what you found: --sent URL or --not-sent")
    moment = _now(now, posts_file)
    database = open_database(db_url, resolve_posts_file(posts_file))
    if url:
        if len(post_ids) != 1 or account or campaign_id:
            raise click.UsageError("--sent URL settles one post: give exactly one POST_ID")
        resolve_sent(database, post_ids[0], url, moment)
        click.echo(f"#{post_ids[0]} marked sent: {url}")
        return
    selection = _selection(post_ids, (), _account_name(database, account), campaign_id)
    _done(resolve_not_sent(database, selection, moment), "marked not sent")


@main.command()
@selection_options
@click.option("--all-failed", is_flag=True, help="Every failed post (with --account/--campaign: of those).")
@click.option("--all-unknown", is_flag=True, help="Every unknown post (the timeline is read before posting).")
@click.option("--all-missed", is_flag=True, help="Every missed post.")
@posts_file_options(positional=False)
@database_options
@now_option()
def retry(post_ids, account, campaign_id, all_failed, all_unknown, all_missed, posts_file, db_url, now):
    """Queue failed, unknown or missed posts again; the next run sends them (a thread resumes where it stopped).

    Example:

    \b
        campaign retry 42 43
        campaign retry --all-failed --account teamsaantstuur
    """
    from campaign.queue.manual import retry_many

    states = [s for s, chosen in (("failed", all_failed), ("unknown", all_unknown), ("missed", all_missed)) if chosen]
    selection = _selection(post_ids, states, account, campaign_id)
    moment = _now(now, posts_file)
    database = open_database(db_url, resolve_posts_file(posts_file))
    selection = _with_account_name(database, selection)
    states = retry_many(database, selection, moment)
    if not states:
        _done([], "")
    for state, words in (("queued", "queued again"),
                         ("awaiting_approval", "waiting for approval first (campaign approvals)"),
                         ("rejected", "still rejected: approve or change it first")):
        ids = [post_id for post_id, new_state in states.items() if new_state == state]
        if ids:
            _done(ids, words)


@main.command()
@selection_options
@click.option("--all", "everything", is_flag=True, help="Every failed, unknown and missed post (or of --account/--campaign).")
@posts_file_options(positional=False)
@database_options
@now_option()
def acknowledge(post_ids, account, campaign_id, everything, posts_file, db_url, now):
    """Leave failed, unknown or missed posts as they are and stop the reminders.

    'campaign run' exits 1 and 'campaign status --check' warns while any of them
    is not retried, resolved or acknowledged.

    Example:

    \b
        campaign acknowledge 42
        campaign acknowledge --all --campaign teams-aan-het-stuur
    """
    from campaign.queue.manual import acknowledge as acknowledge_posts
    from campaign.queue.tables import PROBLEM_STATES

    selection = _selection(post_ids, PROBLEM_STATES if everything else (), account, campaign_id)
    moment = _now(now, posts_file)
    database = open_database(db_url, resolve_posts_file(posts_file))
    selection = _with_account_name(database, selection)
    _done(acknowledge_posts(database, selection, moment), "acknowledged")


@main.group()
def accounts():
    """Check the accounts' credentials.

    Example:

    \b
        campaign accounts check
    """


@accounts.command("check")
@posts_file_argument
@database_options
@now_option()
def accounts_check(posts_file, db_url, now):
    """Call each account's platform with its credentials: ok, missing variables, or rejected.

    Example:

    \b
        campaign accounts check posts.yaml
    """
    from campaign.send.accounts import check_accounts
    from campaign.spec.plan import load_plan

    path = resolve_posts_file(posts_file)
    plan_ = load_plan(path)
    warn_about_env_files(path)
    database = open_database(db_url, path)
    results = check_accounts(plan_.file, load_environment(path), database, _now(now, path))
    for result in results:
        click.echo(f"{result.account:<24} {result.platform:<9} {result.status:<8} {result.detail}")
        if result.warning:
            click.echo(result.warning, err=True)
    sys.exit(0 if all(r.status == "ok" for r in results) else 1)


@main.group()
def notify():
    """Alerts through Apprise (Teams, Slack, e-mail, Matrix, ntfy …), set under 'notify:' in posts.yaml.

    Example:

    \b
        campaign notify test
    """


@notify.command("test")
@posts_file_argument
def notify_test(posts_file):
    """Send a test message to every notify target in posts.yaml and report each: ok or failed.

    {env:NAME} placeholders are filled in from the environment or .env. Exit
    status: 0 when every target took the message, 1 otherwise, 2 for an invalid
    posts.yaml.

    Example:

    \b
        campaign notify test posts.yaml
    """
    from campaign.spec.config import load
    from campaign.alerts.notify import send_test

    path = resolve_posts_file(posts_file)
    cfile, problems = load(path)
    if cfile is None or problems.errors:
        raise ConfigError(problems.sorted())
    if not cfile.notify:
        click.echo(f"{path}: no 'notify' targets; see README, 'Notifications'", err=True)
        sys.exit(1)
    results = send_test(cfile.notify, load_environment(path))
    for result in results:
        click.echo(f"{result.label}  [{result.scope}]  " + ("ok" if result.error is None else f"failed: {result.error}"))
    sys.exit(0 if all(result.error is None for result in results) else 1)


if __name__ == "__main__":  # pragma: no cover
    main()
