"""A new database is created in one step from the tables; it must be exactly what every migration makes.

If a migration is added without the matching change in campaign/tables.py (or archive/tables.py),
or the other way round, the schemas differ here. Runs on every backend in use.
"""
from __future__ import annotations

import subprocess
import sys
import time
import warnings

import pytest
import sqlalchemy
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from archive import store as archive_store
from archive import tables as archive_tables
from campaign.queue import tables
from campaign.queue.db import HEAD_REVISION, MIGRATIONS, Database, alembic_upgrade

TIMES = {"updated_at": "2027-01-18 09:00:00"}


@pytest.fixture
def other_url(database_url, tmp_path):
    """A second empty database on the same backend as database_url."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    schema = url.query["options"].removeprefix("-csearch_path=") + "_other"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def migrate_one_at_a_time(url: str, revision: str = "head") -> None:
    database = Database(url, migrate=False)
    try:
        with database.migration_transaction("migrate") as connection:
            alembic_upgrade(connection, MIGRATIONS, revision)
    finally:
        database.engine.dispose()


def schema_of(url: str) -> dict:
    """Everything the inspector reports, in a form that compares equal when the schemas are the same."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection, warnings.catch_warnings():
            # SQLite's inspector skips expression indexes; index_sql below compares them instead.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            inspector = inspect(connection)
            return {name: _table(inspector, connection, name) for name in inspector.get_table_names()}
    finally:
        engine.dispose()


def _table(inspector, connection, name: str) -> dict:
    primary_key = inspector.get_pk_constraint(name)
    return {
        # Order is left out: a migration can only add a column at the end, the table lists it where it reads well.
        "columns": {c["name"]: ("" if isinstance(c["type"], sqlalchemy.types.NullType)  # FTS5 columns have no type
                                else c["type"].compile(dialect=connection.dialect), c["nullable"], c.get("default"),
                                c.get("autoincrement"), c.get("identity"), c.get("computed"))
                    for c in inspector.get_columns(name)},
        "primary_key": (primary_key.get("name"), primary_key["constrained_columns"]),
        "indexes": sorted((i["name"], i["column_names"], i.get("expressions"), bool(i["unique"]))
                          for i in inspector.get_indexes(name)),
        "index_sql": _sqlite_index_sql(connection, name),
        "unique": sorted((u["name"], u["column_names"]) for u in inspector.get_unique_constraints(name)),
        "foreign_keys": sorted((f["name"], f["constrained_columns"], f["referred_table"], f["referred_columns"],
                                sorted(f.get("options", {}).items())) for f in inspector.get_foreign_keys(name)),
        "checks": sorted((c["name"], c["sqltext"]) for c in inspector.get_check_constraints(name)),
    }


def _sqlite_index_sql(connection, name: str) -> list[str]:
    if connection.dialect.name != "sqlite":
        return []
    rows = connection.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :name"
                                   " AND sql IS NOT NULL"), {"name": name}).scalars()
    return sorted(" ".join(sql.split()) for sql in rows)


def stamped(url: str, version_table: str = "alembic_version") -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(f"SELECT version_num FROM {version_table}")).scalars())
    finally:
        engine.dispose()


def test_a_new_database_made_in_one_step_equals_every_migration_run_from_empty(database_url, other_url):
    Database(database_url).engine.dispose()
    migrate_one_at_a_time(other_url)
    one_step, migrated = schema_of(database_url), schema_of(other_url)
    assert set(one_step) == set(tables.metadata.tables) | {"alembic_version"}
    assert one_step["scheduled_posts"]["checks"]  # both backends report them, so they are compared too
    for name in sorted(set(one_step) | set(migrated)):
        assert one_step.get(name) == migrated.get(name), name


def test_the_stamp_is_the_head_of_the_migrations(database_url):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]
    database = Database(database_url)
    try:
        assert database.current_revision() == HEAD_REVISION
        assert stamped(database_url) == [HEAD_REVISION]
        with database.migration_transaction("migrate") as connection:
            alembic_upgrade(connection, MIGRATIONS)  # Alembic reads the stamp as its own: nothing to do
        assert stamped(database_url) == [HEAD_REVISION]
    finally:
        database.engine.dispose()


