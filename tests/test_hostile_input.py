"""Issue 12: no posts.yaml stops the queue.

Every hostile file below is refused by `campaign check` with one error at FILE:LINE:COL (exit 2, no
traceback), quickly (see `./scripts/bench hostile` for the figures); and `campaign run` with such a
file exits 2 while the last good queue keeps going out.
"""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from campaign.spec import plan as plan_module
from campaign.cli import main
from tests.stage import mastodon_account_yaml, mastodon_env

HEADER = """\
timezone: Europe/Amsterdam
accounts:
  t: {platform: mastodon, handle: "@t", instance: "https://m.example"}
campaigns:
  c:
    accounts: [t]
    posts:
"""
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


def post(line: str) -> str:
    return "      - " + line + "\n"


# name -> (posts appended to HEADER, or a whole file when it does not start with "- "), expected words
HOSTILE = {
    "at_year_9999": (post('{id: far, text: x, at: "9999-12-31 23:30"}'), "the supported years are 1970–2200"),
    "at_year_1900": (post('{id: old, text: x, at: "1900-01-01 10:00"}'), "the supported years are 1970–2200"),
    "from_far": (post('{id: f, text: x, every: day, at: "10:00", from: 9000-01-01, count: 2}'), "out of range"),
    "until_far": (post('{id: u, text: x, every: day, at: "10:00", from: 2027-01-01, until: 9999-12-31}'),
                  "out of range"),
    "rrule_until_far": (post('{id: r, text: x, rrule: "FREQ=YEARLY;UNTIL=99991231T000000", from: "2027-01-01 10:00"}'),
                        "UNTIL 9999-12-31 is out of range"),
    "occurrences_past_2200": (post('{id: y, text: x, every: year, at: "10:00", from: 2199-01-01, count: 5}'),
                              "only 2 of the 5 occurrences"),
    "secondly": (post('{id: s, text: x, rrule: "FREQ=SECONDLY;COUNT=10000000", from: "2027-01-01 10:00"}'),
                 "FREQ=SECONDLY is not supported"),
    "rrule_count_huge": (post('{id: m, text: x, rrule: "FREQ=MINUTELY;COUNT=10000000", from: "2027-01-01 10:00"}'),
                         "COUNT=10000000 is more than 10,000"),
    "count_huge": (post('{id: h, text: x, every: day, at: "10:00", from: 2027-01-01, count: 10000000}'),
                   "'count' may be at most 10,000"),
    "minutely_for_years": (post('{id: y, text: x, rrule: FREQ=MINUTELY, from: "2027-01-01 10:00", until: 2199-01-01}'),
                           "more than 10,000 occurrences"),
    "count_negative": (post('{id: n, text: x, every: day, at: "10:00", from: 2027-01-01, count: -5}'),
                       "'count' must be at least 1"),
    "never_fires": (post('{id: n, text: x, rrule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", from: "2027-01-01 10:00", '
                         'count: 3}'), "never happens"),
    "late_huge": (post('{id: l, text: x, at: "2027-01-01 10:00", late: 99999999d}'), "longer than 3650 days"),
    "text_1mb": (post('{id: t, text: "' + "a b " * 250_000 + '", at: "2027-01-01 10:00"}'), "text is far too long"),
    "nested_500": (post('{id: n, text: x, at: "2027-01-01 10:00", media: ' + "[" * 500 + "]" * 500 + "}"),
                   "nested more than 50 levels deep"),
    "alias_bomb": (BOMB, "expands to more than"),
    "file_6mb": (HEADER + "# " + "x" * 6_000_000 + "\n", "posts.yaml may be at most 5 MB"),
}

