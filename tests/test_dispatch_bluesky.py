"""Posting to Bluesky through the real atproto client: facets, images, threads, and recovery via the author feed."""
from __future__ import annotations

from pathlib import Path

from tests.fakes.base import Fault
from tests.stage import bluesky_account_yaml, bluesky_env

PNG = (Path(__file__).resolve().parent.parent / "media" / "stadskantoor030.png").read_bytes()


def setup_b(stage, fake, posts_yaml, extra=""):
    stage.environ.update(bluesky_env(fake))
    stage.write(bluesky_account_yaml(fake), posts_yaml, accounts="tas_b", extra=extra)
    stage.sync()


def test_links_tags_and_mentions_are_facets(stage, fake_bluesky):
    friend = fake_bluesky.add_account("gemeenteutrecht.bsky.social")
    setup_b(stage, fake_bluesky, f"- {{text: 'Praat mee over #zelfstandigeteams met @gemeenteutrecht.bsky.social: "
                                 f"{{link}}', at: {stage.at(-1)}}}\n",
            extra="    language: nl\n    utm: {medium: social}\n")
    report = stage.run()
    assert report.exit_code == 0 and report.count("sent") == 1
    [post] = fake_bluesky.posts
    assert post["text"] == ("Praat mee over #zelfstandigeteams met @gemeenteutrecht.bsky.social: "
                            "publicpapersutrecht.nl/teams")
    features = {f["features"][0]["$type"].rsplit("#", 1)[1]: f["features"][0] for f in post["facets"]}
    assert features["tag"]["tag"] == "zelfstandigeteams"
    assert features["mention"]["did"] == friend.did
    assert features["link"]["uri"].startswith("https://publicpapersutrecht.nl/teams?utm_source=bluesky")
    link_facet = next(f for f in post["facets"] if f["features"][0]["$type"].endswith("#link"))
    raw = post["text"].encode()
    assert raw[link_facet["index"]["byteStart"]:link_facet["index"]["byteEnd"]] == b"publicpapersutrecht.nl/teams"
    assert post["langs"] == ["nl"]
    row = stage.rows()[0]
    assert row.remote_id == post["uri"] and row.remote_url.endswith("/post/" + post["rkey"])


def test_thread_parts_point_at_their_parent_and_root(stage, fake_bluesky, tmp_path):
    (tmp_path / "foto.png").write_bytes(PNG)
    setup_b(stage, fake_bluesky, f"""\
        - thread:
            - {{text: "Een draadje", media: {{path: foto.png, alt: "Een rode deur"}}}}
            - "Deel twee"
            - "Deel drie"
          at: {stage.at(-1)}
        """)
    assert stage.run().count("sent") == 1
    first, second, third = fake_bluesky.posts
    assert [m["alt"] for m in first["media"]] == ["Een rode deur"]
    assert second["reply"]["parent"]["uri"] == first["uri"] and second["reply"]["root"]["uri"] == first["uri"]
    assert third["reply"]["parent"]["uri"] == second["uri"] and third["reply"]["root"]["uri"] == first["uri"]


def test_dropped_response_with_unreadable_feed_is_unknown(stage, fake_bluesky):
    setup_b(stage, fake_bluesky, f"- {{text: 'Onzeker', at: {stage.at(-1)}}}\n")
    fake_bluesky.inject("post", Fault.reset(store=True))
    fake_bluesky.inject("timeline", Fault.server_error(503), times=3)
    [outcome] = stage.run().needs_attention
    assert outcome.state == "unknown" and "could not be read" in outcome.message


def test_a_refused_app_password_fails_at_login_without_repeating_it(stage, fake_bluesky):
    setup_b(stage, fake_bluesky, f"- {{text: 'een', at: {stage.at(-1)}}}\n")
    stage.environ["CAMPAIGN_TAS_B_APP_PASSWORD"] = "aaaa-bbbb-cccc-dddd"
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "credentials rejected: Bluesky answered 401" in outcome.message
    assert "aaaa-bbbb-cccc-dddd" not in outcome.message and fake_bluesky.posts == []


def test_one_off_reply_to_a_bluesky_post_url(stage, fake_bluesky):
    from campaign.queue.manual import queue_post

    friend = fake_bluesky.add_account("moniquedenb.bsky.social")
    setup_b(stage, fake_bluesky, f"- {{text: 'later', at: {stage.at(600)}}}\n")
    from tests.fakes.clients import bluesky_client

    client = bluesky_client(fake_bluesky, account=friend)
    original = client.send_post("Ik volg jullie!")
    url = f"https://bsky.app/profile/{friend.handle}/post/{original.uri.rsplit('/', 1)[1]}"
    queue_post(stage.db, "tas_b", "Leuk dat je ons volgt!", at=stage.now, now=stage.now, reply_to_url=url)
    assert stage.run().count("sent") == 1
    reply = fake_bluesky.posts[-1]
    assert reply["text"] == "Leuk dat je ons volgt!"
    assert reply["reply"]["parent"]["uri"] == original.uri and reply["reply"]["root"]["uri"] == original.uri
