"""XLSX and Parquet exports read back (openpyxl, pyarrow) and compared with the JSONL export of the
same posts; the streaming XLSX writer's limits; the store's rows in their stored form."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.export import COLUMNS, HEADERS, expanded_text, headers
from archive.records import Link
from tests.archive_fixtures import seed_tweets, write_x_zip, x_archive_files, x_tweet

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOSTILE_TEXT = "=HYPERLINK(\"http://evil\") <b>&amp;</b> _x0041_ \x01\x0b end "


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def archive_db(database_url, tmp_path):
    """The seed's tweets, a hostile text, a long link and a deleted tweet, on SQLite and (when
    CAMPAIGN_TEST_DATABASE_URL names one) PostgreSQL."""
    url = database_url
    tweets = seed_tweets() + [
        x_tweet(556000000000000009, HOSTILE_TEXT + "https://t.co/long", at=datetime(2015, 3, 29, 1, 30, tzinfo=timezone.utc),
                urls=[("https://t.co/long", "https://example.nl/" + "a" * 2100)], likes=12),
        x_tweet(556000000000000010, "zomertijd https://t.co/one en https://t.co/onetwo",
                at=datetime(2015, 7, 1, 22, 15, 30, tzinfo=timezone.utc),
                urls=[("https://t.co/one", "https://example.nl/1"), ("https://t.co/onetwo", "https://example.nl/12")]),
    ]
    zip_path = write_x_zip(tmp_path / "a.zip", x_archive_files(tweets, deleted=[x_tweet(1, "weg")]))
    assert run("import", zip_path, "--db", url).exit_code == 0
    return url


def jsonl_posts(url, *extra) -> list[dict]:
    result = run("export", "--format", "jsonl", "--db", url, *extra)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def excel_escaped(text: str) -> str:
    """text as stored in a cell, read back by openpyxl (which leaves Excel's _xHHHH_ escapes as they are)."""
    return text.replace("_x0041_", "_x005F_x0041_").replace("\x01", "_x0001_").replace("\x0b", "_x000B_")


def expanded(post: dict) -> str:
    return expanded_text(post["text"], [Link(**link) for link in post["links"]])


# -- XLSX -------------------------------------------------------------------


def test_xlsx_opens_cleanly_and_equals_the_jsonl(tmp_path, archive_db):
    from openpyxl import load_workbook

    out = tmp_path / "tas.xlsx"
    result = run("export", "--format", "xlsx", "-o", out, "--db", archive_db, "--now", "2020-11-28", "--locale", "nl")
    assert result.exit_code == 0, result.output
    assert "links left as plain text" in result.stderr  # the 2,100-character link
    sheet = load_workbook(out)["posts"]
    assert sheet.auto_filter.ref == f"A1:W{sheet.max_row}" and sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == headers("nl", AMSTERDAM)
    assert sheet["E1"].value == "Geplaatst (UTC)" and sheet["F1"].value == "Geplaatst (Europe/Amsterdam)"
    assert sheet["A1"].font.b and abs(sheet.column_dimensions["I"].width - 90) < 1
    posts = jsonl_posts(archive_db)
    assert sheet.max_row == len(posts) + 1
    for number, post in enumerate(posts, 2):
        row = {name: cell for name, cell in zip(COLUMNS, sheet[number])}
        value = {name: cell.value for name, cell in row.items()}
        created = utc(post["created_at"])
        assert value["id"] == post["remote_id"] and value["account"] == post["account"]
        assert value["created_at"] == created.replace(tzinfo=None) and row["created_at"].is_date
        assert value["created_local"] == created.astimezone(AMSTERDAM).replace(tzinfo=None)
        assert row["created_local"].number_format == "yyyy-mm-dd hh:mm:ss"
        assert value["text"] == excel_escaped(expanded(post))
        assert value["likes"] == post["metrics"].get("likes") and value["reposts"] == post["metrics"].get("reposts")
        assert value["hashtags"] == (" ".join("#" + tag for tag in post["hashtags"]) or None)
        assert value["reply_to"] == post["reply_to_id"] and value["deleted_at"] is None
        assert row["url"].hyperlink.target == post["url"]
        targets = [link["expanded_url"] or link["url"] for link in post["links"]]
        assert value["links"] == (" ".join(targets) or None)
        if targets and len(targets[0]) <= 2079:
            assert row["links"].hyperlink.target == targets[0]
        else:
            assert row["links"].hyperlink is None
    by_id = {sheet.cell(n, 1).value: n for n in range(2, sheet.max_row + 1)}
    hostile = sheet.cell(by_id["556000000000000009"], COLUMNS.index("text") + 1)
    assert hostile.data_type == "s" and hostile.value.startswith('=HYPERLINK("http://evil") <b>&amp;</b> _x005F_x0041_')
    zomer = sheet.cell(by_id["556000000000000010"], COLUMNS.index("text") + 1).value
    assert zomer == "zomertijd https://example.nl/1 en https://example.nl/12"  # no link cut into another


def test_xlsx_headers_in_english_and_the_reply(tmp_path, archive_db):
    from openpyxl import load_workbook

    out = tmp_path / "tas.xlsx"
    assert run("export", "--format", "xlsx", "-o", out, "--db", archive_db, "--locale", "en",
               "--timezone", "UTC", "--kind", "reply").exit_code == 0
    rows = list(load_workbook(out, read_only=True)["posts"].iter_rows(values_only=True))
    assert list(rows[0]) == [h.format(zone="UTC") for h in HEADERS["en"]]
    assert rows[1][COLUMNS.index("reply_to")] == "555000000000000009"
    assert headers("nl_BE")[7] == "Soort" and headers("fr")[7] == "Kind"


def test_xlsx_is_well_formed_and_never_holds_a_formula(tmp_path, archive_db):
    from lxml import etree

    out = tmp_path / "tas.xlsx"
    assert run("export", "--format", "xlsx", "-o", out, "--db", archive_db).exit_code == 0
    with zipfile.ZipFile(out) as package:
        names = set(package.namelist())
        assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/styles.xml",
                "xl/worksheets/sheet1.xml", "xl/_rels/workbook.xml.rels"} <= names
        for name in names:
            if name.endswith((".xml", ".rels")):
                etree.fromstring(package.read(name))  # raises on anything not well formed
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
        workbook = package.read("xl/workbook.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    assert "_xlnm._FilterDatabase" in workbook and "<pane ySplit=\"1\"" in sheet


def test_xlsx_writer_limits():
    from openpyxl import load_workbook

    from archive.xlsx import Column, XlsxWriter, column_letter

    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    buffer = io.BytesIO()
    with XlsxWriter(buffer, [Column(30), Column(10)], sheet="s", max_links=2) as sheet:
        sheet.header(["link", "n"])
        for n in range(4):
            sheet.row([f"https://example.nl/{n}", n], {0: f"https://example.nl/{n}"})
        sheet.row(["javascript:alert(1)", 5], {0: "javascript:alert(1)"})
        sheet.row([" spaces ", 1.5])
        sheet.row(["a & b <c> \x01 _x0041_ \ud800 =1+1", "x" * 40_000])
    assert sheet.links_dropped == 3
    buffer.seek(0)
    book = load_workbook(buffer)["s"]
    assert [book.cell(n, 1).hyperlink.target if book.cell(n, 1).hyperlink else None for n in range(2, 8)] == [
        "https://example.nl/0", "https://example.nl/1", None, None, None, None]
    assert book["A7"].value == " spaces " and book["B7"].value == 1.5 and book["B2"].value == 0
    # as Excel stores them: a control character as _x0001_, a literal _x0041_ escaped (openpyxl shows both raw)
    assert book["A8"].value == "a & b <c> _x0001_ _x005F_x0041_ \ufffd =1+1" and book["A8"].data_type == "s"
    assert len(book["B8"].value) == 32_767


def test_xlsx_of_nothing_is_a_header(tmp_path, archive_db):
    from openpyxl import load_workbook

    out = tmp_path / "none.xlsx"
    assert run("export", "--format", "xlsx", "-o", out, "--db", archive_db, "--hashtag", "nergens").exit_code == 0
    sheet = load_workbook(out)["posts"]
    assert sheet.max_row == 1 and sheet.auto_filter.ref == "A1:W1"


# -- Parquet ----------------------------------------------------------------


def test_parquet_types_and_values_equal_the_jsonl(tmp_path, archive_db):
    pa = pytest.importorskip("pyarrow", reason="pyarrow is the optional extra praatmee[parquet]")
    import pyarrow.parquet as pq

    out = tmp_path / "tas.parquet"
    result = run("export", "--format", "parquet", "-o", out, "--db", archive_db, "--include-deleted")
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    types = {field.name: field.type for field in table.schema}
    assert types["id"] == pa.string() and types["created_at"] == pa.timestamp("us", tz="UTC")
    assert types["created_local"] == pa.timestamp("us") and types["deleted_at"] == pa.timestamp("us", tz="UTC")
    assert types["likes"] == pa.int64() and types["hashtags"] == pa.list_(pa.string())
    assert types["links"] == pa.list_(pa.string())
    rows = table.to_pylist()
    posts = jsonl_posts(archive_db, "--include-deleted")
    assert len(rows) == len(posts) == 10 and posts[0]["deleted_at"] is None and any(p["deleted_at"] for p in posts)
    for row, post in zip(rows, posts):
        created = utc(post["created_at"])
        assert row["id"] == post["remote_id"] and row["text"] == post["text"] and row["kind"] == post["kind"]
        assert row["created_at"] == created and row["url"] == post["url"]
        assert row["created_local"] == created.astimezone(AMSTERDAM).replace(tzinfo=None)
        assert row["hashtags"] == post["hashtags"] and row["mentions"] == post["mentions"]
        assert row["links"] == [link["expanded_url"] or link["url"] for link in post["links"]]
        for name in ("likes", "reposts", "replies", "quotes"):
            assert row[name] == post["metrics"].get(name)
        assert row["reply_to"] == post["reply_to_id"] and row["language"] == post["language"]
        assert row["deleted_at"] == (utc(post["deleted_at"]) if post["deleted_at"] else None)
        assert row["campaign"] == post["campaign_id"]


def test_parquet_needs_a_file(archive_db):
    pytest.importorskip("pyarrow", reason="pyarrow is the optional extra praatmee[parquet]")
    result = run("export", "--format", "parquet", "--db", archive_db)
    assert result.exit_code == 2 and "parquet needs a file" in result.output


def test_parquet_without_pyarrow_names_the_extra(tmp_path, archive_db, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    result = run("export", "--format", "parquet", "-o", tmp_path / "x.parquet", "--db", archive_db)
    assert result.exit_code == 2
    assert result.output == "archive: --format parquet needs pyarrow: pip install 'praatmee[parquet]'\n"
    assert not list(tmp_path.glob("x.parquet*"))


def test_parquet_conversion_handles_odd_stored_values():
    pa = pytest.importorskip("pyarrow", reason="pyarrow is the optional extra praatmee[parquet]")
    from archive.parquet import write_parquet

    base = ("x", "1", "a", "2019-10-27 00:30:05.999999", "t", "post", None, None, None,
            '{"likes":1}', '{"hashtags":["Één"],"links":[["https://t.co/a",null,null]]}', None, None, None, "public")
    odd = ("mastodon", "2", "b", datetime(2019, 10, 27, 1, 30), "t\ud800", "reply", None, "nl", "1",
           '{"likes":2.0,"quotes":"3"}', '{"mentions":["c"],"links":[["u"]],"warning":"Let op"}',
           datetime(2020, 3, 29, 1, 59), "tas", "tas/p/x", "followers")
    buffer = io.BytesIO()
    import pyarrow.parquet as pq

    assert write_parquet([[base], [odd]], buffer, zone=AMSTERDAM, row_group=1) == 2
    rows = pq.read_table(io.BytesIO(buffer.getvalue())).to_pylist()
    assert rows[0]["hashtags"] == ["Één"] and rows[0]["links"] == ["https://t.co/a"]
    assert rows[0]["created_local"] == datetime(2019, 10, 27, 2, 30, 5, 999_999)  # still summer time
    assert rows[1]["created_local"] == datetime(2019, 10, 27, 2, 30)  # winter time: the same wall clock
    assert rows[1]["likes"] == 2 and rows[1]["quotes"] == 3 and rows[1]["links"] == ["u"]
    assert rows[1]["text"] == "t\ufffd" and rows[1]["deleted_at"] == datetime(2020, 3, 29, 1, 59, tzinfo=timezone.utc)
    assert (rows[0]["visibility"], rows[0]["content_warning"]) == ("public", None)
    assert (rows[1]["visibility"], rows[1]["content_warning"]) == ("followers", "Let op")
    assert pa is not None


# -- the text as readers see it ---------------------------------------------


def test_expanded_text():
    links = [Link("https://t.co/a", "https://example.nl/a"), Link("https://t.co/ab", "https://example.nl/ab"),
             Link("https://example.nl/plain")]
    assert expanded_text("x https://t.co/a y https://t.co/ab", links) == "x https://example.nl/a y https://example.nl/ab"
    assert expanded_text("geen links", ()) == "geen links"


def test_csv_shows_expanded_links(archive_db):
    import csv

    result = run("export", "--db", archive_db, "--search", "mening")
    [row] = csv.DictReader(io.StringIO(result.stdout))
    assert row["text"].endswith("Laat jouw mening horen via http://publicpapersutrecht.nl/teams!")
    assert row["links"] == "http://publicpapersutrecht.nl/teams"


def test_timestamps_round_trip_through_date_cells():
    from archive.xlsx import serial

    moment = datetime(2015, 3, 29, 1, 30, 59, tzinfo=timezone.utc)
    assert serial(moment) == serial(moment.replace(tzinfo=None))
    days = serial(moment)
    assert datetime(1899, 12, 30) + timedelta(days=days) - moment.replace(tzinfo=None) < timedelta(milliseconds=1)


def test_csv_rows_from_the_stored_form_equal_the_posts_rows(archive_db):
    """The CSV export formats rows straight from the database (archive.tabular.RawTexts); they
    must be exactly export.Rows.texts of the same posts, in every zone and language."""
    from archive.export import Rows
    from archive.records import PostFilter
    from archive.reltime import RelativeTime
    from archive.store import open_archive, query_posts
    from archive.tabular import RawTexts, _raw_batches

    database = open_archive(archive_db)
    chosen = PostFilter(include_deleted=True)
    posts = list(query_posts(database, chosen))
    database.engine.dispose()
    raw = [row for batch in _raw_batches(archive_db, None, chosen, 3) for row in batch]
    assert len(raw) == len(posts) == 10
    now = datetime(2020, 11, 27, tzinfo=timezone.utc)
    for zone, locale in ((timezone.utc, "en"), (AMSTERDAM, "nl"), (ZoneInfo("America/St_Johns"), "fr")):
        rows = Rows(zone=zone, now=now, relative=RelativeTime(locale, zone, 2))
        texts = RawTexts(rows)
        assert [texts(row) for row in raw] == [rows.texts(post) for post in posts]
    assert RawTexts(Rows(zone=AMSTERDAM, now=now))(raw[0])[6] == ""  # no relative time asked for


def test_csv_local_times_across_a_dst_change():
    from archive.export import Rows
    from archive.tabular import RawTexts

    texts = RawTexts(Rows(zone=AMSTERDAM))
    stored = ("x", "1", "a", None, "t", "post", None, None, None, "{}", "{}", None, None, None, "public")
    for utc_text, local in (("2019-10-27 00:59:59.999999", "2019-10-27 02:59:59"),
                            ("2019-10-27 01:00:00.000000", "2019-10-27 02:00:00"),
                            ("2019-03-31 00:59:00.000000", "2019-03-31 01:59:00"),
                            ("2019-03-31 01:00:00.000000", "2019-03-31 03:00:00")):
        assert texts(stored[:3] + (utc_text,) + stored[4:])[5] == local


def test_csv_export_rows_cross_processes_intact(archive_db):
    """A row crosses from the reading process as its cells joined by \\x1f, or as a list when a
    cell holds that character itself."""
    import csv

    from archive.records import ArchivedPost
    from archive.store import open_archive, upsert_posts

    database = open_archive(archive_db)
    upsert_posts(database, [ArchivedPost("mastodon", "77", "tas@social.example",
                                         datetime(2016, 5, 1, 12, tzinfo=timezone.utc), "een\x1ftwee, \"drie\"\nvier",
                                         metrics={"likes": 4})], source="test", now=datetime.now(timezone.utc))
    database.engine.dispose()
    result = run("export", "--db", archive_db, "--now", "2020-11-27", "--locale", "en", "--platform", "mastodon")
    [row] = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert row["text"] == "een\x1ftwee, \"drie\"\nvier" and row["likes"] == "4"
    assert row["relative_time"] == "4 years 6 months ago" and row["created_local"] == "2016-05-01 14:00:00"


def test_xlsx_writer_goes_on_in_a_next_sheet_when_one_is_full():
    from openpyxl import load_workbook

    from archive.xlsx import Column, XlsxWriter

    buffer = io.BytesIO()
    with XlsxWriter(buffer, [Column(30), Column(10)], sheet="posts", max_rows=3, max_links=1) as sheet:
        sheet.header(["link", "n"])
        for n in range(5):
            sheet.row([f"https://example.nl/{n}", n], {0: f"https://example.nl/{n}"})
    assert sheet.written == 5 and sheet.links_dropped == 2
    buffer.seek(0)
    book = load_workbook(buffer)
    assert book.sheetnames == ["posts", "posts (2)", "posts (3)"]
    assert [[c.value for c in row] for row in book["posts (2)"].iter_rows()] == [
        ["link", "n"], ["https://example.nl/2", 2], ["https://example.nl/3", 3]]
    assert [book[name].auto_filter.ref for name in book.sheetnames] == ["A1:B3", "A1:B3", "A1:B2"]
    assert [book[name]["A2"].hyperlink.target for name in book.sheetnames] == [
        "https://example.nl/0", "https://example.nl/2", "https://example.nl/4"]  # each sheet its own 65,530
    assert all(book[name].freeze_panes == "A2" for name in book.sheetnames)
