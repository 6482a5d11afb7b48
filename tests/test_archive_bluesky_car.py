"""`archive import repo.car`: a Bluesky repository export (CARv1, DAG-CBOR) read with the atproto SDK's
decoder, posts mapped by the same code as `archive fetch`, the DID's handle found in the archive,
broken files refused whole. The CAR files are built here from records (tests/bluesky_repo.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive import tables
from archive.cli import main
from archive.errors import ImportFormatError
from archive.fetch import fetch_account
from archive.importers import bluesky_car
from archive.importers.detect import FORMATS, detect
from archive.records import Link, PostFilter
from archive.store import count_posts, open_archive, query_posts
from campaign.send.platforms import AccountInfo, OutgoingPart, connect
from tests.bluesky_repo import RepoBuilder, _varint
from tests.stage import bluesky_env

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
DID = "did:plc:teamsaanhetstuur00000000"
HANDLE = "teamsaantstuur.bsky.social"
OTHER = "did:plc:gemeenteutrecht000000000"
CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def post_record(text: str, created: str, **more) -> dict:
    return {"$type": "app.bsky.feed.post", "text": text, "createdAt": created, "langs": ["nl"], **more}


def facet(text: str, part: str, feature: dict) -> dict:
    start = text.encode().index(part.encode())
    return {"index": {"byteStart": start, "byteEnd": start + len(part.encode())}, "features": [feature]}


def sample_repo(tmp_path, *, likes: int = 3) -> tuple:
    """A repository of the campaign account: posts with a link, tag and mention (after an emoji, so
    byte and character offsets differ), a reply, a quote with an image, a repost, likes."""
    repo = RepoBuilder(DID)
    text = "Praat mee 🎉 #zelfstandigeteams @gemeenteutrecht.bsky.social publicpapersutrecht.nl/teams"
    first = repo.add("app.bsky.feed.post", "3kaaaaaaaaa22", post_record(text, "2024-03-01T09:00:00.000Z", facets=[
        facet(text, "#zelfstandigeteams", {"$type": "app.bsky.richtext.facet#tag", "tag": "zelfstandigeteams"}),
        facet(text, "@gemeenteutrecht.bsky.social", {"$type": "app.bsky.richtext.facet#mention", "did": OTHER}),
        facet(text, "publicpapersutrecht.nl/teams", {"$type": "app.bsky.richtext.facet#link",
                                                     "uri": "https://publicpapersutrecht.nl/teams"})]))
    repo.add("app.bsky.feed.post", "3kaaaaaaaab22", post_record(
        "Fijn dat je meedoet!", "2024-03-01T10:00:00.000Z",
        reply={"root": {"uri": first, "cid": CID}, "parent": {"uri": first, "cid": CID}}))
    repo.add("app.bsky.feed.post", "3kaaaaaaaac22", post_record(
        "Lees dit", "2024-03-02T10:00:00Z", embed={
            "$type": "app.bsky.embed.recordWithMedia",
            "record": {"$type": "app.bsky.embed.record", "record": {"uri": f"at://{OTHER}/app.bsky.feed.post/3x",
                                                                   "cid": CID}},
            "media": {"$type": "app.bsky.embed.images", "images": [
                {"alt": "De stadskantoortoren", "image": {"$type": "blob", "ref": {"$link": CID},
                                                           "mimeType": "image/jpeg", "size": 1000}}]}}))
    repo.add("app.bsky.feed.repost", "3kaaaaaaaad22", {"$type": "app.bsky.feed.repost", "createdAt":
                                                       "2024-03-03T08:00:00.000Z",
                                                       "subject": {"uri": f"at://{OTHER}/app.bsky.feed.post/3y",
                                                                   "cid": CID}})
    for number in range(likes):
        repo.add("app.bsky.feed.like", f"3kbbbbbbbb{number:03d}", {
            "$type": "app.bsky.feed.like", "createdAt": "2024-03-04T08:00:00.000Z",
            "subject": {"uri": f"at://{OTHER}/app.bsky.feed.post/3z{number}", "cid": CID}})
    repo.add("app.bsky.actor.profile", "self", {"$type": "app.bsky.actor.profile", "displayName": "Teams"})
    return repo, repo.write(tmp_path / "repo.car")


def test_the_repository_records_become_posts_as_fetch_maps_them(tmp_path):
    _, path = sample_repo(tmp_path)
    assert detect(path) is bluesky_car and FORMATS["bluesky"] is bluesky_car
    assert bluesky_car.repository_did(path) == DID and bluesky_car.likes(path) == 3
    posts = {p.remote_id.rsplit("/", 1)[-1]: p for p in bluesky_car.iter_posts(path, account="@" + HANDLE)}
    assert set(posts) == {"3kaaaaaaaaa22", "3kaaaaaaaab22", "3kaaaaaaaac22", "3y"}
    first = posts["3kaaaaaaaaa22"]
    assert (first.account, first.kind, first.language) == (HANDLE, "post", "nl")
    assert first.url == f"https://bsky.app/profile/{HANDLE}/post/3kaaaaaaaaa22"
    assert first.created_at == datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert first.hashtags == ("zelfstandigeteams",) and first.mentions == ("gemeenteutrecht.bsky.social",)
    assert first.links == (Link("publicpapersutrecht.nl/teams", "https://publicpapersutrecht.nl/teams",
                                "publicpapersutrecht.nl/teams"),)
    reply = posts["3kaaaaaaaab22"]
    assert (reply.kind, reply.reply_to_id, reply.conversation_id) == ("reply", f"at://{DID}/app.bsky.feed.post/"
                                                                      "3kaaaaaaaaa22", reply.reply_to_id)
    quote = posts["3kaaaaaaaac22"]
    assert (quote.kind, quote.quoted_id) == ("quote", f"at://{OTHER}/app.bsky.feed.post/3x")
    assert quote.media == ({"type": "image", "alt": "De stadskantoortoren",
                            "url": f"https://cdn.bsky.app/img/feed_fullsize/plain/{DID}/{CID}@jpeg"},)
    assert quote.raw["embed"]["media"]["images"][0]["image"]["ref"] == {"$link": CID}  # links as the API shows them
    repost = posts["3y"]
    assert repost.remote_id == f"repost:at://{OTHER}/app.bsky.feed.post/3y"
    assert (repost.kind, repost.reposted_id, repost.reposted_account) == (
        "repost", f"at://{OTHER}/app.bsky.feed.post/3y", OTHER)
    assert repost.reposted_url == f"https://bsky.app/profile/{OTHER}/post/3y"


def test_the_sdk_reads_the_files_the_tests_build(tmp_path):
    """The builder is checked against the SDK's own (whole-file) CAR reader."""
    from atproto import CAR

    repo, path = sample_repo(tmp_path)
    car = CAR.from_bytes(path.read_bytes())
    assert car.blocks[car.root]["did"] == DID
    assert len(car.blocks) == len(repo.blocks)


