"""The workspace's language: Dutch by default, English on request, from gettext catalogues
(.po files, one per part of the workspace, compiled in memory: campaign.catalogues). Dates and
times are formatted with Babel (CLDR) in the reader's locale and in the zone of their campaign.
"""
from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

LOCALES = ("nl", "en")
DEFAULT_LOCALE = "nl"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


def N_(text: str) -> str:
    """Marks a text for the catalogue where it is translated later (a role or state name)."""
    return text


ROLE_NAMES = (N_("viewer"), N_("editor"), N_("approver"), N_("admin"))


@functools.lru_cache(maxsize=None)
def translations(locale: str):
    """Every catalogue of the locale (one .po file per part of the workspace), merged."""
    import gettext

    from campaign.catalogues import compiled

    merged = None
    for po_file in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        part = compiled(po_file, po_file.stem)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged or gettext.NullTranslations()


def choose_locale(preferred: str | None, accept_language: str | None) -> str:
    """The person's own choice, else the browser's first supported language, else Dutch."""
    if preferred in LOCALES:
        return preferred
    for item in (accept_language or "").split(","):
        tag = item.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return tag
    return DEFAULT_LOCALE


class Formatter:
    """Dates, times and numbers for one reader."""

    def __init__(self, locale: str):
        self.locale = locale

    def datetime(self, moment: datetime | None, zone: str, form: str = "medium") -> str:
        from babel.dates import format_datetime

        if moment is None:
            return ""
        return format_datetime(moment, form, tzinfo=ZoneInfo(zone), locale=self.locale)

    def date(self, moment, form: str = "long") -> str:
        from babel.dates import format_date

        return format_date(moment, form, locale=self.locale)

    def time(self, moment: datetime, zone: str) -> str:
        from babel.dates import format_time

        return format_time(moment, "short", tzinfo=ZoneInfo(zone), locale=self.locale)

    def skeleton(self, moment, skeleton: str, zone: str | None = None) -> str:
        """A CLDR skeleton ("MMMMy", "EEEd", "yMMMd" …) in the reader's language."""
        from babel.dates import format_skeleton

        return format_skeleton(skeleton, moment, tzinfo=ZoneInfo(zone) if zone else None, locale=self.locale)

    def number(self, value) -> str:
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.locale)
