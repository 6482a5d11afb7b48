"""`archive report --html FILE`: the statistics as one self-contained page with charts (archive.report)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from campaign.options import now_option, parse_now, timezone_option

from .exporting import export_filter_options
from .show import archive_file_options, build_filter, open_for_accounts, zone_of


def _selection(filters) -> dict:
    """The filters the page names under its title (--account shows as the accounts found)."""
    shown = {}
    for name in ("platform", "hashtag", "campaign", "search"):
        if filters.get(name):
            shown[name] = f"--{name} {filters[name]}"
    if filters.get("kinds"):
        shown["kinds"] = "--kind " + ", ".join(filters["kinds"])
    if filters.get("include_deleted"):
        shown["include_deleted"] = "--include-deleted"
    return shown


@click.command("report")
@click.option("--html", "html_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the page here ('-' for standard output).")
@click.option("--locale", type=click.Choice(["nl", "en"]), default="nl", show_default=True,
              help="Language of the labels, dates and numbers.")
@click.option("--title", default=None, help="The page's title [default: Archiefrapport / Archive report].")
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True,
              help="How many top posts, hashtags, mentions and links to show.")
@timezone_option("IANA zone for days, weeks and months [env ARCHIVE_TIMEZONE; default: Europe/Amsterdam].")
@now_option("--timezone")
@export_filter_options
@archive_file_options
def command(html_file, locale, title, top, zone_name, now, accounts, since, until, db_url, posts_file, **filters):
    """Write a report of the archive as one HTML page: posts and engagement per month and per week
    as charts (each with its numbers as a table and a one-line summary), per account, per campaign,
    the top posts and the top hashtags, mentions and links.

    The page has no scripts and no external assets (the charts are SVG in the page): mail it,
    put it on a web site or open it from disk. The same filters as `archive stats`.

    Example:

    \b
        archive report --html rapport.html --account teamsaantstuur --from 2015-01-01 --locale nl
    """
    from archive.report import render_report
    from archive.stats import collect

    zone = zone_of(zone_name)
    now = parse_now(now, zone)
    selection = _selection(filters)
    post_filter = replace(build_filter((), zone=zone, since=since, until=until, **filters), newest_first=False)
    database, post_filter = open_for_accounts(db_url, posts_file, accounts, post_filter)
    try:
        collected = collect(database, post_filter, zone=zone, top=top)
    finally:
        database.engine.dispose()
    page = render_report(collected, locale=locale, title=title, top=top, selection=selection, now=now)
    if str(html_file) == "-":
        click.echo(page, nl=False)
        return
    html_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = html_file.with_name(html_file.name + ".tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(html_file)  # a web server never sees half a file
    click.echo(f"{html_file}: {collected_posts(collected)} posts, {len(page.encode()) / 1e6:.2f} MB", err=True)


def collected_posts(collected) -> int:
    return sum(group.totals.posts for _, groups in collected.days for group in groups)
