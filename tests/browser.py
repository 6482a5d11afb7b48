"""The workspace as a browser and as a hostile reader see it (issue 14): a queue filled from a
posts.yaml, the real app served by uvicorn in a thread, Chromium through Playwright, and helpers
that keep each scenario a few lines long.

Playwright is imported only by the functions that drive a browser, so tests/test_web_security.py
(no browser) can use the queue and route helpers on a machine without it.
"""
from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import select, update

from campaign.queue.db import Database
from campaign.queue.tables import accounts, campaigns, scheduled_posts
from tests.web_support import PASSWORD, add_people, make_workspace

ROOT = Path(__file__).resolve().parent.parent
PNG = (ROOT / "media" / "stadskantoor030.png").read_bytes()

# The queue is synced a while before the workspace's clock, so every post is queued first; the
# posts before NOW are then made sent or failed, as a dispatcher would have left them.
SYNCED_AT = datetime(2027, 1, 10, 9, 0, tzinfo=timezone.utc)
NOW = datetime(2027, 1, 20, 9, 0, tzinfo=timezone.utc)  # a Wednesday

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Texts that would run script if a page let them through as markup.
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_LINK = "javascript:alert(1)"
HOSTILE_ATTRIBUTE = '"onmouseover="alert(1)'
HOSTILE = (HOSTILE_SCRIPT, HOSTILE_IMG, HOSTILE_LINK, HOSTILE_ATTRIBUTE)

POSTS_YAML = """\
timezone: Europe/Amsterdam
accounts:
  teamsaantstuur:
    platform: x
    handle: "@teamsaantstuur"
  social:
    platform: mastodon
    instance: https://social.example
    handle: "@team@social.example"
campaigns:
  tas:
    name: {campaign_name}
    accounts: [teamsaantstuur, social]
    posts:
      - id: aankondiging
        text: {announcement}
        at: 2027-01-18 10:00
      - id: kapot
        text: {broken}
        accounts: [social]
        at: 2027-01-19 10:00
      - id: praat-mee
        variants:
          - "Variant een: praat mee over de stad"
          - "Variant twee: laat je horen over de stad"
        every: week
        on: [mon, thu]
        at: "10:00"
        from: 2027-01-21
        count: 4
      - id: draad
        accounts: [social]
        thread:
          - text: {thread_first}
            media: {{path: stadskantoor.png, alt: {alt}}}
          - "Deel twee van het draadje"
        at: 2027-01-22 12:00
  keuring:
    name: Met goedkeuring
    approval: required
    accounts: [social]
    posts:
      - id: ter-keuring
        text: "Dit bericht wacht op goedkeuring"
        at: 2027-01-25 10:00
      - id: ook-ter-keuring
        text: {waiting}
        at: 2027-01-26 10:00
"""

FRIENDLY = {
    "campaign_name": "Teams aan het stuur!",
    "announcement": "Nog even en dan gaat de Public Paper online",
    "broken": "Dit bericht mislukte",
    "thread_first": "Een draadje over het stadskantoor",
    "alt": "Het stadskantoor aan het Jaarbeursplein",
    "waiting": "Ook dit bericht wacht",
}
HOSTILE_TEXTS = {
    "campaign_name": f"Teams {HOSTILE_SCRIPT} {HOSTILE_ATTRIBUTE}",
    "announcement": f"Lees {HOSTILE_SCRIPT} op {HOSTILE_LINK} en {HOSTILE_IMG}",
    "broken": f"Mislukt {HOSTILE_ATTRIBUTE} <a href=\"{HOSTILE_LINK}\">klik</a>",
    "thread_first": f"{HOSTILE_IMG} https://example.org/?q=\"><script>alert(1)</script> {HOSTILE_ATTRIBUTE}",
    "alt": f"Alt {HOSTILE_ATTRIBUTE} {HOSTILE_IMG}",
    "waiting": f"Wacht {HOSTILE_SCRIPT} {HOSTILE_LINK}",
}


@dataclass
class Queue:
    """A synced queue: its posts.yaml and rows, with ways to pick a post by what it is."""

    db: Database
    posts_file: Path
    rows: list = field(default_factory=list)

    def refresh(self) -> "Queue":
        with self.db.transaction() as connection:
            self.rows = connection.execute(select(scheduled_posts).order_by(scheduled_posts.c.id)).all()
        return self

    def find(self, post_id: str, account: str | None = None):
        return next(row for row in self.rows if row.post_id == post_id and account in (None, row.account))

    def id(self, post_id: str, account: str | None = None) -> int:
        return self.find(post_id, account).id

    def state(self, row_id: int) -> str:
        with self.db.transaction() as connection:
            return connection.execute(select(scheduled_posts.c.state).where(scheduled_posts.c.id == row_id)).scalar()

    @property
    def any_id(self) -> int:
        """The post that fills path parameters: the thread with an image (every page shows it)."""
        return self.id("draad")


