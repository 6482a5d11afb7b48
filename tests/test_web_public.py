"""The seed's widget, live: /public/<account> without signing in, rendered at request time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lxml import html as lxml_html

from archive.records import ArchivedPost
from campaign.queue.sync import sync
from campaign.spec.plan import load_plan
from tests.web_support import client, make_workspace

POSTS = """\
timezone: Europe/Amsterdam
accounts:
  tas_x: {platform: x, handle: "@teamsaantstuur"}
  tas_m: {platform: mastodon, instance: "https://social.example", handle: "@team@social.example"}
campaigns:
  tas:
    accounts: [tas_x]
    posts:
      - {id: een, text: 'Praat mee!', at: 2031-01-18 10:00}
"""
NOW = datetime(2020, 11, 27, 12, 0, tzinfo=timezone.utc)


def post(remote_id: str, text: str, created: datetime, account: str = "teamsaantstuur", platform: str = "x",
         **more) -> ArchivedPost:
    return ArchivedPost(platform=platform, remote_id=remote_id, account=account, created_at=created, text=text,
                        url=f"https://x.com/{account}/status/{remote_id}" if platform == "x" else None, **more)


@pytest.fixture
def app(db, tmp_path):
    from archive.store import migrate, upsert_posts

    posts_file = tmp_path / "posts.yaml"
    posts_file.write_text(POSTS, encoding="utf-8")
    sync(db, load_plan(posts_file), NOW)
    migrate(db)
    upsert_posts(db, [
        post("1", "Mijn eerste tweetje #stadskantoor030", datetime(2015, 1, 2, 9, 0, tzinfo=timezone.utc)),
        post("2", "Praat mee: <script>alert(1)</script> javascript:alert(1)",
             datetime(2015, 1, 20, 9, 0, tzinfo=timezone.utc)),
        post("3", "Iemand anders", datetime(2015, 1, 21, 9, 0, tzinfo=timezone.utc), account="iemandanders"),
        post("m1", "Openbaar", datetime(2015, 1, 22, 9, 0, tzinfo=timezone.utc), account="team@social.example",
             platform="mastodon", raw={"visibility": "public"}),
        post("m2", "Alleen voor volgers", datetime(2015, 1, 23, 9, 0, tzinfo=timezone.utc),
             account="team@social.example", platform="mastodon", visibility="followers", raw={"visibility": "private"}),
    ], source="test", now=NOW)
    application, ws = make_workspace(db, posts_file=posts_file, now=NOW)
    application.state.ws = ws
    return application


def texts(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    return [" ".join(item.text_content().split()) for item in tree.xpath("//li[@class='praatmee-post']")]


def test_the_widget_needs_no_sign_in_and_shows_the_seeds_relative_times(app):
    response = client(app).get("/public/teamsaantstuur")
    assert response.status_code == 200
    assert texts(response.text) == [
        "@teamsaantstuur Praat mee: <script>alert(1)</script> javascript:alert(1) 5 jaar 10 maanden geleden",
        "@teamsaantstuur Mijn eerste tweetje #stadskantoor030 5 jaar 10 maanden geleden"]
    assert response.headers["cache-control"] == "public, max-age=60"
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers, "another site may show it in an iframe"
    tree = lxml_html.fromstring(response.text)
    assert tree.xpath("//script") == [] and not [a for a in tree.xpath("//a/@href") if not a.startswith("https://")]


def test_the_times_stay_true_as_the_years_pass_after_a_minutes_cache(app):
    http = client(app)
    assert "5 jaar 10 maanden geleden" in http.get("/public/tas_x").text  # by posts.yaml name too
    app.state.ws.clock.moment += timedelta(days=366)
    assert "5 jaar 10 maanden geleden" in http.get("/public/tas_x").text, "kept for a minute"
    from web import public

    public._cache.clear()  # as a minute passing does
    assert "6 jaar 10 maanden geleden" in http.get("/public/tas_x").text


def test_the_fragment_is_the_bare_section_for_other_sites(app):
    response = client(app).get("/public/teamsaantstuur/fragment?limit=1&lang=en")
    assert response.status_code == 200 and response.text.startswith("<section")
    assert texts(response.text) == [
        "@teamsaantstuur Praat mee: <script>alert(1)</script> javascript:alert(1) 5 years 10 months ago"]
    assert response.headers["access-control-allow-origin"] == "*"


def test_only_public_posts_of_the_teams_own_accounts(app):
    http = client(app)
    assert texts(http.get("/public/tas_m").text) == ["@team@social.example Openbaar 5 jaar 10 maanden geleden"]
    assert http.get("/public/iemandanders").status_code == 404, "an archived stranger is not ours to publish"
    assert http.get("/public/nobody").status_code == 404
