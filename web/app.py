"""The workspace as an ASGI application (Starlette): one process or several behind a proxy,
since every bit of state (queue, approvals, sessions, sign-in attempts) is in the database.

Pages are rendered on the server with Jinja2 (autoescaped) and work without JavaScript. Each
endpoint states the least role it needs: `page(role)` for reading, `action(role)` for anything
that changes state, which also checks the form's CSRF token.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import importlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from campaign import people
from campaign.queue.db import Database
from web import i18n
from web.security import SECURITY_HEADERS, SESSION_COOKIE, Sessions, SignedIn, record_sign_in, sign_in_wait

HERE = Path(__file__).parent
# Modules that each contribute `routes`; the navigation in base.html names their pages.
PAGE_MODULES = ("web.calendar", "web.subscribe", "web.previews", "web.approvals", "web.history", "web.public",
                "web.archive_report", "web.browse")
LOGIN_COOKIE = "praatmee_login"


@dataclass
class Workspace:
    db: Database
    secret: bytes
    posts_file: Path | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    sessions: Sessions = field(init=False)

    def __post_init__(self):
        self.sessions = Sessions(self.db, self.secret)

    def now(self) -> datetime:
        return self.clock()


@functools.lru_cache(maxsize=1)
def templates():
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined

    from archive.report import TEMPLATES as ARCHIVE_TEMPLATES

    # The archive's templates under archive/ (the report's sections are shared with `archive report`).
    loader = ChoiceLoader([FileSystemLoader(str(HERE / "templates")),
                           PrefixLoader({"archive": FileSystemLoader(str(ARCHIVE_TEMPLATES))})])
    return Environment(loader=loader, autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                       lstrip_blocks=True)


def workspace(request: Request) -> Workspace:
    return request.app.state.workspace


def signed_in(request: Request) -> SignedIn | None:
    return getattr(request.state, "signed_in", None)


def locale_of(request: Request) -> str:
    who = signed_in(request)
    return i18n.choose_locale(who.person.locale if who else None, request.headers.get("accept-language"))


def context(request: Request, **values) -> dict:
    """What every template gets: the reader, their CSRF token, language and formatters."""
    locale = locale_of(request)
    catalogue = i18n.translations(locale)
    who = signed_in(request)
    return {
        "request": request, "user": who.person if who else None, "csrf": who.csrf if who else "",
        "_": catalogue.gettext, "ngettext": catalogue.ngettext, "fmt": i18n.Formatter(locale), "locale": locale,
        "may": (lambda role: bool(who) and people.may(who.person.role, role)),
        "languages": i18n.LANGUAGE_NAMES, "path": request.url.path, **values,
    }


def render(request: Request, template: str, status_code: int = 200, **values) -> HTMLResponse:
    html = templates().get_template(template).render(context(request, **values))
    return HTMLResponse(html, status_code=status_code)


def refuse(request: Request, status_code: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status_code, message=message)


async def _load_session(request: Request) -> SignedIn | None:
    ws = workspace(request)
    who = await run_in_threadpool(ws.sessions.load, request.cookies.get(SESSION_COOKIE), ws.now())
    request.state.signed_in = who
    return who


def page(role: str = "viewer"):
    """A page to read: without a session, off to sign in; without the role, 403. The endpoint is a
    plain function (run in a thread: the database calls block) taking the request."""
    def decorate(endpoint):
        @functools.wraps(endpoint)
        async def handler(request: Request):
            who = await _load_session(request)
            if who is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            if not people.may(who.person.role, role):
                return refuse(request, 403, _t(request, "Your role does not allow this."))
            return await run_in_threadpool(endpoint, request)
        return handler
    return decorate


def action(role: str):
    """A form post that changes something: session, CSRF token and role are checked first (403),
    then the endpoint runs in a thread with the request and the submitted form."""
    def decorate(endpoint):
        @functools.wraps(endpoint)
        async def handler(request: Request):
            who = await _load_session(request)
            form = await request.form()
            if who is None or not workspace(request).sessions.csrf_ok(who, form.get("csrf")):
                return refuse(request, 403, _t(request, "This form has expired or did not come from this "
                                                        "workspace. Reload the page and try again."))
            if not people.may(who.person.role, role):
                return refuse(request, 403, _t(request, "Your role does not allow this."))
            return await run_in_threadpool(endpoint, request, form)
        return handler
    return decorate


def _t(request: Request, message: str) -> str:
    return i18n.translations(locale_of(request)).gettext(message)


def safe_next(value: str | None) -> str:
    """Only a path on this site: never //other.example or a scheme (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- signing in and out ----------------------------------------------------------------------------