def fill_queue(db: Database, folder: Path, *, hostile: bool = False) -> Queue:
    """posts.yaml in `folder` (a campaign with a recurring post, a thread with an image, one that
    needs approval), synced; one post sent, one failed; people of every role. With `hostile`, post
    texts and alt text, campaign names, an account's handle and instance, an error, a remote URL,
    and a rejection's reason and decider (a free text from the command line) are markup."""
    from campaign.queue.sync import sync
    from campaign.spec.plan import load_plan

    texts = HOSTILE_TEXTS if hostile else FRIENDLY
    (folder / "stadskantoor.png").write_bytes(PNG)
    posts_file = folder / "posts.yaml"
    posts_file.write_text(POSTS_YAML.format(**{k: json.dumps(v) for k, v in texts.items()}), encoding="utf-8")
    sync(db, load_plan(posts_file), SYNCED_AT)
    p = scheduled_posts.c
    with db.transaction(write=True) as connection:
        connection.execute(update(scheduled_posts).where(p.post_id == "aankondiging").values(
            state="sent", attempts=1, sent_at=datetime(2027, 1, 18, 9, 0, 2, tzinfo=timezone.utc),
            remote_id="1", updated_at=NOW,
            remote_url=HOSTILE_LINK if hostile else "https://social.example/@team/1"))
        connection.execute(update(scheduled_posts).where(p.post_id == "kapot").values(
            state="failed", attempts=3, updated_at=NOW,
            last_error=(f"gave up: {HOSTILE_SCRIPT} {HOSTILE_ATTRIBUTE} {HOSTILE_IMG}" if hostile
                        else "gave up after 3 attempts: Mastodon answered 503")))
        if hostile:
            connection.execute(update(accounts).where(accounts.c.name == "social").values(
                handle=f"{HOSTILE_IMG}{HOSTILE_ATTRIBUTE}", instance=HOSTILE_LINK))
            connection.execute(update(campaigns).where(campaigns.c.id == "keuring").values(name=HOSTILE_IMG))
    add_people(db, SYNCED_AT)
    queue = Queue(db, posts_file).refresh()
    if hostile:
        from campaign.queue import approvals

        approvals.reject(db, queue.id("ter-keuring"), f"{HOSTILE_ATTRIBUTE}{HOSTILE_IMG}",
                         f"Nee {HOSTILE_SCRIPT} {HOSTILE_LINK} {HOSTILE_ATTRIBUTE}", "cli", NOW)
        queue.refresh()
    return queue


