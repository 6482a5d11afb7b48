"""LinkedIn's text as the page shows it and as the API takes it: "little text" for post commentary
(reserved characters escaped, #tags as hashtag templates, organisation mentions), plain text with
mention attributes for comments, and the address of a post. Pure functions: the sender, the preview
and the archive read LinkedIn's text through these, so all three agree."""
from __future__ import annotations

import re
import unicodedata

RESERVED = set("|{}@[]()<>#\\*_~")
MENTION = re.compile(r"@\[([^\]\n]{1,200})\]\((urn:li:organization:\d+)\)")
HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")
_LITTLE_TAG = re.compile(r"\{hashtag\|\\?#\|([^}]*)\}")
_LITTLE_MENTION = re.compile(r"@\[((?:\\.|[^\]\\])*)\]\((urn:li:[a-zA-Z]+:[^)]*)\)")


def _escape(text: str) -> str:
    return "".join("\\" + c if c in RESERVED else c for c in text)


def little_text(text: str) -> str:
    """The commentary LinkedIn shows as `text`: reserved characters escaped, #tags as hashtag
    templates, organisation mentions written `@[Name](urn:li:organization:N)` kept as mentions."""
    out, position = [], 0
    for match in MENTION.finditer(text):
        out.append(_tags_and_escapes(text[position:match.start()]))
        out.append(f"@[{_escape(match.group(1))}]({match.group(2)})")
        position = match.end()
    out.append(_tags_and_escapes(text[position:]))
    return "".join(out)


def _tags_and_escapes(text: str) -> str:
    out, position = [], 0
    for match in HASHTAG.finditer(text):
        out.append(_escape(text[position:match.start()]))
        out.append("{hashtag|\\#|" + match.group(1) + "}")
        position = match.end()
    out.append(_escape(text[position:]))
    return "".join(out)


def shown_text(text: str) -> str:
    """What readers see of a text as posts.yaml writes it: a mention shows its name."""
    return MENTION.sub(lambda m: m.group(1), text)


def from_little_text(commentary: str) -> str:
    """The text LinkedIn shows for a commentary read back from the API (little text)."""
    commentary = _LITTLE_TAG.sub(lambda m: "#" + m.group(1), commentary or "")
    commentary = _LITTLE_MENTION.sub(lambda m: m.group(1), commentary)
    return re.sub(r"\\(.)", r"\1", commentary)


def mentions_of(commentary: str) -> list[tuple[str, str]]:
    """(name, urn) of each mention in a commentary read back."""
    return [(re.sub(r"\\(.)", r"\1", name), urn) for name, urn in _LITTLE_MENTION.findall(commentary or "")]


def hashtags_of(commentary: str) -> list[str]:
    return _LITTLE_TAG.findall(commentary or "")


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


def comment_message(text: str) -> tuple[str, list[dict]]:
    """Comments take plain text; a mention is its name plus an attribute pointing at the organisation."""
    out, attributes, position, length = [], [], 0, 0
    text = unicodedata.normalize("NFC", text)
    for match in MENTION.finditer(text):
        before = text[position:match.start()]
        out.append(before)
        length += len(before)
        name = match.group(1)
        attributes.append({"start": length, "length": len(name),
                           "value": {"organization": {"organization": match.group(2)}}})
        out.append(name)
        length += len(name)
        position = match.end()
    out.append(text[position:])
    return "".join(out), attributes
