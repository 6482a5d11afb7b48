"""The `archive` command. Subcommands live in archive.commands.* and are imported only when
used, so `archive --help` and each command start quickly."""
from __future__ import annotations

import importlib

import click

from campaign.options import CONTEXT_SETTINGS, ErrorMappingGroup

# name -> "module:attribute" of a click command
SUBCOMMANDS = {
    "import": "archive.commands.importing:command",
    "export": "archive.commands.exporting:command",
    "stats": "archive.commands.stats:command",
    "report": "archive.commands.report:command",
    "fetch": "archive.commands.fetch:command",
    "show": "archive.commands.show:command",
    "render": "archive.commands.render:command",
    "media": "archive.commands.media:group",
}


class LazyGroup(ErrorMappingGroup):
    """Subcommands imported only when used; typed errors mapped as for `campaign` (campaign.options)."""

    def list_commands(self, ctx):
        return sorted(name for name in SUBCOMMANDS if self._available(name))

    @staticmethod
    def _available(name: str) -> bool:
        module = SUBCOMMANDS[name].split(":")[0]
        return importlib.util.find_spec(module) is not None

    def get_command(self, ctx, name):
        if name not in SUBCOMMANDS or not self._available(name):
            return None
        module, attribute = SUBCOMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attribute)


@click.group("archive", cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="praatmee", prog_name="archive")
def main():
    """Keep each account's timeline in SQL: import, fetch, export, show and render it.

    Example:

    \b
        archive import twitter-2024-01-01.zip && archive show teamsaantstuur --locale nl
    """
