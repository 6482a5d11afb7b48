"""A post's text cut into what each platform shows: plain text, links, #hashtags and @mentions.

Links are found the one way the whole project finds them (campaign.spec.text.urls, twitter-text),
and shown as each platform shows them:

- X wraps every link (with or without a scheme) in t.co, counted 23, and shows the API's
  `display_url`: no scheme, no `www.`, cut to 26 characters and "…" when longer than 27
  (`nytimes.com/2021/04/05/opi…`, `youtube.com/watch?v=oHg5SJ…`, `nytimes.com/by/maggie-astor`).
- Mastodon links only URLs with a scheme, counted 23, and shows them the way its TextFormatter
  does: `https://` (and `www.`) hidden, the next 30 characters, then "…" when there is more. A
  remote mention is shown as `@user` (the server is hidden, and not counted).
- Bluesky: exactly what our sender posts: the text and facets come from
  campaign.send.platforms.bluesky (BlueskyPlatform.rich_text, which uses
  campaign.spec.text.bluesky_display), with handles assumed to resolve.

Hashtags and mentions on X follow twitter-text's extractor (validHashtag, validMentionOrList and
their end checks; the installed twitter_text package only extracts URLs), on Mastodon its Tag and
Account regular expressions. Only http(s) links get an href.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import regex

from campaign.spec.text import URL_WEIGHT, urls

X_LINK_VISIBLE = 26
MASTODON_LINK_VISIBLE = 30


@dataclass(frozen=True)
class Segment:
    """A run of a post's text as its platform shows it."""
    kind: str  # text | link | hashtag | mention
    text: str  # as readers see it
    source: str  # as written in the post: the full URL (UTM included), @user@server …
    href: str | None = None  # only for http(s) links
    counted: int | None = None  # what a link counts toward the limit when not its shown length (23)


def safe_href(url: str | None) -> str | None:
    """url when it is an absolute http(s) URL with a host, else None (never javascript:, data: …)."""
    if not url or any(ord(c) < 0x20 or c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def segments(platform: str, text: str) -> tuple[Segment, ...]:
    """The text (NFC, as `length` counts it) in segments as `platform` shows it."""
    text = unicodedata.normalize("NFC", text)
    if platform == "x":
        return _x(text)
    if platform == "mastodon":
        return _mastodon(text)
    if platform == "bluesky":
        return _bluesky(text)
    if platform == "linkedin":
        return _linkedin(text)
    if platform == "threads":
        return _threads(text)
    raise ValueError(f"unknown platform {platform!r}")


def shown(parts: tuple[Segment, ...]) -> str:
    return "".join(segment.text for segment in parts)


# --- X (twitter-text) ---------------------------------------------------------------------------------

_X_SPECIAL = "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7"
_X_ALNUM = rf"[\p{{L}}\p{{M}}\p{{Nd}}{_X_SPECIAL}]"
# hashtagBoundary: the start, U+FE0E/U+FE0F, or any character that is not alphanumeric or '&'.
_X_HASHTAG = regex.compile(rf"(?:(?<=[\uFE0E\uFE0F])|(?<!{_X_ALNUM}|&))[#＃](?![\uFE0F\u20E3])"
                           rf"({_X_ALNUM}*[\p{{L}}\p{{M}}]{_X_ALNUM}*)", regex.IGNORECASE)
_X_HASHTAG_END = regex.compile(r"[#＃]|://")
_X_MENTION = regex.compile(r"(?<=^|[^a-zA-Z0-9_!#$%&*@＠]|(?:^|[^a-zA-Z0-9_+~.\-])(?:rt|RT|rT|Rt):?)"
                           r"[@＠]([a-zA-Z0-9_]{1,20})(/[a-zA-Z][a-zA-Z0-9_\-]{0,24})?")
_LATIN_ACCENTS = ("\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b"
                  "\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff")
_X_MENTION_END = regex.compile(rf"[@＠]|[{_LATIN_ACCENTS}]|://")


def x_link_display(url: str) -> str:
    """How X shows a link (its display_url): no scheme, no www., long ones cut with '…'."""
    label = regex.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url)
    label = regex.sub(r"^www\.", "", label, flags=regex.IGNORECASE)
    return label if len(label) <= X_LINK_VISIBLE + 1 else label[:X_LINK_VISIBLE] + "…"


def _x(text: str) -> tuple[Segment, ...]:
    entities = [(start, end, "link") for start, end, _url in urls(text)]
    if "@" in text or "＠" in text:
        entities += [(m.start(), m.end(), "mention") for m in _X_MENTION.finditer(text)
                     if not _X_MENTION_END.match(text, m.end())]
    if "#" in text or "＃" in text:
        entities += [(m.start(), m.end(), "hashtag") for m in _X_HASHTAG.finditer(text)
                     if not _X_HASHTAG_END.match(text, m.end())]

    def show(kind: str, written: str) -> Segment:
        if kind != "link":
            return Segment(kind, written, written)
        target = written if "://" in written else "https://" + written
        return Segment("link", x_link_display(written), written, safe_href(target), URL_WEIGHT)

    return _split(text, entities, show)


# --- Mastodon (app/models/tag.rb, app/models/account.rb, TextFormatter) --------------------------------

_M_SEPARATORS = "_\u00b7\u30fb\u200c"
_M_HASHTAG = regex.compile(
    rf"(?<![=/)\p{{Alpha}}\p{{Nd}}])#("
    rf"\w[\w{_M_SEPARATORS}]*[\p{{Alpha}}{_M_SEPARATORS}][\w{_M_SEPARATORS}]*\w"  # HASHTAG_FIRST_SEQUENCE
    rf"|\w*\p{{Alpha}}\w*)",  # HASHTAG_LAST_SEQUENCE
    regex.IGNORECASE)
