"""Apprise at the edge: notification URLs with `{env:NAME}` placeholders, checked and sent.

A URL is stored and shown exactly as written in posts.yaml; the placeholders are filled in from
the environment (or .env) only here, only for the call to Apprise, and every message that comes
back is scrubbed of the values before anyone sees it. Apprise is imported only when a URL is
checked or a message sent, so a cron tick with nothing to say never loads its 250 plugins.
"""
from __future__ import annotations

import logging
import re
import threading
from contextlib import contextmanager
from difflib import SequenceMatcher
from typing import Iterator, Mapping
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from campaign.credentials import looks_like_secret_key
from campaign.spec.problems import did_you_mean, one_line

PLACEHOLDER = re.compile(r"\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_ANY_PLACEHOLDER = re.compile(r"\{\s*env\s*:[^}]*\}?")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# Query parameters that carry a secret in Apprise URLs without Apprise masking them in every plugin.
_SECRET_PARAMS = ("auth", "authorization", "sig", "signature", "key", "apikey", "pass", "pw", "webhook")
# Where a placeholder stood while a URL is checked: lower case, so a host keeps it as it is.
_MARKER = "pmenvmarker{}z"
_MARKER_RE = re.compile(r"pmenvmarker\d+z")

# Apprise logs through one global logger; two threads of `serve` must not swap its handlers.
_apprise_lock = threading.Lock()


class UnresolvedUrl(Exception):
    """A placeholder names a variable that is not set; the message says which, never a value."""


def placeholders(url: str) -> list[str]:
    return PLACEHOLDER.findall(url)


def malformed_placeholder(url: str) -> str | None:
    """The first `{env:…}` that is not `{env:NAME}`, as written, or None."""
    for match in _ANY_PLACEHOLDER.finditer(url):
        if not PLACEHOLDER.fullmatch(match.group(0)):
            return match.group(0)
    return None


def label(url: str) -> str:
    """How a target is named in logs, messages and the database: as written (placeholders and
    all). check refuses literal secrets, but a password is masked here too, just in case."""
    if placeholders(url) and PLACEHOLDER.fullmatch(url):
        return url
    return re.sub(r"(://[^/:@]*:)(?!\{env:[A-Za-z0-9_]+\}@)[^@/]+@", r"\1****@", url)


