"""`campaign users …`: the people who may sign in to the web workspace, and their roles."""
from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from campaign.options import db_option, posts_file_options, resolve_posts_file

ROLE_CHOICE = click.Choice(["viewer", "editor", "approver", "admin"])


def _database(db_url, posts_file):
    from campaign.queue.db import Database, database_url

    return Database(database_url(db_url, resolve_posts_file(posts_file)))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line: what `printf '%s\n' "$PASSWORD" | campaign users add …` gives; the newline is not part of it.
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def users():
    """The people who may sign in to the web workspace (`campaign web`) and their roles.

    Roles, each allowed what the ones before it may: viewer (reads everything),
    editor (retries, resolves and acknowledges posts), approver (approves and
    rejects posts), admin.

    Example:

    \b
        printf '%s\\n' "$PASSWORD" | campaign users add anna --role approver --password-stdin
    """


@users.command("add")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True, help="What this person may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@posts_file_options(positional=False)
@db_option()
def users_add(name, role, password_stdin, posts_file, db_url):
    """Add a person who may sign in to the workspace (asks for the password).

    Example:

    \b
        campaign users add anna --role approver
    """
    from campaign import people

    people.check_name(name)
    password = _read_password(password_stdin)
    people.add(_database(db_url, posts_file), name, role, password, datetime.now(timezone.utc))
    click.echo(f"added {name} ({role})")


@users.command("list")
@posts_file_options(positional=False)
@db_option()
def users_list(posts_file, db_url):
    """List the workspace's people and their roles.

    Example:

    \b
        campaign users list
    """
    from campaign import people

    for person in people.list_people(_database(db_url, posts_file)):
        click.echo(f"{person.name:<24} {person.role:<9} since {person.created_at:%Y-%m-%d}")


@users.command("remove")
@click.argument("name")
@posts_file_options(positional=False)
@db_option()
def users_remove(name, posts_file, db_url):
    """Remove a person; they are signed out at once. Their past approvals stay on record.

    Example:

    \b
        campaign users remove anna
    """
    from campaign import people

    people.remove(_database(db_url, posts_file), name)
    click.echo(f"removed {name}")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@posts_file_options(positional=False)
@db_option()
def users_passwd(name, password_stdin, posts_file, db_url):
    """Set a new password; every browser signed in as that person is signed out.

    Example:

    \b
        campaign users passwd anna
    """
    from campaign import people

    password = _read_password(password_stdin)
    people.set_password(_database(db_url, posts_file), name, password, datetime.now(timezone.utc))
    click.echo(f"new password set for {name}")


@users.command("role")
@click.argument("name")
@click.argument("role", type=ROLE_CHOICE)
@posts_file_options(positional=False)
@db_option()
def users_role(name, role, posts_file, db_url):
    """Change what a person may do.

    Example:

    \b
        campaign users role anna admin
    """
    from campaign import people

    people.set_role(_database(db_url, posts_file), name, role, datetime.now(timezone.utc))
    click.echo(f"{name} is now {role}")
