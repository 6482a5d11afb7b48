"""`archive render`: the timeline widget (a self-contained page, an embeddable fragment, or numbered pages)."""
from __future__ import annotations

from pathlib import Path

import click

from campaign.options import parse_now

from .media import media_dir_option, media_lookup
from .show import (DEFAULT_LIMIT, archive_options, build_filter, filter_options, open_for_accounts, paging_of,
                   read_page, relative_formatter, report_paging, time_options, zone_of)


@click.command("render")
@click.argument("accounts", nargs=-1, metavar="[ACCOUNT]...")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write one page (or with --fragment, the section alone) here ('-' for standard output).")
@click.option("--pages", "pages_folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="Write numbered pages into this folder instead: page-1.html (the newest --limit posts), "
                   "page-2.html, …, linked newer/older; every post.")
@click.option("--fragment", is_flag=True, help="Only the <section> to include in another page (no <html>, no CSS).")
@click.option("--title", default="Tijdlijn", show_default=True, help="The page's title and the section's label.")
@media_dir_option
@archive_options
@time_options
@filter_options
def command(accounts, html_file, pages_folder, fragment, title, media_dir, db_url, posts_file, locale, zone_name, now, units,
            limit, page, all_posts, **filters):
    """Render the archived timeline as HTML: handle, text with links, relative time, newest first.

    The page has no scripts and no external assets; post text is always escaped, and only
    http(s) links become links. Re-render (e.g. from cron) to keep the relative times fresh.
    One page holds the newest 200 posts unless --limit, --page or --all say otherwise (without
    them, a line on standard error says when there are more); --pages DIR writes them all as
    numbered pages. Images show with their alt text from the local copies `archive media fetch`
    made (linked relative to the page); images not fetched, and videos, are links.

    Example:

    \b
        archive render teamsaantstuur --html site/tijdlijn.html --fragment --locale nl --limit 20
        archive render teamsaantstuur --pages site/tijdlijn --limit 50
    """
    from archive.render import render_html, write_pages

    if (html_file is None) == (pages_folder is None):
        raise click.UsageError("give --html FILE (one page) or --pages DIR (numbered pages)")
    if pages_folder is not None:
        if fragment:
            raise click.UsageError("--fragment is one piece to include (with --html); --pages writes whole pages")
        if all_posts or page or limit == 0:
            raise click.UsageError("--pages writes every post, --limit N to a page; leave out --all and --page")
    paging = paging_of(limit, page, all_posts)
    zone = zone_of(zone_name)
    now = parse_now(now, zone)
    relative = relative_formatter(locale, zone, units)
    database, post_filter = open_for_accounts(db_url, posts_file, accounts, build_filter((), zone=zone, **filters))
    try:
        media = media_lookup(database, media_dir, pages_folder if pages_folder is not None else
                             Path.cwd() if str(html_file) == "-" else html_file.parent)
        if pages_folder is not None:
            from archive.store import count_posts, query_flat

            total = count_posts(database, post_filter)
            count = write_pages(query_flat(database, post_filter), pages_folder, per_page=limit or DEFAULT_LIMIT,
                                total=total, now=now, relative=relative, title=title, language=locale,
                                media=media)
            click.echo(f"{pages_folder}: {count:,} page{'s' * (count != 1)} of at most {limit or DEFAULT_LIMIT:,} "
                       f"posts ({total:,} posts; page-1.html is the newest)", err=True)
            return
        posts, total = read_page(database, post_filter, paging)
        posts = list(posts)
        page_html = render_html(posts, now=now, relative=relative, fragment=fragment, title=title, language=locale,
                                media=media)
    finally:
        database.engine.dispose()
    if total is not None and not posts and paging.page > 1:
        report_paging(0, total, paging)  # a page past the end: an error, and nothing written
    if str(html_file) == "-":
        click.echo(page_html, nl=False)
    else:
        html_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = html_file.with_name(html_file.name + ".tmp")
        temporary.write_text(page_html, encoding="utf-8")
        temporary.replace(html_file)  # a web server never sees half a file
    if limit is None and page is None:  # said only when the default cut the timeline short: an
        # explicit --limit is a choice (e.g. a newest-20 fragment from cron, which would mail every line)
        report_paging(len(posts), total, paging, prefix="" if str(html_file) == "-" else f"{html_file}: ",
                      hints=["numbered pages: --pages DIR"])
