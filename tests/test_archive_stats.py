"""archive.stats and `archive stats`: zero-filled periods in the zone's calendar (across year ends, ISO
week 53 and DST), per account and campaign, engagement, top posts, top entities; SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from archive.cli import main
from archive.records import ArchivedPost, Link, PostFilter
from archive.stats import (METRICS, collect, compute, day_starts, period_key, period_of, periods_between)
from archive.store import upsert_posts
from campaign.queue import tables as campaign_tables
from tests.archive_fixtures import seed_tweets, write_x_zip, x_archive_files

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def post(remote_id, at, *, account="teamsaantstuur", kind="post", **fields) -> ArchivedPost:
    return ArchivedPost("x", str(remote_id), account, at, fields.pop("text", f"post {remote_id}"), kind=kind, **fields)


def store(archive, posts):
    upsert_posts(archive, posts, source="test", now=NOW)


def link_to_campaign(archive, remote_ids, campaign="tas", account="tas_x"):
    """Record in the campaign queue that it sent these posts (so the archive links them at query time)."""
    with archive.transaction(write=True) as connection:
        if not connection.execute(campaign_tables.accounts.select()).first():
            connection.execute(insert(campaign_tables.accounts).values(
                name=account, platform="x", handle="@teamsaantstuur", updated_at=NOW))
        connection.execute(insert(campaign_tables.campaigns).values(
            id=campaign, name=f"<b>{campaign}</b>", timezone="Europe/Amsterdam", updated_at=NOW))
        for number, remote_id in enumerate(remote_ids):
            post_id = connection.execute(insert(campaign_tables.scheduled_posts).values(
                key=f"{campaign}/p{number}/{account}", source="file", campaign_id=campaign, post_id=f"p{number}",
                account=account, due_at=NOW, local_time="2015-01-27T11:00+01:00", timezone="Europe/Amsterdam",
                late_seconds=3600, variant=0, payload={}, content_hash="0" * 64, state="sent", attempts=1,
                remote_id=remote_id, sent_at=NOW, created_at=NOW, updated_at=NOW)).inserted_primary_key[0]
            connection.execute(insert(campaign_tables.sent_parts).values(
                post_id=post_id, part_index=0, account=account, remote_id=remote_id, sent_at=NOW))


def per_period(stats) -> dict[str, int]:
    return {p.key: t.posts for p, t in zip(stats.periods, stats.per_period)}


# -- periods, without a database ------------------------------------------------------------------------


def test_weeks_run_across_the_year_end_and_through_week_53():
    assert [p.key for p in periods_between(date(2014, 12, 10), date(2015, 1, 6), "week")] == [
        "2014-W50", "2014-W51", "2014-W52", "2015-W01", "2015-W02"]
    weeks = periods_between(date(2015, 12, 24), date(2016, 1, 11), "week")
    assert [p.key for p in weeks] == ["2015-W52", "2015-W53", "2016-W01", "2016-W02"]
    assert (weeks[1].first_day, weeks[1].last_day) == (date(2015, 12, 28), date(2016, 1, 3))
    assert [p.key for p in periods_between(date(2014, 11, 30), date(2015, 2, 1), "month")] == [
        "2014-11", "2014-12", "2015-01", "2015-02"]
    assert period_of(date(2016, 2, 10), "month").last_day == date(2016, 2, 29)


def test_local_days_are_23_or_25_hours_long_across_dst():
    starts = day_starts(date(2015, 3, 28), 3, AMS)
    assert [(b - a).total_seconds() / 3600 for a, b in zip(starts, starts[1:])] == [24, 23, 24]
    assert starts[1] == utc(2015, 3, 28, 23)  # 29 March begins at midnight CET
    assert starts[2] == utc(2015, 3, 29, 22)  # 30 March at midnight CEST
    starts = day_starts(date(2015, 10, 25), 1, AMS)
    assert (starts[1] - starts[0]) == timedelta(hours=25)


def test_a_missing_midnight_and_a_skipped_day():
    # São Paulo moved its clocks from 00:00 to 01:00 on 4 November 2018: that day began at 01:00 (-02:00).
    starts = day_starts(date(2018, 11, 3), 2, ZoneInfo("America/Sao_Paulo"))
    assert starts[1] == utc(2018, 11, 4, 3)
    assert starts[1].astimezone(ZoneInfo("America/Sao_Paulo")).date() == date(2018, 11, 4)
    # Samoa skipped 30 December 2011 altogether: an empty day, the boundaries never go back.
    starts = day_starts(date(2011, 12, 29), 3, ZoneInfo("Pacific/Apia"))
    assert starts[1] == starts[2] and starts == sorted(starts)


# -- in the database ------------------------------------------------------------------------------------


def test_weeks_are_zero_filled_across_a_year_end(archive):
    store(archive, [post(1, utc(2014, 12, 10, 12)), post(2, utc(2015, 1, 7, 12)), post(3, utc(2015, 1, 8, 12))])
    stats = compute(archive, period="week", zone=AMS)
    assert per_period(stats) == {"2014-W50": 1, "2014-W51": 0, "2014-W52": 0, "2015-W01": 0, "2015-W02": 2}
    assert [(p.first_day, p.last_day) for p in stats.periods][:1] == [(date(2014, 12, 8), date(2014, 12, 14))]
    months = compute(archive, period="month", zone=AMS)
    assert per_period(months) == {"2014-12": 1, "2015-01": 2}
    ranged = compute(archive, PostFilter(since=utc(2014, 10, 31, 23), until=utc(2015, 3, 31, 22)), period="month",
                     zone=AMS)
    assert per_period(ranged) == {"2014-11": 0, "2014-12": 1, "2015-01": 2, "2015-02": 0, "2015-03": 0}


def test_the_timezone_decides_the_period_of_a_post_at_2330_utc(archive):
    store(archive, [post(1, utc(2015, 1, 31, 23, 30)),  # Sunday 1 February 00:30 in Amsterdam
                    post(2, utc(2015, 3, 29, 22, 30)),  # Monday 30 March 00:30 CEST (summer time since 02:00)
                    post(3, utc(2015, 3, 28, 22, 30))])  # Saturday 23:30 CET
    amsterdam = compute(archive, period="month", zone=AMS)
    assert per_period(amsterdam) == {"2015-02": 1, "2015-03": 2}
    assert per_period(compute(archive, period="month", zone=timezone.utc)) == {"2015-01": 1, "2015-02": 0,
                                                                               "2015-03": 2}
    weeks = per_period(compute(archive, period="week", zone=AMS))
    assert weeks["2015-W13"] == 1 and weeks["2015-W14"] == 1  # an offset of +1 hour would put both in W13
    assert per_period(compute(archive, period="week", zone=timezone.utc))["2015-W13"] == 2


def test_periods_match_the_python_calendar_around_every_dst_change(archive):
    """Posts at random minutes, crowded around the DST changes and year ends of 2014-2016: each lands in
    the day, week and month zoneinfo says."""
    rng = random.Random(15)
    edges = [utc(2014, 3, 30, 1), utc(2014, 10, 26, 1), utc(2015, 3, 29, 1), utc(2015, 10, 25, 1),
             utc(2016, 3, 27, 1), utc(2016, 10, 30, 1), utc(2014, 12, 31, 23), utc(2015, 12, 31, 23)]
    moments = [edge + timedelta(minutes=rng.randint(-26 * 60, 26 * 60)) for edge in edges for _ in range(25)]
    moments += [utc(2014, 1, 1) + timedelta(minutes=rng.randint(0, 3 * 366 * 24 * 60)) for _ in range(150)]
    store(archive, [post(n, moment) for n, moment in enumerate(moments)])
    for zone in (AMS, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata"), timezone.utc):
        for period in ("day", "week", "month"):
            expected = Counter(period_key(moment, period, zone) for moment in moments)
            found = {k: v for k, v in per_period(compute(archive, period=period, zone=zone)).items() if v}
            assert found == dict(expected), (zone, period)


def test_kinds_engagement_accounts_and_campaigns(archive):
    store(archive, [
        post(1, utc(2015, 1, 5, 10), metrics={"likes": 3, "reposts": 1, "replies": 2, "quotes": 1}),
        post(2, utc(2015, 1, 6, 10), kind="reply", metrics={"likes": 1}),
        post(3, utc(2015, 1, 7, 10), kind="repost", metrics={"likes": 500, "reposts": 90}),  # someone else's
        post(4, utc(2015, 2, 7, 10), kind="quote", metrics={"likes": 2, "quotes": 4}),
        post(5, utc(2015, 2, 8, 10), account="ander", metrics={"likes": 7}),
        post(6, utc(2015, 2, 9, 10), metrics={"likes": "veel", "reposts": [1], "replies": {"x": 1}}),
    ])
    link_to_campaign(archive, ["1", "4"])
    stats = compute(archive, period="month", zone=AMS)
    assert stats.totals.posts == 6
    assert stats.totals.kinds == {"post": 3, "reply": 1, "repost": 1, "quote": 1}
    assert (stats.totals.likes, stats.totals.reposts, stats.totals.replies, stats.totals.quotes) == (13, 1, 2, 5)
    assert stats.totals.engagement == 21
    january, february = stats.per_period
    assert (january.posts, january.kinds["repost"], january.engagement) == (3, 1, 8)
    assert (february.posts, february.likes, february.quotes) == (3, 9, 4)
    accounts = {a.account: (a.totals.posts, a.totals.engagement) for a in stats.accounts}
    assert accounts == {"teamsaantstuur": (5, 14), "ander": (1, 7)}
    assert stats.accounts[0].account == "teamsaantstuur"
    assert [t.posts for t in stats.accounts[0].per_period] == [3, 2]
    campaigns = {c: (t.posts, t.kinds["quote"], t.likes, t.quotes, t.engagement) for c, t in stats.campaigns}
    assert campaigns == {"tas": (2, 1, 5, 5, 13), None: (4, 0, 8, 0, 8)}
    only = compute(archive, PostFilter(campaign="tas"), period="month", zone=AMS)
    assert only.totals.posts == 2 and [c for c, _ in only.campaigns] == ["tas"]
    assert per_period(only) == {"2015-01": 1, "2015-02": 1} and only.top_posts[0].remote_id == "1"
    assert per_period(compute(archive, PostFilter(campaign="tas"), period="week", zone=AMS))["2015-W06"] == 1
    assert compute(archive, PostFilter(accounts=("Ander",)), zone=AMS).totals.likes == 7


@pytest.mark.parametrize("per_account", [True, False], ids=["read-per-account", "grouped-per-day"])
def test_accounts_sharing_a_handle_and_many_accounts_are_counted_apart(archive, monkeypatch, per_account):
    """One handle on two platforms and in two spellings stays three accounts; more accounts than
    are counted one by one (archive.stats.ACCOUNTS_APART) give the same numbers as a few. SQLite
    reads a few accounts' days one account at a time when the archive is dense enough
    (PER_ACCOUNT_DAY), else groups each day's posts: both ways count alike."""
    from archive import stats

    monkeypatch.setattr(stats, "PER_ACCOUNT_DAY", 0 if per_account else 10 ** 9)
    day = utc(2015, 3, 2, 10)
    shared = [post(1, day, metrics={"likes": 1}), post(2, day, account="TeamsAanTStuur", metrics={"likes": 2}),
              replace(post(3, day, kind="reply", metrics={"likes": 4, "quotes": 1}), platform="mastodon"),
              post(4, day + timedelta(days=1), metrics={"likes": 8}),
              post(5, day + timedelta(days=1), kind="repost", metrics={"likes": 80})]
    many = [post(100 + n, day + timedelta(days=n % 3), account=f"ander{n}", kind="quote" if n % 2 else "post",
                 metrics={"likes": n, "replies": str(n)}) for n in range(stats.ACCOUNTS_APART + 2)]
    store(archive, shared)
    found = {(a.platform, a.account): (a.totals.posts, a.totals.likes, a.totals.quotes, [t.posts for t in a.per_period])
             for a in compute(archive, period="day", zone=AMS).accounts}
    assert found == {("x", "teamsaantstuur"): (3, 9, 0, [1, 2]), ("x", "TeamsAanTStuur"): (1, 2, 0, [1, 0]),
                     ("mastodon", "teamsaantstuur"): (1, 4, 1, [1, 0])}
    one = compute(archive, PostFilter(accounts=("TEAMSAANTSTUUR",), platform="x"), period="day", zone=AMS)
    assert {(a.account, a.totals.posts) for a in one.accounts} == {("teamsaantstuur", 3), ("TeamsAanTStuur", 1)}
    store(archive, many)
    stats_of_all = compute(archive, period="day", zone=AMS)
    assert stats_of_all.totals.posts == len(shared) + len(many)
    assert stats_of_all.totals.likes == 15 + sum(range(stats.ACCOUNTS_APART + 2))
    assert stats_of_all.totals.replies == sum(range(stats.ACCOUNTS_APART + 2))
    assert {a.account: a.totals.kinds["quote"] for a in stats_of_all.accounts if a.account.startswith("ander")} == {
        f"ander{n}": n % 2 for n in range(stats.ACCOUNTS_APART + 2)}
    few = compute(archive, PostFilter(accounts=("ander1", "@ANDER2")), period="day", zone=AMS)
    assert [(a.account, a.totals.likes, a.totals.replies, a.per_period[1].posts) for a in few.accounts] == [
        ("ander1", 1, 1, 0), ("ander2", 2, 2, 1)]
    assert [p.remote_id for p in few.top_posts] == ["102", "101"]


