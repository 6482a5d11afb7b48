"""History and problems: what went out (with links to it on the platform), and what did not.

/history lists sent posts, newest first, 50 a page, through the same library function as
`campaign history`. /problems lists failed, unknown and missed posts nobody has acknowledged
yet; an editor retries, resolves or acknowledges them there with the library functions behind
`campaign retry`, `campaign resolve` and `campaign acknowledge` (same rules, same messages).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaign.errors import CampaignError, NotFoundError
from campaign.preview.model import PLATFORM_NAMES
from campaign.queue import manual
from campaign.queue.status import history as sent_history
from campaign.queue.tables import PROBLEM_STATES, accounts, campaigns, scheduled_posts, sent_parts
from web.app import _t, action, page, refuse, render, see_other, workspace
from web.calendar import STATE_LABELS
from web.notices import back_to, notice, with_flags


PER_PAGE = 50
MAX_PAGE = 100_000  # far beyond any real history; keeps OFFSET a sane number
TEXT_LENGTH = 120  # characters of a post's first part shown in a list
MAX_URL_LENGTH = 500  # remote_url's column
# What the confirmation after an action may say: only these flags are read back from the query.

posts = scheduled_posts.c


# --- shared helpers ----------------------------------------------------------------------------------

def web_url(value: str | None) -> str | None:
    """The value when it is an http(s) URL that may become a link; None for anything else
    (javascript:, data:, relative paths, text with spaces or control characters)."""
    if not value or len(value) > 2000 or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def shorten(text: str, limit: int = TEXT_LENGTH) -> str:
    """One line of at most `limit` characters (an ellipsis where it was cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


def page_number(value: str | None) -> int:
    return min(int(value), MAX_PAGE) if value and value.isdigit() and 0 < int(value) <= 10**9 else 1


@dataclass(frozen=True)
class Lookups:
    """The small tables every list needs: account colours, campaign names and zones."""
    colours: dict[str, str]  # account name -> "acct-N"
    platforms: dict[str, str]
    campaign_names: dict[str, str]
    campaign_zones: dict[str, str]

    def zone(self, campaign_id: str | None, fallback: str) -> str:
        zone = self.campaign_zones.get(campaign_id or "", fallback) or "UTC"
        try:
            ZoneInfo(zone)
        except (ValueError, LookupError):
            return "UTC"
        return zone

    def common_zone(self) -> str:
        """The campaigns' zone when they share one (dates in the filters mean days there), else UTC."""
        zones = set(self.campaign_zones.values())
        return self.zone(None, zones.pop()) if len(zones) == 1 else "UTC"


def lookups(connection) -> Lookups:
    rows = connection.execute(select(accounts.c.name, accounts.c.platform).order_by(accounts.c.name)).all()
    found = connection.execute(select(campaigns.c.id, campaigns.c.name, campaigns.c.timezone)
                               .order_by(campaigns.c.id)).all()
    return Lookups({name: f"acct-{index % 8}" for index, name in enumerate(sorted(r.name for r in rows))},
                   {row.name: row.platform for row in rows},
                   {row.id: row.name for row in found}, {row.id: row.timezone for row in found})


def pager(request: Request, number: int, total: int) -> dict:
    """Page links that keep the other query values (built here, escaped by the template)."""
    pages = max(1, math.ceil(total / PER_PAGE))
    kept = [(key, value) for key, value in request.query_params.multi_items() if key not in ("page", "done", "id")]

    def link(to: int) -> str:
        return request.url.path + "?" + urlencode(kept + [("page", str(to))])

    return {"number": number, "pages": pages, "total": total,
            "previous": link(number - 1) if number > 1 else None,
            "next": link(number + 1) if number < pages else None,
            "first": link(1) if number > pages else None}


# --- history -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SentRow:
    id: int
    sent_at: datetime | None
    zone: str
    account: str
    colour: str
    platform: str
    campaign_id: str | None
    campaign_name: str | None
    text: str
    url: str | None  # a link (http/https only)
    url_text: str | None  # a remote_url that may not become a link, shown as text
    parts: tuple[tuple[int, str | None, str | None], ...]  # (number, link, text) of thread parts after the first


def _date(value: str | None) -> date | None:
    if not value:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(value)
    return date.fromisoformat(value)


@page("viewer")
def history_page(request: Request) -> Response:
    ws = workspace(request)
    query = request.query_params
    chosen = {"campaign": query.get("campaign") or "", "account": query.get("account") or "",
              "from": query.get("from") or "", "until": query.get("until") or ""}
    number = page_number(query.get("page"))
    with ws.db.transaction() as connection:
        known = lookups(connection)
    zone_name = known.zone(chosen["campaign"], "UTC") if chosen["campaign"] else known.common_zone()
    errors = []
    try:
        low = _date(chosen["from"])
    except ValueError:
        low = None
        errors.append(_t(request, "The start date is not a date (use YYYY-MM-DD)."))
    try:
        high = _date(chosen["until"])
    except ValueError:
        high = None
        errors.append(_t(request, "The end date is not a date (use YYYY-MM-DD)."))
    if chosen["campaign"] and chosen["campaign"] not in known.campaign_names:
        errors.append(_t(request, "There is no such campaign."))
    if chosen["account"] and chosen["account"] not in known.colours:
        errors.append(_t(request, "There is no such account."))
    rows, total = [], 0
    if not errors:
        zone = ZoneInfo(zone_name)
        start = datetime.combine(low, time(0), tzinfo=zone) if low else None
        end = datetime.combine(high + timedelta(days=1), time(0), tzinfo=zone) if high else None
        try:
            sent, total = sent_history(ws.db, start=start, end=end, account=chosen["account"] or None,
                                       campaign=chosen["campaign"] or None, limit=PER_PAGE,
                                       offset=(number - 1) * PER_PAGE, now=ws.now())
        except NotFoundError:  # removed between the two reads
            errors.append(_t(request, "There is no such campaign or account."))
            sent = []
        rows = _sent_rows(ws.db, sent, known)
    return render(request, "history.html", status_code=400 if errors else 200, rows=rows, errors=errors,
                  chosen=chosen, zone=zone_name, known=known, pager=pager(request, number, total))


def _sent_rows(db, sent, known: Lookups) -> list[SentRow]:
    threads = [post.id for post in sent if post.parts > 1]
    links: dict[int, list] = {}
    if threads:
        with db.transaction() as connection:
            for row in connection.execute(
                    select(sent_parts.c.post_id, sent_parts.c.part_index, sent_parts.c.remote_url)
                    .where(sent_parts.c.post_id.in_(threads), sent_parts.c.part_index > 0)
                    .order_by(sent_parts.c.post_id, sent_parts.c.part_index)):
                url = web_url(row.remote_url)
                links.setdefault(row.post_id, []).append(
                    (row.part_index + 1, url, None if url else row.remote_url))
    rows = []
    for post in sent:
        url = web_url(post.remote_url)
        rows.append(SentRow(
            post.id, post.sent_at, known.zone(post.campaign_id, post.timezone), post.account,
            known.colours.get(post.account, "acct-0"), PLATFORM_NAMES.get(post.platform or "", post.platform or ""),
            post.campaign_id, known.campaign_names.get(post.campaign_id or ""), shorten(post.first_text),
            url, None if url else post.remote_url, tuple(links.get(post.id, ()))))
    return rows


# --- problems ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProblemRow:
    id: int
    state: str
    message: str
    due_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    zone: str
    account: str
    colour: str
    campaign_id: str | None
    campaign_name: str | None
    text: str
    attempts: int


def _problems(db, *, everything: bool, number: int) -> tuple[list[ProblemRow], int]:
    """Failed, unknown and missed posts (only the unacknowledged ones unless `everything`), the most
    recently changed first, one page of them, and how many there are."""
    where = posts.state.in_(PROBLEM_STATES)
    if not everything:
        where = where & posts.acknowledged_at.is_(None)
    with db.transaction() as connection:
        known = lookups(connection)
        total = connection.execute(select(func.count()).select_from(scheduled_posts).where(where)).scalar()
        rows = connection.execute(
            select(posts.id, posts.state, posts.last_error, posts.due_at, posts.updated_at, posts.acknowledged_at,
                   posts.timezone, posts.account, posts.campaign_id, posts.payload, posts.attempts)
            .where(where).order_by(posts.updated_at.desc(), posts.id.desc())
            .limit(PER_PAGE).offset((number - 1) * PER_PAGE)).all()
    problems = []
    for row in rows:
        parts = (row.payload or {}).get("parts") or [{}]
        problems.append(ProblemRow(
            row.id, row.state, row.last_error or "", row.due_at, row.updated_at, row.acknowledged_at,
            known.zone(row.campaign_id, row.timezone), row.account, known.colours.get(row.account, "acct-0"),
            row.campaign_id, known.campaign_names.get(row.campaign_id or ""),
            shorten(str(parts[0].get("text", ""))), row.attempts))
    return problems, total


@page("viewer")
def problems_page(request: Request) -> Response:
    ws = workspace(request)
    query = request.query_params
    everything = query.get("all") == "1"
    number = page_number(query.get("page"))
    rows, total = _problems(ws.db, everything=everything, number=number)
    return render(request, "problems.html", rows=rows, everything=everything, notice=notice(request),
                  state_labels=STATE_LABELS, pager=pager(request, number, total))


def _back(form, flag: str, post_id: int) -> Response:
    """Back to the form's page (the problems list, or the post's own page) with the outcome."""
    default = "/problems?all=1" if form.get("all") == "1" else "/problems"
    return see_other(with_flags(back_to(form, default), done=flag, id=post_id))


def _refused(request: Request, error: CampaignError) -> Response:
    status = 404 if isinstance(error, NotFoundError) else 409
    return refuse(request, status, _t(request, "The queue did not accept this: %(reason)s") % {"reason": str(error)})


def _one(request: Request) -> manual.Selection:
    return manual.Selection(ids=(request.path_params["post_id"],))


@action("editor")
def retry(request: Request, form) -> Response:
    ws = workspace(request)
    try:
        states = manual.retry_many(ws.db, _one(request), ws.now())
    except CampaignError as error:
        return _refused(request, error)
    flag = "unchanged" if not states else "retried" if "queued" in states.values() else "retried_awaiting"
    return _back(form, flag, request.path_params["post_id"])


@action("editor")
def resolve(request: Request, form) -> Response:
    ws = workspace(request)
    post_id = request.path_params["post_id"]
    try:
        if form.get("outcome") == "not_sent":
            ids = manual.resolve_not_sent(ws.db, _one(request), ws.now())
            return _back(form, "not_sent" if ids else "unchanged", post_id)
        url = str(form.get("url") or "").strip()
        if not url:
            return refuse(request, 400, _t(request, "Enter the URL where the post appeared."))
        if len(url) > MAX_URL_LENGTH or web_url(url) is None or not url.startswith(("https://", "http://")):
            return refuse(request, 400, _t(request, "That is not the URL of a post: it must start with "
                                                    "https:// or http:// (at most 500 characters)."))
        manual.resolve_sent(ws.db, post_id, url, ws.now())
    except CampaignError as error:
        return _refused(request, error)
    return _back(form, "sent", post_id)


@action("editor")
def acknowledge(request: Request, form) -> Response:
    ws = workspace(request)
    try:
        ids = manual.acknowledge(ws.db, _one(request), ws.now())
    except CampaignError as error:
        return _refused(request, error)
    return _back(form, "acknowledged" if ids else "unchanged", request.path_params["post_id"])


routes = [
    Route("/history", history_page),
    Route("/problems", problems_page),
    Route("/posts/{post_id:int}/retry", retry, methods=["POST"]),
    Route("/posts/{post_id:int}/resolve", resolve, methods=["POST"]),
    Route("/posts/{post_id:int}/acknowledge", acknowledge, methods=["POST"]),
]
