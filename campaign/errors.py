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


class MissingCredentials(CampaignError):
    """An account's environment variables are not set."""

    def __init__(self, account: str, names):
        self.account = account
        self.names = tuple(names)
        super().__init__(f"account '{account}': set {', '.join(self.names)} in the environment or .env")


class PlatformError(Exception):
    """A platform refused or failed a call. Messages never contain credentials."""

    def __init__(self, message: str, *, status: int | None = None):
        self.status = status
        super().__init__(message)


class RateLimited(PlatformError):
    """429: wait until reset_at (None when the platform did not say)."""

    def __init__(self, message: str, *, reset_at=None, status: int | None = 429):
        self.reset_at = reset_at
        super().__init__(message, status=status)


class TransientError(PlatformError):
    """5xx, timeouts and broken connections. maybe_posted: the request may have been processed."""

    def __init__(self, message: str, *, maybe_posted: bool = False, status: int | None = None):
        self.maybe_posted = maybe_posted
        super().__init__(message, status=status)


class AuthFailed(PlatformError):
    """401/403: the credentials are wrong, revoked or lack permission."""


class DuplicateContent(PlatformError):
    """X refused the text because an identical post exists."""


class Rejected(PlatformError):
    """400/422 and the like: the platform will never accept this post as it is."""
