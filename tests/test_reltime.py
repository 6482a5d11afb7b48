"""archive.reltime: calendar-exact, floored, adjacent-unit relative time in nl, en and CLDR locales."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.reltime import RelativeTime, UnknownLocale, interval, phrases, relative_time, supported_locales

UTC = timezone.utc
AMS = "Europe/Amsterdam"


def u(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args, fold=0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(AMS), fold=fold)


SEED_NOW = local(2020, 11, 27)

# (moment, now, locale, zone, units, expected)
CASES = [
    # the seed
    (u(2015, 1, 26, 15, 45), SEED_NOW, "nl", AMS, 2, "5 jaar 10 maanden geleden"),
    (u(2014, 12, 28, 9), SEED_NOW, "nl", AMS, 2, "5 jaar 10 maanden geleden"),
    (u(2014, 12, 11, 8, 12), SEED_NOW, "nl", AMS, 2, "5 jaar 11 maanden geleden"),
    (u(2015, 1, 26, 15, 45), SEED_NOW, "en", AMS, 2, "5 years 10 months ago"),
    # the issue's strings
    (u(2019, 6, 1), u(2020, 6, 1), "nl", "UTC", 2, "1 jaar geleden"),
    (u(2019, 6, 1), u(2020, 6, 4), "nl", "UTC", 2, "1 jaar geleden"),  # adjacent only: 1 y 0 m 3 d
    (u(2020, 5, 1), u(2020, 6, 4), "nl", "UTC", 2, "1 maand 3 dagen geleden"),
    (u(2020, 5, 1), u(2020, 6, 4), "en", "UTC", 2, "1 month 3 days ago"),
    # just now, both directions, and the one-minute boundary
    (u(2020, 1, 1, 12), u(2020, 1, 1, 12), "nl", "UTC", 2, "zojuist"),
    (u(2020, 1, 1, 12), u(2020, 1, 1, 12, 0, 59), "nl", "UTC", 2, "zojuist"),
    (u(2020, 1, 1, 12), u(2020, 1, 1, 12, 0, 59), "en", "UTC", 2, "just now"),
    (u(2020, 1, 1, 12, 0, 30), u(2020, 1, 1, 12), "en", "UTC", 2, "just now"),
    (u(2020, 1, 1, 12), u(2020, 1, 1, 12, 1), "nl", "UTC", 2, "1 minuut geleden"),
    (u(2020, 1, 1, 12), u(2020, 1, 1, 12, 1), "en", "UTC", 2, "1 minute ago"),
    (u(2020, 1, 1, 12), u(2020, 1, 1, 12, 2, 59), "nl", "UTC", 2, "2 minuten geleden"),
    (u(2020, 1, 1, 12), u(2020, 1, 1, 12, 59, 59), "en", "UTC", 2, "59 minutes ago"),
    # hours and plurals
    (u(2020, 1, 1, 12), u(2020, 1, 1, 13), "nl", "UTC", 2, "1 uur geleden"),
    (u(2020, 1, 1, 12), u(2020, 1, 1, 15, 20), "nl", "UTC", 2, "3 uur 20 minuten geleden"),
    (u(2020, 1, 1, 12), u(2020, 1, 1, 13, 1), "en", "UTC", 2, "1 hour 1 minute ago"),
    (u(2020, 1, 1, 12), u(2020, 1, 1, 14, 2), "en", "UTC", 2, "2 hours 2 minutes ago"),
    (u(2020, 1, 1, 12), u(2020, 1, 1, 23, 59, 59), "nl", "UTC", 2, "11 uur 59 minuten geleden"),
    (u(2020, 1, 1, 12), u(2020, 1, 1, 23, 59, 59), "nl", "UTC", 1, "11 uur geleden"),
    (u(2020, 1, 1, 12), u(2020, 1, 2, 12), "nl", "UTC", 2, "1 dag geleden"),
    (u(2020, 1, 1, 12), u(2020, 1, 2, 11, 59), "nl", "UTC", 2, "23 uur 59 minuten geleden"),
    (u(2020, 1, 1, 12), u(2020, 1, 3, 13), "nl", "UTC", 2, "2 dagen 1 uur geleden"),
    (u(2020, 1, 1, 12), u(2020, 1, 3, 13), "en", "UTC", 2, "2 days 1 hour ago"),
    (u(2020, 1, 1, 12), u(2020, 1, 3, 13, 5), "nl", "UTC", 3, "2 dagen 1 uur 5 minuten geleden"),
    (u(2020, 1, 1, 12), u(2020, 1, 3, 12, 5), "nl", "UTC", 3, "2 dagen geleden"),  # 0 hours ends it
    (u(2020, 1, 1), u(2020, 2, 1), "nl", "UTC", 2, "1 maand geleden"),
    (u(2020, 1, 1), u(2020, 3, 1), "nl", "UTC", 2, "2 maanden geleden"),
    (u(2020, 1, 1), u(2020, 1, 31), "nl", "UTC", 2, "30 dagen geleden"),
    (u(2020, 1, 1), u(2021, 1, 1), "en", "UTC", 2, "1 year ago"),
    (u(2010, 1, 1), u(2021, 1, 1), "en", "UTC", 2, "11 years ago"),
    (u(2010, 1, 1), u(2021, 2, 1), "en", "UTC", 2, "11 years 1 month ago"),
    (u(2010, 1, 1), u(2021, 2, 1), "en", "UTC", 1, "11 years ago"),
    (u(2010, 1, 1), u(2021, 2, 3, 4), "en", "UTC", 4, "11 years 1 month 2 days 4 hours ago"),
    # floored, never rounded: BRIEF's arrow defects
    (u(2020, 10, 1), u(2020, 10, 30), "nl", "UTC", 2, "29 dagen geleden"),  # arrow: "over 0 jaar 0 maanden"
    (u(2014, 12, 2), u(2020, 11, 30, 23), "nl", "UTC", 2, "5 jaar 11 maanden geleden"),  # arrow: "6 jaar 0 maanden"
    (u(2014, 12, 2), u(2020, 12, 1, 23), "nl", "UTC", 2, "5 jaar 11 maanden geleden"),
    (u(2014, 12, 2), u(2020, 12, 2), "nl", "UTC", 2, "6 jaar geleden"),
    # month ends, leap days (relativedelta clips to the month's last day)
    (u(2023, 1, 31), u(2023, 3, 1), "nl", "UTC", 2, "1 maand 1 dag geleden"),
    (u(2024, 1, 31), u(2024, 3, 1), "nl", "UTC", 2, "1 maand 1 dag geleden"),
    (u(2023, 1, 31), u(2023, 2, 28), "nl", "UTC", 2, "1 maand geleden"),  # relativedelta: Jan 31 + 1 month = Feb 28
    (u(2024, 1, 31), u(2024, 2, 29), "nl", "UTC", 2, "1 maand geleden"),
    (u(2024, 1, 31), u(2024, 2, 28), "nl", "UTC", 2, "28 dagen geleden"),
    (u(2023, 1, 31), u(2023, 3, 31), "en", "UTC", 2, "2 months ago"),
    (u(2023, 1, 31), u(2023, 4, 30), "en", "UTC", 2, "3 months ago"),  # Jan 31 + 3 months = Apr 30
    (u(2023, 1, 31), u(2023, 4, 29), "en", "UTC", 2, "2 months 29 days ago"),
    (u(2024, 2, 29), u(2025, 2, 28), "nl", "UTC", 2, "1 jaar geleden"),  # Feb 29 + 1 year = Feb 28
    (u(2024, 2, 29), u(2025, 2, 27), "nl", "UTC", 2, "11 maanden 29 dagen geleden"),
    (u(2024, 2, 29), u(2025, 3, 1), "nl", "UTC", 2, "1 jaar geleden"),  # +1 y clips to Feb 28, then 1 day
    (u(2024, 2, 29), u(2025, 3, 1), "nl", "UTC", 3, "1 jaar geleden"),  # 1 y 0 m 1 d: not adjacent
    (u(2024, 2, 29), u(2025, 3, 30), "nl", "UTC", 3, "1 jaar 1 maand 1 dag geleden"),
    (u(2024, 2, 29), u(2028, 2, 29), "en", "UTC", 2, "4 years ago"),
    (u(2023, 12, 31, 23), u(2024, 1, 1, 1), "en", "UTC", 2, "2 hours ago"),
    # DST: days of 23 and 25 hours are one day; hours within them are real hours
    (local(2024, 3, 30, 12), local(2024, 3, 31, 12), "nl", AMS, 2, "1 dag geleden"),  # 23 h
    (local(2024, 10, 26, 12), local(2024, 10, 27, 12), "nl", AMS, 2, "1 dag geleden"),  # 25 h
    (local(2024, 3, 31, 0), local(2024, 4, 1, 0), "en", AMS, 2, "1 day ago"),
    (local(2024, 3, 31, 1, 30), local(2024, 3, 31, 3, 30), "nl", AMS, 2, "1 uur geleden"),
    (local(2024, 10, 27, 1, 30), local(2024, 10, 27, 3, 30), "nl", AMS, 2, "3 uur geleden"),
    (local(2024, 10, 27, 2, 30), local(2024, 10, 27, 2, 10, fold=1), "en", AMS, 2, "40 minutes ago"),
    (local(2024, 3, 30, 2, 30), local(2024, 3, 31, 3, 15), "en", AMS, 2, "23 hours 45 minutes ago"),
    (local(2024, 3, 30, 12), local(2024, 3, 31, 11, 30), "nl", AMS, 2, "22 uur 30 minuten geleden"),
    # 24.5 real hours on the 25-hour day: the day anchor (12:00 next day) is still ahead, so hours
    (local(2024, 10, 26, 12), local(2024, 10, 27, 11, 30), "nl", AMS, 2, "24 uur 30 minuten geleden"),
    # the zone decides the calendar: 23:30 UTC is already the next day in Amsterdam
    (u(2020, 1, 31, 23, 30), u(2020, 2, 29, 23, 30), "nl", "UTC", 2, "1 maand geleden"),  # Jan 31 + 1 month = Feb 29
    (u(2020, 1, 31, 23, 30), u(2020, 2, 29, 23, 29), "nl", "UTC", 2, "28 dagen 23 uur geleden"),
    (u(2020, 1, 31, 23, 30), u(2020, 2, 29, 23, 30), "nl", AMS, 2, "1 maand geleden"),  # Feb 1 → Mar 1 locally
    (u(2020, 1, 30, 23, 30), u(2020, 2, 29, 23, 30), "nl", AMS, 2, "1 maand 1 dag geleden"),  # Jan 31 → Mar 1
    # future
    (u(2020, 1, 4), u(2020, 1, 1), "nl", "UTC", 2, "over 3 dagen"),
    (u(2020, 1, 4), u(2020, 1, 1), "en", "UTC", 2, "in 3 days"),
    (u(2021, 3, 1, 2), u(2020, 1, 1), "nl", "UTC", 2, "over 1 jaar 2 maanden"),
    (u(2021, 3, 1, 2), u(2020, 1, 1), "en", "UTC", 2, "in 1 year 2 months"),
    (u(2020, 1, 1, 1), u(2020, 1, 1), "nl", "UTC", 2, "over 1 uur"),
    (u(2020, 1, 1, 0, 5), u(2020, 1, 1), "en", "UTC", 2, "in 5 minutes"),
    # other locales, all from CLDR (Babel)
    (u(2015, 1, 26), u(2020, 11, 27), "fr", "UTC", 2, "il y a 5 ans et 10\u00a0mois"),
    (u(2015, 1, 26), u(2020, 11, 27), "es", "UTC", 2, "hace 5 años y 10 meses"),
    (u(2015, 1, 26), u(2020, 11, 27), "de", "UTC", 2, "vor 5 Jahren"),  # case-inflecting: one unit, CLDR's own
    (u(2020, 11, 26), u(2020, 11, 27), "de", "UTC", 2, "vor 1 Tag"),
    (u(2020, 11, 30), u(2020, 11, 27), "de", "UTC", 2, "in 3 Tagen"),
    (u(2015, 1, 26), u(2020, 11, 27), "pl", "UTC", 2, "5 lat temu"),
    (u(2015, 1, 26), u(2020, 11, 27), "tr", "UTC", 2, "5 yıl 10 ay önce"),
    (u(2015, 1, 26), u(2020, 11, 27), "zh", "UTC", 2, "5年10个月前"),
    (u(2020, 1, 1), u(2020, 1, 1), "de", "UTC", 2, "jetzt"),
]


def test_there_are_enough_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("moment, now, locale, zone, units, expected", CASES,
                         ids=[f"{c[2]}-{c[5]}" for c in CASES])
def test_table(machine_tz, moment, now, locale, zone, units, expected):
    assert relative_time(moment, now, locale=locale, zone=zone, units=units) == expected


def test_formatter_reuse_matches_function():
    fmt = RelativeTime("nl", AMS)
    for moment, now, locale, zone, units, expected in CASES:
        if locale == "nl" and zone == AMS and units == 2:
            assert fmt(moment, now) == expected


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        relative_time(datetime(2020, 1, 1), u(2020, 1, 2))


def test_unknown_locale():
    with pytest.raises(UnknownLocale):
        relative_time(u(2020, 1, 1), u(2020, 1, 2), locale="xx_NOPE")


def test_wrappers_come_from_cldr():
    assert phrases("nl").wrappers == {"past": "{0} geleden", "future": "over {0}"}
    assert phrases("en").wrappers == {"past": "{0} ago", "future": "in {0}"}
    assert phrases("fr").wrappers == {"past": "il y a {0}", "future": "dans {0}"}
    assert phrases("de").multi_unit is False


def test_supported_locales():
    supported = supported_locales()
    assert supported["nl"] and supported["en"] and supported["fr"]
    assert supported["de"] is False
    assert len(supported) > 500


# -- properties ---------------------------------------------------------------

instants = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1),
                        timezones=st.just(UTC))


@settings(max_examples=400, deadline=None)
@given(instants, instants)
def test_equals_relativedelta_in_utc(a, b):
    iv = interval(a, b, "UTC")
    low, high = sorted((a, b))
    rd = relativedelta(high, low)
    assert iv.future == (a > b)
    assert (iv.years, iv.months, iv.days, iv.hours, iv.minutes) == (rd.years, rd.months, rd.days, rd.hours,
                                                                   rd.minutes)


def _key(iv):
    return (iv.years, iv.months, iv.days, iv.hours, iv.minutes, iv.seconds)


@settings(max_examples=400, deadline=None)
@given(instants, instants, st.integers(min_value=0, max_value=400 * 24 * 3600),
       st.sampled_from(["UTC", AMS, "America/New_York", "Australia/Lord_Howe"]))
def test_monotone_a_later_now_never_gives_a_smaller_interval(moment, now, extra, zone):
    if now < moment:
        moment, now = now, moment
    later = now + timedelta(seconds=extra)
    assert _key(interval(moment, now, zone)) <= _key(interval(moment, later, zone))


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2023, 3, 20), max_value=datetime(2023, 11, 5), timezones=st.just(UTC)),
       st.integers(min_value=0, max_value=72 * 3600))
def test_monotone_across_amsterdam_dst_changes(moment, step):
    now = moment
    previous = _key(interval(moment, now, AMS))
    for _ in range(40):
        now = now + timedelta(seconds=step // 7 + 59)
        current = _key(interval(moment, now, AMS))
        assert current >= previous
        previous = current


@settings(max_examples=300, deadline=None)
@given(instants, instants)
def test_phrase_has_at_most_two_units_and_no_zero(a, b):
    text = relative_time(a, b, locale="en")
    words = text.split()
    assert "0" not in words
    numbers = [w for w in words if w.isdigit()]
    assert len(numbers) <= 2


@settings(max_examples=1500, deadline=None)
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)),
       st.integers(min_value=-20 * 366 * 86400, max_value=20 * 366 * 86400),
       st.sampled_from(["UTC", AMS, "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]))
def test_fast_path_equals_exact_interval(moment, seconds, zone):
    now = moment + timedelta(seconds=seconds)
    iv = interval(moment, now, zone)
    expected = (iv.future, *iv.fields) if not iv.just_now else (iv.future, 0, 0, 0, 0, 0)
    assert RelativeTime("en", zone).fields(moment, now) == expected


@pytest.mark.parametrize("moment, now", [(c[0], c[1]) for c in CASES])
def test_fast_path_equals_exact_interval_on_the_table(moment, now):
    for zone in ("UTC", AMS):
        iv = interval(moment, now, zone)
        assert RelativeTime("en", zone).fields(moment, now)[1:] == iv.fields
