"""posts.yaml for LinkedIn and Threads accounts and Bluesky link cards (issue 17, spec contract)."""
from __future__ import annotations

import textwrap
from datetime import datetime, timezone

import pytest

from campaign.spec.cards import card_link
from campaign.spec.model import PLATFORMS, Card
from campaign.spec.plan import analyse
from campaign.spec.text import LIMITS, length, threads_length, threads_problems

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")

ACCOUNTS = """\
timezone: Europe/Amsterdam
accounts:
  gemeente_li:
    platform: linkedin
    organization: gemeente-utrecht
  gemeente_th:
    platform: threads
    handle: "@gemeenteutrecht"
  gemeente_bsky:
    platform: bluesky
    handle: "@utrecht.nl"
  gemeente_x:
    platform: x
    handle: "@gemeenteutrecht"
"""


def write(tmp_path, body: str):
    path = tmp_path / "posts.yaml"
    path.write_text(ACCOUNTS + textwrap.dedent(body), encoding="utf-8")
    (tmp_path / "kaart.png").write_bytes(PNG)
    return path


def messages(plan, *, notes: bool = False):
    return [f"{p.mark.line}:{p.mark.col}: {p.severity}: {p.message}" for p in plan.problems.sorted(notes=notes)]


def test_the_platforms_and_their_limits():
    assert PLATFORMS == ("x", "mastodon", "bluesky", "linkedin", "threads")
    assert LIMITS["linkedin"] == 3000 and LIMITS["threads"] == 500


def test_linkedin_account_needs_an_organization_and_takes_it_as_handle(tmp_path):
    path = write(tmp_path, """\
        campaigns:
          c:
            accounts: [gemeente_li]
            posts:
              - {id: a, text: "Praat mee", at: 2027-01-18 10:00}
        """)
    plan = analyse(path, NOW)
    assert plan.ok, messages(plan)
    account = plan.file.accounts["gemeente_li"]
    assert (account.platform, account.organization, account.handle) == ("linkedin", "gemeente-utrecht",
                                                                         "gemeente-utrecht")
    assert plan.occurrences[0].limit == 3000


def test_numeric_organization_and_explicit_handle(tmp_path):
    path = tmp_path / "posts.yaml"
    path.write_text("timezone: UTC\naccounts:\n  li: {platform: linkedin, organization: 12345, handle: Gemeente}\n"
                    "campaigns:\n  c:\n    accounts: [li]\n    posts: [{text: hoi, at: 2027-01-18 10:00}]\n")
    plan = analyse(path, NOW)
    assert plan.ok and plan.file.accounts["li"].organization == "12345"
    assert plan.file.accounts["li"].handle == "Gemeente"


def test_organization_missing_misplaced_or_malformed(tmp_path):
    path = tmp_path / "posts.yaml"
    path.write_text("timezone: UTC\naccounts:\n  li: {platform: linkedin}\n"
                    "  x: {platform: x, handle: '@a', organization: 1}\n"
                    "  li2: {platform: linkedin, organization: 'gemeente utrecht'}\n"
                    "campaigns: {}\n")
    assert messages(analyse(path, NOW)) == [
        "3:7: error: account 'li' (linkedin) needs 'organization': the page's numeric id or vanity name, "
        "e.g. 'organization: gemeente-utrecht'",
        "4:34: error: 'organization' is for linkedin accounts, not for x",
        "5:43: error: organization must be the page's numeric id (12345) or its vanity name (letters, digits "
        "and '-', e.g. gemeente-utrecht)",
    ]


def test_linkedin_counts_code_points_up_to_3000(tmp_path):
    assert length("linkedin", "é" * 10 + "👍🏽") == 12
    path = write(tmp_path, f"""\
        campaigns:
          c:
            accounts: [gemeente_li]
            posts:
              - {{id: a, text: "{'a' * 3001}", at: 2027-01-18 10:00}}
        """)
    assert messages(analyse(path, NOW)) == [
        "19:23: error: text is 3001 characters on linkedin, the limit is 3000; account 'gemeente_li'"]


@pytest.mark.parametrize("text, expected", [
    ("hallo", 5),
    ("👍", 4),  # an emoji counts its UTF-8 bytes
    ("👍🏽", 8),  # with a skin tone: two code points, 8 bytes
    ("🇳🇱", 8),  # a flag
    ("é", 1),  # other characters count 1
    ("❤️", 6),  # U+2764 U+FE0F
])
def test_threads_length(text, expected):
    assert threads_length(text) == expected == length("threads", text)


def test_threads_links_and_topic_tags():
    assert threads_problems("Eén #tag en https://a.nl") == []
    assert threads_problems("#een #twee") == ["2 topic tags (#een, #twee); Threads allows 1 per post"]
    six = " ".join(f"https://a.nl/{i}" for i in range(6))
    assert threads_problems(six) == ["6 links; Threads allows at most 5 per post"]
    assert threads_problems("#1 en #2 zijn nummers, #één is een tag") == []


def test_threads_rules_in_check(tmp_path):
    path = write(tmp_path, f"""\
        campaigns:
          c:
            accounts: [gemeente_th]
            posts:
              - {{id: a, text: "#een #twee", at: 2027-01-18 10:00}}
              - {{id: b, text: "{'👍' * 126}", at: 2027-01-19 10:00}}
        """)
    assert messages(analyse(path, NOW)) == [
        "19:23: error: text has 2 topic tags (#een, #twee); Threads allows 1 per post; account 'gemeente_th'",
        "20:23: error: text is 504 characters on threads, the limit is 500; account 'gemeente_th'",
    ]


def test_card_link_is_the_first_http_link():
    assert card_link("zie publicpapersutrecht.nl of http://a.nl/x?utm_source=y en https://b.nl") == \
        "http://a.nl/x?utm_source=y"
    assert card_link("geen link, alleen a.nl") is None


