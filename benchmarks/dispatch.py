"""campaign run: an idle cron tick over 100,000 queued posts vs `import sqlalchemy`; dispatch cost per post.

Two measurements, from the issue:

1. A cron tick with nothing due. A posts.yaml whose 100,000 occurrences all lie in the future
   (four Mastodon accounts, one-off `at` posts and `every: day` / `every: weekday` / weekly
   `rrule` / `every: week` posts with variants) is generated, must pass `campaign check`, and is
   synced once (untimed; the queue must then hold exactly that many queued rows). Timed, as
   subprocesses, round-robin like foundation:
       campaign run FILE --db DB          (unchanged file: no parse, nothing due, exit 0)
       python -c "import sqlalchemy"      (the floor)
   Goal: median(run) / median(floor) <= 1.3. Once more, in-process (campaign.cli.main with
   sys.argv, in a child interpreter), the tick's sys.modules is inspected: platform libraries
   (tweepy, mastodon, atproto) must not be imported when nothing is due (goal: 0 of them).

2. Dispatch of 1,000 due posts (unique texts, due in the last minutes, `late: 1d`) on one
   Mastodon account whose instance is the loopback FakeMastodon (tests/fakes/mastodon.py),
   run in its own process so it does not share a GIL with the dispatcher; its rate limits are
   lifted. Each repeat, in a fresh child interpreter (like a cron run): a new database is synced
   (untimed), then Dispatcher(...).run_due() is timed with connect_platform wrapping
   campaign.send.platforms.connect so that the time inside Platform.post() (client library + HTTP +
   the fake) is summed. Overhead per post = (run_due wall - time inside post()) / N: the queue,
   database and bookkeeping cost, including the one-off client set-up (import of the platform
   library), spread over the N posts. Goal: median <= 5 ms. Afterwards the fake must hold exactly
   N posts with N distinct texts and every row must be 'sent', or the benchmark stops.
   `--dispatch-platforms mastodon,x` also measures X through tweepy against FakeX
   (tests/fakes/x.py, via CAMPAIGN_X_API_BASE); `--dispatch-profile` adds one cProfile'd run
   and prints the hotspots in campaign/ code.

Loopback only; every wait is bounded; the temporary folder and the fake processes are removed.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from . import BenchmarkError, Case, Goal, Timing, clean_env, entry_point, measure, run_checked

QUEUED = 100_000
POSTS = 1_000
RUN_FLOOR_GOAL = 1.3
OVERHEAD_GOAL_MS = 5.0
PLATFORM_LIBRARIES = ("tweepy", "mastodon", "atproto")
OTHER_MODULES = ("requests", "yaml", "dateutil", "alembic", "rich", "dotenv", "regex", "twitter_text")
START = date(2030, 1, 7)  # a Monday, safely in the future: the idle tick finds nothing due
TZ = "Europe/Amsterdam"
ROOT = Path(__file__).resolve().parent.parent
FAKE_TIMEOUT = 30.0  # seconds to wait for the fake process to answer a command
SEND_TIMEOUT = 600.0  # seconds a dispatch child may take (1,000 posts normally need a few seconds)
PLATFORMS = ("mastodon", "x")

IDLE_ACCOUNTS = {
    "gemeente_social": ("https://social.example", "@gemeente@social.example"),
    "wijken_social": ("https://mastodon.example", "@utrechtinjewijk@mastodon.example"),
    "hr_social": ("https://social.example", "@teamsaantstuur@social.example"),
    "raad_social": ("https://raad.example", "@raad@raad.example"),
}
WIJKEN = ["Overvecht", "Zuilen", "Lombok", "Kanaleneiland", "Leidsche Rijn", "Vleuten-De Meern",
          "Tuindorp", "Hoograven", "Lunetten", "Oost", "Binnenstad", "Noordwest"]
THEMAS = ["groen in de straat", "veilig fietsen", "een buurtmoestuin", "speelplekken", "ontmoeting",
          "schone stoepen", "minder hitte", "cultuur om de hoek", "sport voor iedereen", "eenzaamheid"]


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _say(message: str) -> None:
    print(f"  dispatch: {message}", file=sys.stderr, flush=True)


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _child_env(**extra: str) -> dict[str, str]:
    """clean_env, with the repository on the path (benchmarks.dispatch and tests.fakes are imported from it)."""
    path = os.environ.get("PYTHONPATH")
    return clean_env(PYTHONPATH=str(ROOT) + (os.pathsep + path if path else ""), **extra)


# -- 1. the idle tick ------------------------------------------------------------------

def build_idle(target: int = QUEUED) -> tuple[str, dict]:
    """posts.yaml with exactly `target` future occurrences on four Mastodon accounts, and a summary."""
    names = list(IDLE_ACCOUNTS)
    k = len(names)
    one_offs = max(1, target // 100)
    rest = target - one_offs * k
    if rest < 4 * k + 1:
        raise BenchmarkError(f"--queued {target} is too small (needs at least {one_offs * k + 4 * k + 1})")
    per_account, leftover = divmod(rest, k)
    daily = per_account // 2
    weekday = per_account // 4
    weekly_rrule = per_account // 6
    weekly = per_account - daily - weekday - weekly_rrule
    if max(daily, weekday, weekly_rrule, weekly, leftover) > 50_000:
        raise BenchmarkError(f"--queued {target} needs more than 50,000 occurrences in one post")
    n = 0

    def text(opener: str) -> str:
        nonlocal n
        n += 1
        return (f"{opener} {WIJKEN[n % len(WIJKEN)]}: {THEMAS[(n // len(WIJKEN)) % len(THEMAS)]}. "
                f"Praat mee via {{link}} ({n})")

    out = ["# Generated by benchmarks/dispatch.py: every occurrence lies in the future.",
           f"timezone: {TZ}", "late: 1h", "", "accounts:"]
    for name, (instance, handle) in IDLE_ACCOUNTS.items():
        out += [f"  {name}:", "    platform: mastodon", f"    instance: {q(instance)}", f"    handle: {q(handle)}"]
    out += ["", "campaigns:", "  praat-mee:", '    name: "Praat mee"', f"    accounts: [{', '.join(names)}]",
            "    vars:", f"      link: {q('https://www.utrecht.nl/praatmee')}", "    posts:"]
    for i in range(one_offs):
        day = START + timedelta(days=i % 900)
        hour, minute = [(9, 0), (10, 30), (12, 15), (15, 45), (19, 30)][i % 5]
        out += [f"      - id: bericht-{i + 1}", f"        text: {q(text('Nieuw in'))}",
                f"        at: {day.isoformat()} {hour:02d}:{minute:02d}"]

    def recurring(pid: str, opener: str, schedule: list[str], count: int, accounts: str = "") -> None:
        # posts.yaml allows at most MAX_OCCURRENCES_PER_POST per post: larger counts become several posts.
        from campaign.spec.schedule import MAX_OCCURRENCES_PER_POST

        chunks = [min(MAX_OCCURRENCES_PER_POST, count - start) for start in range(0, count, MAX_OCCURRENCES_PER_POST)]
        for number, chunk in enumerate(chunks, 1):
            one_post(pid if len(chunks) == 1 else f"{pid}-{number}", opener, schedule, chunk, accounts)

    def one_post(pid: str, opener: str, schedule: list[str], count: int, accounts: str) -> None:
        out.append(f"      - id: {pid}")
        if accounts:
            out.append(f"        accounts: [{accounts}]")
        out.append("        variants:")
        out.extend(f"          - {q(text(opener))}" for _ in range(3))
        out.extend(f"        {line}" for line in schedule)
        out.extend([f"        from: {START.isoformat()}", f"        count: {count}"])

    recurring("dagelijks", "Vandaag", ["every: day", 'at: ["08:00", "12:30", "17:00"]'], daily)
    recurring("werkdag", "Lunchtip", ["every: weekday", 'at: "10:15"'], weekday)
    recurring("maandag-woensdag-vrijdag", "Deze week", ['rrule: "FREQ=WEEKLY;BYDAY=MO,WE,FR"',
                                                         'at: ["09:00", "15:00"]'], weekly_rrule)
    recurring("zaterdag", "Weekend", ["every: week", "on: [za]", 'at: "11:00"'], weekly)
    if leftover:
        recurring("ophaaldag", "Ophaaldag", ["every: day", 'at: "07:30"'], leftover, accounts=names[0])
    summary = {"accounts": k, "one-off": one_offs * k, "every day": daily * k, "every weekday": weekday * k,
               "weekly rrule": weekly_rrule * k, "every week": weekly * k + leftover}
    return "\n".join(out) + "\n", summary


IMPORT_PROBE = """\
import json, sys
sys.argv = ["campaign", "run", sys.argv[1], "--db", sys.argv[2]]
from campaign.cli import main
code = 0
try:
    main()