def quick_hasher():
    """Argon2 at its lowest cost, for tests that sign in often and are not about hashing (put in
    place of campaign.people._hasher; the hashes it makes are still real Argon2id)."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


# --- the app's routes, found at run time ----------------------------------------------------------

@dataclass(frozen=True)
class RouteInfo:
    path: str  # as declared, with {parameters}
    methods: frozenset
    module: str  # where the endpoint was written (web.app, web.calendar …)
    params: tuple

    def fill(self, post_id: int, other: str = "0") -> str:
        """The path with its parameters filled: a post's id for each `…id`, `other` for the rest
        (the first part and the first image of a post, say)."""
        return re.sub(r"\{([^}:]+)(?::[^}]*)?\}",
                      lambda m: str(post_id) if m.group(1).endswith("id") else other, self.path)


def routes(app) -> list[RouteInfo]:
    """Every route of the app, Mounts and their sub-routes included (a static mount as one route)."""
    from starlette.routing import Host, Mount, Route, WebSocketRoute

    found = []

    def walk(items, prefix: str):
        for item in items:
            if isinstance(item, (Mount, Host)):
                inner = getattr(item, "routes", None) or []
                path = prefix + (item.path if isinstance(item, Mount) else "")
                if inner:
                    walk(inner, path)
                else:
                    found.append(RouteInfo(path + "/{path:path}", frozenset({"GET", "HEAD"}),
                                           type(item.app).__module__, ("path",)))
            elif isinstance(item, Route):
                methods = frozenset(item.methods or {"GET", "HEAD"})
                module = getattr(item.endpoint, "__module__", "") or ""
                found.append(RouteInfo(prefix + item.path, methods, module, tuple(item.param_convertors)))
            elif isinstance(item, WebSocketRoute):
                found.append(RouteInfo(prefix + item.path, frozenset({"WEBSOCKET"}), "", ()))

    walk(app.routes, "")
    return found


def has_route(app, path: str, method: str = "GET") -> bool:
    """Whether a request for `path` would reach a route (not the 404 handler)."""
    from starlette.routing import Match

    scope = {"type": "http", "path": path, "method": method, "root_path": "", "query_string": b"", "headers": []}
    return any(route.matches(scope)[0] == Match.FULL for route in app.routes)


def module_routes(app, module: str, method: str = "GET") -> list[RouteInfo]:
    return [route for route in routes(app) if route.module == module and method in route.methods]


PUBLIC_GET = ("/login",)
PUBLIC_PREFIXES = ("/static/", "/ics/", "/public/")  # files, the calendar feed (its URL carries a token), the public widget
OPEN_POSTS = ("/login",)  # needs no session (it starts one)
VIEWER_POSTS = ("/logout", "/account/language")  # the only posts a viewer may make


def is_public_get(route: RouteInfo) -> bool:
    return route.path in PUBLIC_GET or route.path.startswith(PUBLIC_PREFIXES)


# --- a live server --------------------------------------------------------------------------------

class LiveServer:
    """The app under uvicorn on 127.0.0.1 and a port of its own, in a background thread."""

    def __init__(self, app):
        import uvicorn

        self.app = app
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                                    server_header=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name=f"workspace:{self.port}", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:  # wait on the thread, so a server that fails to start ends this
            self.thread.join(0.01)
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("the workspace server did not start (see the log above)")
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()
        assert not self.thread.is_alive(), "the workspace server did not stop within 10 s"


@dataclass
class Live:
    """What a browser scenario works with: the server, its workspace (clock, database) and queue."""

    server: LiveServer
    app: object
    ws: object
    queue: Queue

    def url(self, path: str) -> str:
        return self.server.url(path)

    def has(self, path: str, method: str = "GET") -> bool:
        return has_route(self.app, path, method)


def queue_template(folder: Path, *, hostile: bool = False) -> Path:
    """A filled SQLite queue in `folder` (queue.db beside its posts.yaml and image), made once for
    many tests: hashing five people's passwords alone takes a second."""
    database = Database(f"sqlite:///{folder / 'queue.db'}")
    fill_queue(database, folder, hostile=hostile)
    database.engine.dispose()
    return folder


def copy_queue(template: Path, folder: Path) -> Queue:
    """A test's own copy of a queue_template (posts.yaml and media stay in the template's folder)."""
    for name in ("queue.db", "queue.db-wal"):
        if (template / name).exists():
            shutil.copyfile(template / name, folder / name)
    return Queue(Database(f"sqlite:///{folder / 'queue.db'}"), template / "posts.yaml").refresh()


def live_workspace(template: Path, folder: Path) -> Iterator[Live]:
    """Generator for a fixture: a copy of the template queue served live until the test ends."""
    queue = copy_queue(template, folder)
    app, ws = make_workspace(queue.db, posts_file=queue.posts_file, now=NOW)
    try:
        with LiveServer(app) as server:
            yield Live(server, app, ws, queue)
    finally:
        queue.db.engine.dispose()


# --- the browser ----------------------------------------------------------------------------------

def chromium_path() -> str | None:
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "no Chromium at /usr/bin/chromium or on PATH (apt-get install chromium; .ci/run does this)"
    return None


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)


