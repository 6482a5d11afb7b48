"""The archive's charts in the workspace: /archive/report draws what `archive report --html` draws
(archive.stats.collect for the numbers, archive.report for the sections, archive.charts for the
SVG), for the posts the archive browser's filter selects, per month or per week. Any signed-in
person may read it (viewer).

The filter is the archive browser's (web.browse.chosen_filter: account, campaign, kind, dates,
search), kept in the query string, so the two pages link to each other with the same selection and
everything works without JavaScript. The report's texts come from its own catalogue
(archive/locale), shared with the static report; the page around them from the workspace's.
/archive/report/export.csv gives one table of the same numbers as `archive stats --format csv
--excel --section …` does.
"""
from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.app import _t, locale_of, page, render, workspace
from web.browse import KIND_LABELS, KINDS, ArchiveFilter, chosen_filter
from web.i18n import N_

PERIODS = {"month": N_("month"), "week": N_("week")}
# The tables an export may hold (archive stats --section) and how the page names them.
EXPORT_SECTIONS = {"periods": N_("per period"), "accounts": N_("per account"), "campaigns": N_("per campaign"),
                   "posts": N_("top posts"), "hashtags": N_("hashtags"), "mentions": N_("mentions"),
                   "links": N_("links")}
TOP = 10


def _period(request: Request, errors: list[str]) -> str:
    value = request.query_params.get("period") or "month"
    if value not in PERIODS:
        errors.append(_t(request, "Choose per month or per week."))
        return "month"
    return value


def _collected(ws, chosen: ArchiveFilter):
    from archive.stats import collect

    return collect(ws.db, chosen.post_filter, zone=ZoneInfo(chosen.zone), top=TOP)


def _page(request: Request, chosen: ArchiveFilter, period: str, errors: list[str], report: dict | None = None,
          status_code: int = 200) -> Response:
    report = report or {"sections": [], "top_posts": [], "has_posts": False, "selection": [], "posts": 0,
                        "rt": None}
    return render(request, "archive_report.html", status_code=status_code, chosen=chosen.chosen, period=period,
                  periods=PERIODS, accounts=chosen.accounts, campaigns=chosen.campaigns.items(), kinds=KINDS,
                  kind_labels=KIND_LABELS, errors=errors, total=report["posts"], archive_query=chosen.query(),
                  export_query=chosen.query(period=period), export_sections=EXPORT_SECTIONS,
                  sections=report["sections"], top_posts=report["top_posts"], has_posts=report["has_posts"],
                  selection=report["selection"], rt=report["rt"])


@page("viewer")
def report_page(request: Request) -> Response:
    from archive.report import build

    ws = workspace(request)
    chosen = chosen_filter(request, ws.db)
    errors = list(chosen.errors)
    period = _period(request, errors)
    if errors:
        return _page(request, chosen, period, errors)
    report = build(_collected(ws, chosen), locale=locale_of(request), top=TOP, units=(period,),
                   campaign_names=chosen.campaigns, command_line=False)
    return _page(request, chosen, period, errors, report)


@page("viewer")
def report_export(request: Request) -> Response:
    """One table of the page's numbers as CSV for (Dutch) Excel: ';', a BOM, formula-like cells
    made harmless, long ids kept exact (campaign.csvexcel)."""
    from archive.stats_tables import csv_table
    from campaign.csvexcel import ENCODING, SEPARATOR, write_csv

    ws = workspace(request)
    chosen = chosen_filter(request, ws.db)
    errors = list(chosen.errors)
    period = _period(request, errors)
    section = request.query_params.get("section") or "periods"
    if section not in EXPORT_SECTIONS:
        errors.append(_t(request, "Unknown table."))
    if errors:
        return _page(request, chosen, period, errors, status_code=400)
    stats = _collected(ws, chosen).stats(period)
    header, rows = csv_table(stats, section, ZoneInfo(chosen.zone))
    text = io.StringIO(newline="")
    write_csv(text, header, [[str(cell) for cell in row] for row in rows], delimiter=SEPARATOR, excel=True,
              id_columns=[header.index("id")] if "id" in header else ())
    name = f"archief-{section}{'-' + period if section == 'periods' else ''}-{ws.now():%Y%m%d}.csv"
    return Response(text.getvalue().encode(ENCODING), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


routes = [
    Route("/archive/report", report_page),
    Route("/archive/report/export.csv", report_export),
]