except SystemExit as exit_:
    code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
top = sorted({name.split(".")[0] for name in sys.modules})
print("\\n" + json.dumps({"code": code, "modules": len(sys.modules), "top": top}))
"""


def _queued_rows(db: Path) -> dict[str, int]:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(connection.execute("SELECT state, count(*) FROM scheduled_posts GROUP BY state").fetchall())
    finally:
        connection.close()


def _import_breakdown(python: str, posts: Path, db: Path, folder: Path, env: dict) -> list[tuple[str, float]]:
    """Import time of one idle tick per top-level package (own times summed; python -X importtime)."""
    result = subprocess.run([python, "-X", "importtime", "-c", IMPORT_PROBE, str(posts), str(db)], cwd=folder,
                            env=env, capture_output=True, text=True, timeout=120)
    totals: dict[str, float] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        own, _cumulative, name = line[len("import time:"):].split("|")
        try:
            microseconds = int(own)
        except ValueError:  # the header line
            continue
        package = name.strip().split(".")[0]
        totals[package] = totals.get(package, 0.0) + microseconds / 1e6
    return sorted(totals.items(), key=lambda item: -item[1])


def _idle(args, folder: Path) -> tuple[dict, dict, list[Goal]]:
    target = getattr(args, "queued", QUEUED)
    python, campaign = sys.executable, entry_point("campaign")
    text, summary = build_idle(target)
    posts, db = folder / "idle.yaml", folder / "idle.db"
    posts.write_text(text, encoding="utf-8")
    env = clean_env()
    _say(f"generated {posts.name} ({len(text.splitlines()):,} lines, {target:,} occurrences); checking and syncing")
    run_checked([campaign, "check", str(posts)], cwd=folder, env=env, what="campaign check")
    started = time.perf_counter()
    synced = run_checked([campaign, "sync", str(posts), "--db", str(db)], cwd=folder, env=env, what="campaign sync")
    sync_seconds = time.perf_counter() - started
    states = _queued_rows(db)
    if states != {"queued": target}:
        raise BenchmarkError(f"after sync the queue holds {states}, expected {{'queued': {target}}}")

    # Which modules does an idle tick load? (In-process, in a child interpreter.)
    probe = run_checked([python, "-c", IMPORT_PROBE, str(posts), str(db)], cwd=folder, env=_child_env(),
                        what="campaign run (import probe)")
    try:
        loaded = json.loads(probe.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        raise BenchmarkError(f"the import probe printed no JSON: {probe.stdout[-200:]!r}") from None
    if loaded["code"] != 0:
        raise BenchmarkError(f"campaign run with nothing due exited {loaded['code']}: {probe.stderr.strip()[-300:]}")
    platform_libs = [m for m in PLATFORM_LIBRARIES if m in loaded["top"]]
    others = [m for m in OTHER_MODULES if m in loaded["top"]]
    breakdown = _import_breakdown(python, posts, db, folder, _child_env())

    run_argv = [campaign, "run", str(posts), "--db", str(db)]
    cases = [
        Case(f"campaign run (nothing due, {target:,} queued)", run_argv, folder, env),
        Case("python -c 'import sqlalchemy'", [python, "-c", "import sqlalchemy"], folder, env),
    ]
    _say(f"timing the idle tick against the floor, {args.repeat} runs each after {args.warmup} warm-up")
    timings = measure(cases, repeat=args.repeat, warmup=args.warmup, progress=_say)
    if _queued_rows(db) != {"queued": target}:
        raise BenchmarkError("the idle ticks changed the queue")
    tick, floor = timings[cases[0].label], timings[cases[1].label]
    goals = [
        Goal("campaign run, nothing due / import sqlalchemy (medians)", tick.median / floor.median, RUN_FLOOR_GOAL,
             "×", note=f"cpu medians: {tick.cpu_median / floor.cpu_median:.2f}×; "
                       f"+{(tick.median - floor.median) * 1000:.0f} ms over the floor"),
        Goal("platform libraries imported by an idle tick", len(platform_libs), 0, "",
             note=", ".join(platform_libs) if platform_libs else "none of " + ", ".join(PLATFORM_LIBRARIES)),
    ]
    info = {
        "idle file": f"{len(text.splitlines()):,} lines, {len(text.encode()):,} bytes; "
                     + ", ".join(f"{kind} {n:,}" for kind, n in summary.items()),
        "idle sync (once, untimed)": f"{sync_seconds:.1f} s: "
                                     + synced.stdout.strip().splitlines()[-1].replace(str(posts), posts.name),
        "idle tick modules": f"{loaded['modules']} modules; platform libraries: {', '.join(platform_libs) or 'none'}; "
                             f"also loaded: {', '.join(others) or 'none of ' + ', '.join(OTHER_MODULES)}",
        "idle tick imports (own time per package, one -X importtime run)":
            f"{sum(s for _, s in breakdown) * 1000:.0f} ms in all: "
            + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in breakdown[:10]),
    }
    return info, {label: t.as_dict() for label, t in timings.items()}, goals


# -- 2. dispatch against a loopback fake --------------------------------------------------

class FakeProcess:
    """A fake platform server in its own interpreter, driven by one-line JSON commands on stdin."""

    def __init__(self, platform: str, folder: Path):
        self.platform = platform
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.dispatch", "fake", platform], cwd=folder, env=_child_env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.info = self._answer()

    def _answer(self) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], FAKE_TIMEOUT)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.process.kill()
            try:
                _, err = self.process.communicate(timeout=10)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                err = ""
            self.stop()
            detail = (err or "").strip().splitlines()[-3:]
            raise BenchmarkError(f"the fake {self.platform} server did not answer"
                                 + (": " + "; ".join(detail) if detail else ""))
        return json.loads(line)

    def command(self, name: str) -> dict:
        try:
            self.process.stdin.write(name + "\n")
            self.process.stdin.flush()
        except OSError:
            pass  # the fake died; _answer says so
        return self._answer()

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except OSError:
                pass


def build_due(platform: str, fake: dict, n: int, now: datetime) -> tuple[str, dict[str, str]]:
    """posts.yaml with n posts due in the last minutes on one account at the fake; and the account's env."""
    if platform == "mastodon":
        account = (f"  bench:\n    platform: mastodon\n    instance: {q(fake['url'])}\n"
                   f"    handle: {q('@' + fake['username'])}\n")
        environ = {"CAMPAIGN_BENCH_ACCESS_TOKEN": fake["access_token"]}
    else:
        account = f"  bench:\n    platform: x\n    handle: {q('@' + fake['username'])}\n"
        environ = {"CAMPAIGN_BENCH_API_KEY": fake["consumer_key"], "CAMPAIGN_BENCH_API_SECRET": fake["consumer_secret"],
                   "CAMPAIGN_BENCH_ACCESS_TOKEN": fake["access_token"],
                   "CAMPAIGN_BENCH_ACCESS_TOKEN_SECRET": fake["access_token_secret"],
                   "CAMPAIGN_X_API_BASE": fake["url"]}
    zone = __import__("zoneinfo").ZoneInfo(TZ)
    minutes = max(1, min(n, 120))  # spread over the last two hours at most, oldest first
    lines = ["# Generated by benchmarks/dispatch.py: posts due in the last minutes.", f"timezone: {TZ}", "",
             "accounts:", account, "campaigns:", "  bench:", "    accounts: [bench]", "    late: 1d", "    posts:"]
    base = now.replace(second=0, microsecond=0)
    for i in range(n):
        at = (base - timedelta(minutes=minutes - i * minutes // n)).astimezone(zone)
        body = (f"Bericht {i + 1} van {n}: praat mee over {THEMAS[i % len(THEMAS)]} in "
                f"{WIJKEN[i % len(WIJKEN)]}. #utrecht")
        lines += [f"      - id: p{i + 1}", f"        text: {q(body)}", f"        at: {at:%Y-%m-%d %H:%M}"]
    return "\n".join(lines) + "\n", environ


def _dispatch(args, folder: Path) -> tuple[dict, dict, list[Goal]]:
    n = getattr(args, "dispatch_posts", POSTS)
    repeat = getattr(args, "dispatch_repeat", None) or min(args.repeat, 5)
    platforms = getattr(args, "dispatch_platforms", ["mastodon"])
    info, timings, goals = {}, {}, []
    for platform in platforms:
        fake = FakeProcess(platform, folder)
        try:
            result = _dispatch_platform(args, folder, platform, fake, n, repeat)
        finally:
            fake.stop()
        for key in ("info", "timings"):
            (info if key == "info" else timings).update(result[key])
        goals += result["goals"]
    return info, timings, goals


def _send(folder: Path, config: dict, label: str) -> dict:
    path = folder / "send.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    try:
        result = subprocess.run([sys.executable, "-m", "benchmarks.dispatch", "send", str(path)], cwd=folder,
                                env=_child_env(), capture_output=True, text=True, timeout=SEND_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BenchmarkError(f"{label}: the dispatch run took more than {SEND_TIMEOUT:.0f} s") from None
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise BenchmarkError(f"{label}: exit status {result.returncode}: {'; '.join(detail)}")
    answer = json.loads(lines[-1])
    if answer.get("error"):
        raise BenchmarkError(f"{label}: {answer['error']}")
    return answer


def _dispatch_platform(args, folder: Path, platform: str, fake: FakeProcess, n: int, repeat: int) -> dict:
    text, environ = build_due(platform, fake.info, n, datetime.now(timezone.utc))
    posts = folder / f"due-{platform}.yaml"
    posts.write_text(text, encoding="utf-8")
    run_checked([entry_point("campaign"), "check", str(posts)], cwd=folder, env=clean_env(),
                what=f"campaign check ({platform} file)")
    config = {"posts": str(posts), "db": str(folder / f"due-{platform}.db"), "environ": environ, "n": n,
              "profile": False}
    label = f"dispatch {n:,} posts to the fake {platform}"
    runs = []
    _say(f"{label}: {repeat} runs (a warm-up first), each a fresh interpreter and database")
    for index in range(repeat + 1):
        fake.command("reset")
        answer = _send(folder, config, label)
        stats = fake.command("stats")
        if stats["posts"] != n or stats["distinct_texts"] != n or stats["server_errors"]:
            raise BenchmarkError(f"{label}: the fake holds {stats['posts']} posts ({stats['distinct_texts']} distinct "
                                 f"texts, {stats['server_errors']} server errors), expected exactly {n}")
        if index:  # the first is the warm-up (page cache, bytecode)
            runs.append(answer)
            _say(f"{platform} run {index}/{repeat}: {answer['wall']:.2f} s, "
                 f"{(answer['wall'] - answer['post']) / n * 1000:.2f} ms/post overhead")

    profile = None
    if getattr(args, "dispatch_profile", False):
        fake.command("reset")
        profile = _send(folder, {**config, "profile": True}, label + " (profiled)")["profile"]
        fake.command("stats")

    wall = Timing(f"{platform}: run_due(), {n:,} posts", [r["wall"] for r in runs], [r["cpu"] for r in runs])
    inside = Timing(f"{platform}:   of which inside post()", [r["post"] for r in runs], [r["post_cpu"] for r in runs])
    outside = Timing(f"{platform}:   of which outside post()", [r["wall"] - r["post"] for r in runs],
                     [r["cpu"] - r["post_cpu"] for r in runs])
    sync = Timing(f"{platform}: sync {n:,} posts (untimed step)", [r["sync"] for r in runs],
                  [r["sync_cpu"] for r in runs])
    overhead = statistics.median((r["wall"] - r["post"]) / n * 1000 for r in runs)
    overhead_cpu = statistics.median((r["cpu"] - r["post_cpu"]) / n * 1000 for r in runs)
    connect = statistics.median(r["connect"] for r in runs) * 1000
    round_trip = statistics.median(r["post"] / r["calls"] * 1000 for r in runs)
    round_trip_cpu = statistics.median(r["post_cpu"] / r["calls"] * 1000 for r in runs)
    rate = statistics.median(n / r["wall"] for r in runs)
    info = {
        f"{platform} dispatch": f"{n:,} posts, {repeat} runs; every run: fake holds exactly {n:,} distinct posts, "
                                f"all rows 'sent'",
        f"{platform} per post (medians)": f"overhead {overhead:.2f} ms (cpu {overhead_cpu:.2f} ms, "
                                          f"incl. client set-up {connect:.0f} ms once = {connect / n:.2f} ms/post); "
                                          f"round trip in post() {round_trip:.2f} ms (client cpu {round_trip_cpu:.2f} ms); "
                                          f"{rate:.0f} posts/s",
    }
    if profile:
        info[f"{platform} profile (run_due, cProfile)"] = "\n" + profile
    goals = [Goal(f"{platform}: dispatch overhead per post beyond post() (median)", overhead, OVERHEAD_GOAL_MS, " ms",
                  note=f"round trip {round_trip:.2f} ms/post, {rate:.0f} posts/s")]
    return {"info": info, "timings": {t.label: t.as_dict() for t in (wall, inside, outside, sync)}, "goals": goals}


# -- the benchmark ------------------------------------------------------------------------

def _platform_list(value: str) -> list[str]:
    chosen = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PLATFORMS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(PLATFORMS)} (comma-separated)")
    return list(dict.fromkeys(chosen))


def _at_least(minimum: int):
    def parse(value: str) -> int:
        number = int(value)
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return number
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dispatch")
    group.add_argument("--queued", type=_at_least(100), default=QUEUED, metavar="N",
                       help=f"future occurrences in the queue for the idle tick [default: {QUEUED:,}]")
    group.add_argument("--dispatch-posts", type=_at_least(1), default=POSTS, metavar="N",
                       help=f"due posts to dispatch to the fake [default: {POSTS:,}]")
    group.add_argument("--dispatch-repeat", type=_at_least(1), default=None, metavar="N",
                       help="dispatch runs per platform [default: --repeat, at most 5]")
    group.add_argument("--dispatch-platforms", type=_platform_list, default=["mastodon"], metavar="LIST",
                       help="fakes to dispatch to: mastodon, x, or mastodon,x [default: mastodon]")
    group.add_argument("--dispatch-profile", action="store_true",
                       help="add one cProfile'd dispatch run per platform and show the hotspots in campaign/")
    group.add_argument("--dispatch-keep", action="store_true",
                       help="keep the temporary folder (posts files, databases) and print where it is")


def run(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="praatmee-bench-dispatch-"))
    try:
        idle_info, idle_timings, idle_goals = _idle(args, folder)
        send_info, send_timings, send_goals = _dispatch(args, folder)
    finally:
        if getattr(args, "dispatch_keep", False):
            _say(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return {
        "title": f"idle cron tick over {getattr(args, 'queued', QUEUED):,} queued posts; "
                 f"dispatch of {getattr(args, 'dispatch_posts', POSTS):,} posts to loopback fakes",
        "info": {**idle_info, **send_info},
        "timings": {**idle_timings, **send_timings},
        "goals": [goal.as_dict() for goal in idle_goals + send_goals],
    }


# -- child processes: `python -m benchmarks.dispatch fake PLATFORM` / `... send CONFIG.json` ----

def _serve_fake(platform: str) -> int:
    """Run a fake until stdin closes. Commands: reset, stats. Answers one JSON line each."""
    import threading

    bound = threading.Timer(1800, lambda: os._exit(3))  # should the parent vanish without closing stdin
    bound.daemon = True
    bound.start()
    if platform == "mastodon":
        from tests.fakes.mastodon import FakeMastodon

        fake = FakeMastodon(username="bench").start()
        hello = {"url": fake.url, "username": fake.account.username, "access_token": fake.account.access_token}
    else:
        from tests.fakes.x import FakeX

        fake = FakeX(username="bench").start()
        account = fake.account
        hello = {"url": fake.url, "username": account.username, "consumer_key": account.consumer_key,
                 "consumer_secret": account.consumer_secret, "access_token": account.access_token,
                 "access_token_secret": account.access_token_secret}

    def lift_limits() -> None:
        for endpoint in list(fake.rate_limits):
            fake.set_rate_limit(endpoint, 10**9, 86_400)

    lift_limits()
    print(json.dumps(hello), flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "reset":
                fake.reset_state()
                lift_limits()
                print(json.dumps({"ok": True}), flush=True)
            elif command == "created":
                print(json.dumps({"posts": [[p["text"], p["created_at"].isoformat()] for p in fake.posts]}),
                      flush=True)
            elif command == "stats":
                stored = fake.posts
                print(json.dumps({"posts": len(stored), "distinct_texts": len({p["text"] for p in stored}),
                                  "server_errors": fake.server_errors, "requests": len(fake.requests)}), flush=True)
            else:
                print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
    finally:
        fake.stop()
    os._exit(0)  # do not wait for the safety timer


def _profile_text(profiler, top: int = 15) -> str:
    """The profile's hotspots: campaign/ functions by cumulative and own time, and all functions by own time."""
    import pstats

    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, function), (_cc, calls, own, cumulative, _callers) in stats.stats.items():
        rows.append((filename, line, function, calls, own, cumulative))

    def where(filename: str, line: int, function: str) -> str:
        path = Path(filename)
        try:
            shown = str(path.resolve().relative_to(ROOT))
        except ValueError:
            parts = path.parts
            shown = "/".join(parts[parts.index("site-packages") + 1:]) if "site-packages" in parts else filename
        return f"{shown}:{line}({function})"

    ours = [r for r in rows if str(Path(r[0]).resolve()).startswith(str(ROOT / "campaign"))]
    out = ["    campaign/ by cumulative time:"]
    out += [f"      {r[5]:7.3f} s cum {r[4]:7.3f} s own {r[3]:7d} calls  {where(*r[:3])}"
            for r in sorted(ours, key=lambda r: -r[5])[:top]]
    out.append("    everything by own time:")
    out += [f"      {r[4]:7.3f} s own {r[5]:7.3f} s cum {r[3]:7d} calls  {where(*r[:3])}"
            for r in sorted(rows, key=lambda r: -r[4])[:top]]
    return "\n".join(out)


def _send_child(config_path: str) -> int:
    """Sync a fresh database from the posts file, then time one Dispatcher.run_due(); print one JSON line."""
    from campaign.send import platforms as platform_module
    from campaign.queue.db import Database
    from campaign.send.dispatch import Dispatcher
    from campaign.spec.plan import load_plan
    from campaign.queue.sync import file_fingerprint, sync
    from sqlalchemy import func, select
    from campaign.queue.tables import scheduled_posts, sent_parts

    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    posts, db_path, n = Path(config["posts"]), Path(config["db"]), config["n"]
    _remove_db(db_path)
    started, started_cpu = time.perf_counter(), time.process_time()
    db = Database("sqlite:///" + str(db_path))
    now = datetime.now(timezone.utc)
    sync(db, load_plan(posts), now, fingerprint=file_fingerprint(posts))
    sync_wall, sync_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    with db.transaction() as connection:
        queued = connection.execute(select(func.count()).select_from(scheduled_posts)
                                    .where(scheduled_posts.c.state == "queued",
                                           scheduled_posts.c.due_at <= now)).scalar_one()
    if queued != n:
        print(json.dumps({"error": f"{queued} posts are due after sync, expected {n}"}))
        return 0

    spent = {"post": 0.0, "post_cpu": 0.0, "calls": 0, "connect": 0.0}

    class TimedPlatform:
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def post(self, part, *, reply_to, root):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return self._inner.post(part, reply_to=reply_to, root=root)
            finally:
                spent["post"] += time.perf_counter() - wall
                spent["post_cpu"] += time.thread_time() - cpu
                spent["calls"] += 1

    def connect_timed(info, environ):
        wall = time.perf_counter()
        try:
            return TimedPlatform(platform_module.connect(info, environ))
        finally:
            spent["connect"] += time.perf_counter() - wall

    def dispatch():
        dispatcher = Dispatcher(db, environ=config["environ"], connect_platform=connect_timed)
        return dispatcher.run_due()

    profile = None
    started, started_cpu = time.perf_counter(), time.thread_time()
    if config.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        report = profiler.runcall(dispatch)
        wall, cpu = time.perf_counter() - started, time.thread_time() - started_cpu
        profile = _profile_text(profiler)
    else:
        report = dispatch()
        wall, cpu = time.perf_counter() - started, time.thread_time() - started_cpu

    with db.transaction() as connection:
        states = dict(connection.execute(select(scheduled_posts.c.state, func.count())
                                         .group_by(scheduled_posts.c.state)).all())
        parts = connection.execute(select(func.count()).select_from(sent_parts)).scalar_one()
    if states != {"sent": n} or parts != n or report.count("sent") != n:
        other = [o for o in report.outcomes if o.state != "sent"][:3]
        print(json.dumps({"error": f"after run_due the rows are {states} ({parts} sent parts), expected all {n} "
                                   f"'sent'; report: {report.count('sent')} sent"
                                   + (f", e.g. {[(o.state, o.message) for o in other]}" if other else "")
                                   + (f"; config errors: {report.config_errors[:2]}" if report.config_errors else "")}))
        return 0
    print(json.dumps({"wall": wall, "cpu": cpu, "sync": sync_wall, "sync_cpu": sync_cpu, **spent,
                      "profile": profile}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "fake" and sys.argv[2] in PLATFORMS:
        sys.exit(_serve_fake(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "send":
        sys.exit(_send_child(sys.argv[2]))
    print("usage: python -m benchmarks.dispatch fake mastodon|x | send CONFIG.json (used by the benchmark)",
          file=sys.stderr)
    sys.exit(2)
