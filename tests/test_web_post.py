"""The page of one post in the web workspace (issue 14, part 2): its preview as the platform will
show it (images served by the workspace, alt text, links shortened, the length against the limit),
its facts and the actions the reader's role allows, the download for review by mail, and hostile
text kept inert. Runs on SQLite and PostgreSQL (the `db` fixture)."""
from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import select, update

from campaign.preview import STYLESHEET
from campaign.queue.sync import sync
from campaign.queue.tables import scheduled_posts
from campaign.spec.plan import load_plan
from tests.web_support import add_people, client, csrf_of, make_workspace, signed_in_client

posts = scheduled_posts.c
ROOT = Path(__file__).resolve().parent.parent
PNG = (ROOT / "media" / "stadskantoor030.png").read_bytes()
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)

LONG = "https://www.rijksoverheid.nl/onderwerpen/zelfstandige-teams/documenten/rapporten/2027/eindrapport"

POSTS_YAML = f"""\
timezone: Europe/Amsterdam
language: nl
accounts:
  tas_x: {{platform: x, handle: "@teamsaantstuur"}}
  tas_m: {{platform: mastodon, instance: "https://social.example", handle: "@team@social.example"}}
campaigns:
  tas:
    name: Teams aan het stuur!
    accounts: [tas_x]
    posts:
      - id: draad
        thread:
          - "Eerste deel van het draadje: {LONG}"
          - text: "Tweede deel, met een foto"
            media: {{path: foto.png, alt: "Het stadskantoor aan het Jaarbeursplein"}}
          - "Derde en laatste deel"
        at: 2027-01-18 10:00
      - id: kapot
        text: "Dit bericht mislukte"
        at: 2027-01-19 10:00
  keuring:
    name: Met goedkeuring
    approval: required
    accounts: [tas_m]
    posts:
      - {{id: ter-keuring, text: "Dit bericht wacht op goedkeuring", at: 2027-01-25 10:00}}
"""

HOSTILE_YAML = """\
timezone: Europe/Amsterdam
accounts:
  tas_x: {platform: x, handle: "@teamsaantstuur"}
  tas_m: {platform: mastodon, instance: "https://social.example", handle: "@team@social.example"}
campaigns:
  boos:
    name: "Teams <script>alert(1)</script> \\"onmouseover=\\"alert(2)"
    approval: required
    accounts: [tas_x, tas_m]
    posts:
      - id: vijandig
        text: |-
          <script>alert(3)</script> <img src=x onerror=alert(4)> javascript:alert(5)
          "onmouseover=alert(6) https://example.com/"onmouseover="alert(7)" <a href="javascript:alert(8)">klik</a>
        media: {path: foto.png, alt: '"><script>alert(9)</script><img src=x onerror=alert(10)>'}
        at: 2027-01-18 10:00
"""


class World:
    def __init__(self, db, folder: Path, posts_yaml: str = POSTS_YAML):
        self.db, self.folder = db, folder
        self.path = folder / "posts.yaml"
        (folder / "foto.png").write_bytes(PNG)
        self.path.write_text(textwrap.dedent(posts_yaml), encoding="utf-8")
        add_people(db, NOW)
        sync(db, load_plan(self.path), NOW)
        self.app, self.ws = make_workspace(db, posts_file=self.path, now=NOW)

    def id(self, post_id: str, account: str | None = None) -> int:
        query = select(posts.id).where(posts.post_id == post_id)
        if account:
            query = query.where(posts.account == account)
        with self.db.transaction() as connection:
            return connection.execute(query).scalar_one()

    def change(self, row_id: int, **values) -> None:
        with self.db.transaction(write=True) as connection:
            connection.execute(update(scheduled_posts).where(posts.id == row_id).values(**values))

    def signed_in(self, name: str = "viewer"):
        return signed_in_client(self.app, name)


@pytest.fixture
def world(db, tmp_path):
    return World(db, tmp_path)


def page(html: str):
    return lxml.html.fromstring(html)


def texts(tree, css_class: str) -> list[str]:
    found = tree.xpath(f"//*[contains(concat(' ', @class, ' '), ' {css_class} ')]")
    return [" ".join(e.text_content().split()) for e in found]


