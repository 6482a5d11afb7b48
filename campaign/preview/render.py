"""Previews as HTML: Jinja2 templates (autoescape on) in three looks, an X card, a Mastodon toot and
a Bluesky post, with our own stylesheet (no third-party assets, no webfonts).

Two outputs:

- `fragment(view, image_src)`: markup with classes only — no style attribute, no <style>, no
  <script> — for a page served under a strict Content-Security-Policy; the stylesheet is the
  separate file preview.css (`stylesheet()`, `STYLESHEET`).
- `standalone_html(views)`: one self-contained page for review by mail: the CSS in <style>, the
  images as data: URIs (a missing file, or one over 5 MB, is a box with its alt text and why).

Whatever a post says stays text: only http(s) links get an href, everything else is escaped.
"""
from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlsplit

from campaign.preview.i18n import N_, Gettext, identity, language_of
from campaign.preview.model import MediaView, PartView, PostView
from campaign.preview.segments import Segment
from campaign.spec.media import MB

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = Path(__file__).parent / "preview.css"
MAX_EMBEDDED_BYTES = 5 * MB

ImageSource = Callable[[int, int, MediaView], "str | None"]

STATE_LABELS = {
    "queued": N_("queued"), "sending": N_("being sent"), "sent": N_("sent"), "failed": N_("failed"),
    "unknown": N_("unknown: check the account"), "missed": N_("missed"), "cancelled": N_("cancelled"),
    "awaiting_approval": N_("awaiting approval"), "rejected": N_("rejected"),
}


def stylesheet() -> str:
    """The previews' CSS (preview.css), for a page that links it as a file of its own."""
    return STYLESHEET.read_text(encoding="utf-8")


@dataclass(frozen=True)
class ImageSlot:
    src: str | None  # what <img src> gets; None: a placeholder box
    reason: str | None = None  # why there is no image, for the placeholder


def fragment(view: PostView, image_src: ImageSource | None, *, gettext: Gettext | None = None,
             locale: str = "en") -> str:
    """One post's preview as an HTML fragment (an <article>), classes only: no inline style,
    <style> or <script>. image_src(part_index, media_index, media) gives an image's <img src>
    (e.g. a route of the web workspace), or None for a placeholder; it is asked only for files
    that are there and are images by their content. `gettext` translates the labels (English
    without it); `locale` formats the date (Babel)."""
    _ = gettext or identity

    def image(part: PartView, media: MediaView) -> ImageSlot:
        reason = _unavailable(media, _)
        if reason:
            return ImageSlot(None, reason)
        src = _safe_src(image_src(part.index, media.index, media)) if image_src else None
        return ImageSlot(src, None if src else _("Image not available"))

    return _render("fragment.html", _, locale, image, view=view)


def standalone_html(views: Iterable[PostView], *, gettext: Gettext | None = None, locale: str = "en",
                    title: str | None = None, now: datetime | None = None,
                    max_image_bytes: int = MAX_EMBEDDED_BYTES) -> str:
    """A self-contained HTML page previewing `views`, for review by mail: works offline in any
    browser (CSS inlined, images embedded as data: URIs; a file that is missing, not an image, or
    over max_image_bytes is a box showing its alt text and the reason). lang is `locale`'s."""
    _ = gettext or identity
    views = list(views)

    def image(part: PartView, media: MediaView) -> ImageSlot:
        reason = _unavailable(media, _)
        if reason:
            return ImageSlot(None, reason)
        if media.size is not None and media.size > max_image_bytes:
            return ImageSlot(None, _("Larger than %(size)s MB: not embedded") % {"size": max_image_bytes // MB})
        try:
            data = Path(media.path).read_bytes()
        except OSError:
            return ImageSlot(None, _("File not found"))
        if len(data) > max_image_bytes:
            return ImageSlot(None, _("Larger than %(size)s MB: not embedded") % {"size": max_image_bytes // MB})
        return ImageSlot(f"data:{media.kind};base64,{base64.b64encode(data).decode('ascii')}")

    if title is None:
        if len(views) == 1:
            view = views[0]
            title = _("Preview of #%(id)s: %(handle)s on %(platform)s") % {
                "id": view.id, "handle": view.account.shown_handle, "platform": view.account.platform_name}
        else:
            title = _("Preview of %(count)s posts") % {"count": len(views)}
    from markupsafe import Markup

    zone = views[0].local_time.tzinfo if views else timezone.utc
    moment = (now or datetime.now(timezone.utc)).astimezone(zone)
    zone_name = views[0].timezone if views else "UTC"
    return _render("page.html", _, locale, image, views=views, title=title, css=Markup(_inline_css()),
                   generated=f"{format_when(moment, locale)} {zone_name}", generated_iso=moment.isoformat())


# --- helpers for the templates --------------------------------------------------------------------------

def _unavailable(media: MediaView, _: Gettext) -> str | None:
    if not media.exists:
        return _("File not found")
    if (media.kind or "").startswith("video/"):
        return _("Video: not shown in the preview")
    if not media.is_image:
        return _("Not an image (judged by its content)")
    return None


def _safe_src(src: str | None) -> str | None:
    """An <img src> we are willing to emit: a relative URL, http(s), or a data:image/ URI."""
    if not src or any(ord(c) < 0x20 for c in src):
        return None
    if src.startswith("data:"):
        return src if src.startswith(("data:image/png;", "data:image/jpeg;", "data:image/gif;",
                                      "data:image/webp;")) else None
    try:
        scheme = urlsplit(src).scheme.lower()
    except ValueError:
        return None
    return src if scheme in ("", "http", "https") else None


def format_when(moment: datetime, locale: str) -> str:
    """A date and time for people, in the reader's language, in moment's own zone."""
    from babel.dates import format_skeleton, format_time

    language = language_of(locale)
    try:
        return f"{format_skeleton('yMMMEd', moment, locale=language)} {format_time(moment, 'HH:mm', locale=language)}"
    except Exception:  # an unknown locale: an unambiguous fallback
        return moment.strftime("%Y-%m-%d %H:%M")


def format_short(moment: datetime, locale: str) -> str:
    """Day, month and time, as a post's header shows it ('18 jan. 10:00')."""
    from babel.dates import format_skeleton, format_time

    language = language_of(locale)
    try:
        return f"{format_skeleton('MMMd', moment, locale=language)} {format_time(moment, 'HH:mm', locale=language)}"
    except Exception:
        return moment.strftime("%d-%m %H:%M")


def _inline_css() -> str:
    css = stylesheet()
    return css.replace("</", "<\\/")  # no stylesheet text can end the <style> element


@functools.lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


def _render(template: str, _: Gettext, locale: str, image, **context) -> str:
    def when(view: PostView) -> str:
        return format_when(view.local_time, locale)

    def stamp(view: PostView) -> str:
        return format_short(view.local_time, locale)

    def state_label(state: str) -> str:
        return _(STATE_LABELS[state]) if state in STATE_LABELS else state

    def link_title(segment: Segment) -> str:
        if segment.counted:
            return f"{segment.source} — " + _("counts as %(count)s characters") % {"count": segment.counted}
        return segment.source

    return _environment().get_template(template).render(
        _=_, lang=language_of(locale), when=when, stamp=stamp, state_label=state_label, link_title=link_title, image=image,
        **context)
