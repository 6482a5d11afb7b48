"""The workspace's history of sent posts and its list of problems, with retry, resolve and
acknowledge for editors (issue 14): links only to http(s) addresses, hostile text inert, the
same rules as the CLI, and nothing changed by a viewer or a forged form."""
from __future__ import annotations

import re
import textwrap
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, update

from campaign import people
from campaign.queue.sync import sync
from campaign.queue.tables import scheduled_posts, sent_parts
from campaign.spec.plan import load_plan
from tests.web_support import PASSWORD, client, csrf, make_workspace, sign_in, signed_in_client

posts = scheduled_posts.c

SYNCED = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=timezone.utc)

POSTS_YAML = """\
timezone: Europe/Amsterdam
accounts:
  tas_x:
    platform: x
    handle: "@teamsaantstuur"
  tas_m:
    platform: mastodon
    instance: https://social.example
    handle: "@team@social.example"
campaigns:
  tas:
    name: Teams aan het stuur!
    accounts: [tas_x, tas_m]
    posts:
      - id: daily
        text: "Dagbericht"
        every: day
        at: "10:00"
        from: 2027-01-01
        count: 60
      - id: draad
        thread:
          - "Eerste deel van de draad"
          - "Tweede deel van de draad"
        at: 2027-04-01 12:00
  oog:
    name: Oog op de wijk
    accounts: [tas_m]
    posts:
      - id: wijk
        text: "Kijk mee in de wijk"
        at: 2027-04-02 09:30
"""


@pytest.fixture
def world(db, tmp_path):
    path = tmp_path / "posts.yaml"
    path.write_text(textwrap.dedent(POSTS_YAML), encoding="utf-8")
    sync(db, load_plan(path), SYNCED)
    for role in ("viewer", "editor"):  # (only the roles these tests use: each password hash takes a while)
        people.add(db, role, role, PASSWORD, SYNCED)
    app, _ws = make_workspace(db, posts_file=path, now=NOW)
    return app


def ids(db) -> dict[str, int]:
    """Post key (campaign/post/account[/time]) -> id."""
    with db.transaction() as connection:
        return dict(connection.execute(select(posts.key, posts.id)).all())


def row(db, post_id: int):
    with db.transaction() as connection:
        return connection.execute(select(scheduled_posts).where(posts.id == post_id)).one()


def set_fields(db, where, **values) -> None:
    with db.transaction(write=True) as connection:
        connection.execute(update(scheduled_posts).where(where).values(**values))


def send(db, post_id: int, url: str | None = None, sent_at: datetime | None = None) -> None:
    """Mark a post sent (at its due time unless told) with its URL on the platform."""
    moment = sent_at or row(db, post_id).due_at
    set_fields(db, posts.id == post_id, state="sent", sent_at=moment, remote_url=url,
               remote_id=str(post_id), attempts=1, updated_at=moment)


def daily(db, account: str, day: int) -> int:
    return ids(db)[f"tas/daily/{account}/2027-01-{day:02d}T10:00"]