def test_a_large_repository_is_walked_in_key_order(tmp_path):
    repo = RepoBuilder(DID)
    for number in range(2000):  # a tree of several layers
        repo.add("app.bsky.feed.post", f"3k{number:011d}", post_record(f"bericht {number}", "2024-01-01T00:00:00Z"))
    path = repo.write(tmp_path / "big.car", commit_first=False)
    texts = [p.text for p in bluesky_car.iter_posts(path, account=HANDLE)]
    assert texts == [f"bericht {number}" for number in range(2000)]


def test_fetch_and_import_of_the_same_account_give_identical_rows(database_url, fake_bluesky, tmp_path):
    fake_bluesky.add_account("gemeenteutrecht.bsky.social")
    client = connect(AccountInfo("tas_b", "bluesky", fake_bluesky.account.handle, fake_bluesky.url),
                     bluesky_env(fake_bluesky))
    texts = ["Mijn eerste post #stadskantoor030",
             "Praat mee 🎉 over #zelfstandigeteams met @gemeenteutrecht.bsky.social: https://publicpapersutrecht.nl/teams",
             "Ünïcode vóór de link https://example.org/a-long/path/that-is-shortened-on-bluesky?x=1 #één"]
    sent = [client.post(OutgoingPart(text, language="nl", card=False), reply_to=None, root=None) for text in texts]
    client.post(OutgoingPart("Een antwoord", language="nl", card=False), reply_to=sent[0], root=None)
    handle = fake_bluesky.account.handle
    repo = RepoBuilder(fake_bluesky.account.did)
    for stored in fake_bluesky.posts:
        repo.add("app.bsky.feed.post", stored["rkey"], stored["record"])
    path = repo.write(tmp_path / "repo.car")

    database = open_archive(database_url)
    try:
        report = fetch_account(database, client, "bluesky", handle, now=NOW)
        assert report.complete and report.new == 4
        fetched = rows(database)
        assert any(row["links"] for row in fetched) and any(row["mentions"] for row in fetched)
        # The archive has seen the DID now: no --account needed, and nothing about the posts changes.
        result = run("import", path, "--db", database_url)
        assert result.exit_code == 0, result.output
        assert "4 updated" in result.output or "4 unchanged" in result.output
        assert rows(database) == fetched
        with database.transaction(write=True) as connection:
            for table in (tables.links, tables.mentions, tables.hashtags, tables.posts):
                connection.execute(table.delete())
        result = run("import", path, "--account", "@" + handle, "--db", database_url)
        assert result.exit_code == 0, result.output
        assert "4 new" in result.output
        assert rows(database) == fetched
    finally:
        database.engine.dispose()


