"""Approving and rejecting in the web workspace (issue 14, part 3): the list of posts awaiting
approval, approve (one or several), reject with a reason, the record on the post's page; only
approvers may decide, only with the form's CSRF token; an edit in posts.yaml asks again.
Runs on SQLite and PostgreSQL (the `db` fixture)."""
from __future__ import annotations

import re
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from sqlalchemy import select

from campaign.queue import approvals
from campaign.queue.sync import sync
from campaign.queue.tables import scheduled_posts
from campaign.spec.plan import load_plan
from tests.web_support import add_people, client, csrf, make_workspace, signed_in_client

posts = scheduled_posts.c
ROOT = Path(__file__).resolve().parent.parent
PNG = (ROOT / "media" / "stadskantoor030.png").read_bytes()
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)

POSTS_YAML = """\
timezone: Europe/Amsterdam
accounts:
  tas_x: {platform: x, handle: "@teamsaantstuur"}
  tas_m: {platform: mastodon, instance: "https://social.example", handle: "@team@social.example"}
campaigns:
  keuring:
    name: Met goedkeuring
    approval: required
    accounts: [tas_m]
    posts:
      - {id: een, text: "EEN_TEKST Het eerste bericht ter keuring", at: 2027-01-18 10:00}
      - {id: twee, text: "TWEE_TEKST Het tweede bericht ter keuring", at: 2027-01-19 10:00}
      - {id: foto, text: "FOTO_TEKST Een bericht met een foto", media: {path: foto.png, alt: Het stadskantoor},
         at: 2027-01-21 10:00}
  streng:
    name: Streng
    approval: required
    approvers: 2
    accounts: [tas_x]
    posts:
      - {id: dubbel, text: "DUBBEL_TEKST Dit bericht heeft twee goedkeurders nodig", at: 2027-01-17 10:00}
  vrij:
    name: Vrij
    accounts: [tas_x]
    posts:
      - {id: los, text: "LOS_TEKST Dit bericht hoeft niet goedgekeurd", at: 2027-01-20 10:00}
"""


class World:
    def __init__(self, db, folder: Path):
        self.db, self.folder = db, folder
        self.path = folder / "posts.yaml"
        (folder / "foto.png").write_bytes(PNG)
        self.write(POSTS_YAML)
        add_people(db, NOW)
        self.sync()
        self.app, self.ws = make_workspace(db, posts_file=self.path, now=NOW)

    def write(self, text: str) -> None:
        self.path.write_text(textwrap.dedent(text), encoding="utf-8")

    def sync(self) -> None:
        sync(self.db, load_plan(self.path), NOW)

    def id(self, post_id: str) -> int:
        with self.db.transaction() as connection:
            return connection.execute(select(posts.id).where(posts.post_id == post_id)).scalar_one()

    def state(self, row_id: int) -> str:
        with self.db.transaction() as connection:
            return connection.execute(select(posts.state).where(posts.id == row_id)).scalar_one()

    def decisions(self, row_id: int) -> list[approvals.Decision]:
        return approvals.decisions(self.db, row_id)

    def signed_in(self, name: str):
        return signed_in_client(self.app, name)


@pytest.fixture
def world(db, tmp_path):
    return World(db, tmp_path)


def page(html: str):
    return lxml.html.fromstring(html)


def waiting_ids(html: str) -> list[int]:
    tree = page(html)
    return [int(a.get("href").rsplit("/", 1)[1]) for a in tree.xpath(
        "//section[@aria-labelledby='waiting-heading']//tbody/tr/td[position()<=2]/a[starts-with(@href, '/posts/')]")]


def rejected_rows(html: str) -> list[str]:
    tree = page(html)
    return [" ".join(tr.text_content().split()) for tr in tree.xpath(
        "//section[@aria-labelledby='rejected-heading']//tbody/tr")]


def status_message(html: str) -> str:
    found = page(html).xpath("//p[@role='status']")
    return " ".join(found[0].text_content().split()) if found else ""


def flags(response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response.headers["location"]).query)


# --- the list -------------------------------------------------------------------------------------

