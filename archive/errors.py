"""Typed errors of the archive package.

They subclass campaign.errors.CampaignError, so the `archive` command prints str(error)
on one line and exits 2; library code raises them, tests assert on their type.
"""
from __future__ import annotations

from campaign.errors import CampaignError


class ArchiveError(CampaignError):
    """Base class: something about the archive the user has to fix."""


class ImportFormatError(ArchiveError):
    """A file to import is broken: names the file and, when known, the record (1-based)."""

    def __init__(self, file: str, message: str, *, record: int | None = None):
        self.file = str(file)
        self.record = record
        self.detail = message
        where = self.file + (f": record {record}" if record is not None else "")
        super().__init__(f"{where}: {message}")


class UnknownFormat(ArchiveError):
    """A path is none of the formats `archive import` reads."""


class ExportError(ArchiveError):
    """An export cannot be written (bad destination, unsupported option combination)."""
