"""The calendar as an ICS feed, to subscribe to from Outlook, Google Calendar or Apple Calendar.

A calendar program cannot sign in, so a feed's URL carries its own key: an HMAC of its scope
(`all`, or a campaign id) under the workspace secret. Whoever has the link can read that feed and
nothing else; a new CAMPAIGN_WEB_SECRET ends every link. A wrong key and an unknown scope get the
same 404. The links are listed, for anyone signed in, at /calendar/subscribe.

Each occurrence (cancelled ones left out) from 90 days back to 400 days ahead is one event of 15
minutes. DTSTART is written in UTC: an instant every client places right, on DST days too, in
whatever zone it shows; X-WR-TIMEZONE tells the campaign's zone to clients that use it. The UID
is the occurrence's key, which stays the same across syncs, so a client updates an event in place.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from campaign.queue.tables import STATES, campaigns, scheduled_posts
from web import i18n
from web.app import page, render, workspace
from web.calendar import STATE_LABELS, Filters, excerpt, grid_zone, known

TOKEN_LENGTH = 32
PAST = timedelta(days=90)
AHEAD = timedelta(days=400)
DURATION = timedelta(minutes=15)
SUMMARY_LENGTH = 50
FEED_STATES = tuple(state for state in STATES if state != "cancelled")
PRODID = "-//Praat mee//Werkplek//NL"
# icalendar takes some 0.3 ms per event (folding lines char by char), so each event's text is kept,
# keyed by a digest of everything that goes into it: a feed of 10,000 posts costs seconds once and
# then only for the events that changed.
CACHED_EVENTS = 50_000
posts = scheduled_posts.c


def feed_token(secret: bytes, campaign: str | None) -> str:
    """The key of the feed of one campaign, or of all of them (None): the two kinds never collide,
    whatever a campaign is called."""
    message = b"ics\0all" if campaign is None else b"ics\0campaign\0" + campaign.encode("utf-8", "surrogateescape")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


def feed_path(secret: bytes, campaign: str | None) -> str:
    token = feed_token(secret, campaign)
    return f"ics/all/{token}.ics" if campaign is None else f"ics/campaign/{quote(campaign, safe='')}/{token}.ics"


def _campaigns(db) -> list:
    with db.transaction() as connection:
        return connection.execute(select(campaigns.c.id, campaigns.c.name, campaigns.c.timezone)
                                  .order_by(campaigns.c.name, campaigns.c.id)).all()


@page("viewer")
def subscribe(request: Request) -> Response:
    ws = workspace(request)
    base = str(request.base_url)
    feeds = [(None, base + feed_path(ws.secret, None))]
    feeds += [(row.name, base + feed_path(ws.secret, row.id)) for row in _campaigns(ws.db)]
    return render(request, "subscribe.html", feeds=feeds)


NOT_FOUND = "Not found\n"


async def feed(request: Request) -> Response:
    """GET /ics/all/<token>.ics and /ics/campaign/<id>/<token>.ics: no session, the token is the key."""
    ws = workspace(request)
    scope, given = request.path_params.get("scope"), request.path_params["token"]
    if not hmac.compare_digest(feed_token(ws.secret, scope).encode(), given.encode("utf-8", "surrogateescape")):
        return PlainTextResponse(NOT_FOUND, status_code=404)
    locale = i18n.choose_locale(None, request.headers.get("accept-language"))
    body = await run_in_threadpool(build_feed, ws, scope, str(request.base_url), locale)
    if body is None:
        return PlainTextResponse(NOT_FOUND, status_code=404)
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'inline; filename="praatmee-{quote(scope or "all", safe="")}.ics"'})


def build_feed(ws, scope: str | None, base: str, locale: str) -> bytes | None:
    """The feed's ICS text (scope: a campaign id, None for all), or None for a campaign that no
    longer exists."""
    from icalendar import Calendar

    catalogue = i18n.translations(locale)
    queue = known(ws.db)
    if scope is None:
        name = catalogue.gettext("Praat mee: all campaigns")
        zone = grid_zone(Filters(), queue, ws.posts_file)
    elif scope in queue.campaigns:
        name = f"Praat mee: {queue.campaigns[scope].name}"
        zone = grid_zone(Filters(campaigns=(scope,)), queue, ws.posts_file)
    else:
        return None
    now = ws.now()
    query = (select(posts.id, posts.key, posts.account, posts.due_at, posts.state, posts.payload, posts.updated_at)
             .where(posts.state.in_(FEED_STATES), posts.due_at >= now - PAST, posts.due_at <= now + AHEAD)
             .order_by(posts.due_at, posts.id))
    if scope is not None:
        query = query.where(posts.campaign_id == scope)
    with ws.db.transaction() as connection:
        rows = connection.execute(query).all()

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone)
    labels = {state: catalogue.gettext(label) for state, label in STATE_LABELS.items()}
    events = []
    for row in rows:
        texts = [str(part.get("text") or "") for part in (row.payload or {}).get("parts", [])
                 if isinstance(part, dict)] or [""]
        label = labels[row.state]
        summary = f"[{row.account}] {excerpt(texts[0], SUMMARY_LENGTH, keep=0.2)}"
        if row.state != "queued":
            summary += f" ({label})"
        description = texts[0] if len(texts) == 1 else "\n\n".join(
            f"({index}/{len(texts)}) {text}" for index, text in enumerate(texts, 1))
        events.append(_event(f"{row.key}@praatmee", row.updated_at, row.due_at, summary, description,
                             f"{base}posts/{row.id}", label,
                             "TENTATIVE" if row.state == "awaiting_approval" else "CONFIRMED"))
    # The events go where icalendar puts components: after the calendar's own properties.
    head = calendar.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    return head[:-len(end)] + b"".join(events) + end


_cache: OrderedDict[bytes, bytes] = OrderedDict()
_cache_lock = threading.Lock()


def _event(uid: str, stamp, start, summary: str, description: str, url: str, label: str, status: str) -> bytes:
    """One VEVENT as ICS text, from the cache when nothing in it changed."""
    from icalendar import Event

    values = (uid, stamp.isoformat(), start.isoformat(), summary, description, url, label, status)
    key = hashlib.sha256(repr(values).encode("utf-8", "backslashreplace")).digest()
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("duration", DURATION)
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    event.add("categories", [label])
    event.add("status", status)
    text = event.to_ical()
    with _cache_lock:
        _cache[key] = text
        while len(_cache) > CACHED_EVENTS:
            _cache.popitem(last=False)
    return text


routes = [
    Route("/calendar/subscribe", subscribe),
    Route("/ics/all/{token}.ics", feed),
    Route("/ics/campaign/{scope}/{token}.ics", feed),
]
