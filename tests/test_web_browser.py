"""The workspace in a real browser (Chromium through Playwright) against the real server (uvicorn):
signing in and out, roles, language, keyboard use, and that no page breaks its own Content
Security Policy. Scenarios for pages still being written skip until their route exists.

Runs when playwright is installed and a Chromium is at /usr/bin/chromium (.ci/run installs
Debian's); otherwise the module is skipped with the reason. One browser for the module, a fresh
context (cookies, storage) and a fresh server and database for each test.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from tests.browser import (OPEN_POSTS, UI, VIEWER_POSTS, browser_missing, launch, live_workspace, module_routes,
                           pages_to_visit, queue_template, quick_hasher, routes, subscribe_url_in)
from tests.web_support import PASSWORD

_missing = browser_missing()
if _missing:
    pytest.skip(f"browser tests skipped: {_missing}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only after the check above)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module", autouse=True)
def quick_password_hashing():
    """Argon2 at its lowest cost: these scenarios are about the pages, not about hashing."""
    from campaign import people

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(people, "_hasher", quick_hasher)
        yield


@pytest.fixture(scope="module")
def template(tmp_path_factory, quick_password_hashing):
    return queue_template(tmp_path_factory.mktemp("queue"))


@pytest.fixture
def live(template, tmp_path):
    yield from live_workspace(template, tmp_path)


@pytest.fixture
def open_ui(browser, live):
    """open_ui(locale="en-GB") -> UI: a tab in a context of its own (a second person, another
    language). At the end every tab must have logged no console error and no CSP violation."""
    tabs = []

    def open_tab(locale: str = "en-GB") -> UI:
        context = browser.new_context(locale=locale)
        context.set_default_timeout(10_000)
        tab = UI(context.new_page(), live)
        tabs.append(tab)
        return tab

    yield open_tab
    problems = [problem for tab in tabs for problem in tab.problems]
    for tab in tabs:
        tab.page.context.close()
    assert problems == [], "console errors or CSP violations:\n" + "\n".join(problems)


@pytest.fixture
def ui(open_ui) -> UI:
    return open_ui()


def needs(live, path: str, method: str = "GET") -> None:
    if not live.has(path, method):
        pytest.skip(f"{method} {path} does not exist yet")


def post_page(live):
    """The route of the page about one post (web.previews), or a skip while it does not exist."""
    pages = [r for r in module_routes(live.app, "web.previews") if len(r.params) == 1]
    if not pages:
        pytest.skip("web.previews has no page for one post yet")
    return pages[0]


def landing(live) -> str:
    """A signed-in page that exists already: the calendar, else the first page of the navigation."""
    for path in ("/calendar", "/history", "/problems", "/approvals"):
        if live.has(path):
            return path
    pytest.skip("no signed-in page exists yet")


# --- what works with the foundation -------------------------------------------------------------

def test_sign_in_through_the_form_and_sign_out(ui, live):
    start = landing(live)
    ui.goto(start)
    ui.page.wait_for_url(re.compile(r"/login\?next="))  # not signed in: off to the form, and back after
    ui.page.locator("#name").fill("editor")
    ui.page.locator("#password").fill("not the password")
    ui.page.locator("form[action='/login'] button[type=submit]").click()
    expect(ui.page.get_by_role("alert")).to_contain_text("Unknown name or wrong password")
    ui.problems[:] = [p for p in ui.problems if "status of 401" not in p]  # Chromium logs the 401 answer
    ui.sign_in("editor", next_page=start)
    assert ui.path() == start
    expect(ui.page.locator("header .who")).to_contain_text("editor")
    expect(ui.page.get_by_role("button", name="Sign out")).to_be_visible()
    ui.sign_out()
    ui.goto(start)
    ui.page.wait_for_url(re.compile(r"/login\?next="))


def test_after_signing_in_the_calendar_shows_this_months_posts(ui, live):
    needs(live, "/calendar")
    ui.goto("/login")
    ui.page.locator("#name").fill("viewer")
    ui.page.locator("#password").fill(PASSWORD)
    ui.page.locator("form[action='/login'] button[type=submit]").click()
    ui.page.wait_for_url(re.compile(r"/calendar"))  # "/" leads to the calendar
    expect(ui.page.get_by_role("heading", level=1)).to_be_visible()
    expect(ui.page.get_by_role("link", name="Calendar", exact=True)).to_have_attribute("aria-current", "page")
    expect(ui.page.get_by_text("praat mee over de stad").first).to_be_visible()
    ui.sign_out()


def test_a_viewer_cannot_use_an_editor_action(ui, live):
    posts = [r for r in routes(live.app) if "POST" in r.methods and r.path not in VIEWER_POSTS + OPEN_POSTS]
    if not posts:
        pytest.skip("no action beyond the viewer's exists yet")
    failed = live.queue.id("kapot")
    retry = [r for r in posts if r.path.endswith("/retry")]
    action = (retry or posts)[0]
    ui.enter_as("viewer", landing(live))
    if live.has("/problems"):
        ui.goto("/problems")
        expect(ui.row_with("Dit bericht mislukte")).to_be_visible()
        expect(ui.page.get_by_role("button", name=re.compile("Retry"))).to_have_count(0)
    answer = ui.post(action.fill(failed))  # a hand-made form with the viewer's own valid token
    assert answer.status == 403, (action.path, answer.status)
    assert "Your role does not allow this." in answer.text()
    assert live.queue.state(failed) == "failed"


def test_switching_the_language_to_english_changes_the_interface(open_ui, live):
    start = landing(live)
    ui = open_ui(locale="nl-NL")
    ui.goto("/login")
    expect(ui.page.locator("html")).to_have_attribute("lang", "nl")
    expect(ui.page.get_by_role("heading", name="Aanmelden")).to_be_visible()
    ui.sign_in("viewer", next_page=start)
    expect(ui.page.get_by_role("button", name="Afmelden")).to_be_visible()
    ui.choose_language("en")
    assert ui.path() == start, "the switch keeps the reader on the same page"
    expect(ui.page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(ui.page.get_by_role("navigation", name="Main")).to_contain_text("Calendar")
    # The choice belongs to the person: another Dutch browser of theirs shows English too.
    other = open_ui(locale="nl-NL")
    other.sign_in("viewer", next_page=start)
    expect(other.page.locator("html")).to_have_attribute("lang", "en")
    ui.choose_language("nl")
    expect(ui.page.get_by_role("button", name="Afmelden")).to_be_visible()


def test_no_page_logs_an_error_or_breaks_the_content_security_policy(ui, live):
    ui.goto("/login")
    expect(ui.page.locator("#name")).to_be_visible()
    ui.enter_as("admin", landing(live))
    queue = live.queue
    visited = []
    for path in pages_to_visit(live.app, queue.any_id) + pages_to_visit(live.app, queue.id("kapot")):
        if path in visited or path == "/login" or not ui.is_page(path):
            continue  # Chromium logs a 404 or 409 as a failed resource; downloads and images are no pages
        response = ui.goto(path)
        assert "default-src 'self'" in response.headers["content-security-policy"], path
        visited.append(path)
    assert len(visited) >= 2, visited
    assert ui.problems == [], "\n".join(ui.problems)


def test_the_console_watch_catches_a_csp_violation(ui, live):
    """The check above would see a violation: an inline script and style on a page of the same app."""
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    live.app.router.routes.insert(0, Route("/csp-probe", lambda request: HTMLResponse(
        "<!DOCTYPE html><html><head><style>p{color:red}</style></head><body><p>x</p>"
        "<script>document.title='ran'</script></body></html>")))
    ui.goto("/csp-probe")
    expect(ui.page.locator("p")).to_have_text("x")
    assert ui.page.title() != "ran"
    assert any("Content Security Policy" in problem for problem in ui.problems), ui.problems
    ui.problems.clear()


def test_tab_from_the_top_reaches_the_skip_link_then_the_sign_in_fields(ui):
    ui.goto("/login")
    order = ui.tab_from_top(5)
    assert [item["href"] for item in order[:2]] == ["#main", "/"], order
    assert [item["id"] for item in order[2:4]] == ["name", "password"], order
    assert order[4]["tag"] == "button" and order[4]["type"] == "submit", order
    assert all(item["outline"] != "none" for item in order), "the keyboard focus must be visible"
    ui.tab_from_top(1)
    ui.page.keyboard.press("Enter")  # the skip link moves the focus to the content
    assert ui.focused()["id"] == "main"


def test_tab_from_the_top_of_a_signed_in_page_reaches_the_skip_link_then_the_navigation(ui, live):
    ui.enter_as("viewer", landing(live))
    order = ui.tab_from_top(3)
    assert [item["href"] for item in order] == ["#main", "/", "/calendar"], order


# --- scenarios for pages still being written: each runs once its route exists --------------------

def test_an_editor_retries_a_failed_post_from_the_problems_page(ui, live):
    needs(live, "/problems")
    failed = live.queue.id("kapot")
    ui.enter_as("editor", "/problems")
    row = ui.row_with("Dit bericht mislukte")
    expect(row).to_contain_text("503")
    assert ui.submit(row.get_by_role("button", name=re.compile(r"^Retry"))) == 303
    expect(ui.page.get_by_role("status")).to_contain_text(f"#{failed}")
    assert live.queue.state(failed) == "queued"


def test_a_thread_with_an_image_is_previewed(ui, live):
    ui.enter_as("editor", post_page(live).fill(live.queue.id("draad")))
    expect(ui.page.get_by_text("Een draadje over het stadskantoor").first).to_be_visible()
    expect(ui.page.get_by_text("Deel twee van het draadje").first).to_be_visible()
    image = ui.page.get_by_alt_text("Het stadskantoor aan het Jaarbeursplein").first
    expect(image).to_be_visible()
    shown = [i for i in ui.images_loaded() if i["alt"] == "Het stadskantoor aan het Jaarbeursplein"]
    assert shown and all(i["loaded"] for i in shown), shown


def test_an_approver_approves_a_post_that_waits(ui, live):
    needs(live, "/approvals")
    waiting = live.queue.id("ter-keuring")
    assert live.queue.state(waiting) == "awaiting_approval"
    ui.enter_as("approver", "/approvals")
    row = ui.row_with("Dit bericht wacht op goedkeuring")
    assert ui.submit(row.get_by_role("button", name=re.compile(r"^Approve")).first) == 303
    assert live.queue.state(waiting) == "queued"


def test_an_approver_rejects_a_post_with_a_reason_the_writers_then_read(ui, live):
    waiting = live.queue.id("ter-keuring")
    needs(live, f"/posts/{waiting}/reject", "POST")
    needs(live, "/approvals")
    ui.enter_as("approver", post_page(live).fill(waiting))
    ui.page.get_by_label(re.compile(r"^Reason for rejecting")).fill("De datum klopt niet")
    assert ui.submit(ui.page.get_by_role("button", name="Reject", exact=True)) == 303
    assert live.queue.state(waiting) == "rejected"
    ui.goto("/approvals")
    expect(ui.row_with("Dit bericht wacht op goedkeuring")).to_contain_text("De datum klopt niet")


def test_an_editor_cannot_approve(ui, live):
    needs(live, "/approvals")
    approve = [r for r in module_routes(live.app, "web.approvals", "POST") if "approve" in r.path]
    if not approve:
        pytest.skip("web.approvals has no approve action yet")
    waiting = live.queue.id("ter-keuring")
    ui.enter_as("editor", "/approvals")
    expect(ui.page.get_by_role("button", name=re.compile(r"^Approve"))).to_have_count(0)
    assert ui.post(approve[0].fill(waiting)).status == 403
    assert live.queue.state(waiting) == "awaiting_approval"


def test_the_subscribe_link_serves_a_valid_calendar(ui, live):
    if not any(r.path.startswith("/ics/") for r in routes(live.app)):
        pytest.skip("no /ics/ feed exists yet")
    import httpx
    from icalendar import Calendar

    ui.enter_as("viewer", landing(live))
    candidates = [r.path for r in module_routes(live.app, "web.subscribe") if not r.params]
    feed = None
    for path in candidates + ["/calendar"]:
        if live.has(path) and ui.status(path) == 200:
            ui.goto(path)
            feed = subscribe_url_in(ui.page.content())
            if feed:
                break
    assert feed, f"no page among {candidates + ['/calendar']} shows a /ics/ link"
    url = feed if feed.startswith("http") else live.url(feed)
    answer = httpx.get(url.replace("&amp;", "&"), timeout=10)  # no cookies: a calendar app has none
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    events = [c for c in calendar.walk("VEVENT")]
    assert events and any("draadje over het stadskantoor" in str(e.get("SUMMARY", "")) + str(e.get("DESCRIPTION", ""))
                          for e in events)
    assert all(e.get("UID") and e.get("DTSTART") for e in events)
    thread = [e for e in events if "draadje over het stadskantoor" in str(e.get("DESCRIPTION", ""))]
    assert thread and thread[0].decoded("DTSTART") == datetime(2027, 1, 22, 11, 0, tzinfo=timezone.utc)
    forged = httpx.get(re.sub(r"/[^/]+\.ics", "/" + "A" * 43 + ".ics", url), timeout=10)
    assert forged.status_code in (403, 404) and "VEVENT" not in forged.text


def test_the_archive_charts_load_without_breaking_the_content_security_policy(ui, live):
    """SVG charts in the page, the report's stylesheet, a filter sent by the form: no console error."""
    needs(live, "/archive/report")
    from datetime import timedelta

    from archive.records import ArchivedPost
    from archive.store import migrate, upsert_posts

    migrate(live.queue.db)
    start = datetime(2015, 1, 5, 9, tzinfo=timezone.utc)
    upsert_posts(live.queue.db, [
        ArchivedPost("x", str(n), "teamsaantstuur", start + timedelta(days=9 * n), f"Bericht {n} #zelfstandigeteams",
                     kind="reply" if n % 3 == 0 else "post", hashtags=("zelfstandigeteams",), metrics={"likes": n})
        for n in range(20)], source="test", now=live.ws.now())
    ui.enter_as("viewer", "/archive/report")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Charts")
    chart = ui.page.get_by_role("img", name="Posts per month", exact=True)
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 300, "the stylesheet sizes the chart"
    ui.page.get_by_label("Charts per").select_option("week")
    ui.page.get_by_label("Kind", exact=True).select_option("reply")
    ui.page.get_by_role("button", name="Show").click()
    ui.page.wait_for_url(re.compile(r"period=week"))
    expect(ui.page.get_by_role("img", name="Posts per week", exact=True)).to_be_visible()
    expect(ui.page.get_by_role("table", name="Overview")).to_contain_text("7")
    ui.page.get_by_text("The numbers as a table").first.click()
    expect(ui.page.get_by_role("table", name="Posts per week")).to_be_visible()
