"""`campaign run`, `post`, `resolve`, `retry` and `accounts check` from the command line; no secret in any output."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from campaign.cli import main
from campaign.queue.tables import scheduled_posts
from tests.fakes.base import Fault
from tests.stage import mastodon_account_yaml, mastodon_env, x_account_yaml, x_env


def invoke(stage, *args):
    env = {**{k: None for k in ("CAMPAIGN_DATABASE_URL", "CAMPAIGN_FILE")}, **stage.environ}
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def setup(stage, fake_x, fake_mastodon, posts_yaml):
    stage.environ.update(x_env(fake_x))
    stage.environ.update(mastodon_env(fake_mastodon))
    stage.write(x_account_yaml(fake_x) + mastodon_account_yaml(fake_mastodon), posts_yaml, accounts="tas_x, tas_m")


def database_dump(db) -> str:
    """Every value in every table, as text."""
    from campaign.queue.tables import metadata

    with db.transaction() as connection:
        return "\n".join(repr(tuple(row)) for table in metadata.sorted_tables
                         for row in connection.execute(table.select()))


def db_args(stage):
    return ("--db", stage.db_url)


def test_run_is_silent_when_all_is_well(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'Praat mee: {{link}}', at: {stage.at(-1)}}}\n")
    result = invoke(stage, "run", stage.posts_file, *db_args(stage))
    assert (result.exit_code, result.output) == (0, "")
    assert len(fake_x.posts) == 1 and len(fake_mastodon.posts) == 1


def test_run_reports_failures_on_stderr_with_exit_1(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'Praat mee', at: {stage.at(-1)}}}\n")
    fake_x.inject("post", Fault.status(400))
    result = invoke(stage, "run", stage.posts_file, *db_args(stage))
    assert result.exit_code == 1
    assert "campaign run: 1 post need attention (1 sent):" in result.output
    assert "failed tas_x" in result.output and "X answered 400" in result.output


def test_missing_credentials_are_a_configuration_error(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'Praat mee', at: {stage.at(-1)}}}\n")
    del stage.environ["CAMPAIGN_TAS_X_ACCESS_TOKEN"]
    result = invoke(stage, "run", stage.posts_file, *db_args(stage))
    assert result.exit_code == 2
    assert "account 'tas_x': set CAMPAIGN_TAS_X_ACCESS_TOKEN in the environment or .env" in result.output
    with stage.db.transaction() as connection:
        states = dict(connection.execute(select(scheduled_posts.c.account, scheduled_posts.c.state)).all())
    assert states == {"tas_x": "queued", "tas_m": "sent"}


def test_credentials_from_a_dotenv_file(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'Praat mee', at: {stage.at(-1)}}}\n")
    token = stage.environ.pop("CAMPAIGN_TAS_M_ACCESS_TOKEN")
    (stage.folder / ".env").write_text(f"CAMPAIGN_TAS_M_ACCESS_TOKEN={token}\n")
    result = invoke(stage, "run", stage.posts_file, *db_args(stage))
    assert result.exit_code == 0 and len(fake_mastodon.posts) == 1


def test_dry_run_posts_nothing(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'Praat mee', at: {stage.at(-1)}}}\n")
    result = invoke(stage, "run", stage.posts_file, *db_args(stage), "--dry-run")
    assert result.exit_code == 0
    assert result.output.count("would post") == 2 and "Praat mee" in result.output
    assert fake_x.posts == [] and fake_mastodon.posts == [] and fake_x.requests == []


def test_post_a_one_off_reply_through_the_queue(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'Later', at: {stage.at(600)}}}\n")
    original = fake_x.seed_post("Ik volg jullie!", account=fake_x.add_account("moniquedenb"))
    assert invoke(stage, "sync", stage.posts_file, *db_args(stage)).exit_code == 0
    result = invoke(stage, "post", "tas_x", "@moniquedenb Leuk dat je ons volgt!", "--file", stage.posts_file,
                    *db_args(stage), "--reply-to", f"https://x.com/moniquedenb/status/{original['id']}")
    assert result.exit_code == 0 and result.output.startswith("queued #")
    assert invoke(stage, "run", stage.posts_file, *db_args(stage)).exit_code == 0
    reply = fake_x.posts[-1]
    assert reply["text"] == "@moniquedenb Leuk dat je ons volgt!" and reply["reply_to"] == original["id"]
    # a later sync leaves the one-off post alone
    assert "0 cancelled" in invoke(stage, "sync", stage.posts_file, *db_args(stage)).output


def test_post_to_an_unknown_account_is_exit_2(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'x', at: {stage.at(60)}}}\n")
    invoke(stage, "sync", stage.posts_file, *db_args(stage))
    result = invoke(stage, "post", "tas_y", "hallo", "--file", stage.posts_file, *db_args(stage))
    assert result.exit_code == 2
    assert "unknown account 'tas_y'; known: tas_m, tas_x" in result.output


def test_unknown_post_resolved_by_a_person(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'Onzeker', accounts: [tas_x], at: {stage.at(-1)}}}\n")
    fake_x.inject("post", Fault.drop(store=True))
    fake_x.inject("timeline", Fault.server_error(503), times=5)
    result = invoke(stage, "run", stage.posts_file, *db_args(stage))
    assert result.exit_code == 1 and "unknown" in result.output
    [row] = stage.rows()
    url = f"https://x.com/teamsaantstuur/status/{fake_x.posts[0]['id']}"
    resolved = invoke(stage, "resolve", row.id, "--sent", url, "--file", stage.posts_file, *db_args(stage))
    assert resolved.exit_code == 0
    [row] = stage.rows()
    assert (row.state, row.remote_id, row.remote_url) == ("sent", fake_x.posts[0]["id"], url)
    assert invoke(stage, "run", stage.posts_file, *db_args(stage)).exit_code == 0
    assert len(fake_x.posts) == 1


def test_retry_a_failed_post(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'Nog eens', accounts: [tas_x], at: {stage.at(-1)}}}\n")
    fake_x.inject("post", Fault.status(400))
    assert invoke(stage, "run", stage.posts_file, *db_args(stage)).exit_code == 1
    [row] = stage.rows()
    assert invoke(stage, "retry", row.id, "--file", stage.posts_file, *db_args(stage)).exit_code == 0
    assert invoke(stage, "run", stage.posts_file, *db_args(stage)).exit_code == 0
    assert [p["text"] for p in fake_x.posts] == ["Nog eens"]
    wrong = invoke(stage, "retry", row.id, "--file", stage.posts_file, *db_args(stage))
    assert wrong.exit_code == 2 and "is sent; only failed, unknown or missed posts can be retried" in wrong.output


def test_accounts_check(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'x', at: {stage.at(60)}}}\n")
    ok = invoke(stage, "accounts", "check", stage.posts_file, *db_args(stage))
    assert ok.exit_code == 0
    assert "tas_x" in ok.output and "ok" in ok.output and "signed in as @teamsaantstuur" in ok.output
    stage.environ["CAMPAIGN_TAS_M_ACCESS_TOKEN"] = "revoked-token-456"
    del stage.environ["CAMPAIGN_TAS_X_API_KEY"]
    bad = invoke(stage, "accounts", "check", stage.posts_file, *db_args(stage))
    assert bad.exit_code == 1
    lines = {line.split()[0]: line for line in bad.output.splitlines()}
    assert "missing" in lines["tas_x"] and "CAMPAIGN_TAS_X_API_KEY" in lines["tas_x"]
    assert "rejected" in lines["tas_m"] and "revoked-token-456" not in bad.output


def test_no_secret_reaches_output_database_or_errors(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'een', at: {stage.at(-3)}}}\n"
                                        f"- {{text: 'twee', at: {stage.at(-2)}}}\n- {{text: 'drie', at: {stage.at(-1)}}}\n")
    secrets = [v for k, v in stage.environ.items() if k.endswith(("TOKEN", "SECRET", "KEY", "PASSWORD"))]
    assert len(secrets) == 5
    fake_x.inject("post", Fault.server_error(503), times=3)
    fake_mastodon.inject("post", Fault.unauthorized())
    outputs = [invoke(stage, "run", stage.posts_file, *db_args(stage), "-v").output,
               invoke(stage, "status", stage.posts_file, *db_args(stage)).output,
               invoke(stage, "accounts", "check", stage.posts_file, *db_args(stage)).output]
    dump = database_dump(stage.db)
    for secret in secrets:
        assert all(secret not in text for text in outputs + [dump])
    assert "failed" in outputs[0]


def test_broken_edit_keeps_the_last_good_queue_running(stage, fake_x, fake_mastodon):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'Al gepland', accounts: [tas_m], at: {stage.at(-1)}}}\n")
    assert invoke(stage, "sync", stage.posts_file, *db_args(stage)).exit_code == 0
    stage.posts_file.write_text(stage.posts_file.read_text().replace("text:", "txet:"))
    result = invoke(stage, "run", stage.posts_file, *db_args(stage))
    assert result.exit_code == 2
    assert "unknown key 'txet'" in result.output and "kept posting what was queued" in result.output
    assert [p["text"] for p in fake_mastodon.posts] == ["Al gepland"]


def test_unchanged_file_is_not_parsed_again(stage, fake_x, fake_mastodon, monkeypatch):
    setup(stage, fake_x, fake_mastodon, f"- {{text: 'Later', at: {stage.at(90)}}}\n")
    assert invoke(stage, "run", stage.posts_file, *db_args(stage)).exit_code == 0
    import campaign.spec.plan

    def refuse(path):
        raise AssertionError("posts.yaml was parsed although it did not change")

    monkeypatch.setattr(campaign.spec.plan, "load_plan", refuse)
    assert invoke(stage, "run", stage.posts_file, *db_args(stage)).exit_code == 0
    stage.posts_file.write_text(stage.posts_file.read_text() + "\n# edited\n")
    monkeypatch.undo()
    assert invoke(stage, "run", stage.posts_file, *db_args(stage)).exit_code == 0
