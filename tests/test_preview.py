"""Previews of queued posts (issue 14, part 2): what a reviewer notices, for each platform.

The queue is made the way a team makes it (`campaign sync` from a posts.yaml); the output is read
the way a browser reads it (html.parser), not by searching strings, where it matters."""
from __future__ import annotations

import base64
import re
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from campaign.cli import main
from campaign.preview import (build_view, fragment, load_view, standalone_html, stylesheet, translations)
from campaign.preview.model import AccountView
from campaign.queue.db import Database
from campaign.queue.tables import scheduled_posts
from campaign.spec.plan import load_plan
from campaign.spec.text import LIMITS, bluesky_display
from tests.stage import bluesky_account_yaml, bluesky_env

ROOT = Path(__file__).resolve().parent.parent
PNG = (ROOT / "media" / "stadskantoor030.png").read_bytes()
NOW = "2026-12-01T12:00Z"
CLEAN_ENV = {"CAMPAIGN_DATABASE_URL": None, "CAMPAIGN_FILE": None}

LONG = "https://www.rijksoverheid.nl/onderwerpen/zelfstandige-teams/documenten/rapporten/2027/eindrapport"
LONG += "-" * (100 - len(LONG))
assert len(LONG) == 100

POSTS = f"""\
timezone: Europe/Amsterdam
language: nl
accounts:
  tas_x: {{platform: x, handle: "@teamsaantstuur"}}
  tas_m: {{platform: mastodon, instance: "https://social.example", handle: "@team@social.example"}}
  tas_b: {{platform: bluesky, handle: teamsaantstuur.bsky.social}}
campaigns:
  tas:
    name: Teams aan het stuur!
    accounts: [tas_x, tas_m, tas_b]
    vars:
      link: https://publicpapersutrecht.nl/teams
    utm: {{medium: social}}
    posts:
      - id: aankondiging
        text: "Praat mee over #zelfstandigeteams met @GemeenteUtrecht en @team@social.example #2027: {{link}}"
        media: {{path: foto.png, alt: "Het Stadskantoor aan het Jaarbeursplein"}}
        at: 2027-01-18 10:00
      - id: lang
        text: "Lees meer: {LONG}"
        at: 2027-01-19 10:00
      - id: draad
        accounts: [tas_x]
        thread:
          - "Eerste deel van het draadje"
          - text: "Tweede deel, met een foto"
            media: {{path: foto.png, alt: "Een rode deur"}}
          - "Derde en laatste deel"
        at: 2027-01-20 10:00
"""


def campaign(*args):
    return CliRunner().invoke(main, [str(a) for a in args], env=CLEAN_ENV, catch_exceptions=False)


