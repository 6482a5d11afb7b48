"""Approval before sending (issue 14, part 3): a campaign with `approval: required` sends a post only
once enough different people approved its exact content; an edit (text or image) asks again; a
rejection holds it back with its reason; nobody's approval in time means missed, never sent.
Runs on SQLite and PostgreSQL (the `stage` and `db` fixtures)."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from campaign.cli import main
from campaign.errors import CampaignError, NotFoundError
from campaign.queue import approvals
from campaign.queue.status import history, status
from campaign.queue.tables import scheduled_posts
from campaign.send.runner import Runner
from campaign.spec.plan import analyse, load_plan
from tests.stage import mastodon_account_yaml, mastodon_env, x_account_yaml, x_env

PNG = (Path(__file__).resolve().parent.parent / "media" / "stadskantoor030.png").read_bytes()
CLEAN_ENV = {"CAMPAIGN_DATABASE_URL": None, "CAMPAIGN_FILE": None}


def setup_x(stage, fake_x, posts_yaml: str, campaign_extra: str = "    approval: required\n"):
    stage.environ.update(x_env(fake_x))
    stage.write(x_account_yaml(fake_x), posts_yaml, accounts="tas_x", extra=campaign_extra)
    return stage.sync()


def ids(stage) -> list[int]:
    return [row.id for row in stage.rows()]


def states(stage) -> list[str]:
    return [row.state for row in stage.rows()]


def texts(fake) -> list[str]:
    return [p["text"] for p in fake.posts]


def campaign(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env={**CLEAN_ENV, **(env or {})},
                              catch_exceptions=False)


# --- posts.yaml ---------------------------------------------------------------------------------

GRAMMAR = """\
timezone: Europe/Amsterdam
{top}accounts:
  tas: {{platform: x, handle: "@teamsaantstuur"}}
campaigns:
  streng:
    accounts: [tas]
{streng}    posts:
      - {{id: a, text: "Streng", at: 2027-01-18 10:00}}
  los:
    accounts: [tas]
{los}    posts:
      - {{id: b, text: "Los", at: 2027-01-19 10:00}}
