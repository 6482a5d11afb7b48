"""The archive's charts in the workspace (/archive/report): the charts of `archive report --html` for
the archive browser's filter, accessible, in Dutch or English, with hostile text inert and nothing
inline that the Content-Security-Policy would block; its numbers as CSV for Excel."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from lxml import html as lxml_html

from archive.records import ArchivedPost, Link
from tests.test_archive_stats import link_to_campaign
from tests.web_support import add_people, client, make_workspace, signed_in_client

NOW = datetime(2020, 11, 27, 12, 0, tzinfo=timezone.utc)
JANUARY = datetime(2015, 1, 5, 9, 0, tzinfo=timezone.utc)  # a Monday, 2015-W02
APRIL = datetime(2015, 4, 6, 9, 0, tzinfo=timezone.utc)  # 2015-W15
HOSTILE = '"><script>alert(1)</script><img src=x onerror="alert(2)">'
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def app(db):
    """Ten posts in January 2015 and three in April (nothing in between), a reply, another account's
    post, a hostile one; two of the January posts sent by the campaign `tas`."""
    from archive.store import migrate, upsert_posts

    migrate(db)
    records = [ArchivedPost("x", str(100 + n), "teamsaantstuur", JANUARY + timedelta(days=n),
                            f"Bericht {n} over #zelfstandigeteams", hashtags=("zelfstandigeteams",),
                            url=f"https://x.com/teamsaantstuur/status/{100 + n}", metrics={"likes": n, "reposts": 1})
               for n in range(10)]
    records += [ArchivedPost("x", str(200 + n), "teamsaantstuur", APRIL + timedelta(days=n), f"Lente {n} #utrecht",
                             hashtags=("utrecht",), metrics={"likes": 2}) for n in range(3)]
    records.append(ArchivedPost("x", "300", "teamsaantstuur", JANUARY + timedelta(hours=2), "@deboerleo Hallo leo",
                                kind="reply", mentions=("deboerleo",)))
    records.append(ArchivedPost("x", "400", "iemandanders", JANUARY, "Een ander account", metrics={"likes": 1}))
    records.append(ArchivedPost("x", "500", "teamsaantstuur", JANUARY + timedelta(days=2, hours=3),
                                "=HYPERLINK(\"http://evil\") " + HOSTILE + " <style>body{display:none}</style>",
                                url="javascript:alert(3)", metrics={"likes": 50}, hashtags=(HOSTILE,),
                                mentions=(HOSTILE,), links=(Link("javascript:alert(4)", "javascript:alert(5)"),
                                                            Link("https://t.co/x", "https://example.org/?a=1&b=<2>"))))
    upsert_posts(db, records, source="test", now=NOW)
    link_to_campaign(db, ["100", "101"], campaign="tas")
    add_people(db, NOW)
    application, _ws = make_workspace(db, now=NOW)
    return application


@pytest.fixture
def viewer(app):
    return signed_in_client(app, "viewer")


def tree(page: str):
    return lxml_html.fromstring(page)


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def table(root, caption: str) -> list[list[str]]:
    """The rows (header first) of the table with this caption."""
    [found] = [t for t in root.iter("table") if text_of(t.find("caption")) == caption]
    return [[text_of(cell) for cell in row] for row in found.iter("tr")]


def overview(root) -> dict[str, str]:
    return {row[0]: row[1] for row in table(root, "Overzicht")[1:]}


def summaries(root) -> list[str]:
    return [text_of(f) for f in root.iter("figcaption")]


def test_a_viewer_sees_the_charts_each_with_its_numbers_and_a_summary(viewer):
    answer = viewer.get("/archive/report")
    assert answer.status_code == 200
    root = tree(answer.text)
    assert text_of(root.find(".//h1")) == "Grafieken"
    assert root.xpath("//nav//a[@aria-current='page']/@href") == ["/archive/report"]
    svgs = root.findall(f".//{SVG}svg") or root.findall(".//svg")
    assert len(svgs) >= 6  # posts and engagement per month, per campaign, hashtags, mentions, links
    for svg in svgs:
        title_id, desc_id = svg.get("aria-labelledby"), svg.get("aria-describedby")
        assert svg.get("role") == "img"
        assert text_of(svg.xpath(f".//*[@id='{title_id}']")[0]) and text_of(svg.xpath(f".//*[@id='{desc_id}']")[0])
        figure = svg.getparent()
        assert figure.tag == "figure"
        assert figure.find("details/table") is not None and text_of(figure.find("figcaption"))
    assert overview(root)["Alle berichten"] == "16"
    assert "Meeste berichten in januari 2015: 13; 2 maanden zonder berichten." in summaries(root)
    headings = [text_of(h) for h in root.iter("h2")]
    assert headings[:2] == ["Overzicht", "Per maand"] and "Topberichten" in headings


def test_anonymous_readers_are_sent_to_sign_in(app):
    answer = client(app).get("/archive/report?period=week")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Farchive%2Freport%3Fperiod%3Dweek"
    assert client(app).get("/archive/report/export.csv").status_code == 303


def test_filters_change_the_numbers(viewer):
    def posts(query: str) -> str:
        return overview(tree(viewer.get(f"/archive/report?{query}").text))["Alle berichten"]

    assert posts("account=iemandanders") == "1"
    assert posts("kind=reply") == "1"
    assert posts("from=2015-04-01") == "3"
    assert posts("until=2015-01-06") == "4"  # the days are days in the campaign's zone, until included
    assert posts("campaign=tas") == "2"
    assert posts("search=lente") == "3"
    page = tree(viewer.get("/archive/report?campaign=tas").text)
    assert table(page, "Per campagne")[1][0] == "<b>tas</b>"  # the campaign's name, as text
    assert page.xpath("//select[@name='campaign']/option[@selected]/@value") == ["tas"]
    [back] = page.xpath("//a[starts-with(@href, '/archive?')]/@href")
    assert back == "/archive?campaign=tas", "the archive browser with the same filter"


def test_every_period_shows_those_without_posts_too(viewer):
    root = tree(viewer.get("/archive/report?period=week&account=teamsaantstuur").text)
    weeks = table(root, "Berichten per week")[1:]
    assert [row[0] for row in weeks][:3] == ["2015-W02", "2015-W03", "2015-W04"]
    assert weeks[-1][0] == "2015-W15" and len(weeks) == 14
    assert [row[2] for row in weeks[2:13]] == ["0"] * 11
    assert "Meeste berichten in 2015-W02: 9; 11 weken zonder berichten." in summaries(root)
    months = table(tree(viewer.get("/archive/report").text), "Berichten per maand")[1:]
    assert [(row[0], row[2]) for row in months] == [("januari 2015", "13"), ("februari 2015", "0"),
                                                    ("maart 2015", "0"), ("april 2015", "3")]


def test_hostile_post_text_stays_inert(viewer):
    page = viewer.get("/archive/report").text
    root = tree(page)
    assert root.xpath("//script") == [] and root.xpath("//img") == [] and root.xpath("//style") == []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            assert "javascript:" not in value.lower(), (element.tag, name, value)
    assert "https://example.org/?a=1&b=<2>" in root.xpath("//a/@href")
    top = [text_of(li.find("p")) for li in root.xpath("//ol[@class='top-posts']/li")]
    assert HOSTILE in top[0] and "<style>body{display:none}</style>" in top[0]


def test_the_page_keeps_to_its_content_security_policy(viewer):
    answer = viewer.get("/archive/report?period=week")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    page = answer.text
    assert not re.search(r"<script|<style", page, re.I)  # (the hostile post's are text: &lt;script)
    elements = [e for e in tree(page).iter() if isinstance(e.tag, str)]
    assert [(e.tag, name) for e in elements for name in e.attrib if name.lower() == "style" or
            name.lower().startswith("on")] == []
    stylesheets = tree(page).xpath("//link[@rel='stylesheet']/@href")
    assert "/static/report.css" in stylesheets and all(href.startswith("/static/") for href in stylesheets)
    assert viewer.get("/static/report.css").status_code == 200


def test_english_labels_and_the_same_texts_as_the_static_report(viewer, db):
    from archive.report import render_report
    from archive.stats import collect

    english = tree(viewer.get("/archive/report", headers={"Accept-Language": "en"}).text)
    assert text_of(english.find(".//h1")) == "Charts"
    assert [text_of(h) for h in english.iter("h2")][:2] == ["Overview", "Per month"]
    assert "Most posts in January 2015: 13; 2 months without posts." in summaries(english)
    static = lxml_html.fromstring(render_report(collect(db, zone=ZoneInfo("Europe/Amsterdam")), locale="en").encode())
    shared = {text for text in summaries(english) if "tas" not in text}  # the page names the campaign
    assert len(shared) >= 5 and shared <= set(summaries(static))


def test_the_numbers_export_as_csv_for_excel(viewer):
    page = tree(viewer.get("/archive/report?period=week&account=teamsaantstuur").text)
    links = {text_of(a): a.get("href") for a in page.xpath("//a[contains(@href, '/archive/report/export.csv')]")}
    assert set(links) == {"per periode", "per account", "per campagne", "topberichten", "hashtags", "vermeldingen",
                          "links"}
    answer = viewer.get(links["per periode"])
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["period", "first_day", "last_day", "posts"]
    shown = table(page, "Berichten per week")[1:]
    assert [(row[0], row[3]) for row in rows[1:]] == [(row[0], row[2]) for row in shown]
    top = list(csv.reader(io.StringIO(viewer.get(links["topberichten"]).content.decode("utf-8-sig")), delimiter=";"))
    texts = [row[top[0].index("text")] for row in top[1:]]
    assert texts[0].startswith("'=HYPERLINK(") and HOSTILE in texts[0], "a formula stays text in Excel"


def test_bad_filters_are_explained(viewer):
    for query, message in (("period=day", "Kies per maand of per week."),
                           ("campaign=nope", "Die campagne bestaat niet."),
                           ("account=nobody", "Dat account staat niet in het archief."),
                           ("from=31-01-2015", "Schrijf datums als jaar-maand-dag")):
        answer = viewer.get(f"/archive/report?{query}")
        assert answer.status_code == 200 and message in answer.text, query
        assert tree(answer.text).xpath("//figure") == []
    assert viewer.get("/archive/report/export.csv?section=bogus").status_code == 400
    assert viewer.get("/archive/report/export.csv?kind=bogus").status_code == 400


def test_the_archive_links_to_the_charts_of_its_filter(viewer):
    page = tree(viewer.get("/archive?account=teamsaantstuur&kind=post").text)
    assert "/archive/report?account=teamsaantstuur&kind=post" in page.xpath("//main//a/@href")
    assert page.xpath("//nav//a[@aria-current='page']/@href") == ["/archive"]


def test_an_empty_archive_says_so(db):
    add_people(db, NOW)
    application, _ws = make_workspace(db, now=NOW)
    root = tree(signed_in_client(application, "viewer").get("/archive/report").text)
    assert "Geen berichten in deze periode." in text_of(root)
    assert root.xpath("//a[contains(@href, 'export.csv')]") == []
