"""The calendar: every occurrence in the queue on its day, a month as a grid or an ISO week as a list.

Each occurrence is shown on its own day and at its own time in the zone of its campaign
(campaigns.timezone; a manual post in its row's zone), so 00:30 on 1 March in Amsterdam is on
1 March even though it is 28 February in UTC. The days of the grid are calendar dates; the grid's
own zone (the selected campaign's, else posts.yaml's first campaign's, else the one zone all
campaigns share, else UTC) decides which month and week are "now" and which day is today.

One query per page reads the queue: only the columns shown, for the dates shown plus a day on
each side (no zone is more than 14 hours from UTC), through the (state, due_at) index; the
exact day of each row is then worked out in Python.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaign.queue.tables import STATES, accounts, campaigns, scheduled_posts
from web.app import _t, locale_of, page, refuse, render, workspace
from web.i18n import N_

# The name of each state as people read it (other pages import this).
STATE_LABELS = {
    "queued": N_("Queued"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "unknown": N_("Unknown"),
    "missed": N_("Missed"),
    "cancelled": N_("Cancelled"),
    "awaiting_approval": N_("Awaiting approval"),
    "rejected": N_("Rejected"),
}
assert set(STATE_LABELS) == set(STATES)

EXCERPT_LENGTH = 60
SHOWN_PER_DAY = 4  # the rest of a busy day opens in place under "N more"
ACCOUNT_COLOURS = 8  # .acct-0 … .acct-7 in workspace.css
MARGIN = timedelta(days=1)  # every zone is within 14 hours of UTC
FIRST_YEAR, LAST_YEAR = 1900, 9998  # a month or week outside these is refused (and prev/next stay valid)
MONTH_PATTERN = re.compile(r"(\d{4})-(\d{2})")
WEEK_PATTERN = re.compile(r"(\d{4})-W(\d{2})")
SHOWN_VALUE = 80  # how much of a refused value the error message repeats
posts = scheduled_posts.c


class BadRequest(Exception):
    """A query parameter that cannot be used; the message is for the reader (already translated)."""


# --- what the queue knows ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignInfo:
    id: str
    name: str
    zone: str


@dataclass(frozen=True)
class Known:
    """The campaigns and accounts in the queue (small tables), and the states its posts are in."""
    campaigns: dict[str, CampaignInfo]
    accounts: tuple[str, ...]  # sorted: an account's colour is its position here, mod 8
    states: tuple[str, ...]  # present in the queue, in STATES order

    def __post_init__(self):
        object.__setattr__(self, "_colours", {name: i % ACCOUNT_COLOURS for i, name in enumerate(self.accounts)})

    def colour(self, account: str) -> int:
        return self._colours.get(account, 0)


def known(db) -> Known:
    with db.transaction() as connection:
        found = {row.id: CampaignInfo(row.id, row.name, row.timezone) for row in connection.execute(
            select(campaigns.c.id, campaigns.c.name, campaigns.c.timezone).order_by(campaigns.c.name, campaigns.c.id))}
        names = tuple(sorted(connection.execute(select(accounts.c.name)).scalars()))
        present = set(connection.execute(select(posts.state).distinct()).scalars())
    return Known(found, names, tuple(state for state in STATES if state in present))


def valid_zone(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name


_first_zone_lock = threading.Lock()
_first_zone_cache: dict[str, tuple[tuple[int, int], str | None]] = {}


def posts_file_zone(posts_file: Path | None) -> str | None:
    """The zone of posts.yaml's first campaign (read again only when the file changes), or None."""
    if posts_file is None:
        return None
    path = Path(posts_file)
    try:
        info = path.stat()
    except OSError:
        return None
    stamp = (info.st_mtime_ns, info.st_size)
    key = str(path.resolve())
    cached = _first_zone_cache.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    with _first_zone_lock:
        zone = None
        try:
            from campaign.spec import config

            cfile, _problems = config.load(path)
            if cfile is not None and cfile.campaigns:
                zone = valid_zone(next(iter(cfile.campaigns.values())).timezone)
        except Exception:  # an unreadable or broken posts.yaml: the calendar still shows the queue
            zone = None
        _first_zone_cache[key] = (stamp, zone)
        return zone


