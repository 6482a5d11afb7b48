"""Post text: template variables, UTM tagging of the campaign's own links, lengths.

Each platform counts differently (BRIEF.md): X weighs characters (twitter-text v3,
URL = 23), Mastodon counts graphemes with a URL as 23 and a remote mention as its
local part, Bluesky counts graphemes of what readers see — links are shown
shortened and carry the full URL (UTM included) in a facet.
"""
from __future__ import annotations

import string
import unicodedata
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import regex

LIMITS = {"x": 280, "mastodon": 500, "bluesky": 300}
URL_WEIGHT = 23
BLUESKY_LINK_DISPLAY = 32

_GRAPHEME = regex.compile(r"\X")
_REMOTE_MENTION = regex.compile(r"(?<![\w@])(@[\w.]+)@[\w.-]+\.\w+")


class TemplateError(ValueError):
    """A text refers to a variable that is not defined, or uses braces wrongly."""


def template_fields(template: str) -> list[str]:
    """Names used as {name} in a text; '{{' and '}}' are literal braces."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"{exc}; write '{{{{' or '}}}}' for a literal brace") from None
    names = []
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise TemplateError(f"'{{{field}}}' is not a variable name; use {{name}}, or '{{{{' for a literal brace")
        names.append(field)
    return names


class _KeepUnknown(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def fill(template: str, variables: dict) -> str:
    """Fill {name} placeholders (validated beforehand); an unknown name stays as written."""
    return unicodedata.normalize("NFC", template.format_map(_KeepUnknown(variables)))


def urls(text: str) -> list[tuple[int, int, str]]:
    """(start, end, url) of every link X would recognise, schemeless ones included."""
    return [(u["indices"][0], u["indices"][1], u["url"]) for u in _extract_urls(text)]


@lru_cache(maxsize=4096)
def _extract_urls(text: str):
    import twitter_text

    return tuple(twitter_text.extract_urls_with_indices(text))


def add_utm(text: str, hosts: frozenset[str], params: tuple[tuple[str, str], ...]) -> str:
    """Append utm_* parameters to http(s) links whose host is one of the campaign's own."""
    if not hosts or not params:
        return text
    out, last = [], 0
    for start, end, url in urls(text):
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or host not in hosts:
            continue
        query = parse_qsl(parts.query, keep_blank_values=True)
        present = {k for k, _ in query}
        query += [(k, v) for k, v in params if k not in present]
        out.append(text[last:start])
        out.append(urlunsplit(parts._replace(query=urlencode(query))))
        last = end
    out.append(text[last:])
    return "".join(out)


def host_of(value: object) -> str | None:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        return None
    try:
        return (urlsplit(value).hostname or "").lower() or None
    except ValueError:
        return None


def graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def bluesky_display(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The text as Bluesky readers see it, and (start, end, url) links in it (str indices).

    Links with a scheme are shown without scheme and tracking parameters, cut to
    32 characters; the facet carries the full URL.
    """
    shown, links, last = [], [], 0
    position = 0
    for start, end, url in urls(text):
        shown.append(text[last:start])
        position += start - last
        parts = urlsplit(url) if "://" in url else None
        if parts is not None:
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")]
            label = urlunsplit(parts._replace(scheme="", query=urlencode(query)))[2:]
            target = url
        else:
            label, target = url, "https://" + url
        if len(label) > BLUESKY_LINK_DISPLAY:
            label = label[: BLUESKY_LINK_DISPLAY - 1] + "…"
        shown.append(label)
        links.append((position, position + len(label), target))
        position += len(label)
        last = end
    shown.append(text[last:])
    return "".join(shown), links


def length(platform: str, text: str) -> int:
    """The length the platform counts against its limit."""
    text = unicodedata.normalize("NFC", text)
    if platform == "x":
        return _x_length(text)
    if platform == "mastodon":
        counted, last = [], 0
        for start, end, url in urls(text):
            if "://" in url:
                counted.append(text[last:start] + "x" * URL_WEIGHT)
                last = end
        counted.append(text[last:])
        return graphemes(_REMOTE_MENTION.sub(r"\1", "".join(counted)))
    if platform == "bluesky":
        return graphemes(bluesky_display(text)[0])
    raise ValueError(f"unknown platform {platform!r}")


@lru_cache(maxsize=65536)
def _x_length(text: str) -> int:
    import twitter_text

    return twitter_text.parse_tweet(text).weightedLength


class MastodonHTML(HTMLParser):
    """Mastodon's status HTML read as its reader sees it; the anchors kept for link extraction.

    Lives here, not in the Mastodon platform module, because the archive's importers need it
    too and must not pay for importing Mastodon.py.
    """

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.anchors: list[tuple[str, str, frozenset[str]]] = []  # (href, shown text, classes)
        self._paragraphs = 0
        self._anchor: list | None = None
        self._in_paragraph = False
        self.feed(markup or "")
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            if self._paragraphs:
                self.parts.append("\n\n")
            self._paragraphs += 1
            self._in_paragraph = True
        elif tag == "a":
            attributes = dict(attrs)
            self._anchor = [attributes.get("href") or "", len(self.parts),
                            frozenset((attributes.get("class") or "").split())]

    def handle_endtag(self, tag):
        if tag == "p":
            self._in_paragraph = False
        elif tag == "a" and self._anchor is not None:
            href, start, classes = self._anchor
            self.anchors.append((href, "".join(self.parts[start:]), classes))
            self._anchor = None

    def handle_data(self, data):
        if self._in_paragraph or not data.isspace():  # layout between paragraphs is not text
            self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()


def html_to_text(markup: str) -> str:
    """A Mastodon status's HTML as plain text: paragraphs separated by a blank line, <br> a line
    break, other tags dropped (their text kept), entities decoded. The one rendering used by
    posting (reading back what we sent), fetching and importing, so a post's archived text does
    not depend on where it came from."""
    return MastodonHTML(markup).text
