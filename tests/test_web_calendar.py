"""The workspace's calendar (month grid, ISO week) and its ICS feeds. Runs on SQLite and PostgreSQL.

Pages are read as HTML trees (lxml), not as strings: which post is in which day's cell, which
label its state badge carries, what the "N more" details hold.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from sqlalchemy import update

from campaign import people
from campaign.queue.manual import queue_post
from campaign.queue.sync import sync
from campaign.queue.tables import STATES, scheduled_posts
from campaign.spec.plan import load_plan
from tests.web_support import PASSWORD, SECRET, client, make_workspace, signed_in_client

UTC = timezone.utc
SYNCED = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)  # before every post, so none is missed
NOW = datetime(2027, 2, 20, 12, 0, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script> "onmouseover=alert(2) <a href="javascript:alert(3)">x</a>'
ICS_TEXT = "Eerste regel, met komma; en puntkomma\nTweede regel: \\ backslash, \"aanhalingstekens\""

POSTS = r"""
timezone: Europe/Amsterdam
accounts:
  alpha:
    platform: x
    handle: "@alpha"
  beta:
    platform: mastodon
    instance: https://social.example
    handle: "@beta@social.example"
campaigns:
  lente:
    name: Lente
    accounts: [alpha]
    posts:
      - id: middernacht
        text: "Net na middernacht op de eerste maart"
        at: 2027-03-01 00:30
      - id: zomertijd-voor
        text: "Half twee, voor de klok een uur vooruit gaat"
        at: 2027-03-28 01:30
      - id: zomertijd-na
        text: "Half vier, nadat de klok vooruit ging"
        at: 2027-03-28 03:30
      - id: wintertijd-voor
        text: "Half twee in de zomertijd, de klok gaat straks terug"
        at: 2027-10-31 01:30
      - id: wintertijd-na
        text: "Half vier in de wintertijd"
        at: 2027-10-31 03:30
      - id: druk-1
        text: "Drukke dag, bericht een"
        at: 2027-03-10 08:00
      - id: druk-2
        text: "Drukke dag, bericht twee"
        at: 2027-03-10 09:00
      - id: druk-3
        text: "Drukke dag, bericht drie"
        at: 2027-03-10 10:00
      - id: druk-4
        text: "Drukke dag, bericht vier"
        at: 2027-03-10 11:00
      - id: druk-5
        text: "Drukke dag, bericht vijf"
        at: 2027-03-10 12:00
      - id: druk-6
        text: "Drukke dag, bericht zes"
        at: 2027-03-10 13:00
      - id: wacht
        text: "Dit wacht op goedkeuring"
        at: 2027-03-15 10:00
      - id: afgewezen
        text: "Dit is afgewezen"
        at: 2027-03-16 10:00
      - id: verstuurd
        text: "Dit is al verstuurd"
        at: 2027-03-17 10:00
      - id: mislukt
        text: "Dit is mislukt"
        at: 2027-03-18 10:00
      - id: geannuleerd
        text: "Dit is geannuleerd"
        at: 2027-03-19 10:00
  ny:
    name: New York
    timezone: America/New_York
    accounts: [beta]
    posts:
      - id: avond
        text: "Late evening in New York"
        at: 2027-03-01 22:00
      - id: vijandig
        text: %s
        at: 2027-03-05 12:00
      - id: leestekens
        text: %s
        at: 2027-03-06 12:00
""" % (__import__("json").dumps(HOSTILE), __import__("json").dumps(ICS_TEXT))

STATE_OF = {"lente/wacht/alpha": "awaiting_approval", "lente/afgewezen/alpha": "rejected",
            "lente/verstuurd/alpha": "sent", "lente/mislukt/alpha": "failed",
            "lente/geannuleerd/alpha": "cancelled"}


@pytest.fixture
def posts_file(write_posts):
    return write_posts(POSTS)


@pytest.fixture
def queue(db, posts_file):
    sync(db, load_plan(posts_file), SYNCED)
    with db.transaction(write=True) as connection:
        for key, state in STATE_OF.items():
            connection.execute(update(scheduled_posts).where(scheduled_posts.c.key == key).values(state=state))
    # A manual post, in its row's zone (UTC): 23:30 on 1 March, which is already 2 March in Amsterdam.
    manual = queue_post(db, "alpha", "Handmatig bericht laat op de avond",
                        at=datetime(2027, 3, 1, 23, 30, tzinfo=UTC), now=SYNCED)
    people.add(db, "viewer", "viewer", PASSWORD, SYNCED)  # one person: each password hash takes a while
    return manual


@pytest.fixture
def app(db, posts_file, queue):
    application, ws = make_workspace(db, posts_file=posts_file, now=NOW)
    application.state.ws = ws
    return application


@pytest.fixture
def http(app):
    return signed_in_client(app, "viewer")


def page(http, url: str, status: int = 200):
    response = http.get(url)
    assert response.status_code == status, response.text[:2000]
    return lxml.html.fromstring(response.text)


def cls(name: str) -> str:
    """An XPath test for an element having the class `name`."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def find(element, path: str) -> list:
    return element.xpath(path)


