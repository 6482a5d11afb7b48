"""The page of one post: its preview as it will look on its platform, and everything a person needs
to decide about it (state, time, error, link, the approval record, the actions their role allows).

- GET /posts/{id}: the page. The preview is campaign.preview's fragment (classes only, safe under
  the workspace's strict Content-Security-Policy), its images served by the route below.
- GET /posts/{id}/media/{part}/{index}: one image of the post, only a file its payload names.
- GET /posts/{id}/preview.html: the self-contained page of `campaign preview ID --html`, as a
  download for review by mail (with a policy of its own: it has inline CSS and data: images).
- GET /static/preview.css: the previews' stylesheet (campaign/preview/preview.css).

Approving and rejecting post to web.approvals; retry, resolve and acknowledge to web.history.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from markupsafe import Markup
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from campaign.errors import CampaignError, NotFoundError
from campaign.preview import STYLESHEET, fragment, load_view, standalone_html, translations
from campaign.queue import approvals as approval_library
from campaign.queue.tables import PROBLEM_STATES, accounts, campaigns, scheduled_posts
from web.app import _t, locale_of, page, refuse, render, workspace
from web.approvals import MAX_REASON
from web.notices import notice
from web.calendar import ACCOUNT_COLOURS, STATE_LABELS

MB = 1_000_000
MAX_IMAGE_BYTES = 20 * MB  # beyond every platform's image limit: a bigger file is shown as a placeholder
IMAGE_CACHE = "private, max-age=300"
# The downloaded page has its CSS inline and its images as data: URIs, and nothing else.
STANDALONE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
                     "base-uri 'none'; form-action 'none'")

posts = scheduled_posts.c


# --- accounts' own limits (posts.yaml's max_chars), as `campaign check` counts ----------------------------

_limits_lock = threading.Lock()
_limits_cache: dict[str, tuple[tuple[int, int], dict[str, int]]] = {}


def own_limits(posts_file: Path | None) -> dict[str, int]:
    """Accounts' own character limits from posts.yaml (Mastodon max_chars), read again only when the
    file changes; none when there is no posts.yaml or it cannot be read (the platform's limit applies)."""
    if posts_file is None:
        return {}
    path = Path(posts_file)
    try:
        info = path.stat()
    except OSError:
        return {}
    stamp, key = (info.st_mtime_ns, info.st_size), str(path)
    cached = _limits_cache.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    with _limits_lock:
        limits: dict[str, int] = {}
        try:
            from campaign.spec.config import load

            cfile, _problems = load(path)
            if cfile is not None:
                limits = {name: a.max_chars for name, a in cfile.accounts.items() if a.max_chars}
        except Exception:  # a broken posts.yaml: the preview still shows the queue, with the platforms' limits
            limits = {}
        _limits_cache[key] = (stamp, limits)
        return limits


# --- one post's page -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Facts:
    """What the page shows beside the preview, from the post's row."""
    campaign_name: str | None
    approvals_needed: int
    attempts: int
    sent_at: datetime | None
    acknowledged_at: datetime | None
    updated_at: datetime


def _facts(db, post_id: int) -> Facts | None:
    with db.transaction() as connection:
        row = connection.execute(
            select(campaigns.c.name, posts.approvals_needed, posts.attempts, posts.sent_at, posts.acknowledged_at,
                   posts.updated_at)
            .select_from(scheduled_posts.outerjoin(campaigns, campaigns.c.id == posts.campaign_id))
            .where(posts.id == post_id)).first()
    if row is None:
        return None
    return Facts(row.name, row.approvals_needed or 0, row.attempts or 0, row.sent_at, row.acknowledged_at,
                 row.updated_at)


def _colour(db, account: str) -> str:
    """The account's colour class, as every page gives it: its place among all accounts sorted, mod 8."""
    with db.transaction() as connection:
        names = sorted(connection.execute(select(accounts.c.name)).scalars())
    return f"acct-{names.index(account) % ACCOUNT_COLOURS if account in names else 0}"


def _view(request: Request, post_id: int):
    ws = workspace(request)
    try:
        return load_view(ws.db, post_id, limits=own_limits(ws.posts_file))
    except NotFoundError:
        return None


def _no_post(request: Request, post_id: int) -> Response:
    return refuse(request, 404, _t(request, "There is no post #%(id)d in the queue.") % {"id": post_id})


def media_url(post_id: int, part: int, index: int) -> str:
    return f"/posts/{post_id}/media/{part}/{index}"


@page("viewer")
def post_page(request: Request) -> Response:
    ws = workspace(request)
    post_id = request.path_params["post_id"]
    view = _view(request, post_id)
    facts = _facts(ws.db, post_id) if view else None
    if view is None or facts is None:
        return _no_post(request, post_id)
    try:
        record = approval_library.decisions(ws.db, post_id)
    except CampaignError:
        record = []
    standing = approval_library.tally(facts.approvals_needed, [d for d in record if d.current])
    locale = locale_of(request)

    def image_src(part: int, index: int, media) -> str | None:
        if media.size is not None and media.size > MAX_IMAGE_BYTES:
            return None
        return media_url(view.id, part, index)

    preview = Markup(fragment(view, image_src, gettext=translations(locale), locale=locale))  # escaped by its templates
    state = view.state
    decidable = state in approval_library.DECIDABLE
    return render(
        request, "post.html", view=view, facts=facts, preview=preview, record=record, standing=standing,
        state_labels=STATE_LABELS, colour=_colour(ws.db, view.account.name),
        may_approve=decidable, may_reject=decidable or (state == "queued" and facts.approvals_needed > 0),
        problem=state in PROBLEM_STATES, here=f"/posts/{view.id}", notice=notice(request), max_reason=MAX_REASON,
        earlier=sum(1 for d in record if not d.current))


# --- its images -------------------------------------------------------------------------------------------

def _payload_file(db, post_id: int, part: int, index: int) -> Path | None:
    """The file the post's payload names at (part, index), or None: only payload entries, never a path
    from the request."""
    with db.transaction() as connection:
        payload = connection.execute(select(posts.payload).where(posts.id == post_id)).scalar()
    parts = (payload or {}).get("parts") if isinstance(payload, dict) else None
    if not isinstance(parts, list) or part >= len(parts) or not isinstance(parts[part], dict):
        return None
    media = parts[part].get("media") or []
    if not isinstance(media, list) or index >= len(media) or not isinstance(media[index], dict):
        return None
    path = media[index].get("path")
    return Path(path) if isinstance(path, str) and path else None


def _image(path: Path) -> tuple[bytes, str] | None:
    """The file's bytes and its type judged by its content, when it is an image we may show."""
    from campaign.spec.media import sniff

    try:
        if not path.is_file() or path.stat().st_size > MAX_IMAGE_BYTES:
            return None
        kind = sniff(path)
        if not kind or not kind.startswith("image/"):
            return None
        with open(path, "rb") as handle:
            data = handle.read(MAX_IMAGE_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_IMAGE_BYTES:
        return None
    return data, kind


@page("viewer")
def media(request: Request) -> Response:
    ws = workspace(request)
    post_id, part, index = (request.path_params[name] for name in ("post_id", "part", "index"))
    path = _payload_file(ws.db, post_id, part, index) if 1 <= post_id <= approval_library.MAX_POST_ID else None
    found = _image(path) if path else None
    if found is None:
        return refuse(request, 404, _t(request, "This image is not there."))
    data, kind = found
    return Response(data, media_type=kind, headers={"Cache-Control": IMAGE_CACHE})


# --- the page for review by mail, and the stylesheet -------------------------------------------------------

@page("viewer")
def download(request: Request) -> Response:
    ws = workspace(request)
    post_id = request.path_params["post_id"]
    view = _view(request, post_id)
    if view is None:
        return _no_post(request, post_id)
    locale = locale_of(request)
    html = standalone_html([view], gettext=translations(locale), locale=locale, now=ws.now())
    return Response(html, media_type="text/html", headers={
        "Content-Disposition": f'attachment; filename="preview-{view.id}.html"',
        "Content-Security-Policy": STANDALONE_POLICY,
    })


async def preview_stylesheet(request: Request) -> Response:
    return FileResponse(STYLESHEET, media_type="text/css")


routes = [
    Route("/posts/{post_id:int}", post_page),
    Route("/posts/{post_id:int}/media/{part:int}/{index:int}", media),
    Route("/posts/{post_id:int}/preview.html", download),
    Route("/static/preview.css", preview_stylesheet),
]
