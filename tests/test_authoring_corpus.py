"""Issue 17: every mistake in posts.yaml is reported once, in plain words, with its place.

tests/authoring_corpus/NAME.yaml holds a file with one mistake (or, for several_*, several
independent ones); NAME.expected holds exactly what `campaign check` prints for it (paths relative
to the corpus folder). valid.yaml is the unbroken file the others are made from. To add a case,
write the .yaml, run `campaign check --now 2026-12-01T12:00Z NAME.yaml` in the folder, read the output
as its reader would, and save it as NAME.expected.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from campaign.cli import main

CORPUS = Path(__file__).resolve().parent / "authoring_corpus"
CASES = sorted(path.stem for path in CORPUS.glob("*.yaml"))
NOW = "2026-12-01T12:00Z"


def check(name: str, *options: str):
    result = CliRunner().invoke(main, ["check", "--now", NOW, *options, str(CORPUS / f"{name}.yaml")],
                                catch_exceptions=False)
    return result.exit_code, result.output.replace(f"{CORPUS}/", "").replace(str(CORPUS), ".")


def test_the_corpus_is_big_enough():
    single = [name for name in CASES if not name.startswith("several_") and name != "valid"]
    several = [name for name in CASES if name.startswith("several_")]
    assert len(single) >= 40 and len(several) >= 3


@pytest.mark.parametrize("name", CASES)
def test_check_says_exactly_this(name):
    expected = (CORPUS / f"{name}.expected").read_text(encoding="utf-8")
    code, output = check(name)
    assert output == expected
    has_errors = " error" in expected.splitlines()[-1] and " 0 errors" not in expected.splitlines()[-1]
    assert code == (2 if has_errors else 0)
    assert "Traceback" not in output


@pytest.mark.parametrize("name", ["several_four_posts", "several_warnings", "unquoted_colon"])
def test_json_and_github_formats_carry_the_same_problems(name):
    import json

    _, text = check(name)
    _, raw = check(name, "--format", "json")
    report = json.loads(raw)
    lines = [line for line in text.splitlines() if ": error: " in line or ": warning: " in line]
    assert [f"{p['file']}:{p['line']}:{p['column']}: {p['severity']}: {p['message']}"
            for p in report["problems"]] == lines
    assert report["errors"] == sum(": error: " in line for line in lines)
    _, github = check(name, "--format", "github")
    annotations = [line for line in github.splitlines() if line.startswith("::")]
    assert len(annotations) == len(lines)
    first = report["problems"][0]
    assert annotations[0].startswith(f"::{first['severity']} file={name}.yaml,line={first['line']},"
                                     f"col={first['column']},title=campaign check::")


def test_several_files_as_pre_commit_passes_them():
    import yaml

    [hook] = yaml.safe_load((CORPUS.parent.parent / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "campaign-check" and hook["entry"] == "campaign check" and hook["pass_filenames"]
    result = CliRunner().invoke(main, ["check", "--now", NOW, str(CORPUS / "valid.yaml"),
                                       str(CORPUS / "key_typo_txt.yaml")], catch_exceptions=False)
    assert result.exit_code == 2
    assert "valid.yaml: OK" in result.output and "key_typo_txt.yaml: 1 error, 0 warnings in 3 posts" in result.output


def test_the_twitter_text_cache_is_only_a_convenience(tmp_path, monkeypatch):
    """A cache file that is garbage, or a folder that cannot be written, changes nothing but speed."""
    from campaign.spec import xtext

    expected = check("several_alt_length_key")
    for content in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        folder = tmp_path / f"cache{len(content)}"
        folder.mkdir()
        monkeypatch.setenv("CAMPAIGN_CACHE_DIR", str(folder))
        monkeypatch.setattr(xtext, "_cache", None)
        (folder / f"twitter-text-{xtext._FORMAT}-{xtext._version()}.json").write_bytes(content)
        assert check("several_alt_length_key") == expected
        assert len(json_of(folder)) > 0  # rewritten with the answers
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("CAMPAIGN_CACHE_DIR", str(blocked))
    monkeypatch.setattr(xtext, "_cache", None)
    assert check("several_alt_length_key") == expected


def json_of(folder: Path) -> dict:
    import json

    [path] = folder.glob("twitter-text-*.json")
    return json.loads(path.read_text(encoding="utf-8"))
