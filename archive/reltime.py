"""Calendar-exact relative time ("5 jaar 10 maanden geleden"). Pure: no I/O, no clock.

    >>> from datetime import datetime, timezone
    >>> relative_time(datetime(2015, 1, 20, 12, tzinfo=timezone.utc),
    ...               datetime(2020, 11, 27, tzinfo=timezone.utc), locale="nl", zone="Europe/Amsterdam")
    '5 jaar 10 maanden geleden'

The rules (BRIEF.md, "Relative time"):

* **Calendar-exact.** Years, months and days are counted on the calendar of `zone`, the way
  `dateutil.relativedelta(now_local, then_local)` counts them: Jan 31 → Mar 1 is "1 maand 1 dag"
  (Jan 31 + 1 month is clipped to Feb 28), Feb 29 → Feb 28 next year is "1 jaar" (Feb 29 + 1 year
  is clipped to Feb 28) and → Feb 27 "11 maanden 29 dagen",
  a DST day of 23 or 25 hours is "1 dag". In a zone without DST the result *is* relativedelta's
  (a property test checks this). Across a DST change the calendar part still follows the wall
  clock, but an anchor is compared with `now` as an instant and the hours and minutes left over
  are real elapsed time, so 01:30 → 03:30 on the spring-forward night is "1 uur", and a later
  `now` never gives a smaller interval (also a property test).
* **Floored**, largest unit first, at most `units` units (default 2), **adjacent units only**
  (Drupal's rule: "1 jaar", never "1 jaar 3 dagen"; a zero unit ends the phrase), plural forms
  from CLDR plural rules. Units: year, month, day, hour, minute (no weeks: "1 maand 3 dagen").
* Under a minute (either direction): "zojuist" / "just now". A moment after `now`: "over 3 dagen" /
  "in 3 days".

Locales. Dutch (`nl`) and English (`en`) are exact and tested string for string. Every other
locale comes from the CLDR data shipped with Babel, never from word lists written here:

* unit phrases: CLDR `unit_patterns["duration-<unit>"]["long"][plural category]` (what
  `babel.units.format_unit(n, "duration-month", length="long")` uses), the category from the
  locale's plural rules (`Locale.plural_form`), numbers formatted by Babel;
* one unit ("5 jaar geleden"): CLDR's own relative-time pattern for that unit and category,
  `date_fields[<unit>]["past"|"future"][category]` — always grammatical, even where the language
  inflects the noun ("vor 5 Jahren");
* the "ago"/"in" wrapper for two or more units, which CLDR does not have: for every unit and
  plural category, the relative pattern and the unit phrase are formatted with the same sample
  number; when the unit phrase occurs verbatim inside the relative phrase (spaces normalised),
  cutting it out leaves the wrapper ("{0} jaar geleden" − "{0} jaar" → "{0} geleden";
  "il y a {0} ans" − "{0} ans" → "il y a {0}"). A locale gets multi-unit phrases only when every
  unit and category yields the same wrapper. Where they disagree — languages whose "ago" form
  changes the noun's case, e.g. German "vor 5 Jahren" vs "5 Jahre", Russian, Polish — a phrase
  is cut to its largest unit and worded by CLDR's relative pattern: shorter, but never wrong;
* joining units: CLDR's "unit" list pattern for the locale (found by formatting two marker
  strings with `babel.lists.format_list` and validating the result; Babel's list for e.g. `ar`
  is broken and falls back to the "standard" style). Dutch and English join with a space, as the
  seed does ("5 jaar 10 maanden"): CLDR's Dutch unit list always says "en";
* "just now" in other locales: CLDR's `date_fields["second"]["relative"][0]` ("jetzt", "maintenant").

`supported_locales()` lists what Babel's CLDR data supports and whether it gets multi-unit phrases.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

UNITS = ("year", "month", "day", "hour", "minute")
JUST_NOW = {"nl": "zojuist", "en": "just now"}
SPACE_JOINED = ("nl", "en")  # the seed's "5 jaar 10 maanden": no "en"/"and", no comma
_MARK_A, _MARK_B = "\ue000", "\ue001"  # private-use markers for deriving patterns
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
_DAY = timedelta(days=1)


class UnknownLocale(ValueError):
    """The locale is not in Babel's CLDR data, or lacks the duration or relative-time patterns."""


