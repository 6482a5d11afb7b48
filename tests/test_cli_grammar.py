"""One grammar for both commands (issue 13, item 5): the posts file as [FILE] or --file, one time
parser, accounts by posts.yaml name or handle, one mapping of errors to messages and exit codes."""
from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from archive.cli import main as archive_main
from campaign.cli import main as campaign_main
from tests.test_show import SEED_LINES, seeded  # noqa: F401  (seeded: a fixture)

NOW = "2026-12-01T12:00Z"
CLEAN_ENV = {"CAMPAIGN_DATABASE_URL": None, "CAMPAIGN_FILE": None, "ARCHIVE_TIMEZONE": None}


def campaign(*args):
    return CliRunner().invoke(campaign_main, [str(a) for a in args], env=CLEAN_ENV, catch_exceptions=False)


def archive(*args):
    return CliRunner().invoke(archive_main, [str(a) for a in args], env=CLEAN_ENV, catch_exceptions=False)


@pytest.fixture
def gemeente_posts(write_posts):
    """A posts.yaml whose account name (gemeente_social) differs from its handle (@teamsaantstuur)."""
    return write_posts("""\
        timezone: Europe/Amsterdam
        accounts:
          gemeente_social:
            platform: x
            handle: "@teamsaantstuur"
          social:
            platform: mastodon
            instance: https://social.example
            handle: "@team@social.example"
        campaigns:
          tas:
            accounts: [gemeente_social, social]
            posts:
              - {id: a, text: "Praat mee", at: 2027-01-18 10:00}
        """)


# --- accounts: by posts.yaml name or by handle, in every command; unknown is exit 2 --------------------

def test_archive_show_takes_the_posts_yaml_account_name(seeded, gemeente_posts):
    result = archive("show", "gemeente_social", "--file", gemeente_posts, "--db", seeded,
                     "--locale", "nl", "--now", "2020-11-27", "--as-posted")
    assert result.exit_code == 0, result.output
    assert result.output == SEED_LINES


@pytest.mark.parametrize("name", ["@teamsaantstuur", "@TeamSaantStuur", "teamsaantstuur"])
def test_archive_show_takes_the_handle(seeded, name):
    result = archive("show", name, "--db", seeded, "--locale", "nl", "--now", "2020-11-27", "--as-posted")
    assert result.exit_code == 0 and result.output == SEED_LINES, result.output


def test_archive_unknown_account_is_exit_2_naming_those_that_exist(seeded, gemeente_posts):
    for command in (("show", "nobody"), ("render", "nobody", "--html", "-"), ("export", "--account", "nobody"),
                    ("stats", "--account", "nobody")):
        result = archive(*command, "--file", gemeente_posts, "--db", seeded)
        assert result.exit_code == 2, (command, result.output)
        assert "unknown account 'nobody'; known: @teamsaantstuur, gemeente_social, social" in result.output, command


def test_archive_export_and_stats_take_the_account_name(seeded, gemeente_posts):
    result = archive("stats", "--account", "gemeente_social", "--file", gemeente_posts, "--db", seeded)
    assert result.exit_code == 0 and result.output.startswith("10 posts"), result.output
    result = archive("export", "--account", "@teamsaantstuur", "--format", "jsonl", "--db", seeded)
    assert result.exit_code == 0 and len(result.output.splitlines()) == 10, result.output


def test_campaign_takes_a_handle_wherever_it_takes_an_account(basic_posts, tmp_path):
    db = tmp_path / "q.db"
    assert campaign("sync", basic_posts, "--db", db, "--now", NOW).exit_code == 0
    result = campaign("history", basic_posts, "--db", db, "--now", NOW, "--account", "@teamsaantstuur")
    assert result.exit_code == 0, result.output
    result = campaign("post", "@team@social.example", "Hallo", "--file", basic_posts, "--db", db, "--now", NOW)
    assert result.exit_code == 0 and "for social at" in result.output, result.output
    result = campaign("retry", "--all-failed", "--account", "@TEAMSAANTSTUUR", "--file", basic_posts, "--db", db,
                      "--now", NOW)
    assert result.exit_code == 0 and "nothing to do" in result.output, result.output
    result = campaign("history", basic_posts, "--db", db, "--now", NOW, "--account", "@nobody")
    assert result.exit_code == 2 and "unknown account '@nobody'; known: social, teamsaantstuur" in result.output


# --- the posts file: [FILE] or --file -------------------------------------------------------------------