# --- the preview ----------------------------------------------------------------------------------

def test_a_thread_with_an_image_is_previewed_with_the_image_served_by_the_workspace(world):
    http = world.signed_in("viewer")
    draad = world.id("draad")
    response = http.get(f"/posts/{draad}")
    assert response.status_code == 200
    tree = page(response.text)
    [article] = tree.xpath("//article[contains(@class, 'pm-post')]")
    assert "pm-x" in article.get("class").split()
    parts = article.xpath(".//li[contains(@class, 'pm-part')]")
    assert len(parts) == 3
    assert "Tweede deel, met een foto" in parts[1].text_content()
    [image] = article.xpath(".//img")
    assert image.get("src") == f"/posts/{draad}/media/1/0"
    assert image.get("alt") == "Het stadskantoor aan het Jaarbeursplein"
    served = http.get(image.get("src"))
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"] == "private, max-age=300"
    assert served.headers["x-content-type-options"] == "nosniff"
    # the stylesheets: the preview's own, served by the workspace
    links = [link.get("href") for link in tree.xpath("//head/link[@rel='stylesheet']")]
    assert "/static/preview.css" in links and "/static/post.css" in links
    css = http.get("/static/preview.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.text == STYLESHEET.read_text(encoding="utf-8")
    assert http.get("/static/post.css").status_code == 200


def test_links_are_shown_shortened_and_the_length_is_counted_against_the_limit(world):
    http = world.signed_in("viewer")
    tree = page(http.get(f"/posts/{world.id('draad')}").text)
    [link] = tree.xpath("//a[contains(@class, 'pm-link')]")
    assert link.get("href").startswith(LONG)
    shown = link.text_content()
    assert shown.endswith("…") and not shown.startswith("https://") and len(shown) < len(LONG)
    assert "23" in link.get("title")  # X counts every link as 23 characters
    counts = texts(tree, "pm-count")
    first = len("Eerste deel van het draadje: ") + 23
    assert counts == [f"{first}/280", "25/280", "21/280"]
    assert texts(tree, "pm-length")[0] == f"{first}/280 tekens"


def test_the_page_shows_state_campaign_account_and_time_in_the_campaigns_zone_and_utc(world):
    http = world.signed_in("viewer")
    draad = world.id("draad")
    response = http.get(f"/posts/{draad}")
    tree = page(response.text)
    facts = " ".join(tree.xpath("//section[contains(@class, 'post-facts')]")[0].text_content().split())
    assert "Ingepland" in facts and "Teams aan het stuur!" in facts and "tas_x" in facts and "@teamsaantstuur" in facts
    assert "18 jan 2027, 10:00:00 Europe/Amsterdam" in facts and "18 jan 2027, 09:00:00 UTC" in facts
    assert "Dit bericht hoeft niet goedgekeurd te worden." in facts
    [badge] = tree.xpath("//h1/span")
    assert badge.get("class") == "state state-queued" and badge.text_content() == "Ingepland"
    # Dutch labels, the preview's too; a viewer has no actions
    assert '<html lang="nl">' in response.text and "Over dit bericht" in response.text and "Gepland op" in response.text
    assert tree.xpath("//main//form[@method='post']") == []
    # the account's colour: its place among all accounts sorted ([tas_m, tas_x]), as on every page
    [account] = tree.xpath("//section[contains(@class, 'post-facts')]//span[contains(@class, 'acct')]")
    assert account.get("class") == "acct acct-1"
    english = http.get(f"/posts/{draad}", headers={"Accept-Language": "en-GB"}).text
    assert '<html lang="en">' in english and "About this post" in english and "Scheduled for" in english
    assert "Queued" in english and "This post needs no approval." in english


def test_a_sent_post_links_to_the_platform_only_over_http(world):
    http = world.signed_in("viewer")
    kapot = world.id("kapot")
    world.change(kapot, state="sent", remote_url="https://x.com/teamsaantstuur/status/123",
                 sent_at=datetime(2027, 1, 19, 9, 0, 5, tzinfo=timezone.utc))
    tree = page(http.get(f"/posts/{kapot}").text)
    facts = tree.xpath("//section[contains(@class, 'post-facts')]")[0]
    assert [a.get("href") for a in facts.xpath(".//a")] == ["https://x.com/teamsaantstuur/status/123"]
    assert "Verstuurd op" in facts.text_content()
    world.change(kapot, remote_url="javascript:alert(1)")
    tree = page(http.get(f"/posts/{kapot}").text)
    assert not [a for a in tree.xpath("//a") if "javascript" in (a.get("href") or "")]


def test_a_failed_post_shows_its_error_and_an_editor_gets_retry_resolve_and_acknowledge(world):
    kapot = world.id("kapot")
    world.change(kapot, state="failed", last_error="HTTP 503 van X", attempts=3)
    viewer = page(world.signed_in("viewer").get(f"/posts/{kapot}").text)
    assert "HTTP 503 van X" in viewer.text_content()
    assert viewer.xpath("//main//form[@method='post']") == []
    tree = page(world.signed_in("editor").get(f"/posts/{kapot}").text)
    actions = sorted({form.get("action") for form in tree.xpath("//main//form[@method='post']")})
    assert actions == [f"/posts/{kapot}/acknowledge", f"/posts/{kapot}/resolve", f"/posts/{kapot}/retry"]
    for form in tree.xpath("//main//form[@method='post']"):
        assert form.xpath(".//input[@name='csrf']")[0].get("value")
        assert form.xpath(".//input[@name='next']")[0].get("value") == f"/posts/{kapot}"
    assert tree.xpath("//label[@for='resolve-url']") and tree.xpath("//input[@id='resolve-url'][@type='url']")
    assert "Opnieuw proberen" in tree.text_content()
    # no approval actions for a post that needs none
    assert not tree.xpath("//form[contains(@action, 'approve') or contains(@action, 'reject')]")


def test_an_approver_gets_approve_and_reject_only_while_a_post_awaits_approval(world):
    waiting, queued = world.id("ter-keuring"), world.id("draad")
    approver = world.signed_in("approver")
    tree = page(approver.get(f"/posts/{waiting}").text)
    assert sorted(f.get("action") for f in tree.xpath("//main//form[@method='post']")) == [
        f"/posts/{waiting}/approve", f"/posts/{waiting}/reject"]
    assert "0 van 1 goedkeuring" in tree.text_content()
    assert not page(approver.get(f"/posts/{queued}").text).xpath("//main//form[@method='post']")
    editor = page(world.signed_in("editor").get(f"/posts/{waiting}").text)
    assert not editor.xpath("//main//form[@method='post']")


def test_an_unknown_post_is_a_404_page(world):
    http = world.signed_in("viewer")
    for path in ("/posts/999999", "/posts/99999999999999999999", "/posts/999999/preview.html",
                 "/posts/999999/media/0/0"):
        response = http.get(path)
        assert response.status_code == 404, path
    assert "Er is geen bericht #999999 in de wachtrij." in http.get("/posts/999999").text
    assert http.get("/posts/abc").status_code == 404


def test_pages_need_a_session(world):
    draad = world.id("draad")
    anonymous = client(world.app)
    for path in (f"/posts/{draad}", f"/posts/{draad}/media/1/0", f"/posts/{draad}/preview.html"):
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


# --- the images route -----------------------------------------------------------------------------

def test_the_media_route_serves_only_files_named_in_the_posts_payload(world, tmp_path_factory):
    http = world.signed_in("viewer")
    draad = world.id("draad")
    for path in (f"/posts/{draad}/media/0/0", f"/posts/{draad}/media/1/1", f"/posts/{draad}/media/3/0",
                 f"/posts/{world.id('kapot')}/media/0/0"):
        assert http.get(path).status_code == 404, path
    # `..` in the address reaches no other file
    for path in (f"/posts/{draad}/media/1/0/../../../../posts.yaml", f"/posts/{draad}/media/1/%2e%2e/posts.yaml",
                 f"/posts/{draad}/media/..%2f..%2fposts.yaml/0", f"/posts/{draad}/media/1/0%2f..%2f..%2fposts.yaml"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert b"campaigns:" not in response.content

    # A file outside the media folder is served only because this post's payload names it.
    elsewhere = tmp_path_factory.mktemp("elders") / "ander.png"
    other_png = PNG[:-12] + b"\x00" * 12
    elsewhere.write_bytes(other_png)
    payload = {"parts": [{"text": "Eerste"}, {"text": "Tweede", "media": [{"path": str(elsewhere), "alt": "Ander"}]}]}
    world.change(draad, payload=payload)
    served = http.get(f"/posts/{draad}/media/1/0")
    assert served.status_code == 200 and served.content == other_png and served.headers["content-type"] == "image/png"

    # What is not an image by its content is never served, whatever its name
    payload["parts"][1]["media"][0]["path"] = str(world.path)
    world.change(draad, payload=payload)
    assert http.get(f"/posts/{draad}/media/1/0").status_code == 404
    fake = world.folder / "nep.png"
    fake.write_text("<script>alert(1)</script>", encoding="utf-8")
    payload["parts"][1]["media"][0]["path"] = str(fake)
    world.change(draad, payload=payload)
    assert http.get(f"/posts/{draad}/media/1/0").status_code == 404
    payload["parts"][1]["media"][0]["path"] = str(world.folder / "weg.png")
    world.change(draad, payload=payload)
    assert http.get(f"/posts/{draad}/media/1/0").status_code == 404
    tree = page(http.get(f"/posts/{draad}").text)
    assert tree.xpath("//img") == [] and tree.xpath("//*[contains(@class, 'pm-placeholder')]")


# --- the page for review by mail ------------------------------------------------------------------

def test_the_preview_downloads_as_a_page_of_its_own_with_its_own_policy(world):
    http = world.signed_in("viewer")
    draad = world.id("draad")
    tree = page(http.get(f"/posts/{draad}").text)
    assert tree.xpath(f"//a[@href='/posts/{draad}/preview.html'][@download]")
    response = http.get(f"/posts/{draad}/preview.html")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-disposition"] == f'attachment; filename="preview-{draad}.html"'
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    assert "'self'" not in policy and "script-src" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<style>" in response.text and "data:image/png;base64," in response.text
    assert '<html lang="nl"' in response.text and "Tweede deel, met een foto" in response.text


# --- hostile text ---------------------------------------------------------------------------------

@pytest.fixture
def hostile(db, tmp_path):
    return World(db, tmp_path, HOSTILE_YAML)


def assert_inert(html: str) -> lxml.html.HtmlElement:
    tree = page(html)
    assert tree.xpath("//script") == []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        assert not [name for name in element.attrib if name.lower().startswith("on")], (element.tag, element.attrib)
        for name in ("href", "src", "action", "formaction"):
            value = (element.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (element.tag, element.attrib)
    return tree


@pytest.mark.parametrize("account", ["tas_x", "tas_m"])
def test_hostile_text_stays_inert_text(hostile, account):
    post = hostile.id("vijandig", account)
    http = hostile.signed_in("approver")
    rejected = http.post(f"/posts/{post}/reject", data={
        "csrf": csrf_of(http.get(f"/posts/{post}").text),
        "reason": '<script>alert(14)</script><img src=x onerror=alert(15)>'})
    assert rejected.status_code == 303
    hostile.change(post, last_error='<script>alert(11)</script>"onclick="alert(12)',
                   remote_url="javascript:alert(13)")
    for path in (f"/posts/{post}", "/approvals"):
        response = http.get(path)
        assert response.status_code == 200
        tree = assert_inert(response.text)
        text = tree.text_content()
        assert "<script>alert(14)</script>" in text, path  # the reason, as text
    tree = assert_inert(http.get(f"/posts/{post}").text)
    text = tree.text_content()
    assert "<script>alert(3)</script>" in text and "javascript:alert(5)" in text
    assert "<script>alert(11)</script>" in text and "Teams <script>alert(1)</script>" in text
    [image] = tree.xpath("//img")
    assert image.get("alt") == '"><script>alert(9)</script><img src=x onerror=alert(10)>'
    assert image.get("src") == f"/posts/{post}/media/0/0"
    download = http.get(f"/posts/{post}/preview.html")
    assert_inert(download.text.replace("data:image/png;base64,", "#image,"))
