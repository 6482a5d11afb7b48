"""Benchmarks for Praat mee: `python -m benchmarks [NAME ...] [--repeat N] [--json FILE]` (or ./scripts/bench).

Every module in this package whose name does not start with "_" is a benchmark, named after the
module (benchmarks/foundation.py is `foundation`). A benchmark module provides

    run(args) -> dict           # args: the parsed argparse namespace (args.repeat, args.warmup, …)
    add_arguments(parser)       # optional: extra options, e.g. in parser.add_argument_group(NAME)

and its docstring's first line is its description in `--list`. The dict `run` returns is

    {"title": str,                          # one line shown above the table
     "info": {name: value, ...},            # facts about the set-up (sizes, versions), printed and saved
     "timings": {label: Timing.as_dict()},  # what measure() returns, in display order
     "goals": [Goal.as_dict(), ...]}        # PASS/MISS lines

Missing a goal is not a failure: the exit status is 0 unless a benchmark could not run at all
(raise BenchmarkError with one clear line for that).

The helpers below time commands as subprocesses, the way people and cron run them: wall-clock
time (median and min over the repeats, the median is what goals use) and the CPU time
(user + system) of the child, which is steadier than wall time on a busy machine.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

DEFAULT_REPEAT = 7
DEFAULT_WARMUP = 1


class BenchmarkError(Exception):
    """A benchmark cannot run (bad set-up, a command failed); the message is for the user."""


def process_tree(root: int) -> set[int]:
    """root and every process descended from it now (read from /proc; just root where there is
    none), so that a command's memory can be summed over the processes it started."""
    parents = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return tree


# -- discovery -------------------------------------------------------------

POSTGRES_ADMIN = os.environ.get("CAMPAIGN_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def postgres_database(name: str, action: str) -> str:
    """Create (action "create", after dropping a leftover) or drop a benchmark's own PostgreSQL
    database on the server of CAMPAIGN_BENCH_POSTGRES; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            if action == "create":
                connection.execute(text(f"CREATE DATABASE {name}"))
    except Exception as error:
        raise BenchmarkError(f"PostgreSQL at {POSTGRES_ADMIN} is not usable: {error}") from None
    finally:
        engine.dispose()
    return make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)


def available() -> dict[str, str]:
    """Benchmark name → module name, in alphabetical order."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__)
                   if not info.name.startswith("_") and not info.ispkg)
    return {name: f"{__name__}.{name}" for name in names}


def load(name: str):
    module = importlib.import_module(available()[name])
    if not callable(getattr(module, "run", None)):
        raise BenchmarkError(f"benchmarks/{name}.py has no run(args) function")
    return module


def description(module) -> str:
    doc = (module.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


# -- the tools -------------------------------------------------------------

def venv_bin() -> Path:
    """The folder of the running interpreter's scripts (the venv's bin/), where `campaign` lives."""
    return Path(sys.executable).parent


def entry_point(name: str) -> str:
    path = venv_bin() / name
    if not path.exists():
        raise BenchmarkError(f"{path} not found; run ./scripts/bench (it sets up .venv) "
                             f"or use the venv's python: .venv/bin/python -m benchmarks")
    return str(path)


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without settings that would redirect the commands under test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    env.update(extra)
    return env


def run_checked(argv: Sequence[str], *, cwd: Path, env: dict, what: str,
                expect: int = 0) -> subprocess.CompletedProcess:
    """Run once, capturing output; raise BenchmarkError when the exit status is not `expect`."""
    result = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != expect:
        detail = (result.stderr or result.stdout).strip().splitlines()
        shown = "; ".join(detail[:5]) + (f" … ({len(detail)} lines)" if len(detail) > 5 else "")
        raise BenchmarkError(f"{what}: exit status {result.returncode}, expected {expect}"
                             + (f": {shown}" if shown else ""))
    return result


@dataclass
class Case:
    """One command to time. `prepare` runs before each run, untimed (e.g. delete a database)."""

    label: str
    argv: Sequence[str]
    cwd: Path
    env: dict
    prepare: Callable[[], None] | None = None
    stdout: object = subprocess.DEVNULL  # like `> /dev/null`
    expect: int = 0


@dataclass
class Timing:
    label: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def min(self) -> float:
        return min(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    def as_dict(self) -> dict:
        return {"median": self.median, "min": self.min, "cpu_median": self.cpu_median,
                "runs": [round(x, 6) for x in self.wall], "cpu_runs": [round(x, 6) for x in self.cpu]}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(case: Case) -> tuple[float, float]:
    """Time one run of a case: (wall seconds, child CPU seconds)."""
    if case.prepare is not None:
        case.prepare()
    cpu_before = _children_cpu()
    start = time.perf_counter()
    process = subprocess.run(list(case.argv), cwd=case.cwd, env=case.env, stdin=subprocess.DEVNULL,
                             stdout=case.stdout, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before
    if process.returncode != case.expect:
        tail = process.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise BenchmarkError(f"{case.label}: exit status {process.returncode}, expected {case.expect}"
                             + (": " + "; ".join(tail) if tail else ""))
    return wall, cpu


def measure(cases: Sequence[Case], *, repeat: int = DEFAULT_REPEAT, warmup: int = DEFAULT_WARMUP,
            progress: Callable[[str], None] | None = None) -> dict[str, Timing]:
    """Time every case `repeat` times, round-robin (one of each per round), after `warmup` untimed rounds.

    Round-robin spreads the machine's slow moments over all cases, so ratios between them
    (e.g. a start-up time against its floor) are fairer than when each case runs in a block.
    """
    timings = {case.label: Timing(case.label) for case in cases}
    for _ in range(warmup):
        for case in cases:
            run_once(case)
    for round_ in range(repeat):
        if progress:
            progress(f"round {round_ + 1}/{repeat}")
        for case in cases:
            wall, cpu = run_once(case)
            timings[case.label].wall.append(wall)
            timings[case.label].cpu.append(cpu)
    return timings


@dataclass
class Goal:
    """A limit on a measured value: passes when value <= limit."""

    name: str
    value: float
    limit: float
    unit: str = ""
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.value <= self.limit

    def as_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "limit": self.limit, "unit": self.unit,
                "passed": self.passed, "note": self.note}


# -- output ----------------------------------------------------------------

def _seconds(value: float) -> str:
    return f"{value:7.3f} s"


def format_result(name: str, result: dict) -> str:
    lines = [f"{name}: {result.get('title', '')}".rstrip(": ")]
    for key, value in result.get("info", {}).items():
        lines.append(f"  {key}: {value}")
    timings = result.get("timings", {})
    if timings:
        width = max(len(label) for label in timings)
        lines.append("")
        lines.append(f"  {'command':<{width}}  {'median':>9}  {'min':>9}  {'cpu (median)':>12}")
        for label, timing in timings.items():
            lines.append(f"  {label:<{width}}  {_seconds(timing['median'])}  {_seconds(timing['min'])}  "
                         f"{_seconds(timing['cpu_median']):>12}")
    goals = result.get("goals", [])
    if goals:
        lines.append("")
        width = max(len(goal["name"]) for goal in goals)
        for goal in goals:
            unit = goal.get("unit", "")
            verdict = "PASS" if goal["passed"] else "MISS"
            lines.append(f"  {verdict}  {goal['name']:<{width}}  {goal['value']:.2f}{unit} "
                         f"(goal ≤ {goal['limit']:.2f}{unit})"
                         + (f"  {goal['note']}" if goal.get("note") else ""))
    return "\n".join(lines)
