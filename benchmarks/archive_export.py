"""archive export to CSV, XLSX and Parquet of a generated archive (default 100,000 posts): rows/s, CPU, memory.

The archive is the X archive of archive_import (generated, then imported into SQLite), or an
existing archive database (--export-db, e.g. a 1,000,000-post one kept from an earlier run).
Each format is exported with the venv's `archive export … -o FILE --no-progress` as a
subprocess; measured per run: wall time, the CPU time of the command and, from /proc every
20 ms, the CPU time of each of its processes (the writer and the process reading for it) and
the largest sum of their RSS. Besides the wall-clock rate, "rate if CPU-bound" is the rows
divided by the busier process's CPU time: what two otherwise idle cores reach, and steadier
than wall time when other work shares the machine.
Goals (issue 15): CSV >= 100,000 rows/s, XLSX >= 25,000 rows/s, Parquet >= 200,000 rows/s,
memory bounded (all processes <= 200 MB).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from . import BenchmarkError, Goal, clean_env, entry_point, process_tree

DEFAULT_POSTS = 100_000
GOALS = {"csv": 100_000, "xlsx": 25_000, "parquet": 200_000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("archive_export")
    group.add_argument("--export-posts", type=int, default=DEFAULT_POSTS, metavar="N",
                       help=f"posts in the generated archive [default: {DEFAULT_POSTS:,}]")
    group.add_argument("--export-db", type=Path, metavar="FILE",
                       help="export this archive (a SQLite file) instead of generating one")
    group.add_argument("--export-formats", default="csv,xlsx,parquet", metavar="LIST",
                       help="formats to export, comma-separated [default: csv,xlsx,parquet]")


def _say(message: str) -> None:
    print(f"  … {message}", file=__import__("sys").stderr, flush=True)


def _sample(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, RSS bytes) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks, pages * os.sysconf("SC_PAGE_SIZE")


def measure(argv: list[str], cwd: Path, env: dict) -> dict:
    """Run argv once: wall, CPU (all processes, from wait4), CPU of the writer and of the rest
    (sampled), peak RSS of all processes together."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cpu_seen: dict[int, float] = {}
    peak = 0
    while process.poll() is None:
        total_rss = 0
        for pid in process_tree(process.pid):
            sample = _sample(pid)
            if sample:
                cpu_seen[pid] = sample[0]
                total_rss += sample[1]
        peak = max(peak, total_rss)
        time.sleep(0.02)
    wall = time.perf_counter() - started
    # The process is reaped by poll(); its rusage (with its reaped children) is in RUSAGE_CHILDREN.
    error = process.stderr.read().decode(errors="replace").strip()
    if process.returncode != 0:
        raise BenchmarkError(f"{' '.join(argv[1:4])}: exit status {process.returncode}: {error[-300:]}")
    writer = cpu_seen.get(process.pid, 0.0)
    reader = sum(cpu for pid, cpu in cpu_seen.items() if pid != process.pid)
    return {"wall": wall, "writer_cpu": writer, "reader_cpu": reader, "peak_rss_mb": peak / 1e6}


def run(args: argparse.Namespace) -> dict:
    import resource

    count = getattr(args, "export_posts", DEFAULT_POSTS)
    existing = getattr(args, "export_db", None)
    formats = [f.strip() for f in getattr(args, "export_formats", "csv,xlsx,parquet").split(",") if f.strip()]
    skipped = []
    if "parquet" in formats and subprocess.run([str(Path(entry_point("archive")).parent / "python"), "-c",
                                                "import pyarrow"], capture_output=True).returncode != 0:
        formats.remove("parquet")
        skipped.append("parquet (pyarrow is not installed: pip install 'praatmee[parquet]')")
    if not os.path.isdir("/proc"):
        raise BenchmarkError("this benchmark samples /proc (Linux)")
    archive = entry_point("archive")
    folder = Path(tempfile.mkdtemp(prefix="praatmee-export-bench-"))
    env = clean_env()
    try:
        if existing:
            database = existing.resolve()
            if not database.exists():
                raise BenchmarkError(f"{database}: not there")
        else:
            from .archive_import import write_archive

            zip_path = folder / "twitter-bench.zip"
            _say(f"generating and importing an X archive of {count:,} tweets")
            write_archive(zip_path, count)
            database = folder / "archive.db"
            subprocess.run([archive, "import", str(zip_path), "--db", str(database), "--no-progress"], cwd=folder,
                           env=env, check=True, capture_output=True)
        import sqlite3

        with sqlite3.connect(database) as connection:
            rows = connection.execute("SELECT count(*) FROM archive_posts WHERE deleted_at IS NULL").fetchone()[0]
        repeat = max(1, min(getattr(args, "repeat", 1), 3))
        info, goals, timings = {"database": f"{database.name}, {rows:,} posts", "runs": repeat}, [], {}
        if skipped:
            info["skipped"] = "; ".join(skipped)
        for format_name in formats:
            argv = [archive, "export", "--format", format_name, "-o", str(folder / f"out.{format_name}"), "--db",
                    str(database), "--now", "2026-01-01", "--no-progress"]
            _say(f"export {format_name} ({repeat} run{'s' * (repeat != 1)})")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            runs = [measure(argv, folder, env) for _ in range(repeat)]
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu_total = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / repeat
            wall = statistics.median(r["wall"] for r in runs)
            busier = statistics.median(max(r["writer_cpu"], r["reader_cpu"]) for r in runs)
            peak = max(r["peak_rss_mb"] for r in runs)
            size = (folder / f"out.{format_name}").stat().st_size
            info[f"{format_name}: rate (wall)"] = f"{rows / wall:,.0f} rows/s"
            info[f"{format_name}: rate if CPU-bound"] = f"{rows / busier:,.0f} rows/s (busier process)"
            info[f"{format_name}: CPU writer / reader / all"] = (
                f"{statistics.median(r['writer_cpu'] for r in runs):.2f} / "
                f"{statistics.median(r['reader_cpu'] for r in runs):.2f} / {cpu_total:.2f} s")
            info[f"{format_name}: peak RSS, all processes"] = f"{peak:.0f} MB"
            info[f"{format_name}: file"] = f"{size / 1e6:.1f} MB"
            timings[f"export {format_name}"] = {"median": wall, "min": min(r["wall"] for r in runs),
                                                "cpu_median": cpu_total, "runs": [round(r["wall"], 3) for r in runs],
                                                "cpu_runs": []}
            if format_name in GOALS:
                goals.append(Goal(f"{format_name} seconds per {GOALS[format_name]:,} rows (wall)",
                                  GOALS[format_name] * wall / rows, 1.0, " s"))
                goals.append(Goal(f"{format_name} peak RSS, all processes", peak, 200, " MB"))
        return {"title": f"archive export of {rows:,} posts (SQLite)", "info": info, "timings": timings,
                "goals": [goal.as_dict() for goal in goals]}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