def one(element, path: str):
    found = element.xpath(path)
    assert len(found) >= 1, path
    return found[0]


def text(element) -> str:
    return " ".join(element.text_content().split())


def spoken(element) -> str:
    """The text a screen reader reads: without the parts hidden from it (aria-hidden)."""
    import copy

    element = copy.deepcopy(element)
    for hidden in element.xpath(".//*[@aria-hidden='true']"):
        hidden.drop_tree()
    return text(element)


def posts_in(container) -> list[dict]:
    found = []
    for item in find(container, f".//li[{cls('post')}]"):
        link = one(item, ".//a")
        badge = one(item, f".//*[{cls('state')}]")
        found.append({"time": text(one(item, f".//*[{cls('post-time')}]/time")),
                      "account": text(one(item, f".//*[{cls('post-account')}]")),
                      "state": [c for c in badge.classes if c.startswith("state-")][0], "label": text(badge),
                      "text": text(one(item, f".//*[{cls('post-text')}]")), "href": link.get("href"),
                      "colour": [c for c in item.classes if c.startswith("acct-")][0]})
    return found


def days(tree) -> dict[str, list[dict]]:
    """Date → the posts in its cell (month grid) or list item (week)."""
    return {cell.get("data-date"): posts_in(cell) for cell in find(tree, "//*[@data-date]")}


def texts(day_posts) -> list[str]:
    return [p["text"] for p in day_posts]


# --- the month ---------------------------------------------------------------------------------------

def test_month_puts_each_post_on_its_day_in_the_zone_of_its_campaign(http):
    tree = page(http, "/calendar?month=2027-03")
    by_day = days(tree)
    assert sorted(by_day) == [f"2027-03-{d:02d}" for d in range(1, 32)]  # only March's own days are cells
    first = by_day["2027-03-01"]
    # 00:30 in Amsterdam is 23:30 UTC on 28 February: still 1 March here.
    expected = {"time": "00:30", "account": "alpha", "text": "Net na middernacht op de eerste maart"}
    assert expected.items() <= first[0].items()
    # New York's 22:00 on 1 March (04:00 on 2 March in Amsterdam) and the manual post at 23:30 UTC stay on 1 March.
    assert [(p["time"], p["text"]) for p in first] == [
        ("00:30", "Net na middernacht op de eerste maart"), ("22:00", "Late evening in New York"),
        ("23:30", "Handmatig bericht laat op de avond")]
    assert "Late evening in New York" not in texts(by_day["2027-03-02"])
    assert all(p["href"].startswith("/posts/") and p["href"][7:].isdigit() for posts in by_day.values() for p in posts)
    # the February page does not show it on 28 February either
    february = days(page(http, "/calendar?month=2027-02"))
    assert february["2027-02-28"] == []
    # the zones are said above the grid, and each post's own zone is beside its time
    notice = text(one(tree, f"//p[{cls('calendar-zone')}]"))
    assert "America/New_York" in notice and "Europe/Amsterdam" in notice and "UTC" in notice
    assert text(find(tree, f"//*[@data-date='2027-03-01']//li//*[{cls('post-zone')}]")[1]) == "(New York)"


def test_the_dst_days_of_europe_amsterdam_are_right(http):
    march, october = days(page(http, "/calendar?month=2027-03")), days(page(http, "/calendar?month=2027-10"))
    assert [(p["time"], p["text"]) for p in march["2027-03-28"]] == [
        ("01:30", "Half twee, voor de klok een uur vooruit gaat"), ("03:30", "Half vier, nadat de klok vooruit ging")]
    assert march["2027-03-27"] == []
    # 01:30 summer time on 31 October is 23:30 UTC on 30 October
    assert [(p["time"], p["text"]) for p in october["2027-10-31"]] == [
        ("01:30", "Half twee in de zomertijd, de klok gaat straks terug"), ("03:30", "Half vier in de wintertijd")]
    assert october["2027-10-30"] == []
    # and the same in the week views (ISO weeks 12 and 43 of 2027 end on those Sundays)
    week = page(http, "/calendar?view=week&week=2027-W12")
    assert [p["time"] for p in days(week)["2027-03-28"]] == ["01:30", "03:30"]
    week = page(http, "/calendar?view=week&week=2027-W43")
    assert [p["time"] for p in days(week)["2027-10-31"]] == ["01:30", "03:30"]


