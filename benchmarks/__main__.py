"""python -m benchmarks [NAME ...] [--repeat N] [--json FILE]: run the named benchmarks (default: all)."""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from . import DEFAULT_REPEAT, DEFAULT_WARMUP, BenchmarkError, available, description, format_result, load


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def _machine() -> dict:
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "commit": _git_commit(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def main(argv: list[str] | None = None) -> int:
    names = available()
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Time Praat mee's commands. With no NAME, every benchmark runs. "
                    "Exit status 0 even when a goal is missed (each goal prints PASS or MISS); "
                    "1 when a benchmark could not run.")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run: {', '.join(names) or '(none found)'} [default: all]")
    parser.add_argument("--repeat", type=_positive, default=DEFAULT_REPEAT, metavar="N",
                        help=f"timed runs per command [default: {DEFAULT_REPEAT}]")
    parser.add_argument("--warmup", type=_not_negative, default=DEFAULT_WARMUP, metavar="N",
                        help=f"untimed runs per command first [default: {DEFAULT_WARMUP}]")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    modules = {}
    for name in names:
        try:
            modules[name] = load(name)
        except (ImportError, BenchmarkError) as error:
            print(f"bench: cannot load benchmark '{name}': {error}", file=sys.stderr)
            continue
        if hasattr(modules[name], "add_arguments"):
            modules[name].add_arguments(parser)
    args = parser.parse_args(argv)

    if args.list:
        for name, module in modules.items():
            print(f"{name:<16} {description(module)}")
        return 0
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(map(repr, unknown))}; choose from {', '.join(names)}")
    chosen = list(dict.fromkeys(args.names)) or list(modules)
    missing = [n for n in chosen if n not in modules]
    if missing:
        print(f"bench: benchmark {', '.join(missing)} could not be loaded", file=sys.stderr)
        return 1

    report = {"machine": _machine(), "repeat": args.repeat, "warmup": args.warmup, "benchmarks": {}}
    failed = []
    for index, name in enumerate(chosen):
        if index:
            print()
        started = time.perf_counter()
        try:
            result = modules[name].run(args)
        except BenchmarkError as error:
            print(f"{name}: could not run: {error}", file=sys.stderr)
            report["benchmarks"][name] = {"error": str(error)}
            failed.append(name)
            continue
        result["elapsed"] = round(time.perf_counter() - started, 2)
        report["benchmarks"][name] = result
        print(format_result(name, result))
        print(f"  ({result['elapsed']:.0f} s in all, {args.repeat} runs per command)")
        sys.stdout.flush()

    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
