"""After an outage a person settles many posts at once, and cron keeps reminding until they do:
retry/resolve/acknowledge take several ids and filters (issue 12)."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import update

from campaign.cli import main
from campaign.queue.tables import scheduled_posts
from tests.stage import mastodon_account_yaml, mastodon_env

posts = scheduled_posts.c


def invoke(stage, *args):
    env = {**{k: None for k in ("CAMPAIGN_DATABASE_URL", "CAMPAIGN_FILE", "CAMPAIGN_LOG_FILE")}, **stage.environ}
    return CliRunner().invoke(main, [str(a) for a in args] + ["--db", stage.db_url], env=env,
                              catch_exceptions=False)


def failed_queue(stage, fake, count: int = 4):
    """`count` posts that an outage left failed (and a later one that is still queued)."""
    stage.environ.update(mastodon_env(fake))
    lines = "".join(f"- {{id: p{n}, text: 'Bericht {n}', at: {stage.at(-10 + n)}}}\n" for n in range(count))
    stage.write(mastodon_account_yaml(fake), lines + f"- {{id: later, text: later, at: {stage.at(600)}}}\n",
                accounts="tas_m")
    stage.sync()
    with stage.db.transaction(write=True) as connection:
        connection.execute(update(scheduled_posts).where(posts.key != "tas/later/tas_m").values(
            state="failed", last_error="gave up after 3 attempts: Mastodon answered 503"))
    return {row.key.split("/")[1]: row.id for row in stage.rows()}


def states(stage):
    return {row.key.split("/")[1]: row.state for row in stage.rows()}


def test_retry_all_failed_of_an_account_sends_them_at_the_next_run(stage, fake_mastodon):
    failed_queue(stage, fake_mastodon)
    result = invoke(stage, "retry", "--all-failed", "--account", "tas_m", "--file", stage.posts_file)
    assert result.exit_code == 0 and "#1, #2, #3, #4 queued again" in result.output
    run = invoke(stage, "run", stage.posts_file)
    assert (run.exit_code, run.output) == (0, "")
    assert [p["text"] for p in fake_mastodon.posts] == [f"Bericht {n}" for n in range(4)]


def test_retry_takes_several_ids_and_refuses_a_wrong_one_whole(stage, fake_mastodon):
    ids = failed_queue(stage, fake_mastodon)
    wrong = invoke(stage, "retry", ids["p0"], ids["later"], "--file", stage.posts_file)
    assert wrong.exit_code == 2 and f"post #{ids['later']} is queued" in wrong.output
    assert states(stage)["p0"] == "failed"  # nothing half-done
    ok = invoke(stage, "retry", ids["p0"], ids["p1"], "--file", stage.posts_file)
    assert ok.exit_code == 0
    assert [states(stage)[k] for k in ("p0", "p1", "p2")] == ["queued", "queued", "failed"]


def test_run_keeps_reminding_until_a_person_acknowledges(stage, fake_mastodon):
    ids = failed_queue(stage, fake_mastodon, count=2)
    reminded = invoke(stage, "run", stage.posts_file)
    assert reminded.exit_code == 1
    assert "2 earlier posts (failed, unknown or missed) still need a person" in reminded.output
    check = invoke(stage, "status", stage.posts_file, "--check")
    assert check.exit_code == 1
    assert invoke(stage, "acknowledge", ids["p0"], "--file", stage.posts_file).exit_code == 0
    assert "1 earlier post " in invoke(stage, "run", stage.posts_file).output
    assert invoke(stage, "acknowledge", "--all", "--file", stage.posts_file).exit_code == 0
    quiet = invoke(stage, "run", stage.posts_file)
    assert (quiet.exit_code, quiet.output) == (0, "")
    assert invoke(stage, "status", stage.posts_file, "--check").exit_code == 0
    assert states(stage)["p0"] == "failed"  # acknowledged, not changed


def test_resolve_not_sent_settles_unknown_posts(stage, fake_mastodon):
    ids = failed_queue(stage, fake_mastodon, count=2)
    with stage.db.transaction(write=True) as connection:
        connection.execute(update(scheduled_posts).where(posts.id == ids["p1"]).values(state="unknown"))
    result = invoke(stage, "resolve", ids["p1"], "--not-sent", "--file", stage.posts_file)
    assert result.exit_code == 0
    row = [r for r in stage.rows() if r.id == ids["p1"]][0]
    assert row.state == "failed" and row.acknowledged_at is not None and "not posted" in row.last_error
    both = invoke(stage, "resolve", ids["p1"], "--not-sent", "--sent", "https://x.com/a/status/1",
                  "--file", stage.posts_file)
    assert both.exit_code == 2 and "Traceback" not in both.output


def test_extreme_ids_and_filters_are_one_line_errors(stage, fake_mastodon):
    failed_queue(stage, fake_mastodon, count=1)
    for args in (("retry", "99999999999999999999999"), ("resolve", "99999999999999999999999", "--sent",
                                                         "https://x.com/a/status/1"),
                 ("acknowledge", "0"), ("retry", "--all-failed", "--account", "nobody"),
                 ("retry",), ("retry", "--account", "tas_m")):
        result = invoke(stage, *args, "--file", stage.posts_file)
        assert result.exit_code == 2, (args, result.output)
        # One line saying what is wrong (click's usage errors add its two usage lines above it).
        problem = [line for line in result.output.splitlines() if line.startswith(("campaign:", "Error:"))]
        assert "Traceback" not in result.output and len(problem) == 1, result.output
    unknown = invoke(stage, "retry", "--all-failed", "--account", "nobody", "--file", stage.posts_file)
    assert "unknown account 'nobody'; known: tas_m" in unknown.output


def test_extreme_times_on_the_command_line_are_one_line_errors(stage, fake_mastodon):
    failed_queue(stage, fake_mastodon, count=1)
    for args in (("sync", stage.posts_file, "--now", "0001-01-01T00:00:00+14:00"),
                 ("status", stage.posts_file, "--now", "9999-12-31T23:00:00-12:00"),
                 ("post", "tas_m", "hallo", "--file", stage.posts_file, "--at", "0001-01-01T00:00"),
                 ("history", stage.posts_file, "--from", "0001-01-01")):
        result = invoke(stage, *args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output and "the supported years are 1970–2200" in result.output, args


def test_extreme_times_for_the_archive_are_one_line_errors(tmp_path):
    from archive.cli import main as archive_main

    for args in (("show", "x", "--now", "0001-01-01T00:00+14:00"), ("export", "--from", "9999-12-31T23:00-12:00")):
        result = CliRunner().invoke(archive_main, [*args, "--db", f"sqlite:///{tmp_path / 'a.db'}"],
                                    catch_exceptions=False)
        assert result.exit_code == 2 and "the supported years are 1970–2200" in result.output, result.output
