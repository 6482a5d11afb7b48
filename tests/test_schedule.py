"""Schedules in Europe/Amsterdam: wall-clock times, DST gaps and overlaps, recurrences, variants."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from campaign.spec.plan import analyse

UTC = timezone.utc
HEADER = """\
timezone: Europe/Amsterdam
accounts:
  t: {platform: mastodon, instance: "https://social.example", handle: "@t@social.example"}
campaigns:
  c:
    accounts: [t]
    posts:
"""


def plan_for(write_posts, posts_yaml: str):
    return analyse(write_posts(HEADER + posts_yaml))


def utc_times(plan):
    return [o.due_at.strftime("%Y-%m-%d %H:%M") for o in plan.occurrences]


@pytest.mark.usefixtures("machine_tz")
def test_spring_forward_gap_is_an_error_naming_both_utc_candidates(write_posts):
    plan = plan_for(write_posts, "      - {text: hallo, at: 2026-03-29 02:30}\n")
    [problem] = plan.problems.errors
    assert "2026-03-29 02:30 does not exist in Europe/Amsterdam" in problem.message
    assert "'fold: earlier' (00:30 UTC" in problem.message and "'fold: later' (01:30 UTC" in problem.message
    assert (problem.mark.line, problem.mark.col) == (8, 27)


@pytest.mark.usefixtures("machine_tz")
def test_autumn_overlap_is_an_error_until_fold_chooses(write_posts):
    ambiguous = plan_for(write_posts, "      - {text: hallo, at: 2026-10-25 02:30}\n")
    [problem] = ambiguous.problems.errors
    assert "2026-10-25 02:30 happens twice in Europe/Amsterdam" in problem.message
    assert "00:30 UTC" in problem.message and "01:30 UTC" in problem.message

    earlier = plan_for(write_posts, "      - {text: hallo, at: 2026-10-25 02:30, fold: earlier}\n")
    later = plan_for(write_posts, "      - {text: hallo, at: 2026-10-25 02:30, fold: later}\n")
    assert utc_times(earlier) == ["2026-10-25 00:30"]
    assert utc_times(later) == ["2026-10-25 01:30"]
    assert earlier.occurrences[0].local_time.utcoffset().total_seconds() == 7200
    assert later.occurrences[0].local_time.utcoffset().total_seconds() == 3600


@pytest.mark.usefixtures("machine_tz")
def test_recurring_wall_clock_time_survives_dst_changes(write_posts):
    plan = plan_for(write_posts, """\
      - text: dagelijks
        every: day
        at: "10:00"
        from: 2026-03-28
        count: 3
""")
    assert plan.ok
    assert [o.local_time.strftime("%d %H:%M %Z") for o in plan.occurrences] == \
        ["28 10:00 CET", "29 10:00 CEST", "30 10:00 CEST"]
    assert utc_times(plan) == ["2026-03-28 09:00", "2026-03-29 08:00", "2026-03-30 08:00"]


def test_recurrence_hitting_the_gap_reports_that_date(write_posts):
    plan = plan_for(write_posts, """\
      - text: nachtelijk
        every: day
        at: "02:30"
        from: 2026-03-27
        until: 2026-03-30
""")
    assert [p.message.split(" does not")[0] for p in plan.problems.errors] == ["2026-03-29 02:30"]
    fixed = plan_for(write_posts, """\
      - text: nachtelijk
        every: day
        at: "02:30"
        fold: later
        from: 2026-03-27
        until: 2026-03-30
""")
    assert fixed.ok and len(fixed.occurrences) == 4


def test_friendly_recurrence_with_weekdays_times_and_until_inclusive(write_posts):
    plan = plan_for(write_posts, """\
      - variants: [een, twee, drie]
        every: week
        on: [ma, do]
        at: ["09:00", "16:30"]
        from: 2027-01-25
        until: 2027-01-28
""")
    assert plan.ok, plan.problems.items
    assert [o.local_time.strftime("%a %d %H:%M") for o in plan.occurrences] == \
        ["Mon 25 09:00", "Mon 25 16:30", "Thu 28 09:00", "Thu 28 16:30"]


def test_variants_rotate_in_order_across_occurrences(write_posts):
    plan = plan_for(write_posts, """\
      - variants: [een, twee, drie]
        every: 2 days
        at: "10:00"
        from: 2027-01-01
        count: 7
""")
    assert [o.text for o in plan.occurrences] == ["een", "twee", "drie", "een", "twee", "drie", "een"]
    assert utc_times(plan)[:2] == ["2027-01-01 09:00", "2027-01-03 09:00"]


def test_rrule_string_with_count(write_posts):
    plan = plan_for(write_posts, """\
      - text: eerste maandag
        rrule: "RRULE:FREQ=MONTHLY;BYDAY=1MO;COUNT=3"
        at: "10:00"
        from: 2027-01-01
""")
    assert plan.ok, plan.problems.items
    assert [o.local_time.strftime("%Y-%m-%d") for o in plan.occurrences] == ["2027-01-04", "2027-02-01", "2027-03-01"]


def test_invalid_rrule_and_every_are_reported(write_posts):
    plan = plan_for(write_posts, """\
      - {text: a, rrule: "FREQ=SOMETIMES", at: "10:00", from: 2027-01-01, count: 2}
      - {text: b, every: fortnight, at: "10:00", from: 2027-01-01, count: 2}
      - {text: c, every: week, on: [someday], at: "10:00", from: 2027-01-01, count: 2}
""")
    messages = [p.message for p in plan.problems.errors]
    assert any("'FREQ=SOMETIMES' is not a valid RRULE" in m for m in messages)
    assert any("every: 'fortnight' is not understood" in m for m in messages)
    assert any("on: 'someday' is not a weekday" in m for m in messages)


def test_at_with_offset_is_refused(write_posts):
    plan = plan_for(write_posts, "      - {text: a, at: '2027-01-18T10:00+01:00'}\n")
    assert any("has a UTC offset" in p.message for p in plan.problems.errors)


def test_occurrences_are_in_time_order_across_campaign_zones(write_posts):
    plan = analyse(write_posts("""\
        timezone: Europe/Amsterdam
        accounts:
          t: {platform: bluesky, handle: t.bsky.social}
        campaigns:
          ams:
            accounts: [t]
            posts: [{text: amsterdam, at: 2027-01-18 10:00}]
          nyc:
            timezone: America/New_York
            accounts: [t]
            posts: [{text: new york, at: 2027-01-18 03:30}]
        """))
    assert [(o.text, o.due_at) for o in plan.occurrences] == [
        ("new york", datetime(2027, 1, 18, 8, 30, tzinfo=UTC)),
        ("amsterdam", datetime(2027, 1, 18, 9, 0, tzinfo=UTC)),
    ]