def test_cards_on_a_post_and_on_a_thread_part(tmp_path):
    path = write(tmp_path, """\
        campaigns:
          c:
            accounts: [gemeente_bsky]
            posts:
              - id: met-kaart
                text: "Lees https://publicpapersutrecht.nl/teams"
                card:
                  title: Teams aan het stuur!
                  description: Een public paper
                  image: kaart.png
                  alt: Het logo van de public paper
                at: 2027-01-18 10:00
              - id: draad
                card: false
                thread:
                  - "Deel een https://a.nl"
                  - {text: "Deel twee https://b.nl", card: {title: Twee}}
                  - {text: "Deel drie https://c.nl", card: true}
                at: 2027-01-19 10:00
              - id: automatisch
                text: "https://c.nl"
                at: 2027-01-20 10:00
        """)
    plan = analyse(path, NOW)
    assert plan.ok, messages(plan)
    first = plan.file.campaigns["c"].posts[0].variants[0][0].card
    assert isinstance(first, Card) and first.title == "Teams aan het stuur!" and first.image.alt.startswith("Het")
    assert first.image.path == (tmp_path / "kaart.png").resolve()
    thread = plan.file.campaigns["c"].posts[1].variants[0]
    assert [p.card if isinstance(p.card, bool) else p.card.title for p in thread] == [False, "Twee", True]
    assert plan.file.campaigns["c"].posts[2].variants[0][0].card is True
    payloads = {o.post_id: o.payload() for o in plan.occurrences}
    assert payloads["met-kaart"]["parts"][0]["card"]["image"]["alt"] == "Het logo van de public paper"
    assert payloads["draad"]["parts"][0]["card"] is False
    assert payloads["draad"]["parts"][1]["card"] == {"title": "Twee", "description": None, "image": None}
    assert "card" not in payloads["draad"]["parts"][2] and "card" not in payloads["automatisch"]["parts"][0]


def test_card_mistakes(tmp_path):
    path = write(tmp_path, """\
        campaigns:
          c:
            accounts: [gemeente_bsky]
            posts:
              - id: zonder-link
                text: "Geen link hier"
                card: {title: Titel}
                at: 2027-01-18 10:00
              - id: zonder-alt
                text: "https://a.nl"
                card: {image: kaart.png, titel: x}
                at: 2027-01-19 10:00
              - id: leeg
                text: "https://a.nl"
                card: {}
                at: 2027-01-20 10:00
              - id: alleen-x
                accounts: [gemeente_x]
                text: "https://a.nl"
                card: false
                at: 2027-01-21 10:00
        """)
    assert messages(analyse(path, NOW)) == [
        "20:15: error: a card needs a link: the text has no http(s) link for the card to open",
        "25:15: error: a card image needs 'alt' text: describe the image for people who cannot see it",
        "25:34: error: unknown key 'titel' in 'card' (did you mean 'title'?)",
        "29:15: error: a card needs 'title', 'description' or 'image' (or write 'card: false' for none)",
        "33:15: warning: 'card' is set but this post goes to no Bluesky or LinkedIn account; only those show cards",
    ]


def test_new_platform_media_rules(tmp_path):
    from campaign.spec.media import problem

    gif = tmp_path / "a.gif"
    gif.write_bytes(b"GIF89a" + b"\0" * 10)
    assert problem(gif, "linkedin") is None
    assert problem(gif, "threads") == "media file 'a.gif' is image/gif; threads posts here take JPEG, PNG"


def test_card_texts_use_the_campaign_vars(tmp_path):
    path = write(tmp_path, """\
        campaigns:
          c:
            accounts: [gemeente_bsky]
            vars: {naam: Teams aan het stuur!}
            posts:
              - {id: a, text: "https://a.nl", card: {title: "{naam}", description: "{nam}"}, at: 2027-01-18 10:00}
              - {id: b, text: "https://a.nl", card: {title: "{naam", description: ok}, at: 2027-01-19 10:00}
              - {id: c, text: "https://a.nl", card: {title: "{naam}"}, at: 2027-01-20 10:00}
        """)
    plan = analyse(path, NOW)
    assert [m.split(": ", 2)[2] for m in messages(plan)] == [
        "undefined variable '{nam}' (did you mean 'naam'?); define it under the campaign's 'vars'",
        "expected '}' before end of string; write '{{' or '}}' for a literal brace",
    ]
    [occurrence] = [o for o in plan.occurrences if o.post_id == "c"]
    assert occurrence.parts[0].card["title"] == "Teams aan het stuur!"


def test_check_names_the_link_that_becomes_the_card(tmp_path):
    path = write(tmp_path, """\
        campaigns:
          c:
            accounts: [gemeente_bsky]
            posts:
              - id: automatisch
                text: "Lees https://a.nl/stuk en https://b.nl"
                at: 2027-01-18 10:00
              - id: met-de-hand
                text: "Lees https://c.nl"
                card: {title: Zelf geschreven}
                at: 2027-01-19 10:00
              - id: geen
                text: "Lees https://d.nl"
                card: false
                at: 2027-01-20 10:00
              - id: draadje
                thread: ["Begin", "Meer op https://e.nl"]
                at: 2027-01-21 10:00
        """)
    notes = [m for m in messages(analyse(path, NOW), notes=True) if ": note: " in m]
    assert notes == [
        "20:15: note: Bluesky shows a link card for https://a.nl/stuk (from the page's own preview data)",
        "23:15: note: Bluesky shows a link card for https://c.nl (written by hand)",
        "31:17: note: Bluesky shows a link card for https://e.nl (from the page's own preview data) (thread part 2)",
    ]
