"""Bluesky link cards: built at send time from the linked page (a loopback web server the test
starts, reached as a proxy so the links keep real host names), set by hand, or turned off; a
hostile page never holds a post back; the card choice is part of the queued payload."""
from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.stage import bluesky_account_yaml, bluesky_env

PNG = (Path(__file__).resolve().parent.parent / "media" / "stadskantoor030.png").read_bytes()
PAGE = b"""<!doctype html><html><head><meta charset="utf-8">
<title>Teams aan het stuur! | Public Papers Utrecht</title>
<meta property="og:title" content="Teams aan het stuur!">
<meta property="og:description" content="Praat mee over zelfstandige teams bij de gemeente Utrecht.">
<meta property="og:image" content="/beeld.png">
</head><body><h1>Hallo</h1></body></html>"""


class Pages(BaseHTTPRequestHandler):
    """Answers as a forward proxy would (absolute request targets) for every host."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = "/" + self.path.split("://", 1)[-1].split("/", 1)[-1] if "://" in self.path else self.path
        self.server.seen.append(path)
        if path == "/pagina":
            self._send(200, PAGE)
        elif path == "/beeld.png":
            self._send(200, PNG, "image/png")
        elif path == "/twitter":
            self._send(200, b"<html><head><meta name='twitter:title' content='Via Twitter-kaart'>"
                            b"<meta name='twitter:description' content='Beschrijving'></head></html>")
        elif path == "/groot-beeld":
            self._send(200, PAGE.replace(b"/beeld.png", b"/reus.png"))
        elif path == "/reus.png":
            self._send(200, PNG[:16] + b"\0" * 2_000_000, "image/png")
        elif path == "/enorm":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(50_000_000))
            self.end_headers()
            try:
                for _ in range(5000):  # 50 MB of nothing useful, unless the reader stops
                    self.wfile.write(b"<p>" + b"x" * 9_993 + b"</p>\n")
            except OSError:
                pass
        elif path == "/traag":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(400):  # one byte at a time, until the reader gives up
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    if self.server.stop.wait(0.05):
                        return
            except OSError:
                pass
        elif path == "/naar-bestand":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/rondje":
            self.send_response(302)
            self.send_header("Location", "http://kaart.nl/rondje")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/kapot":
            self._send(200, b"<html><head><meta property='og:title' content='Half <<<<\xff\xfe<meta <title")
        else:
            self._send(404, b"niet gevonden")

    def _send(self, status: int, body: bytes, kind: str = "text/html; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass


@pytest.fixture
def pages():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    server.daemon_threads = True
    server.seen, server.stop = [], threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.stop.set()
    server.shutdown()
    server.server_close()


def setup(stage, fake, pages, posts_yaml: str, deadline: str = "2"):
    stage.environ.update(bluesky_env(fake))
    stage.environ.update({"CAMPAIGN_CARD_TIMEOUT": deadline,
                          "CAMPAIGN_CARD_PROXY": f"http://127.0.0.1:{pages.server_address[1]}"})
    stage.write(bluesky_account_yaml(fake), posts_yaml, accounts="tas_b")
    stage.sync()


def external(post) -> dict | None:
    embed = post["embed"] or {}
    assert embed.get("$type") in (None, "app.bsky.embed.external")
    return embed.get("external")


def test_a_link_gets_a_card_from_the_pages_open_graph(stage, fake_bluesky, pages):
    setup(stage, fake_bluesky, pages, f"- {{text: 'Praat mee: http://kaart.nl/pagina', at: {stage.at(-1)}}}\n")
    assert stage.run().count("sent") == 1
    [post] = fake_bluesky.posts
    card = external(post)
    assert card["uri"] == "http://kaart.nl/pagina"
    assert card["title"] == "Teams aan het stuur!"
    assert card["description"] == "Praat mee over zelfstandige teams bij de gemeente Utrecht."
    blob = fake_bluesky.blobs[card["thumb"]["ref"]["$link"]]
    assert blob["mime"] == "image/png" and blob["size"] == len(PNG)
    assert pages.seen == ["/pagina", "/beeld.png"]


def test_twitter_card_tags_do_when_there_is_no_open_graph(stage, fake_bluesky, pages):
    setup(stage, fake_bluesky, pages, f"- {{text: 'Zie http://kaart.nl/twitter', at: {stage.at(-1)}}}\n")
    assert stage.run().count("sent") == 1
    card = external(fake_bluesky.posts[0])
    assert (card["title"], card["description"], card.get("thumb")) == ("Via Twitter-kaart", "Beschrijving", None)


def test_card_false_leaves_it_out_and_fetches_nothing(stage, fake_bluesky, pages):
    setup(stage, fake_bluesky, pages,
          f"- {{text: 'Geen kaart: http://kaart.nl/pagina', card: false, at: {stage.at(-1)}}}\n")
    assert stage.run().count("sent") == 1
    assert fake_bluesky.posts[0]["embed"] is None and pages.seen == []


def test_a_card_set_by_hand_needs_no_page(stage, fake_bluesky, pages):
    (stage.folder / "kaart.png").write_bytes(PNG)
    setup(stage, fake_bluesky, pages, f"""\
        - text: "Lees het stuk: http://kaart.nl/pagina"
          card: {{title: "Zelf gekozen titel", description: "Met de hand", image: kaart.png, alt: "Het stadskantoor"}}
          at: {stage.at(-1)}
        """)
    assert stage.run().count("sent") == 1
    card = external(fake_bluesky.posts[0])
    assert (card["title"], card["description"]) == ("Zelf gekozen titel", "Met de hand")
    assert fake_bluesky.blobs[card["thumb"]["ref"]["$link"]]["size"] == len(PNG)
    assert pages.seen == []


@pytest.mark.parametrize("path", ["/enorm", "/traag", "/naar-bestand", "/rondje", "/kapot", "/bestaat-niet"])
def test_a_hostile_page_never_holds_the_post_back(stage, fake_bluesky, pages, path):
    setup(stage, fake_bluesky, pages, f"- {{text: 'Kijk: http://kaart.nl{path}', at: {stage.at(-1)}}}\n",
          deadline="1")
    report = stage.run()
    assert report.count("sent") == 1 and report.exit_code == 0
    [post] = fake_bluesky.posts
    assert post["text"].startswith("Kijk: kaart.nl")
    card = external(post)
    if card is not None:  # what a broken page yields before it breaks may still make a card
        assert card["uri"] == f"http://kaart.nl{path}" and not card.get("thumb")
    if path == "/naar-bestand":
        assert card is None and pages.seen == ["/naar-bestand"]
    if path == "/rondje":
        assert card is None and len(pages.seen) == 4  # the first request and three redirects


def test_a_thumbnail_over_a_megabyte_is_left_out_not_the_card(stage, fake_bluesky, pages):
    setup(stage, fake_bluesky, pages, f"- {{text: 'http://kaart.nl/groot-beeld', at: {stage.at(-1)}}}\n")
    assert stage.run().count("sent") == 1
    card = external(fake_bluesky.posts[0])
    assert card["title"] == "Teams aan het stuur!" and not card.get("thumb") and fake_bluesky.blobs == {}


def test_images_take_the_one_embed_so_no_card_is_fetched(stage, fake_bluesky, pages):
    (stage.folder / "foto.png").write_bytes(PNG)
    setup(stage, fake_bluesky, pages, f"""\
        - text: "Met foto: http://kaart.nl/pagina"
          media: {{path: foto.png, alt: "Een deur"}}
          at: {stage.at(-1)}
        """)
    assert stage.run().count("sent") == 1
    assert fake_bluesky.posts[0]["embed"]["$type"] == "app.bsky.embed.images" and pages.seen == []


# -- the card in the queue ----------------------------------------------------------------------

def old_content_hash(row) -> str:
    """The content hash as it was computed before cards existed (plan format 2)."""
    blob = json.dumps([row.account, row.due_at.isoformat() if row.due_at.tzinfo else
                       row.due_at.isoformat() + "+00:00", row.local_time, row.late_seconds, row.variant,
                       row.payload], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_the_default_card_leaves_payload_and_hash_as_they_were(stage, fake_bluesky, pages):
    setup(stage, fake_bluesky, pages, f"- {{text: 'Praat mee: {{link}}', at: {stage.at(60)}}}\n")
    [row] = stage.rows()
    assert "card" not in row.payload["parts"][0]
    assert row.content_hash == old_content_hash(row)


def test_changing_the_card_updates_the_queued_post(stage, fake_bluesky, pages):
    at = stage.at(60)
    setup(stage, fake_bluesky, pages, f"- {{id: een, text: 'Praat mee: {{link}}', at: {at}}}\n")
    before = stage.rows()[0].content_hash
    stage.write(bluesky_account_yaml(fake_bluesky),
                f"- {{id: een, text: 'Praat mee: {{link}}', card: false, at: {at}}}\n", accounts="tas_b")
    summary = stage.sync()
    [row] = stage.rows()
    assert summary.updated == 1 and row.payload["parts"][0]["card"] is False and row.content_hash != before
    stage.write(bluesky_account_yaml(fake_bluesky), f"""\
        - id: een
          text: "Praat mee: {{link}}"
          card: {{title: Titel, description: Tekst}}
          at: {at}
        """, accounts="tas_b")
    assert stage.sync().updated == 1
    assert stage.rows()[0].payload["parts"][0]["card"] == {"title": "Titel", "description": "Tekst", "image": None}
