"""`archive show` / `archive render` / `archive fetch` through the CLI, checked through the store."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEED_ARCHIVE = ROOT / "examples" / "seed-archive"

# BRIEF.md, "The seed", verbatim.
SEED_LINES = """\
@teamsaantstuur Interessante discussie over de (on)mogelijkheden van #zelfstandigeteams @GemeenteUtrecht. Praat mee! https://t.co/RnqJ4pQbBb 5 jaar 10 maanden geleden
@teamsaantstuur Komen er binnen vijf jaar ook bij @GemeenteUtrecht meer #zelfstandigeteams? Laat jouw mening horen via http://t.co/HkaCSetas2! 5 jaar 10 maanden geleden
@teamsaantstuur #Zelfstandigeteams in de gemeente #utrecht een wilde droom of straks aan de orde van de dag? Praat mee: http://t.co/pxnbnxf2EO #management 5 jaar 10 maanden geleden
@teamsaantstuur #Zelfstandigeteams in de gemeente Utrecht een wilde droom of straks aan de orde van de dag? Praat mee: publicpapersutrecht.nl 5 jaar 10 maanden geleden
@teamsaantstuur @deboerleo Hallo leo, hoe kom ik bij de case terecht? Via #Verander2015 kom ik er niet bij. Vriendelijke groet. 5 jaar 10 maanden geleden
@teamsaantstuur Nog even en dan gaat de Public Paper 'Teams aan het stuur!' online. De HR-strategen nodigen iedereen uit om mee te discussiëren. 5 jaar 10 maanden geleden
@teamsaantstuur @moniquedenb Leuk dat je ons volgt! 5 jaar 10 maanden geleden
@teamsaantstuur Buiten#stadskantoor030 5 jaar 11 maanden geleden
@teamsaantstuur Wij zijn op weg #stadskantoor030 5 jaar 11 maanden geleden
@teamsaantstuur Mijn eerste tweetje, net voor de ontruiming #stadskantoor030 5 jaar 11 maanden geleden
"""


@pytest.fixture
def seeded(tmp_path):
    """An archive database holding the example X archive of the seed's ten tweets."""
    store = pytest.importorskip("archive.store")
    importer = pytest.importorskip("archive.importers.x_archive")
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    database = store.open_archive(url)
    summary = store.upsert_posts(database, importer.iter_posts(SEED_ARCHIVE), source="x-archive",
                                 now=datetime.now(timezone.utc))
    assert summary.new == 10
    database.engine.dispose()
    return url


def run(*args, **env):
    result = CliRunner().invoke(main, list(args), env={"CAMPAIGN_DATABASE_URL": None, "ARCHIVE_TIMEZONE": None, **env},
                                catch_exceptions=False)
    return result


def test_show_reproduces_the_seed(seeded, machine_tz):
    result = run("show", "teamsaantstuur", "--locale", "nl", "--now", "2020-11-27", "--as-posted", "--db", seeded)
    assert result.exit_code == 0, result.output
    assert result.output == SEED_LINES


def test_show_in_english_with_limit_and_filters(seeded):
    result = run("show", "teamsaantstuur", "--locale", "en", "--now", "2020-11-27", "--db", seeded, "--limit", "2",
                 "--as-posted")
    assert result.stderr == "posts 1–2 of 10 shown, newest first; next: --page 2, everything: --all\n"
    assert result.stdout.splitlines() == [line.replace("5 jaar 10 maanden geleden", "5 years 10 months ago")
                                          for line in SEED_LINES.splitlines()[:2]]
    result = run("show", "--hashtag", "#stadskantoor030", "--now", "2020-11-27", "--db", seeded)
    assert len(result.output.splitlines()) == 2  # "Buiten#stadskantoor030" is not a hashtag on X
    result = run("show", "--until", "2014-12-31", "--now", "2020-11-27", "--db", seeded, "--units", "1")
    assert result.output.splitlines()[-1].endswith("#stadskantoor030 5 jaar geleden")
    result = run("show", "--search", "Leuk", "--now", "2020-11-27T10:00Z", "--db", seeded, "--locale", "fr")
    assert result.output == "@teamsaantstuur @moniquedenb Leuk dat je ons volgt! il y a 5 ans et 10\u00a0mois\n"


def test_show_env_var_selects_the_database(seeded):
    result = run("show", "--now", "2020-11-27", "--as-posted", CAMPAIGN_DATABASE_URL=seeded)
    assert result.output == SEED_LINES


@pytest.mark.parametrize("args, message", [
    (["--locale", "xx_NOPE"], "unknown locale"),
    (["--now", "gisteren"], "is not a date"),
    (["--timezone", "Mars/Olympus"], "unknown time zone"),
])
def test_show_bad_options_exit_2(seeded, args, message):
    result = run("show", "--db", seeded, *args)
    assert result.exit_code == 2 and message in result.output