# Compared: every column but the source's JSON, the sources, the times seen and the metrics (a
# repository holds no like or repost counts); the entity tables whole.
UNCOMPARED = {"raw", "sources", "first_seen_at", "last_seen_at", "metrics", "search", *tables.METRIC_COLUMNS.values()}


def rows(database) -> list[dict]:
    with database.transaction() as connection:
        posts = [{k: v for k, v in row._mapping.items() if k not in UNCOMPARED}
                 for row in connection.execute(select(tables.posts).order_by(tables.posts.c.remote_id))]
        for post in posts:
            key = (tables.hashtags.c.platform == post["platform"]) & (tables.hashtags.c.remote_id == post["remote_id"])
            post["tags"] = sorted(connection.execute(select(tables.hashtags.c.tag).where(key)).scalars())
            post["handles"] = sorted(connection.execute(select(tables.mentions.c.handle).where(
                tables.mentions.c.remote_id == post["remote_id"])).scalars())
            post["links"] = sorted(tuple(r) for r in connection.execute(select(
                tables.links.c.url, tables.links.c.expanded_url).where(tables.links.c.remote_id == post["remote_id"])))
            post["mentions"] = post["handles"]
    return posts


def test_an_unknown_repository_needs_the_account(database_url, tmp_path):
    _, path = sample_repo(tmp_path)
    result = run("import", path, "--db", database_url)
    assert result.exit_code == 2
    assert f"is the repository of {DID}" in result.output and "--account" in result.output
    result = run("import", path, "--account", HANDLE, "--db", database_url)
    assert result.exit_code == 0, result.output
    assert "3 likes given" in result.output
    database = open_archive(database_url)
    try:
        assert count_posts(database) == 4
        repost = [p for p in query_posts(database) if p.kind == "repost"][0]
        assert repost.reposted_account == OTHER
    finally:
        database.engine.dispose()


def damaged(path, how: str):
    data = bytearray(path.read_bytes())
    if how == "truncated":
        del data[len(data) - 20:]
    elif how == "not cbor":  # a record's bytes replaced: its block still frames, but does not decode
        index = data.index(b"Fijn dat je meedoet!")
        data[index - 3:index] = b"\xff\xff\xff"
    elif how == "no header":
        data[:4] = b"\x00\x00\x00\x00"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("how, message", [("truncated", "runs past the end of the file"),
                                          ("not cbor", "is not valid DAG-CBOR"),
                                          ("no header", "CARv1 header")])
