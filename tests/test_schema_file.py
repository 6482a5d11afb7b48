"""`campaign schema`: the JSON Schema of posts.yaml, built from the keys `campaign check` allows (issue 17)."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from campaign.cli import main
from campaign.spec import config, keys
from campaign.spec.config_notify import GROUP_KEYS
from campaign.spec.plan import analyse
from campaign.spec.problems import ProblemList
from campaign.spec.schema import posts_schema
from campaign.spec.yamlfile import load_yaml
from tests.conftest import BASIC_POSTS

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "authoring_corpus"


def schema():
    result = CliRunner().invoke(main, ["schema"], catch_exceptions=False)
    assert result.exit_code == 0
    return json.loads(result.output)


def as_json(path: Path):
    """The file as check reads it (dates stay text), then through JSON as an editor sees it."""
    tree = load_yaml(path.read_text(encoding="utf-8-sig"), ProblemList(str(path)))
    return json.loads(json.dumps(tree))


def validator():
    document = schema()
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def test_schema_is_draft_2020_12_with_a_description_and_example_for_every_key():
    document = schema()
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    sections = [document] + list(document["$defs"].values())
    properties = [(name, spec) for section in sections for name, spec in section.get("properties", {}).items()]
    assert len(properties) > 50
    for name, spec in properties:
        assert spec.get("description"), name
        assert spec.get("examples"), name


@pytest.mark.parametrize("section, allowed", [
    ("", config.TOP_KEYS), ("account", config.ACCOUNT_KEYS), ("campaign", config.CAMPAIGN_KEYS),
    ("utm", config.UTM_KEYS), ("post", config.POST_KEYS), ("media", config.MEDIA_KEYS),
    ("card", config.CARD_KEYS), ("notify_group", GROUP_KEYS),
])
def test_schema_and_check_allow_the_same_keys(section, allowed):
    document = schema()
    node = document if not section else document["$defs"][section]
    assert list(node["properties"]) == list(allowed)
    assert node["additionalProperties"] is False


def test_part_keys_match():
    part = schema()["$defs"]["part"]["oneOf"][1]
    assert list(part["properties"]) == list(config.PART_KEYS) == list(keys.names(keys.PART))


def test_every_example_of_a_key_is_valid_for_that_key():
    document = schema()
    sections = [document] + [d for d in document["$defs"].values() if "properties" in d]
    for section in sections:
        for name, spec in section["properties"].items():
            wrapped = {"$defs": document["$defs"], **{k: v for k, v in spec.items() if k != "examples"}}
            for example in spec["examples"]:
                jsonschema.Draft202012Validator(wrapped).validate(example)


def accepted_files():
    files = [REPO / "posts.yaml"] + sorted(CORPUS.glob("*.yaml"))
    return [path for path in files if analyse(path).ok]


def test_the_schema_accepts_every_file_check_accepts(tmp_path):
    (tmp_path / "posts.yaml").write_text(BASIC_POSTS, encoding="utf-8")
    check = validator()
    files = accepted_files() + [tmp_path / "posts.yaml"]
    assert len(files) > 10
    for path in files:
        errors = [e.message for e in check.iter_errors(as_json(path))]
        assert errors == [], path


def test_the_schema_accepts_the_spec_tests_platform_files(tmp_path):
    from tests.test_spec_platforms import ACCOUNTS

    path = tmp_path / "posts.yaml"
    path.write_text(ACCOUNTS + "campaigns:\n  c:\n    accounts: [gemeente_li, gemeente_bsky]\n    posts:\n"
                    "      - text: 'https://a.nl'\n        card: {title: T, description: D}\n"
                    "        at: 2027-01-18 10:00\n", encoding="utf-8")
    assert analyse(path).ok
    assert list(validator().iter_errors(as_json(path))) == []


@pytest.mark.parametrize("old, new, path_in_error", [
    ("        text: \"Nog even", "        txt: \"Nog even", ["campaigns", "teams", "posts", 0]),
    ("    platform: x\n", "    platfrom: x\n", ["accounts", "hr_x"]),
    ("timezone: Europe/Amsterdam\n", "timezon: Europe/Amsterdam\n", []),
    ("          alt: \"Een", "          alt_text: \"Een", None),
])
def test_the_schema_rejects_a_typo_d_key(old, new, path_in_error, tmp_path):
    text = (CORPUS / "valid.yaml").read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "posts.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    errors = list(validator().iter_errors(as_json(broken)))
    assert errors
    if path_in_error is not None:
        assert any(list(error.absolute_path)[:len(path_in_error)] == path_in_error for error in errors)


def test_schema_to_a_file(tmp_path):
    target = tmp_path / "posts.schema.json"
    result = CliRunner().invoke(main, ["schema", "--output", str(target)], catch_exceptions=False)
    assert result.exit_code == 0 and result.output == ""
    assert json.loads(target.read_text()) == posts_schema()


def test_the_committed_schema_beside_the_demo_is_current():
    """posts.schema.json beside the demo posts.yaml (its modeline names it) is `campaign schema`'s output;
    after changing campaign/spec/keys.py run `campaign schema -o posts.schema.json`."""
    committed = json.loads((REPO / "posts.schema.json").read_text(encoding="utf-8"))
    assert committed == schema()
    assert (REPO / "posts.yaml").read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=posts.schema.json\n")