_M_MENTION = regex.compile(r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?", regex.IGNORECASE)
_M_PREFIX = regex.compile(r"(?:https?://(?:www\.)?)?", regex.IGNORECASE)


def mastodon_link_display(url: str) -> str:
    """How Mastodon shows a link: https:// and www. hidden, then 30 characters and '…' if more."""
    rest = url[_M_PREFIX.match(url).end():]
    return rest if len(rest) <= MASTODON_LINK_VISIBLE else rest[:MASTODON_LINK_VISIBLE] + "…"


def _mastodon(text: str) -> tuple[Segment, ...]:
    entities = [(start, end, "link") for start, end, url in urls(text) if "://" in url]
    entities += [(m.start(), m.end(), "mention") for m in _M_MENTION.finditer(text)]
    entities += [(m.start(), m.end(), "hashtag") for m in _M_HASHTAG.finditer(text)]

    def show(kind: str, written: str) -> Segment:
        if kind == "link":
            return Segment("link", mastodon_link_display(written), written, safe_href(written), URL_WEIGHT)
        if kind == "mention":
            return Segment("mention", "@" + written[1:].split("@", 1)[0], written)
        return Segment(kind, written, written)

    return _split(text, entities, show)


# --- Bluesky (what campaign.send.platforms.bluesky posts) ----------------------------------------------

class _AssumeHandlesResolve:
    """Stands in for a signed-in BlueskyPlatform: a preview cannot ask the network whether a
    handle exists, so every well-formed @handle is taken to become a mention."""

    @staticmethod
    def _resolve(handle: str) -> str:
        return "did:preview:" + handle


def _bluesky(text: str) -> tuple[Segment, ...]:
    from campaign.send.platforms.bluesky import BlueskyPlatform  # atproto: only for Bluesky previews

    builder = BlueskyPlatform.rich_text(_AssumeHandlesResolve(), text)
    posted = builder.build_text().encode("utf-8")
    out, position = [], 0
    for facet in sorted(builder.build_facets(), key=lambda f: f.index.byte_start):
        start, end = facet.index.byte_start, facet.index.byte_end
        if start < position:
            continue
        if start > position:
            plain = posted[position:start].decode("utf-8")
            out.append(Segment("text", plain, plain))
        label = posted[start:end].decode("utf-8")
        feature = facet.features[0]
        kind = feature.py_type.rsplit("#", 1)[-1]
        if kind == "link":
            out.append(Segment("link", label, feature.uri, safe_href(feature.uri)))
        elif kind == "tag":
            out.append(Segment("hashtag", label, label))
        else:
            out.append(Segment("mention", label, label))
        position = end
    if position < len(posted):
        plain = posted[position:].decode("utf-8")
        out.append(Segment("text", plain, plain))
    return tuple(out)


# --- LinkedIn (what campaign.send.platforms.linkedin posts) --------------------------------------------

def _linkedin(text: str) -> tuple[Segment, ...]:
    """Links in full (LinkedIn shortens none of an API post's links), #tags as the hashtag templates
    the sender makes of them, and @[Name](urn:li:organization:N) as the mention showing Name."""
    from campaign.send.platforms.linkedin_text import HASHTAG, MENTION

    entities = [(start, end, "link") for start, end, url in urls(text) if "://" in url]
    entities += [(m.start(), m.end(), "mention") for m in MENTION.finditer(text)]
    entities += [(m.start(), m.end(), "hashtag") for m in HASHTAG.finditer(text)]

    def show(kind: str, written: str) -> Segment:
        if kind == "link":
            return Segment("link", written, written, safe_href(written))
        if kind == "mention":
            return Segment("mention", MENTION.match(written).group(1), written)
        return Segment(kind, written, written)

    return _split(text, entities, show)


# --- Threads (what campaign.send.platforms.threads posts) ----------------------------------------------

_THREADS_MENTION = regex.compile(r"(?<![\w@])@[A-Za-z0-9._]*[A-Za-z0-9_]")


def _threads(text: str) -> tuple[Segment, ...]:
    """Links as written (Threads counts and shows them in full), @username mentions, and the first
    #tag only: Threads takes one topic tag per post, a later #word stays text."""
    from campaign.spec.text import _TOPIC_TAG

    entities = [(start, end, "link") for start, end, _url in urls(text)]
    entities += [(m.start(), m.end(), "mention") for m in _THREADS_MENTION.finditer(text)]
    entities += [(m.start(), m.end(), "hashtag") for m in list(_TOPIC_TAG.finditer(text))[:1]]

    def show(kind: str, written: str) -> Segment:
        if kind == "link":
            return Segment("link", written, written, safe_href(written if "://" in written else "https://" + written))
        return Segment(kind, written, written)

    return _split(text, entities, show)


# --- shared ----------------------------------------------------------------------------------------------

def _split(text: str, entities, show) -> tuple[Segment, ...]:
    """Segments for (start, end, kind) entities; overlaps are dropped as twitter-text does
    (removeOverlappingEntities: by start, a later one inside an earlier one goes)."""
    out, position = [], 0
    for start, end, kind in sorted(entities, key=lambda entity: entity[0]):
        if start < position:
            continue
        if start > position:
            out.append(Segment("text", text[position:start], text[position:start]))
        out.append(show(kind, text[start:end]))
        position = end
    if position < len(text):
        out.append(Segment("text", text[position:], text[position:]))
    return tuple(out)
