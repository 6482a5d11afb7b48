"""`campaign plan --excel`: the plan as CSV for (Dutch) Excel, through the same code as `archive export --excel`."""
from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from campaign.cli import main
from campaign.cli.output import PLAN_FIELDS
from campaign.csvexcel import excel_cells


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_plan_excel_is_semicolons_with_a_bom(basic_posts):
    result = run("plan", basic_posts, "--excel")
    assert result.exit_code == 0, result.output
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == list(PLAN_FIELDS) and len(rows) == 6
    plain = list(csv.DictReader(io.StringIO(run("plan", basic_posts, "--format", "csv").stdout)))
    assert [dict(zip(PLAN_FIELDS, row)) for row in rows[1:]] == [
        dict(zip(PLAN_FIELDS, excel_cells([r[f] for f in PLAN_FIELDS]))) for r in plain]
    assert run("plan", basic_posts, "--excel", "--format", "csv").stdout_bytes == raw


def test_plan_excel_guards_formulas(write_posts):
    path = write_posts("""\
timezone: Europe/Amsterdam
accounts:
  tas:
    platform: mastodon
    instance: https://social.example
    handle: "@tas@social.example"
campaigns:
  c:
    name: Formules
    accounts: [tas]
    posts:
      - id: p
        text: "=1+1 of @iemand, praat mee"
        at: 2027-02-01 10:00
""")
    result = run("plan", path, "--excel")
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert row["text"] == "'=1+1 of @iemand, praat mee"


def test_plan_excel_is_csv_only(basic_posts):
    result = run("plan", basic_posts, "--excel", "--format", "json")
    assert result.exit_code == 2 and "--excel is a kind of CSV" in result.output


def test_excel_cells():
    assert excel_cells(["=SUM(A1)", "+31", "-", "@x", "\tx", "gewoon", "556000000000000002", "1234"], (6, 7)) == [
        "'=SUM(A1)", "'+31", "'-", "'@x", "'\tx", "gewoon", '="556000000000000002"', "1234"]


# --- issue 17: --format xlsx and ics, and the filters ---------------------------------------------------------

THREAD_POSTS = """\
timezone: Europe/Amsterdam
accounts:
  tas: {platform: x, handle: "@teamsaantstuur"}
  social: {platform: mastodon, instance: "https://social.example", handle: "@team@social.example"}
campaigns:
  a:
    name: Teams aan het stuur!
    accounts: [tas, social]
    posts:
      - id: draad
        thread:
          - {text: "Deel een", media: [{path: foto.png, alt: Een rode deur}, {path: foto.png, alt: Nog een deur}]}
          - "Deel twee"
        at: 2027-02-01 10:00
  b:
    accounts: [tas]
    posts:
      - {id: los, text: "Los bericht", at: 2027-02-02 10:00}
"""
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def thread_file(write_posts):
    path = write_posts(THREAD_POSTS)
    (path.parent / "foto.png").write_bytes(PNG)
    return path


def test_plan_xlsx_one_row_per_occurrence_parts_and_media_in_columns(write_posts):
    from datetime import datetime

    import openpyxl

    result = run("plan", thread_file(write_posts), "--format", "xlsx")
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(io.BytesIO(result.stdout_bytes)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Lokale tijd", "UTC", "Tijdzone", "Account", "Platform", "Campagne", "Bericht", "Variant",
                       "Lengte", "Limiet", "Goedkeuringen nodig", "Id",
                       "Deel 1", "Deel 1 media 1", "Deel 1 alt 1", "Deel 1 media 2", "Deel 1 alt 2",
                       "Deel 2", "Deel 2 media 1", "Deel 2 alt 1", "Deel 2 media 2", "Deel 2 alt 2")
    assert len(rows) == 4  # the thread on two accounts, the single post on one
    first = dict(zip(rows[0], rows[1]))
    assert first["Lokale tijd"] == datetime(2027, 2, 1, 10, 0) and first["UTC"] == datetime(2027, 2, 1, 9, 0)
    assert (first["Deel 1"], first["Deel 2"]) == ("Deel een", "Deel twee")
    assert first["Deel 1 media 1"].endswith("foto.png") and first["Deel 1 alt 2"] == "Nog een deur"
    assert first["Deel 2 media 1"] is None
    last = dict(zip(rows[0], rows[3]))
    assert (last["Id"], last["Deel 1"], last["Deel 2"]) == ("b/los/tas", "Los bericht", None)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:V4"


def test_plan_ics_stable_uids_and_dtstamp(write_posts):
    from icalendar import Calendar

    path = thread_file(write_posts)
    first = run("plan", path, "--format", "ics", "--now", "2026-12-01T12:00Z")
    assert first.exit_code == 0, first.output
    events = Calendar.from_ical(first.stdout_bytes).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == ["a/draad/social", "a/draad/tas", "b/los/tas"]
    assert all(e["DTSTAMP"].dt.isoformat() == "2026-12-01T12:00:00+00:00" for e in events)
    assert events[0]["DTSTART"].dt.isoformat() == "2027-02-01T09:00:00+00:00"
    assert "Deel een" in str(events[0]["DESCRIPTION"]) and "Deel twee" in str(events[0]["DESCRIPTION"])
    again = run("plan", path, "--format", "ics", "--now", "2026-12-01T12:00Z")
    assert again.stdout_bytes == first.stdout_bytes


def test_plan_filters_by_account_campaign(write_posts):
    path = thread_file(write_posts)

    def ids(*options):
        result = run("plan", path, "--format", "json", *options)
        assert result.exit_code == 0, result.output
        return [record["id"] for record in json.loads(result.output)]

    assert ids("--account", "tas") == ["a/draad/tas", "b/los/tas"]
    assert ids("--account", "@team@social.example") == ["a/draad/social"]
    assert ids("--campaign", "b") == ["b/los/tas"]
    assert ids("--campaign", "a", "--account", "tas") == ["a/draad/tas"]
    assert ids("--account", "tas", "--account", "social", "--campaign", "a") == ["a/draad/social", "a/draad/tas"]
    unknown = run("plan", path, "--campaign", "c")
    assert unknown.exit_code == 2 and "unknown campaign 'c'; known: a, b" in unknown.output
    assert run("plan", path, "--account", "nobody").exit_code == 2


def test_plan_filters_by_queue_state(write_posts, tmp_path):
    path = thread_file(write_posts)
    db = tmp_path / "queue.db"
    missing = run("plan", path, "--state", "queued", "--db", db)
    assert missing.exit_code == 2 and "not there" in missing.output
    assert run("sync", path, "--db", db, "--now", "2026-12-01T12:00Z").exit_code == 0
    queued = run("plan", path, "--format", "json", "--state", "queued", "--db", db)
    assert [r["id"] for r in json.loads(queued.output)] == ["a/draad/social", "a/draad/tas", "b/los/tas"]
    (path.parent / "posts.yaml").write_text(THREAD_POSTS + "      - {id: nieuw, text: Nieuw, at: 2027-02-03 10:00}\n")
    new = run("plan", path, "--format", "json", "--state", "new", "--db", db)
    assert [r["id"] for r in json.loads(new.output)] == ["b/nieuw/tas"]
    wrong = run("plan", path, "--state", "verstuurd", "--db", db)
    assert wrong.exit_code == 2 and "unknown state 'verstuurd'" in wrong.output
