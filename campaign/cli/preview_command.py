"""`campaign preview ID`: one queued post as it will look on its platform, in the terminal or as a
self-contained HTML page for review by mail. Only click and campaign.options at import time: the
preview package (jinja2, Babel, rich, and atproto for Bluesky posts) is imported when it runs."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from campaign.options import db_option, posts_file_options, resolve_posts_file


@click.command("preview")
@click.argument("post_id", metavar="ID", type=click.IntRange(min=1))
@posts_file_options()
@db_option()
@click.option("--html", "html_out", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a self-contained HTML page (styles and images inside; opens offline in any browser) "
                   "to OUT instead of printing; '-' writes it to stdout.")
@click.option("--locale", type=click.Choice(["nl", "en"]), default="nl", show_default=True,
              help="Language of the labels.")
def preview(post_id, posts_file, db_url, html_out, locale):
    """Show a queued post as it will look on its platform.

    ID is the post's number in the queue (as 'campaign retry' takes it). Prints
    each part's final text (variables filled in, UTM added), its length against
    the platform's limit counted as 'campaign check' counts it, its links as the
    platform shows them and its images with their alt text. --html writes a page
    with an X, Mastodon or Bluesky look instead.

    Example:

    \b
        campaign preview 42
        campaign preview 42 --html voorbeeld-42.html --locale nl
    """
    from campaign.cli import open_existing_database
    from campaign.preview import load_view, translations

    path = resolve_posts_file(posts_file)
    database = open_existing_database(db_url, path)
    try:
        view = load_view(database, post_id, limits=_own_limits(path))
    finally:
        database.engine.dispose()
    gettext = translations(locale)
    if html_out is None:
        from rich.console import Console

        from campaign.preview.terminal import print_view

        print_view(view, Console(file=sys.stdout, soft_wrap=True, highlight=False), gettext=gettext, locale=locale)
        return
    from campaign.preview import standalone_html

    page = standalone_html([view], gettext=gettext, locale=locale)
    if str(html_out) == "-":
        click.echo(page, nl=False)
        return
    _write(html_out, page)
    click.echo(gettext("Preview of #%(id)s written to %(path)s") % {"id": view.id, "path": html_out})


def _own_limits(path: Path) -> dict[str, int]:
    """Accounts' own limits from posts.yaml (Mastodon max_chars), as `campaign check` uses them;
    none when posts.yaml gives none or cannot be read (then the platform's limit applies)."""
    from campaign.errors import CampaignError

    if not path.is_file():
        return {}
    try:
        from campaign.spec.config import load

        cfile, _ = load(path)
    except (CampaignError, OSError):
        return {}
    if cfile is None:
        return {}
    return {name: account.max_chars for name, account in cfile.accounts.items() if account.max_chars}


def _write(path: Path, page: str) -> None:
    from campaign.errors import CampaignError

    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise CampaignError(f"cannot write {path}: {error.strerror or error}") from None
