"""The preview of a queued Threads post: its text as Threads shows it, counted as `check` counts it."""
from __future__ import annotations

from datetime import datetime, timezone

from campaign.preview import build_view, fragment
from campaign.preview.model import AccountView
from campaign.spec.text import length
from tests.test_preview import Segments, assert_inert, media_route

TEXT = "Praat mee 🇳🇱 met @gemeenteutrecht over #zelfstandigeteams en #utrecht: https://publicpapersutrecht.nl/teams"


def row(text: str) -> dict:
    return {"id": 3, "key": "tas/a/tas_t", "account": "tas_t", "campaign_id": "tas", "post_id": "a", "variant": 0,
            "state": "queued", "due_at": datetime(2027, 1, 18, 9, 0, tzinfo=timezone.utc),
            "local_time": "2027-01-18T10:00:00+01:00", "timezone": "Europe/Amsterdam",
            "payload": {"parts": [{"text": text, "media": []}, {"text": "Deel twee", "media": []}],
                        "language": "nl"}}


def test_a_threads_post_shows_one_topic_tag_its_link_and_the_count_of_check():
    view = build_view(row(TEXT), AccountView("tas_t", "threads", "@teamsaantstuur", None))
    first, _second = view.parts
    assert (first.length, first.limit) == (length("threads", TEXT), 500)
    assert first.length == len(TEXT) - 2 + 8  # the flag: two code points, eight UTF-8 bytes
    kinds = [(s.kind, s.text) for s in first.segments if s.kind != "text"]
    assert kinds == [("mention", "@gemeenteutrecht"), ("hashtag", "#zelfstandigeteams"),
                     ("link", "https://publicpapersutrecht.nl/teams")]  # only the first #tag is a topic
    markup = fragment(view, media_route)
    parsed = assert_inert(markup)
    assert "pm-threads" in parsed.elements[0][1]["class"].split()
    assert Segments(markup, "pm-platform").found == ["Threads"]
    assert view.account.shown_handle == "@teamsaantstuur" and view.account.host == "threads.net"