@dataclass(frozen=True, slots=True)
class Interval:
    """The floored calendar difference between two instants (always non-negative fields)."""

    future: bool  # the moment lies after `now`
    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    @property
    def fields(self) -> tuple[int, int, int, int, int]:
        return (self.years, self.months, self.days, self.hours, self.minutes)

    @property
    def just_now(self) -> bool:
        return not any(self.fields)


def as_zone(zone: str | tzinfo | None) -> tzinfo:
    if zone is None:
        return timezone.utc
    if isinstance(zone, str):
        return _zone(zone)
    return zone


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    return timezone.utc if name.upper() == "UTC" else ZoneInfo(name)


def interval(moment: datetime, now: datetime, zone: str | tzinfo | None = None) -> Interval:
    """The calendar difference between `moment` and `now` (both aware) on the calendar of `zone`."""
    if moment.tzinfo is None or now.tzinfo is None:
        raise ValueError("relative time needs aware datetimes (with a time zone)")
    return _interval(moment, now, as_zone(zone))


def _interval(moment: datetime, now: datetime, zone: tzinfo) -> Interval:
    t_moment, t_now = moment.timestamp(), now.timestamp()
    future = t_moment > t_now
    if future:
        start, t_end = now, t_moment
        elapsed = t_moment - t_now
    else:
        start, t_end = moment, t_now
        elapsed = t_now - t_moment
    if elapsed < 60:
        return Interval(future, seconds=int(elapsed))
    a = start.astimezone(zone)
    b = (moment if future else now).astimezone(zone)
    months = (b.year - a.year) * 12 + b.month - a.month
    base = a
    if months > 0:
        base = _add_months(a, months, zone)
        if base.timestamp() > t_end:
            months -= 1
            base = _add_months(a, months, zone) if months else a
    else:
        months = 0
    days = (b.toordinal() - base.toordinal())
    if days > 0:
        anchor = base + timedelta(days=days)  # same tzinfo: wall-clock arithmetic, like relativedelta
        if anchor.timestamp() > t_end:
            days -= 1
            anchor = base + timedelta(days=days)
    else:
        days, anchor = 0, base
    rest = int(t_end - anchor.timestamp())  # real seconds left over: hours and minutes
    if rest < 0:  # only when the anchor's wall time falls in a DST gap; step one day back
        days -= 1
        anchor = base + timedelta(days=days)
        rest = int(t_end - anchor.timestamp())
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    years, months = divmod(months, 12)
    return Interval(future, years, months, days, hours, minutes, seconds)


def _add_months(a: datetime, months: int, zone: tzinfo) -> datetime:
    year, month = divmod(a.month - 1 + months, 12)
    year += a.year
    month += 1
    day = a.day
    if day > 28:
        day = min(day, calendar.monthrange(year, month)[1])
    return datetime(year, month, day, a.hour, a.minute, a.second, a.microsecond, tzinfo=zone)


# -- words ------------------------------------------------------------------