# Inputs that pass today and must keep passing: the budgets are far from ordinary files.
FINE = {
    "small_anchor": HEADER.replace("    posts:\n", "    vars: &v {link: 'https://p.nl'}\n    posts:\n")
    + post('{id: a, text: "x {link}", at: "2027-01-01 10:00"}') + "  d:\n    accounts: [t]\n    vars: *v\n"
    "    posts:\n" + post('{id: b, text: "y {link}", at: "2027-01-02 10:00"}'),
    "minutely_count": HEADER + post('{id: m, variants: [a, b, c], rrule: FREQ=MINUTELY, from: "2027-01-01 10:00", '
                                    'count: 3}'),
    "year_2200": HEADER + post('{id: y, text: x, at: "2200-12-31 23:00", late: 3650d}'),
    "text_400": HEADER + post('{id: t, text: "' + "ab " * 133 + '", at: "2027-01-01 10:00"}'),
}


def content(spec: str) -> str:
    return HEADER + spec if spec.startswith("      - ") else spec


def check(path):
    return CliRunner().invoke(main, ["check", str(path)], env={"CAMPAIGN_FILE": None})


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_check_refuses_with_one_located_error(tmp_path, name):
    spec, expected = HOSTILE[name]
    path = tmp_path / "posts.yaml"
    path.write_text(content(spec), encoding="utf-8")
    result = check(path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, (SystemExit, type(None)))
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1, errors
    assert re.match(rf"^{re.escape(str(path))}:\d+:\d+: error: ", errors[0])
    assert expected in errors[0]


@pytest.mark.parametrize("name", sorted(FINE))
def test_ordinary_files_still_pass(tmp_path, name):
    path = tmp_path / "posts.yaml"
    path.write_text(FINE[name], encoding="utf-8")
    result = check(path)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_occurrences_per_file_are_capped_while_expanding(tmp_path, monkeypatch):
    monkeypatch.setattr(plan_module, "MAX_OCCURRENCES_PER_FILE", 5)
    path = tmp_path / "posts.yaml"
    path.write_text(HEADER + post('{id: d, text: x, every: day, at: "10:00", from: 2027-01-01, count: 3}')
                    + post('{id: e, text: y, every: day, at: "11:00", from: 2027-01-01, count: 3}'), encoding="utf-8")
    errors = [line for line in check(path).output.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "more than 5 occurrences" in errors[0]


def test_an_unexpected_exception_is_a_configuration_error(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(plan_module, "expand", broken)
    path = tmp_path / "posts.yaml"
    path.write_text(HEADER + post('{id: a, text: x, at: "2027-01-01 10:00"}'), encoding="utf-8")
    result = check(path)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{path}:1:1: error: cannot read this file (KeyError" in result.output


# --- run: the last good queue keeps going out -------------------------------------------------------

RUN_CASES = ["at_year_9999", "secondly", "text_1mb", "nested_500", "alias_bomb", "file_6mb", "never_fires",
             "not_utf8", "unexpected"]


def invoke(stage, *args):
    env = {**{k: None for k in ("CAMPAIGN_DATABASE_URL", "CAMPAIGN_FILE")}, **stage.environ}
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def write_bad(stage, name: str, monkeypatch) -> None:
    if name == "not_utf8":
        stage.posts_file.write_bytes(stage.posts_file.read_bytes() + b"# \xff\xfe\n")
    elif name == "unexpected":
        monkeypatch.setattr(plan_module, "expand", lambda *a, **k: 1 / 0)
        stage.posts_file.write_text(stage.posts_file.read_text() + "# changed\n", encoding="utf-8")
    else:
        spec, _ = HOSTILE[name]
        text = stage.posts_file.read_text() + spec if spec.startswith("      - ") else spec
        stage.posts_file.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("name", RUN_CASES)
def test_run_keeps_posting_the_last_good_queue(stage, fake_mastodon, monkeypatch, name):
    stage.environ.update(mastodon_env(fake_mastodon))
    stage.write(mastodon_account_yaml(fake_mastodon), f"- {{id: due, text: 'Praat mee', at: {stage.at(-1)}}}\n",
                accounts="tas_m")
    synced = invoke(stage, "sync", stage.posts_file, "--db", stage.db_url)
    assert synced.exit_code == 0, synced.output
    write_bad(stage, name, monkeypatch)
    result = invoke(stage, "run", stage.posts_file, "--db", stage.db_url)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "kept posting what was queued before it changed" in result.output
    assert [p["text"] for p in fake_mastodon.posts] == ["Praat mee"]