def test_both_ways_of_counting_days_agree_on_a_random_archive(archive, monkeypatch):
    from archive import stats

    rng = random.Random(15)
    accounts = ["teamsaantstuur", "gemeenteutrecht", "team@social.example"]
    store(archive, [post(n, utc(2015, 3, 1) + timedelta(hours=rng.randint(0, 24 * 60)), account=rng.choice(accounts),
                         kind=rng.choice(["post", "reply", "repost", "quote"]),
                         metrics={name: rng.randint(0, 40) for name in METRICS if rng.random() < 0.8})
                    for n in range(400)])
    found = []
    for per_account_day in (0, 10 ** 9):
        monkeypatch.setattr(stats, "PER_ACCOUNT_DAY", per_account_day)
        found.append([compute(archive, post_filter, period="week", zone=AMS).as_dict(AMS) for post_filter in (
            PostFilter(), PostFilter(accounts=("gemeenteutrecht",), since=utc(2015, 3, 10), until=utc(2015, 4, 2)),
            PostFilter(kinds=("post", "quote")))])
    assert found[0] == found[1]


def test_top_posts_by_engagement_match_a_full_sort(archive):
    rng = random.Random(7)
    posts = []
    for n in range(400):
        kind = rng.choice(["post", "post", "reply", "repost", "quote"])
        metrics = {name: rng.choice([0, 0, 1, 2, 5, rng.randint(0, 60)]) for name in METRICS if rng.random() < 0.9}
        posts.append(post(n, utc(2014, 6, 1) + timedelta(hours=rng.randint(0, 24 * 500)), kind=kind, metrics=metrics))
    store(archive, posts)

    def engagement(p):
        return sum(int(p.metrics.get(name, 0)) for name in METRICS)

    own = [p for p in posts if p.kind != "repost"]
    for top in (1, 5, 12):
        expected = sorted(own, key=lambda p: (-engagement(p), -p.created_at.timestamp(), p.remote_id))[:top]
        found = collect(archive, zone=AMS, top=top).top_posts
        assert [(p.remote_id, p.engagement) for p in found] == [(p.remote_id, engagement(p)) for p in expected]
    replies = collect(archive, PostFilter(kinds=("reply",)), zone=AMS, top=3).top_posts
    assert {p.kind for p in replies} == {"reply"}