class _Phrases:
    """Everything one locale needs, read once from CLDR (Babel) and cached."""

    def __init__(self, name: str):
        from babel import Locale, UnknownLocaleError
        from babel.numbers import format_decimal

        try:
            locale = Locale.parse(name.replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError) as error:
            raise UnknownLocale(f"unknown locale {name!r}") from error
        self.name = str(locale)
        self.language = locale.language
        self._locale = locale
        self._format_decimal = format_decimal
        self._plural = locale.plural_form
        try:
            fields = locale._data["date_fields"]
            patterns = locale._data["unit_patterns"]
            self.unit_patterns = {u: dict(patterns[f"duration-{u}"]["long"]) for u in UNITS}
            self.relative = {(u, tense): dict(fields[u][tense]) for u in UNITS for tense in ("past", "future")}
        except (KeyError, TypeError) as error:
            raise UnknownLocale(f"locale {name!r} has no CLDR duration or relative-time patterns") from error
        self._numbers: dict[int, str] = {}
        self._units: dict[tuple[str, int], str] = {}
        self.cache: dict[tuple, str] = {}
        self.wrappers = {tense: self._wrapper(tense) for tense in ("past", "future")}
        self.multi_unit = all(self.wrappers.values())
        if self.language in JUST_NOW:
            self.just_now = JUST_NOW[self.language]
        else:
            try:
                self.just_now = str(fields["second"]["relative"][0])
            except (KeyError, TypeError):
                self.just_now = self._relative_one("minute", "past", 0)
        self.join = self._joiner()

    def number(self, n: int) -> str:
        text = self._numbers.get(n)
        if text is None:
            text = self._numbers[n] = self._format_decimal(n, locale=self._locale)
        return text

    def _pick(self, patterns: dict, n: int) -> str:
        return patterns.get(self._plural(n)) or patterns["other"]

    def unit(self, unit: str, n: int) -> str:
        key = (unit, n)
        text = self._units.get(key)
        if text is None:
            text = self._units[key] = self._pick(self.unit_patterns[unit], n).replace("{0}", self.number(n))
        return text

    def _relative_one(self, unit: str, tense: str, n: int) -> str:
        return self._pick(self.relative[(unit, tense)], n).replace("{0}", self.number(n))

    def _wrapper(self, tense: str) -> str | None:
        """The phrase around a duration ("{0} geleden"), derived from CLDR as the module doc says."""
        found = set()
        for unit in UNITS:
            for category in set(self.relative[(unit, tense)]) | set(self.unit_patterns[unit]):
                if category == "per":
                    continue
                n = _sample(self._plural, category)
                if n is None:
                    continue
                phrase = self.unit(unit, n).translate(_SPACES)
                whole = self._relative_one(unit, tense, n).translate(_SPACES)
                if whole.count(phrase) != 1:
                    return None
                found.add(whole.replace(phrase, "{0}"))
        return found.pop() if len(found) == 1 else None

    def _joiner(self):
        if self.language in SPACE_JOINED:
            return " ".join
        from babel.lists import format_list

        for style in ("unit", "standard"):
            try:
                text = format_list([_MARK_A, _MARK_B], style=style, locale=self._locale)
            except (ValueError, KeyError):
                continue
            if text.count(_MARK_A) == 1 and text.count(_MARK_B) == 1 and text.index(_MARK_A) < text.index(_MARK_B):
                pattern = text.replace(_MARK_A, "{0}").replace(_MARK_B, "{1}")
                middle = pattern[pattern.index("{0}") + 3:pattern.index("{1}")]

                def join(parts, style=style, middle=middle, pattern=pattern):
                    if len(parts) == 2:
                        return pattern.replace("{0}", parts[0]).replace("{1}", parts[1])
                    return format_list(list(parts), style=style, locale=self._locale)

                return join
        return " ".join

    def phrase(self, iv: Interval, units: int) -> str:
        fields = iv.fields
        parts = []
        for index, value in enumerate(fields):
            if value:
                parts.append((UNITS[index], value))
                for unit, count in zip(UNITS[index + 1:], fields[index + 1:]):
                    if not count or len(parts) >= units:
                        break
                    parts.append((unit, count))
                break
        if not parts:
            return self.just_now
        tense = "future" if iv.future else "past"
        if len(parts) == 1 or not self.multi_unit:
            return self._relative_one(parts[0][0], tense, parts[0][1])
        return self.wrappers[tense].replace("{0}", self.join([self.unit(u, n) for u, n in parts]))


