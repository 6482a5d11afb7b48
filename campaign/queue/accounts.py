"""The accounts as the last good sync of posts.yaml stored them, for whoever sends or previews posts."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from campaign.queue.db import Database
from campaign.queue.tables import accounts


@dataclass(frozen=True)
class StoredAccount:
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