def test_top_posts_keep_to_from_and_until_within_a_day_and_know_their_campaign(archive):
    # --from and --until in the middle of local days: the best posts of those days lie outside them.
    store(archive, [post(1, utc(2015, 3, 2, 7), metrics={"likes": 90}),
                    post(2, utc(2015, 3, 2, 12), metrics={"likes": 5}),
                    post(3, utc(2015, 3, 4, 9), metrics={"likes": 7}),
                    post(4, utc(2015, 3, 4, 20), metrics={"likes": 80}),
                    post(5, utc(2015, 3, 3, 12), metrics={"likes": 7, "quotes": 1}, kind="repost")])
    link_to_campaign(archive, ["3"])
    window = PostFilter(since=utc(2015, 3, 2, 10), until=utc(2015, 3, 4, 12))
    found = collect(archive, window, zone=AMS, top=5).top_posts
    assert [(p.remote_id, p.engagement, p.campaign) for p in found] == [("3", 7, "tas"), ("2", 5, None)]
    assert [p.remote_id for p in collect(archive, zone=AMS, top=2).top_posts] == ["1", "4"]


def test_top_hashtags_mentions_links_count_posts_and_leave_out_deleted_ones(archive):
    store(archive, [
        post(1, utc(2015, 1, 5), hashtags=("Zelf", "zelf"), mentions=("Leo",),
             links=(Link("https://t.co/a", "https://e.nl"), Link("https://t.co/b", "https://e.nl"))),
        post(2, utc(2015, 1, 6), hashtags=("ZELF", "utrecht"), links=(Link("https://t.co/c"),)),
        post(3, utc(2015, 1, 7), account="ander", hashtags=("utrecht",), mentions=("leo", "ann")),
        post(4, utc(2015, 1, 8), hashtags=("weg",), mentions=("ann",), deleted_at=utc(2016, 1, 1),
             links=(Link("https://t.co/d", "https://e.nl"), Link("https://t.co/e", "https://e.nl"),
                    Link("https://t.co/f", "https://e.nl"))),
    ])
    everything = collect(archive, zone=AMS)
    assert everything.hashtags == [("utrecht", 2), ("zelf", 2)]
    assert everything.mentions == [("leo", 2), ("ann", 1)]
    assert everything.links == [("https://e.nl", 1), ("https://t.co/c", 1)]
    with_deleted = collect(archive, PostFilter(include_deleted=True), zone=AMS)
    assert ("weg", 1) in with_deleted.hashtags and with_deleted.mentions == [("ann", 2), ("leo", 2)]
    assert with_deleted.links == [("https://e.nl", 2), ("https://t.co/c", 1)]  # once per post, deleted or not
    one = collect(archive, PostFilter(accounts=("teamsaantstuur",)), zone=AMS, top=1)
    assert (one.hashtags, one.mentions) == ([("zelf", 2)], [("leo", 1)])
    tagged = collect(archive, PostFilter(hashtag="#Utrecht"), zone=AMS)  # the filter's EXISTS and the join
    assert (tagged.hashtags, tagged.mentions) == ([("utrecht", 2), ("zelf", 1)], [("ann", 1), ("leo", 1)])


