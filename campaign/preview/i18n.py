"""The preview's interface language: English message ids, Dutch from a gettext catalogue.

The catalogue is a .po file (what a translator edits: locale/<lang>/LC_MESSAGES/preview.po),
compiled in memory on first use, so no binary .mo file lives in the repository. Callers pass a
`gettext` callable (message -> text) to the renderers; `translations(locale)` gives one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

LOCALES = ("nl", "en")
DEFAULT_LOCALE = "nl"
DOMAIN = "preview"
LOCALE_DIR = Path(__file__).parent / "locale"

Gettext = Callable[[str], str]


def identity(message: str) -> str:
    """English: the message ids are the English texts."""
    return message


def N_(message: str) -> str:  # noqa: N802  (the marker extraction tools look for)
    """Marks a message for translation where it is defined; translated where it is shown."""
    return message


def language_of(locale: str | None) -> str:
    """'nl_NL', 'nl-BE', 'NL' -> 'nl'."""
    return (locale or DEFAULT_LOCALE).replace("-", "_").split("_")[0].lower() or DEFAULT_LOCALE


def _catalogue(language: str):
    from campaign.catalogues import compiled

    return compiled(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", DOMAIN)


def translations(locale: str | None = DEFAULT_LOCALE) -> Gettext:
    """The gettext callable for `locale` ('nl', 'en', 'nl_NL' …): English for 'en' and for any
    language without a catalogue."""
    language = language_of(locale)
    if language == "en":
        return identity
    return _catalogue(language).gettext