def test_render_page_and_fragment(seeded, tmp_path):
    page = tmp_path / "site" / "tijdlijn.html"
    result = run("render", "teamsaantstuur", "--html", str(page), "--locale", "nl", "--now", "2020-11-27",
                 "--db", seeded, "--title", "Teams aan het stuur!")
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.count("<time datetime=") == 10 and html.count("5 jaar 11 maanden geleden") == 3
    assert 'href="https://publicpapersutrecht.nl/teams-aan-het-stuur/discussie"' in html
    fragment = tmp_path / "fragment.html"
    run("render", "--html", str(fragment), "--fragment", "--now", "2020-11-27", "--db", seeded, "--limit", "3")
    root = ET.fromstring(fragment.read_text(encoding="utf-8"))
    assert [t.get("datetime") for t in root.iter("time")] == [
        "2015-01-26T15:45:00Z", "2015-01-22T10:00:00Z", "2015-01-20T12:15:00Z"]


# -- fetch through the CLI ---------------------------------------------------


def test_fetch_cli_against_fake_x(fake_x, tmp_path):
    store = pytest.importorskip("archive.store")
    from archive.records import PostFilter
    from tests.stage import x_env

    start = datetime.now(timezone.utc) - timedelta(days=30)
    for i in range(120):
        fake_x.seed_post(f"bericht {i} #teams", created_at=start + timedelta(hours=i))
    posts = tmp_path / "posts.yaml"
    posts.write_text(f"timezone: Europe/Amsterdam\naccounts:\n  tas_x: {{platform: x, handle: '@{fake_x.account.username}'}}\n"
                     "campaigns: {}\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    env = {**x_env(fake_x), "CAMPAIGN_DATABASE_URL": url}
    result = CliRunner().invoke(main, ["fetch", "--all", "--file", str(posts)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "120 posts in 2 pages (120 new)" in result.output
    fake_x.inject("timeline", __import__("tests.fakes.base", fromlist=["Fault"]).Fault.rate_limit(reset_in=60))
    fake_x.seed_post("nieuw", created_at=datetime.now(timezone.utc))
    result = CliRunner().invoke(main, ["fetch", "tas_x", "--file", str(posts)], env=env, catch_exceptions=False)
    assert result.exit_code == 1 and "next run continues" in result.output
    result = CliRunner().invoke(main, ["fetch", "tas_x", "--file", str(posts), "--refresh-days", "0"], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0 and "1 post in 1 page (1 new)" in result.output
    database = store.open_archive(url)
    assert len(list(store.query_posts(database, PostFilter(accounts=(fake_x.account.username,))))) == 121
    database.engine.dispose()
    result = CliRunner().invoke(main, ["fetch", "nobody", "--file", str(posts)], env=env)
    assert result.exit_code == 2 and "unknown account 'nobody'; known: tas_x" in result.output


def test_show_and_render_take_from_like_export_and_still_since(seeded, tmp_path):
    common = ("teamsaantstuur", "--locale", "nl", "--now", "2020-11-27", "--db", seeded)
    since_2015 = run("show", *common, "--from", "2015-01-01", "--as-posted")
    assert since_2015.exit_code == 0 and since_2015.output == "".join(SEED_LINES.splitlines(True)[:7])
    assert run("show", *common, "--since", "2015-01-01", "--as-posted").output == since_2015.output
    bad = run("show", *common, "--from", "gisteren?")
    assert bad.exit_code == 2 and "--from" in bad.output
    page = tmp_path / "page.html"
    assert run("render", *common, "--from", "2015-01-20", "--html", str(page)).exit_code == 0
    assert page.read_text(encoding="utf-8").count("<time") == 3


def test_reading_commands_name_a_database_that_is_not_there(tmp_path):
    missing = tmp_path / "typo.db"
    for command in (["show", "teamsaantstuur"], ["render", "teamsaantstuur", "--html", str(tmp_path / "t.html")],
                    ["export"], ["stats"]):
        result = run(*command, "--db", str(missing))
        assert result.exit_code == 2, (command, result.output)
        assert result.output.strip() == f"archive: {missing}: no database here (import or fetch posts first, or check --db)"
    assert not missing.exists() and not (tmp_path / "t.html").exists()


# -- paging ---------------------------------------------------------------------


@pytest.fixture
def many(tmp_path):
    """An archive of 250 posts, one an hour, the newest 'bericht 249'."""
    from archive.records import ArchivedPost

    store = pytest.importorskip("archive.store")
    url = f"sqlite:///{tmp_path / 'many.db'}"
    database = store.open_archive(url)
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    posts = [ArchivedPost("x", str(1000 + n), "teamsaantstuur", start + timedelta(hours=n), f"bericht {n}",
                          url=f"https://x.com/teamsaantstuur/status/{1000 + n}") for n in range(250)]
    store.upsert_posts(database, posts, source="test", now=datetime.now(timezone.utc))
    database.engine.dispose()
    return url


def test_show_pages_by_default(many):
    common = ("--now", "2021-01-01", "--db", many)
    first = run("show", *common)
    assert first.exit_code == 0
    lines = first.stdout.splitlines()
    assert len(lines) == 200 and lines[0].startswith("@teamsaantstuur bericht 249 ")
    assert first.stderr == "posts 1–200 of 250 shown, newest first; next: --page 2, everything: --all\n"
    second = run("show", *common, "--page", "2")
    assert [line.split()[2] for line in second.stdout.splitlines()] == [str(n) for n in range(49, -1, -1)]
    assert second.stderr == ""  # the last page: nothing more
    middle = run("show", *common, "--limit", "100", "--page", "2")
    assert middle.stdout.splitlines()[0].startswith("@teamsaantstuur bericht 149 ")
    assert middle.stderr == "posts 101–200 of 250 shown, newest first; next: --page 3, everything: --all\n"
    for everything in (["--all"], ["--limit", "0"]):
        result = run("show", *common, *everything)
        assert len(result.stdout.splitlines()) == 250 and result.stderr == ""


@pytest.mark.parametrize("args, message", [
    (["--all", "--limit", "5"], "--all and --limit contradict each other"),
    (["--all", "--page", "2"], "--page needs pages"),
    (["--page", "4"], "archive: no page 4: 250 posts make 2 pages of 200"),
    (["--limit", "-1"], "-1 is not in the range"),
])
def test_show_paging_mistakes_exit_2(many, args, message):
    result = run("show", "--db", many, *args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_render_one_page_says_when_there_is_more(many, tmp_path):
    page = tmp_path / "tijdlijn.html"
    result = run("render", "--html", str(page), "--now", "2021-01-01", "--db", many)
    assert result.exit_code == 0
    assert page.read_text(encoding="utf-8").count("<time") == 200
    assert result.stderr == (f"{page}: posts 1–200 of 250 shown, newest first; next: --page 2, everything: --all, "
                             "numbered pages: --pages DIR\n")
    assert run("render", "--html", str(page), "--db", many, "--page", "9").exit_code == 2
    assert page.read_text(encoding="utf-8").count("<time") == 200  # an error writes nothing
    fragment = run("render", "--html", str(page), "--fragment", "--limit", "20", "--db", many)
    assert fragment.exit_code == 0 and fragment.stderr == ""  # asked for 20: nothing to say (cron stays quiet)
    assert page.read_text(encoding="utf-8").count("<time") == 20


def test_render_numbered_pages_link_to_each_other(many, tmp_path):
    folder = tmp_path / "site" / "tijdlijn"
    folder.mkdir(parents=True)
    (folder / "page-9.html").write_text("oud", encoding="utf-8")  # from an earlier, longer run
    (folder / "index.html").write_text("eigen", encoding="utf-8")
    result = run("render", "--pages", str(folder), "--limit", "100", "--now", "2021-01-01", "--db", many,
                 "--locale", "nl")
    assert result.exit_code == 0, result.output
    assert result.stderr == f"{folder}: 3 pages of at most 100 posts (250 posts; page-1.html is the newest)\n"
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "page-1.html", "page-2.html", "page-3.html"]
    links = {}
    for number in (1, 2, 3):
        html = (folder / f"page-{number}.html").read_text(encoding="utf-8")
        assert f"Pagina {number} van 3" in html
        links[number] = (re.search(r'<a rel="prev" href="([^"]+)"', html), re.search(r'<a rel="next" href="([^"]+)"', html))
        assert html.count("<time") == (100 if number < 3 else 50)
    assert links[1][0] is None and links[1][1].group(1) == "page-2.html"
    assert links[2][0].group(1) == "page-1.html" and links[2][1].group(1) == "page-3.html"
    assert links[3][0].group(1) == "page-2.html" and links[3][1] is None
    first = (folder / "page-1.html").read_text(encoding="utf-8")
    assert first.index("bericht 249") < first.index("bericht 150") and "bericht 149" not in first


@pytest.mark.parametrize("args, message", [
    ([], "give --html FILE (one page) or --pages DIR"),
    (["--html", "x.html", "--pages", "p"], "give --html FILE (one page) or --pages DIR"),
    (["--pages", "p", "--fragment"], "--fragment is one piece to include"),
    (["--pages", "p", "--all"], "--pages writes every post"),
])
def test_render_option_mistakes_exit_2(many, tmp_path, args, message):
    result = run("render", "--db", many, *args)
    assert result.exit_code == 2 and message in result.output
