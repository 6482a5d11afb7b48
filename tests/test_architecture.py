"""Layering and documentation rules that a reader of the code or the README relies on."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from campaign.cli import main

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_campaign_never_imports_archive():
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "campaign").rglob("*.py")
                 if any(name == "archive" or name.startswith("archive.") for name in imported_modules(path))]
    assert offenders == []


def test_starting_the_cli_imports_no_platform_library():
    code = ("import sys, campaign.cli; heavy = {'tweepy', 'mastodon', 'atproto', 'rich', 'yaml', 'alembic',"
            " 'apscheduler', 'dateutil', 'regex'}; print(sorted(heavy & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_readme_documents_every_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []
    for name, command in main.commands.items():
        if f"campaign {name}" not in readme:
            missing.append(name)
        for sub in getattr(command, "commands", {}):
            if f"campaign {name} {sub}" not in readme:
                missing.append(f"{name} {sub}")
    assert missing == []
