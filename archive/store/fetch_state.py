"""The fetcher's state per (platform, account): where the last fetch stopped (newest id, cursor…)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from campaign.queue.db import Database

from .. import tables as t


def get_fetch_state(database: Database, platform: str, account: str) -> dict | None:
    """What set_fetch_state last stored for (platform, account), plus "updated_at" (aware UTC);
    None if never set. Raises DatabaseError."""
    state = t.fetch_state
    with database.transaction() as connection:
        row = connection.execute(select(state.c.state, state.c.updated_at)
                                 .where(state.c.platform == platform, state.c.account == account)).first()
    return {**row.state, "updated_at": row.updated_at} if row else None


def set_fetch_state(database: Database, platform: str, account: str, state: dict, now: datetime) -> None:
    """Replace the stored state (a JSON-able dict: newest_id/since_id, cursor, …) of (platform, account)
    in its own transaction. Raises DatabaseError."""
    table = t.fetch_state
    values = {k: v for k, v in state.items() if k != "updated_at"}
    with database.transaction(write=True) as connection:
        done = connection.execute(update(table).where(table.c.platform == platform, table.c.account == account)
                                  .values(state=values, updated_at=now)).rowcount
        if not done:
            connection.execute(insert(table).values(platform=platform, account=account, state=values, updated_at=now))