def test_a_busy_day_shows_four_posts_and_the_rest_in_details_that_open_in_place(http):
    tree = page(http, "/calendar?month=2027-03")
    cell = one(tree, "//td[@data-date='2027-03-10']")
    direct = cell.xpath("./ul[@class='posts']/li")
    assert [text(one(li, f".//*[{cls('post-text')}]")) for li in direct] == [
        "Drukke dag, bericht een", "Drukke dag, bericht twee", "Drukke dag, bericht drie", "Drukke dag, bericht vier"]
    details = cell.xpath("./details")
    assert len(details) == 1
    assert text(details[0].xpath("./summary")[0]) == "nog 2"
    assert texts(posts_in(details[0])) == ["Drukke dag, bericht vijf", "Drukke dag, bericht zes"]
    assert not tree.xpath("//script") and not tree.xpath("//@*[starts-with(name(), 'on')]")
    # a quiet day has no details
    assert not find(tree, "//td[@data-date='2027-03-01']//details")


def test_states_are_badges_with_their_names(http, app):
    by_day = days(page(http, "/calendar?month=2027-03"))
    badge = {day: (posts[0]["state"], posts[0]["label"]) for day, posts in by_day.items() if posts}
    assert badge["2027-03-15"] == ("state-awaiting_approval", "Wacht op goedkeuring")
    assert badge["2027-03-16"] == ("state-rejected", "Afgewezen")
    assert badge["2027-03-17"] == ("state-sent", "Verstuurd")
    assert badge["2027-03-18"] == ("state-failed", "Mislukt")
    assert badge["2027-03-19"] == ("state-cancelled", "Geannuleerd")
    assert badge["2027-03-10"] == ("state-queued", "Ingepland")
    people.add(app.state.ws.db, "reader", "viewer", PASSWORD, SYNCED)
    people.set_locale(app.state.ws.db, "reader", "en", NOW)
    english = signed_in_client(app, "reader")
    by_day = days(page(english, "/calendar?month=2027-03"))
    assert (by_day["2027-03-15"][0]["label"], by_day["2027-03-18"][0]["label"]) == ("Awaiting approval", "Failed")


def test_every_state_has_a_label():
    from web.calendar import STATE_LABELS

    assert set(STATE_LABELS) == set(STATES)
    assert STATE_LABELS["awaiting_approval"] == "Awaiting approval" and STATE_LABELS["queued"] == "Queued"


def test_account_colours_follow_the_sorted_account_names(http):
    by_day = days(page(http, "/calendar?month=2027-03"))
    assert {p["colour"] for p in by_day["2027-03-10"]} == {"acct-0"}  # alpha
    assert by_day["2027-03-05"][0]["colour"] == "acct-1"  # beta


def test_weekday_headers_and_day_headings_in_the_readers_language(http, app):
    tree = page(http, "/calendar?month=2027-03")
    headers = [spoken(th) for th in find(tree, "//table/thead//th")[1:]]
    assert headers == ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag",
                                                "zaterdag", "zondag"]
    assert all(th.get("scope") == "col" for th in find(tree, "//table/thead//th"))
    heading = one(tree, "//td[@data-date='2027-03-01']/h3")
    assert spoken(heading) == "maandag 1 maart 2027"
    assert text(one(tree, "//h2")) == "maart 2027"
    # the grid starts on Monday 1 March 2027: the first cell of the first row is that day
    assert one(tree, "//table/tbody/tr[1]/td[1]").get("data-date") == "2027-03-01"

    people.add(app.state.ws.db, "reader", "viewer", PASSWORD, SYNCED)
    people.set_locale(app.state.ws.db, "reader", "en", NOW)
    english = page(signed_in_client(app, "reader"), "/calendar?month=2027-03")
    headers = [spoken(th) for th in find(english, "//table/thead//th")[1:]]
    assert headers[0] == "Monday" and "Sunday" in headers
    assert text(one(english, "//h2")) == "March 2027"
    assert spoken(one(english, "//td[@data-date='2027-03-01']/h3")) == "Monday, March 1, 2027"


