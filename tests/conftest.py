"""Shared fixtures: posts.yaml files, databases (SQLite and PostgreSQL), frozen time, time zones."""
from __future__ import annotations

import os
import tempfile
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from campaign.queue.db import Database

# The suite runs on SQLite always, and on PostgreSQL too when this points at a server
# (.ci/run sets it): e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres
POSTGRES_ADMIN_URL = os.environ.get("CAMPAIGN_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_ADMIN_URL else ["sqlite"]
# `campaign check` keeps twitter-text's answers in a cache folder (campaign.spec.xtext); the test run
# gets its own instead of writing to ~/.cache.
os.environ.setdefault("CAMPAIGN_CACHE_DIR", tempfile.mkdtemp(prefix="praatmee-test-cache-"))

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


@pytest.fixture(scope="session")
def postgres_database():
    """A database of this test run's own, dropped at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"praatmee_test_{os.getpid()}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {name}"))
    except Exception as error:  # a clear failure, not a silent skip: the switch was set on purpose
        pytest.fail(f"CAMPAIGN_TEST_DATABASE_URL is set but PostgreSQL is not usable: {error}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


_schema_numbers = iter(range(1, 10**9))


@pytest.fixture
def postgres_url(postgres_database):
    """A fresh schema for one test; the URL selects it through search_path, also in subprocesses."""
    from sqlalchemy import create_engine, text

    schema = f"t{next(_schema_numbers)}"
    engine = create_engine(postgres_database, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with engine.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = postgres_database.update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with engine.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """The same tests over every backend in use."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db(database_url) -> Database:
    database = Database(database_url)
    yield database
    database.engine.dispose()


@pytest.fixture
def archive(database_url) -> Database:
    """A migrated archive (the queue's tables and the archive's) on each backend in use."""
    from archive.store import open_archive

    database = open_archive(database_url)
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
def stage(tmp_path, database_url):
    from tests.stage import Stage

    database = Database(database_url)
    # CAMPAIGN_CARD_TIMEOUT=0: no Bluesky link-card page is fetched (tests never reach the internet);
    # the link-card tests turn it on against a loopback page server.
    yield Stage(tmp_path, {"CAMPAIGN_HTTP_TIMEOUT": "1.5", "CAMPAIGN_CARD_TIMEOUT": "0"}, database, database_url)
    database.engine.dispose()


@pytest.fixture
def fake_bluesky():
    from tests.fakes.bluesky import FakeBluesky

    with FakeBluesky() as fake:
        yield fake


@pytest.fixture
def fake_threads():
    from tests.fakes.threads import FakeThreads

    with FakeThreads() as fake:
        yield fake


@pytest.fixture
def fake_linkedin():
    from tests.fakes.linkedin import FakeLinkedIn

    with FakeLinkedIn() as fake:
        yield fake