def test_a_hashtag_filter_counts_the_same_for_a_rare_and_a_common_tag(archive):
    """A rare tag's posts are looked up by the tag's index, a common one's checked post by post
    (SQLite): the numbers must not depend on the way."""
    rng = random.Random(15)
    posts = []
    for n in range(240):
        tags = ("Vaak",) * (n % 2 == 0) + ("zelden",) * (n in (5, 77, 201)) + ("Ander",) * (n % 3 == 0)
        posts.append(post(n, utc(2014, 12, 20) + timedelta(hours=rng.randint(0, 24 * 40)), hashtags=tags,
                          kind=rng.choice(["post", "reply", "repost"]), metrics={"likes": rng.randint(0, 9)},
                          deleted_at=utc(2016, 1, 1) if n == 4 else None))
    store(archive, posts)
    for tag in ("#VAAK", "zelden", "nergens"):
        name = tag.lstrip("#").lower()
        wanted = [p for p in posts if name in {t.lower() for t in p.hashtags} and p.deleted_at is None]
        stats = compute(archive, PostFilter(hashtag=tag), period="week", zone=AMS, top=3)
        weeks = Counter(period_key(p.created_at, "week", AMS) for p in wanted)
        assert {k: v for k, v in per_period(stats).items() if v} == dict(weeks)
        assert stats.totals.likes == sum(p.metrics["likes"] for p in wanted if p.kind != "repost")
        assert stats.totals.kinds["repost"] == sum(p.kind == "repost" for p in wanted)
        assert stats.accounts[0].totals.posts == len(wanted) if wanted else stats.accounts == []
        assert dict(stats.hashtags).get(name) == (len(wanted) or None)


