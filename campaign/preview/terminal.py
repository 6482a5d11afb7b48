"""A preview in the terminal (rich): each part's final text, its length against the limit, its links
as the platform shows them, and its images with their alt text. A post's text is printed as text:
never read as rich markup, and control characters (terminal escapes, bidi overrides) shown escaped."""
from __future__ import annotations

import re

from campaign.preview.i18n import Gettext, identity
from campaign.preview.model import PostView
from campaign.preview.render import STATE_LABELS, format_when

_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """text with control characters (but newline and tab) and bidi overrides as \\x.. / \\u.... escapes."""
    return _UNPRINTABLE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def print_view(view: PostView, console, *, gettext: Gettext | None = None, locale: str = "en") -> None:
    from rich.text import Text

    _ = gettext or identity
    account = view.account
    state = _(STATE_LABELS[view.state]) if view.state in STATE_LABELS else view.state
    header = Text()
    header.append(f"#{view.id} ", style="bold")
    header.append(f"{account.platform_name} {printable(account.shown_handle)}", style="bold")
    header.append(f" ({printable(account.name)}" + (f", {account.host}" if account.platform != "x" else "") + ")")
    header.append(f" — {_('Scheduled for')} {format_when(view.local_time, locale)} {view.timezone}")
    header.append(f" — {state}", style="red" if view.state in ("failed", "missed", "rejected", "unknown") else "")
    console.print(header)
    details = []
    if view.campaign_id:
        origin = f"{_('Campaign')} {printable(view.campaign_id)}"
        if view.post_id:
            origin += f" / {printable(view.post_id)}"
        if view.variant:
            origin += ", " + _("variant %(number)s") % {"number": view.variant + 1}
        details.append(origin)
    if len(view.parts) > 1:
        details.append(_("Thread of %(count)s parts") % {"count": len(view.parts)})
    if view.reply_to_url:
        details.append(f"{_('Reply to')} {printable(view.reply_to_url)}")
    if view.remote_url:
        details.append(f"{_('Posted at')} {printable(view.remote_url)}")
    if details:
        console.print(Text(" · ".join(details), style="dim"))
    if view.last_error:
        console.print(Text(f"{_('Last error')}: {printable(view.last_error)}", style="red"))
    for part in view.parts:
        console.print()
        prefix = f"{part.number}/{part.total} " if part.total > 1 else ""
        console.print(Text(prefix + printable(part.text).replace("\n", "\n" + " " * len(prefix))))
        indent = " " * max(len(prefix), 2)
        length = Text(indent)
        length.append(f"{part.length}/{part.limit}", style="bold red" if part.over else "bold")
        length.append(f" {_('characters')}")
        if part.over:
            length.append(" — " + _("%(count)s over the limit") % {"count": -part.remaining}, style="bold red")
        console.print(length)
        for link in part.links:
            line = Text(f"{indent}{_('link')} ")
            line.append(printable(link.text), style="blue")
            line.append(f" → {printable(link.source)}")
            if link.counted:
                line.append(f" ({_('counts as %(count)s characters') % {'count': link.counted}})", style="dim")
            console.print(line)
        for media in part.media:
            if media.alt_missing:
                console.print(Text(f"{indent}⚠ {_('image')} {printable(media.name)} — {_('Alt text missing')}",
                                   style="bold yellow"))
            else:
                console.print(Text(f"{indent}{_('image')} {printable(media.name)} — {_('Alt text')}: "
                                   f"{printable(media.alt)}"))
            if not media.exists:
                console.print(Text(f"{indent}  {_('File not found')}: {printable(media.path)}", style="red"))