def grid_zone(filters: "Filters", known_: Known, posts_file: Path | None) -> str:
    """The zone that decides today, this month and this week: see the module's docstring."""
    chosen = [known_.campaigns[c] for c in filters.campaigns]
    zones = {c.zone for c in chosen}
    if len(zones) == 1 and (zone := valid_zone(zones.pop())):
        return zone
    if zone := posts_file_zone(posts_file):
        return zone
    zones = {c.zone for c in known_.campaigns.values()}
    if len(zones) == 1 and (zone := valid_zone(zones.pop())):
        return zone
    return "UTC"


# --- the request's filters -----------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    campaigns: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    states: tuple[str, ...] = ()

    def pairs(self) -> list[tuple[str, str]]:
        return ([("campaign", c) for c in self.campaigns] + [("account", a) for a in self.accounts]
                + [("state", s) for s in self.states])


def _shown(value: str) -> str:
    return value if len(value) <= SHOWN_VALUE else value[:SHOWN_VALUE] + "…"


def _values(request: Request, name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in request.query_params.getlist(name) if v != ""))


def parse_filters(request: Request, known_: Known) -> Filters:
    checks = (
        ("campaign", list(known_.campaigns), _t(request, "Unknown campaign “%(value)s”. Known campaigns: %(known)s.")),
        ("account", list(known_.accounts), _t(request, "Unknown account “%(value)s”. Known accounts: %(known)s.")),
        ("state", list(STATES), _t(request, "Unknown state “%(value)s”. Known states: %(known)s.")),
    )
    chosen = []
    for name, allowed, message in checks:
        values = _values(request, name)
        for value in values:
            if value not in allowed:
                listed = ", ".join(allowed[:20]) + (" …" if len(allowed) > 20 else "") or "—"
                raise BadRequest(message % {"value": _shown(value), "known": listed})
        chosen.append(values)
    return Filters(*chosen)


def parse_month(request: Request, value: str) -> date:
    match = MONTH_PATTERN.fullmatch(value)
    if match and FIRST_YEAR <= int(match[1]) <= LAST_YEAR and 1 <= int(match[2]) <= 12:
        return date(int(match[1]), int(match[2]), 1)
    raise BadRequest(_t(request, "Unknown month “%(value)s”: write it as year and month, like 2027-03.")
                     % {"value": _shown(value)})


def parse_week(request: Request, value: str) -> date:
    """The Monday of an ISO week such as 2027-W10."""
    match = WEEK_PATTERN.fullmatch(value)
    if match and FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        try:
            return date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            pass
    raise BadRequest(_t(request, "Unknown week “%(value)s”: write it as an ISO week, like 2027-W10.")
                     % {"value": _shown(value)})


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


# --- the occurrences ----------------------------------------------------------------------------

@dataclass(slots=True)
class Entry:
    id: int
    account: str
    colour: int
    state: str
    local: datetime  # in `zone`
    zone: str
    excerpt: str
    # filled in by the page, in the reader's language
    time: str = ""
    label: str = ""  # the state's name
    stamp: str = ""  # ISO 8601 with offset, for <time datetime>
    city: str = ""  # the zone's last part, shown when the page mixes zones


def excerpt(text: str | None, length: int = EXCERPT_LENGTH, *, keep: float = 2 / 3) -> str:
    """The first ~`length` characters on one line, cut after a word when that keeps at least
    `keep` of them (else in the word: a long link)."""
    flat = " ".join((text or "").split())
    if len(flat) <= length:
        return flat
    cut = flat[:length]
    space = cut.rfind(" ")
    if space >= length * keep:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def _zone(name: str) -> tuple[str, ZoneInfo]:
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return "UTC", ZoneInfo("UTC")


