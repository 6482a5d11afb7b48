"""Schedules: local wall-clock times in an IANA zone, expanded to UTC instants.

Recurrences use dateutil.rrule on naive local times; each occurrence is then
placed in the zone on its own, so 10:00 stays 10:00 across a DST change, and a
local time that does not exist or happens twice is caught instead of guessed.
"""
from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from itertools import islice
from typing import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule

from campaign.spec.model import Schedule

from campaign.spec.timerange import FIRST_YEAR, LAST_YEAR, RANGE  # noqa: F401 (re-exported)

UTC = timezone.utc
MAX_OCCURRENCES_PER_POST = 10_000
EARLIEST, LATEST = datetime(FIRST_YEAR, 1, 1), datetime(LAST_YEAR, 12, 31, 23, 59, 59)
MAX_DURATION = timedelta(days=3650)

WEEKDAYS = {
    "mo": rrule.MO, "mon": rrule.MO, "monday": rrule.MO, "ma": rrule.MO, "maandag": rrule.MO,
    "tu": rrule.TU, "tue": rrule.TU, "tuesday": rrule.TU, "di": rrule.TU, "dinsdag": rrule.TU,
    "we": rrule.WE, "wed": rrule.WE, "wednesday": rrule.WE, "wo": rrule.WE, "woensdag": rrule.WE,
    "th": rrule.TH, "thu": rrule.TH, "thursday": rrule.TH, "do": rrule.TH, "donderdag": rrule.TH,
    "fr": rrule.FR, "fri": rrule.FR, "friday": rrule.FR, "vr": rrule.FR, "vrijdag": rrule.FR,
    "sa": rrule.SA, "sat": rrule.SA, "saturday": rrule.SA, "za": rrule.SA, "zaterdag": rrule.SA,
    "su": rrule.SU, "sun": rrule.SU, "sunday": rrule.SU, "zo": rrule.SU, "zondag": rrule.SU,
}
_RRULE_DAY = {0: "MO", 1: "TU", 2: "WE", 3: "TH", 4: "FR", 5: "SA", 6: "SU"}
_FREQ = {"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"}
_EVERY = re.compile(r"^\s*(?:(\d+)\s+)?(day|week|month|year|weekday)s?\s*$", re.IGNORECASE)
_DURATION = re.compile(r"(\d+)\s*(d|h|m|s)", re.IGNORECASE)
_DURATION_FULL = re.compile(r"^\s*(?:\d+\s*[dhms]\s*)+$", re.IGNORECASE)
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


class ScheduleError(ValueError):
    """A schedule value that cannot be understood; the message is for the user."""


def zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name or name.startswith(("/", ".")) or ".." in name:
        raise ScheduleError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(f"unknown time zone {name!r} (use an IANA name such as 'Europe/Amsterdam')") from None


def parse_local_datetime(value: object, *, date_only_means: time | None = None) -> datetime:
    """'2026-01-27 10:00' (or with seconds, or 'T') as a naive local datetime."""
    text = str(value).strip()
    try:
        day_only = date_only_means is not None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)
        parsed = datetime.combine(date.fromisoformat(text), date_only_means) if day_only else \
            datetime.fromisoformat(text)
    except ValueError:
        raise ScheduleError(f"{text!r} is not a local date and time like '2026-01-27 10:00'") from None
    if day_only:
        return in_range(parsed, text)
    if not re.match(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}", text):
        raise ScheduleError(f"{text!r} is not a local date and time like '2026-01-27 10:00'")
    if parsed.tzinfo is not None:
        raise ScheduleError(f"{text!r} has a UTC offset; write local time and set 'timezone' instead")
    return in_range(parsed, text)


def in_range(moment: datetime, shown: str) -> datetime:
    if not EARLIEST <= moment <= LATEST:
        raise ScheduleError(f"{shown!r} is out of range; {RANGE}")
    return moment


def parse_time_of_day(value: object) -> tuple[int, int]:
    match = _TIME.match(str(value))
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ScheduleError(f"{value!r} is not a time of day like '10:00'")
    return int(match.group(1)), int(match.group(2))


def parse_duration(value: object) -> timedelta:
    """'30m', '2h', '1d', '1h30m'; a bare number means minutes (at most MAX_DURATION)."""
    duration = _duration(value)
    if duration > MAX_DURATION:
        # Added to dates in the queue: unbounded, it overflows datetime there.
        raise ScheduleError(f"{value!r} is longer than {MAX_DURATION.days} days")
    return duration


def _duration(value: object) -> timedelta:
    if isinstance(value, bool):
        raise ScheduleError(f"{value!r} is not a duration like '30m', '2h' or '1d'")
    if isinstance(value, int):
        if value < 0:
            raise ScheduleError("a duration cannot be negative")
        try:
            return timedelta(minutes=value)
        except OverflowError:
            raise ScheduleError(f"{value!r} is too long a duration") from None
    text = str(value)
    if not _DURATION_FULL.match(text):
        raise ScheduleError(f"{value!r} is not a duration like '30m', '2h' or '1d'")
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    kwargs: dict[str, int] = {}
    for amount, unit in _DURATION.findall(text):
        key = units[unit.lower()]
        kwargs[key] = kwargs.get(key, 0) + int(amount)
    try:
        return timedelta(**kwargs)
    except OverflowError:
        raise ScheduleError(f"{value!r} is too long a duration") from None


