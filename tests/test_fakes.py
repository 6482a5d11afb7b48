"""The loopback fakes work with the real client libraries, including every fault kind.

Each test drives tweepy / Mastodon.py / atproto over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import io
import socket
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # make "tests.fakes" importable under any rootdir/import mode
    sys.path.insert(0, _ROOT)

import httpx  # noqa: E402
import mastodon  # noqa: E402
import requests  # noqa: E402
import tweepy  # noqa: E402
from atproto import client_utils, models  # noqa: E402
from atproto_client import exceptions as at_exc  # noqa: E402

from tests.fakes.base import Fault  # noqa: E402
from tests.fakes.bluesky import FakeBluesky  # noqa: E402
from tests.fakes.clients import bluesky_client, mastodon_client, x_api, x_bearer_client, x_client  # noqa: E402
from tests.fakes.mastodon import FakeMastodon  # noqa: E402
from tests.fakes.x import DUPLICATE_DETAIL, FakeX  # noqa: E402

# A valid 2x3 PNG header is all the fakes look at.
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
       + b"\x08\x02\x00\x00\x00" + b"\x00" * 20)

# tweepy.API.media_upload imports imghdr, deprecated since Python 3.11
IMGHDR = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

SHORT = 0.5  # client timeout used with Fault.slow
SLOW = 1.0  # server delay, longer than SHORT
# What "stop() does not hang" allows: well above a slow machine's stop, well below what a hang takes
# (an idle keep-alive connection times out after IDLE_TIMEOUT, 15 s; the slow fault below takes 25 s).
HANG = 10.0


def wait_for(predicate, timeout: float = 15.0):
    """Poll until predicate() is truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def xfake():
    with FakeX() as fake:
        yield fake
        assert fake.server_errors == 0


@pytest.fixture
def mfake():
    with FakeMastodon() as fake:
        yield fake
        assert fake.server_errors == 0


@pytest.fixture
def bfake():
    with FakeBluesky() as fake:
        yield fake
        assert fake.server_errors == 0


# ======================================================================================
# Server mechanics
# ======================================================================================