"""


def needed(write_posts, top="", streng="", los="") -> dict[str, int]:
    plan = load_plan(write_posts(GRAMMAR.format(top=top, streng=streng, los=los)))
    return {occ.campaign_id: occ.approvals_needed for occ in plan.occurrences}


def test_the_approval_grammar_top_level_and_per_campaign(write_posts):
    assert needed(write_posts) == {"streng": 0, "los": 0}
    assert needed(write_posts, top="approval: required\n") == {"streng": 1, "los": 1}
    assert needed(write_posts, top="approval: required\napprovers: 2\n") == {"streng": 2, "los": 2}
    assert needed(write_posts, top="approval: required\n", los="    approval: none\n") == {"streng": 1, "los": 0}
    assert needed(write_posts, streng="    approval: required\n    approvers: 3\n") == {"streng": 3, "los": 0}
    # a campaign may change only the number and inherit 'required'
    assert needed(write_posts, top="approval: required\n", streng="    approvers: 2\n") == {"streng": 2, "los": 1}


def test_approval_mistakes_are_reported_at_their_line_and_column(write_posts):
    path = write_posts(GRAMMAR.format(top="approval: yes\napprovers: 0\n",
                                      streng="    approval: requird\n", los="    approvers: 2\n"))
    problems = [str(p) for p in analyse(path).problems.errors]
    assert f"{path}:2:11: error: approval must be 'required' or 'none', not yes" in problems[0]
    assert problems[1] == f"{path}:3:12: error: 'approvers' must be at least 1"
    assert problems[2] == (f"{path}:9:15: error: approval must be 'required' or 'none', not 'requird' "
                           "(did you mean 'required'?)")
    assert problems[3].startswith(f"{path}:14:5: error: 'approvers: 2' needs 'approval: required' "
                                  "(here or at the top level)")
    result = campaign("check", path)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_each_media_file_is_hashed_once_and_its_hash_is_in_the_payload(write_posts, tmp_path, monkeypatch):
    from campaign.spec import media

    (tmp_path / "foto.png").write_bytes(PNG)
    calls = Counter()
    real = media.sha256
    monkeypatch.setattr(media, "sha256", lambda path: calls.update([path]) or real(path))
    path = write_posts("""\
        timezone: Europe/Amsterdam
        accounts:
          tas: {platform: x, handle: "@teamsaantstuur"}
        campaigns:
          c:
            accounts: [tas]
            posts:
              - {id: a, text: "Een", media: {path: foto.png, alt: Foto}, every: day, at: "10:00", from: 2027-01-18, count: 30}
              - {id: b, text: "Twee", media: {path: foto.png, alt: Foto}, at: 2027-01-18 12:00}
              - {id: c, text: "Drie", media: {path: weg.png, alt: Weg}, at: 2027-01-18 13:00}
        """)
    plan = analyse(path)
    assert list(calls.values()) == [1]  # one hash of foto.png for 31 occurrences; weg.png does not exist
    import hashlib

    occurrence = next(o for o in plan.occurrences if o.post_id == "b")
    [entry] = occurrence.payload()["parts"][0]["media"]
    assert entry == {"path": str(tmp_path / "foto.png"), "alt": "Foto", "sha256": hashlib.sha256(PNG).hexdigest()}


# --- the queue: awaiting, approved, sent once ----------------------------------------------------

def test_a_post_awaiting_approval_is_not_sent_until_approved_then_once(stage, fake_x):
    summary = setup_x(stage, fake_x, f"- {{id: een, text: 'Graag eerst kijken', at: {stage.at(-1)}}}\n")
    assert summary.new_awaiting == 1 and summary.awaiting == 1 and summary.queued == 0
    assert "1 awaits approval" in str(summary)
    assert states(stage) == ["awaiting_approval"]
    report = stage.run()
    assert report.outcomes == [] and fake_x.requests_to("post") == []
    [post_id] = ids(stage)
    [result] = approvals.approve(stage.db, [post_id], "anna", "cli", stage.now)
    assert (result.state, result.counted, result.approved_by) == ("queued", True, ("anna",))
    assert [o.state for o in stage.run().outcomes] == ["sent"]
    assert stage.run().outcomes == []
    assert texts(fake_x) == ["Graag eerst kijken"]
    [sent], _ = history(stage.db)
    assert sent.approved_by == ("anna",)  # who approved what went out


def test_an_edit_asks_for_approval_again_and_the_old_one_stays_on_the_record(stage, fake_x):
    setup_x(stage, fake_x, f"- {{id: een, text: 'Versie een', at: {stage.at(60)}}}\n")
    [post_id] = ids(stage)
    approvals.approve(stage.db, [post_id], "anna", "cli", stage.now)
    assert states(stage) == ["queued"]
    unchanged = stage.sync()
    assert unchanged.unchanged == 1 and states(stage) == ["queued"]  # the same content: still approved
    summary = setup_x(stage, fake_x, f"- {{id: een, text: 'Versie twee', at: {stage.at(60)}}}\n")
    assert summary.updated == 1 and summary.awaiting == 1
    assert states(stage) == ["awaiting_approval"]
    [waiting] = approvals.pending(stage.db, now=stage.now)
    assert (waiting.id, waiting.first_text, waiting.approved_by, waiting.still_needed) == (post_id, "Versie twee", (), 1)
    [old] = approvals.decisions(stage.db, post_id)
    assert (old.decided_by, old.decision, old.current) == ("anna", "approve", False)
    stage.now += timedelta(hours=2)
    assert stage.run().count("sent") == 0 and fake_x.posts == []


def test_content_put_back_as_it_was_approved_counts_as_approved(stage, fake_x):
    setup_x(stage, fake_x, f"- {{id: een, text: 'Goedgekeurd', at: {stage.at(60)}}}\n")
    approvals.approve(stage.db, ids(stage), "anna", "cli", stage.now)
    setup_x(stage, fake_x, f"- {{id: een, text: 'Tijdelijk anders', at: {stage.at(60)}}}\n")
    assert states(stage) == ["awaiting_approval"]
    setup_x(stage, fake_x, f"- {{id: een, text: 'Goedgekeurd', at: {stage.at(60)}}}\n")
    assert states(stage) == ["queued"]


def test_two_approvers_must_be_two_different_people(stage, fake_x):
    setup_x(stage, fake_x, f"- {{id: een, text: 'Vier ogen', at: {stage.at(-1)}}}\n",
            campaign_extra="    approval: required\n    approvers: 2\n")
    [post_id] = ids(stage)
    [first] = approvals.approve(stage.db, [post_id], "anna", "cli", stage.now)
    [again] = approvals.approve(stage.db, [post_id], "anna", "web", stage.now)
    assert first.state == again.state == "awaiting_approval" and again.approved_by == ("anna",)
    assert "already approved by anna, who counts once (1 of 2)" in again.message
    assert stage.run().outcomes == [] and fake_x.posts == []
    [second] = approvals.approve(stage.db, [post_id], "bob", "web", stage.now)
    assert (second.state, second.approved_by) == ("queued", ("anna", "bob"))
    assert stage.run().count("sent") == 1 and texts(fake_x) == ["Vier ogen"]


def test_a_rejection_holds_the_post_until_that_person_approves(stage, fake_x):
    setup_x(stage, fake_x, f"- {{id: een, text: 'Twijfelachtig', at: {stage.at(-1)}}}\n")
    [post_id] = ids(stage)
    result = approvals.reject(stage.db, post_id, "carla", "De link klopt niet", "cli", stage.now)
    assert result.state == "rejected" and result.rejected_by == ("carla",)
    [row] = stage.rows()
    assert row.last_error == "rejected by carla: De link klopt niet"
    [other] = approvals.approve(stage.db, [post_id], "anna", "cli", stage.now)  # someone else cannot overrule
    assert other.state == "rejected" and "still rejected by carla" in other.message
    assert stage.run().outcomes == [] and fake_x.posts == []
    report = status(stage.db, stage.now)
    assert report.counts["rejected"] == 1 and [p.id for p in report.rejected] == [post_id]
    from campaign.cli.output import status_text

    assert "rejected by carla: De link klopt niet" in status_text(report, "db")
    [rejected] = approvals.pending(stage.db, now=stage.now)
    assert [(d.decided_by, d.reason) for d in rejected.rejections] == [("carla", "De link klopt niet")]
    [lifted] = approvals.approve(stage.db, [post_id], "carla", "cli", stage.now)
    assert (lifted.state, lifted.approved_by) == ("queued", ("anna", "carla"))
    assert stage.run().count("sent") == 1 and texts(fake_x) == ["Twijfelachtig"]


def test_an_approved_post_can_still_be_rejected_before_it_goes_out(stage, fake_x):
    setup_x(stage, fake_x, f"- {{id: een, text: 'Te snel goedgekeurd', at: {stage.at(-1)}}}\n")
    [post_id] = ids(stage)
    approvals.approve(stage.db, [post_id], "anna", "cli", stage.now)
    assert approvals.reject(stage.db, post_id, "anna", "Toch niet", "cli", stage.now).state == "rejected"
    assert stage.run().outcomes == [] and fake_x.posts == []


def test_a_changed_post_puts_a_rejection_aside(stage, fake_x):
    setup_x(stage, fake_x, f"- {{id: een, text: 'Fout', at: {stage.at(60)}}}\n")
    approvals.reject(stage.db, ids(stage)[0], "carla", "Spelfout", "cli", stage.now)
    setup_x(stage, fake_x, f"- {{id: een, text: 'Goed', at: {stage.at(60)}}}\n")
    [row] = stage.rows()
    assert (row.state, row.last_error) == ("awaiting_approval", None)


def test_removing_or_requiring_approval_changes_unsent_posts_only(stage, fake_x):
    setup_x(stage, fake_x, f"- {{id: een, text: 'Een', at: {stage.at(60)}}}\n"
                           f"- {{id: twee, text: 'Twee', at: {stage.at(61)}}}\n", campaign_extra="")
    assert states(stage) == ["queued", "queued"]
    setup_x(stage, fake_x, f"- {{id: een, text: 'Een', at: {stage.at(60)}}}\n"
                           f"- {{id: twee, text: 'Twee', at: {stage.at(61)}}}\n")
    assert states(stage) == ["awaiting_approval", "awaiting_approval"]  # turned on: approve first
    approvals.reject(stage.db, ids(stage)[1], "carla", "Nee", "cli", stage.now)
    summary = setup_x(stage, fake_x, "[]\n")
    assert summary.cancelled == 2 and states(stage) == ["cancelled", "cancelled"]
    assert approvals.pending(stage.db, now=stage.now) == []


# --- images --------------------------------------------------------------------------------------

def test_an_image_replaced_after_approval_is_not_sent_and_must_be_approved_again(stage, fake_x):
    foto = stage.folder / "foto.png"
    foto.write_bytes(PNG)
    setup_x(stage, fake_x, f"- {{id: een, text: 'Met foto', media: {{path: foto.png, alt: Foto}}, "
                           f"at: {stage.at(-1)}}}\n")
    [post_id] = ids(stage)
    approvals.approve(stage.db, [post_id], "anna", "cli", stage.now)
    foto.write_bytes(PNG + b"een andere foto")  # same name, other picture
    report = stage.run()
    [outcome] = report.needs_attention
    assert outcome.state == "awaiting_approval" and report.exit_code == 1
    assert outcome.message == ("the image foto.png changed after it was approved: run `campaign sync` and "
                               "approve it again")
    assert fake_x.requests_to("post") == [] and fake_x.requests_to("media") == []  # no platform call
    [row] = stage.rows()
    assert (row.state, row.last_error) == ("awaiting_approval", outcome.message)
    with pytest.raises(CampaignError, match="the image foto.png changed .* run 'campaign sync'"):
        approvals.approve(stage.db, [post_id], "bob", "cli", stage.now)
    stage.sync()  # the new picture: a new content hash, nobody's approval counts yet
    [waiting] = approvals.pending(stage.db, now=stage.now)
    assert waiting.approved_by == () and waiting.last_error is None
    approvals.approve(stage.db, [post_id], "anna", "cli", stage.now)
    assert stage.run().count("sent") == 1
    [sent] = fake_x.posts
    assert [m["size"] for m in sent["media"]] == [len(PNG) + len(b"een andere foto")]


# --- too late ----------------------------------------------------------------------------------

def test_a_post_not_approved_in_time_is_missed(stage, fake_x):
    setup_x(stage, fake_x, f"- {{id: een, text: 'Niemand keek', at: {stage.at(-1)}, late: 30m}}\n"
                           f"- {{id: twee, text: 'Later', at: {stage.at(120)}}}\n")
    runner = Runner(stage.db, stage.posts_file, lambda: stage.environ, clock=lambda: stage.now)
    assert runner.run_once().report is None  # due, not approved, still within 'late': nothing to do
    stage.now += timedelta(hours=1)
    result = runner.run_once()
    [outcome] = result.needs_attention
    assert outcome.state == "missed" and outcome.message.startswith("not approved in time")
    assert result.exit_code == 1 and fake_x.posts == []
    assert states(stage) == ["missed", "awaiting_approval"]
    assert stage.rows()[0].last_error.startswith("not approved in time")
    assert runner.run_once().report is None  # reported once
    with pytest.raises(CampaignError, match="post #.* is missed; only posts awaiting approval"):
        approvals.approve(stage.db, ids(stage)[:1], "anna", "cli", stage.now)
    # 'campaign retry' gives it more time, but not a pass: it waits for approval again, and says so
    retried = campaign("retry", ids(stage)[0], "--file", stage.posts_file, "--db", stage.db_url,
                       "--now", stage.now.isoformat())
    assert retried.exit_code == 0, retried.output
    assert retried.output == f"#{ids(stage)[0]} waiting for approval first (campaign approvals)\n"
    assert states(stage) == ["awaiting_approval", "awaiting_approval"]
    assert "needs approval first" in stage.rows()[0].last_error
    assert stage.run().outcomes == [] and fake_x.posts == []
    approvals.approve(stage.db, ids(stage)[:1], "anna", "cli", stage.now)
    assert stage.run().count("sent") == 1 and texts(fake_x) == ["Niemand keek"]


def test_serve_wakes_when_a_post_awaiting_approval_runs_out_of_time(stage, fake_x):
    from campaign.queue import claims

    setup_x(stage, fake_x, f"- {{id: een, text: 'Wacht', at: {stage.at(60)}, late: 30m}}\n")
    [row] = stage.rows()
    assert claims.next_wakeup(stage.db) == row.due_at + timedelta(minutes=30, seconds=1)
    approvals.approve(stage.db, [row.id], "anna", "cli", stage.now)
    assert claims.next_wakeup(stage.db) == row.due_at  # approved: it goes out at its time


def test_status_warns_about_posts_due_but_not_approved(stage, fake_x):
    setup_x(stage, fake_x, f"- {{id: een, text: 'Wacht', at: {stage.at(-1)}}}\n"
                           f"- {{id: twee, text: 'Later', at: {stage.at(120)}}}\n")
    report = status(stage.db, stage.now)
    assert report.counts["awaiting_approval"] == 2 and report.awaiting_past_due == 1
    assert "1 due but not approved" in report.attention and report.exit_code == 1
    assert [p.first_text for p in report.awaiting] == ["Wacht", "Later"]
    from campaign.cli.output import status_json, status_text

    text = status_text(report, "db")
    assert "Needs a person:\n  1 post is due but not approved" in text and "Awaiting approval (2):" in text
    import json

    document = json.loads(status_json(report, "db"))
    assert (document["awaiting_approval"]["total"], document["awaiting_approval"]["past_due"]) == (2, 1)
    assert document["awaiting_approval"]["posts"][0]["approvals_needed"] == 1


# --- overlapping dispatchers ---------------------------------------------------------------------

def test_overlapping_dispatchers_never_take_an_unapproved_post(stage, fake_x, fake_mastodon):
    stage.environ.update(x_env(fake_x))
    stage.environ.update(mastodon_env(fake_mastodon))
    lines = [f"- {{id: p{n}, text: 'Bericht {n:03d}', accounts: [{'tas_x' if n % 2 else 'tas_m'}], "
             f"at: {stage.at(-(n % 30) - 1)}}}\n" for n in range(40)]
    stage.write(x_account_yaml(fake_x) + mastodon_account_yaml(fake_mastodon), "".join(lines),
                accounts="tas_x, tas_m", extra="    late: 1d\n    approval: required\n")
    stage.sync()

    def overlapping_passes(workers: int = 4) -> list:
        start = threading.Barrier(workers)
        reports, errors = [], []

        def work(number: int) -> None:
            try:
                start.wait(timeout=30)
                reports.append(stage.dispatcher(worker=f"w{number}").run_due())
            except BaseException as error:  # surfaced below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors and not any(thread.is_alive() for thread in threads)
        return reports

    for _ in range(3):
        assert all(report.outcomes == [] for report in overlapping_passes())
    assert fake_x.requests_to("post") == [] and fake_mastodon.requests_to("post") == []
    assert set(states(stage)) == {"awaiting_approval"}

    results = approvals.approve(stage.db, ids(stage), "anna", "web", stage.now)
    assert {r.state for r in results} == {"queued"}
    reports = overlapping_passes()
    assert sum(report.count("sent") for report in reports) == 40
    counts = Counter(texts(fake_x) + texts(fake_mastodon))
    assert set(counts) == {f"Bericht {n:03d}" for n in range(40)} and set(counts.values()) == {1}
    assert set(states(stage)) == {"sent"}


# --- deciding: errors and the race with sync -----------------------------------------------------

def test_decisions_are_refused_with_one_clear_line(stage, fake_x):
    setup_x(stage, fake_x, f"- {{id: een, text: 'Een', at: {stage.at(60)}}}\n")
    [post_id] = ids(stage)
    with pytest.raises(NotFoundError, match=r"^no post #999 in the queue"):
        approvals.approve(stage.db, [post_id, 999], "anna", "cli", stage.now)
    assert approvals.decisions(stage.db, post_id) == []  # all or nothing
    with pytest.raises(CampaignError, match="give a reason"):
        approvals.reject(stage.db, post_id, "anna", "   ", "cli", stage.now)
    with pytest.raises(CampaignError, match="say who decides"):
        approvals.approve(stage.db, [post_id], " ", "cli", stage.now)
    approvals.approve(stage.db, [post_id], "anna", "cli", stage.now)
    with pytest.raises(CampaignError, match=rf"post #{post_id} is already approved \(queued\)"):
        approvals.approve(stage.db, [post_id], "bob", "cli", stage.now)


def test_an_approval_does_not_count_when_sync_changed_the_post_meanwhile(stage, fake_x, monkeypatch):
    """The decision is pinned to the content read in its transaction; should the post change before
    the state is written (a sync in between), the approval is recorded on the old content only."""
    setup_x(stage, fake_x, f"- {{id: een, text: 'Een', at: {stage.at(-1)}}}\n")
    [post_id] = ids(stage)
    read = approvals._post_row

    def read_then_changed(connection, post_id, **kwargs):
        row = read(connection, post_id, **kwargs)
        connection.execute(update(scheduled_posts).where(scheduled_posts.c.id == post_id)
                           .values(content_hash="f" * 64))  # what a sync of an edit does
        return row

    monkeypatch.setattr(approvals, "_post_row", read_then_changed)
    [result] = approvals.approve(stage.db, [post_id], "anna", "web", stage.now)
    monkeypatch.undo()
    assert not result.counted and "NOT counted" in result.message and result.state == "awaiting_approval"
    [decision] = approvals.decisions(stage.db, post_id)
    assert decision.decided_by == "anna" and not decision.current
    assert stage.run().outcomes == [] and fake_x.posts == []


# --- the commands --------------------------------------------------------------------------------

def test_the_approval_commands_end_to_end(stage, fake_x):
    foto = stage.folder / "foto.png"
    foto.write_bytes(PNG)
    setup_x(stage, fake_x, f"- {{id: een, text: \"Eerste regel\\n\\nmeer\", at: {stage.at(-1)}}}\n"
                           f"- {{id: twee, text: 'Tweede', media: {{path: foto.png, alt: Foto}}, at: {stage.at(30)}}}\n",
            campaign_extra="    approval: required\n    approvers: 2\n")
    first, second = ids(stage)
    where = ["--file", stage.posts_file, "--db", stage.db_url]

    listed = campaign("approvals", *where)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[1].split()[:5] == [f"#{first}", *stage.at(-1).split(), "tas_x", "0/2"]
    assert lines[1].endswith("Eerste regel") and lines[2].split()[0] == f"#{second}"

    approved = campaign("approve", first, second, "--by", "anna", *where)
    assert approved.exit_code == 0, approved.output
    assert f"#{first} approved by anna (1 of 2); waits for 1 more approver" in approved.output
    assert "0/2" not in campaign("approvals", *where).output and "1/2 (anna)" in campaign("approvals", *where).output

    rejected = campaign("reject", second, "--reason", "Verkeerde foto", "--by", "bob", *where)
    assert rejected.exit_code == 0 and f"#{second} rejected by bob" in rejected.output

    done = campaign("approve", first, *where, env={"USER": "carla", "LOGNAME": "carla"})  # default: the login name
    assert done.exit_code == 0 and "approved by carla (2 of 2); queued" in done.output

    import json

    document = json.loads(campaign("approvals", *where, "--format", "json").output)
    assert [(d["id"], d["state"], d["rejections"][0]["reason"]) for d in document] == \
        [(second, "rejected", "Verkeerde foto")]

    shown = campaign("status", *where)
    assert "Rejected (1):" in shown.output and "rejected by bob: Verkeerde foto" in shown.output

    for args, message in (((999,), "no post #999 in the queue"),
                          ((first,), f"post #{first} is already approved (queued)")):
        refused = campaign("approve", *args, "--by", "anna", *where)
        assert refused.exit_code == 2 and refused.output.startswith(f"campaign: {message}")
        assert len(refused.output.splitlines()) == 1 and "Traceback" not in refused.output
    no_reason = campaign("reject", second, "--by", "bob", *where)
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    unknown = campaign("reject", 999, "--reason", "x", *where)
    assert unknown.exit_code == 2 and unknown.output.startswith("campaign: no post #999")

    ran = campaign("run", *where, env=stage.environ)
    assert ran.exit_code == 0, ran.output
    assert texts(fake_x) == ["Eerste regel\n\nmeer"]  # the approved one; the rejected one stays out


def test_the_dry_run_says_what_waits_for_approval(stage, fake_x):
    setup_x(stage, fake_x, f"- {{id: een, text: 'Wacht op goedkeuring', at: {stage.at(-1)}}}\n")
    [post_id] = ids(stage)
    result = campaign("run", "--dry-run", "--file", stage.posts_file, "--db", stage.db_url, env=stage.environ)
    assert result.exit_code == 0, result.output
    assert f"would hold back #{post_id} to tas_x" in result.output and "awaits approval" in result.output
    assert fake_x.requests_to("post") == []
