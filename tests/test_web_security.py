"""Every route of the workspace, found at run time, against the rules that protect it (issue 14):

- a page needs a session (else off to sign in), except /login, /static/… and the calendar feed
  (/ics/…, whose URL carries its own token);
- a form post without a session, without the form's CSRF token or with a wrong one is refused and
  changes nothing; a viewer may only sign out and choose a language;
- hostile texts in the queue (post text, image alt text, account handle, campaign name, error,
  remote URL) and in query strings stay text on every page: no script element, no event-handler
  attribute, no javascript:/data: link.

Pages and actions added later are covered without touching this file. No browser: Starlette's
TestClient (tests/web_support.py), on SQLite and PostgreSQL.
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from sqlalchemy import select

from campaign import people
from campaign.queue import tables
from tests.browser import (HOSTILE, HOSTILE_IMG, HOSTILE_SCRIPT, NOW, OPEN_POSTS, VIEWER_POSTS, fill_queue,
                           is_public_get, quick_hasher, routes)
from tests.web_support import ROLES, client, csrf_of, make_workspace, sign_in

# Sent with every form post, so that a check missing from an action would let it really change
# something (which the comparison of the tables then shows) rather than fail for want of input.
PLAUSIBLE_FORM = {"url": "https://social.example/@team/9", "outcome": "not_sent", "locale": "en", "next": "/",
                  "reason": "niet goed", "decision": "approve", "all": "1"}
# Whatever a page of the workspace may hold, never these (CSP forbids them, and they run script).
FORBIDDEN_ELEMENTS = ("script", "iframe", "frame", "object", "embed", "base", "style", "applet")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "srcset", "poster", "data", "background", "cite",
                  "xlink:href", "ping", "manifest")
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
CRAWL_LIMIT = 400
VARIANTS_PER_PATH = 12  # a calendar's "next month" goes on for ever


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch):
    monkeypatch.setattr(people, "_hasher", quick_hasher)


class Site:
    def __init__(self, db, folder, *, hostile: bool = False):
        self.db = db
        self.queue = fill_queue(db, folder, hostile=hostile)
        self.app, self.ws = make_workspace(db, posts_file=self.queue.posts_file, now=NOW)
        self.routes = routes(self.app)

    def as_(self, name: str | None):
        """A client signed in as `name` (None: nobody) with the CSRF token of its forms."""
        http = client(self.app)
        if name is None:
            return http, ""
        assert sign_in(http, name).status_code == 303
        page = http.get("/no-such-page")  # every page, even this, has the token in its header's forms
        return http, csrf_of(page.text)

    def post_ids(self) -> list[int]:
        """One post of each kind an action could act on: failed, awaiting approval, queued, sent."""
        q = self.queue
        return [q.id("kapot"), q.id("ter-keuring"), q.id("draad"), q.id("aankondiging", "social")]

    def posts(self) -> list:
        return [r for r in self.routes if "POST" in r.methods and r.path not in OPEN_POSTS]


@pytest.fixture
def site(db, tmp_path):
    return Site(db, tmp_path)


def world(db) -> dict:
    """Everything a form post could change, to compare before and after."""
    names = ("scheduled_posts", "sent_parts", "approvals", "users", "campaigns", "accounts", "web_sessions",
             "notifications")
    with db.transaction() as connection:
        return {name: sorted(repr(tuple(row)) for row in connection.execute(select(tables.metadata.tables[name])))
                for name in names if name in tables.metadata.tables}


def refused_for_want_of_a_session(response) -> bool:
    return response.status_code == 403 or (response.status_code in (302, 303, 307)
                                           and response.headers["location"].startswith("/login"))


def test_the_routes_are_found_at_run_time(site):
    found = {r.path for r in site.routes}
    assert {"/", "/login", "/logout", "/account/language", "/static/{path:path}"} <= found
    assert all(r.methods for r in site.routes)
    assert [r for r in site.routes if "WEBSOCKET" in r.methods] == []


def test_every_page_without_a_session_sends_the_reader_to_sign_in(site):
    http, _ = site.as_(None)
    pages = [r for r in site.routes if "GET" in r.methods and not is_public_get(r)]
    assert pages
    for route in pages:
        for post_id in site.post_ids():
            path = route.fill(post_id)
            response = http.get(path)
            assert response.status_code == 303, (path, response.status_code, response.text[:300])
            assert response.headers["location"].startswith("/login?next="), path


def test_a_feed_url_with_a_made_up_token_serves_nothing(site):
    http, _ = site.as_(None)
    for route in [r for r in site.routes if r.path.startswith("/ics/")]:
        for fill in ("all", "1", "A" * 43):
            path = route.path
            for parameter in route.params:
                path = path.replace("{" + parameter + "}", fill).replace("{" + parameter + ":str}", fill)
            response = http.get(path)
            assert response.status_code in (403, 404), (path, response.status_code)
            assert "BEGIN:VEVENT" not in response.text


def test_every_form_post_refuses_a_missing_or_wrong_token_and_changes_nothing(site):
    anonymous, _ = site.as_(None)
    admin, admin_token = site.as_("admin")
    viewer, viewer_token = site.as_("viewer")
    checked = 0
    before = world(site.db)
    for route in site.posts():
        for post_id in site.post_ids():
            path = route.fill(post_id)
            for who, http, form, refused in (
                    ("nobody", anonymous, PLAUSIBLE_FORM, refused_for_want_of_a_session),
                    ("nobody with a token", anonymous, {**PLAUSIBLE_FORM, "csrf": admin_token},
                     refused_for_want_of_a_session),
                    ("admin without a token", admin, PLAUSIBLE_FORM, lambda r: r.status_code == 403),
                    ("admin with a wrong token", admin, {**PLAUSIBLE_FORM, "csrf": admin_token[:-4] + "0000"},
                     lambda r: r.status_code == 403),
                    ("admin with the viewer's token", admin, {**PLAUSIBLE_FORM, "csrf": viewer_token},
                     lambda r: r.status_code == 403)):
                response = http.post(path, data=form)
                assert refused(response), (who, path, response.status_code, response.text[:300])
                checked += 1
            if route.path not in VIEWER_POSTS:
                response = viewer.post(path, data={**PLAUSIBLE_FORM, "csrf": viewer_token})
                assert response.status_code == 403, ("viewer", path, response.status_code, response.text[:300])
            assert world(site.db) == before, f"a refused post to {path} changed something"
    assert checked
    assert not admin.get("/").headers["location"].startswith("/login"), "a refused sign-out ended the session"


def least_roles(site) -> dict[str, tuple[str | None, int]]:
    """Each action's least role, found by trying it as each role in turn (a fresh session each
    time), with the status the first role let through answered."""
    table = {}
    for route in site.posts():
        deciding = "approv" in route.path or "reject" in route.path
        path = route.fill(site.queue.id("ter-keuring" if deciding else "kapot"))
        table[route.path] = (None, 403)
        for role in ROLES:
            http, token = site.as_(role)
            response = http.post(path, data={"csrf": token})
            if response.status_code != 403:
                table[route.path] = (role, response.status_code)
                break
    return table


def test_each_action_needs_more_than_a_viewer_except_signing_out_and_choosing_a_language(site):
    table = least_roles(site)
    report = "\n".join(f"  {path}: {role} ({status})" for path, (role, status) in sorted(table.items()))
    assert all(status < 500 for _, status in table.values()), "an empty form broke an action:\n" + report
    viewer_may = sorted(path for path, (role, _) in table.items() if role == "viewer")
    assert viewer_may == sorted(VIEWER_POSTS), report
    for path, (role, _) in table.items():
        if "approve" in path or "reject" in path:
            assert role in ("approver", "admin"), "deciding on a post needs an approver:\n" + report
        assert role is not None, f"no role at all may use {path}:\n" + report


# --- hostile texts stay text -----------------------------------------------------------------------

def markup_problems(html: str, *, download: bool = False) -> list[str]:
    """What in a page could run script or break the Content Security Policy. A `download` (an HTML
    file served as an attachment, such as a stand-alone preview) may carry its own styles and
    data: images, as its own stricter policy allows; script, handlers and script URLs never."""
    import lxml.html

    document = lxml.html.document_fromstring(html)
    found = []
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue  # a comment or processing instruction
        tag = element.tag.lower()
        if tag in FORBIDDEN_ELEMENTS and not (download and tag == "style"):
            found.append(f"<{tag}> element: {lxml.html.tostring(element)[:120]!r}")
        if tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            found.append("<meta http-equiv=refresh>")
        for name, value in element.attrib.items():
            lowered = name.lower()
            if lowered.startswith("on"):
                found.append(f"<{tag} {name}={value!r}>: an event handler attribute")
            if lowered == "style" and not download:
                found.append(f"<{tag} style={value!r}>: inline style (the CSP refuses it)")
            if lowered in URL_ATTRIBUTES:
                bare = "".join(ch for ch in value if ch > " ").lower()
                if bare.startswith(BAD_SCHEMES) and not (download and tag == "img" and lowered == "src"
                                                         and bare.startswith("data:image/")
                                                         and not bare.startswith("data:image/svg")):
                    found.append(f"<{tag} {name}={value!r}>: a script or data URL")
    return found


def forms_without_a_token(html: str) -> list[str]:
    """Form posts of a page that do not carry the CSRF token (the sign-in form has its own)."""
    import lxml.html

    document = lxml.html.document_fromstring(html)
    missing = []
    for form in document.iter("form"):
        if (form.get("method") or "get").lower() != "post" or form.get("action") == "/login":
            continue
        tokens = [i for i in form.iter("input") if i.get("name") == "csrf" and i.get("value")]
        if form.get("id"):
            tokens += [i for i in document.iter("input") if i.get("name") == "csrf" and i.get("form") == form.get("id")]
        if not tokens:
            missing.append(f"<form action={form.get('action')!r}>")
    return missing


def text_of(html: str) -> str:
    import lxml.html

    document = lxml.html.document_fromstring(html)
    return document.text_content() + " ".join(
        value for element in document.iter() if isinstance(element.tag, str) for value in element.attrib.values())


def links_of(html: str, base: str) -> tuple[list[str], list[tuple[str, list[tuple[str, str]]]]]:
    """Same-site links of a page, and its GET forms as (action, [(field, value)])."""
    import lxml.html

    document = lxml.html.document_fromstring(html)
    links = []
    for anchor in document.iter("a"):
        href = anchor.get("href")
        if href:
            links.append(urljoin(base, href))
    forms = []
    for form in document.iter("form"):
        if (form.get("method") or "get").lower() != "get":
            continue
        fields = [(f.get("name"), f.get("value") or "") for f in form.iter("input", "select", "textarea")
                  if f.get("name") and (f.get("type") or "").lower() not in ("submit", "button", "image")]
        forms.append((urljoin(base, form.get("action") or base), fields))
    return links, forms


def local(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver") or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Page:
    html: str
    status: int
    download: bool  # served as an attachment (Content-Disposition), not shown in the workspace
    linked_from: str | None  # the page whose <a href> led here (None: a start, form or redirect)


def crawl(http, starts: list[str]) -> dict[str, Page]:
    """Every page reachable from `starts` by links and GET forms (each form also sent once with every
    field set to hostile text). Sign-out and static files are left alone."""
    seen, pages, per_path = set(), {}, Counter()
    todo = deque((start, None) for start in starts)
    hostile_value = " ".join(HOSTILE)
    while todo and len(seen) < CRAWL_LIMIT:
        path, source = todo.popleft()
        bare = urlsplit(path).path
        if path in seen or bare.startswith(("/static/", "/logout")) or per_path[bare] >= VARIANTS_PER_PATH:
            continue
        seen.add(path)
        per_path[bare] += 1
        response = http.get(path)
        assert response.status_code < 500, (path, response.status_code, response.text[:300])
        policy = response.headers.get("content-security-policy", "")
        assert policy.startswith(("default-src 'self'", "default-src 'none'")), (path, policy)
        scripts = next((d for d in policy.split(";") if d.strip().startswith("script-src")), "")
        assert "'unsafe-eval'" not in policy and "'unsafe-inline'" not in scripts, (path, policy)
        if response.status_code in (301, 302, 303, 307, 308):
            target = local(urljoin("http://testserver" + path, response.headers["location"]))
            if target:
                todo.append((target, None))
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        download = response.headers.get("content-disposition", "").startswith("attachment")
        pages[path] = Page(response.text, response.status_code, download, source)
        if download:
            continue
        links, forms = links_of(response.text, "http://testserver" + path)
        todo.extend((link, path) for link in filter(None, map(local, links)))
        for action, fields in forms:
            target = local(action)
            if target:
                query = dict(parse_qsl(urlsplit(target).query))
                query.update(fields)
                todo.append((urlsplit(target).path + "?" + urlencode(list(query.items())), None))
                todo.append((urlsplit(target).path + "?" + urlencode([(k, hostile_value) for k in query]), None))
    return pages


@pytest.fixture
def hostile_site(db, tmp_path):
    return Site(db, tmp_path, hostile=True)


def test_hostile_texts_stay_text_on_every_page(hostile_site):
    site = hostile_site
    http, _ = site.as_("admin")
    starts = ["/", "/login?" + urlencode({"next": '/"><script>alert(1)</script>'})]
    for row in site.queue.rows:
        for route in site.routes:
            if "GET" in route.methods and route.params and not route.path.startswith(("/static/", "/ics/")):
                starts.append(route.fill(row.id))
    starts += [r.path for r in site.routes if "GET" in r.methods and not r.params]
    pages = crawl(http, starts)
    assert len(pages) >= 3, sorted(pages)
    problems = {path: found for path, page in pages.items() if (found := markup_problems(page.html,
                                                                                        download=page.download))}
    assert problems == {}, "\n".join(f"{path}: {p}" for path, found in problems.items() for p in found)
    broken = sorted(f"{page.linked_from} links to {path} ({page.status})" for path, page in pages.items()
                    if page.linked_from and page.status in (404, 410))
    assert broken == [], "links to pages that do not exist:\n" + "\n".join(broken)
    untokened = {path: found for path, page in pages.items() if (found := forms_without_a_token(page.html))}
    assert untokened == {}, f"forms that would be refused for want of a CSRF token: {untokened}"
    shown = " ".join(text_of(page.html) for page in pages.values())
    assert HOSTILE_SCRIPT in shown and HOSTILE_IMG in shown, "the hostile texts must reach the pages as text"
    # And the same as the least-trusted reader, in the other language.
    viewer, token = site.as_("viewer")
    viewer.post("/account/language", data={"csrf": token, "locale": "en", "next": "/"})
    pages = crawl(viewer, [p for p in starts if not p.startswith("/login")])
    problems = {path: found for path, page in pages.items() if (found := markup_problems(page.html,
                                                                                        download=page.download))}
    assert problems == {}, "\n".join(f"{path}: {p}" for path, found in problems.items() for p in found)


def test_the_markup_check_finds_what_it_looks_for():
    page = ('<html><body><script>x()</script><a href=" JaVaScRiPt:alert(1)">a</a><img src="data:image/png;base64,">'
            '<p onmouseover="alert(1)" style="color:red">p</p><form action="javascript:x"></form></body></html>')
    found = " ".join(markup_problems(page))
    for expected in ("<script>", "href=", "src=", "onmouseover", "style=", "action="):
        assert expected in found, expected
    assert markup_problems('<html><body><p title="&quot;onmouseover=&quot;alert(1)">&lt;script&gt;</p>'
                           '</body></html>') == []
    download = '<html><head><style>p{}</style></head><body><img src="data:image/png;base64,AA" alt=""></body></html>'
    assert markup_problems(download, download=True) == []
    assert len(markup_problems(download)) == 2
    assert markup_problems('<html><body><img src="data:image/svg+xml,<svg onload=x()>"><script></script></body></html>',
                           download=True) != []
