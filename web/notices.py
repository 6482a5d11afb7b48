"""The message shown after an action, carried across its redirect (303) as a few query flags.

An action (approve, reject, retry, resolve, acknowledge) sends the browser back to the page its
form was on, with `done=…`, `id=…` and counts in the query; `notice` turns only those known words
and numbers into a translated message. Nothing of the query's own text is ever shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request

from web import i18n
from web.app import locale_of, safe_next

FLAGS = ("done", "id", "more", "queued", "waiting", "held", "changed", "skipped")
SINGLE = ("queued", "waiting", "already", "still_rejected", "changed", "not_awaiting", "rejected",
          "retried", "retried_awaiting", "sent", "not_sent", "acknowledged", "unchanged")
MAX_ID_DIGITS = 10


@dataclass(frozen=True)
class Notice:
    kind: str  # ok | error | "" (information)
    text: str


def _number(query, name: str) -> int:
    value = query.get(name) or ""
    return int(value) if value.isdigit() and len(value) <= MAX_ID_DIGITS else 0


def notice(request: Request) -> Notice | None:
    """The message of the decision that led to this page, from its query flags; None without one.
    Only known flags and numbers are read: nothing of the query is repeated as text."""
    query = request.query_params
    done = query.get("done")
    catalogue = i18n.translations(locale_of(request))
    _, ngettext = catalogue.gettext, catalogue.ngettext
    if done == "none":
        return Notice("error", _("Select one or more posts to approve."))
    if done == "bulk":
        counts = {name: _number(query, name) for name in ("queued", "waiting", "held", "changed", "skipped")}
        lines = []
        if counts["queued"]:
            lines.append(ngettext("%(count)d post approved and queued.", "%(count)d posts approved and queued.",
                                  counts["queued"]) % {"count": counts["queued"]})
        if counts["waiting"]:
            lines.append(ngettext("%(count)d approval recorded for a post that needs more approvers.",
                                  "%(count)d approvals recorded for posts that need more approvers.",
                                  counts["waiting"]) % {"count": counts["waiting"]})
        if counts["held"]:
            lines.append(ngettext("%(count)d post stays rejected by someone else.",
                                  "%(count)d posts stay rejected by someone else.", counts["held"])
                         % {"count": counts["held"]})
        if counts["changed"]:
            lines.append(ngettext("%(count)d post changed in posts.yaml meanwhile: your approval of it does not "
                                  "count. Look at it again.",
                                  "%(count)d posts changed in posts.yaml meanwhile: your approval of them does "
                                  "not count. Look at them again.", counts["changed"]) % {"count": counts["changed"]})
        if counts["skipped"]:
            lines.append(ngettext("%(count)d post was no longer awaiting approval: nothing was recorded for it.",
                                  "%(count)d posts were no longer awaiting approval: nothing was recorded for them.",
                                  counts["skipped"]) % {"count": counts["skipped"]})
        if not lines:
            return None
        trouble = counts["changed"] or counts["skipped"] or counts["held"]
        return Notice("error" if trouble else "ok", " ".join(lines))
    if done not in SINGLE:
        return None
    post = _number(query, "id")
    if not post:
        return None
    more = _number(query, "more")
    values = {"id": post, "count": more}
    if done == "queued":
        return Notice("ok", _("Post #%(id)d is approved and queued: it goes out at its time.") % values)
    if done == "waiting":
        return Notice("ok", ngettext("Your approval of post #%(id)d is recorded; it still needs %(count)d more "
                                     "approval.",
                                     "Your approval of post #%(id)d is recorded; it still needs %(count)d more "
                                     "approvals.", more) % values)
    if done == "already":
        return Notice("", ngettext("You had already approved post #%(id)d, and each person counts once: it "
                                   "still needs %(count)d approval by someone else.",
                                   "You had already approved post #%(id)d, and each person counts once: it "
                                   "still needs %(count)d approvals by others.", more) % values)
    if done == "still_rejected":
        return Notice("error", _("Your approval of post #%(id)d is recorded, but it stays rejected until everyone "
                                 "who rejected it approves it.") % values)
    if done == "changed":
        return Notice("error", _("Post #%(id)d changed in posts.yaml while you were deciding: your decision is on "
                                 "the record for the earlier version and does not count. Look at it again.") % values)
    if done == "not_awaiting":
        return Notice("error", _("Post #%(id)d is no longer awaiting approval: nothing was recorded.") % values)
    if done == "rejected":
        return Notice("ok", _("Post #%(id)d is rejected: it is not sent unless you approve it or the post "
                              "changes.") % values)
    if done == "retried":
        return Notice("ok", _("Post #%(id)d is queued again; the next run sends it.") % values)
    if done == "retried_awaiting":
        return Notice("", _("Post #%(id)d has more time, but it needs approval before it is sent.") % values)
    if done == "sent":
        return Notice("ok", _("Post #%(id)d is marked as sent.") % values)
    if done == "not_sent":
        return Notice("ok", _("Post #%(id)d is marked as not sent; it will not be posted.") % values)
    if done == "acknowledged":
        return Notice("ok", _("Post #%(id)d is acknowledged: it is no longer counted as a problem.") % values)
    return Notice("", _("Nothing changed for post #%(id)d.") % values)


def with_flags(target: str, **flags) -> str:
    """`target` (already a safe local path) with the flags of an action, replacing earlier ones."""
    parts = urlsplit(target)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in FLAGS]
    added = [(k, str(v)) for k, v in flags.items() if v not in (None, 0, "")]
    return urlunsplit(("", "", parts.path or "/", urlencode(kept + added), ""))


def back_to(form, default: str) -> str:
    """Where an action returns: the form's `next` (a path on this site only), else `default`."""
    value = str(form.get("next") or "")
    return safe_next(value) if value else default
