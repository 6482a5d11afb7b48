"""`campaign check` on hostile files: a 1 KB alias bomb and a 50 MB file; wall time and peak RSS.

Each run gets its own small wrapper process whose getrusage(RUSAGE_CHILDREN) is the peak RSS of
that one `campaign check` alone (ours would be the maximum over every child we ever ran).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from . import BenchmarkError, venv_bin

WALL_GOAL = 1.0  # seconds
RSS_GOAL = 100.0  # MB

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


def _files(folder: Path) -> dict[str, Path]:
    bomb = folder / "bomb.yaml"
    bomb.write_text(BOMB, encoding="utf-8")
    big = folder / "big.yaml"
    with big.open("w", encoding="utf-8") as out:
        out.write("timezone: Europe/Amsterdam\n")
        line = "# " + "x" * 98 + "\n"
        out.write(line * 500_000)  # 50 MB
    return {"alias bomb (1 KB)": bomb, f"{big.stat().st_size / 1e6:.0f} MB file": big}


def _measure(path: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one `campaign check` in a child that waits for nothing else."""
    started = time.perf_counter()
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True); "
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([str(venv_bin() / "python"), "-c", probe, str(venv_bin() / "campaign"), "check",
                             str(path)], capture_output=True, text=True, env={**os.environ, "CAMPAIGN_FILE": ""})
    wall = time.perf_counter() - started
    try:
        code, rss_kb = map(int, result.stdout.split())
    except ValueError:
        raise BenchmarkError(f"could not measure check of {path.name}: {result.stderr.strip()[-300:]}") from None
    if code != 2:
        raise BenchmarkError(f"campaign check {path.name} exited {code}, not 2")
    return wall, rss_kb / 1024


def run(args: argparse.Namespace) -> dict:
    timings, goals, info = {}, [], {}
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as folder:
        for label, path in _files(Path(folder)).items():
            for _ in range(args.warmup):
                _measure(path)
            runs = [_measure(path) for _ in range(args.repeat)]
            walls = [wall for wall, _ in runs]
            peak = max(rss for _, rss in runs)
            timings[f"check {label}"] = {"median": statistics.median(walls), "min": min(walls),
                                         "cpu_median": statistics.median(walls)}  # wall: CPU is the child's
            info[f"peak RSS, check {label}"] = f"{peak:.0f} MB"
            goals.append({"name": f"{label}: refused within", "value": statistics.median(walls),
                          "limit": WALL_GOAL, "unit": " s", "passed": statistics.median(walls) < WALL_GOAL})
            goals.append({"name": f"{label}: peak RSS", "value": peak, "limit": RSS_GOAL, "unit": " MB",
                          "passed": peak < RSS_GOAL})
    return {"title": __doc__.strip().splitlines()[0], "info": info, "timings": timings, "goals": goals}