def test_the_default_month_is_the_current_one_in_the_grids_zone(db, posts_file, queue):
    # 23:30 UTC on 28 February is already 1 March in Amsterdam, the zone of posts.yaml's first campaign
    application, _ws = make_workspace(db, posts_file=posts_file, now=datetime(2027, 2, 28, 23, 30, tzinfo=UTC))
    tree = page(signed_in_client(application, "viewer"), "/calendar")
    assert text(one(tree, "//h2")) == "maart 2027"
    today = find(tree, "//td[@aria-current='date']")
    assert [td.get("data-date") for td in today] == ["2027-03-01"]
    week = page(signed_in_client(application, "viewer"), "/calendar?view=week")
    assert [li.get("data-date") for li in find(week, "//ol/li")][0] == "2027-03-01"


def test_week_view_lists_seven_days_with_times(http):
    tree = page(http, "/calendar?view=week&week=2027-W10")
    items = find(tree, "//ol/li")
    assert [li.get("data-date") for li in items] == [f"2027-03-{d:02d}" for d in range(8, 15)]
    assert text(one(items[0], "./h3")) == "maandag 8 maart 2027"
    wednesday = posts_in(items[2])
    assert [p["time"] for p in wednesday] == ["08:00", "09:00", "10:00", "11:00", "12:00", "13:00"]
    assert not find(items[2], ".//details")  # the week shows every post
    assert "Geen berichten op deze dag." in text(items[0])


def test_filters_by_campaign_account_and_state_and_the_links_keep_them(http):
    ny = page(http, "/calendar?month=2027-03&campaign=ny")
    shown = [p for posts in days(ny).values() for p in posts]
    assert {p["account"] for p in shown} == {"beta"} and len(shown) == 3
    # one campaign chosen: its zone is the grid's, and the notice says so
    assert text(one(ny, f"//p[{cls('calendar-zone')}]")).startswith("Dagen en tijden in de tijdzone America/New_York.")
    pager = {urlsplit(a.get("href")).query for a in find(ny, "//nav//a") if a.get("href").startswith("/calendar?")}
    assert pager and all(parse_qs(q)["campaign"] == ["ny"] for q in pager)
    assert one(ny, "//select[@id='filter-campaign']/option[@selected]").get("value") == "ny"
    for label in ("filter-campaign", "filter-account", "filter-state"):
        assert find(ny, f"//label[@for='{label}']") and find(ny, f"//select[@id='{label}']")

    beta = [p for posts in days(page(http, "/calendar?month=2027-03&account=beta")).values() for p in posts]
    assert {p["account"] for p in beta} == {"beta"} and len(beta) == 3

    problems = page(http, "/calendar?month=2027-03&state=sent&state=failed")
    shown = {day: [p["state"] for p in posts] for day, posts in days(problems).items() if posts}
    assert shown == {"2027-03-17": ["state-sent"], "2027-03-18": ["state-failed"]}
    chosen = find(problems, "//select[@id='filter-state']/option[@selected]")
    assert sorted(o.get("value") for o in chosen) == ["failed", "sent"]
    assert one(problems, "//select[@id='filter-state']").get("multiple") is not None
    next_month = [a.get("href") for a in find(problems, "//nav//a") if "2027-04" in a.get("href")][0]
    assert parse_qs(urlsplit(next_month).query)["state"] == ["sent", "failed"]

    # an empty value (the "all" option) is no filter
    assert len([p for posts in days(page(http, "/calendar?month=2027-03&campaign=&state=")).values()
                for p in posts]) == 18


@pytest.mark.parametrize("query, words", [
    ("month=2027-13", "2027-13"), ("month=maart", "maart"), ("month=2027-3", "2027-3"),
    ("view=week&week=2027-W54", "2027-W54"), ("view=year", "year"),
    ("campaign=herfst", "herfst"), ("account=gamma", "gamma"), ("state=lost", "lost"),
    ("campaign=%3Cscript%3Ex", "<script>x"),
])
def test_unusable_parameters_are_a_400_with_a_clear_message(http, query, words):
    response = http.get(f"/calendar?{query}")
    assert response.status_code == 400
    tree = lxml.html.fromstring(response.text)
    message = text(one(tree, f"//p[{cls('message')}][{cls('error')}]"))
    assert words in message and "Traceback" not in response.text
    assert not tree.xpath("//script")


