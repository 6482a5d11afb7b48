"""Shared fixtures: posts.yaml files, databases (SQLite and PostgreSQL), frozen time, time zones."""
from __future__ import annotations

import os
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from campaign.db import Database

POSTGRES_ADMIN_URL = os.environ.get("PRAATMEE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
POSTGRES_TEST_DB = "praatmee_test"

BASIC_POSTS = """\
timezone: Europe/Amsterdam
accounts:
  teamsaantstuur:
    platform: x
    handle: "@teamsaantstuur"
  social:
    platform: mastodon
    instance: https://social.example
    handle: "@team@social.example"
campaigns:
  tas:
    name: Teams aan het stuur!
    accounts: [teamsaantstuur]
    vars:
      link: https://publicpapersutrecht.nl/teams
    posts:
      - id: aankondiging
        text: "Nog even en dan gaat de Public Paper online: {link}"
        at: 2027-01-18 10:00
      - id: praat-mee
        variants:
          - "Variant een: praat mee {link}"
          - "Variant twee: laat je horen {link}"
        every: week
        on: [mon, thu]
        at: "10:00"
        from: 2027-01-25
        count: 4
"""


@pytest.fixture
def write_posts(tmp_path):
    """write_posts(yaml_text, name='posts.yaml') -> Path; dedents the text."""

    def write(text: str, name: str = "posts.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def basic_posts(write_posts) -> Path:
    return write_posts(BASIC_POSTS)


@pytest.fixture
def now() -> datetime:
    """A fixed 'now' before every date used in the test files."""
    return datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["UTC", "Europe/Amsterdam"])
def machine_tz(request, monkeypatch):
    """Run a test as if the machine's local zone were UTC, then Europe/Amsterdam: results must not change."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def _postgres_available() -> bool:
    try:
        import psycopg  # noqa: F401
        from sqlalchemy import create_engine, text

        engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test session (CI starts the server; locally it may be absent)."""
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}; .ci/run should have started it")
        pytest.skip("PostgreSQL not reachable")
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {POSTGRES_TEST_DB} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {POSTGRES_TEST_DB}"))
    engine.dispose()
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + POSTGRES_TEST_DB


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The same tests over every supported backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    url = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def db(database_url) -> Database:
    database = Database(database_url)
    yield database
    database.engine.dispose()


@pytest.fixture
def fake_x():
    from tests.fakes.x import FakeX

    with FakeX() as fake:
        yield fake


@pytest.fixture
def fake_mastodon():
    from tests.fakes.mastodon import FakeMastodon

    with FakeMastodon() as fake:
        yield fake


@pytest.fixture
def stage(tmp_path):
    from tests.stage import Stage

    database = Database(f"sqlite:///{tmp_path / 'queue.db'}")
    yield Stage(tmp_path, {"CAMPAIGN_HTTP_TIMEOUT": "1.5"}, database)
    database.engine.dispose()


@pytest.fixture
def fake_bluesky():
    from tests.fakes.bluesky import FakeBluesky

    with FakeBluesky() as fake:
        yield fake