def test_nothing_selected(archive):
    stats = compute(archive, zone=AMS)
    assert (stats.posts, stats.periods, stats.top_posts, stats.hashtags) == (0, [], [], [])
    store(archive, [post(1, utc(2015, 1, 5))])
    empty = compute(archive, PostFilter(since=utc(2016, 1, 1), until=utc(2016, 2, 29, 23)), zone=AMS)
    assert per_period(empty) == {"2016-01": 0, "2016-02": 0} and empty.campaigns == []


# -- the command ----------------------------------------------------------------------------------------


def _seed(tmp_path, url):
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(write_x_zip(tmp_path / "a.zip", x_archive_files(seed_tweets()))),
                                  "--db", url])
    assert result.exit_code == 0, result.output
    return runner


def test_stats_json_keeps_its_keys_and_adds_new_ones(tmp_path, database_url):
    runner = _seed(tmp_path, database_url)
    data = json.loads(runner.invoke(main, ["stats", "--db", database_url, "--format", "json"]).stdout)
    assert data["posts"] == 7 and data["period"] == "month"
    assert data["top_hashtags"][0] == {"hashtag": "zelfstandigeteams", "posts": 2}
    assert {r["period"]: r["posts"] for r in data["per_period"]} == {"2014-12": 1, "2015-01": 6}
    assert {"kinds", "top_mentions", "top_links", "campaigns"} <= set(data)
    assert data["timezone"] == "Europe/Amsterdam" and data["engagement"] == sum(data[m] for m in METRICS)
    first = data["per_period"][0]
    assert set(first) == {"period", "first_day", "last_day", "posts", "kinds", *METRICS, "engagement"}
    assert data["campaigns"] == [{"campaign": None, "posts": 7, "kinds": data["kinds"],
                                  **{m: data[m] for m in METRICS}, "engagement": data["engagement"]}]
    assert data["accounts"][0]["account"] == "teamsaantstuur" and len(data["accounts"][0]["per_period"]) == 2
    top = data["top_posts"][0]
    assert top["engagement"] == max(p["engagement"] for p in data["top_posts"])
    assert top["created_at"].endswith("Z") and top["created_local"].endswith(("+01:00", "+02:00"))
    # Written as json.dumps(indent=2, ensure_ascii=False) writes it, hostile text too
    from archive.commands.stats import json_text

    assert runner.invoke(main, ["stats", "--db", database_url, "--format", "json"]).stdout == json.dumps(
        data, ensure_ascii=False, indent=2) + "\n"
    for text in ("é 🎉 \"q\" \\ \t\n\r\x00\x7f\u2028", "half a pair: \ud83c"):
        value = {"text": text, "empty": [], "nested": [{}], "none": None}
        assert json_text(value) == json.dumps(value, ensure_ascii=False, indent=2)


