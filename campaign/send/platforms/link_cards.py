"""Link cards for platforms that build no link preview themselves, so a post carries its own
(Bluesky's `app.bsky.embed.external`, LinkedIn's `content.article`), made here at send time from
the linked page's Open Graph / Twitter-card metadata, or from what posts.yaml sets by hand.

A card is a nicety, never a reason to hold a post back: every failure here (a slow, huge,
broken or unreachable page, a redirect to anything but http(s), an image too large) means
"no card" or "no thumbnail", and the post goes out. The page is read with a deadline over the
whole fetch (a server dripping one byte a second cannot stretch it), at most PAGE_BYTES of it
(the metadata is in <head>), following at most MAX_REDIRECTS redirects, http(s) only.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from campaign.spec.cards import card_link

DEADLINE_SECONDS = 5.0  # the whole page fetch, and again the image
PAGE_BYTES = 512_000
IMAGE_BYTES = 1_000_000  # Bluesky's blob limit for a card thumbnail
MAX_REDIRECTS = 3
TITLE_CHARS = 300
DESCRIPTION_CHARS = 1000
USER_AGENT = "PraatMee-linkcard/1.0 (+https://github.com/praatmee)"
_IMAGE_MAGIC = (("image/png", b"\x89PNG\r\n\x1a\n", 0), ("image/jpeg", b"\xff\xd8\xff", 0),
                ("image/gif", b"GIF8", 0), ("image/webp", b"WEBP", 8))


@dataclass(frozen=True)
class LinkCard:
    uri: str
    title: str
    description: str
    image: bytes | None = None  # the thumbnail's bytes, at most IMAGE_BYTES, a PNG/JPEG/GIF/WebP


def card_for(text: str, card: bool | dict, *, deadline: float = DEADLINE_SECONDS,
             proxy: str | None = None) -> LinkCard | None:
    """The card for a post's text: None when `card` is False, the text has no http(s) link, or
    (automatic) the page gave nothing usable. A dict is the card set by hand in posts.yaml
    ({"title", "description", "image": {"path", "alt"} | None}); it needs no fetch. deadline 0
    turns the fetch off (automatic cards then never appear). proxy: an http(s) proxy URL for the
    fetch (else the usual HTTP(S)_PROXY variables apply). Never raises."""
    if card is False:
        return None
    uri = card_link(text)
    if uri is None:
        return None
    try:
        if isinstance(card, dict):
            image = card.get("image") or {}
            return LinkCard(uri, _clip(card.get("title"), TITLE_CHARS), _clip(card.get("description"),
                                                                               DESCRIPTION_CHARS),
                            _local_image(image.get("path")) if image.get("path") else None)
        if deadline <= 0:
            return None
        return _from_page(uri, deadline, proxy)
    except Exception:  # a card is never worth a failed post; the post goes out without it
        return None


def _from_page(uri: str, deadline: float, proxy: str | None) -> LinkCard | None:
    fetched = _fetch(uri, PAGE_BYTES, deadline, proxy, accept="text/html,application/xhtml+xml")
    if fetched is None:
        return None
    body, final_url, content_type = fetched
    if content_type and "html" not in content_type:
        return None
    meta = _Meta()
    try:
        meta.feed(body.decode(_charset(content_type) or "utf-8", errors="replace"))
        meta.close()
    except Exception:
        pass  # broken markup: keep what was read before it
    title = meta.first("og:title", "twitter:title") or meta.title.strip()
    description = meta.first("og:description", "twitter:description", "description")
    if not title and not description:
        return None
    image_url = meta.first("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
    image = None
    if image_url:
        absolute = urljoin(final_url, image_url)
        if urlsplit(absolute).scheme in ("http", "https"):
            got = _fetch(absolute, IMAGE_BYTES, deadline, proxy, accept="image/*", refuse_larger=True)
            image = got[0] if got and _image_type(got[0]) else None
    return LinkCard(uri, _clip(title, TITLE_CHARS), _clip(description, DESCRIPTION_CHARS), image)


def _fetch(url: str, limit: int, deadline: float, proxy: str | None, *, accept: str,
           refuse_larger: bool = False) -> tuple[bytes, str, str] | None:
    """(body, final URL, content type) of a GET, or None. At most `limit` bytes are read (with
    refuse_larger, a larger body is None instead of cut); the whole fetch, redirects included,
    ends by the deadline."""
    ends = time.monotonic() + deadline
    with httpx.Client(follow_redirects=False, proxy=proxy or None,
                      headers={"User-Agent": USER_AGENT, "Accept": accept}) as client:
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(url).scheme not in ("http", "https"):
                return None
            remaining = ends - time.monotonic()
            if remaining <= 0:
                return None
            with client.stream("GET", url, timeout=httpx.Timeout(remaining)) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                if response.status_code != 200:
                    return None
                declared = response.headers.get("content-length", "")
                if refuse_larger and declared.isdigit() and int(declared) > limit:
                    return None
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        if refuse_larger:
                            return None
                        break
                    if time.monotonic() > ends:
                        return None
                body = b"".join(chunks)[:limit]
                return body, str(response.url), response.headers.get("content-type", "").lower()
    return None  # too many redirects


def _local_image(path: str) -> bytes | None:
    file = Path(path)
    try:
        if file.stat().st_size > IMAGE_BYTES:
            return None
        data = file.read_bytes()
    except OSError:
        return None
    return data if _image_type(data) else None


def _image_type(data: bytes) -> str | None:
    for kind, magic, offset in _IMAGE_MAGIC:
        if data[offset:offset + len(magic)] == magic:
            return kind
    return None


def _charset(content_type: str) -> str | None:
    for piece in content_type.split(";")[1:]:
        name, _, value = piece.strip().partition("=")
        if name.lower() == "charset" and value:
            try:
                "".encode(value.strip('"'))
            except LookupError:
                return None
            return value.strip('"')
    return None


def _clip(value, limit: int) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


class _Meta(HTMLParser):
    """<meta property|name=… content=…> and <title> of a page's head; stops at <body>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self.title = ""
        self._in_title = False
        self._done = False

    def handle_starttag(self, tag, attrs):
        if self._done:
            return
        if tag == "body":
            self._done = True
            return
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            attributes = {k.lower(): (v or "") for k, v in attrs}
            key = (attributes.get("property") or attributes.get("name") or "").strip().lower()
            if key and "content" in attributes:
                self.values.setdefault(key, attributes["content"].strip())

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            self._done = True

    def handle_data(self, data):
        if self._in_title and not self._done and len(self.title) < 10 * TITLE_CHARS:
            self.title += data

    def first(self, *keys: str) -> str | None:
        for key in keys:
            if self.values.get(key):
                return self.values[key]
        return None