class Parsed(HTMLParser):
    """Every element with its attributes, and the text, as a browser would read them."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.texts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def tags(self, name: str) -> list[dict]:
        return [attrs for tag, attrs in self.elements if tag == name]

    def with_class(self, name: str) -> list[dict]:
        return [attrs for _, attrs in self.elements if name in (attrs.get("class") or "").split()]


class Segments(HTMLParser):
    """The text of every element with a given class, in order."""

    def __init__(self, markup: str, css_class: str):
        super().__init__(convert_charrefs=True)
        self.css_class, self.found, self._depth, self._open = css_class, [], 0, None
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        if self._open is not None:
            self._depth += 1
        elif self.css_class in (dict(attrs).get("class") or "").split():
            self._open, self._depth = [], 1

    def handle_endtag(self, tag):
        if self._open is not None:
            self._depth -= 1
            if self._depth == 0:
                self.found.append("".join(self._open))
                self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open.append(data)


def assert_inert(markup: str) -> Parsed:
    """No script, no event handler, no link or image source but http(s) or our own."""
    parsed = Parsed(markup)
    assert parsed.tags("script") == []
    for tag, attrs in parsed.elements:
        assert not [name for name in attrs if name.lower().startswith("on")], (tag, attrs)
        if "href" in attrs:
            assert re.match(r"https?://", attrs["href"] or ""), (tag, attrs)
        if "src" in attrs:
            assert re.match(r"(data:image/(png|jpeg|gif|webp);base64,|/media/)", attrs["src"] or ""), (tag, attrs)
    return parsed


@pytest.fixture
def queue(tmp_path):
    """posts.yaml with its image, synced: (posts file, database file, {(account, post): id})."""
    (tmp_path / "foto.png").write_bytes(PNG)
    return make_queue(tmp_path, POSTS)


def make_queue(folder: Path, posts: str):
    path = folder / "posts.yaml"
    path.write_text(textwrap.dedent(posts), encoding="utf-8")
    db_file = folder / "campaign.db"
    result = campaign("sync", path, "--db", db_file, "--now", NOW)
    assert result.exit_code == 0, result.output
    database = Database(f"sqlite:///{db_file}")
    with database.transaction() as connection:
        ids = {(row.account, row.post_id): row.id for row in connection.execute(
            select(scheduled_posts.c.id, scheduled_posts.c.account, scheduled_posts.c.post_id))}
    database.engine.dispose()
    return path, db_file, ids


def view_of(db_file: Path, post_id: int):
    database = Database(f"sqlite:///{db_file}")
    try:
        return load_view(database, post_id)
    finally:
        database.engine.dispose()


def change_row(db_file: Path, post_id: int, **values):
    database = Database(f"sqlite:///{db_file}")
    with database.transaction(write=True) as connection:
        connection.execute(update(scheduled_posts).where(scheduled_posts.c.id == post_id).values(**values))
    database.engine.dispose()


def planned_lengths(path: Path) -> dict[tuple[str, str], list[int]]:
    """What `campaign check` / `campaign plan` count, per (account, post)."""
    return {(o.account, o.post_id): [p.length for p in o.parts] for o in load_plan(path).occurrences}


def media_route(part_index, media_index, media):
    return f"/media/{part_index}/{media_index}"


# --- the final text, its links and its length ----------------------------------------------------------

def test_final_text_has_the_variables_filled_in_and_utm_added(queue):
    path, db_file, ids = queue
    view = view_of(db_file, ids["tas_x", "aankondiging"])
    [part] = view.parts
    assert "{link}" not in part.text
    assert "https://publicpapersutrecht.nl/teams?utm_source=x&utm_medium=social&utm_campaign=tas" in part.text
    [link] = part.links
    assert link.href.startswith("https://publicpapersutrecht.nl/teams?utm_source=x&utm_medium=social")
    hrefs = [a["href"] for a in Parsed(fragment(view, media_route)).tags("a")]
    assert link.href in hrefs
    assert view.account == AccountView("tas_x", "x", "@teamsaantstuur", None)
    assert view.local_time.isoformat() == "2027-01-18T10:00:00+01:00" and view.timezone == "Europe/Amsterdam"
    assert view.language == "nl"


def test_x_shows_a_long_link_shortened_and_counts_it_23_like_check(queue):
    path, db_file, ids = queue
    view = view_of(db_file, ids["tas_x", "lang"])
    [part] = view.parts
    [link] = part.links
    assert link.text == "rijksoverheid.nl/onderwerp…"  # no scheme, no www., 26 characters and …
    assert link.source == LONG and link.href == LONG and link.counted == 23
    assert part.shown == "Lees meer: rijksoverheid.nl/onderwerp…"
    assert part.length == len("Lees meer: ") + 23 == planned_lengths(path)["tas_x", "lang"][0]
    assert part.limit == LIMITS["x"] == 280
    markup = fragment(view, media_route)
    assert Segments(markup, "pm-link").found == ["rijksoverheid.nl/onderwerp…"]
    assert Segments(markup, "pm-count").found == ["34/280"]


def test_mastodon_hides_the_scheme_cuts_after_30_and_counts_23_like_check(queue):
    path, db_file, ids = queue
    view = view_of(db_file, ids["tas_m", "lang"])
    [part] = view.parts
    assert [link.text for link in part.links] == ["rijksoverheid.nl/onderwerpen/z…"]
    assert part.length == planned_lengths(path)["tas_m", "lang"][0] == len("Lees meer: ") + 23
    assert part.limit == 500


def test_bluesky_shows_links_exactly_as_the_sender_posts_them(queue):
    path, db_file, ids = queue
    for post in ("lang", "aankondiging"):
        [part] = view_of(db_file, ids["tas_b", post]).parts
        assert part.shown == bluesky_display(part.text)[0]
        assert part.length == planned_lengths(path)["tas_b", post][0]
    [part] = view_of(db_file, ids["tas_b", "lang"]).parts
    [link] = part.links
    assert link.text == LONG[len("https://"):][:31] + "…" and link.source == LONG
    [part] = view_of(db_file, ids["tas_b", "aankondiging"]).parts
    [link] = part.links
    assert link.text == "publicpapersutrecht.nl/teams"  # tracking parameters are not shown
    assert link.source.startswith("https://publicpapersutrecht.nl/teams?utm_source=bluesky")  # but linked


def test_bluesky_preview_equals_the_text_and_facets_the_fake_receives(stage, fake_bluesky):
    fake_bluesky.add_account("gemeenteutrecht.bsky.social")
    stage.environ.update(bluesky_env(fake_bluesky))
    stage.write(bluesky_account_yaml(fake_bluesky),
                f"- {{text: 'Praat mee over #zelfstandigeteams met @gemeenteutrecht.bsky.social: {{link}} en {LONG}',"
                f" at: {stage.at(-1)}}}\n", accounts="tas_b", extra="    utm: {medium: social}\n")
    stage.sync()
    [row] = stage.rows()
    [part] = load_view(stage.db, row.id).parts
    assert stage.run().count("sent") == 1
    [post] = fake_bluesky.posts
    assert post["text"] == part.shown
    raw = post["text"].encode()
    posted = sorted((f["index"]["byteStart"], f["features"][0]) for f in post["facets"])
    kinds = {"link": "link", "tag": "hashtag", "mention": "mention"}
    previewed = [s for s in part.segments if s.kind != "text"]
    assert [kinds[feature["$type"].rsplit("#", 1)[1]] for _, feature in posted] == [s.kind for s in previewed]
    for (_, feature), segment in zip(posted, previewed):
        if segment.kind == "link":
            assert feature["uri"] == segment.source
    assert [raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode() for f in
            sorted(post["facets"], key=lambda f: f["index"]["byteStart"])] == [s.text for s in previewed]


# --- hashtags and mentions, as each platform recognises them --------------------------------------------

def test_hashtags_and_mentions_are_highlighted_as_each_platform_recognises_them(queue):
    path, db_file, ids = queue
    x = fragment(view_of(db_file, ids["tas_x", "aankondiging"]), media_route)
    assert Segments(x, "pm-hashtag").found == ["#zelfstandigeteams"]  # #2027: all digits is no hashtag
    assert Segments(x, "pm-mention").found == ["@GemeenteUtrecht"]  # @team@social.example is none on X
    mastodon = fragment(view_of(db_file, ids["tas_m", "aankondiging"]), media_route)
    assert Segments(mastodon, "pm-hashtag").found == ["#zelfstandigeteams"]
    assert Segments(mastodon, "pm-mention").found == ["@GemeenteUtrecht", "@team"]  # the server is not shown
    assert [m["title"] for m in Parsed(mastodon).with_class("pm-mention")] == ["@GemeenteUtrecht",
                                                                               "@team@social.example"]
    bluesky = fragment(view_of(db_file, ids["tas_b", "aankondiging"]), media_route)
    assert Segments(bluesky, "pm-hashtag").found == ["#zelfstandigeteams"]
    assert Segments(bluesky, "pm-mention").found == []  # no handle with a dot: plain text on Bluesky


@pytest.mark.parametrize("text, hashtags, mentions", [
    ("#a1 #1a #_x #123 a#b x&#y #tag#not", ["#a1", "#1a", "#_x"], []),
    ("RT @abc: @abc_def @a@b.nl mail@example.com @ébc @" + "x" * 25, [], ["@abc", "@abc_def", "@" + "x" * 20]),
    ("https://example.com/#anchor #echt", ["#echt"], []),
])
def test_x_follows_twitter_text(text, hashtags, mentions):
    from campaign.preview.segments import segments

    found = segments("x", text)
    assert [s.text for s in found if s.kind == "hashtag"] == hashtags
    assert [s.text for s in found if s.kind == "mention"] == mentions
    assert "".join(s.source for s in found) == text


# --- threads, images and alt text -------------------------------------------------------------------------

def test_a_threads_parts_in_order_numbered(queue):
    path, db_file, ids = queue
    view = view_of(db_file, ids["tas_x", "draad"])
    assert [p.text for p in view.parts] == ["Eerste deel van het draadje", "Tweede deel, met een foto",
                                            "Derde en laatste deel"]
    markup = fragment(view, media_route)
    assert Segments(markup, "pm-text").found == [p.text for p in view.parts]
    assert Segments(markup, "pm-counter").found == ["1/3", "2/3", "3/3"]
    assert [li.get("aria-label") for li in Parsed(markup).with_class("pm-part")] == [
        "part 1 of 3", "part 2 of 3", "part 3 of 3"]


def test_images_with_their_alt_text_from_the_callers_route(queue):
    path, db_file, ids = queue
    view = view_of(db_file, ids["tas_x", "draad"])
    asked = []

    def route(part_index, media_index, media):
        asked.append((part_index, media_index, media.name, media.alt))
        return f"/media/{view.id}/{part_index}/{media_index}"

    parsed = Parsed(fragment(view, route))
    assert asked == [(1, 0, "foto.png", "Een rode deur")]
    assert parsed.tags("img") == [{"src": f"/media/{view.id}/1/0", "alt": "Een rode deur"}]
    assert Segments(fragment(view, route), "pm-alt").found == ["ALT Een rode deur"]


def test_a_missing_alt_text_is_warned_clearly(queue):
    path, db_file, ids = queue
    post_id = ids["tas_x", "aankondiging"]
    row_payload = view_of(db_file, post_id)
    payload = {"parts": [{"text": row_payload.parts[0].text, "media": [{"path": str(path.parent / "foto.png"),
                                                                        "alt": "  "}]}]}
    change_row(db_file, post_id, payload=payload)  # e.g. queued before alt text was required
    view = view_of(db_file, post_id)
    assert view.alt_missing
    markup = fragment(view, media_route)
    assert Segments(markup, "pm-warning").found == ["⚠ Alt text missing: foto.png"]
    result = campaign("preview", post_id, path, "--db", db_file, "--locale", "en")
    assert result.exit_code == 0 and "⚠ image foto.png — Alt text missing" in result.output
    page = standalone_html([view], gettext=translations("nl"), locale="nl")
    assert Segments(page, "pm-warning").found == ["⚠ Alt-tekst ontbreekt: foto.png"]


def test_over_the_limit_is_shown(queue):
    path, db_file, ids = queue
    post_id = ids["tas_x", "lang"]
    change_row(db_file, post_id, payload={"parts": [{"text": "€" * 141, "media": []}]})  # 282 on X
    view = view_of(db_file, post_id)
    [part] = view.parts
    assert part.length == 282 and part.over and view.over
    markup = fragment(view, media_route)
    assert Segments(markup, "pm-count").found == ["282/280"]
    assert "pm-over" in Parsed(markup).with_class("pm-length")[0]["class"].split()
    assert "2 over the limit" in Parsed(markup).text
    result = campaign("preview", post_id, path, "--db", db_file, "--locale", "nl")
    assert result.exit_code == 0 and "282/280 tekens — 2 te veel" in result.output


def test_an_accounts_own_limit_from_posts_yaml_counts_as_in_check(tmp_path):
    posts = POSTS.replace('handle: "@team@social.example"}', 'handle: "@team@social.example", max_chars: 1000}')
    (tmp_path / "foto.png").write_bytes(PNG)
    path, db_file, ids = make_queue(tmp_path, posts)
    result = campaign("preview", ids["tas_m", "lang"], path, "--db", db_file, "--locale", "en")
    assert result.exit_code == 0 and "34/1000 characters" in result.output, result.output


# --- hostile text stays text ------------------------------------------------------------------------------

HOSTILE = """\
timezone: Europe/Amsterdam
accounts:
  tas_x: {platform: x, handle: "@teamsaantstuur"}
  tas_m: {platform: mastodon, instance: "https://social.example", handle: "@team@social.example"}
  tas_b: {platform: bluesky, handle: teamsaantstuur.bsky.social}