def range_query(first: date, last: date, filters: Filters):
    """The one query of a page: the columns shown, for the days from `first` to `last` with a day's
    margin on each side. state IN (…) is always there, also for "all states": then the
    (state, due_at) index serves the range on SQLite and PostgreSQL alike."""
    low = datetime.combine(first, time(), timezone.utc) - MARGIN
    high = datetime.combine(last + timedelta(days=1), time(), timezone.utc) + MARGIN
    query = (select(posts.id, posts.campaign_id, posts.account, posts.due_at, posts.timezone, posts.state,
                    posts.payload[("parts", 0, "text")].as_string().label("text"))
             .where(posts.state.in_(filters.states or STATES), posts.due_at >= low, posts.due_at < high))
    if filters.campaigns:
        query = query.where(posts.campaign_id.in_(filters.campaigns))
    if filters.accounts:
        query = query.where(posts.account.in_(filters.accounts))
    return query


def entries_by_day(db, first: date, last: date, filters: Filters, known_: Known) -> dict[date, list[Entry]]:
    """Every occurrence whose day, in its own zone, is from `first` to `last`, by day, in time order."""
    with db.transaction() as connection:
        rows = connection.execute(range_query(first, last, filters)).all()
    zones: dict[tuple, tuple[str, ZoneInfo]] = {}  # (campaign id, row's zone) → the zone it is shown in
    colours = known_.colour
    days: dict[date, list[Entry]] = {}
    for post_id, campaign_id, account, due_at, row_zone, state, text in rows:
        where = zones.get((campaign_id, row_zone))
        if where is None:
            campaign = known_.campaigns.get(campaign_id) if campaign_id else None
            where = zones[campaign_id, row_zone] = _zone(campaign.zone if campaign else row_zone)
        local = due_at.astimezone(where[1])
        day = local.date()
        if first <= day <= last:
            days.setdefault(day, []).append(Entry(post_id, account, colours(account), state, local, where[0],
                                                  excerpt(text)))
    for items in days.values():
        items.sort(key=lambda e: (e.local.time(), e.local, e.id))  # wall clock, then instant (the DST fold)
    return days


# --- the page ----------------------------------------------------------------------------------

@dataclass
class Day:
    date: date
    label: str  # the full date, e.g. "maandag 1 maart 2027"
    entries: list[Entry] = field(default_factory=list)
    today: bool = False


def _link(view: str, when: str, filters: Filters) -> str:
    pairs = ([("view", "week"), ("week", when)] if view == "week" else [("month", when)]) + filters.pairs()
    return "/calendar?" + urlencode(pairs)


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _zone_city(zone: str) -> str:
    return zone.rsplit("/", 1)[-1].replace("_", " ")


@page("viewer")
def calendar(request: Request) -> Response:
    ws = workspace(request)
    try:
        return _calendar(request, ws)
    except BadRequest as error:
        return refuse(request, 400, str(error))