def test_the_approvals_page_lists_the_posts_awaiting_approval_soonest_first(world):
    http = world.signed_in("viewer")
    response = http.get("/approvals")
    assert response.status_code == 200
    assert waiting_ids(response.text) == [world.id("dubbel"), world.id("een"), world.id("twee"), world.id("foto")]
    assert "LOS_TEKST" not in response.text  # needs no approval: not listed
    tree = page(response.text)
    row = tree.xpath(f"//tr[.//a[@href='/posts/{world.id('dubbel')}']]")[0]
    text = " ".join(row.text_content().split())
    assert "DUBBEL_TEKST Dit bericht heeft twee goedkeurders nodig" in text
    assert "0 van 2 goedkeuringen" in text and "Streng" in text and "tas_x" in text
    assert "17 jan 2027" in text and "10:00" in text and "Europe/Amsterdam" in text  # the campaign's zone
    # accounts in sorted order [tas_m, tas_x]: tas_x has colour 1
    assert row.xpath(".//span[contains(@class, 'acct')]")[0].get("class") == "acct acct-1"
    een = tree.xpath(f"//tr[.//a[@href='/posts/{world.id('een')}']]")[0]
    assert een.xpath(".//span[contains(@class, 'acct')]")[0].get("class") == "acct acct-0"
    assert "0 van 1 goedkeuring" in " ".join(een.text_content().split())
    # Dutch by default, and a viewer only reads
    assert "Wacht op goedkeuring" in response.text and "Onlangs afgewezen" in response.text
    assert tree.xpath("//button[starts-with(normalize-space(.), 'Goedkeuren')]") == []
    assert tree.xpath("//input[@type='checkbox']") == []


def test_the_list_filters_by_campaign_and_account(world):
    http = world.signed_in("viewer")
    assert waiting_ids(http.get("/approvals?campaign=keuring").text) == [world.id("een"), world.id("twee"),
                                                                           world.id("foto")]
    assert waiting_ids(http.get("/approvals?account=tas_x").text) == [world.id("dubbel")]
    assert waiting_ids(http.get("/approvals?campaign=keuring&account=tas_x").text) == []
    form = page(http.get("/approvals?campaign=keuring").text).xpath("//form[@method='get']")[0]
    assert form.xpath(".//select[@name='campaign']/option[@selected]")[0].get("value") == "keuring"
    assert form.xpath(".//label[@for='filter-campaign']") and form.xpath(".//label[@for='filter-account']")
    unknown = http.get("/approvals?campaign=nope")
    assert unknown.status_code == 400 and "Die campagne bestaat niet." in unknown.text
    assert http.get("/approvals?account=%3Cscript%3E").status_code == 400


def test_an_approver_sees_approve_buttons_checkboxes_and_reject_links(world):
    http = world.signed_in("approver")
    tree = page(http.get("/approvals").text)
    een = world.id("een")
    row = tree.xpath(f"//tr[.//a[@href='/posts/{een}']]")[0]
    form = row.xpath(".//form")[0]
    assert form.get("action") == f"/posts/{een}/approve" and form.get("method") == "post"
    assert form.xpath(".//input[@name='csrf']")[0].get("value")
    assert form.xpath(".//input[@name='next']")[0].get("value") == "/approvals"
    assert row.xpath(f".//a[@href='/posts/{een}#reject']")
    box = row.xpath(".//input[@type='checkbox']")[0]
    assert box.get("form") == "approve-selected" and box.get("value") == str(een)
    assert row.xpath(f".//label[@for='{box.get('id')}']")
    bulk = tree.xpath("//form[@id='approve-selected']")[0]
    assert bulk.get("action") == "/approvals/approve" and bulk.xpath(".//input[@name='csrf']")


# --- approving ------------------------------------------------------------------------------------

