"""The `archive` command. Its subcommands arrive with the archive issues (import, export, fetch, show)."""
from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="praatmee", prog_name="archive")
def main():
    """Keep each account's timeline in SQL and export it.

    Example:

        archive --version
    """
