"""The accounts as the last good sync of posts.yaml stored them, for whoever sends or previews posts."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from campaign.errors import NotFoundError
from campaign.queue.db import Database
from campaign.queue.tables import accounts


@dataclass(frozen=True)
class StoredAccount:
    """An account as the queue stores it (from posts.yaml's last good sync)."""

    name: str
    platform: str
    handle: str
    instance: str | None
    max_per_day: int | None


def load_accounts(db: Database) -> dict[str, StoredAccount]:
    """Every stored account by its posts.yaml name (flagged ones included: the claims skip
    their posts, a preview names them). Raises DatabaseError."""
    with db.transaction() as connection:
        return {row.name: StoredAccount(row.name, row.platform, row.handle, row.instance, row.max_per_day)
                for row in connection.execute(select(accounts.c.name, accounts.c.platform, accounts.c.handle,
                                                     accounts.c.instance, accounts.c.max_per_day))}


def require_known(connection, column, value: str, what: str) -> None:
    """Raise NotFoundError (exit 2) naming what exists when `value` is not in `column`
    (an account's name, a campaign's id): a typo must not look like an empty result."""
    known = [v for (v,) in connection.execute(select(column).order_by(column))]
    if value not in known:
        raise NotFoundError(f"unknown {what} '{value}'; " + (f"known: {', '.join(known)}" if known else
                            "the queue knows none yet (run 'campaign sync' first)"))


def narrow_to(connection, query, *, account: str | None = None, campaign: str | None = None):
    """`query` over scheduled_posts kept to one account and/or campaign, each checked to be known
    first (require_known), so that every listing refuses a typo the same way."""
    from campaign.queue.tables import campaigns, scheduled_posts

    if account is not None:
        require_known(connection, accounts.c.name, account, "account")
        query = query.where(scheduled_posts.c.account == account)
    if campaign is not None:
        require_known(connection, campaigns.c.id, campaign, "campaign")
        query = query.where(scheduled_posts.c.campaign_id == campaign)
    return query