def _login_token(request: Request, nonce: str) -> str:
    return hmac.new(workspace(request).secret, b"login\0" + nonce.encode(), hashlib.sha256).hexdigest()


async def login_form(request: Request, *, message: str | None = None, status_code: int = 200, name: str = ""):
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", status_code=status_code, message=message, name=name,
                      login_token=_login_token(request, nonce), next=safe_next(request.query_params.get("next")))
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        path="/login")
    return response


async def login(request: Request):
    if request.method == "GET":
        return await login_form(request)
    ws = workspace(request)
    form = await request.form()
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not hmac.compare_digest(_login_token(request, nonce), str(form.get("login_token", ""))):
        return await login_form(request, status_code=403,
                                message=_t(request, "The sign-in form had expired. Please try again."))
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    address = request.client.host if request.client else "unknown"
    now = ws.now()
    wait = await run_in_threadpool(sign_in_wait, ws.db, name, address, now)
    if wait is not None:
        minutes = max(1, int(wait.total_seconds() + 59) // 60)
        catalogue = i18n.translations(locale_of(request))
        return await login_form(request, status_code=429, name=name, message=catalogue.ngettext(
            "Too many failed attempts. Try again in %(minutes)d minute.",
            "Too many failed attempts. Try again in %(minutes)d minutes.", minutes) % {"minutes": minutes})
    person = await run_in_threadpool(people.authenticate, ws.db, name, password, now)
    await run_in_threadpool(record_sign_in, ws.db, name, address, person is not None, now)
    if person is None:
        return await login_form(request, status_code=401, name=name,
                                message=_t(request, "Unknown name or wrong password."))
    cookie = await run_in_threadpool(ws.sessions.start, person, now, replaces=request.cookies.get(SESSION_COOKIE))
    response = see_other(safe_next(str(form.get("next", ""))))
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="strict", secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@action("viewer")
def logout(request: Request, form) -> Response:
    workspace(request).sessions.end(request.cookies.get(SESSION_COOKIE))
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@action("viewer")
def choose_language(request: Request, form) -> Response:
    locale = form.get("locale")
    if locale not in i18n.LOCALES:
        return refuse(request, 400, _t(request, "Unknown language."))
    ws = workspace(request)
    people.set_locale(ws.db, signed_in(request).person.name, locale, ws.now())
    return see_other(safe_next(str(form.get("next", ""))))


@page("viewer")
def home(request: Request) -> Response:
    return see_other("/calendar")


async def http_error(request: Request, exc: HTTPException):
    if exc.status_code == 405:
        return PlainTextResponse("Method not allowed", status_code=405)
    await _load_session(request)
    if exc.status_code == 404:
        return refuse(request, 404, _t(request, "This page does not exist."))
    return refuse(request, exc.status_code, _t(request, "This request could not be handled."))


async def server_error(request: Request, exc: Exception):
    # The traceback goes to the server's log (uvicorn), never to the page.
    return PlainTextResponse("Something went wrong on the server; the details are in its log.", status_code=500)


class SecurityHeaders:
    """Adds the same protective headers to every response, error pages and static files included."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                # A response with its own policy (a public page others may frame) says where it may
                # be framed through CSP's frame-ancestors; X-Frame-Options would contradict it.
                skip = {b"x-frame-options"} if b"content-security-policy" in present else set()
                extra = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()
                         if name.lower().encode() not in present | skip]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(ws: Workspace) -> Starlette:
    from starlette.middleware import Middleware

    routes = [
        Route("/", home),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/account/language", choose_language, methods=["POST"]),
    ]
    for name in PAGE_MODULES:
        routes += importlib.import_module(name).routes
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={HTTPException: http_error, Exception: server_error})
    app.state.workspace = ws
    return app