def test_binds_loopback_starts_fast_and_stops_cleanly():
    t0 = time.monotonic()
    fake = FakeMastodon().start()
    assert fake.url.startswith("http://127.0.0.1:")
    assert fake._server.server_address[0] == "127.0.0.1"
    port = fake.port
    # an idle keep-alive connection must not block stop()
    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    sock.sendall(b"GET /api/v1/instance HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(12).startswith(b"HTTP/1.1 200")
    fake.stop()
    fake.stop()  # idempotent
    assert time.monotonic() - t0 < HANG  # not waiting for the idle connection to time out
    sock.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


def test_stop_interrupts_a_slow_fault(mfake):
    client = mastodon_client(mfake, timeout=10)
    mfake.inject("me", Fault.slow(25))
    errors = []
    t = threading.Thread(target=lambda: errors.append(_raises(client.account_verify_credentials)), daemon=True)
    t.start()
    wait_for(lambda: mfake.requests_to("me"))
    t0 = time.monotonic()
    mfake.stop()
    t.join(HANG)
    assert time.monotonic() - t0 < HANG  # not waiting for the slow reply
    assert errors and isinstance(errors[0], mastodon.MastodonNetworkError)


def _raises(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return exc
    return None


def test_inject_rejects_unknown_endpoint_and_counts_times(xfake):
    with pytest.raises(ValueError):
        xfake.inject("tweets", Fault.server_error())
    client = x_client(xfake)
    xfake.inject("post", Fault.server_error(503), times=2)
    for _ in range(2):
        with pytest.raises(tweepy.TwitterServerError):
            client.create_tweet(text="een")
    client.create_tweet(text="een")  # third attempt goes through
    assert [p["text"] for p in xfake.posts] == ["een"]
    assert xfake.pending_faults() == []
    assert [r.outcome for r in xfake.requests_to("post")] == ["fault", "fault", "ok"]


def test_concurrent_posts_each_stored_once(mfake):
    client = mastodon_client(mfake)
    texts = [f"bericht {i}" for i in range(12)]
    threads = [threading.Thread(target=client.status_post, args=(t,), kwargs={"idempotency_key": t})
               for t in texts for _ in range(2)]  # every text sent twice, concurrently
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(p["text"] for p in mfake.posts) == sorted(texts)
    assert len({p["id"] for p in mfake.posts}) == len(texts)


# ======================================================================================
# X / tweepy
# ======================================================================================


def test_x_post_reply_whoami_and_oauth(xfake):
    client = x_client(xfake)
    me = client.get_me()
    assert me.data.username == "teamsaantstuur" and me.data.id == int(xfake.account.id)  # tweepy: int
    assert me.data.data["id"] == xfake.account.id  # wire: string
    first = client.create_tweet(text="Praat mee: https://publicpapersutrecht.nl #zelfstandigeteams")
    assert set(first.data) == {"id", "text", "edit_history_tweet_ids"}
    assert isinstance(first.data["id"], str) and first.data["edit_history_tweet_ids"] == [first.data["id"]]
    assert first.data["text"].startswith("Praat mee: https://t.co/")  # shortened like X
    reply = client.create_tweet(text="Vervolg", in_reply_to_tweet_id=first.data["id"])
    posts = xfake.posts
    assert [p["text"] for p in posts] == ["Praat mee: https://publicpapersutrecht.nl #zelfstandigeteams", "Vervolg"]
    assert posts[1]["reply_to"] == first.data["id"] and posts[1]["conversation_id"] == first.data["id"]
    assert int(reply.data["id"]) > int(first.data["id"])
    req = xfake.requests_to("post")[0]
    assert req.header("authorization").startswith("OAuth ") and "oauth_signature=" in req.header("authorization")
    assert req.json() == {"text": "Praat mee: https://publicpapersutrecht.nl #zelfstandigeteams"}
    assert req.status == 201 and req.response_headers["x-rate-limit-remaining"] == "199"


def test_x_rate_limit_headers_reach_the_client(xfake):
    client = x_client(xfake)
    client.return_type = requests.Response
    resp = client.create_tweet(text="headers")
    assert resp.status_code == 201
    assert resp.headers["x-rate-limit-limit"] == "200"
    assert resp.headers["x-rate-limit-remaining"] == "199"
    assert int(resp.headers["x-rate-limit-reset"]) > time.time()


def test_x_exhausted_budget_answers_429_with_reset(xfake):
    xfake.set_rate_limit("post", 1, window=60)
    client = x_client(xfake)
    client.create_tweet(text="one")
    with pytest.raises(tweepy.TooManyRequests) as exc:
        client.create_tweet(text="two")
    assert exc.value.reset_time is not None and exc.value.reset_time > time.time()
    assert [p["text"] for p in xfake.posts] == ["one"]


def test_x_daily_cap(xfake):
    xfake.daily_post_cap = 1
    client = x_client(xfake)
    client.create_tweet(text="one")
    with pytest.raises(tweepy.TooManyRequests) as exc:
        client.create_tweet(text="two")
    assert exc.value.response.headers["x-user-limit-24hour-remaining"] == "0"


def test_x_unauthorized_without_or_with_bad_oauth(xfake):
    # get_users_tweets defaults to app auth: tweepy sends "Bearer None" without a bearer token
    client = x_client(xfake)
    with pytest.raises(tweepy.Unauthorized):
        client.get_users_tweets(xfake.account.id)
    bad = tweepy.Client(consumer_key=xfake.account.consumer_key, consumer_secret="wrong",
                        access_token=xfake.account.access_token,
                        access_token_secret=xfake.account.access_token_secret)
    from tests.fakes.clients import mount_loopback
    mount_loopback(bad.session, xfake)
    xfake.add_cleanup(bad.session.close)
    with pytest.raises(tweepy.Unauthorized):
        bad.create_tweet(text="forged")
    assert xfake.posts == []
    # app-only bearer works on reads
    assert x_bearer_client(xfake).get_users_tweets(xfake.account.id).meta == {"result_count": 0}


def test_x_duplicate_is_the_real_403(xfake):
    client = x_client(xfake)
    client.create_tweet(text="Zelfde tekst")
    with pytest.raises(tweepy.Forbidden) as exc:
        client.create_tweet(text="Zelfde tekst")
    assert exc.value.api_messages == [DUPLICATE_DETAIL]
    assert exc.value.api_codes == []
    assert exc.value.response.json() == {
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "type": "about:blank", "title": "Forbidden", "status": 403}
    xfake.inject("post", Fault.duplicate())
    with pytest.raises(tweepy.Forbidden) as exc2:
        client.create_tweet(text="Nieuwe tekst")
    assert exc2.value.api_messages == [DUPLICATE_DETAIL]
    assert len(xfake.posts) == 1


def test_x_too_long_is_400(xfake):
    with pytest.raises(tweepy.BadRequest) as exc:
        x_client(xfake).create_tweet(text="€" * 141)  # 141 * 2 = 282 weighted
    assert "too long" in exc.value.api_messages[0]


@IMGHDR
def test_x_media_with_alt_text(xfake):
    api = x_api(xfake)
    media = api.media_upload("poster.png", file=io.BytesIO(PNG))
    assert media.media_id_string == str(media.media_id)
    assert api.create_media_metadata(media.media_id, "Affiche van de Public Paper") is None
    client = x_client(xfake)
    tweet = client.create_tweet(text="Met affiche", media_ids=[media.media_id])
    post = xfake.posts[0]
    assert post["id"] == tweet.data["id"]
    assert post["media_ids"] == [media.media_id_string]
    assert post["media"][0]["alt_text"] == "Affiche van de Public Paper"
    assert [r.path for r in xfake.requests] == [
        "/1.1/media/upload.json", "/1.1/media/metadata/create.json", "/2/tweets"]
    with pytest.raises(tweepy.BadRequest):
        client.create_tweet(text="Onbekend", media_ids=["123"])


def test_x_timeline_paging(xfake):
    base = datetime(2015, 1, 27, 10, tzinfo=timezone.utc)
    seeded = [xfake.seed_post(f"tweet {i}", created_at=base + timedelta(minutes=i)) for i in range(12)]
    client = x_client(xfake)
    uid = client.get_me().data.id
    seen, token, pages = [], None, 0
    while True:
        page = client.get_users_tweets(uid, user_auth=True, max_results=5, pagination_token=token,
                                       tweet_fields=["created_at", "conversation_id"])
        pages += 1
        seen += [t.text for t in page.data]
        token = page.meta.get("next_token")
        if not token:
            break
    assert pages == 3
    assert seen == [f"tweet {i}" for i in reversed(range(12))]
    assert page.data[-1].created_at == base
    newer = client.get_users_tweets(uid, user_auth=True, since_id=seeded[9]["id"])
    assert [t.text for t in newer.data] == ["tweet 11", "tweet 10"]
    assert newer.meta["newest_id"] == seeded[11]["id"] and "next_token" not in newer.meta
    with pytest.raises(tweepy.BadRequest):
        client.get_users_tweets(uid, user_auth=True, max_results=101)
    with_media = client.get_users_tweets(uid, user_auth=True, expansions=["attachments.media_keys"],
                                         media_fields=["alt_text"], tweet_fields=["entities"])
    assert with_media.meta["result_count"] == 10


def test_x_timeline_cap(xfake):
    xfake.timeline_cap = 7
    for i in range(10):
        xfake.seed_post(f"t{i}", created_at=datetime(2020, 1, 1, tzinfo=timezone.utc) + timedelta(hours=i))
    client = x_client(xfake)
    first = client.get_users_tweets(xfake.account.id, user_auth=True, max_results=5)
    second = client.get_users_tweets(xfake.account.id, user_auth=True, max_results=5,
                                     pagination_token=first.meta["next_token"])
    assert len(first.data) + len(second.data) == 7 and "next_token" not in second.meta


@pytest.mark.parametrize("reset_in", [30, None])
def test_x_fault_429(xfake, reset_in):
    xfake.inject("post", Fault.rate_limit(reset_in=reset_in))
    with pytest.raises(tweepy.TooManyRequests) as exc:
        x_client(xfake).create_tweet(text="te vroeg")
    if reset_in is None:
        assert exc.value.reset_time is None
        assert "x-rate-limit-reset" not in exc.value.response.headers
    else:
        assert exc.value.reset_time == pytest.approx(time.time() + reset_in, abs=2)
        assert exc.value.response.headers["x-rate-limit-remaining"] == "0"
    assert xfake.posts == []


@pytest.mark.parametrize("code", [500, 503])
def test_x_fault_5xx(xfake, code):
    xfake.inject("post", Fault.server_error(code))
    with pytest.raises(tweepy.TwitterServerError) as exc:
        x_client(xfake).create_tweet(text="stuk")
    assert exc.value.response.status_code == code
    assert xfake.posts == []


def test_x_fault_401(xfake):
    xfake.inject("me", Fault.unauthorized())
    with pytest.raises(tweepy.Unauthorized):
        x_client(xfake).get_me()


@IMGHDR
def test_x_fault_v1_upload_errors(xfake):
    api = x_api(xfake)
    xfake.inject("media", Fault.rate_limit(reset_in=60))
    with pytest.raises(tweepy.TooManyRequests) as exc:
        api.media_upload("p.png", file=io.BytesIO(PNG))
    assert exc.value.api_codes == [88]
    xfake.inject("media", Fault.server_error(503))
    with pytest.raises(tweepy.TwitterServerError):
        api.media_upload("p.png", file=io.BytesIO(PNG))


@IMGHDR
def test_x_fault_slow_times_out_but_post_exists(xfake):
    client = x_client(xfake, timeout=SHORT)
    xfake.inject("post", Fault.slow(SLOW))
    with pytest.raises(requests.exceptions.ReadTimeout):  # tweepy.Client does not wrap it
        client.create_tweet(text="traag")
    wait_for(lambda: xfake.posts)
    assert [p["text"] for p in xfake.posts] == ["traag"]
    # tweepy.API wraps transport errors
    api = x_api(xfake, timeout=SHORT)
    xfake.inject("media", Fault.slow(SLOW, then=Fault.server_error(503)))
    with pytest.raises(tweepy.TweepyException, match="Failed to send request"):
        api.media_upload("p.png", file=io.BytesIO(PNG))


@pytest.mark.parametrize("kind", ["drop", "reset"])
def test_x_fault_connection_lost_after_store(xfake, kind):
    client = x_client(xfake)
    xfake.inject("post", getattr(Fault, kind)())
    with pytest.raises(requests.exceptions.ConnectionError):
        client.create_tweet(text="verloren antwoord")
    assert [p["text"] for p in xfake.posts] == ["verloren antwoord"]
    # the retry is a duplicate: exactly-once has to come from reading the timeline
    with pytest.raises(tweepy.Forbidden):
        client.create_tweet(text="verloren antwoord")
    tl = client.get_users_tweets(xfake.account.id, user_auth=True)
    assert [t.text for t in tl.data] == ["verloren antwoord"]


def test_x_fault_drop_without_store(xfake):
    xfake.inject("post", Fault.drop(store=False))
    with pytest.raises(requests.exceptions.ConnectionError):
        x_client(xfake).create_tweet(text="nooit aangekomen")
    assert xfake.posts == []


# ======================================================================================
# Mastodon / Mastodon.py
# ======================================================================================


def test_mastodon_post_reply_whoami(mfake):
    client = mastodon_client(mfake)
    me = client.account_verify_credentials()
    assert me.id == mfake.account.id and me.username == "teamsaantstuur" and "source" in me
    status = client.status_post("Praat mee: https://publicpapersutrecht.nl #Zelfstandigeteams", language="nl")
    assert isinstance(status.id, str) or isinstance(status.id, int)
    assert str(status.id) == mfake.posts[0]["id"]
    assert status.content.startswith("<p>Praat mee: <a href=\"https://publicpapersutrecht.nl\"")
    assert status.url.endswith(f"/@teamsaantstuur/{status.id}") and status.uri
    assert status.account.id == me.id and status.language == "nl"
    assert status.created_at.tzinfo is not None
    reply = client.status_post("Vervolg", in_reply_to_id=status)
    assert str(reply.in_reply_to_id) == str(status.id)
    assert mfake.posts[1]["reply_to"] == str(status.id)
    req = mfake.requests_to("post")[0]
    assert req.header("authorization") == f"Bearer {mfake.account.access_token}"
    assert [r.path for r in mfake.requests] == ["/api/v1/accounts/verify_credentials", "/api/v1/statuses",
                                                "/api/v1/statuses"]


def test_mastodon_idempotency_key(mfake):
    client = mastodon_client(mfake)
    a = client.status_post("Eén keer", idempotency_key="post-42")
    b = client.status_post("Eén keer", idempotency_key="post-42")
    assert a.id == b.id
    assert [p["text"] for p in mfake.posts] == ["Eén keer"]
    assert mfake.requests_to("post")[1].header("idempotency-key") == "post-42"
    # a different account may reuse the key
    other = mfake.add_account("ander")
    c = mastodon_client(mfake, account=other).status_post("Eén keer", idempotency_key="post-42")
    assert c.id != a.id and len(mfake.posts) == 2


def test_mastodon_lost_response_then_retry_with_same_key_is_exactly_once(mfake):
    client = mastodon_client(mfake)
    mfake.inject("post", Fault.drop())
    with pytest.raises(mastodon.MastodonNetworkError):
        client.status_post("Precies één keer", idempotency_key="k-1")
    again = client.status_post("Precies één keer", idempotency_key="k-1")
    assert [p["text"] for p in mfake.posts] == ["Precies één keer"]
    assert str(again.id) == mfake.posts[0]["id"]


def test_mastodon_media_with_description(mfake):
    client = mastodon_client(mfake)
    media = client.media_post(io.BytesIO(PNG), mime_type="image/png", description="Affiche")
    assert media.description == "Affiche" and media.type == "image" and media.url
    status = client.status_post("Met affiche", media_ids=[media])
    assert status.media_attachments[0].description == "Affiche"
    assert mfake.posts[0]["media"][0]["description"] == "Affiche"
    # Mastodon.py asks the instance version once before choosing /api/v2/media
    assert [r.path for r in mfake.requests] == ["/api/v1/instance", "/api/v2/instance", "/api/v2/media",
                                                "/api/v1/statuses"]


def test_mastodon_timeline_paging(mfake):
    base = datetime(2015, 1, 27, 10, tzinfo=timezone.utc)
    for i in range(45):
        mfake.seed_post(f"toot {i}", created_at=base + timedelta(minutes=i))
    client = mastodon_client(mfake)
    me = client.me()
    page = client.account_statuses(me, limit=20)
    assert [s.content for s in page[:2]] == ["<p>toot 44</p>", "<p>toot 43</p>"]
    assert 'rel="next"' in mfake.requests_to("timeline")[0].response_headers["Link"]
    everything = client.fetch_remaining(page)
    assert [s.content for s in everything] == [f"<p>toot {i}</p>" for i in reversed(range(45))]
    ids = [int(mfake.posts[i]["id"]) for i in range(45)]
    newer = client.account_statuses(me, min_id=ids[40], limit=3)  # 3 oldest above ids[40]
    assert [s.content for s in newer] == ["<p>toot 43</p>", "<p>toot 42</p>", "<p>toot 41</p>"]
    newest = client.account_statuses(me, since_id=ids[40], limit=3)
    assert [s.content for s in newest] == ["<p>toot 44</p>", "<p>toot 43</p>", "<p>toot 42</p>"]
    older = client.account_statuses(me, max_id=ids[2])
    assert [s.content for s in older] == ["<p>toot 1</p>", "<p>toot 0</p>"]
    assert client.fetch_next(older) is None


def test_mastodon_link_header_shape(mfake):
    for i in range(3):
        mfake.seed_post(f"t{i}")
    resp = requests.get(f"{mfake.url}/api/v1/accounts/{mfake.account.id}/statuses?limit=2",
                        headers={"Authorization": f"Bearer {mfake.account.access_token}"}, timeout=5)
    assert resp.links["next"]["url"].endswith(f"max_id={mfake.posts[1]['id']}")
    assert resp.links["prev"]["url"].endswith(f"min_id={mfake.posts[2]['id']}")
    assert "X-RateLimit-Reset" in resp.headers and resp.headers["X-RateLimit-Limit"] == "300"


def test_mastodon_unauthorized(mfake):
    bad = mastodon_client(mfake)
    bad.access_token = "nope"
    with pytest.raises(mastodon.MastodonUnauthorizedError) as exc:
        bad.status_post("nee")
    assert exc.value.args[3] == "The access token is invalid"
    mfake.inject("post", Fault.unauthorized())
    with pytest.raises(mastodon.MastodonUnauthorizedError):
        mastodon_client(mfake).status_post("nee")
    assert mfake.posts == []


@pytest.mark.parametrize("reset_in", [30, None])
def test_mastodon_fault_429(mfake, reset_in):
    client = mastodon_client(mfake)
    mfake.inject("post", Fault.rate_limit(reset_in=reset_in))
    with pytest.raises(mastodon.MastodonRatelimitError):
        client.status_post("te vroeg")
    sent = mfake.requests_to("post")[0].response_headers
    if reset_in is None:
        assert "X-RateLimit-Reset" not in sent
        assert client.ratelimit_reset is None
    else:
        assert "T" in sent["X-RateLimit-Reset"]  # ISO 8601, like Mastodon
        assert client.ratelimit_reset == pytest.approx(time.time() + reset_in, abs=3)
    assert not isinstance(mastodon.MastodonRatelimitError("x"), mastodon.MastodonAPIError)
    assert mfake.posts == []


def test_mastodon_exhausted_budget(mfake):
    mfake.set_rate_limit("post", 1, window=60)
    client = mastodon_client(mfake)
    client.status_post("een")
    with pytest.raises(mastodon.MastodonRatelimitError):
        client.status_post("twee")
    assert client.ratelimit_remaining == 0


@pytest.mark.parametrize("code,exc_type", [
    (500, mastodon.MastodonInternalServerError),
    (502, mastodon.MastodonBadGatewayError),
    (503, mastodon.MastodonServiceUnavailableError),
    (504, mastodon.MastodonGatewayTimeoutError),
])
def test_mastodon_fault_5xx(mfake, code, exc_type):
    mfake.inject("post", Fault.server_error(code))
    with pytest.raises(exc_type) as exc:
        mastodon_client(mfake).status_post("stuk")
    assert isinstance(exc.value, mastodon.MastodonServerError)
    assert isinstance(exc.value, mastodon.MastodonAPIError)
    assert mfake.posts == []


def test_mastodon_validation_errors(mfake):
    client = mastodon_client(mfake)
    with pytest.raises(mastodon.MastodonAPIError) as exc:
        client.status_post("x" * 501)
    assert exc.value.args[1] == 422 and "500" in exc.value.args[3]
    client.status_post("https://example.org/" + "a" * 200 + " " + "y" * 470)  # URL counts 23
    with pytest.raises(mastodon.MastodonNotFoundError):
        client.status_post("antwoord", in_reply_to_id="1")


def test_mastodon_fault_slow(mfake):
    client = mastodon_client(mfake, timeout=SHORT)
    mfake.inject("post", Fault.slow(SLOW))
    with pytest.raises(mastodon.MastodonNetworkError):
        client.status_post("traag", idempotency_key="slow-1")
    wait_for(lambda: mfake.posts)
    client.status_post("traag", idempotency_key="slow-1")  # retry: same status
    assert len(mfake.posts) == 1


@pytest.mark.parametrize("kind", ["drop", "reset"])
def test_mastodon_fault_connection_lost(mfake, kind):
    mfake.inject("post", getattr(Fault, kind)())
    with pytest.raises(mastodon.MastodonNetworkError):
        mastodon_client(mfake).status_post("weg")
    assert [p["text"] for p in mfake.posts] == ["weg"]


# ======================================================================================
# Bluesky / atproto
# ======================================================================================


def test_bluesky_login_session_and_profile(bfake):
    client = bluesky_client(bfake)
    assert client.me.did == bfake.account.did and client.me.handle == bfake.account.handle
    session = client.com.atproto.server.get_session()
    assert session.did == bfake.account.did
    payload = client._session.access_jwt_payload
    assert payload.exp - time.time() > 15 * 60
    assert client._base_url == bfake.url + "/xrpc"  # no didDoc: stays on the fake
    assert [r.path for r in bfake.requests] == [
        "/xrpc/com.atproto.server.createSession", "/xrpc/app.bsky.actor.getProfile",
        "/xrpc/com.atproto.server.getSession"]
    with pytest.raises(at_exc.UnauthorizedError):
        from tests.fakes.clients import bluesky_client as bc
        c = bc(bfake, login=False)
        c.login(bfake.account.handle, "wrong-pass-word-xxxx")


# atproto's uploadBlob passes raw bytes as httpx ``data=``, which httpx deprecates
@pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")
def test_bluesky_post_facets_reply_and_image(bfake):
    client = bluesky_client(bfake)
    text = (client_utils.TextBuilder().text("Praat mee: ")
            .link("publicpapersutrecht.nl", "https://publicpapersutrecht.nl").text(" ")
            .tag("#zelfstandigeteams", "zelfstandigeteams"))
    first = client.send_post(text, langs=["nl"])
    assert first.uri.startswith(f"at://{bfake.account.did}/app.bsky.feed.post/") and first.cid.startswith("b")
    ref = models.create_strong_ref(first)
    reply = client.send_post("Vervolg", reply_to=models.AppBskyFeedPost.ReplyRef(parent=ref, root=ref), langs=["nl"])
    img = client.send_image("Met affiche", image=PNG, image_alt="Affiche van de Public Paper", langs=["nl"])
    posts = bfake.posts
    assert [p["text"] for p in posts] == ["Praat mee: publicpapersutrecht.nl #zelfstandigeteams", "Vervolg", "Met affiche"]
    facets = posts[0]["facets"]
    assert facets[0]["features"][0] == {"$type": "app.bsky.richtext.facet#link", "uri": "https://publicpapersutrecht.nl"}
    assert facets[1]["features"][0]["tag"] == "zelfstandigeteams"
    assert posts[1]["reply"]["parent"] == {"$type": "com.atproto.repo.strongRef", "uri": first.uri, "cid": first.cid}
    assert posts[1]["reply_to"] == first.uri
    assert posts[2]["media"][0]["alt"] == "Affiche van de Public Paper"
    assert posts[2]["media"][0]["mime"] == "image/png"
    assert posts[2]["id"] == img.uri and reply.uri == posts[1]["uri"]
    feed = client.get_author_feed(bfake.account.did)
    assert feed.feed[0].post.embed.images[0].alt == "Affiche van de Public Paper"
    assert feed.feed[1].reply.parent.uri == first.uri
    with pytest.raises(at_exc.BadRequestError):
        client.send_post("x" * 301)
    # the SDK's default language is English unless langs is given
    client.send_post("zonder taal")
    assert bfake.posts[-1]["langs"] == ["en"]


def test_bluesky_author_feed_paging(bfake):
    base = datetime(2023, 6, 1, tzinfo=timezone.utc)
    for i in range(7):
        bfake.seed_post(f"skeet {i}", created_at=base + timedelta(hours=i))
    client = bluesky_client(bfake)
    seen, cursor, requests_made = [], None, 0
    while True:
        page = client.get_author_feed(bfake.account.handle, cursor=cursor, limit=3)
        requests_made += 1
        seen += [item.post.record.text for item in page.feed]
        cursor = page.cursor
        if not cursor:
            break
    assert seen == [f"skeet {i}" for i in reversed(range(7))]
    assert requests_made == 4  # the last page is empty, like the AppView


@pytest.mark.parametrize("reset_in", [30, None])
def test_bluesky_fault_429(bfake, reset_in):
    client = bluesky_client(bfake)
    bfake.inject("post", Fault.rate_limit(reset_in=reset_in))
    with pytest.raises(at_exc.RateLimitExceededError) as exc:
        client.send_post("te vroeg")
    assert isinstance(exc.value, at_exc.RequestException)
    if reset_in is None:
        assert exc.value.reset_at is None
    else:
        assert exc.value.reset_at.timestamp() == pytest.approx(time.time() + reset_in, abs=2)
    assert exc.value.response.content.error == "RateLimitExceeded"
    assert bfake.posts == []


@pytest.mark.parametrize("code,exc_type", [
    (500, at_exc.RequestException), (503, at_exc.RequestException), (502, at_exc.NetworkError)])
def test_bluesky_fault_5xx(bfake, code, exc_type):
    client = bluesky_client(bfake)
    bfake.inject("post", Fault.server_error(code))
    with pytest.raises(exc_type) as exc:
        client.send_post("stuk")
    assert exc.value.response.status_code == code
    assert bfake.posts == []


def test_bluesky_fault_401_and_expired_token(bfake):
    client = bluesky_client(bfake)
    bfake.inject("post", Fault.unauthorized())
    with pytest.raises(at_exc.UnauthorizedError):
        client.send_post("nee")
    bfake.expire_access_tokens()
    with pytest.raises(at_exc.BadRequestError) as exc:
        client.send_post("nee")
    assert exc.value.response.content.error == "ExpiredToken"
    assert bfake.posts == []


def test_bluesky_short_lived_token_is_refreshed(bfake):
    bfake.access_ttl = 600  # < 15 min: the SDK refreshes before each call
    client = bluesky_client(bfake)
    client.send_post("ververst")
    assert bfake.requests_to("refresh") and [p["text"] for p in bfake.posts] == ["ververst"]


def test_bluesky_fault_slow(bfake):
    client = bluesky_client(bfake, timeout=SHORT)
    bfake.inject("post", Fault.slow(SLOW))
    with pytest.raises(at_exc.InvokeTimeoutError):
        client.send_post("traag")
    wait_for(lambda: bfake.posts)


def test_bluesky_fault_drop_after_store(bfake):
    client = bluesky_client(bfake)
    bfake.inject("post", Fault.drop())
    # atproto re-raises httpx.RemoteProtocolError unwrapped (not an AtProtocolError)
    with pytest.raises(httpx.RemoteProtocolError):
        client.send_post("weg")
    assert [p["text"] for p in bfake.posts] == ["weg"]


def test_bluesky_fault_reset_after_store(bfake):
    client = bluesky_client(bfake)
    bfake.inject("post", Fault.reset())
    with pytest.raises(at_exc.NetworkError):
        client.send_post("weg")
    assert [p["text"] for p in bfake.posts] == ["weg"]


def test_bluesky_unknown_method_is_501(bfake):
    client = bluesky_client(bfake)
    with pytest.raises(at_exc.RequestException) as exc:
        client.app.bsky.feed.get_timeline()
    assert exc.value.response.status_code == 501
