"""`archive media fetch`: the images and videos of archived posts as local, content-addressed files
(downloaded from a loopback server started here, or taken from an X archive's data/tweets_media),
resumable, size-capped, only http(s) and only images and videos; `archive render` shows them with
their alt text. On SQLite and, with CAMPAIGN_TEST_DATABASE_URL, PostgreSQL."""
from __future__ import annotations

import hashlib
import json
import threading
import xml.etree.ElementTree as ElementTree
import zipfile
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html
from sqlalchemy import select

from archive import tables
from archive.cli import main
from archive.media import fetch_media, media_folder
from archive.records import ArchivedPost
from archive.store import open_archive, upsert_posts

NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg!" * 300
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"v" * 2000
CAP = 5000  # bytes, given as --max-size in these tests
HOSTILE_ALT = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


class Server:
    """A loopback HTTP server with a few files, and the ways a media URL goes wrong."""

    def __init__(self):
        self.requests: list[str] = []
        self.release = threading.Event()  # the slow response waits for this (set at stop)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                routes = {
                    "/img/a.png": (200, "image/png", PNG), "/img/b.jpg": (200, "image/jpeg; charset=binary", JPEG),
                    "/clip.mp4": (200, "video/mp4", MP4), "/page.html": (200, "text/html", b"<p>no</p>"),
                    "/drawing.svg": (200, "image/svg+xml", b"<svg onload='alert(1)'/>"),
                    "/big.jpg": (200, "image/jpeg", b"x" * (CAP * 3)), "/missing.jpg": (404, "text/plain", b"no"),
                }
                if self.path in routes:
                    status, content_type, body = routes[self.path]
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.path == "/big-unannounced.jpg":  # no Content-Length: the cap is met while reading
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    for _ in range(CAP // 100 * 3):
                        self.wfile.write(b"y" * 100)
                elif self.path in ("/to-file", "/to-a", "/loop"):
                    target = {"/to-file": "file:///etc/passwd", "/to-a": "/img/a.png", "/loop": "/loop"}[self.path]
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/slow.jpg":
                    server.release.wait(60)  # longer than any --timeout here: the client gives up first
                else:
                    self.send_error(404)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.handle_error = lambda request, address: None  # a client that stopped reading (the cap)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = Server()
    yield running
    running.stop()


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def post(remote_id: str, media: list[dict], *, platform: str = "mastodon", account: str = "team",
         day: int = 1) -> ArchivedPost:
    url = (f"https://x.com/{account}/status/{remote_id}" if platform == "x"
           else f"https://social.example/@team/{remote_id}")
    return ArchivedPost(platform=platform, remote_id=remote_id, account=account,
                        created_at=datetime(2024, 3, day, 9, tzinfo=timezone.utc), text=f"bericht {remote_id}",
                        url=url, media=tuple(media))


def image(url: str, alt: str | None = None, kind: str = "image") -> dict:
    return {"type": kind, "url": url, "alt": alt}


def store(database_url: str, posts: list[ArchivedPost]) -> None:
    database = open_archive(database_url)
    try:
        upsert_posts(database, posts, source="test", now=NOW)
    finally:
        database.engine.dispose()


def rows(database_url: str) -> list[dict]:
    database = open_archive(database_url)
    try:
        with database.transaction() as connection:
            return [dict(row._mapping) for row in
                    connection.execute(select(tables.media).order_by(tables.media.c.remote_id, tables.media.c.url))]
    finally:
        database.engine.dispose()


def media_args(database_url: str, tmp_path: Path) -> list[str]:
    """SQLite: the folder beside the database (the default); PostgreSQL: --media-dir."""
    return [] if database_url.startswith("sqlite") else ["--media-dir", tmp_path / "media"]


def test_images_are_stored_by_sha256_and_recorded_and_the_bad_ones_named(database_url, tmp_path, server):
    store(database_url, [
        post("1", [image(f"{server.url}/img/a.png", "Een grafiek"), image(f"{server.url}/to-a", "Via een omweg")]),
        post("2", [image(f"{server.url}/img/b.jpg", "Het team"), image(f"{server.url}/clip.mp4", None, "video")]),
        post("3", [image(f"{server.url}/big.jpg"), image(f"{server.url}/big-unannounced.jpg"),
                   image(f"{server.url}/page.html"), image(f"{server.url}/to-file"), image(f"{server.url}/loop"),
                   image(f"{server.url}/slow.jpg"), image(f"{server.url}/drawing.svg"),
                   image(f"{server.url}/missing.jpg")]),
        post("4", [image("/system/media_attachments/files/1.png"), image("javascript:alert(1)")]),
    ])
    result = run("media", "fetch", "--db", database_url, "--max-size", CAP, "--timeout", "0.5",
                 *media_args(database_url, tmp_path))
    assert result.exit_code == 1, result.output
    folder = tmp_path / "media"
    assert f"{folder}: 4 downloaded, 0 copied from the archive, 0 already there, 2 skipped (no http(s) URL), " \
           f"8 failed; {2 * len(PNG) + len(JPEG) + len(MP4):,} bytes stored" in result.stdout
    errors = result.stderr
    assert "/big.jpg: 15,000 bytes, over the cap of 5,000 bytes" in errors
    assert "/big-unannounced.jpg: over the cap of 5,000 bytes (stopped reading)" in errors
    assert "/page.html: content type 'text/html' is no image or video" in errors
    assert "/to-file: redirected to file:///etc/passwd (only http(s) is followed)" in errors
    assert "/loop: more than 5 redirects" in errors
    assert "/slow.jpg: no answer within 0.5 s" in errors
    assert "/drawing.svg: content type 'image/svg+xml' is not kept" in errors
    assert "/missing.jpg: HTTP 404" in errors
    assert errors.count("mastodon 3: ") == 8

    stored = {(row["remote_id"], row["url"].removeprefix(server.url)): row for row in rows(database_url)}
    assert set(stored) == {("1", "/img/a.png"), ("1", "/to-a"), ("2", "/img/b.jpg"), ("2", "/clip.mp4")}
    for (_, path), body, content_type in ((("1", "/img/a.png"), PNG, "image/png"),
                                           (("2", "/img/b.jpg"), JPEG, "image/jpeg"),
                                           (("2", "/clip.mp4"), MP4, "video/mp4")):
        row = stored[("1" if path == "/img/a.png" else "2", path)]
        sha = hashlib.sha256(body).hexdigest()
        assert (row["sha256"], row["content_type"], row["bytes"], row["origin"]) == (sha, content_type, len(body),
                                                                                       "download")
        assert row["path"] == f"{sha[:2]}/{sha}" + {"image/png": ".png", "image/jpeg": ".jpg", "video/mp4": ".mp4"}[
            content_type]
        assert (folder / row["path"]).read_bytes() == body
    assert stored[("1", "/img/a.png")]["alt"] == "Een grafiek"
    assert stored[("1", "/to-a")]["path"] == stored[("1", "/img/a.png")]["path"]  # one file for the same bytes
    assert stored[("2", "/clip.mp4")]["alt"] is None
    # nothing partial anywhere: the refused and failed files left no bytes behind
    assert sorted(p.name for p in (folder / ".incoming").iterdir()) == []
    assert len([p for p in folder.rglob("*") if p.is_file()]) == 3


def test_a_second_run_fetches_nothing_and_a_lost_file_is_fetched_again(database_url, tmp_path, server):
    store(database_url, [post("1", [image(f"{server.url}/img/a.png", "Een grafiek")]),
                         post("2", [image(f"{server.url}/img/b.jpg")], account="other")])
    args = ["media", "fetch", "--db", database_url, *media_args(database_url, tmp_path)]
    first = run(*args, "--account", "@Team")
    assert first.exit_code == 0, first.output
    assert "1 downloaded" in first.stdout
    assert server.requests == ["/img/a.png"]

    again = run(*args, "--account", "team")
    assert again.exit_code == 0, again.output
    assert "0 downloaded, 0 copied from the archive, 1 already there; 0 bytes stored" in again.stdout
    assert server.requests == ["/img/a.png"]

    everyone = run(*args)
    assert "1 downloaded, 0 copied from the archive, 1 already there" in everyone.stdout
    assert server.requests == ["/img/a.png", "/img/b.jpg"]

    [stored] = [row for row in rows(database_url) if row["remote_id"] == "1"]
    (tmp_path / "media" / stored["path"]).unlink()
    run(*args)
    assert server.requests[-1] == "/img/a.png"
    assert (tmp_path / "media" / stored["path"]).read_bytes() == PNG
    assert len(rows(database_url)) == 2


def test_an_interrupted_run_keeps_what_it_finished_and_leaves_no_partial_file(database_url, tmp_path, server):
    store(database_url, [post(str(n), [image(f"{server.url}/img/{name}")], day=n)
                         for n, name in ((1, "a.png"), (2, "b.jpg"))])
    folder = tmp_path / "media"
    (folder / ".incoming").mkdir(parents=True)
    (folder / ".incoming" / "tmpold.part").write_bytes(b"half a picture from a run that was killed")
    database = open_archive(database_url)
    seen = []

    def interrupt_at_the_second(n):
        seen.append(n)
        if len(seen) == 2:
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            fetch_media(database, folder, now=NOW, progress=interrupt_at_the_second)
        assert [row["remote_id"] for row in rows(database_url)] == ["1"]
        assert list((folder / ".incoming").iterdir()) == []
        summary = fetch_media(database, folder, now=NOW)
    finally:
        database.engine.dispose()
    assert (summary.downloaded, summary.present, summary.failed) == (1, 1, [])
    assert server.requests == ["/img/a.png", "/img/b.jpg"]


def x_archive_folder(path: Path, files: dict[str, bytes]) -> Path:
    media = path / "data" / "tweets_media"
    media.mkdir(parents=True)
    for name, body in files.items():
        (media / name).write_bytes(body)
    return path


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "zip"])
def test_an_x_archives_media_are_used_without_the_network(database_url, tmp_path, server, packed):
    tweet, video_tweet = "1765000000000000001", "1765000000000000002"
    store(database_url, [
        post(tweet, [image(f"{server.url}/media/GAbCdEf.jpg", "Twee mensen aan tafel", "photo")], platform="x"),
        # a video's stored URL is its preview image; the archive holds the video itself
        post(video_tweet, [image(f"{server.url}/ext_tw_video_thumb/9/pu/img/Thumb.jpg", None, "video")],
             platform="x", day=2),
    ])
    files = {f"{tweet}-GAbCdEf.jpg": JPEG, f"{video_tweet}-Qw3rTy.mp4": MP4, "1765000000000000009-Other.png": PNG}
    archive = x_archive_folder(tmp_path / "twitter-2024", files)
    if packed:
        zipped = tmp_path / "twitter-2024.zip"
        with zipfile.ZipFile(zipped, "w") as out:
            for name, body in files.items():
                out.writestr(f"data/tweets_media/{name}", body)
        archive = zipped
    result = run("media", "fetch", "--db", database_url, "--from-archive", archive,
                 *media_args(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    assert "0 downloaded, 2 copied from the archive" in result.stdout
    assert server.requests == []
    stored = {row["remote_id"]: row for row in rows(database_url)}
    assert stored[tweet]["content_type"] == "image/jpeg" and stored[tweet]["origin"] == "x-archive"
    assert stored[tweet]["alt"] == "Twee mensen aan tafel"
    assert stored[video_tweet]["content_type"] == "video/mp4"
    assert (tmp_path / "media" / stored[video_tweet]["path"]).read_bytes() == MP4


def test_bad_input_is_named_with_exit_2(tmp_path, database_url):
    store(database_url, [post("1", [])])
    result = run("media", "fetch", "--db", database_url, "--from-archive", tmp_path,
                 *media_args(database_url, tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path}: no data/tweets_media/ here" in result.stderr
    result = run("media", "fetch", "--db", database_url, "--max-size", "lots")
    assert result.exit_code == 2 and "'lots' is not a size" in result.stderr


def test_a_database_that_is_no_file_needs_a_media_folder(tmp_path, database_url, monkeypatch):
    monkeypatch.delenv("CAMPAIGN_MEDIA_DIR", raising=False)
    if database_url.startswith("sqlite"):
        database_url = "sqlite://"  # in memory: no folder beside it either
    result = run("media", "fetch", "--db", database_url)
    assert result.exit_code == 2, result.output
    assert "name one with --media-dir DIR or CAMPAIGN_MEDIA_DIR" in result.stderr
    monkeypatch.setenv("CAMPAIGN_MEDIA_DIR", str(tmp_path / "elsewhere"))
    database = open_archive(database_url)
    try:
        assert media_folder(database) == tmp_path / "elsewhere"
    finally:
        database.engine.dispose()


def test_render_shows_the_local_copies_with_their_alt_text(database_url, tmp_path, server):
    store(database_url, [
        post("1", [image(f"{server.url}/img/a.png", HOSTILE_ALT), image(f"{server.url}/clip.mp4", "Filmpje", "video")]),
        post("2", [image("https://files.social.example/b.jpg", "Niet opgehaald"),
                   image("javascript:alert(3)", "Gevaarlijk")], day=2),
    ])
    fetched = run("media", "fetch", "--db", database_url, *media_args(database_url, tmp_path))
    assert fetched.exit_code == 1  # post 2's image is on no server here
    page = tmp_path / "site" / "tijdlijn" / "index.html"
    result = run("render", "--db", database_url, "--html", page, "--now", "2026-11-30T12:00:00Z",
                 *media_args(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    document = lxml_html.fromstring(page.read_text(encoding="utf-8"))
    assert document.xpath("//script") == []
    assert not any(element.get("onerror") for element in document.iter())
    [picture] = document.xpath("//img[@class='praatmee-image']")
    assert picture.get("alt") == HOSTILE_ALT
    assert (page.parent / picture.get("src")).resolve().read_bytes() == PNG
    assert picture.get("src").startswith("../../media/")
    links = {a.text_content(): a.get("href") for a in document.xpath("//span[@class='praatmee-media']/a")}
    video = links["▶ Filmpje"]
    assert (page.parent / video).resolve().read_bytes() == MP4
    assert links["🖼 Niet opgehaald"] == "https://files.social.example/b.jpg"  # a link: the page loads nothing else
    assert "🖼 Gevaarlijk" not in links and "javascript" not in page.read_text(encoding="utf-8")

    fragment = run("render", "--db", database_url, "--html", "-", "--fragment", "--now", "2026-11-30T12:00:00Z",
                   *media_args(database_url, tmp_path))
    section = ElementTree.fromstring(fragment.stdout)  # still well-formed XML
    [img] = [e for e in section.iter("img")]
    assert img.get("alt") == HOSTILE_ALT

    pages = run("render", "--db", database_url, "--pages", tmp_path / "pages", "--limit", 1,
                "--now", "2026-11-30T12:00:00Z", *media_args(database_url, tmp_path))
    assert pages.exit_code == 0, pages.output
    second = lxml_html.fromstring((tmp_path / "pages" / "page-2.html").read_text(encoding="utf-8"))
    [img] = second.xpath("//img")
    assert (tmp_path / "pages" / img.get("src")).resolve().read_bytes() == PNG


def test_the_jsonl_export_keeps_the_alt_text(database_url, tmp_path):
    store(database_url, [post("1", [image("https://files.social.example/a.png", "Een grafiek")])])
    out = tmp_path / "posts.jsonl"
    result = run("export", "--db", database_url, "--format", "jsonl", "-o", out)
    assert result.exit_code == 0, result.output
    [line] = out.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["media"] == [{"type": "image", "url": "https://files.social.example/a.png",
                                          "alt": "Een grafiek"}]


def test_an_imported_x_archive_and_its_media_folder(database_url, tmp_path):
    """X's own shape: the photo's media_url_https names the file <tweet id>-<name>; a video's names its
    preview image, and the archive holds its .mp4 (named after the video variant's URL)."""
    from tests.archive_fixtures import write_folder, x_archive_files, x_tweet

    photo = {"id_str": "1765", "type": "photo", "media_url_https": "https://pbs.twimg.com/media/GAbCdEf.jpg",
             "url": "https://t.co/p", "ext_alt_text": "De HR-strategen aan tafel"}
    video = {"id_str": "1766", "type": "video",
             "media_url_https": "https://pbs.twimg.com/ext_tw_video_thumb/1766/pu/img/Thumb.jpg",
             "url": "https://t.co/v", "video_info": {"variants": [
                 {"bitrate": "832000", "content_type": "video/mp4",
                  "url": "https://video.twimg.com/ext_tw_video/1766/pu/vid/640x360/Qw3rTy.mp4?tag=12"}]}}
    folder = write_folder(tmp_path / "twitter-2024", x_archive_files([
        x_tweet(556000000000000001, "Met foto https://t.co/p", media=[photo]),
        x_tweet(556000000000000002, "Met film https://t.co/v", media=[video]),
    ]))
    x_archive_folder(folder, {"556000000000000001-GAbCdEf.jpg": JPEG, "556000000000000002-Qw3rTy.mp4": MP4})
    media_dir = tmp_path / "media"
    assert run("import", "--db", database_url, folder).exit_code == 0
    result = run("media", "fetch", "--db", database_url, "--from-archive", folder, "--media-dir", media_dir)
    assert result.exit_code == 0, result.output
    assert "0 downloaded, 2 copied from the archive, 0 already there;" in result.stdout
    stored = {row["remote_id"]: row for row in rows(database_url)}
    assert stored["556000000000000001"]["alt"] == "De HR-strategen aan tafel"
    assert stored["556000000000000001"]["url"] == "https://pbs.twimg.com/media/GAbCdEf.jpg"
    assert (media_dir / stored["556000000000000002"]["path"]).read_bytes() == MP4
