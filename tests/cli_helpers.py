"""Helpers shared by the CLI tests."""
from __future__ import annotations


def database_dump(db) -> str:
    """Every value in every table of the queue, as text (to look for leaked secrets)."""
    from campaign.queue.tables import metadata

    with db.transaction() as connection:
        return "\n".join(repr(tuple(row)) for table in metadata.sorted_tables
                         for row in connection.execute(table.select()))