@pytest.mark.parametrize("form", ["argument", "option"])
def test_the_posts_file_is_an_argument_or_file_in_campaign(basic_posts, tmp_path, form):
    db = tmp_path / "q.db"
    where = [basic_posts] if form == "argument" else ["--file", basic_posts]
    assert campaign("check", *where).exit_code == 0
    assert campaign("plan", *where, "--format", "csv").exit_code == 0
    assert campaign("sync", *where, "--db", db, "--now", NOW).exit_code == 0
    assert campaign("status", *where, "--db", db, "--now", NOW).exit_code == 0
    assert campaign("history", *where, "--db", db, "--now", NOW).exit_code == 0


@pytest.mark.parametrize("form", ["argument", "option"])
def test_the_posts_file_is_an_argument_or_file_in_archive(seeded, gemeente_posts, form):
    where = [gemeente_posts] if form == "argument" else ["--file", gemeente_posts]
    for command in ("export", "stats"):
        result = archive(command, *where, "--account", "gemeente_social", "--db", seeded)
        assert result.exit_code == 0, (command, result.output)


def test_two_different_posts_files_are_a_usage_error(basic_posts, tmp_path):
    result = campaign("check", basic_posts, "--file", tmp_path / "other.yaml")
    assert result.exit_code == 2 and "two posts files" in result.output


def test_the_posts_file_from_the_environment(basic_posts):
    result = CliRunner().invoke(campaign_main, ["check"], env={**CLEAN_ENV, "CAMPAIGN_FILE": str(basic_posts)})
    assert result.exit_code == 0 and "OK" in result.output


# --- one time parser --------------------------------------------------------------------------------

def test_campaign_now_may_be_local_in_the_posts_yaml_zone(basic_posts, tmp_path):
    local = campaign("sync", basic_posts, "--db", tmp_path / "a.db", "--now", "2026-12-01T13:00")
    assert local.exit_code == 0, local.output
    assert campaign("sync", basic_posts, "--db", tmp_path / "b.db", "--now", "2026-12-01").exit_code == 0


def test_one_time_parser():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    import click

    from campaign.options import parse_time

    amsterdam = ZoneInfo("Europe/Amsterdam")
    utc = timezone.utc
    assert parse_time("2027-01-11T10:00", amsterdam) == datetime(2027, 1, 11, 9, 0, tzinfo=utc)
    assert parse_time("2027-01-11T10:00", "Europe/Amsterdam") == datetime(2027, 1, 11, 9, 0, tzinfo=utc)
    assert parse_time("2027-01-11T10:00", lambda: amsterdam) == datetime(2027, 1, 11, 9, 0, tzinfo=utc)
    assert parse_time("2027-01-11T10:00") == datetime(2027, 1, 11, 10, 0, tzinfo=utc)
    assert parse_time("2027-01-11T10:00Z", amsterdam) == datetime(2027, 1, 11, 10, 0, tzinfo=utc)
    assert parse_time("2027-01-11T10:00+02:00", amsterdam) == datetime(2027, 1, 11, 8, 0, tzinfo=utc)
    assert parse_time("2027-01-11", amsterdam) == datetime(2027, 1, 10, 23, 0, tzinfo=utc)
    assert parse_time("2027-01-11", amsterdam, end_of_day=True) == datetime(2027, 1, 11, 23, 0, tzinfo=utc)
    never = lambda: pytest.fail("the zone is looked up only for a local time")  # noqa: E731
    assert parse_time("2027-01-11T10:00Z", never) == datetime(2027, 1, 11, 10, 0, tzinfo=utc)
    for bad, message in (("gisteren", "is not a date"), ("1969-12-31", "the supported years are 1970–2200"),
                         ("2201-01-01T00:00Z", "the supported years are 1970–2200")):
        with pytest.raises(click.BadParameter, match=message):
            parse_time(bad, amsterdam)


# --- one mapping of errors -------------------------------------------------------------------------

def test_archive_prints_every_problem_of_an_invalid_posts_yaml(write_posts):
    path = write_posts(textwrap.dedent("""\
        timezone: Mars/Olympus
        accounts:
          t: {platform: myspace, handle: "@t"}
        campaigns: {}
        """))
    result = archive("fetch", "--all", "--file", path)
    assert result.exit_code == 2
    assert f"{path}:1:11: error: unknown time zone 'Mars/Olympus'" in result.output
    assert f"{path}:3:" in result.output and "myspace" in result.output
    assert "Traceback" not in result.output


def test_both_commands_map_errors_the_same_way(tmp_path):
    missing = tmp_path / "nothing.db"
    for main, prog, args in ((campaign_main, "campaign", ["status", "--db", missing]),
                             (archive_main, "archive", ["show", "--db", missing])):
        result = CliRunner().invoke(main, [str(a) for a in args], env=CLEAN_ENV, catch_exceptions=False)
        assert result.exit_code == 2 and result.output.startswith(f"{prog}: "), result.output
        assert len(result.output.splitlines()) == 1
