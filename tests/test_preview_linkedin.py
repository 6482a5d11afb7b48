"""The LinkedIn preview shows what the page will show: the text the fake receives (mentions by
name, #tags, links in full), the page's address, and the later parts of a thread as comments."""
from __future__ import annotations

from campaign.preview import fragment, load_view, stylesheet
from campaign.preview.segments import segments
from tests.fakes.linkedin import linkedin_account_yaml, linkedin_env
from tests.test_preview import Parsed, Segments, media_route

TEXT = ("Praat mee over #zelfstandigeteams met @[Gemeente Utrecht](urn:li:organization:1234) "
        "(en @iedereen): {link}")


def test_the_preview_is_what_the_page_shows(stage, fake_linkedin):
    stage.environ.update(linkedin_env(fake_linkedin))
    stage.write(linkedin_account_yaml(fake_linkedin),
                f"- {{thread: ['{TEXT}', 'Reageer hieronder'], at: {stage.at(-1)}}}\n", accounts="tas_l",
                extra="    utm: {medium: social}\n")
    stage.sync()
    [row] = stage.rows()
    view = load_view(stage.db, row.id)
    assert view.account.shown_handle == "linkedin.com/company/teamsaantstuur"
    assert view.account.platform_name == "LinkedIn" and view.parts[0].limit == 3000
    assert stage.run().count("sent") == 1
    post, comment = fake_linkedin.posts
    assert [post["text"], comment["text"]] == [part.shown for part in view.parts]
    markup = fragment(view, media_route)
    assert "pm-linkedin" in Parsed(markup).tags("article")[0]["class"]
    assert Segments(markup, "pm-mention").found == ["Gemeente Utrecht"]
    assert Segments(markup, "pm-hashtag").found == ["#zelfstandigeteams"]
    [link] = view.parts[0].links
    assert link.text == link.source and link.href.startswith("https://publicpapersutrecht.nl/teams?utm_source=linkedin")
    assert ".pm-linkedin" in stylesheet()


def test_linkedin_segments_keep_every_character_of_the_source():
    text = "a #b @[C (D)](urn:li:organization:5) https://e.nl/f_(g) @h"
    found = segments("linkedin", text)
    assert "".join(s.source for s in found) == text
    assert [(s.kind, s.text) for s in found if s.kind != "text"] == [
        ("hashtag", "#b"), ("mention", "C (D)"), ("link", "https://e.nl/f_(g)")]