def test_a_broken_repository_is_named_and_nothing_is_stored(database_url, tmp_path, how, message):
    _, path = sample_repo(tmp_path)
    damaged(path, how)
    result = run("import", path, "--account", HANDLE, "--db", database_url)
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and message in result.output
    assert "Traceback" not in result.output
    database = open_archive(database_url)
    try:
        assert count_posts(database, PostFilter(include_private=True, include_deleted=True)) == 0
    finally:
        database.engine.dispose()


def test_a_missing_block_or_a_looping_tree_is_refused(tmp_path):
    repo, _ = sample_repo(tmp_path)
    reply_cid = repo.records["app.bsky.feed.post/3kaaaaaaaab22"]
    path = repo.write(tmp_path / "repo.car")
    data = path.read_bytes()
    block = repo.blocks[reply_cid]
    # The record's frame taken out: the tree names a block the file lacks.
    frame = _varint(len(reply_cid) + len(block)) + reply_cid + block
    (tmp_path / "missing.car").write_bytes(data.replace(frame, b""))
    with pytest.raises(ImportFormatError, match="lacks the block"):
        list(bluesky_car.iter_posts(tmp_path / "missing.car", account=HANDLE))

    # A hostile file can file a block under any CID (readers do not re-hash): a node that is its own subtree.
    looping = RepoBuilder(DID)
    fake = bytes([0x01, 0x71, 0x12, 0x20]) + b"\x07" * 32
    import libipld

    looping.blocks[fake] = libipld.encode_dag_cbor({"l": fake, "e": []})
    path = looping.write(tmp_path / "loop.car", tree=fake)
    with pytest.raises(ImportFormatError, match="loops"):
        list(bluesky_car.iter_posts(path, account=HANDLE))


def test_a_block_too_large_is_refused_before_it_is_read(tmp_path):
    repo = RepoBuilder(DID)
    repo.add("app.bsky.feed.post", "3kaaaaaaaaa22", post_record("x" * (2 * 1024 * 1024), "2024-01-01T00:00:00Z"))
    path = repo.write(tmp_path / "huge.car")
    with pytest.raises(ImportFormatError, match="larger than 1 MB"):
        list(bluesky_car.iter_posts(path, account=HANDLE))


def test_a_car_that_is_not_one_is_named(tmp_path):
    path = tmp_path / "repo.car"
    path.write_text("{\"not\": \"a car\"}\n")
    with pytest.raises(ImportFormatError, match="CARv1 header"):
        detect(path)


@pytest.mark.parametrize("node", [{"l": None, "e": [{"p": 0, "k": b"app.bsky.feed.post/1", "v": "not a link"}]},
                                  {"l": None, "e": [{"p": "x", "k": b"a", "v": b""}]},
                                  {"l": None, "e": ["not an entry"]},
                                  {"no": "tree"}])
def test_a_damaged_tree_node_is_named(tmp_path, node):
    repo = RepoBuilder(DID)
    tree = repo.add_block(node)
    path = repo.write(tmp_path / "damaged.car", tree=tree)
    with pytest.raises(ImportFormatError, match="damaged entry|not a repository tree node"):
        list(bluesky_car.iter_posts(path, account=HANDLE))


def test_the_handle_of_an_account_the_campaign_posted_from_is_known(stage, fake_bluesky, tmp_path):
    from tests.stage import bluesky_account_yaml

    stage.environ.update(bluesky_env(fake_bluesky))
    stage.write(bluesky_account_yaml(fake_bluesky), f"- {{text: 'Praat mee! #teams', at: {stage.at(-1)}}}\n",
                accounts="tas_b")
    stage.sync()
    assert stage.run().count("sent") == 1
    repo = RepoBuilder(fake_bluesky.account.did)
    for stored in fake_bluesky.posts:
        repo.add("app.bsky.feed.post", stored["rkey"], stored["record"])
    result = run("import", repo.write(tmp_path / "repo.car"), "--db", stage.db_url)
    assert result.exit_code == 0, result.output
    (post,) = query_posts(stage.db)
    assert (post.account, post.text, post.hashtags) == (fake_bluesky.account.handle, "Praat mee! #teams", ("teams",))
    assert post.campaign_id == "tas"  # and it is linked to the campaign that sent it
