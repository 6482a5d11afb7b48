"""Open the queue database, apply migrations, and turn driver errors into one clear line.

SQLite is the embedded default; any SQLAlchemy URL works (PostgreSQL via psycopg).
Migrations run automatically. A new database gets its tables in one step and is stamped
at the head, as if every migration had run; Alembic is imported only when an existing
database is behind, so neither a first run nor a cron tick with nothing to do pays for it.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import (Column, MetaData, PrimaryKeyConstraint, String, Table, create_engine, event, exc, inspect,
                        text)
from sqlalchemy.engine import Connection, Engine, make_url

from campaign.errors import DatabaseError

HEAD_REVISION = "0007"
DEFAULT_FILENAME = "campaign.db"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(option: str | None, posts_file: Path | str | None) -> str:
    """--db (a URL or a file path) wins, then CAMPAIGN_DATABASE_URL, then a file beside posts.yaml."""
    value = option or os.environ.get("CAMPAIGN_DATABASE_URL")
    if value:
        return value if "://" in value else "sqlite:///" + str(Path(value).expanduser().resolve())
    folder = Path(posts_file).resolve().parent if posts_file else Path.cwd()
    return "sqlite:///" + str(folder / DEFAULT_FILENAME)


class Database:
    """One engine per process; sessions are short, one transaction per logical step."""

    def __init__(self, url: str, *, migrate: bool = True):
        try:
            self.url = make_url(url)
        except exc.ArgumentError:
            raise DatabaseError("the database URL is not valid (expected e.g. sqlite:///campaign.db or "
                                "postgresql+psycopg://user@host/db)") from None
        self.display = self.url.render_as_string(hide_password=True)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # True while the SQLite file is one this process has just made (empty): bring_to_head then
        # creates the schema without first asking the file for a revision it cannot have.
        self._new_file = False
        try:
            self.engine = _engine(self.url, self.is_sqlite)
        except (ImportError, exc.ArgumentError, exc.NoSuchModuleError) as error:
            raise DatabaseError(f"cannot use database {self.display}: {error}") from None
        if self.is_sqlite and self.url.database not in (None, "", ":memory:"):
            parent = Path(self.url.database).parent
            if not parent.is_dir():
                raise DatabaseError(f"cannot create database {self.url.database}: folder {parent} does not exist")
            if migrate:
                self._new_file = _create_private(Path(self.url.database))
        if migrate:
            self.migrate()

    def describe(self, error: BaseException) -> DatabaseError:
        """A one-line DatabaseError for a driver error, without secrets or SQL."""
        original = getattr(error, "orig", None) or error
        message = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
        lowered = message.lower()
        if "locked" in lowered or "busy" in lowered:
            hint = "locked by another process; try again in a moment"
        elif "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
            hint = "is not a valid SQLite database (corrupt, or not a database file)"
        elif "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered or "permission" in lowered:
            hint = "cannot be written (check the path and its permissions)"
        else:
            hint = message
        return DatabaseError(f"database {self.display}: {hint}")

    @contextmanager
    def transaction(self, *, write: bool = False, exclusive: str | None = None) -> Iterator[Connection]:
        """A transaction on one connection: committed on success, rolled back on any error.

        write=True takes SQLite's write lock at BEGIN, so a read-then-write step
        (sync, claiming a post) cannot interleave with another process. exclusive="name"
        also serialises this step across processes on PostgreSQL (an advisory
        transaction lock), for steps whose rows are not known beforehand, like sync.
        """
        try:
            with self.engine.connect() as connection:
                if (write or exclusive) and self.is_sqlite:
                    connection = connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
                with connection.begin():
                    if exclusive and self.url.get_backend_name() == "postgresql":
                        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(exclusive)})
                    yield connection
        except exc.DBAPIError as error:
            raise self.describe(error) from None

    def current_revision(self, version_table: str = "alembic_version") -> str | None:
        try:
            with self.engine.connect() as connection:
                return connection.execute(text(f"SELECT version_num FROM {version_table}")).scalar()
        except exc.OperationalError as error:
            if "no such table" in str(error).lower():
                return None
            raise self.describe(error) from None
        except exc.ProgrammingError:  # PostgreSQL: relation does not exist
            return None
        except exc.DBAPIError as error:
            raise self.describe(error) from None

    def migrate(self) -> None:
        from campaign.queue.tables import metadata

        self.bring_to_head(metadata, head=HEAD_REVISION, version_table="alembic_version",
                           migrations=MIGRATIONS, lock="migrate")

    def bring_to_head(self, metadata: MetaData, *, head: str, version_table: str, migrations: Path,
                      lock: str) -> None:
        """Bring one chain of migrations (its tables, version table and scripts) to its head."""
        new_file, self._new_file = self._new_file, False
        if not new_file and self.current_revision(version_table) == head:
            return
        for attempt in range(20):
            try:
                self._to_head(metadata, head, version_table, migrations, lock)
                return
            except exc.DBAPIError as error:
                # Another process may be migrating at the same moment; its result is as good as ours.
                time.sleep(0.05 * (attempt + 1))
                if self.current_revision(version_table) == head:
                    return
                if attempt == 19:
                    raise self.describe(error) from None

    def _to_head(self, metadata: MetaData, head: str, version_table: str, migrations: Path, lock: str) -> None:
        if self.is_sqlite:
            self._prepare_sqlite_file()
        with self.migration_transaction(lock) as connection:
            # Looked at again under the lock: a process that started at the same moment may have done it.
            existing = set(inspect(connection).get_table_names())
            if version_table not in existing and not existing & set(metadata.tables):
                create_at_head(connection, metadata, version_table, head)
            elif connection.execute(text(f"SELECT version_num FROM {version_table}")).scalar() != head:
                alembic_upgrade(connection, migrations)

    def _prepare_sqlite_file(self) -> None:
        with self.engine.connect() as connection:
            # 8 KiB pages (a new file only; fixed once WAL is on): archived posts are rows of
            # 1-2 KiB, which 4 KiB pages hold two at a time with much left over, and a large
            # import's commit copied twice as many pages (measured: 0.8 s against 0.35 s).
            connection.connection.driver_connection.execute("PRAGMA page_size=8192")
            # WAL lets readers (status) run while a dispatcher writes; it sticks to the file.
            connection.connection.driver_connection.execute("PRAGMA journal_mode=WAL")

    @contextmanager
    def migration_transaction(self, lock: str) -> Iterator[Connection]:
        """One transaction that changes the schema, with every other migrating process kept out."""
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection = connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with connection.begin():
                if self.url.get_backend_name() == "postgresql":
                    # Several dispatchers may start on a fresh database at once: one migrates, the rest wait.
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(lock)})
                yield connection


def create_at_head(connection: Connection, metadata: MetaData, version_table: str, head: str) -> None:
    """The tables as they are now, stamped as Alembic stamps: one step instead of every migration."""
    metadata.create_all(connection, checkfirst=False)
    version = alembic_version_table(version_table)
    version.create(connection)
    connection.execute(version.insert().values(version_num=head))


def alembic_version_table(name: str) -> Table:
    """Alembic's own version table (alembic.ddl.impl.version_table_impl), so it can take over later."""
    return Table(name, MetaData(), Column("version_num", String(32), nullable=False),
                 PrimaryKeyConstraint("version_num", name=f"{name}_pkc"))


def alembic_upgrade(connection: Connection, migrations: Path, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _create_private(path: Path) -> bool:
    """A new SQLite file readable by its owner only: it holds the campaign's history and error
    messages. SQLite gives its -wal and -shm files the same mode. True when this call made it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    except OSError as error:
        raise DatabaseError(f"cannot create database {path}: {error.strerror or error}") from None
    return True


def _lock_key(name: str) -> int:
    """A stable 63-bit advisory-lock key for a name."""
    import hashlib

    return int.from_bytes(hashlib.sha256(f"praatmee:{name}".encode()).digest()[:8], "big") >> 1


def _engine(url, is_sqlite: bool) -> Engine:
    if not is_sqlite:
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 15})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN, so transactions (and DDL) are real.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))

    return engine
