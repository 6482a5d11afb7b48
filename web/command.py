"""`campaign web`: serve the workspace with uvicorn on the queue's database."""
from __future__ import annotations

from pathlib import Path

import click

from campaign.options import db_option, posts_file_options, resolve_posts_file


@click.command("web")
@posts_file_options()
@db_option()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--proxy", "behind_proxy", is_flag=True,
              help="Served behind a reverse proxy on this machine: trust its X-Forwarded-For/-Proto headers.")
def command(posts_file: Path | None, db_url: str | None, host: str, port: int, behind_proxy: bool):
    """Serve the web workspace: calendar, previews, approvals and history.

    People sign in with a name and password made with `campaign users add`.
    Set CAMPAIGN_WEB_SECRET (environment or .env, 32+ random characters) so
    sessions and calendar subscribe links survive a restart and several
    processes can serve the same database.

    Example:

    \b
        campaign users add anna --role approver && campaign web --port 8080
    """
    import uvicorn

    from campaign.errors import CampaignError
    from campaign.queue.db import Database, database_url
    from web.app import Workspace, create_app
    from web.security import SecretError, environment, warn, workspace_secret

    path = resolve_posts_file(posts_file)
    try:
        secret, made_up = workspace_secret(environment(path))
    except SecretError as error:
        raise CampaignError(str(error)) from None
    if made_up:
        warn("CAMPAIGN_WEB_SECRET is not set: sessions and subscribe links last until this process stops")
    database = Database(database_url(db_url, path))
    app = create_app(Workspace(database, secret, posts_file=path if path.exists() else None))
    click.echo(f"Praat mee workspace on http://{host}:{port}/ (database {database.display}); Ctrl-C stops it", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=behind_proxy,
                forwarded_allow_ips="127.0.0.1" if behind_proxy else None, server_header=False)
