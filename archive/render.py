"""The timeline as the seed page showed it: lines for a terminal (`archive show`) and an HTML widget
(`archive render`). Pure: takes ArchivedPost records and a "now", returns or writes text.

HTML goes through Jinja2 with autoescaping on, so a post's text can never become markup: every
piece of text is escaped, and a link's target is used only when it is http(s) (a `javascript:` or
`data:` link stays plain text). The page is self-contained: inline CSS, no scripts, no external
assets; the fragment is well-formed XML, so it can be included in any page (or parsed).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Mapping
from urllib.parse import quote, urlsplit

from .records import ArchivedPost
from .reltime import RelativeTime

_TOKENS = re.compile(
    r"(?P<url>https?://[^\s<>\"\x00-\x1f\x7f]+)"
    r"|(?<![\w#&])(?P<tag>#\w+)"
    r"|(?<![\w@/])(?P<mention>@[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?)")
_TRAILING = ".,!?;:)'\""
_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Given the posts of a page, their attachments by (platform, remote_id): archive.media.attachments.
MediaLookup = Callable[[list], Mapping]


def handle(post: ArchivedPost) -> str:
    return "@" + post.account.lstrip("@")


def one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def shown_text(post: ArchivedPost) -> str:
    """The text a reader sees of a post. A repost's is its reposted post's text (X's "RT @author: "
    taken off, the author is shown before it), or, when the source held no text, its URL."""
    text = post.text
    if post.kind == "repost" and post.reposted_account:
        prefix = f"RT @{post.reposted_account.lstrip('@')}: "
        if text.startswith(prefix):
            text = text[len(prefix):]
    if post.kind == "repost" and not text.strip():
        text = post.reposted_url or post.url or ""
    return text


def repost_prefix(post: ArchivedPost) -> str:
    """"🔁 @author: " before a repost's text ("🔁 " when the author is unknown); "" for other kinds."""
    if post.kind != "repost":
        return ""
    return f"🔁 @{post.reposted_account.lstrip('@')}: " if post.reposted_account else "🔁 "


def lines(posts: Iterable[ArchivedPost], *, now: datetime, relative: RelativeTime,
          expand_links: bool = False) -> Iterator[str]:
    """`@handle text relative-time`, one line per post (newlines in a text become spaces). A
    repost reads `🔁 @author: text`; a content warning comes first, marked: `[CW: warning] text`.
    expand_links: t.co links replaced by where they lead, as readers see them (else as posted)."""
    from .export import expanded_text

    for post in posts:
        warning = f"[CW: {one_line(post.content_warning)}] " if post.content_warning else ""
        text = expanded_text(shown_text(post), post.links) if expand_links else shown_text(post)
        yield (f"{handle(post)} {warning}{repost_prefix(post)}{one_line(text)} "
               f"{relative(post.created_at, now)}")


def write_lines(posts: Iterable[ArchivedPost], out: IO[str], *, now: datetime, relative: RelativeTime,
                expand_links: bool = False) -> int:
    """Write lines() to out in large chunks; returns the number of posts written."""
    count, chunk = 0, []
    for line in lines(posts, now=now, relative=relative, expand_links=expand_links):
        chunk.append(line)
        count += 1
        if len(chunk) >= 2000:
            out.write("\n".join(chunk) + "\n")
            chunk.clear()
    if chunk:
        out.write("\n".join(chunk) + "\n")
    return count


# -- HTML -------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    href: str | None = None  # only ever http(s)
    kind: str = "text"  # text | url | tag | mention


@dataclass(frozen=True)
class Attachment:
    """An image or video of a post as the widget shows it: an <img> of the local copy (src, relative
    to the page) with its alt text; else a link to the original (only http(s)), so that the page
    never loads anything from elsewhere. A video is always a link."""

    kind: str  # image | video
    alt: str
    src: str | None = None  # the local copy, relative to the page
    original: str | None = None  # the URL the post names

    @property
    def href(self) -> str | None:
        return quote(self.src, safe="/._-") if self.src else safe_href(self.original)

    @property
    def label(self) -> str:
        return ("▶ " if self.kind == "video" else "🖼 ") + (one_line(self.alt) or self.kind)