class UI:
    """One browser tab on the live workspace, with what scenarios do again and again. Every console
    error (a Content-Security-Policy violation is one) and uncaught page error is collected."""

    def __init__(self, page, live: Live):
        self.page = page
        self.live = live
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: page error: {error}"))

    def _console(self, message) -> None:
        if message.type in ("error", "assert"):
            self.problems.append(f"{self.page.url}: console {message.type}: {message.text}")

    # -- moving around
    def goto(self, path: str):
        return self.page.goto(self.live.url(path))

    def path(self) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(self.page.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def sign_in(self, name: str, password: str = PASSWORD, *, next_page: str | None = None) -> None:
        """Through the real form: the name and password fields and the submit button."""
        from playwright.sync_api import expect

        self.goto("/login" if next_page is None else f"/login?next={next_page}")
        self.page.locator("#name").fill(name)
        self.page.locator("#password").fill(password)
        self.page.locator("form[action='/login'] button[type=submit]").click()
        self.page.wait_for_url(lambda url: "/login" not in url)
        expect(self.page.locator("form[action='/logout'] button")).to_be_visible()

    def enter_as(self, name: str, path: str) -> None:
        """Open `path` as `name` with a session made directly (what signing in gives, without the
        password hashing): for scenarios about something else than signing in."""
        from campaign import people
        from web.security import SESSION_COOKIE

        ws = self.live.ws
        cookie = ws.sessions.start(people.get(ws.db, name), ws.now())
        self.page.context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": self.live.server.base_url,
                                        "httpOnly": True, "sameSite": "Strict"}])
        self.goto(path)
        assert "/login" not in self.page.url, f"{name} was sent to sign in from {path}"

    def sign_out(self) -> None:
        from playwright.sync_api import expect

        self.page.locator("form[action='/logout'] button").click()
        self.page.wait_for_url(re.compile(r"/login$"))
        expect(self.page.locator("#password")).to_be_visible()

    def choose_language(self, code: str) -> None:
        from playwright.sync_api import expect

        self.page.locator("#language-choice").select_option(code)
        self.page.locator("form[action='/account/language'] button[type=submit]").click()
        expect(self.page.locator("html")).to_have_attribute("lang", code)

    # -- acting
    def csrf(self) -> str:
        """The CSRF token of the forms on the current page."""
        return self.page.locator("input[name=csrf]").first.get_attribute("value")

    def post(self, path: str, **form):
        """A form post with this tab's cookies and the page's CSRF token (unless `csrf` is given),
        as a hand-made form would send it; returns Playwright's APIResponse (no redirects followed)."""
        form.setdefault("csrf", self.csrf())
        return self.page.request.post(self.live.url(path), form={k: str(v) for k, v in form.items()},
                                      headers={"Accept-Language": self.page.evaluate("navigator.language")},
                                      max_redirects=0)

    def submit(self, button) -> int:
        """Click a form's button (a Playwright locator) and wait for the page the post leads to;
        returns the status the post itself answered (303 when it went well)."""
        with self.page.expect_response(lambda r: r.request.method == "POST") as posted:
            button.click()
        self.page.wait_for_load_state()
        return posted.value.status

    def row_with(self, text: str):
        """The table row, list item or article that shows `text` (the place a post's buttons are)."""
        return self.page.locator("tr, li, article, section").filter(has_text=text).last

    def fetch(self, path: str):
        """A GET of `path` with this tab's cookies, redirects not followed (Playwright's APIResponse)."""
        return self.page.request.get(self.live.url(path), max_redirects=0)

    def status(self, path: str) -> int:
        return self.fetch(path).status

    def is_page(self, path: str) -> bool:
        """Whether `path` answers 200 with HTML to show (not a redirect, file, image or download)."""
        answer = self.fetch(path)
        return (answer.status == 200 and answer.headers.get("content-type", "").startswith("text/html")
                and not answer.headers.get("content-disposition", "").startswith("attachment"))

    # -- checking
    def tab_from_top(self, count: int) -> list[dict]:
        """What `count` presses of Tab focus when the focus enters the page from the top, as it does
        from the browser's address bar: first Tab on until the focus has left the page."""
        for _ in range(200):
            self.page.keyboard.press("Tab")
            if self.focused()["tag"] == "body":
                break
        else:
            raise AssertionError("Tab never left the page: is there a keyboard trap?")
        order = []
        for _ in range(count):
            self.page.keyboard.press("Tab")
            order.append(self.focused())
        return order

    def focused(self) -> dict:
        """What has the keyboard focus: tag, id, name, href and text."""
        return self.page.evaluate("""() => { const e = document.activeElement;
            return {tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name') || '',
                    type: e.getAttribute('type') || '', href: e.getAttribute('href') || '',
                    text: (e.innerText || '').trim(), outline: getComputedStyle(e).outlineStyle}; }""")

    def images_loaded(self) -> list[dict]:
        """Every <img> on the page with its alt text and whether it decoded (naturalWidth > 0)."""
        return self.page.evaluate("""() => Array.from(document.images).map(i => (
            {src: i.getAttribute('src'), alt: i.getAttribute('alt'), loaded: i.complete && i.naturalWidth > 0}))""")


def pages_to_visit(app, post_id: int) -> list[str]:
    """Every page a signed-in person can open: each GET route, parameters filled with a post."""
    found = []
    for route in routes(app):
        if "GET" in route.methods and not route.path.startswith(PUBLIC_PREFIXES):
            found.append(route.fill(post_id))
    return found


def subscribe_url_in(html: str) -> str | None:
    """The calendar feed's address as a page shows it (a link, a copyable field or text)."""
    match = re.search(r"(?:https?://[^\s\"'<>]+)?/ics/[^\s\"'<>]+", html)
    return match.group(0) if match else None
