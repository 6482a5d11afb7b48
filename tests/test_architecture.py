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


def test_neither_campaign_nor_archive_imports_the_web_workspace():
    """web imports campaign and archive; `campaign web` reaches it only by name (LAZY_COMMANDS)."""
    offenders = [str(path.relative_to(ROOT)) for package in ("campaign", "archive")
                 for path in (ROOT / package).rglob("*.py")
                 if any(name == "web" or name.startswith("web.") for name in imported_modules(path))]
    assert offenders == []


def test_starting_the_cli_loads_no_web_framework():
    code = ("import sys, campaign.cli; heavy = {'web', 'starlette', 'uvicorn', 'jinja2', 'argon2', 'icalendar'};"
            " print(sorted(heavy & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_no_module_imports_another_packages_cli():
    """archive may use campaign's library, never its CLI; campaign never imports archive at all."""
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "archive").rglob("*.py")
                 if any(name == "campaign.cli" or name.startswith("campaign.cli.") for name in imported_modules(path))]
    assert offenders == []


def test_the_shared_options_module_imports_only_click_and_the_standard_library():
    tree = ast.parse((ROOT / "campaign" / "options.py").read_text(encoding="utf-8"))
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            top_level.add(node.module.split(".")[0])
    assert top_level - {"click", "__future__"} <= set(sys.stdlib_module_names)


def test_starting_the_cli_imports_no_platform_library():
    code = ("import sys, campaign.cli; heavy = {'tweepy', 'mastodon', 'atproto', 'rich', 'yaml', 'alembic',"
            " 'apscheduler', 'dateutil', 'regex'}; print(sorted(heavy & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_readme_documents_every_command():
    import click

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []
    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        if f"campaign {name}" not in readme:
            missing.append(name)
        for sub in getattr(command, "commands", {}):
            if f"campaign {name} {sub}" not in readme:
                missing.append(f"{name} {sub}")
    assert missing == []


def _cli_reference():
    import importlib.util

    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "scripts" / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_command_reference_is_generated_from_help():
    """Run ./scripts/cli_reference after changing a command's options or help."""
    reference = _cli_reference()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert reference.current_section(readme) == reference.reference()


def test_every_commands_help_of_both_clis_ends_with_an_example():
    import click

    reference = _cli_reference()
    from archive.cli import main as archive_main

    missing = []
    for prog, group in (("campaign", main), ("archive", archive_main)):
        for ctx in reference._commands(group, reference._context(group, prog, None)):
            help_text = ctx.command.help or ""
            if "Example:" not in help_text or not help_text.rstrip().split("Example:")[-1].strip():
                missing.append(ctx.command_path)
            assert isinstance(ctx.command, click.Command)
    assert missing == []
