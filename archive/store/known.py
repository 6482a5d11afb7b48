"""What an archive already holds of a source: the digests a source gave for posts, looked up by an
import's reading process so that it can pass over unchanged posts before mapping them.

The reading process has a connection of its own (it runs beside the one that writes, often before
that one has opened the database): it reads only, in short transactions, and an archive without
the table yet (a new one) holds nothing.
"""
from __future__ import annotations

import orjson


class StoredDigests:
    """stored(platform, ids) → {remote_id: digest} of the posts among ids that source gave before."""

    def __init__(self, url: str | None, source: str):
        self._url, self._source, self._engine = url, source, None

    def __call__(self, platform: str, ids: list[str]) -> dict[str, str]:
        if not ids or self._url is None:
            return {}
        from sqlalchemy import exc

        try:
            rows = self._rows(platform, ids)
        except exc.DBAPIError:  # no archive tables yet, or the database went away: nothing known
            return {}
        found = {}
        for remote_id, sources in rows:
            digest = orjson.loads(sources).get(self._source)
            if digest is not None:
                found[remote_id] = digest
        return found

    def _rows(self, platform: str, ids: list[str]):
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(self._url)
        with self._engine.connect() as connection:
            marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
            if connection.dialect.name == "postgresql":
                # Pairs, so that each is looked up in the primary key: this connection does not see
                # the statistics the writing transaction gives the planner, and `platform = … AND
                # remote_id IN (…)` became a bitmap scan of every post of the platform, the import's
                # uncommitted ones too: each lookup grew with the import (100-140 ms per 1,000 ids at
                # 100,000 posts against 2 ms; 1.6 s of the server's CPU per 100,000 tweets).
                return connection.exec_driver_sql(
                    "SELECT remote_id, sources FROM archive_posts WHERE (platform, remote_id) IN (VALUES "
                    + ", ".join([f"({marker}, {marker})"] * len(ids)) + ")",
                    tuple(value for remote_id in ids for value in (platform, remote_id))).all()
            return connection.exec_driver_sql(
                f"SELECT remote_id, sources FROM archive_posts WHERE platform = {marker} "
                f"AND remote_id IN ({', '.join([marker] * len(ids))})", (platform, *ids)).all()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
