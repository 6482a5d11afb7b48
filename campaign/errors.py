"""Typed errors of the campaign package.

Library code raises these; only the CLI turns them into messages and exit codes,
so a test can assert on the type and a cron mail shows one clear line.
"""
from __future__ import annotations


class CampaignError(Exception):
    """Base class: something the user has to fix. The CLI prints str(error) and exits 2."""

    exit_code = 2


class ConfigError(CampaignError):
    """posts.yaml (or another input) is invalid; carries every problem found."""

    def __init__(self, problems):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        first = errors[0] if errors else (self.problems[0] if self.problems else None)
        summary = str(first) if first else "invalid configuration"
        if len(errors) > 1:
            summary += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''}; run 'campaign check')"
        super().__init__(summary)


class DatabaseError(CampaignError):
    """The queue database cannot be opened, read or written (corrupt, locked, unwritable)."""


class NotFoundError(CampaignError):
    """A post, account or campaign named on the command line does not exist."""