def test_hostile_text_stays_text_in_the_calendar(http):
    tree = page(http, "/calendar?month=2027-03")
    post = days(tree)["2027-03-05"][0]
    assert post["text"].startswith("<script>alert(1)</script>")
    assert not tree.xpath("//script") and not tree.xpath("//@onmouseover")
    assert all(not href.lower().startswith("javascript") for href in tree.xpath("//a/@href"))


def test_a_viewer_may_read_the_calendar_and_no_one_without_a_session(app):
    assert signed_in_client(app, "viewer").get("/calendar").status_code == 200
    response = client(app).get("/calendar?month=2027-03")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_an_empty_queue_shows_an_empty_month_and_feed(db, tmp_path):
    people.add(db, "viewer", "viewer", PASSWORD, SYNCED)
    application, _ws = make_workspace(db, now=NOW)
    http = signed_in_client(application, "viewer")
    tree = page(http, "/calendar")
    assert text(one(tree, "//h2")) == "februari 2027"
    assert all(posts == [] for posts in days(tree).values()) and len(days(tree)) == 28
    assert "Dagen en tijden in de tijdzone UTC." in text(one(tree, f"//p[{cls('calendar-zone')}]"))
    assert len(find(page(http, "/calendar?view=week"), "//ol/li")) == 7
    feed = client(application).get(feed_urls(http)["Alle campagnes"])
    assert feed.status_code == 200 and parse_ics(feed.content).walk("VEVENT") == []


def test_the_range_query_uses_the_state_and_due_index_on_sqlite(db, queue):
    if not db.is_sqlite:
        pytest.skip("the plan is checked on SQLite")
    from datetime import date

    from web.calendar import Filters, range_query

    query = range_query(date(2027, 3, 1), date(2027, 3, 31), Filters())
    with db.transaction() as connection:
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    assert "ix_scheduled_posts_state_due" in plan


# --- subscribing ----------------------------------------------------------------------------------

def feed_urls(http) -> dict[str, str]:
    tree = page(http, "/calendar/subscribe")
    return {text(one(row, "./th")): text(one(row, ".//code")) for row in find(tree, "//tbody/tr")}


def parse_ics(body: bytes):
    from icalendar import Calendar

    return Calendar.from_ical(body)


def events(calendar) -> dict[str, object]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_subscribe_page_lists_absolute_links_and_explains_outlook(http):
    urls = feed_urls(http)
    assert set(urls) == {"Alle campagnes", "Lente", "New York"}
    assert all(url.startswith("http://testserver/ics/") and url.endswith(".ics") for url in urls.values())
    assert "/ics/all/" in urls["Alle campagnes"] and "/ics/campaign/lente/" in urls["Lente"]
    page_text = http.get("/calendar/subscribe").text
    assert "Agenda toevoegen → Abonneren via internet" in page_text and "<script" not in page_text


def test_the_feed_is_valid_ics_needs_no_session_and_places_dst_right(app, http):
    url = feed_urls(http)["Alle campagnes"]
    response = client(app).get(url)  # no cookies at all
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = parse_ics(response.content)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"])
    assert str(calendar["X-WR-CALNAME"]) == "Praat mee: alle campagnes"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Amsterdam"
    found = events(calendar)
    assert "lente/geannuleerd/alpha@praatmee" not in found  # cancelled is left out
    assert len(found) == 20 - 1
    dst = {uid.split("/")[1]: event.decoded("DTSTART") for uid, event in found.items() if uid.startswith("lente/")}
    assert dst["zomertijd-voor"] == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    assert dst["zomertijd-na"] == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert dst["wintertijd-voor"] == datetime(2027, 10, 30, 23, 30, tzinfo=UTC)
    assert dst["wintertijd-na"] == datetime(2027, 10, 31, 2, 30, tzinfo=UTC)
    event = found["lente/middernacht/alpha@praatmee"]
    assert event.decoded("DURATION") == timedelta(minutes=15)
    assert str(event["SUMMARY"]).startswith("[alpha] Net na middernacht")
    assert str(event["URL"]).startswith("http://testserver/posts/")
    assert event.decoded("DTSTAMP") == SYNCED
    sent = found["lente/verstuurd/alpha@praatmee"]
    assert "Verstuurd" in str(sent["SUMMARY"]) and "Verstuurd" in sent["CATEGORIES"].to_ical().decode()
    assert str(found["lente/wacht/alpha@praatmee"]["STATUS"]) == "TENTATIVE"
    assert any(uid.startswith("manual/alpha/") for uid in found)