def test_stats_csv_is_wide_one_row_per_period(tmp_path, database_url):
    runner = _seed(tmp_path, database_url)
    out = runner.invoke(main, ["stats", "--db", database_url, "--format", "csv", "--by", "week"]).stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["period", "first_day", "last_day", "posts", "post", "reply", "repost", "quote", *METRICS,
                       "engagement"]
    weeks = [row[0] for row in rows[1:]]
    assert weeks == ["2014-W52", "2015-W01", "2015-W02", "2015-W03", "2015-W04", "2015-W05"]
    assert [int(row[3]) for row in rows[1:]] == [1, 0, 0, 0, 2, 4] and rows[2][1:3] == ["2014-12-29", "2015-01-04"]
    hashtags = list(csv.reader(io.StringIO(runner.invoke(
        main, ["stats", "--db", database_url, "--format", "csv", "--section", "hashtags"]).stdout)))
    assert hashtags[:2] == [["hashtag", "posts"], ["zelfstandigeteams", "2"]]
    excel = runner.invoke(main, ["stats", "--db", database_url, "--format", "csv", "--section", "posts", "--excel"])
    assert excel.stdout_bytes.startswith("\ufeff".encode()) and excel.stdout.splitlines()[0].startswith("\ufeffrank;")
    assert '"=""55' in excel.stdout  # X ids stay exact in Excel


def test_stats_table_and_filters(tmp_path, database_url):
    runner = _seed(tmp_path, database_url)
    table = runner.invoke(main, ["stats", "--db", database_url, "--kind", "reply"])
    assert table.exit_code == 0 and table.stdout.startswith("1 posts") and "@moniquedenb" in table.stdout
    weeks = runner.invoke(main, ["stats", "--db", database_url, "--by", "week", "--from", "2015-01-01",
                                 "--until", "2015-01-31", "--timezone", "UTC"])
    assert "2015-W01" in weeks.stdout and "2015-W05" in weeks.stdout and "2014-W52" not in weeks.stdout
    searched = json.loads(runner.invoke(main, ["stats", "--db", database_url, "--search", "#zelfstandigeteams",
                                               "--format", "json"]).stdout)  # read once, not per day
    assert searched["posts"] == 2 and searched["top_hashtags"][0] == {"hashtag": "zelfstandigeteams", "posts": 2}
    bad = runner.invoke(main, ["stats", "--db", database_url, "--timezone", "Mars/Olympus"])
    assert bad.exit_code == 2
