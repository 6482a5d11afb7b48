"""Length rules per platform, templates and UTM tagging."""
from __future__ import annotations

import pytest

from campaign.spec.plan import analyse
from campaign.spec.text import add_utm, bluesky_display, length


@pytest.mark.parametrize("text, x, mastodon, bluesky", [
    ("€", 2, 1, 1),                      # U+20AC is outside X's light ranges
    ("e", 1, 1, 1),
    ("😀", 2, 1, 1),                      # every emoji counts 2 on X
    ("👩‍👩‍👧", 2, 1, 1),                      # one family emoji: one grapheme
    ("e\u0301", 1, 1, 1),                # NFC makes it é
    ("Praat mee: https://publicpapersutrecht.nl/een/heel/lang/pad/naar/de/discussie?x=1", 34, 34, 43),
    ("publicpapersutrecht.nl", 23, 22, 22),  # X links schemeless domains; Mastodon does not
    ("@team@social.example hoi", 24, 9, 24),
])
def test_lengths_per_platform(text, x, mastodon, bluesky):
    assert (length("x", text), length("mastodon", text), length("bluesky", text)) == (x, mastodon, bluesky)


def test_x_limit_is_280_weighted(write_posts):
    header = """\
        timezone: Europe/Amsterdam
        accounts:
          t: {platform: x, handle: "@t"}
        campaigns:
          c:
            accounts: [t]
            posts:
        """
    ok = analyse(write_posts(header + f"      - {{text: '{'€' * 140}', at: 2027-01-18 10:00}}\n"))
    assert ok.ok and ok.occurrences[0].parts[0].length == 280
    too_long = analyse(write_posts(header + f"      - {{text: '{'€' * 140}e', at: 2027-01-18 10:00}}\n"))
    [problem] = too_long.problems.errors
    assert "text is 281 characters on x, the limit is 280" in problem.message


def test_utm_is_added_to_the_campaign_links_only_and_counted():
    tagged = add_utm("Lees https://publicpapersutrecht.nl/a?x=1 of https://nos.nl/b",
                     frozenset({"publicpapersutrecht.nl"}), (("utm_source", "x"), ("utm_medium", "social")))
    assert tagged == "Lees https://publicpapersutrecht.nl/a?x=1&utm_source=x&utm_medium=social of https://nos.nl/b"
    # an existing utm parameter wins
    assert add_utm("https://p.nl/?utm_source=mail", frozenset({"p.nl"}), (("utm_source", "x"),)) == \
        "https://p.nl/?utm_source=mail"


def test_utm_per_platform_and_post_in_plan(write_posts):
    plan = analyse(write_posts("""\
        timezone: Europe/Amsterdam
        accounts:
          x1: {platform: x, handle: "@t"}
          m1: {platform: mastodon, instance: "https://s.example", handle: "@t@s.example"}
          b1: {platform: bluesky, handle: t.bsky.social}
        campaigns:
          tas:
            accounts: [x1, m1, b1]
            vars: {link: "https://publicpapersutrecht.nl/teams-aan-het-stuur-met-een-lang-pad"}
            utm: {medium: social}
            posts:
              - {id: praat-mee, text: "Praat mee: {link}", at: 2027-01-18 10:00}
        """))
    assert plan.ok, plan.problems.items
    by_account = {o.account: o for o in plan.occurrences}
    assert by_account["x1"].text.endswith(
        "?utm_source=x&utm_medium=social&utm_campaign=tas&utm_content=praat-mee")
    assert "utm_source=mastodon" in by_account["m1"].text
    assert by_account["x1"].parts[0].length == len("Praat mee: ") + 23
    assert by_account["m1"].parts[0].length == len("Praat mee: ") + 23
    shown, links = bluesky_display(by_account["b1"].text)
    assert shown == "Praat mee: publicpapersutrecht.nl/teams-aa…"  # 32 characters shown
    assert links[0][2].endswith("utm_source=bluesky&utm_medium=social&utm_campaign=tas&utm_content=praat-mee")
    assert by_account["b1"].parts[0].length == len(shown)


def test_bluesky_counts_300_graphemes(write_posts):
    header = """\
        timezone: Europe/Amsterdam
        accounts:
          b: {platform: bluesky, handle: t.bsky.social}
        campaigns:
          c:
            accounts: [b]
            posts:
        """
    assert analyse(write_posts(header + f"      - {{text: '{'😀' * 300}', at: 2027-01-18 10:00}}\n")).ok
    plan = analyse(write_posts(header + f"      - {{text: '{'😀' * 301}', at: 2027-01-18 10:00}}\n"))
    assert "301 characters on bluesky, the limit is 300" in plan.problems.errors[0].message


def test_literal_braces_and_bad_placeholders(write_posts):
    header = """\
        timezone: Europe/Amsterdam
        accounts:
          t: {platform: x, handle: "@t"}
        campaigns:
          c:
            accounts: [t]
            posts:
        """
    plan = analyse(write_posts(header + "      - {text: 'set {{a, b}}', at: 2027-01-18 10:00}\n"))
    assert plan.ok and plan.occurrences[0].text == "set {a, b}"
    bad = analyse(write_posts(header + "      - {text: 'open { brace', at: 2027-01-18 10:00}\n"))
    assert bad.problems.errors and "literal brace" in bad.problems.errors[0].message


# --- issue 17: counted without loading `regex` where no character can combine ------------------------------

from hypothesis import given, strategies as st  # noqa: E402


@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=60)
       | st.text(alphabet=st.sampled_from(list("aé\r\n\u0301\u200d👍🏽🇳🇱e ")), max_size=30))
def test_grapheme_count_fast_path_agrees_with_the_regex_module(text):
    import regex

    from campaign.spec.text import graphemes, threads_length

    assert graphemes(text) == len(regex.findall(r"\X", text))
    emoji = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3")
    assert threads_length(text) == sum(len(c.encode()) if emoji.search(c) else len(c)
                                       for c in regex.findall(r"\X", text))


def test_check_loads_neither_regex_nor_twitter_text_for_cached_plain_texts(basic_posts, tmp_path):
    """What keeps `campaign check` fast: a second run of an unchanged file imports no heavy module."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CAMPAIGN_CACHE_DIR": str(tmp_path / "cache")}
    code = ("import sys; from campaign.cli import main\n"
            "try:\n    main(['check', sys.argv[1], '--now', '2026-12-01T12:00Z'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('regex', 'twitter_text', 'sqlalchemy', 'pkg_resources') if m in sys.modules))")
    first = subprocess.run([sys.executable, "-c", code, str(basic_posts)], env=env, capture_output=True, text=True)
    assert "twitter_text" in first.stdout.splitlines()[-1] and "pkg_resources" not in first.stdout
    second = subprocess.run([sys.executable, "-c", code, str(basic_posts)], env=env, capture_output=True, text=True)
    assert second.stdout.splitlines()[-1] == "[]", second.stdout + second.stderr
