"""archive.render: the seed's lines and the HTML widget; hostile text stays harmless."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from io import StringIO

import pytest

from archive.records import ArchivedPost, Link
from archive.reltime import RelativeTime
from archive.render import entries, lines, render_html, safe_href, segments, write_lines

UTC = timezone.utc
NOW = datetime(2020, 11, 26, 23, 0, tzinfo=UTC)  # 2020-11-27 00:00 in Amsterdam
NL = RelativeTime("nl", "Europe/Amsterdam")


def post(text, *, when=datetime(2015, 1, 26, 15, 45, tzinfo=UTC), platform="x", account="teamsaantstuur",
         links=(), url=None, remote_id="1"):
    return ArchivedPost(platform, remote_id, account, when, text, links=tuple(links), url=url)


SEED = post("Interessante discussie over de (on)mogelijkheden van #zelfstandigeteams @GemeenteUtrecht. "
            "Praat mee! https://t.co/RnqJ4pQbBb",
            links=[Link("https://t.co/RnqJ4pQbBb", "https://publicpapersutrecht.nl/teams-aan-het-stuur/discussie",
                        "publicpapersutrecht.nl/tea…")],
            url="https://x.com/teamsaantstuur/status/559738783134683153")


def test_seed_line():
    assert list(lines([SEED], now=NOW, relative=NL)) == [
        "@teamsaantstuur Interessante discussie over de (on)mogelijkheden van #zelfstandigeteams "
        "@GemeenteUtrecht. Praat mee! https://t.co/RnqJ4pQbBb 5 jaar 10 maanden geleden"]


def test_lines_put_a_multi_line_text_on_one_line():
    out = StringIO()
    assert write_lines([post("een\ntwee\n\n drie")], out, now=NOW, relative=NL) == 1
    assert out.getvalue() == "@teamsaantstuur een twee drie 5 jaar 10 maanden geleden\n"


def test_segments_link_tags_mentions_and_expand_links():
    parts = segments(SEED)
    linked = [(s.kind, s.text, s.href) for s in parts if s.href]
    assert linked == [
        ("tag", "#zelfstandigeteams", "https://x.com/hashtag/zelfstandigeteams"),
        ("mention", "@GemeenteUtrecht", "https://x.com/GemeenteUtrecht"),
        ("url", "publicpapersutrecht.nl/tea…", "https://publicpapersutrecht.nl/teams-aan-het-stuur/discussie"),
    ]
    assert "".join(s.text for s in parts).startswith("Interessante discussie")


def test_trailing_punctuation_is_not_part_of_a_link():
    parts = segments(post("Laat jouw mening horen via http://t.co/HkaCSetas2!"))
    assert [(s.text, s.href) for s in parts if s.href] == [("t.co/HkaCSetas2", "http://t.co/HkaCSetas2")]
    assert parts[-1].text == "!"


def test_mastodon_and_bluesky_targets():
    toot = post("#Utrecht @anne@social.example @bert", platform="mastodon", account="team",
                url="https://social.utrecht.nl/@team/1")
    assert [s.href for s in segments(toot) if s.href] == [
        "https://social.utrecht.nl/tags/Utrecht", "https://social.example/@anne", "https://social.utrecht.nl/@bert"]
    sky = post("#teams @anne.bsky.social", platform="bluesky", account="team.bsky.social")
    assert [s.href for s in segments(sky) if s.href] == [
        "https://bsky.app/hashtag/teams", "https://bsky.app/profile/anne.bsky.social"]


@pytest.mark.parametrize("url, safe", [
    ("https://example.org/a?b=1&c=2", True), ("http://x.nl", True), ("javascript:alert(1)", False),
    ("JavaScript:alert(1)", False), (" javascript:alert(1)", False), ("data:text/html,<script>", False),
    ("//evil.example/x", False), ("vbscript:msgbox", False), ("https://", False), (None, False)])
def test_safe_href(url, safe):
    assert (safe_href(url) is not None) == safe


def test_control_characters_never_reach_an_href():
    assert safe_href("https://example.org/a\x00b\x7f") == "https://example.org/ab"
    assert safe_href("java\x00script:alert(1)") is None
    parts = segments(post("zie https://example.org/a\x00\"onmouseover=x en https://t.co/z",
                          links=[Link("https://t.co/z", "https://example.org/\x01b", "example.org/b")]))
    assert [s.href for s in parts if s.href] == ["https://example.org/a", "https://example.org/b"]


HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "javascript:alert(document.cookie)",
    "</section></ol><script>alert(1)</script>",
    "&lt;script&gt; & &amp; <!-- comment --> ]]> <![CDATA[x]]>",
    "https://example.org/\"onmouseover=\"alert(1)",
    "#<b>tag</b> @<i>x</i>",
]


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_harmless(text):
    evil_link = Link("https://t.co/abc", "javascript:alert(1)", "click me")
    hostile = post(text + " https://t.co/abc", links=[evil_link], url="javascript:alert(2)")
    for fragment in (True, False):
        html = render_html([hostile], now=NOW, relative=NL, fragment=fragment)
        parser = _Collector()
        parser.feed(html)
        assert set(parser.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "section", "ol", "li",
                                    "a", "span", "time"}
        assert "script" not in parser.tags and "img" not in parser.tags
        for name, value in parser.attrs:
            assert not name.startswith("on")
            if name == "href":
                assert value.startswith(("https://", "http://"))
        assert "javascript:alert(1)\"" not in html


@pytest.mark.parametrize("text", HOSTILE + ["plain", "ümlaut & ©"])
def test_fragment_is_well_formed(text):
    html = render_html([post(text), SEED], now=NOW, relative=NL, fragment=True)
    root = ET.fromstring(html)
    assert root.tag == "section"
    times = root.findall(".//time")
    assert [t.get("datetime") for t in times] == ["2015-01-26T15:45:00Z"] * 2
    assert all(t.text == "5 jaar 10 maanden geleden" for t in times)


def test_page_is_self_contained_and_newest_first():
    older = post("ouder", when=datetime(2014, 12, 11, 8, 12, tzinfo=UTC), remote_id="0")
    html = render_html([older, SEED], now=NOW, relative=NL, title="Teams aan het stuur!")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "src=" not in html and "@import" not in html and "<link" not in html
    assert html.index("Interessante") < html.index("ouder")
    assert "5 jaar 11 maanden geleden" in html and "<title>Teams aan het stuur!</title>" in html
    assert '<html lang="nl">' in html


def test_entries_use_english_when_asked():
    [entry] = entries([SEED], now=NOW, relative=RelativeTime("en", "Europe/Amsterdam"))
    assert entry.relative == "5 years 10 months ago"
    assert entry.datetime == "2015-01-26T15:45:00Z"


def test_future_post_renders_in_future_tense():
    soon = post("straks", when=NOW + timedelta(days=3, hours=2))
    assert "over 3 dagen 2 uur" in render_html([soon], now=NOW, relative=NL, fragment=True)


def test_numbered_pages_keep_hostile_text_inert(tmp_path):
    from archive.render import write_pages

    evil_link = Link("https://t.co/abc", "javascript:alert(1)", "click me")
    posts = [post(text + " https://t.co/abc", links=[evil_link], url="javascript:alert(2)", remote_id=str(n),
                  when=NOW - timedelta(days=n + 1)) for n, text in enumerate(HOSTILE)]
    assert write_pages(posts, tmp_path, per_page=3, total=len(posts), now=NOW, relative=NL,
                       title="<script>alert('t')</script>", language="en") == 3
    for number in (1, 2, 3):
        html = (tmp_path / f"page-{number}.html").read_text(encoding="utf-8")
        parser = _Collector()
        parser.feed(html)
        assert set(parser.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "section", "ol", "li",
                                    "a", "span", "time", "nav"}
        for name, value in parser.attrs:
            assert not name.startswith("on")
            if name == "href":
                assert value.startswith(("https://", "http://")) or re.fullmatch(r"page-[123]\.html", value)
        assert f"Page {number} of 3" in html and "<script>" not in html


def test_pages_of_an_empty_timeline(tmp_path):
    from archive.render import write_pages

    assert write_pages([], tmp_path, per_page=10, total=0, now=NOW, relative=NL) == 1
    html = (tmp_path / "page-1.html").read_text(encoding="utf-8")
    assert "Pagina 1 van 1" in html and 'rel="next"' not in html and 'rel="prev"' not in html
