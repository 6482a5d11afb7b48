"""Which archived accounts a person means on the command line.

An account is named by its posts.yaml name (`gemeente_social`) or its handle
(`@teamsaantstuur`, `@team@social.example`, any case, the leading @ optional), in every
`archive` command as in `campaign`. The archive stores a post's account as the handle without
its leading @. A name nobody knows is a NotFoundError (exit 2) naming the accounts that exist.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from campaign.options import match_account, unknown_account


def posts_file_accounts(posts_file: Path | None) -> dict:
    """posts.yaml's accounts by name ({} when there is no such file, or it cannot be read)."""
    if posts_file is None or not Path(posts_file).is_file():
        return {}
    from campaign.errors import CampaignError
    from campaign.spec.config import load

    try:
        cfile, _ = load(Path(posts_file))
    except CampaignError:
        return {}
    return dict(cfile.accounts) if cfile is not None else {}


def archived_handles(database) -> list[str]:
    """Every account the archive holds posts of."""
    from archive.tables import posts

    with database.transaction() as connection:
        return sorted(connection.execute(select(posts.c.account).distinct()).scalars())


def _archived(database, handle: str) -> bool:
    from archive.tables import posts

    with database.transaction() as connection:
        return connection.execute(select(posts.c.account).where(func.lower(posts.c.account) == handle.lower())
                                  .limit(1)).first() is not None


def resolve_handles(names, *, posts_file: Path | None, database) -> tuple[str, ...]:
    """The archive handles (without @) of the accounts named, in order. Raises NotFoundError for a
    name that is no account of posts.yaml (by name or handle) and no account in the archive."""
    configured = posts_file_accounts(posts_file)
    handles = []
    for value in dict.fromkeys(n for n in names if n):
        name = match_account(value, [(n, a.handle) for n, a in configured.items()])
        if name is not None:
            handles.append(configured[name].handle.strip().lstrip("@"))
        elif _archived(database, value.strip().lstrip("@")):
            handles.append(value.strip().lstrip("@"))
        else:
            raise unknown_account(value, [*configured, *(f"@{h}" for h in archived_handles(database))])
    return tuple(handles)


def bluesky_handle(database, did: str) -> str | None:
    """The handle of the Bluesky account with that DID, when the archive or the queue has seen it:
    a post fetched from its timeline (at://DID/… filed under its handle), or a post the campaign
    queue sent from it. None when neither has."""
    from archive.tables import posts
    from campaign.queue.tables import accounts, sent_parts

    prefix = f"at://{did}/"
    with database.transaction() as connection:
        found = connection.execute(select(posts.c.account).where(
            posts.c.platform == "bluesky", posts.c.remote_id.startswith(prefix, autoescape=True),
            posts.c.kind != "repost").limit(1)).scalar()
        if found is None:
            found = connection.execute(select(accounts.c.handle).select_from(
                sent_parts.join(accounts, accounts.c.name == sent_parts.c.account)).where(
                accounts.c.platform == "bluesky", sent_parts.c.remote_id.startswith(prefix, autoescape=True))
                .limit(1)).scalar()
    return found.strip().lstrip("@") if found else None