def _sample(plural, category: str) -> int | None:
    for n in (*range(0, 200), 1000, 1000000):
        if plural(n) == category:
            return n
    return None


@lru_cache(maxsize=None)
def phrases(locale: str) -> _Phrases:
    return _Phrases(locale)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_US_PER_DAY = 86_400_000_000
_ZERO = timedelta(0)
_UTC = timezone.utc
_UNKNOWN = object()
_MINUTE = timedelta(minutes=1)


def _month_days(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _MONTH_DAYS[month - 1]


class RelativeTime:
    """A reusable formatter: `RelativeTime("nl", "Europe/Amsterdam")(moment, now)`.

    Reuse one instance for many posts: phrases are cached per distinct shown interval.
    Raises UnknownLocale for a locale Babel does not know; ValueError for naive datetimes.

    Speed: the interval is computed on wall-clock integers (like relativedelta) unless `now`'s
    local day or the day before it has a UTC-offset change; then the exact path (`interval`)
    runs. A property test checks that both agree.
    """

    def __init__(self, locale: str = "nl", zone: str | tzinfo | None = "UTC", units: int = 2):
        if units < 1:
            raise ValueError("units must be at least 1")
        self.phrases = phrases(locale)
        self.zone = as_zone(zone)
        self.units = units
        self._risky: dict[int, bool] = {}
        self._offsets: dict[int, timedelta | None] = {}
        self._cache: dict[tuple, str] = {}

    def _offset(self, day: int) -> timedelta | None:
        """The zone's UTC offset throughout the UTC day `day` (an ordinal), None if it changes that day."""
        start = datetime.fromordinal(day).replace(tzinfo=_UTC)
        first = start.astimezone(self.zone).utcoffset()
        last = (start + timedelta(days=1, microseconds=-1)).astimezone(self.zone).utcoffset()
        offset = self._offsets[day] = first if first == last else None
        return offset

    def _near_change(self, ordinal: int) -> bool:
        """Whether the UTC offset changes between the start of day ordinal-1 and the end of day ordinal."""
        risky = self._risky.get(ordinal)
        if risky is None:
            start = datetime.fromordinal(ordinal - 1).replace(tzinfo=self.zone)
            end = datetime.fromordinal(ordinal + 1).replace(tzinfo=self.zone)
            middle = datetime.fromordinal(ordinal).replace(tzinfo=self.zone)
            risky = self._risky[ordinal] = not (start.utcoffset() == middle.utcoffset() == end.utcoffset()
                                                == (end - timedelta(microseconds=1)).utcoffset())
        return risky

    def fields(self, moment: datetime, now: datetime) -> tuple[bool, int, int, int, int, int]:
        """(future, years, months, days, hours, minutes): what interval() gives, computed fast."""
        return self(moment, now, True)

    def __call__(self, moment: datetime, now: datetime, _fields: bool = False):
        """The phrase for moment relative to now (both aware)."""
        tz = moment.tzinfo
        if tz is None or now.tzinfo is None:
            raise ValueError("relative time needs aware datetimes (with a time zone)")
        if tz is now.tzinfo and tz is not _UTC:  # same zone object: Python would subtract wall clocks
            difference = timedelta(seconds=now.timestamp() - moment.timestamp())
        else:
            difference = now - moment
        future = difference < _ZERO
        if -_MINUTE < difference < _MINUTE:
            f = (future, 0, 0, 0, 0, 0)
        else:
            zone = self.zone
            a, b = (now, moment) if future else (moment, now)
            # Local wall-clock fields. For UTC input, `dt + offset` with the zone's offset for that
            # UTC day (cached; None when the offset changes that day) is astimezone's result at
            # half the cost; only the fields are used.
            offsets = self._offsets
            if a.tzinfo is _UTC:
                day = a.toordinal()
                offset = offsets.get(day, _UNKNOWN)
                if offset is _UNKNOWN:
                    offset = self._offset(day)
                la = a + offset if offset is not None else a.astimezone(zone)
            else:
                la = a.astimezone(zone)
            if b.tzinfo is _UTC:
                day = b.toordinal()
                offset = offsets.get(day, _UNKNOWN)
                if offset is _UNKNOWN:
                    offset = self._offset(day)
                lb = b + offset if offset is not None else b.astimezone(zone)
            else:
                lb = b.astimezone(zone)
            ob = lb.toordinal()
            risky = self._risky.get(ob)
            if risky is None:
                risky = self._near_change(ob)
            if risky:
                iv = _interval(moment, now, zone)
                f = (future, iv.years, iv.months, iv.days, iv.hours, iv.minutes)
            else:
                ta = ((la.hour * 60 + la.minute) * 60 + la.second) * 1_000_000 + la.microsecond
                tb = ((lb.hour * 60 + lb.minute) * 60 + lb.second) * 1_000_000 + lb.microsecond
                ya, ma, da = la.year, la.month, la.day
                yb, mb, db = lb.year, lb.month, lb.day
                months = (yb - ya) * 12 + mb - ma
                if months > 0:
                    day = da if da <= 28 else min(da, _month_days(yb, mb))
                    if day < db or (day == db and ta <= tb):
                        anchor = ob - db + day  # the anchor lies in b's month
                    else:
                        months -= 1
                        if months:
                            py, pm = (yb, mb - 1) if mb > 1 else (yb - 1, 12)
                            length = _month_days(py, pm)
                            anchor = ob - db - length + (da if da <= length else length)
                        else:
                            anchor = la.toordinal()
                else:
                    months, anchor = 0, la.toordinal()
                days = ob - anchor
                rest = tb - ta
                if rest < 0:
                    days -= 1
                    rest += _US_PER_DAY
                hours, minutes = divmod(rest // 60_000_000, 60)
                years, months = divmod(months, 12)
                if not _fields and self.units == 2:  # the common case, keyed without slicing
                    if years:
                        key = (future, 1, years, months)
                    elif months:
                        key = (future, 2, months, days)
                    elif days:
                        key = (future, 3, days, hours)
                    elif hours:
                        key = (future, 4, hours, minutes)
                    else:
                        key = (future, 5, minutes)
                    text = self._cache.get(key)
                    if text is not None:
                        return text
                f = (future, years, months, days, hours, minutes)
        if _fields:
            return f
        units = self.units
        if f[1]:
            key = (f[0], 1, *f[1:1 + units])
        elif f[2]:
            key = (f[0], 2, *f[2:2 + units])
        elif f[3]:
            key = (f[0], 3, *f[3:3 + units])
        elif f[4]:
            key = (f[0], 4, *f[4:4 + units])
        else:
            key = (f[0], 5, f[5])
        text = self._cache.get(key)
        if text is None:
            shown = [0] * 5
            shown[key[1] - 1:key[1] - 1 + len(key) - 2] = key[2:]
            text = self._cache[key] = self.phrases.phrase(Interval(f[0], *shown), units)
        return text


def relative_time(moment: datetime, now: datetime, *, locale: str = "nl", zone: str | tzinfo | None = "UTC",
                  units: int = 2) -> str:
    """`moment` relative to `now`, e.g. "5 jaar 10 maanden geleden"; see the module docstring."""
    return RelativeTime(locale, zone, units)(moment, now)


def supported_locales() -> dict[str, bool]:
    """Every locale in Babel's CLDR data that can be used → whether it gets multi-unit phrases."""
    from babel.localedata import locale_identifiers

    out = {}
    for name in sorted(locale_identifiers()):
        try:
            out[name] = phrases(name).multi_unit
        except UnknownLocale:
            continue
    return out
