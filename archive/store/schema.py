"""Opening the archive: which database, and its tables brought to HEAD_REVISION through the same
migration runner as the queue's (campaign.queue.db.Database.bring_to_head)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import exc

from campaign.errors import DatabaseError
from campaign.queue.db import Database, alembic_upgrade, database_url

from .. import tables as t

HEAD_REVISION = "a0008"
VERSION_TABLE = "archive_alembic_version"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def open_archive(db_url: str | None, posts_file: Path | str | None = None, *, create: bool = True) -> Database:
    """Open the database the way `campaign` does (--db, then CAMPAIGN_DATABASE_URL, then campaign.db
    beside posts_file or in the current folder), apply the queue's and the archive's migrations,
    and return it. create=False (commands that only read) refuses a SQLite file that does not
    exist rather than making an empty one: a mistyped --db is then named, not shown as an empty
    archive. Raises DatabaseError (bad URL, unreachable, corrupt, locked, or not there)."""
    url = database_url(db_url, posts_file)
    if not create:
        _require_sqlite_file(url)
    database = Database(url)
    migrate(database)
    return database


def _require_sqlite_file(url: str) -> None:
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        return  # Database() names a bad URL
    path = parsed.database
    if parsed.get_backend_name() == "sqlite" and path and path != ":memory:" and not path.startswith("file:") \
            and not Path(path).exists():
        raise DatabaseError(f"{path}: no database here (import or fetch posts first, or check --db)")


def migrate(database: Database) -> None:
    """Bring the archive's tables to HEAD_REVISION (its own Alembic chain and version table).
    Cheap when current: one SELECT, Alembic is not imported; a new archive is created in one
    step, without Alembic either. Safe when processes race."""
    database.bring_to_head(t.metadata, head=HEAD_REVISION, version_table=VERSION_TABLE, migrations=MIGRATIONS,
                           lock="archive-migrate")


def _upgrade(database: Database, revision: str = "head") -> None:
    """Alembic's way, one migration after another (how an archive made by an older version gets here)."""
    with database.migration_transaction("archive-migrate") as connection:
        alembic_upgrade(connection, MIGRATIONS, revision)

