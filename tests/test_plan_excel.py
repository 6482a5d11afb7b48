"""`campaign plan --excel`: the plan as CSV for (Dutch) Excel, through the same code as `archive export --excel`."""
from __future__ import annotations

import csv
import io

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