@dataclass(frozen=True)
class Entry:
    post: ArchivedPost
    handle: str
    profile: str | None
    segments: tuple[Segment, ...]
    datetime: str  # ISO 8601 for <time datetime>
    relative: str
    url: str | None
    warning: str | None = None  # the content warning: the text stays folded under it
    reposted: str | None = None  # a repost: "@author" of the reposted post
    reposted_profile: str | None = None
    media: tuple[Attachment, ...] = ()


def safe_href(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL with a host, else None (no javascript:, data:, …).
    Control characters are dropped first: a NUL from an imported text must not end up in an href,
    and browsers ignore some of them, so the scheme is judged on what a browser would see."""
    if not url:
        return None
    url = _CONTROL.sub("", url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _instance(post: ArchivedPost) -> str | None:
    if post.url:
        parts = urlsplit(post.url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return None


def tag_url(post: ArchivedPost, tag: str) -> str | None:
    tag = quote(tag, safe="")
    if post.platform == "x":
        return f"https://x.com/hashtag/{tag}"
    if post.platform == "bluesky":
        return f"https://bsky.app/hashtag/{tag}"
    if post.platform == "threads":
        return f"https://www.threads.net/search?q={tag}&serp_type=tags"
    base = _instance(post)
    return f"{base}/tags/{tag}" if base else None


def mention_url(post: ArchivedPost, name: str) -> str | None:
    if post.platform == "x":
        return f"https://x.com/{quote(name, safe='')}"
    if post.platform == "bluesky":
        return f"https://bsky.app/profile/{quote(name, safe='.')}"
    if post.platform == "threads":
        return f"https://www.threads.net/@{quote(name, safe='._')}"
    user, _, host = name.partition("@")
    if host:
        return f"https://{host}/@{quote(user, safe='')}"
    base = _instance(post)
    return f"{base}/@{quote(user, safe='')}" if base else None


def profile_url(post: ArchivedPost) -> str | None:
    return mention_url(post, post.account.lstrip("@"))


def segments(post: ArchivedPost) -> tuple[Segment, ...]:
    """The text cut into plain text, links (shown as their expanded target), #tags and @mentions."""
    expanded = {link.url: link for link in post.links}
    text, out, position = shown_text(post), [], 0
    for match in _TOKENS.finditer(text):
        start, end = match.span()
        token = match.group()
        kind = match.lastgroup
        trailing = ""
        if kind == "url":
            while token and token[-1] in _TRAILING and token not in expanded:
                trailing = token[-1] + trailing
                token = token[:-1]
            end = start + len(token)
        if start > position:
            out.append(Segment(text[position:start]))
        if kind == "url":
            link = expanded.get(token)
            target = safe_href(link.expanded_url if link and link.expanded_url else token)
            shown = (link.display_url or link.expanded_url) if link and (link.display_url or link.expanded_url) \
                else token
            if target is None:
                out.append(Segment(token))
            else:
                out.append(Segment(_short(shown), target, "url"))
        elif kind == "tag":
            out.append(Segment(token, safe_href(tag_url(post, token[1:])), "tag"))
        else:
            out.append(Segment(token, safe_href(mention_url(post, token[1:])), "mention"))
        position = end
    if position < len(text):
        out.append(Segment(text[position:]))
    return tuple(out)


def _short(shown: str) -> str:
    shown = re.sub(r"^https?://(www\.)?", "", shown)
    return shown if len(shown) <= 40 else shown[:39] + "…"


def entries(posts: Iterable[ArchivedPost], *, now: datetime, relative: RelativeTime,
            media: Mapping[tuple[str, str], tuple[Attachment, ...]] | None = None) -> list[Entry]:
    """Newest first, ready for the templates. media: each post's attachments by (platform, remote_id)
    (archive.media.attachments); none shown without it."""
    ordered = sorted(posts, key=lambda p: p.created_at, reverse=True)
    media = media or {}
    return [Entry(post, handle(post), safe_href(profile_url(post)), segments(post),
                  post.created_at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
                  relative(post.created_at, now), safe_href(post.url), post.content_warning or None,
                  *_reposted(post), media=media.get((post.platform, post.remote_id), ()))
            for post in ordered]


def _reposted(post: ArchivedPost) -> tuple[str | None, str | None]:
    if post.kind != "repost" or not post.reposted_account:
        return None, None
    author = post.reposted_account.lstrip("@")
    return "@" + author, safe_href(mention_url(post, author))


@lru_cache(maxsize=1)
def _environment():  # one for the process: numbered pages render the same templates many times
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("archive", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


# The words of the page navigation, by language (English for any other).
PAGER_WORDS = {
    "nl": {"label": "Pagina's", "newer": "Nieuwer", "older": "Ouder", "page": "Pagina {number} van {count}"},
    "en": {"label": "Pages", "newer": "Newer", "older": "Older", "page": "Page {number} of {count}"},
}


@dataclass(frozen=True)
class Pager:
    """Where a numbered page is among its siblings (page 1 holds the newest posts)."""

    number: int
    count: int
    words: dict

    @property
    def newer(self) -> str | None:
        return page_name(self.number - 1) if self.number > 1 else None

    @property
    def older(self) -> str | None:
        return page_name(self.number + 1) if self.number < self.count else None

    @property
    def position(self) -> str:
        return self.words["page"].format(number=self.number, count=self.count)


def page_name(number: int) -> str:
    return f"page-{number}.html"


def _language(locale: str) -> str:
    return locale.replace("-", "_").split("_")[0]


def render_html(posts: Iterable[ArchivedPost], *, now: datetime, relative: RelativeTime, fragment: bool = False,
                title: str = "Tijdlijn", language: str = "nl", pager: Pager | None = None,
                media: MediaLookup | None = None) -> str:
    """A self-contained HTML page, or (fragment=True) the embeddable <section> alone. pager: the
    page's place among numbered pages (links to the newer and older page), for pages only.
    media: given the posts, their attachments (archive.media.attachments); without it none are shown."""
    template = _environment().get_template("fragment.html" if fragment else "page.html")
    posts = list(posts)
    shown = media(posts) if media is not None and posts else None
    return template.render(entries=entries(posts, now=now, relative=relative, media=shown), title=title,
                           language=_language(language), generated=now.isoformat(), pager=pager)


def write_pages(posts: Iterable[ArchivedPost], folder: Path, *, per_page: int, total: int, now: datetime,
                relative: RelativeTime, title: str = "Tijdlijn", language: str = "nl",
                media: MediaLookup | None = None) -> int:
    """Numbered pages in folder: page-1.html (the newest per_page posts), page-2.html, …, each
    linking to the newer and the older page. posts: newest first, streamed (one page in memory);
    total: how many there are (for "page 2 of 26"). Each page is written to a temporary file and
    renamed, so a web server never serves half a page; pages left from an earlier, longer run are
    removed. Returns the number of pages."""
    words = PAGER_WORDS.get(_language(language).lower(), PAGER_WORDS["en"])
    count = max(1, -(-total // per_page))
    folder.mkdir(parents=True, exist_ok=True)
    iterator = iter(posts)
    chunk = list(islice(iterator, per_page))
    number = 0
    while True:
        number += 1
        following = list(islice(iterator, per_page)) if chunk else []
        if following and number >= count:  # more than counted (posts arrived meanwhile)
            count = number + 1
        elif not following:
            count = number
        html = render_html(chunk, now=now, relative=relative, title=title, language=language,
                           pager=Pager(number, count, words), media=media)
        _write_atomically(folder / page_name(number), html)
        if not following:
            break
        chunk = following
    for stale in folder.glob("page-*.html"):
        match = re.fullmatch(r"page-([1-9][0-9]*)\.html", stale.name)
        if match and int(match.group(1)) > number:
            stale.unlink()
    return number


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
