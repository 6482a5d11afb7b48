"""The archive for readers: every archived post, paged and filtered (account, campaign, kind, dates,
search), newest first, with an export of exactly what the filter shows (CSV for Excel, or JSONL).
The same filter read from the same query string makes the charts of web.archive_report.

Any signed-in person may read it (viewer). Texts are shown as the `archive render` widget shows
them: links (only http(s)) to their expanded target, #tags and @mentions linked to the platform.
"""
from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from web.app import _t, page, render, workspace
from web.history import PER_PAGE, lookups, page_number, pager
from web.i18n import N_

KIND_LABELS = {"post": N_("post"), "reply": N_("reply"), "repost": N_("repost"), "quote": N_("quote")}
KINDS = tuple(KIND_LABELS)
MAX_SEARCH = 200
CHUNK = 64 * 1024
EXPORTS = {"csv": ("text/csv; charset=utf-8", "csv"), "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl")}


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def archived_accounts(db) -> list[str]:
    from archive.store import migrate
    from archive.tables import posts

    migrate(db)  # a workspace whose archive was never used has no archive tables yet
    with db.transaction() as connection:
        return sorted(connection.execute(select(posts.c.account).distinct()).scalars(), key=str.lower)


@dataclass(frozen=True)
class ArchiveFilter:
    """What the archive's filter form asked for, read from the query string."""
    post_filter: object  # archive.records.PostFilter
    chosen: dict[str, str]  # the values as chosen, for the form and for links that keep them
    zone: str  # the days of from/until are days in this zone
    accounts: list[str]  # the archive's accounts, for the form
    campaigns: dict[str, str]  # the queue's campaigns (id -> name), for the form
    errors: list[str]

    def query(self, **more) -> str:
        """The chosen values as a query string (empty ones left out), with `more` added."""
        return urlencode([(key, value) for key, value in {**self.chosen, **more}.items() if value])


def chosen_filter(request: Request, db) -> ArchiveFilter:
    from archive.records import PostFilter

    query = request.query_params
    with db.transaction() as connection:
        known_lookups = lookups(connection)
    zone = known_lookups.common_zone()
    campaigns = known_lookups.campaign_names
    known = archived_accounts(db)
    chosen = {"account": query.get("account", ""), "campaign": query.get("campaign", ""),
              "kind": query.get("kind", ""), "from": query.get("from", ""), "until": query.get("until", ""),
              "search": query.get("search", "")[:MAX_SEARCH], "private": "1" if query.get("private") else ""}
    errors = []
    if chosen["account"] and chosen["account"] not in known:
        errors.append(_t(request, "There is no such account in the archive."))
    if chosen["campaign"] and chosen["campaign"] not in campaigns:
        errors.append(_t(request, "There is no such campaign."))
    if chosen["kind"] and chosen["kind"] not in KINDS:
        errors.append(_t(request, "Unknown kind of post."))
    start, end = _day(chosen["from"]), _day(chosen["until"])
    if (chosen["from"] and start is None) or (chosen["until"] and end is None):
        errors.append(_t(request, "Write dates as year-month-day, like 2015-01-31."))
    local = ZoneInfo(zone)
    search = chosen["search"].strip() or None
    if search:
        from archive.search import SearchSyntaxError, parse

        try:
            parse(search)
        except SearchSyntaxError as error:
            errors.append(str(error))
            search = None
    post_filter = PostFilter(
        accounts=(chosen["account"],) if chosen["account"] and not errors else (),
        campaign=chosen["campaign"] if chosen["campaign"] in campaigns else None,
        kinds=(chosen["kind"],) if chosen["kind"] in KINDS else (),
        since=datetime.combine(start, time(0), local) if start else None,
        until=datetime.combine(end + timedelta(days=1), time(0), local) if end else None,
        search=search, include_private=bool(chosen["private"]), newest_first=True)
    return ArchiveFilter(post_filter, chosen, zone, known, campaigns, errors)


def _page_of_posts(db, post_filter, number: int):
    from dataclasses import replace

    from archive.render import repost_prefix, safe_href, segments
    from archive.store import count_posts, query_posts

    total = count_posts(db, post_filter)
    wanted = replace(post_filter, limit=number * PER_PAGE)
    rows = []
    for index, post in enumerate(query_posts(db, wanted, with_raw=False)):
        if index >= (number - 1) * PER_PAGE:
            rows.append({"post": post, "segments": segments(post), "url": safe_href(post.url),
                         "reposted": repost_prefix(post) if post.kind == "repost" else ""})
    return rows, total


def _archive_page(request: Request, chosen: ArchiveFilter, rows: list, pager_: dict, *, status_code: int = 200,
                  errors: list[str] | None = None) -> Response:
    return render(request, "archive.html", status_code=status_code, rows=rows, chosen=chosen.chosen,
                  zone=chosen.zone, accounts=chosen.accounts, campaigns=chosen.campaigns.items(), kinds=KINDS,
                  errors=chosen.errors if errors is None else errors, pager=pager_, export_query=chosen.query(),
                  kind_labels=KIND_LABELS)


@page("viewer")
def archive_page(request: Request) -> Response:
    ws = workspace(request)
    chosen = chosen_filter(request, ws.db)
    number = page_number(request.query_params.get("page"))
    rows, total = ([], 0) if chosen.errors else _page_of_posts(ws.db, chosen.post_filter, number)
    return _archive_page(request, chosen, rows, pager(request, number, total))


def _export_file(ws, post_filter, kind: str):
    from archive.export import Rows, write_csv, write_jsonl
    from archive.store import query_posts

    # Written whole before the first byte is sent (one read transaction), kept on disk past 8 MB.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+b")
    text = io.TextIOWrapper(spool, encoding="utf-8-sig" if kind == "csv" else "utf-8", newline="")
    posts = query_posts(ws.db, post_filter, with_raw=kind == "jsonl")
    if kind == "csv":
        write_csv(posts, text, Rows(zone=ZoneInfo("Europe/Amsterdam"), now=ws.now()), delimiter=";", excel=True)
    else:
        write_jsonl(posts, text)
    text.flush()
    text.detach()
    spool.seek(0)
    return spool


@page("viewer")
def archive_export(request: Request) -> Response:
    ws = workspace(request)
    kind = request.path_params["kind"]
    chosen = chosen_filter(request, ws.db)
    if chosen.errors or kind not in EXPORTS:
        return _archive_page(request, chosen, [], pager(request, 1, 0), status_code=400,
                             errors=chosen.errors or [_t(request, "Unknown export format.")])
    spool = _export_file(ws, chosen.post_filter, kind)

    def chunks():
        try:
            while block := spool.read(CHUNK):
                yield block
        finally:
            spool.close()

    media_type, suffix = EXPORTS[kind]
    return StreamingResponse(chunks(), media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="archief-{ws.now():%Y%m%d}.{suffix}"'})


routes = [
    Route("/archive", archive_page),
    Route("/archive/export.{kind}", archive_export),
]