def _calendar(request: Request, ws) -> Response:
    from babel import Locale
    from babel.dates import format_interval, get_day_names

    from web.i18n import Formatter, translations

    view = request.query_params.get("view") or "month"
    if view not in ("month", "week"):
        raise BadRequest(_t(request, "Unknown view “%(value)s”: choose month or week.") % {"value": _shown(view)})
    known_ = known(ws.db)
    filters = parse_filters(request, known_)
    zone = grid_zone(filters, known_, ws.posts_file)
    today = ws.now().astimezone(ZoneInfo(zone)).date()
    locale = locale_of(request)
    fmt = Formatter(locale)

    if view == "month":
        given = request.query_params.get("month")
        month = parse_month(request, given) if given else today.replace(day=1)
        first, last = month, _add_months(month, 1) - timedelta(days=1)
        week_first = Locale.parse(locale).first_week_day  # 0 = Monday
        start = first - timedelta(days=(first.weekday() - week_first) % 7)
        end = last + timedelta(days=(week_first + 6 - last.weekday()) % 7)
    else:
        given = request.query_params.get("week")
        first = parse_week(request, given) if given else today - timedelta(days=today.weekday())
        last = first + timedelta(days=6)

    by_day = entries_by_day(ws.db, first, last, filters, known_)
    times: dict[tuple[int, int], str] = {}
    zones_shown = {e.zone for items in by_day.values() for e in items}
    zones_shown |= {known_.campaigns[c].zone for c in (filters.campaigns or known_.campaigns)}
    several = len(zones_shown) > 1 or zones_shown - {zone}
    catalogue = translations(locale)
    labels = {state: catalogue.gettext(label) for state, label in STATE_LABELS.items()}
    cities: dict[str, str] = {}
    for items in by_day.values():
        for entry in items:
            key = (entry.local.hour, entry.local.minute)  # the short time shows only the wall clock
            if key not in times:
                times[key] = fmt.time(entry.local, entry.zone)
            if entry.zone not in cities:
                cities[entry.zone] = _zone_city(entry.zone)
            entry.time, entry.label, entry.city = times[key], labels[entry.state], cities[entry.zone]
            entry.stamp = entry.local.isoformat()

    def day_of(d: date) -> Day:
        return Day(d, fmt.date(d, "full"), by_day.get(d, []), d == today)

    count = sum(len(items) for items in by_day.values())
    values = dict(
        view=view, filters=filters, known=known_, zone=zone, several_zones=bool(several),
        zones_shown=sorted(zones_shown), state_labels=STATE_LABELS, shown_per_day=SHOWN_PER_DAY,
        states_offered=[s for s in STATES if s in known_.states or s in filters.states],
        subscribe="/calendar/subscribe",
    )
    if view == "month":
        weeks, day = [], start
        while day <= end:
            row = [day_of(d) if first <= d <= last else None
                   for d in (day + timedelta(days=i) for i in range(7))]
            monday = day + timedelta(days=(7 - day.weekday()) % 7)  # the row's ISO week is its Monday's
            weeks.append((iso_week(monday), _link("week", iso_week(monday), filters), row))
            day += timedelta(days=7)
        names_wide, names_short = get_day_names("wide", locale=locale), get_day_names("abbreviated", locale=locale)
        weekdays = [(names_wide[(week_first + i) % 7], names_short[(week_first + i) % 7]) for i in range(7)]
        this_week = today if first <= today <= last else first
        period = first.strftime("%Y-%m")
        earlier, later = _add_months(first, -1), _add_months(first, 1)
        return render(
            request, "calendar_month.html", **values, title=fmt.skeleton(first, "MMMMy"), weeks=weeks,
            weekdays=weekdays, period_name="month", period_value=period,
            unfiltered=_link("month", period, Filters()),
            count_label=catalogue.ngettext("%(num)d post this month.", "%(num)d posts this month.", count)
            % {"num": count},
            previous=_link("month", earlier.strftime("%Y-%m"), filters) if earlier.year >= FIRST_YEAR else None,
            next=_link("month", later.strftime("%Y-%m"), filters) if later.year <= LAST_YEAR else None,
            current=_link("month", today.strftime("%Y-%m"), filters),
            other_view=_link("week", iso_week(this_week), filters),
            previous_label=_t(request, "Previous month"), next_label=_t(request, "Next month"),
            current_label=_t(request, "This month"), other_view_label=_t(request, "Week view"))
    days = [day_of(first + timedelta(days=i)) for i in range(7)]
    year, number, _ = first.isocalendar()
    earlier, later = first - timedelta(days=7), first + timedelta(days=7)
    period = iso_week(first)
    title = _t(request, "Week %(number)d of %(year)d") % {"number": number, "year": year}
    return render(
        request, "calendar_week.html", **values, days=days,
        title=f"{title} ({format_interval(first, last, 'yMMMMd', locale=locale)})",
        period_name="week", period_value=period, unfiltered=_link("week", period, Filters()),
        count_label=catalogue.ngettext("%(num)d post this week.", "%(num)d posts this week.", count) % {"num": count},
        previous=_link("week", iso_week(earlier), filters) if earlier.year >= FIRST_YEAR else None,
        next=_link("week", iso_week(later), filters) if later.year <= LAST_YEAR else None,
        current=_link("week", iso_week(today), filters),
        other_view=_link("month", first.strftime("%Y-%m"), filters),
        previous_label=_t(request, "Previous week"), next_label=_t(request, "Next week"),
        current_label=_t(request, "This week"), other_view_label=_t(request, "Month view"))


routes = [Route("/calendar", calendar)]