def friendly_rule(every: object, on: object) -> str:
    """Turn `every: 2 weeks` + `on: [mon, thu]` into an RRULE body."""
    match = _EVERY.match(str(every))
    if not match:
        raise ScheduleError(f"every: {every!r} is not understood; use day, week, month, year, weekday or e.g. '2 weeks'")
    interval = int(match.group(1) or 1)
    if interval < 1:
        raise ScheduleError("every: the interval must be at least 1")
    unit = match.group(2).lower()
    parts = [f"FREQ={_FREQ.get(unit, 'DAILY')}", f"INTERVAL={interval}"]
    if unit == "weekday":
        parts.append("BYDAY=MO,TU,WE,TH,FR")
    days = on if isinstance(on, list) else ([] if on is None else [on])
    weekdays, monthdays = [], []
    for item in days:
        if isinstance(item, bool):
            raise ScheduleError(f"on: {item!r} is not a weekday or day of the month")
        if isinstance(item, int):
            if not (1 <= abs(item) <= 31):
                raise ScheduleError(f"on: {item} is not a day of the month (1..31, or -1 for the last)")
            monthdays.append(str(item))
        elif isinstance(item, str) and item.strip().lower() in WEEKDAYS:
            weekdays.append(_RRULE_DAY[WEEKDAYS[item.strip().lower()].weekday])
        else:
            raise ScheduleError(f"on: {item!r} is not a weekday (mon, tue, …) or day of the month")
    if weekdays:
        if unit == "weekday":
            raise ScheduleError("on: weekdays cannot be combined with 'every: weekday'")
        parts.append("BYDAY=" + ",".join(dict.fromkeys(weekdays)))
    if monthdays:
        parts.append("BYMONTHDAY=" + ",".join(dict.fromkeys(monthdays)))
    return ";".join(parts)


def normalise_rrule(text: object) -> str:
    """Validate an RRULE string now, so a bad one is reported at its line."""
    body = str(text).strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if "DTSTART" in body.upper():
        raise ScheduleError("rrule: put the start in 'from', not DTSTART")
    try:
        rule = rrule.rrulestr(body, dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise ScheduleError(f"rrule: {body!r} is not a valid RRULE ({exc})") from None
    until = getattr(rule, "_until", None)
    if until is not None and until.tzinfo is not None:
        raise ScheduleError("rrule: write UNTIL as local time without 'Z' (or use 'until')")
    if until is not None and not EARLIEST <= until <= LATEST:
        raise ScheduleError(f"rrule: UNTIL {until:%Y-%m-%d} is out of range; {RANGE}")
    if getattr(rule, "_freq", None) == rrule.SECONDLY:
        # Nothing is posted by the second, and such a rule can run to millions of steps.
        raise ScheduleError("rrule: FREQ=SECONDLY is not supported; use MINUTELY or coarser")
    count = getattr(rule, "_count", None)
    if count is not None and count > MAX_OCCURRENCES_PER_POST:
        raise ScheduleError(f"rrule: COUNT={count} is more than {MAX_OCCURRENCES_PER_POST:,} occurrences")
    return body


def local_times(schedule: Schedule) -> Iterator[datetime]:
    """Every naive local occurrence time, in order (at most MAX_OCCURRENCES_PER_POST + 1).

    Never past LATEST: a rule that stops firing (or never fires) ends there instead of at year 9999.
    """
    if schedule.at is not None:
        yield schedule.at
        return
    start = schedule.start
    assert start is not None and schedule.rule is not None
    streams = []
    for hour, minute in schedule.times or ((None, None),):
        rule = rrule.rrulestr(schedule.rule, dtstart=start)
        changes: dict = {}
        if hour is not None:
            changes.update(byhour=hour, byminute=minute, bysecond=0)
        # COUNT is applied after merging all times of day.
        changes.update(until=_bounded_until(rule, schedule.until), count=None)
        rule = rule.replace(**changes) if changes else rule
        streams.append(iter(rule))
    merged = heapq.merge(*streams) if len(streams) > 1 else streams[0]
    seen = None
    produced = 0
    limit = schedule.count if schedule.count is not None else MAX_OCCURRENCES_PER_POST + 1
    for moment in islice(merged, MAX_OCCURRENCES_PER_POST * 4):
        if moment == seen:
            continue
        seen = moment
        yield moment
        produced += 1
        if produced >= min(limit, MAX_OCCURRENCES_PER_POST + 1):
            return


def _bounded_until(rule, until: datetime | None) -> datetime:
    own = getattr(rule, "_until", None)
    return min(x for x in (until, own, LATEST) if x is not None)


def rule_has_end(rule: str) -> bool:
    upper = rule.upper()
    return "UNTIL=" in upper or "COUNT=" in upper


@dataclass(frozen=True)
class Placement:
    """Where a local wall-clock time lands in UTC, or why it cannot."""

    utc: datetime | None
    problem: str | None = None


def place(local: datetime, tz: ZoneInfo, fold: str | None) -> Placement:
    """Convert a naive local time to UTC; refuse to guess at a DST change unless told."""
    first = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return Placement(first)
    earlier, later = min(first, second), max(first, second)
    if fold == "earlier":
        return Placement(earlier)
    if fold == "later":
        return Placement(later)
    exists = [c for c in (first, second) if c.astimezone(tz).replace(tzinfo=None) == local]
    shown = local.strftime("%Y-%m-%d %H:%M")
    choices = (
        f"add 'fold: earlier' ({earlier:%H:%M} UTC, {earlier.astimezone(tz):%H:%M %Z}) "
        f"or 'fold: later' ({later:%H:%M} UTC, {later.astimezone(tz):%H:%M %Z})"
    )
    if exists:
        return Placement(None, f"{shown} happens twice in {tz.key} (clocks go back); {choices}")
    return Placement(None, f"{shown} does not exist in {tz.key} (clocks skip forward); {choices}")