def resolve(url: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """The URL with its placeholders filled in, and the values used (to scrub them from errors)."""
    names = placeholders(url)
    missing = [name for name in dict.fromkeys(names) if not environ.get(name)]
    if missing:
        raise UnresolvedUrl(f"set {', '.join(missing)} in the environment or .env")
    values = [environ[name] for name in names]
    return PLACEHOLDER.sub(lambda m: environ[m.group(1)], url), values


def scrub(text: str, secrets: list[str], url: str) -> str:
    """Text from Apprise or its HTTP library, without the filled-in values (or their pieces)."""
    pieces: set[str] = set()
    for value in secrets:
        pieces.update({value, quote(value, safe=""), quote(value), quote_plus(value)})
        # A webhook URL in a variable is mostly secret; its tokens may be logged one by one.
        pieces.update(p for p in re.split(r"[/:@?&=#%+]", value) if len(p) >= 6 and p not in url)
    for piece in sorted((p for p in pieces if len(p) >= 3), key=len, reverse=True):
        text = text.replace(piece, "****")
    return one_line(text)


@contextmanager
def quiet_apprise() -> Iterator[list[logging.LogRecord]]:
    """Keep Apprise's log lines to ourselves (they can hold a URL); yield the warnings it logged."""
    records: list[logging.LogRecord] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    with _apprise_lock:
        logger = logging.getLogger("apprise")
        handler = _Keep(logging.WARNING)
        saved = logger.propagate, logger.level
        logger.addHandler(handler)
        logger.propagate = False
        if logger.level == logging.NOTSET or logger.level > logging.WARNING:
            logger.setLevel(logging.WARNING)
        try:
            yield records
        finally:
            logger.removeHandler(handler)
            logger.propagate, _ = saved
            logger.setLevel(saved[1])


def _apprise():
    import apprise

    return apprise


def _asset(apprise):
    # In memory only: Apprise would otherwise keep per-URL state files in the user's home.
    return apprise.AppriseAsset(app_id="Praat mee", app_desc="Praat mee campaign alerts",
                                storage_mode="memory")


def known_schemes() -> list[str]:
    try:
        from apprise.manager_plugins import NotificationManager

        return sorted(NotificationManager().schemas())
    except Exception:  # an Apprise without this internal API: skip the near-match hint
        return []


def url_problem(url: str) -> str | None:
    """Why Apprise cannot use this URL, or why it may not stand in posts.yaml; None when fine.

    Never quotes the URL: it may hold the very secret it is being refused for.
    """
    if PLACEHOLDER.match(url):
        return None  # the scheme itself comes from the environment: `campaign notify test` checks it
    match = _SCHEME.match(url)
    if not match:
        return "not a notification URL; write it like json://host/path, mailtos://user@host or '{env:NAME}'"
    scheme = match.group(1).lower()
    names = placeholders(url)
    probe = url
    for number, name in enumerate(names):
        probe = probe.replace("{env:" + name + "}", _MARKER.format(number), 1)
    apprise = _apprise()
    with quiet_apprise():
        plugin = apprise.Apprise.instantiate(probe, asset=_asset(apprise))
        schemes = known_schemes()
    if plugin is None:
        if schemes and scheme not in schemes and scheme not in ("http", "https"):
            return (f"unknown notification service '{scheme}://'{did_you_mean(scheme, schemes)}; "
                    "see Apprise's list of services")
        if names:
            return None  # e.g. a port from a variable: Apprise can only tell once it is filled in
        return f"Apprise cannot use this {scheme}:// URL; check its form in Apprise's documentation"
    secret = literal_secret(probe, plugin)
    if secret:
        return (f"the URL holds a literal secret ({secret}); secrets never go in posts.yaml — write "
                "{env:NAME} in its place and set NAME in the environment or .env")
    return None


def literal_secret(probe: str, plugin) -> str | None:
    """What part of a URL (placeholders replaced by markers) is a secret written out, if any."""
    parts = urlsplit(probe)
    if parts.password and not _all_markers(parts.password):
        return "the password"
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        name = key.lstrip("+-: ").lower()  # "+Header=…" sets a header; "+" reads back as a space
        if value and not _all_markers(value) and (looks_like_secret_key(name) or name in _SECRET_PARAMS):
            return f"the '{key.strip()}' parameter"
    # Apprise knows which tokens of each service are private (a Slack token, a Telegram bot token):
    # it masks them in url(privacy=True). Every masked stretch must be a placeholder's marker.
    public, private = plugin.url(privacy=False), plugin.url(privacy=True)
    if public == private:
        return None
    spans = [m.span() for m in _MARKER_RE.finditer(public)]
    for tag, start, end, _, _ in SequenceMatcher(None, public, private, autojunk=False).get_opcodes():
        if tag in ("replace", "delete") and not any(low <= start and end <= high for low, high in spans):
            return "a token that Apprise treats as private"
    return None


def _all_markers(value: str) -> bool:
    return not _MARKER_RE.sub("", value)


def send(url: str, environ: Mapping[str, str], title: str, body: str, kind: str = "failure") -> str | None:
    """Send one message; None when it went out, otherwise why not (scrubbed, one line). Never raises.

    kind is Apprise's notify type: info, success, warning or failure (some services colour by it).
    """
    try:
        resolved, secrets = resolve(url, environ)
    except UnresolvedUrl as error:
        return str(error)
    try:
        apprise = _apprise()
        with quiet_apprise() as records:
            sender = apprise.Apprise(asset=_asset(apprise))
            if not sender.add(resolved):
                return ("Apprise cannot use this URL" + (" (check the variables' values)" if secrets else ""))
            if sender.notify(body=body, title=title, notify_type=kind):
                return None
        detail = next((r.getMessage() for r in reversed(records) if r.levelno >= logging.WARNING), "")
        return scrub(detail or "Apprise could not send it", secrets, url)
    except Exception as error:  # a bug or an odd answer inside Apprise must not reach posting
        return scrub(f"Apprise failed: {type(error).__name__}: {error}", secrets, url)
