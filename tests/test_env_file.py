"""A broken .env is one line naming the file and line, never a traceback (issue 12)."""
from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from campaign.cli import main
from campaign.credentials import EnvFileError, load_environment, read_env_file

POSTS = """\
timezone: Europe/Amsterdam
accounts:
  utrecht: {platform: mastodon, instance: "https://social.example", handle: "@gemeente"}
campaigns:
  c:
    accounts: [utrecht]
    posts:
      - {text: hallo, at: 2027-01-18 10:00}
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "posts.yaml").write_text(POSTS)
    return tmp_path


def run(folder, *args):
    env = {"CAMPAIGN_DATABASE_URL": None, "CAMPAIGN_FILE": None, "CAMPAIGN_UTRECHT_ACCESS_TOKEN": None}
    return CliRunner().invoke(main, [*args, str(folder / "posts.yaml")], env=env, catch_exceptions=False)


def test_values_are_read_and_the_environment_wins(folder):
    (folder / ".env").write_text('CAMPAIGN_UTRECHT_ACCESS_TOKEN="uit-het-bestand"\nOTHER=1\n')
    values = load_environment(folder / "posts.yaml", {"OTHER": "2"})
    assert values["CAMPAIGN_UTRECHT_ACCESS_TOKEN"] == "uit-het-bestand" and values["OTHER"] == "2"


def test_a_latin1_byte_names_the_file_and_line(folder):
    (folder / ".env").write_bytes(b"A=1\nCAMPAIGN_UTRECHT_ACCESS_TOKEN=caf\xe9\n")
    os.chmod(folder / ".env", 0o600)
    with pytest.raises(EnvFileError, match=r"\.env:2: not UTF-8 \(byte 0xe9\)"):
        read_env_file(folder / ".env")
    result = run(folder, "accounts", "check")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().endswith("save the file as UTF-8") and len(result.output.strip().splitlines()) == 1


def test_a_line_that_is_not_name_value(folder):
    (folder / ".env").write_text("A=1\ndit is geen regel\n")
    result = run(folder, "run", "--dry-run")
    assert result.exit_code == 2 and ".env:2: not a NAME=value line" in result.output
    assert "Traceback" not in result.output and "python-dotenv" not in result.output


def test_a_directory_named_env_is_an_error_not_ignored(folder):
    (folder / ".env").mkdir()
    result = run(folder, "run", "--dry-run")
    assert result.exit_code == 2 and "is not a file" in result.output


def test_a_readable_env_is_warned_about(folder):
    env = folder / ".env"
    env.write_text("CAMPAIGN_UTRECHT_ACCESS_TOKEN=abc\n")
    os.chmod(env, 0o644)
    result = run(folder, "check")
    assert result.exit_code == 0 and f"chmod 600 {env}" in result.output
    os.chmod(env, 0o600)
    assert "chmod" not in run(folder, "check").output
