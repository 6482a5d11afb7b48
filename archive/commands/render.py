"""`archive render --html FILE`: the timeline widget (a self-contained page or an embeddable fragment)."""
from __future__ import annotations

from pathlib import Path

import click

from campaign.options import parse_now

from .show import (archive_options, build_filter, filter_options, query, relative_formatter,
                   time_options, zone_of)


@click.command("render")
@click.argument("accounts", nargs=-1, metavar="[ACCOUNT]...")
@click.option("--html", "html_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the HTML here ('-' for standard output).")
@click.option("--fragment", is_flag=True, help="Only the <section> to include in another page (no <html>, no CSS).")
@click.option("--title", default="Tijdlijn", show_default=True, help="The page's title and the section's label.")
@archive_options
@time_options
@filter_options
def command(accounts, html_file, fragment, title, db_url, posts_file, locale, zone_name, now, units, **filters):
    """Render the archived timeline as HTML: handle, text with links, relative time, newest first.

    The page has no scripts and no external assets; post text is always escaped, and only
    http(s) links become links. Re-render (e.g. from cron) to keep the relative times fresh.

    Example:

    \b
        archive render teamsaantstuur --html site/tijdlijn.html --fragment --locale nl --limit 20
    """
    from archive.render import render_html

    zone = zone_of(zone_name)
    now = parse_now(now, zone)
    relative = relative_formatter(locale, zone, units)
    database, posts = query(db_url, posts_file, build_filter((), zone=zone, **filters), accounts)
    try:
        page = render_html(posts, now=now, relative=relative, fragment=fragment, title=title, language=locale)
    finally:
        dispose = getattr(getattr(database, "engine", None), "dispose", None)
        if dispose:
            dispose()
    if str(html_file) == "-":
        click.echo(page, nl=False)
        return
    html_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = html_file.with_name(html_file.name + ".tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(html_file)  # a web server never sees half a file
