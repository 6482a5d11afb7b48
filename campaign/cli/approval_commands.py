"""`campaign approvals`, `campaign approve` and `campaign reject`: approval before sending.

Each command parses its arguments, calls campaign.queue.approvals and prints; only click and the
shared options are imported here, so starting the CLI stays cheap.
"""
from __future__ import annotations

import click

from campaign.options import account_option, db_option, format_option, now_option, posts_file_options


def _by_option(function):
    return click.option("--by", "by", metavar="NAME", default=None,
                        help="Who decides, as recorded [default: your login name].")(function)


def _person(by: str | None) -> str:
    if by:
        return by
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without a user entry)
        raise click.UsageError("cannot tell who you are: give --by NAME") from None


def _open(db_url, posts_file, now):
    """The queue database (it must exist) and --now, the way the other commands read them."""
    from campaign.cli import _now, open_existing_database
    from campaign.options import resolve_posts_file

    path = resolve_posts_file(posts_file)
    return open_existing_database(db_url, path), _now(now, posts_file)


@click.command("approvals")
@posts_file_options()
@db_option()
@now_option()
@click.option("--campaign", "campaign_id", metavar="ID", help="Only this campaign's posts.")
@account_option()
@format_option(["table", "json"], "table")
def approvals(posts_file, db_url, now, campaign_id, account, fmt):
    """List posts awaiting approval, soonest due first, and rejected ones that could still go out.

    Each line: id, due time (local), account, approvals so far/needed (and
    who gave them), the first line of the text. A campaign with 'approval:
    required' in posts.yaml queues its posts this way; only approved posts are
    sent.

    Example:

    \b
        campaign approvals
        campaign approvals --campaign teams-aan-het-stuur --format json
    """
    from campaign.cli import _account_name
    from campaign.cli import output
    from campaign.queue.approvals import pending

    database, moment = _open(db_url, posts_file, now)
    found = pending(database, now=moment, campaign=campaign_id, account=_account_name(database, account))
    click.echo(output.approvals_json(found) if fmt == "json" else output.approvals_table(found), nl=False)


@click.command("approve")
@click.argument("post_ids", metavar="POST_ID...", nargs=-1, required=True, type=click.IntRange(min=1))
@_by_option
@posts_file_options(positional=False)
@db_option()
@now_option()
def approve(post_ids, by, posts_file, db_url, now):
    """Approve posts as they are now; once enough people have, they go out at their time.

    Each person counts once. An approval holds for this exact content: an edit
    in posts.yaml (text, time, or an image file) asks for approval again. An
    approval by the person who rejected a post lifts their rejection.

    Example:

    \b
        campaign approve 12 13 --by anna
    """
    from campaign.queue.approvals import approve as approve_posts

    database, moment = _open(db_url, posts_file, now)
    results = approve_posts(database, post_ids, _person(by), "cli", moment)
    _report(results)


@click.command("reject")
@click.argument("post_id", metavar="POST_ID", type=click.IntRange(min=1))
@click.option("--reason", required=True, metavar="TEXT", help="Why: the people who wrote the post read it.")
@_by_option
@posts_file_options(positional=False)
@db_option()
@now_option()
def reject(post_id, reason, by, posts_file, db_url, now):
    """Reject a post: it is not sent until you approve it after all, or it is changed in posts.yaml.

    A post awaiting approval, already rejected, or approved but not yet sent can
    be rejected.

    Example:

    \b
        campaign reject 12 --reason "De link klopt niet" --by anna
    """
    from campaign.queue.approvals import reject as reject_post

    database, moment = _open(db_url, posts_file, now)
    _report([reject_post(database, post_id, _person(by), reason, "cli", moment)])


def _report(results) -> None:
    """One line per post; a decision that did not count (the post changed meanwhile) on stderr, exit 1."""
    import sys

    for result in results:
        click.echo(result.message, err=not result.counted)
    if not all(result.counted for result in results):
        sys.exit(1)
