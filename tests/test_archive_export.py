"""`archive export`: lossless JSONL round trip, Excel-friendly CSV, XLSX with date cells, filters."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.export import COLUMNS, Rows, write_csv
from archive.records import PostFilter
from archive.store import open_archive, query_posts
from tests.archive_fixtures import seed_tweets, write_x_zip, x_archive_files, x_tweet


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def archive_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    tweets = seed_tweets() + [x_tweet(556000000000000009, "=SUM(A1:A2) is geen formule", lang="nl")]
    zip_path = write_x_zip(tmp_path / "a.zip", x_archive_files(tweets, deleted=[x_tweet(1, "weg")]))
    assert run("import", zip_path, "--db", url).exit_code == 0
    return url


def test_jsonl_round_trip_is_lossless(tmp_path, archive_db):
    first = tmp_path / "one.jsonl"
    assert run("export", "--format", "jsonl", "-o", first, "--include-deleted", "--db", archive_db).exit_code == 0
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    result = run("import", first, "--db", copy)
    assert "9 new" in result.output and "(praatmee-jsonl)" in result.output
    second = tmp_path / "two.jsonl"
    run("export", "--format", "jsonl", "-o", second, "--include-deleted", "--db", copy)
    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")
    a, b = open_archive(archive_db), open_archive(copy)
    assert list(query_posts(a, PostFilter(include_deleted=True))) == list(query_posts(b, PostFilter(include_deleted=True)))
    a.engine.dispose()
    b.engine.dispose()


def test_json_is_one_array(archive_db):
    result = run("export", "--format", "json", "--db", archive_db, "--kind", "reply")
    data = json.loads(result.stdout)
    assert [d["remote_id"] for d in data] == ["556000000000000002"]


def test_csv_for_dutch_excel(tmp_path, archive_db):
    out = tmp_path / "tas.csv"
    result = run("export", "--excel", "-o", out, "--db", archive_db, "--now", "2020-11-28", "--locale", "nl")
    assert result.exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == COLUMNS
    assert all(r[0].startswith('="556') and r[0].endswith('"') for r in rows[1:])  # Excel would round 18 digits
    by_id = {r[0][2:-1]: dict(zip(COLUMNS, r)) for r in rows[1:]}
    reply = by_id["556000000000000002"]
    assert reply["text"] == "'@moniquedenb Leuk dat je ons volgt!"  # Excel would read @… as a formula
    assert reply["reply_to"] == '="555000000000000009"'
    assert by_id["556000000000000009"]["text"].startswith("'=SUM")
    linked = by_id["556000000000000004"]
    assert linked["created_at"] == "2015-01-27T10:00:00Z" and linked["created_local"] == "2015-01-27 11:00:00"
    assert linked["relative_time"] == "5 jaar 10 maanden geleden"
    assert linked["links"] == "http://publicpapersutrecht.nl/teams"
    assert linked["hashtags"] == "#zelfstandigeteams" and linked["likes"] == "7"
    assert "1" not in by_id  # deleted


def test_plain_csv_to_stdout_and_filters(archive_db):
    result = run("export", "--db", archive_db, "--from", "2015-01-27", "--until", "2015-01-28",
                 "--hashtag", "#ZelfstandigeTeams")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["556000000000000004"]
    result = run("export", "--db", archive_db, "--search", '"Teams & vertrouwen"', "--account", "TeamsAanTStuur")
    assert [r["id"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["556000000000000005"]


def test_xlsx_has_real_dates_and_opens_with_openpyxl(tmp_path, archive_db):
    from openpyxl import load_workbook

    out = tmp_path / "tas.xlsx"
    assert run("export", "--format", "xlsx", "-o", out, "--db", archive_db).exit_code == 0
    sheet = load_workbook(out, read_only=True)["posts"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("ID", "Platform", "Account", "Link naar bericht", "Geplaatst (UTC)")  # --locale nl
    record = dict(zip(COLUMNS, rows[4]))
    assert record["created_at"] == datetime(2015, 1, 27, 10, 0)
    assert record["created_local"] == datetime(2015, 1, 27, 11, 0)
    formula = [dict(zip(COLUMNS, r)) for r in rows[1:] if str(r[0]) == "556000000000000009"][0]
    assert formula["text"] == "=SUM(A1:A2) is geen formule"
    assert not list(tmp_path.glob("*.part"))
    assert run("export", "--format", "xlsx", "--db", archive_db).exit_code == 2


def test_write_csv_streams(tmp_path):
    from archive.records import ArchivedPost

    def posts():
        for n in range(5000):
            yield ArchivedPost("x", str(n), "a", datetime(2020, 1, 1, tzinfo=timezone.utc), "t")

    out = io.StringIO()
    seen = []
    assert write_csv(posts(), out, Rows(), progress=seen.append) == 5000
    assert sum(seen) == 5000


def test_flat_rows_for_tables_equal_full_posts(archive_db):
    from archive.store import query_flat

    database = open_archive(archive_db)
    rows = Rows(now=datetime(2020, 11, 27, tzinfo=timezone.utc))
    for post_filter in (PostFilter(), PostFilter(newest_first=True, limit=3), PostFilter(hashtag="zelfstandigeteams")):
        full, flat = io.StringIO(), io.StringIO()
        write_csv(query_posts(database, post_filter), full, rows)
        write_csv(query_flat(database, post_filter), flat, rows)
        assert flat.getvalue() == full.getvalue() and full.getvalue().count("\n") > 1


def _as_csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat(sep=" ", timespec="seconds")
        return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    return str(value)


def test_csv_cells_are_the_xlsx_values_as_text(archive_db):
    from zoneinfo import ZoneInfo

    from archive.records import ArchivedPost, Link
    from archive.reltime import RelativeTime
    from archive.store import query_flat

    amsterdam = ZoneInfo("Europe/Amsterdam")
    odd = ArchivedPost("mastodon", "109", "tas@social.example", datetime(2019, 10, 27, 2, 30, 5, 999_999, tzinfo=amsterdam),
                       "nacht", url=None, metrics={"likes": 0, "quotes": 12}, hashtags=("Één", "b"), mentions=("c",),
                       links=(Link("https://t.co/x"), Link("https://t.co/y", "https://example.nl/y")),
                       deleted_at=datetime(2020, 3, 29, 1, 59, tzinfo=timezone.utc), campaign_id="tas",
                       occurrence_key="tas/p/x")
    database = open_archive(archive_db)
    stored = list(query_flat(database, PostFilter(include_deleted=True)))
    database.engine.dispose()
    for rows in (Rows(now=datetime(2020, 11, 27, tzinfo=timezone.utc)),
                 Rows(zone=amsterdam, now=datetime(2020, 11, 27, tzinfo=timezone.utc),
                      relative=RelativeTime("nl", amsterdam, 2))):
        for post in [odd, *stored]:
            assert rows.texts(post) == [_as_csv_text(value) for value in rows.values(post)]


def test_output_to_a_missing_folder_or_to_dash(tmp_path, archive_db):
    missing = tmp_path / "nergens" / "tas.csv"
    for format_name in ("csv", "xlsx", "jsonl"):
        result = run("export", "--format", format_name, "-o", missing, "--db", archive_db)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert result.output.strip().splitlines()[-1].endswith(f"{missing}: the folder {missing.parent} does not exist")
    assert not missing.parent.exists()
    to_dash = run("export", "-o", "-", "--db", archive_db)
    assert to_dash.exit_code == 0 and to_dash.stdout.startswith("id,platform,account") and not (tmp_path / "-").exists()
