"""archive.fetch against the loopback fakes: pagination, since_id, resume after 429, metrics refresh,
no duplicates. The store is archive.store when it exists; the fetch logic is also checked against
a small stand-in that records every upsert (to prove nothing stored is downloaded twice)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from archive.fetch import fetch_account
from archive.sources.mastodon import record as mastodon_record
from archive.sources.x import record as x_record
from campaign.send.platforms import AccountInfo, connect
from tests.fakes.base import Fault
from tests.stage import bluesky_env, mastodon_env, x_env

NOW = datetime.now(timezone.utc)


class Store:
    """What fetch needs of archive.store: upsert_posts and the fetch state (a stand-in)."""

    def __init__(self):
        self.posts, self.states, self.upserts = {}, {}, []

    def upsert_posts(self, db, records, *, source, now):
        inserted = 0
        for record in records:
            key = (record.platform, record.remote_id)
            inserted += key not in self.posts
            self.posts[key] = record
        self.upserts.append([r.remote_id for r in records])
        return {"inserted": inserted, "updated": len(records) - inserted}

    def get_fetch_state(self, db, platform, account):
        return self.states.get((platform, account))

    def set_fetch_state(self, db, platform, account, state, now):
        self.states[(platform, account)] = dict(state)

    def downloaded(self):
        return [i for page in self.upserts for i in page]


def seed(fake, count, *, start_days_ago=400, step=timedelta(hours=5)):
    first = NOW - timedelta(days=start_days_ago)
    return [fake.seed_post(f"bericht {i} #teams", created_at=first + i * step) for i in range(count)]


def x_client(fake):
    return connect(AccountInfo("tas_x", "x", "@" + fake.account.username), x_env(fake))


def mastodon_client(fake):
    return connect(AccountInfo("tas_m", "mastodon", "@" + fake.account.username, fake.url), mastodon_env(fake))


def bluesky_client(fake):
    return connect(AccountInfo("tas_b", "bluesky", fake.account.handle, fake.url), bluesky_env(fake))


# -- X ----------------------------------------------------------------------


def test_x_pages_of_100_then_only_what_is_new(fake_x):
    seed(fake_x, 250)
    store, client = Store(), x_client(fake_x)
    report = fetch_account(None, client, "x", "teamsaantstuur", now=NOW, store=store)
    assert report.complete and report.fetched == 250 and report.new == 250 and report.pages == 3
    calls = fake_x.requests_to("timeline")
    assert [c.query.get("max_results") for c in calls] == [["100"]] * 3
    newest = max(int(p["id"]) for p in fake_x.posts)
    assert store.states[("x", "teamsaantstuur")] == {"since_id": str(newest)}
    fields = calls[0].query["tweet.fields"][0].split(",")
    for name in ("created_at", "public_metrics", "entities", "referenced_tweets", "conversation_id", "lang",
                 "edit_history_tweet_ids"):
        assert name in fields

    fake_x.clear_requests()
    fake_x.seed_post("nieuw", created_at=NOW - timedelta(minutes=5))
    report = fetch_account(None, client, "x", "teamsaantstuur", now=NOW, store=store, refresh_days=0)
    assert report.fetched == 1 and report.new == 1
    assert fake_x.requests_to("timeline")[0].query["since_id"] == [str(newest)]
    assert len(store.downloaded()) == len(set(store.downloaded())) == 251


def limit_on(fake, *calls):
    """Make the fake answer 429 (with a reset) to these timeline requests (1-based, from now on)."""
    for call in calls:
        fake.inject("timeline", Fault.rate_limit(reset_in=600), after=call - 1)


def test_x_resumes_after_429_without_reading_a_page_twice(fake_x):
    seed(fake_x, 250)
    store, client = Store(), x_client(fake_x)
    fetch_account(None, client, "x", "teamsaantstuur", now=NOW, store=store)  # since_id set
    since = store.states[("x", "teamsaantstuur")]["since_id"]
    seed(fake_x, 230, start_days_ago=20, step=timedelta(minutes=30))
    store.upserts.clear()
    fake_x.clear_requests()
    limit_on(fake_x, 1, 3)
    report = fetch_account(None, client, "x", "teamsaantstuur", now=NOW, store=store, refresh_days=0)
    assert not report.complete and report.reset_at is not None and report.fetched == 0
    assert "next run continues" in report.message
    report = fetch_account(None, client, "x", "teamsaantstuur", now=NOW, store=store, refresh_days=0)
    assert not report.complete and report.fetched == 100
    pending = store.states[("x", "teamsaantstuur")]["pending"]
    assert pending["token"] and pending["since_id"] == since
    report = fetch_account(None, client, "x", "teamsaantstuur", now=NOW, store=store, refresh_days=0)
    assert report.complete and report.fetched == 130
    assert len(store.downloaded()) == len(set(store.downloaded())) == 230
    assert "pending" not in store.states[("x", "teamsaantstuur")]
    ok = [c for c in fake_x.requests_to("timeline") if c.status == 200]
    assert ok[-2].query["pagination_token"] == [pending["token"]]  # continued from the kept token
    assert all(c.query["since_id"] == [since] for c in ok)


def test_x_metrics_of_recent_known_posts_are_refreshed(fake_x, monkeypatch):
    old = seed(fake_x, 5, start_days_ago=60, step=timedelta(days=1))
    recent = seed(fake_x, 5, start_days_ago=3, step=timedelta(hours=6))
    store, client = Store(), x_client(fake_x)
    fetch_account(None, client, "x", "teamsaantstuur", now=NOW, store=store)
    likes = {recent[0]["id"]: 7, old[0]["id"]: 9}
    original = type(fake_x)._tweet_json

    def with_likes(self, post, fields):
        data = original(self, post, fields)
        if "public_metrics" in data:
            data["public_metrics"]["like_count"] = likes.get(post["id"], 0)
        return data

    monkeypatch.setattr(type(fake_x), "_tweet_json", with_likes)
    store.upserts.clear()
    report = fetch_account(None, client, "x", "teamsaantstuur", now=NOW, store=store)
    assert report.complete and report.new == 0
    assert store.posts[("x", recent[0]["id"])].metrics["likes"] == 7
    assert store.posts[("x", old[0]["id"])].metrics["likes"] == 0  # outside the 7-day window: not re-read
    assert sorted(store.downloaded()) == sorted(p["id"] for p in recent)


def test_x_record_fields(fake_x):
    parent = fake_x.seed_post("Hallo @bob, kijk op https://publicpapersutrecht.nl/teams #zelfstandigeteams",
                              created_at=NOW - timedelta(days=2))
    fake_x.seed_post("een antwoord", created_at=NOW - timedelta(days=1), reply_to=parent["id"])
    store = Store()
    fetch_account(None, x_client(fake_x), "x", "teamsaantstuur", now=NOW, store=store)
    first = store.posts[("x", parent["id"])]
    assert first.hashtags == ("zelfstandigeteams",) and first.mentions == ("bob",)
    assert first.links[0].expanded_url == "https://publicpapersutrecht.nl/teams"
    assert first.links[0].url.startswith("https://t.co/") and first.text.count("https://t.co/") == 1
    assert first.language == "nl" and first.metrics["likes"] == 0 and first.kind == "post"
    assert first.url == f"https://x.com/teamsaantstuur/status/{parent['id']}"
    reply = [p for k, p in store.posts.items() if k[1] != parent["id"]][0]
    assert reply.kind == "reply" and reply.reply_to_id == parent["id"] and reply.conversation_id == parent["id"]
    assert reply.created_at.tzinfo is not None


def test_x_record_decodes_html_and_reads_edit_history():
    record = x_record({"id": "3", "text": "a &amp; b &lt;c&gt;", "created_at": "2015-01-26T15:45:00.000Z",
                       "edit_history_tweet_ids": ["1", "2", "3"],
                       "referenced_tweets": [{"type": "quoted", "id": "9"}]}, {}, {}, "teamsaantstuur")
    assert record.text == "a & b <c>" and record.edit_history == ("1", "2") and record.kind == "quote"
    assert record.quoted_id == "9" and record.created_at == datetime(2015, 1, 26, 15, 45, tzinfo=timezone.utc)


def test_x_auth_failure_is_reported_not_raised(fake_x):
    seed(fake_x, 3)
    fake_x.inject("timeline", Fault.unauthorized())
    store = Store()
    report = fetch_account(None, x_client(fake_x), "x", "teamsaantstuur", now=NOW, store=store)
    assert not report.complete and "401" in report.error and store.states == {}


# -- Mastodon ---------------------------------------------------------------


def test_mastodon_walks_forward_with_min_id_and_resumes(fake_mastodon):
    seed(fake_mastodon, 95)
    store, client = Store(), mastodon_client(fake_mastodon)
    limit_on(fake_mastodon, 1, 3)
    report = fetch_account(None, client, "mastodon", "teamsaantstuur", now=NOW, store=store)
    assert not report.complete and report.fetched == 0 and report.reset_at is not None
    report = fetch_account(None, client, "mastodon", "teamsaantstuur", now=NOW, store=store)
    assert not report.complete and report.fetched == 40  # page 2 of this run was limited
    report = fetch_account(None, client, "mastodon", "teamsaantstuur", now=NOW, store=store)
    assert report.complete and report.fetched == 55
    assert len(store.downloaded()) == len(set(store.downloaded())) == 95
    newest = max(int(p["id"]) for p in fake_mastodon.posts)
    assert store.states[("mastodon", "teamsaantstuur")] == {"newest_id": str(newest)}
    fake_mastodon.seed_post("nieuw", created_at=NOW - timedelta(minutes=1))
    report = fetch_account(None, client, "mastodon", "teamsaantstuur", now=NOW, store=store, refresh_days=0)
    assert report.fetched == 1 and report.new == 1


def test_mastodon_refreshes_recent_posts_only(fake_mastodon):
    seed(fake_mastodon, 10, start_days_ago=30, step=timedelta(days=3))  # the last ones within 7 days
    store, client = Store(), mastodon_client(fake_mastodon)
    fetch_account(None, client, "mastodon", "teamsaantstuur", now=NOW, store=store)
    store.upserts.clear()
    report = fetch_account(None, client, "mastodon", "teamsaantstuur", now=NOW, store=store)
    recent = [p["id"] for p in fake_mastodon.posts if p["created_at"] >= NOW - timedelta(days=7)]
    assert report.new == 0 and sorted(store.downloaded()) == sorted(recent) and recent


def test_mastodon_record_from_html():
    status = {"id": 5, "created_at": datetime(2015, 1, 26, 15, 45, tzinfo=timezone.utc),
              "content": '<p>Praat mee! <a href="https://publicpapersutrecht.nl/x" rel="nofollow">'
                         '<span class="invisible">https://</span>publicpapersutrecht.nl/x</a> &amp; '
                         '<a href="https://s.example/tags/teams" class="mention hashtag">#<span>teams</span></a>'
                         '</p><p>regel 2</p>',
              "tags": [{"name": "teams"}], "mentions": [], "favourites_count": 2, "reblogs_count": 1,
              "replies_count": 0, "url": "https://s.example/@team/5", "in_reply_to_id": None}
    record = mastodon_record(status, "team@s.example")
    assert record.text == "Praat mee! https://publicpapersutrecht.nl/x & #teams\n\nregel 2"  # paragraphs stay apart
    assert record.links[0].expanded_url == "https://publicpapersutrecht.nl/x"
    assert record.metrics == {"likes": 2, "reposts": 1, "replies": 0} and record.remote_id == "5"


# -- Bluesky ----------------------------------------------------------------


def test_bluesky_cursor_walk_resume_and_no_duplicates(fake_bluesky):
    seed(fake_bluesky, 230, start_days_ago=100, step=timedelta(hours=6))
    store, client = Store(), bluesky_client(fake_bluesky)
    limit_on(fake_bluesky, 2)
    report = fetch_account(None, client, "bluesky", "teamsaantstuur.bsky.social", now=NOW, store=store,
                           refresh_days=0)
    assert not report.complete and report.fetched == 100
    assert store.states[("bluesky", "teamsaantstuur.bsky.social")]["pending"]["cursor"]
    report = fetch_account(None, client, "bluesky", "teamsaantstuur.bsky.social", now=NOW, store=store,
                           refresh_days=0)
    assert report.complete and report.fetched == 130
    assert len(store.downloaded()) == len(set(store.downloaded())) == 230
    fake_bluesky.seed_post("nieuw #teams", created_at=NOW - timedelta(minutes=2))
    report = fetch_account(None, client, "bluesky", "teamsaantstuur.bsky.social", now=NOW, store=store,
                           refresh_days=0)
    assert report.fetched == 1 and report.new == 1
    new = [p for p in store.posts.values() if p.text == "nieuw #teams"][0]
    assert new.url.startswith("https://bsky.app/profile/") and new.metrics["likes"] == 0


def test_bluesky_refresh_window(fake_bluesky):
    seed(fake_bluesky, 20, start_days_ago=18.9, step=timedelta(days=1))
    store, client = Store(), bluesky_client(fake_bluesky)
    fetch_account(None, client, "bluesky", "team", now=NOW, store=store)
    store.upserts.clear()
    report = fetch_account(None, client, "bluesky", "team", now=NOW, store=store, refresh_days=7)
    assert report.complete and report.new == 0
    assert len(store.downloaded()) == len([p for p in fake_bluesky.posts if p["created_at"] >= NOW - timedelta(days=7)])
