"""What twitter-text says about a text (links, X's weighted length, validity), remembered on disk.

twitter-text is the reference for X's rules and for which words are links, but importing it
takes a quarter of a second (it builds its emoji and domain expressions, and pulls in
pkg_resources for one data file). `campaign check` runs on every save, on texts that mostly did
not change since the last run, so each answer is kept in a small cache file keyed by the exact
text and the installed twitter-text; only a new or edited text pays for the import.

The cache lives in $CAMPAIGN_CACHE_DIR, else $XDG_CACHE_HOME/praatmee, else ~/.cache/praatmee.
A cache that cannot be read or written is ignored: the answers are then computed every time.
"""
from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path
from typing import NamedTuple

CACHE_ENTRIES = 50_000  # the oldest answers are dropped first
CACHE_TEXT_LIMIT = 5_000  # longer texts (far over every limit) are not worth keeping
_FORMAT = 1


class Facts(NamedTuple):
    weighted_length: int  # X's count (twitter-text v3)
    valid_characters: bool  # False: a character twitter-text marks invalid (U+FFFE, U+FEFF, U+FFFF)
    urls: tuple[tuple[int, int, str], ...]  # (start, end, url) of every link X recognises


_cache: dict[str, list] | None = None
_cache_path: Path | None = None
_dirty = False


def facts(text: str) -> Facts:
    """twitter-text's answers for `text` (already NFC-normalised by the caller where it matters)."""
    global _dirty
    cache = _load()
    entry = cache.get(text)
    if entry is None:
        entry = _compute(text)
        if len(text) <= CACHE_TEXT_LIMIT:
            cache[text] = entry
            _dirty = True
    return Facts(entry[0], entry[1], tuple((s, e, u) for s, e, u in entry[2]))


def remember(kind: str, text: str, compute):
    """compute(text), kept in the same cache under `kind` (e.g. grapheme counts, which need the
    `regex` module: a text with an emoji would otherwise load it on every check)."""
    global _dirty
    cache = _load()
    key = f"{kind}\0{text}"
    if key in cache:
        return cache[key]
    value = compute(text)
    if len(text) <= CACHE_TEXT_LIMIT:
        cache[key] = value
        _dirty = True
    return value


def _compute(text: str) -> list:
    parse_tweet, extract = _twitter_text()
    urls = [[u["indices"][0], u["indices"][1], u["url"]] for u in extract(text)]
    try:
        parsed = parse_tweet(text)
        weighted, valid = parsed.weightedLength, not _has_invalid(text)
    except UnicodeError:  # an unpaired surrogate: refused before X is asked (text.unsendable)
        weighted, valid = len(text) * 2, False
    return [weighted, valid, urls]


def _has_invalid(text: str) -> bool:
    from twitter_text.has_invalid_characters import has_invalid_characters

    return has_invalid_characters(text)


def _twitter_text():
    """twitter_text's two functions, imported without pkg_resources when that is not loaded yet.

    Its emoji module only asks pkg_resources for a data file beside it; pkg_resources itself costs
    a tenth of a second and a deprecation warning. A stand-in answers that one call during the import.
    """
    if "twitter_text" not in sys.modules and "pkg_resources" not in sys.modules:
        shim = types.ModuleType("pkg_resources")
        shim.resource_string = _resource_string
        sys.modules["pkg_resources"] = shim
        try:
            import twitter_text
        finally:
            if sys.modules.get("pkg_resources") is shim:
                del sys.modules["pkg_resources"]
    import twitter_text

    return twitter_text.parse_tweet, twitter_text.extract_urls_with_indices


def _resource_string(module: str, name: str) -> bytes:
    """pkg_resources.resource_string: a file beside the module (or in the package) named `module`."""
    origin = sys.modules[module].__file__ if module in sys.modules else None
    if origin is None:
        import importlib.util

        origin = importlib.util.find_spec(module).origin
    return (Path(origin).parent / name).read_bytes()


def _where() -> Path | None:
    base = os.environ.get("CAMPAIGN_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "praatmee"
    home = os.environ.get("HOME")
    return Path(home) / ".cache" / "praatmee" if home else None


def _version() -> str:
    """The installed twitter-text, by its files' identity: an upgrade starts a new cache.

    Looked up on sys.path by hand: importlib.util would cost more than the rest of this module.
    """
    for entry in sys.path:
        try:
            stat = os.stat(os.path.join(entry or ".", "twitter_text", "parse_tweet.py"))
        except OSError:
            continue
        return f"{stat.st_size}-{stat.st_mtime_ns}"
    return "none"


def _load() -> dict[str, list]:
    global _cache, _cache_path
    if _cache is not None:
        return _cache
    _cache = {}
    folder = _where()
    if folder is None:
        return _cache
    try:
        _cache_path = folder / f"twitter-text-{_FORMAT}-{_version()}.json"
        with open(_cache_path, encoding="utf-8") as handle:
            data = json.load(handle)
        if isinstance(data, dict):
            _cache = data
    except (OSError, ValueError):
        pass
    return _cache


def save() -> None:
    """Write new answers to the cache file (atomically; errors ignored: the cache is a convenience)."""
    global _dirty, _cache
    if not _dirty or _cache is None or _cache_path is None:
        return
    _dirty = False
    import tempfile

    entries = list(_cache.items())[-CACHE_ENTRIES:]
    _cache = dict(entries)  # a long-running `campaign serve` keeps the same bound in memory
    try:
        _cache_path.parent.mkdir(parents=True, exist_ok=True)
        for old in _cache_path.parent.glob("twitter-text-*.json"):
            if old != _cache_path:
                old.unlink(missing_ok=True)
        handle, temporary = tempfile.mkstemp(dir=_cache_path.parent, prefix=".twitter-text-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(json.dumps(dict(entries), ensure_ascii=True))
            os.replace(temporary, _cache_path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except (OSError, ValueError):
        pass