def test_an_approver_approves_and_the_post_is_queued_with_who_and_when_on_record(world):
    http = world.signed_in("approver")
    een = world.id("een")
    token = csrf(http, "/approvals")
    response = http.post(f"/posts/{een}/approve", data={"csrf": token, "next": "/approvals?campaign=keuring"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/approvals?campaign=keuring&")
    assert flags(response) == {"campaign": ["keuring"], "done": ["queued"], "id": [str(een)]}
    assert world.state(een) == "queued"
    [decision] = world.decisions(een)
    assert (decision.decided_by, decision.decision, decision.via, decision.decided_at) == ("approver", "approve",
                                                                                          "web", NOW)
    after = http.get(response.headers["location"])
    assert f"Bericht #{een} is goedgekeurd en ingepland" in status_message(after.text)
    assert een not in waiting_ids(after.text)

    post = http.get(f"/posts/{een}")
    record = page(post.text).xpath("//table[contains(@class, 'record')]//tbody/tr")
    assert len(record) == 1
    cells = " ".join(record[0].text_content().split())
    assert "approver" in cells and "Goedgekeurd" in cells and "in de werkplek" in cells
    assert "1 dec 2026" in cells and "13:00" in cells  # NOW in Amsterdam
    assert "deze versie" in cells
    assert "1 van 1 goedkeuring" in post.text and "Goedgekeurd door approver" in post.text
    # approved by mistake: it may still be stopped before it is sent, not approved again
    forms = [f.get("action") for f in page(post.text).xpath("//main//form[@method='post']")]
    assert forms == [f"/posts/{een}/reject"]
    stopped = http.post(f"/posts/{een}/reject", data={"csrf": token, "reason": "Toch niet"})
    assert flags(stopped)["done"] == ["rejected"] and world.state(een) == "rejected"


def test_two_approvers_are_needed_and_the_same_approver_twice_counts_once(world):
    dubbel = world.id("dubbel")
    first = world.signed_in("approver")
    token = csrf(first, "/approvals")
    response = first.post(f"/posts/{dubbel}/approve", data={"csrf": token})
    assert response.status_code == 303 and response.headers["location"].startswith(f"/posts/{dubbel}?")
    assert flags(response)["done"] == ["waiting"] and flags(response)["more"] == ["1"]
    assert world.state(dubbel) == "awaiting_approval"
    message = status_message(first.get(response.headers["location"]).text)
    assert f"Je goedkeuring van bericht #{dubbel} is vastgelegd; het heeft nog 1 goedkeuring nodig." == message

    again = first.post(f"/posts/{dubbel}/approve", data={"csrf": token, "next": "/approvals"})
    assert flags(again)["done"] == ["already"]
    assert world.state(dubbel) == "awaiting_approval"
    assert len(world.decisions(dubbel)) == 1
    listed = first.get(again.headers["location"])
    assert "ieder telt één keer" in status_message(listed.text)
    row = page(listed.text).xpath(f"//tr[.//a[@href='/posts/{dubbel}']]")[0]
    assert "1 van 2 goedkeuringen" in " ".join(row.text_content().split())
    assert "Goedgekeurd door approver" in row.text_content()

    second = world.signed_in("approver2")
    done = second.post(f"/posts/{dubbel}/approve", data={"csrf": csrf(second, "/approvals"), "next": "/approvals"})
    assert flags(done)["done"] == ["queued"]
    assert world.state(dubbel) == "queued"
    assert [d.decided_by for d in world.decisions(dubbel)] == ["approver", "approver2"]
    assert "Goedgekeurd door approver, approver2" in second.get(f"/posts/{dubbel}").text


def test_several_posts_are_approved_at_once(world):
    http = world.signed_in("approver")
    een, twee, dubbel = world.id("een"), world.id("twee"), world.id("dubbel")
    response = http.post("/approvals/approve", data={"csrf": csrf(http, "/approvals"), "next": "/approvals",
                                                     "ids": [str(een), str(twee), str(dubbel)]})
    assert response.status_code == 303
    assert flags(response) == {"done": ["bulk"], "queued": ["2"], "waiting": ["1"]}
    assert [world.state(i) for i in (een, twee, dubbel)] == ["queued", "queued", "awaiting_approval"]
    message = status_message(http.get(response.headers["location"]).text)
    assert "2 berichten goedgekeurd en ingepland." in message
    assert "1 goedkeuring vastgelegd voor een bericht dat nog meer goedkeurders nodig heeft." in message


def test_approving_several_skips_the_ones_no_longer_awaiting_approval(world):
    http = world.signed_in("approver")
    foto, los = world.id("foto"), world.id("los")
    response = http.post("/approvals/approve", data={"csrf": csrf(http, "/approvals"), "ids": [str(foto), str(los)]})
    assert flags(response) == {"done": ["bulk"], "queued": ["1"], "skipped": ["1"]}
    assert world.state(foto) == "queued" and world.state(los) == "queued"
    assert world.decisions(los) == []
    message = status_message(http.get(response.headers["location"]).text)
    assert "1 bericht wachtte niet meer op goedkeuring" in message


def test_approving_nothing_selected_says_so(world):
    http = world.signed_in("approver")
    response = http.post("/approvals/approve", data={"csrf": csrf(http, "/approvals"), "next": "/approvals"})
    assert response.status_code == 303 and flags(response) == {"done": ["none"]}
    assert "Kies eerst een of meer berichten" in status_message(http.get(response.headers["location"]).text)
    bad = http.post("/approvals/approve", data={"csrf": csrf(http, "/approvals"), "ids": ["1; DROP TABLE"]})
    assert bad.status_code == 400


def test_a_post_that_needs_no_approval_or_is_unknown(world):
    http = world.signed_in("approver")
    token = csrf(http, "/approvals")
    los = world.id("los")
    response = http.post(f"/posts/{los}/approve", data={"csrf": token})
    assert response.status_code == 303 and flags(response)["done"] == ["not_awaiting"]
    assert world.decisions(los) == []
    assert "wacht niet meer op goedkeuring" in status_message(http.get(response.headers["location"]).text)
    missing = http.post("/posts/999999/approve", data={"csrf": token})
    assert missing.status_code == 404 and "Er is geen bericht #999999 in de wachtrij." in missing.text
    assert http.post("/posts/999999/reject", data={"csrf": token, "reason": "nee"}).status_code == 404


def test_a_refusal_by_the_library_is_a_409_page_with_its_message(world):
    (world.folder / "foto.png").write_bytes(PNG + b"changed after the sync")
    http = world.signed_in("approver")
    foto = world.id("foto")
    response = http.post(f"/posts/{foto}/approve", data={"csrf": csrf(http, "/approvals")})
    assert response.status_code == 409
    assert "De wachtrij nam dit niet aan" in response.text and "foto.png changed" in response.text
    assert world.state(foto) == "awaiting_approval" and world.decisions(foto) == []


def test_the_next_page_is_only_ever_on_this_site(world):
    http = world.signed_in("approver")
    token = csrf(http, "/approvals")
    for target in ("//evil.example/", "https://evil.example/x", "/\\evil.example"):
        twee = world.id("twee")
        response = http.post(f"/posts/{twee}/approve", data={"csrf": token, "next": target})
        location = response.headers["location"]
        assert location.startswith("/?") and not location.startswith("//"), location


def test_the_message_is_made_from_known_flags_never_from_the_querys_text(world):
    http = world.signed_in("viewer")
    for query in ("done=<script>alert(1)</script>&id=1", "done=queued&id=<script>", "done=queued&id=1e3",
                  "done=bulk&queued=<b>2</b>"):
        response = http.get(f"/approvals?{query}")
        assert response.status_code == 200
        assert status_message(response.text) == ""
        assert "<script>alert" not in response.text and "<b>2" not in response.text


# --- rejecting ------------------------------------------------------------------------------------

def test_reject_with_a_reason_shows_it_on_the_list_and_the_post_page(world):
    http = world.signed_in("approver")
    twee = world.id("twee")
    post_page = http.get(f"/posts/{twee}")
    form = page(post_page.text).xpath("//form[@id='reject']")[0]
    assert form.get("action") == f"/posts/{twee}/reject"
    assert form.xpath(".//textarea[@name='reason'][@required]")
    assert form.xpath(".//label[@for='reject-reason']")
    response = http.post(f"/posts/{twee}/reject", data={"csrf": csrf(http, f"/posts/{twee}"),
                                                         "reason": "De link <klopt> niet", "next": f"/posts/{twee}"})
    assert response.status_code == 303 and flags(response) == {"done": ["rejected"], "id": [str(twee)]}
    assert world.state(twee) == "rejected"
    [decision] = world.decisions(twee)
    assert (decision.decided_by, decision.decision, decision.reason, decision.via) == ("approver", "reject",
                                                                                       "De link <klopt> niet", "web")
    after = http.get(response.headers["location"])
    assert f"Bericht #{twee} is afgewezen" in status_message(after.text)
    assert "Afgewezen door approver: De link &lt;klopt&gt; niet" in after.text
    record = " ".join(page(after.text).xpath("//table[contains(@class, 'record')]//tbody/tr")[0].text_content().split())
    assert "Afgewezen" in record and "De link <klopt> niet" in record

    listed = http.get("/approvals")
    assert twee not in waiting_ids(listed.text)
    [row] = rejected_rows(listed.text)
    assert "TWEE_TEKST" in row and "approver" in row and "De link <klopt> niet" in row


def test_a_rejection_needs_a_reason(world):
    http = world.signed_in("approver")
    een = world.id("een")
    for reason in ("", "   \n "):
        response = http.post(f"/posts/{een}/reject", data={"csrf": csrf(http, "/approvals"), "reason": reason})
        assert response.status_code == 400
        assert "Geef een reden voor de afwijzing" in response.text
    assert world.state(een) == "awaiting_approval" and world.decisions(een) == []


def test_the_person_who_rejected_can_approve_after_all(world):
    http = world.signed_in("approver")
    een = world.id("een")
    token = csrf(http, "/approvals")
    http.post(f"/posts/{een}/reject", data={"csrf": token, "reason": "Nog niet"})
    assert world.state(een) == "rejected"
    post_page = page(http.get(f"/posts/{een}").text)
    assert post_page.xpath(f"//form[@action='/posts/{een}/approve']")  # lifting one's own rejection
    other = world.signed_in("approver2")
    held = other.post(f"/posts/{een}/approve", data={"csrf": csrf(other, "/approvals")})
    assert flags(held)["done"] == ["still_rejected"] and world.state(een) == "rejected"
    lifted = http.post(f"/posts/{een}/approve", data={"csrf": token})
    assert flags(lifted)["done"] == ["queued"] and world.state(een) == "queued"


# --- who may decide -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["viewer", "editor"])
def test_viewers_and_editors_cannot_approve_or_reject(world, name):
    http = world.signed_in(name)
    token = csrf(http, "/approvals")
    een = world.id("een")
    assert http.post(f"/posts/{een}/approve", data={"csrf": token}).status_code == 403
    assert http.post("/approvals/approve", data={"csrf": token, "ids": [str(een)]}).status_code == 403
    assert http.post(f"/posts/{een}/reject", data={"csrf": token, "reason": "nee"}).status_code == 403
    assert world.state(een) == "awaiting_approval" and world.decisions(een) == []
    tree = page(http.get(f"/posts/{een}").text)
    assert tree.xpath("//form[contains(@action, '/approve') or contains(@action, '/reject')]") == []


def test_a_missing_or_wrong_csrf_token_is_refused(world):
    http = world.signed_in("approver")
    een = world.id("een")
    assert http.post(f"/posts/{een}/approve", data={}).status_code == 403
    assert http.post(f"/posts/{een}/approve", data={"csrf": "forged"}).status_code == 403
    assert http.post("/approvals/approve", data={"csrf": "forged", "ids": [str(een)]}).status_code == 403
    assert http.post(f"/posts/{een}/reject", data={"reason": "nee"}).status_code == 403
    other = world.signed_in("approver2")  # another person's token is no good either
    assert http.post(f"/posts/{een}/approve", data={"csrf": csrf(other, "/approvals")}).status_code == 403
    assert client(world.app).post(f"/posts/{een}/approve", data={"csrf": "x"}).status_code == 403
    assert world.state(een) == "awaiting_approval" and world.decisions(een) == []


# --- an edit asks again ---------------------------------------------------------------------------

def test_an_edit_in_posts_yaml_asks_for_approval_again_and_keeps_the_old_decision_on_record(world):
    http = world.signed_in("approver")
    een = world.id("een")
    http.post(f"/posts/{een}/approve", data={"csrf": csrf(http, "/approvals")})
    assert world.state(een) == "queued"
    world.ws.clock.moment = NOW + timedelta(hours=1)
    world.write(POSTS_YAML.replace("EEN_TEKST Het eerste bericht ter keuring", "EEN_TEKST Een nieuwe tekst"))
    world.sync()
    assert world.state(een) == "awaiting_approval"
    assert een in waiting_ids(http.get("/approvals").text)
    post_page = http.get(f"/posts/{een}")
    tree = page(post_page.text)
    [old] = tree.xpath("//table[contains(@class, 'record')]//tbody/tr")
    assert "earlier" in old.get("class")
    assert "op een eerdere versie" in old.text_content()
    assert "0 van 1 goedkeuring" in post_page.text
    assert "Een nieuwe tekst" in post_page.text
    response = http.post(f"/posts/{een}/approve", data={"csrf": csrf(http, "/approvals")})
    assert flags(response)["done"] == ["queued"]
    versions = [" ".join(tr.text_content().split()) for tr in page(http.get(f"/posts/{een}").text).xpath(
        "//table[contains(@class, 'record')]//tbody/tr")]
    assert ["op een eerdere versie" in v for v in versions] == [True, False]
    assert re.search(r"deze versie", versions[1])