def post_links(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/posts/(\d+)"', html)]


# --- history -------------------------------------------------------------------------------------

def test_sent_posts_are_listed_newest_first_with_their_links_on_the_platform(world, db):
    first, second = daily(db, "tas_x", 1), daily(db, "tas_m", 2)
    send(db, first, "https://x.com/teamsaantstuur/status/1881")
    send(db, second, "https://social.example/@team/112233")
    thread = ids(db)["tas/draad/tas_m"]
    send(db, thread, "https://social.example/@team/1")
    with db.transaction(write=True) as connection:
        for index in (0, 1):
            connection.execute(insert(sent_parts).values(
                post_id=thread, part_index=index, account="tas_m", remote_id=str(index + 1),
                remote_url=f"https://social.example/@team/{index + 1}", sent_at=row(db, thread).due_at))
    http = signed_in_client(world, "viewer")
    page = http.get("/history")
    assert page.status_code == 200
    html = page.text
    assert post_links(html) == [thread, second, first]
    assert '<a href="https://x.com/teamsaantstuur/status/1881" rel="noopener noreferrer">Openen op X' in html
    assert '<a href="https://social.example/@team/112233" rel="noopener noreferrer">Openen op Mastodon' in html
    assert '<a href="https://social.example/@team/2" rel="noopener noreferrer">Deel 2' in html  # the thread's reply
    # sent at 09:00 UTC, shown in the campaign's zone (Amsterdam: 10:00), in Dutch
    assert "1 jan 2027, 10:00:00" in html
    assert "Teams aan het stuur!" in html and "Eerste deel van de draad" in html
    # account colours: tas_m, tas_x in sorted order
    assert '<span class="acct acct-0">tas_m</span>' in html and '<span class="acct acct-1">tas_x</span>' in html
    assert "3 verzonden berichten" in html


def test_the_history_pages_through_many_posts_fifty_at_a_time(world, db):
    keys = ids(db)
    daily_ids = [post_id for key, post_id in keys.items() if key.startswith("tas/daily/")]
    assert len(daily_ids) == 120
    with db.transaction(write=True) as connection:
        for post_id in daily_ids:
            connection.execute(update(scheduled_posts).where(posts.id == post_id).values(
                state="sent", sent_at=posts.due_at, remote_url=f"https://x.com/t/status/{post_id}", updated_at=NOW))
    with db.transaction() as connection:
        newest_first = [r.id for r in connection.execute(
            select(posts.id).where(posts.state == "sent").order_by(posts.sent_at.desc(), posts.id.desc()))]
    http = signed_in_client(world, "viewer")
    pages = [http.get(f"/history?page={n}") for n in (1, 2, 3)]
    assert [len(post_links(p.text)) for p in pages] == [50, 50, 20]
    assert post_links(pages[0].text) + post_links(pages[1].text) + post_links(pages[2].text) == newest_first
    assert "Pagina 1 van 3" in pages[0].text and "Pagina 2 van 3" in pages[1].text
    assert 'href="/history?page=3" rel="next"' in pages[1].text
    assert 'href="/history?page=1" rel="prev"' in pages[1].text
    assert 'rel="next"' not in pages[2].text
    # filters are kept in the page links
    filtered = http.get("/history?account=tas_x&page=1")
    assert len(post_links(filtered.text)) == 50
    assert 'href="/history?account=tas_x&amp;page=2" rel="next"' in filtered.text
    # past the last page: an empty page that says so; nonsense is page 1
    assert post_links(http.get("/history?page=9").text) == []
    assert post_links(http.get("/history?page=-1").text) == newest_first[:50]
    assert post_links(http.get("/history?page=abc").text) == newest_first[:50]


def test_the_history_filters_by_campaign_account_and_dates(world, db):
    x1, m1, x2, x3 = daily(db, "tas_x", 1), daily(db, "tas_m", 1), daily(db, "tas_x", 2), daily(db, "tas_x", 3)
    wijk = ids(db)["oog/wijk/tas_m"]
    for post_id in (x1, m1, x2, x3, wijk):
        send(db, post_id, f"https://x.com/t/status/{post_id}")
    http = signed_in_client(world, "viewer")
    assert post_links(http.get("/history?campaign=oog").text) == [wijk]
    assert post_links(http.get("/history?campaign=tas&account=tas_x").text) == [x3, x2, x1]
    # days in the campaigns' zone, the end day included
    assert post_links(http.get("/history?from=2027-01-02&until=2027-01-02").text) == [x2]
    assert post_links(http.get("/history?from=2027-01-02").text) == [wijk, x3, x2]
    assert post_links(http.get("/history?until=2027-01-01&account=tas_m").text) == [m1]
    form = http.get("/history?campaign=oog&account=tas_m").text
    assert '<option value="oog" selected>Oog op de wijk</option>' in form
    assert '<option value="tas_m" selected>tas_m</option>' in form
    assert '<label for="filter-from">' in form and '<label for="filter-until">' in form
    wrong = http.get("/history?from=gisteren&campaign=nope")
    assert wrong.status_code == 400
    assert "De begindatum is geen datum" in wrong.text and "Die campagne bestaat niet." in wrong.text
    assert post_links(wrong.text) == []


def test_hostile_urls_and_texts_stay_inert(world, db):
    hostile = daily(db, "tas_x", 1)
    send(db, hostile, "javascript:alert(1)")
    set_fields(db, posts.id == hostile, payload={"parts": [{"text": '<script>alert(1)</script> "onmouseover=alert(2) '
                                                                    '<a href="javascript:alert(3)">klik</a>',
                                                            "media": []}]})
    spaced = daily(db, "tas_x", 2)
    send(db, spaced, "https://x.com/a b")  # not one address
    failed = daily(db, "tas_m", 3)
    set_fields(db, posts.id == failed, state="failed", last_error='<img src=x onerror=alert(4)> "quoted"',
               updated_at=NOW)
    http = signed_in_client(world, "editor")
    html = http.get("/history").text
    assert post_links(html) == [spaced, hostile]
    assert 'href="javascript' not in html and "<script>alert" not in html and "<a href=\"javascript" not in html
    assert "javascript:alert(1)</span>" in html  # shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#34;onmouseover=alert(2)" in html
    assert 'href="https://x.com/a b"' not in html
    problems = http.get("/problems").text
    assert "<img src=x" not in problems and "&lt;img src=x onerror=alert(4)&gt; &#34;quoted&#34;" in problems


def test_the_pages_are_dutch_by_default(world, db):
    http = signed_in_client(world, "viewer")
    history = http.get("/history").text
    assert '<html lang="nl">' in history and "<h1>Geschiedenis</h1>" in history
    assert "Geen verzonden berichten" in history or "0 verzonden berichten" in history
    assert "<h1>Problemen</h1>" in http.get("/problems").text
    english = client(world)
    english.headers["accept-language"] = "en"
    sign_in(english, "viewer")
    assert "<h1>History</h1>" in english.get("/history").text


# --- problems ------------------------------------------------------------------------------------

@pytest.fixture
def problems(world, db):
    """A failed, an unknown and a missed post, one already acknowledged, and a sent one."""
    failed, unknown, missed = daily(db, "tas_x", 1), daily(db, "tas_m", 2), daily(db, "tas_x", 3)
    seen = daily(db, "tas_m", 4)
    set_fields(db, posts.id == failed, state="failed", attempts=3, updated_at=NOW - timedelta(hours=3),
               last_error="gave up after 3 attempts: X answered 503")
    set_fields(db, posts.id == unknown, state="unknown", attempts=1, updated_at=NOW - timedelta(hours=2),
               last_error="timeout: the post may have gone out", in_doubt_since=NOW - timedelta(hours=2))
    set_fields(db, posts.id == missed, state="missed", updated_at=NOW - timedelta(hours=1),
               last_error="missed: more than 30 minutes late")
    set_fields(db, posts.id == seen, state="failed", attempts=3, updated_at=NOW - timedelta(hours=4),
               last_error="account suspended", acknowledged_at=NOW - timedelta(hours=4))
    send(db, daily(db, "tas_m", 5), "https://social.example/@team/5")
    return {"failed": failed, "unknown": unknown, "missed": missed, "seen": seen}


def test_problems_are_listed_with_their_messages(world, db, problems):
    http = signed_in_client(world, "viewer")
    page = http.get("/problems")
    assert page.status_code == 200
    html = page.text
    assert post_links(html) == [problems["missed"], problems["unknown"], problems["failed"]]
    for message in ("gave up after 3 attempts: X answered 503", "timeout: the post may have gone out",
                    "missed: more than 30 minutes late"):
        assert message in html
    assert "3 berichten hebben iemand nodig." in html
    assert "account suspended" not in html
    everything = http.get("/problems?all=1").text
    assert post_links(everything) == [problems["missed"], problems["unknown"], problems["failed"], problems["seen"]]
    assert "account suspended" in everything and "gezien " in everything


def test_a_viewer_sees_no_buttons_and_cannot_post(world, db, problems):
    http = signed_in_client(world, "viewer")
    html = http.get("/problems").text
    assert "/retry" not in html and "/resolve" not in html and "/acknowledge" not in html
    token = csrf(http, "/problems")
    failed = problems["failed"]
    for verb, data in (("retry", {}), ("resolve", {"url": "https://x.com/t/status/1"}), ("acknowledge", {})):
        response = http.post(f"/posts/{failed}/{verb}", data={"csrf": token, **data})
        assert response.status_code == 403, verb
    after = row(db, failed)
    assert (after.state, after.acknowledged_at, after.remote_url) == ("failed", None, None)


def test_a_form_without_the_right_token_changes_nothing(world, db, problems):
    http = signed_in_client(world, "editor")
    failed = problems["failed"]
    assert http.post(f"/posts/{failed}/retry", data={}).status_code == 403
    assert http.post(f"/posts/{failed}/retry", data={"csrf": "forged"}).status_code == 403
    other = signed_in_client(world, "editor")  # another session's token is no good either
    assert http.post(f"/posts/{failed}/acknowledge", data={"csrf": csrf(other, "/problems")}).status_code == 403
    assert client(world).post(f"/posts/{failed}/retry", data={"csrf": "x"}).status_code == 403
    assert row(db, failed).state == "failed" and row(db, failed).acknowledged_at is None


def test_an_editor_retries_a_failed_post(world, db, problems):
    http = signed_in_client(world, "editor")
    page = http.get("/problems").text
    failed = problems["failed"]
    assert f'action="/posts/{failed}/retry"' in page and f'for="resolve-url-{failed}"' in page
    response = http.post(f"/posts/{failed}/retry", data={"csrf": csrf(http, "/problems")})
    assert response.status_code == 303
    assert response.headers["location"] == f"/problems?done=retried&id={failed}"
    after = row(db, failed)
    assert (after.state, after.attempts) == ("queued", 0)
    assert after.last_error.startswith("retry requested at 2027-06-01 12:00 UTC")
    confirmed = http.get(response.headers["location"]).text
    assert f"Bericht #{failed} staat weer in de wachtrij" in confirmed
    assert failed not in post_links(confirmed.split("</p>", 3)[-1])  # listed no more (only in the confirmation)


def test_a_retry_from_the_posts_own_page_returns_there_with_the_outcome(world, db, problems):
    http = signed_in_client(world, "editor")
    failed = problems["failed"]
    response = http.post(f"/posts/{failed}/retry", data={"csrf": csrf(http, f"/posts/{failed}"),
                                                          "next": f"/posts/{failed}"})
    assert response.headers["location"] == f"/posts/{failed}?done=retried&id={failed}"
    assert f"Bericht #{failed} staat weer in de wachtrij" in http.get(response.headers["location"]).text
    evil = http.post(f"/posts/{problems['unknown']}/acknowledge",
                     data={"csrf": csrf(http, "/problems"), "next": "//evil.example/"})
    assert evil.headers["location"].startswith("/?done=acknowledged"), "never back to another site"


def test_retrying_a_post_that_needs_approval_says_it_waits_for_approval(world, db, problems):
    missed = problems["missed"]
    with db.transaction(write=True) as connection:
        connection.execute(update(scheduled_posts).where(scheduled_posts.c.id == missed).values(approvals_needed=1))
    http = signed_in_client(world, "editor")
    response = http.post(f"/posts/{missed}/retry", data={"csrf": csrf(http, "/problems")})
    assert response.headers["location"] == f"/problems?done=retried_awaiting&id={missed}"
    assert row(db, missed).state == "awaiting_approval"
    page = http.get(response.headers["location"]).text
    assert "moet eerst worden goedgekeurd" in page and "staat weer in de wachtrij" not in page


def test_retrying_a_post_in_the_wrong_state_is_refused_with_the_clis_message(world, db, problems):
    http = signed_in_client(world, "editor")
    sent = daily(db, "tas_m", 5)
    response = http.post(f"/posts/{sent}/retry", data={"csrf": csrf(http, "/problems")})
    assert response.status_code == 409
    assert f"De wachtrij nam dit niet aan: post #{sent} is sent; only failed, unknown or missed posts can be retried" \
        in response.text
    assert row(db, sent).state == "sent"
    assert http.post("/posts/999999/retry", data={"csrf": csrf(http, "/problems")}).status_code == 404


def test_resolving_as_sent_records_the_url(world, db, problems):
    http = signed_in_client(world, "editor")
    unknown = problems["unknown"]
    url = "https://social.example/@team/998877"
    response = http.post(f"/posts/{unknown}/resolve", data={"csrf": csrf(http, "/problems"), "url": url, "all": "1"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/problems?all=1&done=sent&id={unknown}"
    after = row(db, unknown)
    assert (after.state, after.remote_url, after.sent_at) == ("sent", url, NOW)
    assert "als verzonden gemarkeerd" in http.get(response.headers["location"]).text
    assert f'href="{url}"' in http.get("/history").text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "", "ftp://example.org/x", "https://", "https://x.com/a b",
                                 "HTTPS://x.com/status/1", "https://x.com/" + "a" * 500])
def test_resolving_with_anything_but_a_web_address_is_refused(world, db, problems, url):
    http = signed_in_client(world, "editor")
    unknown = problems["unknown"]
    before = row(db, unknown)
    response = http.post(f"/posts/{unknown}/resolve", data={"csrf": csrf(http, "/problems"), "url": url})
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert row(db, unknown) == before


def test_an_unknown_post_that_did_not_go_out_is_resolved_as_not_sent(world, db, problems):
    http = signed_in_client(world, "editor")
    unknown = problems["unknown"]
    assert 'name="outcome" value="not_sent"' in http.get("/problems").text
    response = http.post(f"/posts/{unknown}/resolve", data={"csrf": csrf(http, "/problems"), "outcome": "not_sent"})
    assert response.status_code == 303 and "done=not_sent" in response.headers["location"]
    after = row(db, unknown)
    assert after.state == "failed" and after.acknowledged_at == NOW and "not posted" in after.last_error
    assert unknown not in post_links(http.get("/problems").text)


def test_acknowledging_hides_a_problem_from_the_default_list(world, db, problems):
    http = signed_in_client(world, "editor")
    missed = problems["missed"]
    response = http.post(f"/posts/{missed}/acknowledge", data={"csrf": csrf(http, "/problems")})
    assert response.status_code == 303 and response.headers["location"] == f"/problems?done=acknowledged&id={missed}"
    after = row(db, missed)
    assert (after.state, after.acknowledged_at) == ("missed", NOW)
    page = http.get(response.headers["location"]).text
    assert f"Bericht #{missed} is gezien" in page
    assert post_links(page.split("</p>", 1)[1]) == [problems["unknown"], problems["failed"]]
    assert missed in post_links(http.get("/problems?all=1").text)
    again = http.post(f"/posts/{missed}/acknowledge", data={"csrf": csrf(http, "/problems")})
    assert "done=unchanged" in again.headers["location"]


def test_the_confirmation_never_echoes_the_query(world, db, problems):
    http = signed_in_client(world, "viewer")
    for query in ("done=%3Cscript%3E&id=1", "done=retried&id=%3Cb%3E", "done=retried&id=1%22onmouseover"):
        html = http.get(f"/problems?{query}").text
        assert "<script>" not in html and "<b>" not in html and '"onmouseover' not in html
        assert 'role="status"' not in html
        main = html.split('<main id="main" tabindex="-1">', 1)[1]
        assert "script" not in main and "onmouseover" not in main


# --- scale (its speed is measured by `./scripts/bench web`, never timed here) ---------------------------

def test_the_history_pages_through_ten_thousand_sent_posts(world, db):
    start = datetime(2025, 1, 1, 9, 0, tzinfo=timezone.utc)
    rows = [{"key": f"bulk/{n}", "source": "file", "campaign_id": "tas", "post_id": "bulk",
             "account": "tas_x" if n % 2 else "tas_m", "due_at": start + timedelta(minutes=10 * n),
             "local_time": (start + timedelta(minutes=10 * n)).isoformat(), "timezone": "Europe/Amsterdam",
             "late_seconds": 1800, "variant": 0, "payload": {"parts": [{"text": f"Bericht {n}", "media": []}]},
             "content_hash": "x", "state": "sent", "attempts": 1, "remote_url": f"https://x.com/t/status/{n}",
             "sent_at": start + timedelta(minutes=10 * n), "created_at": start, "updated_at": start}
            for n in range(10_000)]
    with db.transaction(write=True) as connection:
        connection.execute(insert(scheduled_posts), rows)
    http = signed_in_client(world, "viewer")
    newest = max(rows, key=lambda r: r["sent_at"])
    first = http.get("/history")
    assert first.status_code == 200
    assert f'href="{newest["remote_url"]}"' in first.text
    last = http.get("/history?page=200")
    assert last.status_code == 200 and len(post_links(last.text)) == 50
    assert "https://x.com/t/status/0\"" in last.text, "the oldest post is on the last page"
    february = http.get("/history?from=2025-02-01&until=2025-02-28&account=tas_x")
    assert february.status_code == 200 and len(post_links(february.text)) == 50
