"""Post text: template variables, UTM tagging of the campaign's own links, lengths.

Each platform counts differently (BRIEF.md): X weighs characters (twitter-text v3,
URL = 23), Mastodon counts graphemes with a URL as 23 and a remote mention as its
local part, Bluesky counts graphemes of what readers see — links are shown
shortened and carry the full URL (UTM included) in a facet.
"""
from __future__ import annotations

import re
import string
import unicodedata
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


LIMITS = {"x": 280, "mastodon": 500, "bluesky": 300, "linkedin": 3000, "threads": 500}
THREADS_MAX_LINKS = 5
THREADS_MAX_TOPIC_TAGS = 1
URL_WEIGHT = 23
BLUESKY_LINK_DISPLAY = 32

_REMOTE_MENTION = re.compile(r"(?<![\w@])(@[\w.]+)@[\w.-]+\.\w+")
_TOPIC_TAG = re.compile(r"(?<![\w&#/])#\w*[^\W\d_]\w*")
# Below U+0300 no character combines with another into one grapheme (no combining marks, joiners
# or emoji), so a text made of them has one grapheme per character, "\r\n" excepted: counted
# without loading the `regex` module, which costs more than the rest of `campaign check`.
_SIMPLE = re.compile(r"^[\x00-\u02ff]*$")
_SIMPLE_NO_EMOJI = re.compile(r"^[\x00-\xa8\xaa-\xad\xaf-\u02ff]*$")  # © and ® are emoji to Threads


@lru_cache(maxsize=1)
def _unicode_patterns():
    import regex

    return regex.compile(r"\X"), regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3")


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
    from campaign.spec.xtext import facts

    return list(facts(text).urls)


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
    if _SIMPLE.match(text):
        return len(text) - text.count("\r\n")
    from campaign.spec.xtext import remember

    return remember("graphemes", text, _count_graphemes)


def _count_graphemes(text: str) -> int:
    return len(_unicode_patterns()[0].findall(text))


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
    if platform == "linkedin":
        # LinkedIn counts the commentary as written; escaping its markup characters comes after.
        return len(text)
    if platform == "threads":
        return threads_length(text)
    raise ValueError(f"unknown platform {platform!r}")


def threads_length(text: str) -> int:
    """Threads' count: an emoji weighs its UTF-8 bytes (a flag 8, a family far more), other characters 1."""
    if _SIMPLE_NO_EMOJI.match(text):
        return len(text)
    from campaign.spec.xtext import remember

    return remember("threads", text, _count_threads)


def _count_threads(text: str) -> int:
    grapheme, emoji = _unicode_patterns()
    total = 0
    for cluster in grapheme.findall(text):
        total += len(cluster.encode("utf-8")) if emoji.search(cluster) else len(cluster)
    return total


def threads_problems(text: str) -> list[str]:
    """What Threads refuses besides the length: more than 5 links or more than 1 topic tag."""
    found = []
    links = [url for _, _, url in urls(text)]
    if len(links) > THREADS_MAX_LINKS:
        found.append(f"{len(links)} links; Threads allows at most {THREADS_MAX_LINKS} per post")
    tags = topic_tags(text)
    if len(tags) > THREADS_MAX_TOPIC_TAGS:
        found.append(f"{len(tags)} topic tags ({', '.join(tags)}); Threads allows {THREADS_MAX_TOPIC_TAGS} per post")
    return found


def topic_tags(text: str) -> list[str]:
    """#tags in a text (a tag needs a letter: '#1' is a number, not a tag)."""
    return _TOPIC_TAG.findall(text)


def _x_length(text: str) -> int:
    from campaign.spec.xtext import facts

    return facts(text).weighted_length


_SURROGATE = re.compile("[\ud800-\udfff]")


def unsendable(text: str) -> str | None:
    """Why no platform can take this text (an unpaired surrogate cannot be encoded), or None."""
    match = _SURROGATE.search(text)
    if match is None:
        return None
    return (f"the text holds an unpaired surrogate (U+{ord(match.group()):04X}, character {match.start() + 1}), "
            "which no platform accepts")


def x_invalid(text: str) -> str | None:
    """Why X refuses this text for its characters, exactly as twitter-text decides, or None."""
    from campaign.spec.xtext import facts

    if facts(text).valid_characters:
        return None
    for index, char in enumerate(text):
        if char in "\ufffe\ufeff\uffff":
            return f"the text holds U+{ord(char):04X} (character {index + 1}), which X refuses"
    return "the text holds a character X refuses"


def html_to_text(markup: str) -> str:
    """A Mastodon status's HTML as plain text: paragraphs separated by a blank line, <br> a line
    break, other tags dropped (their text kept), entities decoded. The one rendering used by
    posting (reading back what we sent), fetching and importing, so a post's archived text does
    not depend on where it came from."""
    from campaign.spec.mastodonhtml import MastodonHTML

    return MastodonHTML(markup).text


def __getattr__(name: str):
    # MastodonHTML lives in its own module so that `campaign check` does not load html.parser.
    if name == "MastodonHTML":
        from campaign.spec.mastodonhtml import MastodonHTML

        return MastodonHTML
    raise AttributeError(name)
