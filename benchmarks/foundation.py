"""campaign check / plan / sync / status on a posts.yaml with 10,000 occurrences; status start-up vs `import sqlalchemy`.

The file is generated in a temporary folder: seven accounts on X, Mastodon and Bluesky, five
campaigns with vars and UTM tagging, one-off posts (some with media or their own accounts), a
thread, and recurring posts (`every` with one or more times of day, `every: weekday`,
`every: "2 weeks"` … `until`, monthly `rrule`) whose `variants` keep X from seeing the same text
twice in 24 h. It must pass `campaign check` and `campaign plan --format json` must list exactly
the requested number of occurrences, or the benchmark stops.

Timed, as subprocesses with the venv's `campaign`:
    campaign check DEMO                 (the repository's posts.yaml: what the team runs on every save)
    campaign plan DEMO --format csv
    campaign check DEMO, cold cache     (twitter-text's answers not cached yet: a file of new texts)
    campaign sync DEMO --db NEW         (a new queue database: schema and the demo's posts)
    campaign sync DEMO --db OLD         (the same file on a database that already holds it)
    campaign check FILE
    campaign plan FILE --format csv > /dev/null
    campaign sync FILE --db DB          (first run: a new database, schema included)
    campaign sync FILE --db DB          (second run: nothing to change)
    campaign status --db DB             (a database synced from FILE)
    python -c "import sqlalchemy"       (the floor)
Every command runs with its bytecode cached (PYTHONPYCACHEPREFIX in the temporary folder), as an
installed copy has it. Goals (issue 17), as ratios of medians to the floor measured in the same run: check DEMO and plan
DEMO <= 0.6, a new queue database <= 1.0, status <= 1.2. The cache of twitter-text's answers
(campaign.spec.xtext) lives in the benchmark's temporary folder: the warm-up runs fill it, as the
first check after an edit does; the cold-cache case shows what a file of all-new texts costs.
Also reported, without a goal: the new database's own cost, the demo's sync on a new database minus
the same sync on a database that already holds it (schema creation and the first inserts), as a
ratio of the floor; the rest of a sync's time is start-up and posts.yaml, paid on every sync.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from . import BenchmarkError, Case, Goal, clean_env, entry_point, measure, run_checked

TARGET = 10_000
STATUS_FLOOR_GOAL = 1.2
CHECK_FLOOR_GOAL = 0.6  # campaign check and plan on the demo posts.yaml
NEW_DATABASE_FLOOR_GOAL = 1.0
DEMO = Path(__file__).resolve().parent.parent / "posts.yaml"
START = date(2030, 1, 7)  # a Monday, safely in the future: sync queues everything instead of marking it missed
NOW = "2030-01-01T09:00:00+01:00"  # passed as --now to sync and status, so every run sees the same queue
TZ = "Europe/Amsterdam"

# A 1×1 transparent PNG, so media paths point at a real image.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")

ACCOUNTS = {
    "gemeente_x": {"platform": "x", "handle": "@gemeenteutrecht", "max_per_day": 40},
    "wijken_x": {"platform": "x", "handle": "@utrechtinjewijk"},
    "hr_x": {"platform": "x", "handle": "@teamsaantstuur"},
    "gemeente_social": {"platform": "mastodon", "instance": "https://social.utrecht.nl",
                        "handle": "@gemeente@social.utrecht.nl"},
    "wijken_social": {"platform": "mastodon", "instance": "https://mastodon.social",
                      "handle": "@utrechtinjewijk@mastodon.social", "max_chars": 500},
    "gemeente_bsky": {"platform": "bluesky", "handle": "@utrecht.nl"},
    "hr_bsky": {"platform": "bluesky", "handle": "@teamsaantstuur.bsky.social"},
}

WIJKEN = ["Overvecht", "Zuilen", "Lombok", "Kanaleneiland", "Leidsche Rijn", "Vleuten-De Meern",
          "Tuindorp", "Hoograven", "Lunetten", "Oost", "Binnenstad", "Noordwest"]
THEMAS = ["groen in de straat", "veilig fietsen", "een buurtmoestuin", "speelplekken", "ontmoeting",
          "schone stoepen", "minder hitte", "cultuur om de hoek", "sport voor iedereen", "eenzaamheid"]
EMOJI = ["🌳", "🚲", "🧵", "📣", "🗓️", "💬", "♻️", "🏛️"]


@dataclass
class PostSpec:
    lines: list[str]
    accounts: int  # how many accounts it goes to
    times: int  # how many local times it has
    kind: str

    @property
    def occurrences(self) -> int:
        return self.accounts * self.times


@dataclass
class CampaignSpec:
    id: str
    name: str
    accounts: list[str]
    vars: dict
    utm: dict | None = None
    extra: dict = field(default_factory=dict)
    posts: list[PostSpec] = field(default_factory=list)


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def flow(items) -> str:
    return "[" + ", ".join(str(i) for i in items) + "]"


class _Texts:
    """Unique, plausible Dutch texts; unique across the file so no two posts collide on X."""

    def __init__(self):
        self.seen: set[str] = set()
        self.n = 0

    def make(self, opener: str, link_var: str | None = None, emoji: bool = True) -> str:
        self.n += 1
        wijk = WIJKEN[self.n % len(WIJKEN)]
        thema = THEMAS[(self.n // len(WIJKEN)) % len(THEMAS)]
        text = f"{opener} {wijk}: {thema}."
        if link_var:
            text += f" Lees meer en praat mee via {{{link_var}}}"
        if emoji and self.n % 3 == 0:
            text += " " + EMOJI[self.n % len(EMOJI)]
        if self.n % 5 == 0:
            text += " #utrecht"
        if text in self.seen:
            text += f" ({self.n})"
        self.seen.add(text)
        return text


def _post(pid: str | None, body: list[str], schedule: list[str], *, accounts: list[str] | None = None,
          extra: list[str] = ()) -> list[str]:
    lines = [f"      - id: {pid}"] if pid else []
    if accounts:
        lines.append(f"        accounts: {flow(accounts)}")
    lines += body + schedule + list(extra)
    if not pid:  # the first line of a list item needs the dash
        lines[0] = "      - " + lines[0].lstrip()
    return lines


def _text(text: str) -> list[str]:
    return [f"        text: {q(text)}"]


def _list(key: str, texts: list[str]) -> list[str]:
    return [f"        {key}:"] + [f"          - {q(t)}" for t in texts]


def _until_every_two_weeks_on_tuesday(start: date, until: date) -> int:
    """Occurrences of `every: "2 weeks"`, `on: [tue]` from a Monday `start` until `until` (inclusive)."""
    first = start + timedelta(days=1)
    return 0 if until < first else (until - first).days // 14 + 1


def build(target: int = TARGET) -> tuple[str, int, dict]:
    """posts.yaml text with exactly `target` occurrences, the count, and a summary of its contents."""
    texts = _Texts()
    campaigns = [
        CampaignSpec("teams-aan-het-stuur", "Teams aan het stuur!", ["hr_x", "gemeente_social", "hr_bsky"],
                     {"link": "https://publicpapersutrecht.nl/teams-aan-het-stuur",
                      "artikel": "https://publicpapersutrecht.nl/van-wat-naar-waartoe"},
                     {"medium": "social", "campaign": "teams-aan-het-stuur"}),
        CampaignSpec("wijkbudget-2030", "Wijkbudget 2030", ["wijken_x", "wijken_social", "gemeente_bsky"],
                     {"link": "https://www.utrecht.nl/wijkbudget", "aanmelden": "https://wijkbudget.utrecht.nl/aanmelden",
                      "deadline": "1 maart"},
                     {"source": "{platform}", "medium": "social", "content": "{post}-{account}",
                      "hosts": ["utrecht.nl"]}),
        CampaignSpec("werken-bij", "Werken bij de gemeente", ["gemeente_x", "gemeente_social", "gemeente_bsky"],
                     {"link": "https://www.werkenbijutrecht.nl/vacatures", "uren": 36},
                     {"medium": "social", "term": "vacature"}),
        CampaignSpec("afvalkalender", "Afvalkalender", ["wijken_x", "wijken_social"],
                     {"link": "https://www.utrecht.nl/afval"}, None, {"late": "30m"}),
        CampaignSpec("raadsvergadering", "Raad live", ["gemeente_x", "gemeente_social", "gemeente_bsky", "hr_bsky"],
                     {"link": "https://ris.utrecht.nl/vergaderingen"}, {"medium": "social"},
                     {"timezone": TZ, "late": "2h"}),
    ]
    scale = target / TARGET

    def scaled(n: int) -> int:
        return max(1, round(n * scale))

    for ci, campaign in enumerate(campaigns):
        link = "link"
        k = len(campaign.accounts)
        # One-off posts spread over the year, a few with media or their own accounts, some without id.
        for i in range(scaled(16)):
            day = START + timedelta(days=3 + i * 19 + ci * 2)
            hour, minute = [(9, 0), (10, 30), (12, 15), (15, 45), (19, 30)][(i + ci) % 5]
            body = _text(texts.make(f"Nieuw in {campaign.name}", link if i % 2 == 0 else None))
            extra, accounts, n_accounts = [], None, k
            if i % 7 == 3:
                extra = ["        media:", "          path: media/foto.png",
                         f"          alt: {q('Bewoners van ' + WIJKEN[i % len(WIJKEN)] + ' aan een lange tafel op straat.')}"]
            if i % 6 == 5:
                accounts, n_accounts = campaign.accounts[:1], 1
            pid = None if i % 4 == 1 else f"bericht-{i + 1:02d}"
            campaign.posts.append(PostSpec(
                _post(pid, body, [f"        at: {day.isoformat()} {hour:02d}:{minute:02d}"],
                      accounts=accounts, extra=extra), n_accounts, 1, "at"))
        if ci == 0:  # a thread
            parts = [texts.make("Van 'Wat?' naar 'Waartoe?' 🧵 over", None),
                     "Niet de vraag wát een team doet staat centraal, maar waartóe: welke publieke waarde levert het op?",
                     "Lees het hele artikel en praat mee: {artikel}"]
            campaign.posts.append(PostSpec(
                _post("van-wat-naar-waartoe", _list("thread", parts),
                      [f"        at: {(START + timedelta(days=31)).isoformat()} 12:30"]), k, 1, "thread"))
        # Weekly on two days, three variants.
        count = scaled(104)
        campaign.posts.append(PostSpec(
            _post("wekelijks", _list("variants", [texts.make("Deze week", link) for _ in range(3)]),
                  ["        every: week", "        on: [mon, thu]", '        at: "10:00"',
                   f"        from: {START.isoformat()}", f"        count: {count}"], extra=["        late: 3h"]),
            k, count, "every week"))
        # Every weekday at lunchtime, three variants (Dutch weekday names elsewhere, so both spellings are used).
        count = scaled(260)
        campaign.posts.append(PostSpec(
            _post("lunchtip", _list("variants", [texts.make("Lunchtip", link) for _ in range(3)]),
                  ["        every: weekday", '        at: "12:15"',
                   f"        from: {START.isoformat()}", f"        count: {count}"]),
            k, count, "every weekday"))
        # First Monday of the month, by rrule.
        count = scaled(24)
        campaign.posts.append(PostSpec(
            _post("maandoverzicht", _list("variants", [texts.make("Maandoverzicht", link) for _ in range(2)]),
                  ['        rrule: "FREQ=MONTHLY;BYDAY=1MO"', '        at: "09:00"',
                   f"        from: {START.isoformat()}", f"        count: {count}"]),
            k, count, "rrule"))
        # Every other Tuesday evening, until a date.
        until = START + timedelta(days=round(364 * scale))
        n = _until_every_two_weeks_on_tuesday(START, until)
        if n:
            campaign.posts.append(PostSpec(
                _post("spreekuur", _list("variants", [texts.make("Spreekuur", link) for _ in range(2)]),
                      ['        every: "2 weeks"', "        on: [di]", '        at: "19:00"',
                       f"        from: {START.isoformat()}", f"        until: {until.isoformat()}"]),
                k, n, "every 2 weeks until"))
        # Twice a month on set days.
        count = scaled(24)
        campaign.posts.append(PostSpec(
            _post("halvemaand", _list("variants", [texts.make("Halverwege de maand", link) for _ in range(2)]),
                  ["        every: month", "        on: [1, 15]", '        at: "08:30"',
                   f"        from: {START.isoformat()}", f"        count: {count}"]),
            k, count, "every month"))

    # The daily posts (twice a day, four variants) take what is left, shared over the campaigns;
    # whatever does not divide evenly goes to a single-account daily post.
    fixed = sum(p.occurrences for c in campaigns for p in c.posts)
    left = target - fixed
    if left < len(campaigns) + 1:
        raise BenchmarkError(f"--occurrences {target} is too small for the generated file (needs > {fixed})")
    for ci, campaign in enumerate(campaigns):
        k = len(campaign.accounts)
        share = (target - fixed) // (len(campaigns) + 1)
        count = max(1, share // k)
        campaign.posts.append(PostSpec(
            _post("dagelijks", _list("variants", [texts.make("Vandaag", "link") for _ in range(4)]),
                  ["        every: day", '        at: ["09:00", "16:30"]',
                   f"        from: {START.isoformat()}", f"        count: {count}"]),
            k, count, "every day"))
        left -= count * k
    extra_account = "wijken_social"
    campaigns[3].posts.append(PostSpec(
        _post("ophaaldag", _list("variants", [texts.make("Ophaaldag", "link") for _ in range(3)]),
              ["        every: day", '        at: "07:30"',
               f"        from: {START.isoformat()}", f"        count: {left}"], accounts=[extra_account]),
        1, left, "every day"))

    out = ["# Generated by benchmarks/foundation.py: a busy year of municipal campaign posts.",
           f"timezone: {TZ}", "late: 1h", "", "accounts:"]
    for name, account in ACCOUNTS.items():
        out.append(f"  {name}:")
        for key, value in account.items():
            out.append(f"    {key}: {q(value) if key in ('handle', 'instance') else value}")
    out += ["", "campaigns:"]
    for campaign in campaigns:
        out.append(f"  {campaign.id}:")
        out.append(f"    name: {q(campaign.name)}")
        out.append(f"    accounts: {flow(campaign.accounts)}")
        for key, value in campaign.extra.items():
            out.append(f"    {key}: {value}")
        out.append("    vars:")
        for key, value in campaign.vars.items():
            out.append(f"      {key}: {q(value) if isinstance(value, str) else value}")
        if campaign.utm is not None:
            out.append("    utm:")
            for key, value in campaign.utm.items():
                out.append(f"      {key}: {flow(value) if isinstance(value, list) else q(value)}")
        out.append("    posts:")
        for post in campaign.posts:
            out += post.lines
            out.append("")
    total = sum(p.occurrences for c in campaigns for p in c.posts)
    kinds: dict[str, int] = {}
    for c in campaigns:
        for p in c.posts:
            kinds[p.kind] = kinds.get(p.kind, 0) + p.occurrences
    summary = {"campaigns": len(campaigns), "accounts": len(ACCOUNTS),
               "posts": sum(len(c.posts) for c in campaigns), "by_kind": kinds}
    return "\n".join(out) + "\n", total, summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("foundation")
    group.add_argument("--occurrences", type=int, default=TARGET, metavar="N",
                       help=f"occurrences in the generated posts.yaml [default: {TARGET:,}]")
    group.add_argument("--keep", action="store_true",
                       help="keep the temporary folder (posts.yaml, databases) and print where it is")


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _say(message: str) -> None:
    print(f"  foundation: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict:
    target = getattr(args, "occurrences", TARGET)
    python, campaign = sys.executable, entry_point("campaign")
    folder = Path(tempfile.mkdtemp(prefix="praatmee-bench-"))
    try:
        return _run(args, target, python, campaign, folder)
    finally:
        if getattr(args, "keep", False):
            _say(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _run(args, target: int, python: str, campaign: str, folder: Path) -> dict:
    text, expected, summary = build(target)
    if expected != target:
        raise BenchmarkError(f"generator made {expected} occurrences instead of {target}")
    posts = folder / "posts.yaml"
    posts.write_text(text, encoding="utf-8")
    (folder / "media").mkdir()
    (folder / "media" / "foto.png").write_bytes(PNG)
    cache, cold_cache = folder / "cache", folder / "cold-cache"  # the cold case empties its own
    # Timed as installed: with bytecode (pip compiles it; PYTHONDONTWRITEBYTECODE, set in some
    # sandboxes, would make every run compile our modules from source while sqlalchemy's are
    # compiled). The bytecode goes to this temporary folder, never into the working tree.
    env = clean_env(CAMPAIGN_CACHE_DIR=str(cache), PYTHONPYCACHEPREFIX=str(folder / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    demo_folder = folder / "demo"
    demo_folder.mkdir()
    demo = demo_folder / "posts.yaml"
    shutil.copy(DEMO, demo)
    shutil.copytree(DEMO.parent / "media", demo_folder / "media")
    demo_db, demo_old_db = demo_folder / "new.db", demo_folder / "old.db"
    run_checked([campaign, "check", str(demo), "--now", NOW], cwd=demo_folder, env=env, what="campaign check (demo)")
    run_checked([campaign, "sync", str(demo), "--db", str(demo_old_db), "--now", NOW], cwd=demo_folder, env=env,
                what="campaign sync (demo)")

    # The file must be valid and expand to exactly `target` occurrences.
    _say(f"generated {posts} ({len(text.splitlines()):,} lines); checking it")
    checked = run_checked([campaign, "check", str(posts), "--now", NOW], cwd=folder, env=env, what="campaign check")
    plan = run_checked([campaign, "plan", str(posts), "--format", "json"], cwd=folder, env=env,
                       what="campaign plan --format json")
    try:
        records = json.loads(plan.stdout)
    except json.JSONDecodeError as error:
        raise BenchmarkError(f"campaign plan --format json printed no valid JSON ({error})") from None
    if len(records) != target:
        raise BenchmarkError(f"campaign plan lists {len(records)} occurrences, expected {target}")
    if len({r["id"] for r in records}) != target:
        raise BenchmarkError("campaign plan lists duplicate occurrence ids")
    platforms = sorted({r["platform"] for r in records})

    # A database for status, synced once; sync's own runs use another one.
    status_db, sync_db = folder / "status.db", folder / "sync.db"
    synced = run_checked([campaign, "sync", str(posts), "--db", str(status_db), "--now", NOW], cwd=folder,
                         env=env, what="campaign sync")
    run_checked([campaign, "status", "--db", str(status_db), "--now", NOW], cwd=folder, env=env,
                what="campaign status")

    sync_argv = [campaign, "sync", str(posts), "--db", str(sync_db), "--now", NOW]
    cases = [
        Case("campaign check (demo)", [campaign, "check", str(demo), "--now", NOW], demo_folder, env),
        Case("campaign plan --format csv (demo)", [campaign, "plan", str(demo), "--format", "csv", "--now", NOW],
             demo_folder, env),
        Case("campaign check (demo, cold cache)", [campaign, "check", str(demo), "--now", NOW], demo_folder,
             {**env, "CAMPAIGN_CACHE_DIR": str(cold_cache)},
             prepare=lambda: shutil.rmtree(cold_cache, ignore_errors=True)),
        Case("campaign sync (demo, new database)", [campaign, "sync", str(demo), "--db", str(demo_db), "--now", NOW],
             demo_folder, env, prepare=lambda: _remove_db(demo_db)),
        Case("campaign sync (demo, existing database)",
             [campaign, "sync", str(demo), "--db", str(demo_old_db), "--now", NOW], demo_folder, env),
        Case("campaign check", [campaign, "check", str(posts), "--now", NOW], folder, env),
        Case("campaign plan --format csv", [campaign, "plan", str(posts), "--format", "csv"], folder, env),
        Case("campaign sync (new database)", sync_argv, folder, env, prepare=lambda: _remove_db(sync_db)),
        Case("campaign sync (no changes)", sync_argv, folder, env),
        Case("campaign status", [campaign, "status", "--db", str(status_db), "--now", NOW], folder, env),
        Case("python -c 'import sqlalchemy'", [python, "-c", "import sqlalchemy"], folder, env),
    ]
    _say(f"timing {len(cases)} commands, {args.repeat} runs each after {args.warmup} warm-up")
    timings = measure(cases, repeat=args.repeat, warmup=args.warmup, progress=_say)

    floor = timings["python -c 'import sqlalchemy'"]

    def goal(label: str, case: str, limit: float) -> Goal:
        timing = timings[case]
        return Goal(f"{label} / import sqlalchemy (medians)", timing.median / floor.median, limit, "×",
                    note=f"cpu medians: {timing.cpu_median / floor.cpu_median:.2f}×")

    goals = [goal("campaign check, demo posts.yaml", "campaign check (demo)", CHECK_FLOOR_GOAL),
             goal("campaign plan, demo posts.yaml", "campaign plan --format csv (demo)", CHECK_FLOOR_GOAL),
             goal("a new queue database (sync of the demo)", "campaign sync (demo, new database)",
                  NEW_DATABASE_FLOOR_GOAL),
             goal("campaign status start-up", "campaign status", STATUS_FLOOR_GOAL)]
    new, old = timings["campaign sync (demo, new database)"], timings["campaign sync (demo, existing database)"]
    creation = (f"{(new.median - old.median) / floor.median:.2f}× the floor "
                f"(medians: {new.median - old.median:+.3f} s; cpu medians: "
                f"{(new.cpu_median - old.cpu_median) / floor.cpu_median:.2f}×); the sync itself on an "
                f"existing database: {old.median / floor.median:.2f}× (cpu {old.cpu_median / floor.cpu_median:.2f}×)")
    return {
        "title": f"posts.yaml with {target:,} occurrences",
        "info": {
            "file": f"{summary['posts']} posts in {summary['campaigns']} campaigns on {summary['accounts']} "
                    f"accounts ({', '.join(platforms)}), {len(text.splitlines()):,} lines, {len(text.encode()):,} bytes",
            "occurrences": ", ".join(f"{kind} {n:,}" for kind, n in summary["by_kind"].items()),
            "check": checked.stdout.strip().splitlines()[-1].replace(str(posts), "posts.yaml"),
            "sync": synced.stdout.strip().splitlines()[-1].replace(str(posts), "posts.yaml"),
            "a new queue database's own cost (demo sync, new minus existing database)": creation,
        },
        "timings": {label: timing.as_dict() for label, timing in timings.items()},
        "goals": [goal.as_dict() for goal in goals],
    }
