"""`archive fetch ACCOUNT|--all`: pull what is new from the platforms into the archive."""
from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from campaign.options import match_account, resolve_posts_file, unknown_account

from .show import archive_options


@click.command("fetch")
@click.argument("accounts", nargs=-1, metavar="[ACCOUNT]...")
@click.option("--all", "every", is_flag=True, help="Every account in posts.yaml.")
@click.option("--refresh-days", type=click.IntRange(min=0), default=7, show_default=True,
              help="Also re-read the last N days' posts to refresh their metrics (0: only new posts).")
@archive_options
def command(accounts, every, refresh_days, db_url, posts_file):
    """Fetch ACCOUNT's new posts (its posts.yaml name or its handle) into the archive.

    Only what is new since the last run is downloaded; a run stopped by a rate limit or a
    broken connection continues where it stopped next time. Credentials as for `campaign run`
    (environment or .env). Exit status 1 when an account could not be fetched completely.

    Example:

    \b
        archive fetch teamsaantstuur          # or: archive fetch --all --file posts.yaml
    """
    from campaign.credentials import load_environment
    from campaign.spec.config import load
    from campaign.errors import ConfigError
    from campaign.send.platforms import AccountInfo, connect

    from archive.fetch import fetch_account
    from archive.store import open_archive

    path = resolve_posts_file(posts_file)
    cfile, problems = load(path)
    if cfile is None or problems.errors:
        raise ConfigError(problems.sorted())
    if every == bool(accounts):
        raise click.UsageError("name one or more accounts, or give --all")
    pairs = [(name, account.handle) for name, account in cfile.accounts.items()]
    names = list(cfile.accounts) if every else []
    for value in dict.fromkeys(accounts):
        name = match_account(value, pairs)
        if name is None:
            raise unknown_account(value, cfile.accounts)
        names.append(name)
    names = list(dict.fromkeys(names))
    environ = load_environment(path)
    database = open_archive(db_url, posts_file=path)
    now = datetime.now(timezone.utc)
    failed = 0
    for name in names:
        account = cfile.accounts[name]
        info = AccountInfo(account.name, account.platform, account.handle, account.instance,
                           account.organization)
        client = connect(info, environ)
        with _progress(name) as advance:
            report = fetch_account(database, client, account.platform, account.handle.lstrip("@"), now=now,
                                   refresh_days=refresh_days, on_page=advance)
        click.echo(report.message, err=not report.complete)
        failed += not report.complete
    sys.exit(1 if failed else 0)


class _progress:
    """A rich progress line on a terminal (posts so far; the total is unknown); silent otherwise."""

    def __init__(self, name: str):
        self.name = name
        self.progress = None

    def __enter__(self):
        if not sys.stderr.isatty():
            return lambda count: None
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                 TextColumn("{task.completed} posts"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.progress.start()
        task = self.progress.add_task(f"fetching {self.name}", total=None)
        return lambda count: self.progress.advance(task, count)

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.stop()
        return False