campaigns:
  tas:
    accounts: [tas_x, tas_m, tas_b]
    posts:
      - id: vijandig
        text: |-
          <script>alert(1)</script> <img src=x onerror=alert(2)> javascript:alert(3)
          "onmouseover=alert(4) https://example.com/"onmouseover="alert(5)" <a href="javascript:alert(6)">klik</a>
          data:text/html,<script>alert(7)</script> vbscript:msgbox(8) https://example.com/a?b=<script>
        media: {path: foto.png, alt: '"><script>alert(9)</script><img src=x onerror=alert(10)>'}
        at: 2027-01-18 10:00
"""


@pytest.mark.parametrize("account", ["tas_x", "tas_m", "tas_b"])
def test_hostile_text_stays_inert(tmp_path, account):
    (tmp_path / "foto.png").write_bytes(PNG)
    path, db_file, ids = make_queue(tmp_path, HOSTILE)
    post_id = ids[account, "vijandig"]
    change_row(db_file, post_id, last_error='<script>alert(11)</script>', state="failed",
               remote_url="javascript:alert(12)", reply_to_url='https://x.com/a/status/1"onclick="alert(13)')
    view = view_of(db_file, post_id)
    assert view.remote_url is None  # only http(s) is kept
    for markup in (fragment(view, media_route), fragment(view, lambda *a: "javascript:alert(14)"),
                   standalone_html([view])):
        parsed = assert_inert(markup)
        text = parsed.text
        assert "<script>alert(1)</script>" in text and "javascript:alert(3)" in text
        assert '"onmouseover=alert(4)' in text and "<script>alert(11)</script>" in text
        assert [img["alt"] for img in parsed.tags("img")] in ([], ['"><script>alert(9)</script><img src=x '
                                                                   'onerror=alert(10)>'])
    page = campaign("preview", post_id, path, "--db", db_file, "--html", "-")
    assert page.exit_code == 0
    assert_inert(page.output)


def test_the_terminal_does_not_interpret_markup_or_escapes(tmp_path):
    (tmp_path / "foto.png").write_bytes(PNG)
    path, db_file, ids = make_queue(tmp_path, POSTS)
    post_id = ids["tas_x", "lang"]
    change_row(db_file, post_id, payload={"parts": [{"text": "[bold red]niet vet[/] \x1b[2J\u202eomgekeerd",
                                                     "media": []}]})
    result = campaign("preview", post_id, path, "--db", db_file)
    assert result.exit_code == 0
    assert "[bold red]niet vet[/] \\x1b[2J\\u202eomgekeerd" in result.output
    assert "\x1b" not in result.output


# --- the two outputs ----------------------------------------------------------------------------------------

def test_the_fragment_has_no_style_or_script_and_the_css_is_a_file_of_our_own(queue):
    path, db_file, ids = queue
    for key in (("tas_x", "aankondiging"), ("tas_m", "aankondiging"), ("tas_b", "aankondiging"),
                ("tas_x", "draad")):
        view = view_of(db_file, ids[key])
        parsed = Parsed(fragment(view, media_route, gettext=translations("nl"), locale="nl"))
        assert parsed.tags("style") == [] and parsed.tags("script") == []
        assert [attrs for _, attrs in parsed.elements if "style" in attrs] == []
        assert parsed.elements[0][0] == "article"
        assert f"pm-{view.platform}" in parsed.elements[0][1]["class"].split()
    css = stylesheet()
    assert ".pm-x" in css and ".pm-mastodon" in css and ".pm-bluesky" in css
    assert "url(" not in css and "@import" not in css and "@font-face" not in css


def test_the_standalone_page_embeds_images_and_works_offline(queue):
    path, db_file, ids = queue
    views = [view_of(db_file, ids["tas_x", "aankondiging"]), view_of(db_file, ids["tas_x", "draad"])]
    page = standalone_html(views, gettext=translations("nl"), locale="nl")
    parsed = assert_inert(page)
    assert parsed.tags("html") == [{"lang": "nl"}]
    assert len(parsed.tags("title")) == 1 and len(parsed.tags("style")) == 1
    embedded = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert [img["src"] for img in parsed.tags("img")] == [embedded, embedded]
    assert parsed.tags("link") == [] and parsed.tags("script") == []
    assert not re.search(r"""(src|href)=["'](?!https?://|data:)""", page.replace(embedded, "data:"))
    csp = [m["content"] for m in parsed.tags("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]


def test_missing_and_large_files_become_a_box_with_the_alt_text_and_the_reason(tmp_path):
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (6 * 1_000_000)
    (tmp_path / "foto.png").write_bytes(PNG)
    (tmp_path / "groot.png").write_bytes(big)
    posts = POSTS.replace("""      - id: lang""", """      - id: groot
        accounts: [tas_m]
        text: "Een grote foto"
        media: {path: groot.png, alt: "Een heel grote foto"}
        at: 2027-01-21 10:00
      - id: lang""")
    path, db_file, ids = make_queue(tmp_path, posts)
    (tmp_path / "foto.png").unlink()
    views = [view_of(db_file, ids["tas_m", "groot"]), view_of(db_file, ids["tas_m", "aankondiging"])]
    page = standalone_html(views, locale="en")
    parsed = assert_inert(page)
    assert parsed.tags("img") == []
    assert Segments(page, "pm-placeholder-reason").found == ["Larger than 5 MB: not embedded", "File not found"]
    assert Segments(page, "pm-placeholder-alt").found == ["Een heel grote foto",
                                                          "Het Stadskantoor aan het Jaarbeursplein"]
    asked = []
    fragment(views[1], lambda *a: asked.append(a) or "/media/x")
    assert asked == []  # a missing file is not asked for


# --- languages ------------------------------------------------------------------------------------------

def test_labels_are_dutch_with_locale_nl_and_english_with_en(queue):
    path, db_file, ids = queue
    view = view_of(db_file, ids["tas_x", "draad"])
    dutch = Parsed(fragment(view, media_route, gettext=translations("nl"), locale="nl"))
    assert "tekens" in dutch.text and "Gepland op" in dutch.text and "Draadje van 3 delen" in dutch.text
    assert [li.get("aria-label") for li in dutch.with_class("pm-part")][0] == "deel 1 van 3"
    english = Parsed(fragment(view, media_route))
    assert "characters" in english.text and "Scheduled for" in english.text
    assert translations("en")("characters") == "characters"
    assert translations("de")("characters") == "characters"  # no catalogue: English
    result = campaign("preview", view.id, path, "--db", db_file)  # Dutch by default
    assert result.exit_code == 0 and "Gepland op" in result.output and "27/280 tekens" in result.output
    out = path.parent / "voorbeeld.html"
    result = campaign("preview", view.id, path, "--db", db_file, "--html", out, "--locale", "nl")
    assert result.exit_code == 0 and result.output == f"Voorbeeld van #{view.id} geschreven naar {out}\n"
    page = Parsed(out.read_text(encoding="utf-8"))
    assert page.tags("html") == [{"lang": "nl"}] and "Draadje van 3 delen" in page.text
    assert [badge["title"] for badge in page.with_class("pm-alt-badge")] == ["Alt-tekst"]


def test_every_label_has_a_dutch_translation():
    from babel.messages.pofile import read_po

    package = ROOT / "campaign" / "preview"
    with open(package / "locale" / "nl" / "LC_MESSAGES" / "preview.po", "rb") as handle:
        catalogue = read_po(handle)
    used = set()
    for file in [*package.rglob("*.html"), *package.rglob("*.py"), ROOT / "campaign" / "cli" / "preview_command.py"]:
        source = file.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\b(?:_|N_|gettext)\((["'])(.+?)\1\)""", source))
    used = {message for _, message in used}
    assert "Alt text missing" in used and "queued" in used
    missing = sorted(m for m in used if not (catalogue.get(m) and catalogue.get(m).string))
    assert missing == []


# --- the command ----------------------------------------------------------------------------------------

def test_the_terminal_shows_text_length_links_and_images(queue):
    path, db_file, ids = queue
    result = campaign("preview", ids["tas_x", "draad"], path, "--db", db_file, "--locale", "en")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"#{ids['tas_x', 'draad']} X @teamsaantstuur (tas_x) — Scheduled for ")
    assert "1/3 Eerste deel van het draadje" in lines
    assert "2/3 Tweede deel, met een foto" in lines and "    image foto.png — Alt text: Een rode deur" in lines
    assert lines.index("1/3 Eerste deel van het draadje") < lines.index("3/3 Derde en laatste deel")
    result = campaign("preview", ids["tas_x", "lang"], "--file", path, "--db", db_file, "--locale", "en")
    assert f"Lees meer: {LONG}" in result.output and "\n  34/280 characters\n" in result.output
    assert f"\n  link rijksoverheid.nl/onderwerp… → {LONG} (counts as 23 characters)" in result.output


def test_unknown_ids_and_databases_are_one_line_and_exit_2(queue, tmp_path):
    path, db_file, ids = queue
    for post_id in (999, 2**31, 2**40):
        result = campaign("preview", post_id, path, "--db", db_file)
        assert result.exit_code == 2 and len(result.output.splitlines()) == 1, result.output
        assert result.output.startswith(f"campaign: no post #{post_id} in the queue")
    result = campaign("preview", 0, path, "--db", db_file)
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = campaign("preview", 1, path, "--db", tmp_path / "nergens.db")
    assert result.exit_code == 2 and result.output.startswith("campaign: database ") and "not there" in result.output
    result = campaign("preview", 1, path, "--db", db_file, "--html", tmp_path / "geen-map" / "x.html")
    assert result.exit_code == 2 and result.output.startswith("campaign: cannot write ")


def test_build_view_takes_a_mapping_row():
    from datetime import datetime, timezone

    row = {"id": 7, "key": "tas/a/tas_x", "account": "tas_x", "campaign_id": "tas", "post_id": "a", "variant": 1,
           "state": "queued", "due_at": datetime(2027, 3, 28, 1, 30, tzinfo=timezone.utc),
           "local_time": "2027-03-28T03:30:00+02:00", "timezone": "Europe/Amsterdam",
           "payload": {"parts": [{"text": "Hallo #wereld", "media": [{"path": "/nergens/foto.png", "alt": ""}]}],
                       "language": "nl\" onclick=\"x"}}
    account = AccountView("tas_x", "x", "@teamsaantstuur", None)
    view = build_view(row, account)
    assert view.language is None  # not a language tag: dropped, not escaped into an attribute
    assert view.local_time.isoformat() == "2027-03-28T03:30:00+02:00"
    [part] = view.parts
    assert (part.length, part.limit) == (13, 280)
    [media] = part.media
    assert media.alt_missing and not media.exists
    parsed = assert_inert(fragment(view, media_route))
    assert Segments(fragment(view, media_route), "pm-origin").found == ["Campaign tas / a, variant 2"]
    assert parsed.tags("img") == []
