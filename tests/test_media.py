"""Media stay inside the campaign folder and are what they claim to be (issue 12)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from campaign.cli import main
from tests.stage import mastodon_account_yaml, mastodon_env

PNG = (Path(__file__).resolve().parent.parent / "media" / "stadskantoor030.png").read_bytes()

POSTS = """\
timezone: Europe/Amsterdam
{extra}accounts:
  utrecht: {{platform: {platform}, handle: "@gemeente{handle_tail}"{instance}}}
campaigns:
  c:
    accounts: [utrecht]
    posts:
      - text: Met beeld
        media: {{path: "{path}", alt: "Een foto"}}
        at: 2027-01-18 10:00
"""


def check(folder: Path, path: str, platform: str = "mastodon", extra: str = ""):
    instance = ", instance: https://social.example" if platform == "mastodon" else ""
    tail = ".bsky.social" if platform == "bluesky" else ""
    posts = folder / "posts.yaml"
    posts.write_text(POSTS.format(path=path, platform=platform, instance=instance, handle_tail=tail, extra=extra))
    return CliRunner().invoke(main, ["check", str(posts)], catch_exceptions=False)


@pytest.fixture
def campaign_folder(tmp_path):
    folder = tmp_path / "campagne"
    folder.mkdir()
    (folder / "foto.png").write_bytes(PNG)
    (tmp_path / "private.png").write_bytes(PNG)
    return folder


def test_an_image_in_the_folder_passes(campaign_folder):
    result = check(campaign_folder, "foto.png")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("path", ["../private.png", "{abs}"])
def test_a_path_outside_the_campaign_folder_is_refused(campaign_folder, path):
    path = path.format(abs=campaign_folder.parent / "private.png")
    result = check(campaign_folder, path)
    assert result.exit_code == 2
    assert "is outside the campaign folder" in result.output and "posts.yaml:" in result.output


def test_a_symlink_pointing_outside_is_refused(campaign_folder):
    os.symlink(campaign_folder.parent / "private.png", campaign_folder / "link.png")
    result = check(campaign_folder, "link.png")
    assert result.exit_code == 2 and "outside the campaign folder" in result.output


def test_a_media_folder_may_be_named(campaign_folder):
    shared = campaign_folder.parent / "beeldbank"
    shared.mkdir()
    (shared / "deur.png").write_bytes(PNG)
    result = check(campaign_folder, "../beeldbank/deur.png", extra="media_folder: ../beeldbank\n")
    assert result.exit_code == 0, result.output


def test_content_decides_not_the_name(campaign_folder):
    (campaign_folder / "geheim.png").write_text("dit is geen afbeelding maar een tekst\n")
    result = check(campaign_folder, "geheim.png")
    assert result.exit_code == 2 and "is not an image or video" in result.output


def test_a_file_larger_than_the_platform_takes(campaign_folder):
    (campaign_folder / "groot.png").write_bytes(PNG + b"\0" * 1_100_000)
    assert check(campaign_folder, "groot.png", platform="mastodon").exit_code == 0
    result = check(campaign_folder, "groot.png", platform="bluesky")
    assert result.exit_code == 2 and "bluesky takes image/png up to 1 MB" in result.output


def test_a_file_changed_after_check_is_not_uploaded(stage, fake_mastodon):
    (stage.folder / "foto.png").write_bytes(PNG)
    stage.environ.update(mastodon_env(fake_mastodon))
    stage.write(mastodon_account_yaml(fake_mastodon), f"""\
        - text: Met foto
          media: {{path: foto.png, alt: "Een foto"}}
          at: {stage.at(-1)}
        """, accounts="tas_m")
    stage.sync()
    (stage.folder / "foto.png").write_text("vervangen door tekst")
    [outcome] = stage.run().outcomes
    assert outcome.state == "failed" and "is not an image or video" in outcome.message
    assert fake_mastodon.posts == [] and not fake_mastodon.requests_to("media")