def test_creating_a_new_database_does_not_import_alembic(database_url):
    code = ("import sys; from campaign.queue.db import Database; Database(sys.argv[1]).engine.dispose(); "
            "assert 'alembic' not in sys.modules, 'alembic imported'")
    result = subprocess.run([sys.executable, "-c", code, database_url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert stamped(database_url) == [HEAD_REVISION]


def test_a_new_sqlite_file_gets_8k_pages_and_wal(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    Database(url).engine.dispose()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA page_size").scalar() == 8192
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def test_an_old_database_is_upgraded_to_the_head_and_keeps_its_rows(database_url, other_url):
    migrate_one_at_a_time(database_url, "0005")
    assert stamped(database_url) == ["0005"]
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO accounts (name, platform, handle, updated_at) "
                                "VALUES ('tas_x', 'x', '@tas', :updated_at)"), TIMES)
        connection.execute(text("INSERT INTO campaigns (id, name, timezone, updated_at) "
                                "VALUES ('tas', 'Teams aan het stuur!', 'Europe/Amsterdam', :updated_at)"), TIMES)
        connection.execute(text(
            "INSERT INTO scheduled_posts (key, source, campaign_id, post_id, account, due_at, local_time, timezone,"
            " late_seconds, variant, payload, content_hash, state, attempts, created_at, updated_at) VALUES"
            " ('tas/aankondiging/tas_x/2027-01-18T09:00Z', 'file', 'tas', 'aankondiging', 'tas_x', :updated_at,"
            " '2027-01-18T10:00+01:00', 'Europe/Amsterdam', 3600, 0, '{\"parts\": []}', 'abc', 'sent', 1,"
            " :updated_at, :updated_at)"), TIMES)
    engine.dispose()

    database = Database(database_url)
    try:
        assert database.current_revision() == HEAD_REVISION
        with database.transaction() as connection:
            rows = connection.execute(select(tables.scheduled_posts)).all()
            accounts = connection.execute(select(tables.accounts.c.name)).scalars().all()
    finally:
        database.engine.dispose()
    assert [(r.key, r.state, r.account, r.payload) for r in rows] == [
        ("tas/aankondiging/tas_x/2027-01-18T09:00Z", "sent", "tas_x", {"parts": []})]
    assert accounts == ["tas_x"]
    Database(other_url).engine.dispose()
    assert schema_of(database_url) == schema_of(other_url)


def test_an_upgraded_queue_accepts_the_approval_states_and_still_refuses_others(database_url):
    migrate_one_at_a_time(database_url, "0006")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO accounts (name, platform, handle, updated_at) "
                                "VALUES ('tas_x', 'x', '@tas', :updated_at)"), TIMES)
        connection.execute(text(
            "INSERT INTO scheduled_posts (key, source, account, due_at, local_time, timezone, late_seconds, variant,"
            " payload, content_hash, state, attempts, created_at, updated_at) VALUES ('k1', 'file', 'tas_x',"
            " :updated_at, '2027-01-18T10:00+01:00', 'Europe/Amsterdam', 3600, 0, '{}', 'abc', 'queued', 0,"
            " :updated_at, :updated_at)"), TIMES)
    engine.dispose()
    Database(database_url).engine.dispose()
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE scheduled_posts SET state = 'awaiting_approval' WHERE key = 'k1'"))
            assert connection.execute(text("SELECT state, approvals_needed FROM scheduled_posts")).one() == (
                "awaiting_approval", 0)
        with pytest.raises(sqlalchemy.exc.IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE scheduled_posts SET state = 'bogus' WHERE key = 'k1'"))
    finally:
        engine.dispose()


def test_processes_starting_on_a_new_database_at_once_all_succeed(database_url, tmp_path):
    go = tmp_path / "go"
    # Each process imports, says so, and waits for the same moment: they meet the empty database together.
    code = ("import sys, time; from pathlib import Path; from campaign.queue.db import Database\n"
            "Path(sys.argv[3]).touch()\n"
            "while not Path(sys.argv[2]).exists(): time.sleep(0.002)\n"
            "Database(sys.argv[1]).engine.dispose()\n")
    ready = [tmp_path / f"ready{n}" for n in range(4)]
    processes = [subprocess.Popen([sys.executable, "-c", code, database_url, str(go), str(path)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for path in ready]
    deadline = time.monotonic() + 60
    while not all(path.exists() for path in ready):
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes), "a process did not start"
        time.sleep(0.01)
    go.touch()
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], results
    assert stamped(database_url) == [HEAD_REVISION]
    assert set(schema_of(database_url)) == set(tables.metadata.tables) | {"alembic_version"}


def test_a_new_archive_made_in_one_step_equals_every_archive_migration(database_url, other_url):
    for url, make in ((database_url, archive_store.migrate), (other_url, archive_store._upgrade)):
        database = Database(url)
        make(database)
        database.engine.dispose()
    one_step, migrated = schema_of(database_url), schema_of(other_url)
    assert set(archive_tables.metadata.tables) | {archive_store.VERSION_TABLE} <= set(one_step)
    for name in sorted(set(one_step) | set(migrated)):
        assert one_step.get(name) == migrated.get(name), name
    assert stamped(database_url, archive_store.VERSION_TABLE) == [archive_store.HEAD_REVISION]


def test_a_new_sqlite_file_is_readable_by_its_owner_only(tmp_path):
    import stat

    path = tmp_path / "campaign.db"
    Database(f"sqlite:///{path}").engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for companion in tmp_path.glob("campaign.db-*"):  # WAL files take the database's mode
        assert stat.S_IMODE(companion.stat().st_mode) == 0o600
