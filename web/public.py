"""The seed's widget, live: each of the team's own accounts' public timeline, with no sign-in.

/public/<account> is a page (which another site may show in an iframe) and
/public/<account>/fragment the bare <section> for a server-side include or a fetch from another
origin. Both are rendered when asked, so "5 jaar 10 maanden geleden" stays true as the years
pass (the file `archive render` writes freezes it), and kept for a minute per process.

Only accounts the queue knows (posts.yaml's, by name or handle) are served: the archive may also
hold other people's timelines, imported for analysis, and those are not ours to publish. Only
public posts: not deleted, and visible to everyone (archive_posts.visibility `public`).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from campaign.queue.tables import accounts
from web.app import workspace

CACHE_SECONDS = 60
DEFAULT_LIMIT = 20
MOST = 100
LANGUAGES = ("nl", "en")
NOT_FOUND = "Not found\n"
# The page may be framed by any site (that is what it is for); it runs no script and loads nothing.
PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *; base-uri 'none'; "
               "form-action 'none'")
FRAGMENT_POLICY = "default-src 'none'; frame-ancestors *; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class Rendered:
    body: str
    until: float  # time.monotonic() after which it is rendered again


_cache: dict[tuple, Rendered] = {}
_cache_lock = threading.Lock()


def public_handle(db, name: str) -> str | None:
    """The archive handle of one of the queue's accounts, named by its name or its handle."""
    wanted = name.strip().lstrip("@").lower()
    with db.transaction() as connection:
        for account_name, handle in connection.execute(select(accounts.c.name, accounts.c.handle)):
            bare = handle.strip().lstrip("@")
            if wanted in (account_name.lower(), bare.lower()):
                return bare
    return None


def is_public(post) -> bool:
    """Not deleted, and seen by everyone where it was posted (unlisted posts stay off the page too:
    their authors kept them out of public timelines)."""
    return post.deleted_at is None and post.visibility == "public"


def public_posts(db, handle: str, limit: int) -> list:
    """The newest `limit` public posts of the account (reading on past non-public ones)."""
    from archive.records import PostFilter
    from archive.store import migrate, query_posts

    migrate(db)  # a workspace whose archive was never used has no archive tables yet
    found = []
    for post in query_posts(db, PostFilter(accounts=(handle,), newest_first=True, limit=limit * 5), with_raw=False):
        if is_public(post):
            found.append(post)
            if len(found) == limit:
                break
    return found


def render_timeline(ws, name: str, *, fragment: bool, limit: int, language: str) -> str | None:
    from archive.reltime import RelativeTime
    from archive.render import render_html

    handle = public_handle(ws.db, name)
    if handle is None:
        return None
    posts = public_posts(ws.db, handle, limit)
    relative = RelativeTime(language, "Europe/Amsterdam" if language == "nl" else "UTC")
    return render_html(posts, now=ws.now(), relative=relative, fragment=fragment, title=f"@{handle}",
                       language=language)


def cached(ws, name: str, *, fragment: bool, limit: int, language: str) -> str | None:
    key = (id(ws), name.lower(), fragment, limit, language)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit.until > now:
        return hit.body
    body = render_timeline(ws, name, fragment=fragment, limit=limit, language=language)
    if body is not None:
        with _cache_lock:
            if len(_cache) > 1000:
                _cache.clear()
            _cache[key] = Rendered(body, now + CACHE_SECONDS)
    return body


def _limit(request: Request) -> int:
    value = request.query_params.get("limit", "")
    return min(int(value), MOST) if value.isdigit() and 0 < int(value) else DEFAULT_LIMIT


def _language(request: Request) -> str:
    value = request.query_params.get("lang", "")
    return value if value in LANGUAGES else LANGUAGES[0]


async def timeline(request: Request) -> Response:
    fragment = request.url.path.endswith("/fragment")
    body = await run_in_threadpool(cached, workspace(request), request.path_params["account"], fragment=fragment,
                                   limit=_limit(request), language=_language(request))
    if body is None:
        return PlainTextResponse(NOT_FOUND, status_code=404)
    headers = {"Cache-Control": f"public, max-age={CACHE_SECONDS}",
               "Content-Security-Policy": FRAGMENT_POLICY if fragment else PAGE_POLICY}
    if fragment:
        headers["Access-Control-Allow-Origin"] = "*"
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


routes = [
    Route("/public/{account}", timeline),
    Route("/public/{account}/fragment", timeline),
]
