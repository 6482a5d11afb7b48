"""The queue: sync makes it match posts.yaml in one transaction; history is immutable. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from campaign.queue.db import Database
from campaign.errors import DatabaseError
from campaign.spec.plan import load_plan
from campaign.queue.sync import sync
from campaign.queue.status import status
from campaign.queue.tables import scheduled_posts
from tests.conftest import BASIC_POSTS


def rows(db):
    with db.transaction() as connection:
        return {r.key: r for r in connection.execute(select(scheduled_posts))}


def test_first_sync_queues_everything_and_a_second_changes_nothing(db, basic_posts, now):
    plan = load_plan(basic_posts)
    first = sync(db, plan, now)
    assert (first.queued, first.updated, first.cancelled, first.unchanged) == (5, 0, 0, 0)
    second = sync(db, plan, now)
    assert (second.queued, second.updated, second.cancelled, second.unchanged) == (0, 0, 0, 5)
    assert not second.changed
    queued = rows(db)
    assert {r.state for r in queued.values()} == {"queued"}
    row = queued["tas/aankondiging/teamsaantstuur"]
    assert row.due_at.isoformat() == "2027-01-18T09:00:00+00:00"  # aware UTC back from the database
    assert row.local_time == "2027-01-18T10:00:00+01:00"
    assert row.payload["parts"][0]["text"] == "Nog even en dan gaat de Public Paper online: https://publicpapersutrecht.nl/teams"


def test_edits_update_unsent_posts_and_removals_cancel_them(db, basic_posts, write_posts, now):
    sync(db, load_plan(basic_posts), now)
    edited = BASIC_POSTS.replace("Nog even en dan", "Binnenkort").replace("count: 4", "count: 2")
    summary = sync(db, load_plan(write_posts(edited, "edited.yaml")), now)
    assert (summary.queued, summary.updated, summary.cancelled) == (0, 1, 2)
    after = rows(db)
    assert after["tas/aankondiging/teamsaantstuur"].payload["parts"][0]["text"].startswith("Binnenkort")
    assert sorted(k.rsplit("/", 1)[1] for k, r in after.items() if r.state == "cancelled") == \
        ["2027-02-01T10:00", "2027-02-04T10:00"]
    # putting them back re-queues the same rows
    back = sync(db, load_plan(basic_posts), now)
    assert (back.queued, back.updated, back.cancelled) == (2, 1, 0)
    assert len(rows(db)) == 5 and {r.state for r in rows(db).values()} == {"queued"}


def test_sent_posts_are_never_touched(db, basic_posts, write_posts, now):
    sync(db, load_plan(basic_posts), now)
    with db.transaction(write=True) as connection:
        connection.execute(update(scheduled_posts).where(scheduled_posts.c.key == "tas/aankondiging/teamsaantstuur")
                        .values(state="sent", remote_id="1", remote_url="https://x.com/t/status/1"))
    edited = BASIC_POSTS.replace("Nog even en dan", "Binnenkort")
    summary = sync(db, load_plan(write_posts(edited, "edited.yaml")), now)
    assert summary.history == 1 and summary.edited_after_sending == ["tas/aankondiging/teamsaantstuur"]
    removed = BASIC_POSTS.split("      - id: aankondiging")[0] + "      - id: praat-mee" + \
        BASIC_POSTS.split("      - id: praat-mee")[1]
    summary = sync(db, load_plan(write_posts(removed, "removed.yaml")), now)
    row = rows(db)["tas/aankondiging/teamsaantstuur"]
    assert (row.state, row.remote_id) == ("sent", "1")
    assert row.payload["parts"][0]["text"].startswith("Nog even")
    assert summary.cancelled == 0


def test_occurrences_already_past_their_late_allowance_are_missed(db, basic_posts, now):
    later = now.replace(year=2027, month=1, day=18, hour=10, minute=30)  # 1.5 h after the announcement
    summary = sync(db, load_plan(basic_posts), later)
    assert (summary.missed, summary.queued) == (1, 4)
    assert rows(db)["tas/aankondiging/teamsaantstuur"].state == "missed"


def test_status_counts_next_due_and_problems(db, basic_posts, now):
    sync(db, load_plan(basic_posts), now)
    with db.transaction(write=True) as connection:
        connection.execute(update(scheduled_posts).where(scheduled_posts.c.key.like("%2027-01-25%"))
                        .values(state="failed", last_error="platform said no", updated_at=now))
    report = status(db, now + timedelta(hours=1))
    assert report.counts["queued"] == 4 and report.counts["failed"] == 1 and report.total == 5
    assert [p.key for p in report.next_due][0] == "tas/aankondiging/teamsaantstuur"
    assert [(p.state, p.last_error) for p in report.problems] == [("failed", "platform said no")]


def test_naive_datetimes_are_refused(db, basic_posts, now):
    with pytest.raises(ValueError):
        sync(db, load_plan(basic_posts), now.replace(tzinfo=None))


def test_corrupt_sqlite_file_is_one_clear_error(tmp_path):
    path = tmp_path / "campaign.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match="not a valid SQLite database"):
        Database(f"sqlite:///{path}")


def test_locked_database_is_reported_and_nothing_is_half_written(tmp_path, basic_posts, now):
    import sqlite3

    url = f"sqlite:///{tmp_path / 'q.db'}"
    Database(url)
    blocker = sqlite3.connect(tmp_path / "q.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        database = Database(url)
        database.engine.dispose()
        from sqlalchemy import event

        @event.listens_for(database.engine, "connect")
        def short_timeout(connection, _):
            connection.execute("PRAGMA busy_timeout=100")

        with pytest.raises(DatabaseError, match="locked by another process"):
            sync(database, load_plan(basic_posts), now)
    finally:
        blocker.rollback()
        blocker.close()
    assert rows(Database(url)) == {}


def test_a_post_with_an_image_sent_before_images_were_hashed_is_not_taken_for_an_edited_one(db, tmp_path, now):
    from campaign.queue.sync import content_hash

    (tmp_path / "deur.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    posts = tmp_path / "posts.yaml"
    posts.write_text("timezone: Europe/Amsterdam\naccounts:\n  tas: {platform: x, handle: teamsaantstuur}\n"
                     "campaigns:\n  c:\n    accounts: [tas]\n    posts:\n"
                     "      - {id: foto, at: 2027-01-18 10:00, text: 'De deur', media: [{path: deur.png, alt: 'Een rode deur van het stadskantoor'}]}\n",
                     encoding="utf-8")
    plan = load_plan(posts)
    sync(db, plan, now)
    [occurrence] = plan.occurrences
    assert occurrence.payload()["parts"][0]["media"][0]["sha256"]
    with db.transaction(write=True) as connection:  # as an older version recorded it when it was sent
        connection.execute(update(scheduled_posts).values(
            state="sent", remote_id="1", content_hash=content_hash(occurrence, media_digests=False)))
    posts.write_text(posts.read_text(encoding="utf-8") + "      - {id: later, at: 2027-01-19 10:00, text: 'Later'}\n",
                     encoding="utf-8")
    assert sync(db, load_plan(posts), now).edited_after_sending == []
    # sent now, with the image's digest recorded: replacing the image is an edit after sending
    with db.transaction(write=True) as connection:
        connection.execute(update(scheduled_posts).where(scheduled_posts.c.key == "c/foto/tas")
                           .values(content_hash=content_hash(occurrence)))
    (tmp_path / "deur.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\1" * 64)
    assert sync(db, load_plan(posts), now).edited_after_sending == ["c/foto/tas"]
