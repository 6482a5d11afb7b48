"""archive import refusing huge records (200 MB in tweets.js, in JSONL; 2 GB zipped): time, peak RSS.

Issue 12 item 7: a 200 MB full_text in tweets.js imported after 221 s at 1.27 GB; a 200 MB JSONL
line at 660 MB; a zip holding 2 GB inside one JSON string ran past 300 s. Each must now be
refused (exit 2) within a few seconds, at bounded memory. The files are generated in chunks.
Peak RSS is the largest process's ru_maxrss (the import reads in a second process), read by a
small wrapper process per run: its getrusage(RUSAGE_CHILDREN) covers that one import alone.
Goals: refused within 5 s, peak RSS under 100 MB.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from . import Goal, clean_env, entry_point
from .archive_import import measure_command, tweet

WALL_GOAL = 5.0  # seconds
RSS_GOAL = 100.0  # MB
MB = 1024 * 1024
_CHUNK = b"x" * MB


def _huge(out, megabytes: int) -> None:
    for _ in range(megabytes):
        out.write(_CHUNK)


def _around(item: dict, field: str) -> tuple[bytes, bytes]:
    """The JSON of item split where the value of field goes."""
    before, after = json.dumps({**item, field: "@@"}).split('"@@"')
    return (before + '"').encode(), ('"' + after).encode()


def _tweets_js(path: Path, megabytes: int) -> Path:
    """A lone tweets.js whose second tweet has a full_text of `megabytes` MB."""
    before, after = _around(tweet(2), "full_text")
    with open(path, "wb") as out:
        out.write(b"window.YTD.tweets.part0 = [" + json.dumps({"tweet": tweet(1)}).encode() + b',{"tweet": ')
        out.write(before)
        _huge(out, megabytes)
        out.write(after + b"}]")
    return path


def _jsonl(path: Path, megabytes: int) -> Path:
    """Our own JSONL export whose second line holds a text of `megabytes` MB."""
    line = {"format": "praatmee-archive/1", "platform": "x", "remote_id": "1", "account": "teamsaantstuur",
            "created_at": "2015-01-27T10:00:00+00:00", "text": "hallo"}
    before, after = _around({**line, "remote_id": "2"}, "text")
    with open(path, "wb") as out:
        out.write(json.dumps(line).encode() + b"\n" + before)
        _huge(out, megabytes)
        out.write(after + b"\n")
    return path


def _zip_bomb(path: Path, megabytes: int) -> Path:
    """An X archive zip whose tweets.js holds one string of `megabytes` MB (deflated: about 1000:1)."""
    before, after = _around(tweet(1), "full_text")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("data/account.js", 'window.YTD.account.part0 = [{"account": {"username": "teamsaantstuur"}}]')
        with archive.open("data/tweets.js", "w", force_zip64=True) as out:
            out.write(b'window.YTD.tweets.part0 = [{"tweet": ' + before)
            _huge(out, megabytes)
            out.write(after + b"}]")
    return path


def _say(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict:
    archive = entry_point("archive")
    folder = Path(tempfile.mkdtemp(prefix="praatmee-archive-hostile-"))
    env = clean_env()
    try:
        _say("generating the hostile files (200 MB, 200 MB, a 2 GB zip bomb)")
        cases = {"tweets.js, 200 MB full_text": (_tweets_js(folder / "tweets.js", 200), "--account", "teamsaantstuur"),
                 "JSONL, 200 MB line": (_jsonl(folder / "export.jsonl", 200),),
                 "zip, 2 GB in one string": (_zip_bomb(folder / "twitter.zip", 2048),)}
        database = folder / "archive.db"
        repeat = max(1, min(getattr(args, "repeat", 1), 3))
        timings, info, goals = {}, {}, []
        for label, (path, *options) in cases.items():
            argv = [archive, "import", str(path), *options, "--db", str(database), "--no-progress"]
            runs = [measure_command(argv, folder, env, expect=2) for _ in range(repeat)]
            best = sorted(runs, key=lambda f: f["wall"])[len(runs) // 2]
            peak = max(f["maxrss_kib"] for f in runs) / 1024
            timings[f"import {label}"] = {"median": best["wall"], "min": min(f["wall"] for f in runs),
                                          "cpu_median": best["cpu"], "runs": [round(f["wall"], 4) for f in runs]}
            info[f"peak RSS, {label}"] = f"{peak:.0f} MB (largest process)"
            info[f"file size, {label}"] = f"{path.stat().st_size / MB:,.1f} MB"
            goals.append(Goal(f"{label}: refused within", best["wall"], WALL_GOAL, " s").as_dict())
            goals.append(Goal(f"{label}: peak RSS", round(peak, 1), RSS_GOAL, " MB").as_dict())
        return {"title": "archive import refusing records too large to hold (exit 2)", "info": info,
                "timings": timings, "goals": goals}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
