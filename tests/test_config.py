"""posts.yaml validation: every problem, at its FILE:LINE:COL, with a useful hint."""
from __future__ import annotations

from campaign.spec.plan import analyse

HEADER = """\
timezone: Europe/Amsterdam
accounts:
  teamsaantstuur:
    platform: x
    handle: "@teamsaantstuur"
campaigns:
  tas:
    accounts: [teamsaantstuur]
    posts:
"""


def problems_of(path):
    return [str(p) for p in analyse(path).problems.sorted()]


def test_valid_file_has_no_problems(basic_posts):
    plan = analyse(basic_posts)
    assert plan.ok
    assert plan.problems.items == []
    assert len(plan.occurrences) == 5


def test_misspelt_key_is_reported_with_position_and_near_match(write_posts):
    path = write_posts(HEADER + "      - txet: hallo\n        at: 2027-01-18 10:00\n")
    problems = problems_of(path)
    assert f"{path}:10:9: error: unknown key 'txet' in a post (did you mean 'text'?)" in problems


def test_all_problems_are_reported_at_once(write_posts):
    path = write_posts("""\
        timezone: Europe/Amstredam
        accounts:
          teamsaantstuur: {platform: twitter, handle: "@t"}
        campaigns:
          tas:
            accounts: [teamsaantstur]
            posts:
              - text: 42
                at: tomorrow
        """)
    problems = problems_of(path)
    assert any(":1:11: error: unknown time zone 'Europe/Amstredam'" in p for p in problems)
    assert any(":3:30: error: account 'teamsaantstuur': platform 'twitter'" in p and "did you mean 'x'?" in p for p in problems)
    assert any(":6:16: error: unknown account 'teamsaantstur' (did you mean 'teamsaantstuur'?)" in p
               for p in problems)
    assert any(":8:15: error: a text must be text, not a whole number (quote it)" in p for p in problems)
    assert any(":9:13: error: at: 'tomorrow' is not a local date and time" in p for p in problems)
    assert len(problems) == 5, problems  # no follow-on noise (e.g. "no time zone", "no account")


def test_yaml_syntax_error_has_position(write_posts):
    path = write_posts("accounts: [x\ncampaigns: {}\n")
    problems = problems_of(path)
    # Issue 17: the list that is never closed is named where it opens, with the fix.
    assert problems == [f"{path}:1:11: error: YAML syntax error: the list opened with '[' on line 1 is not closed: "
                        "add ']' (or put a text with '[' in quotes)"]


def test_duplicate_key_is_an_error_not_a_silent_overwrite(write_posts):
    path = write_posts(HEADER + "      - text: een\n        text: twee\n        at: 2027-01-18 10:00\n")
    assert any(":11:9: error: duplicate key 'text' (first at line 10)" in p for p in problems_of(path))


def test_on_key_is_a_word_not_a_yaml_boolean(write_posts):
    path = write_posts(HEADER + """\
      - text: hallo
        every: week
        on: [mon]
        at: "10:00"
        from: 2027-01-04
        count: 2
""")
    plan = analyse(path)
    assert plan.ok, problems_of(path)
    assert [o.local_time.strftime("%a %d %H:%M") for o in plan.occurrences] == ["Mon 04 10:00", "Mon 11 10:00"]


def test_credentials_in_the_file_are_refused_with_the_environment_variable_to_use(write_posts):
    path = write_posts("""\
        timezone: Europe/Amsterdam
        accounts:
          teamsaantstuur:
            platform: x
            handle: "@t"
            access_token: 1234-abcd-super-secret
        campaigns: {}
        """)
    problems = problems_of(path)
    assert any(":6:5: error: 'access_token' looks like a credential" in p
               and "CAMPAIGN_TEAMSAANTSTUUR_ACCESS_TOKEN" in p for p in problems)
    assert not any("1234-abcd-super-secret" in p for p in problems)


def test_undefined_template_variable_suggests_the_defined_one(write_posts):
    path = write_posts(HEADER.replace("    posts:\n", "    vars: {link: 'https://example.org'}\n    posts:\n")
                       + "      - text: 'Praat mee: {lnik}'\n        at: 2027-01-18 10:00\n")
    assert any("undefined variable '{lnik}' (did you mean 'link'?)" in p for p in problems_of(path))


def test_media_needs_an_existing_file_and_alt_text(write_posts, tmp_path):
    (tmp_path / "foto.png").write_bytes(b"\x89PNG")
    path = write_posts(HEADER + """\
      - text: met foto
        media: {path: foto.png}
        at: 2027-01-18 10:00
      - text: zonder bestand
        media: {path: weg.png, alt: een foto}
        at: 2027-01-18 11:00
""")
    problems = problems_of(path)
    assert any(":11:16: error: media needs 'alt' text" in p for p in problems)
    assert any(":14:23: error: media file 'weg.png' not found" in p for p in problems)


def test_recurrence_without_end_is_an_error(write_posts):
    path = write_posts(HEADER + "      - text: elke week\n        every: week\n        at: '10:00'\n"
                                "        from: 2027-01-04\n")
    assert any("this recurrence never ends: add 'until' or 'count'" in p for p in problems_of(path))


def test_missing_time_zone_is_an_error(write_posts):
    path = write_posts(HEADER.replace("timezone: Europe/Amsterdam\n", "")
                       + "      - text: hallo\n        at: 2027-01-18 10:00\n")
    assert any("has no time zone" in p for p in problems_of(path))


def test_wrong_types_are_named(write_posts):
    path = write_posts(HEADER.replace("    posts:\n", "    posts: hallo\n"))
    assert any(":9:12: error: 'posts' must be a list of posts, not text" in p for p in problems_of(path))


def test_empty_and_non_mapping_files(write_posts):
    assert any("the file is empty" in p for p in problems_of(write_posts("")))
    assert any("must be a mapping" in p for p in problems_of(write_posts("- a\n- b\n")))


def test_duplicate_post_ids_are_refused(write_posts):
    path = write_posts(HEADER + "      - {id: a, text: een, at: 2027-01-18 10:00}\n"
                                "      - {id: a, text: twee, at: 2027-01-19 10:00}\n")
    assert any(":11:9: error: post id 'a' is used twice" in p for p in problems_of(path))


def test_max_per_day_exceeded_is_a_warning(write_posts):
    path = write_posts(HEADER.replace('handle: "@teamsaantstuur"', 'handle: "@t"\n    max_per_day: 2') + """\
      - variants: [een, twee, drie]
        every: hour
        from: 2027-01-18 09:00
        count: 3
""".replace("every: hour", "rrule: FREQ=HOURLY"))
    plan = analyse(path)
    assert plan.ok
    assert [p.severity for p in plan.problems.items] == ["warning"]
    assert "3 posts in the 24 h" in plan.problems.items[0].message and "max_per_day 2" in plan.problems.items[0].message


def test_identical_text_on_x_within_24h_is_an_error(write_posts):
    path = write_posts(HEADER + """\
      - text: Praat mee!
        every: day
        at: ["09:00", "17:00"]
        from: 2027-01-18
        count: 4
""")
    problems = problems_of(path)
    assert len([p for p in problems if "within 24 h on X account 'teamsaantstuur'" in p]) == 1
    assert any("add 'variants'" in p for p in problems)


def test_identical_text_a_day_apart_is_fine(write_posts):
    path = write_posts(HEADER + "      - {id: a, text: Praat mee!, at: 2027-01-18 10:00}\n"
                                "      - {id: b, text: Praat mee!, at: 2027-01-19 10:00}\n")
    assert analyse(path).ok
