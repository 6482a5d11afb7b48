"""`archive report --html`: a well-formed, self-contained page whose SVG charts are accessible and
followed by their numbers (the same as `archive stats --format json`), hostile text inert, size bounded."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from lxml import etree

from archive import charts
from archive.cli import main
from archive.records import ArchivedPost, Link
from archive.report import MAX_WEEKS
from archive.store import open_archive, upsert_posts
from tests.archive_fixtures import seed_tweets, write_x_zip, x_archive_files
from tests.test_archive_stats import link_to_campaign

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '"><script>alert(1)</script><img src=x onerror="alert(2)">'


def report(url, *args) -> str:
    result = CliRunner().invoke(main, ["report", "--db", url, "--html", "-", "--now", "2026-01-01", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def parse(page: str):
    """The page as XML: stricter than any browser (every element closed, every entity known)."""
    assert page.startswith("<!DOCTYPE html>\n")
    return etree.fromstring(page.split("\n", 1)[1].encode())


def text_of(element) -> str:
    return "".join(element.itertext()).strip()


def tables(root) -> dict[str, list[list[str]]]:
    """Each table by its caption: rows of cell texts (header row first)."""
    out = {}
    for table in root.iter("table"):
        caption = text_of(table.find("caption"))
        out[caption] = [[text_of(cell) for cell in row] for row in table.iter("tr")]
    return out


def number(text: str) -> int:
    return int(re.sub(r"[^0-9]", "", text))


@pytest.fixture
def seeded(tmp_path, database_url):
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(write_x_zip(tmp_path / "a.zip", x_archive_files(seed_tweets()))),
                                  "--db", database_url])
    assert result.exit_code == 0, result.output
    return database_url


def test_the_page_is_well_formed_self_contained_and_its_charts_accessible(seeded):
    page = report(seeded)
    root = parse(page)
    assert root.get("lang") == "nl" and root.find("head/title").text == "Archiefrapport"
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.replace('xmlns="http://www.w3.org/2000/svg"', "")
                         .split("<main>")[0])  # no external assets
    assert root.find(".//script") is None and "<link" not in page
    svgs = list(root.iter(f"{SVG}svg"))
    assert len(svgs) >= 6  # posts and engagement per month and per week, hashtags, mentions, links
    for svg in svgs:
        assert svg.get("role") == "img" and svg.get("style") is None
        title_id, desc_id = svg.get("aria-labelledby"), svg.get("aria-describedby")
        assert svg.find(f"{SVG}title").get("id") == title_id and svg.find(f"{SVG}title").text
        assert svg.find(f"{SVG}desc").get("id") == desc_id and svg.find(f"{SVG}desc").text
        assert not [e for e in svg.iter() if e.get("style") is not None]
        figure = svg.getparent()
        assert figure.tag == "figure"
        assert figure.find("details/table") is not None, svg.get("aria-labelledby")
        assert figure.find("figcaption") is not None and text_of(figure.find("figcaption"))
    summaries = [text_of(f) for f in root.iter("figcaption")]
    assert "Meeste berichten in 2015-W05: 4; 3 weken zonder berichten." in summaries
    assert any(s.startswith("Meeste berichten in januari 2015: 6;") for s in summaries)


def test_the_numbers_are_those_of_archive_stats(seeded):
    root = parse(report(seeded, "--locale", "en"))
    found = tables(root)
    runner = CliRunner()
    for period, caption in (("month", "Posts per month"), ("week", "Posts per week")):
        data = json.loads(runner.invoke(main, ["stats", "--db", seeded, "--format", "json", "--by", period]).stdout)
        rows = found[caption][1:]
        assert [number(row[2]) for row in rows] == [p["posts"] for p in data["per_period"]]
        assert [[number(c) for c in row[3:7]] for row in rows] == [list(p["kinds"].values())
                                                                    for p in data["per_period"]]
        engagement = found[caption.replace("Posts", "Engagement")][1:]
        assert [number(row[1]) for row in engagement] == [p["engagement"] for p in data["per_period"]]
        if period == "week":
            assert [row[0] for row in rows] == [p["period"] for p in data["per_period"]]
    assert [(row[0], number(row[1])) for row in found["Hashtags"][1:]] == [
        ("#" + h["hashtag"], h["posts"]) for h in data["top_hashtags"]]
    assert [(row[0], number(row[1])) for row in found["Mentions"][1:]] == [
        ("@" + m["mention"], m["posts"]) for m in data["top_mentions"]]
    overview = dict((row[0], number(row[1])) for row in found["Overview"][1:])
    assert overview["All posts"] == data["posts"] and overview["Engagement"] == data["engagement"]
    top = [text_of(li.find("p")) for li in root.iter("li") if li.getparent().get("class") == "top-posts"]
    assert top == [p["text"] for p in data["top_posts"] if p["engagement"] > 0]


def test_hostile_text_is_inert(tmp_path, database_url):
    archive = open_archive(database_url)
    at = datetime(2015, 1, 27, 10, tzinfo=timezone.utc)
    upsert_posts(archive, [
        ArchivedPost("x", "1", HOSTILE, at, HOSTILE + " <style>body{display:none}</style>", metrics={"likes": 5},
                     url="javascript:alert(3)", hashtags=(HOSTILE,), mentions=(HOSTILE,),
                     links=(Link("javascript:alert(4)", "javascript:alert(5)"), Link(HOSTILE, HOSTILE))),
        ArchivedPost("x", "2", "ander", at + timedelta(days=40), "&lt;b&gt; ]]> <!-- -->", metrics={"likes": 1},
                     url="https://x.com/ander/status/2", links=(Link("https://e.nl/?a=1&b=<2>"),)),
    ], source="test", now=NOW)
    link_to_campaign(archive, ["1"], campaign=HOSTILE)
    archive.engine.dispose()
    page = report(database_url, "--title", HOSTILE)
    root = parse(page)
    assert root.find(".//script") is None and root.find(".//img") is None and len(list(root.iter("style"))) == 1
    for element in root.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            assert "javascript:" not in value.lower(), (element.tag, name, value)
    hrefs = [a.get("href") for a in root.iter("a")]
    assert "https://x.com/ander/status/2" in hrefs and "https://e.nl/?a=1&b=<2>" in hrefs
    body = text_of(root.find("body"))
    assert HOSTILE in body and "&lt;b&gt; ]]> <!-- -->" in body
    assert root.find("head/title").text == HOSTILE


def test_locale_english_and_dutch(seeded):
    dutch, english = parse(report(seeded)), parse(report(seeded, "--locale", "en"))
    assert [text_of(h) for h in dutch.iter("h2")][:3] == ["Overzicht", "Per maand", "Per week"]
    assert [text_of(h) for h in english.iter("h2")][:3] == ["Overview", "Per month", "Per week"]
    assert "januari 2015" in text_of(dutch.find("body")) and "January 2015" in text_of(english.find("body"))
    bad = CliRunner().invoke(main, ["report", "--db", seeded, "--html", "-", "--locale", "fr"])
    assert bad.exit_code == 2


def test_the_page_stays_small_over_twenty_years(tmp_path, database_url):
    archive = open_archive(database_url)
    start = datetime(2006, 1, 1, tzinfo=timezone.utc)
    upsert_posts(archive, [
        ArchivedPost("x", str(n), f"account{n % 9}", start + timedelta(days=n * 3.6), "woord " * 4000,
                     kind=("post", "reply", "repost", "quote")[n % 4], metrics={"likes": n % 50, "reposts": n % 7},
                     hashtags=(f"{'h' * 250}{n % 40}",), mentions=(f"m{n % 30}",),
                     links=(Link(f"https://t.co/{n}", f"https://example.org/{'p' * 900}/{n % 60}"),))
        for n in range(2000)], source="test", now=NOW)
    archive.engine.dispose()
    page = report(database_url, "--top", "100")
    root = parse(page)
    assert len(page.encode()) < 2_000_000
    assert len(list(root.iter(f"{SVG}svg"))) >= 7  # also posts per month per account
    assert all(len(text_of(li)) < 1500 for li in root.iter("li") if li.getparent().get("class") == "top-posts")
    # A range of centuries is not drawn per week (nor per month): said instead, and still small.
    long = report(database_url, "--from", "1970-01-01", "--until", "2199-12-31")
    assert len(long.encode()) < 2_000_000 and "Te veel weken" in long and "Te veel maanden" in long
    assert len(list(parse(long).iter(f"{SVG}svg"))) < len(list(root.iter(f"{SVG}svg")))
    assert MAX_WEEKS >= 1040


def test_nothing_to_report_and_the_file_is_written(tmp_path, seeded):
    page = report(seeded, "--from", "2020-01-01", "--until", "2020-01-31")
    assert "Geen berichten in deze periode." in page
    target = tmp_path / "site" / "rapport.html"
    result = CliRunner().invoke(main, ["report", "--db", seeded, "--html", str(target)])
    assert result.exit_code == 0 and target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(target.parent.glob("*.tmp"))


def test_charts_escape_and_stay_free_of_style_attributes():
    svg = charts.bar_chart("c<1>", ["<a>", "b"], [charts.Series('x"y', [1, 2]), charts.Series("z", [0, 3], "#fff")],
                           title="<t>", description="d&d", labels=["<a>", None])
    root = etree.fromstring(str(svg).encode())
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c<1>-title"
    assert root.get("aria-describedby") == "c<1>-desc"
    assert root.find(f"{SVG}title").text == "<t>" and root.find(f"{SVG}desc").text == "d&d"
    assert "style=" not in str(svg) and "<a>" not in str(svg)
    line = charts.line_chart("l", ["a"], [charts.Series("s", [4])], title="t", description="d")
    assert etree.fromstring(str(line).encode()).find(f".//{SVG}circle") is not None
    bars = charts.hbar_chart("h", [("#" + "x" * 80, 3), ("y", 0)], title="t", description="d")
    assert "…" in str(bars) and etree.fromstring(str(bars).encode()) is not None
    assert charts.nice_ticks(0) == [0, 1] and charts.nice_ticks(42) == [0, 10, 20, 30, 40, 50]
    assert charts.nice_ticks(3) == [0, 1, 2, 3] and charts.nice_ticks(1234) == [0, 250, 500, 750, 1000, 1250]


def report_messages() -> dict[str, str]:
    """Every text archive/report.py and its templates show (English ids), and where."""
    from pathlib import Path

    from babel.messages.extract import extract_from_file

    archive = Path(__file__).resolve().parent.parent / "archive"
    keywords = {"_": None, "N_": None, "N_plural": (1, 2), "ngettext": (1, 2), "rt": None}
    found = {}
    for path, method in ([(archive / "report.py", "python")]
                         + [(p, "jinja2") for p in sorted((archive / "templates").glob("report*.html"))]):
        for _line, message, _comments, _context in extract_from_file(method, str(path), keywords=keywords,
                                                                     options={"extensions": ""}):
            found.setdefault(message if isinstance(message, str) else message[0], path.name)
    return found


def test_every_report_text_is_in_the_dutch_catalogue_and_only_those():
    """One set of texts for `archive report` and the workspace's charts: archive/locale/nl/…/report.po."""
    from babel.messages.pofile import read_po

    from archive.report import LOCALE_DIR

    with (LOCALE_DIR / "nl" / "LC_MESSAGES" / "report.po").open("rb") as handle:
        dutch = {(m.id if isinstance(m.id, str) else m.id[0]): m.string for m in read_po(handle) if m.id}
    used = report_messages()
    assert sorted(f"{where}: {text!r}" for text, where in used.items()
                  if not (all(dutch[text]) if isinstance(dutch.get(text), tuple) else dutch.get(text))) == []
    assert sorted(set(dutch) - set(used)) == []
