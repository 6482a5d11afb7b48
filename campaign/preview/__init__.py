"""Preview each queued occurrence as it will look on its platform (issue 14).

- `load_view(db, post_id)` / `build_view(row, account)`: the view model (campaign.preview.model):
  the final text per part in segments as the platform shows them, the length against the limit
  counted as `campaign check` counts it, images with alt text, the account, the local time.
- `fragment(view, image_src)`: HTML with classes only, for the web workspace (strict CSP);
  `stylesheet()` / `STYLESHEET`: its CSS.
- `standalone_html(views)`: one self-contained page for review by mail.
- `translations(locale)`: the gettext callable for the labels (Dutch catalogue, English ids).

Importing this package loads no template engine; jinja2 and Babel are imported when rendering.
(`campaign run --dry-run`'s walk of the queue is campaign.send.dryrun.)
"""
from __future__ import annotations

from campaign.preview.i18n import DEFAULT_LOCALE, LOCALES, identity, translations
from campaign.preview.model import AccountView, MediaView, PartView, PostView, build_view, load_view
from campaign.preview.render import MAX_EMBEDDED_BYTES, STYLESHEET, ImageSlot, fragment, standalone_html, stylesheet
from campaign.preview.segments import Segment, safe_href, segments

__all__ = ["AccountView", "DEFAULT_LOCALE", "ImageSlot", "LOCALES", "MAX_EMBEDDED_BYTES", "MediaView", "PartView",
           "PostView", "STYLESHEET", "Segment", "build_view", "fragment", "identity", "load_view", "safe_href",
           "segments", "standalone_html", "stylesheet", "translations"]