def test_text_with_newlines_commas_and_semicolons_round_trips_through_the_feed(app, http):
    calendar = parse_ics(client(app).get(feed_urls(http)["New York"]).content)
    found = events(calendar)
    assert str(found["ny/leestekens/beta@praatmee"]["DESCRIPTION"]) == ICS_TEXT
    assert str(found["ny/vijandig/beta@praatmee"]["DESCRIPTION"]) == HOSTILE


def test_a_campaigns_feed_holds_only_that_campaigns_posts(app, http):
    calendar = parse_ics(client(app).get(feed_urls(http)["New York"]).content)
    assert set(events(calendar)) == {"ny/avond/beta@praatmee", "ny/vijandig/beta@praatmee",
                                     "ny/leestekens/beta@praatmee"}
    assert str(calendar["X-WR-TIMEZONE"]) == "America/New_York"
    assert str(calendar["X-WR-CALNAME"]) == "Praat mee: New York"


def test_uids_stay_the_same_when_posts_yaml_is_synced_again(app, http, db, posts_file):
    url = feed_urls(http)["Lente"]
    before = events(parse_ics(client(app).get(url).content))
    posts_file.write_text(POSTS.replace("Drukke dag, bericht", "Een drukke dag, bericht"), encoding="utf-8")
    summary = sync(db, load_plan(posts_file), SYNCED + timedelta(days=1))
    assert summary.updated == 6
    after = events(parse_ics(client(app).get(url).content))
    # the same UIDs, and the cancelled post is back (its text is in posts.yaml, so sync queues it again)
    assert set(after) - set(before) == {"lente/geannuleerd/alpha@praatmee"} and set(before) <= set(after)
    uid = "lente/druk-1/alpha@praatmee"
    assert str(after[uid]["DESCRIPTION"]) == "Een drukke dag, bericht een"
    assert after[uid].decoded("DTSTAMP") > before[uid].decoded("DTSTAMP")


def test_a_wrong_token_or_unknown_scope_is_the_same_404(app, http):
    from web.subscribe import feed_token

    urls = feed_urls(http)
    good = urlsplit(urls["Lente"]).path
    anonymous = client(app)
    wrong_token = anonymous.get(good[:-8] + ("0000" if not good.endswith("0000.ics") else "1111") + ".ics")
    unknown_scope = anonymous.get(f"/ics/campaign/herfst/{feed_token(SECRET, 'herfst')}.ics")
    other_scope = anonymous.get(good.replace("/ics/campaign/lente/", "/ics/campaign/ny/"))
    all_with_a_campaigns_token = anonymous.get(f"/ics/all/{good.rsplit('/', 1)[1]}")
    odd = anonymous.get("/ics/campaign/lente/%C3%A9%C3%A9.ics")
    undecodable = anonymous.get("/ics/campaign/%ff/0123.ics")
    for response in (wrong_token, unknown_scope, other_scope, all_with_a_campaigns_token, odd, undecodable):
        assert response.status_code == 404
        assert response.text == wrong_token.text
        assert response.headers["content-type"] == wrong_token.headers["content-type"]


def test_the_token_differs_per_scope_and_per_secret():
    from web.subscribe import feed_token

    tokens = {feed_token(SECRET, scope) for scope in (None, "all", "lente", "ny")}
    assert len(tokens) == 4 and all(len(t) == 32 for t in tokens), "a campaign called 'all' is not all campaigns"
    assert feed_token(b"another secret of sufficient length!!", None) != feed_token(SECRET, None)


def test_the_feed_covers_90_days_back_to_400_days_ahead(app, http, db):
    old = queue_post(db, "beta", "Lang geleden", at=NOW - timedelta(days=91), now=SYNCED)
    recent = queue_post(db, "beta", "Niet zo lang geleden", at=NOW - timedelta(days=89), now=SYNCED)
    far = queue_post(db, "beta", "Ver weg", at=NOW + timedelta(days=401), now=SYNCED)
    near = queue_post(db, "beta", "Bijna te ver", at=NOW + timedelta(days=399), now=SYNCED)
    found = events(parse_ics(client(app).get(feed_urls(http)["Alle campagnes"]).content))
    assert f"{recent.key}@praatmee" in found and f"{near.key}@praatmee" in found
    assert f"{old.key}@praatmee" not in found and f"{far.key}@praatmee" not in found
