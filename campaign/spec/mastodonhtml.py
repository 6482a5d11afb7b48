"""Mastodon's status HTML read as text (campaign.spec.text.html_to_text is the way in)."""
from __future__ import annotations

from html.parser import HTMLParser


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
