"""No posts.yaml, however broken, may produce a traceback: only problems with positions."""
from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from campaign.spec import config
from campaign.errors import CampaignError
from campaign.spec.plan import analyse

KEYS = sorted(set(config.TOP_KEYS + config.ACCOUNT_KEYS + config.CAMPAIGN_KEYS + config.POST_KEYS
                  + config.UTM_KEYS + config.PART_KEYS + config.MEDIA_KEYS)) + ["t", "tas", "x", "on"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["Europe/Amsterdam", "x", "mastodon", "bluesky", "2026-03-29 02:30", "2026-10-25 02:30",
                     "10:00", "week", "2 days", "FREQ=DAILY;COUNT=3", "FREQ=YEARLY;BYDAY=XX", "1h", "t",
                     "{link}", "{", "https://p.nl/a", "earlier", "later", "../../etc/passwd", "mon", -1, 0, 10**9]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(KEYS), children, max_size=6)),
    max_leaves=40,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def analyse_text(tmp_path, text: str):
    path = tmp_path / "posts.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        plan = analyse(path)
    except CampaignError:
        return None
    for problem in plan.problems.items:
        assert problem.mark.line >= 1 and problem.mark.col >= 1
        assert "\n" not in problem.message
    return plan


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text(tmp_path, text):
    analyse_text(tmp_path, text)


@SETTINGS
@given(documents)
def test_arbitrary_structures(tmp_path, document):
    analyse_text(tmp_path, yaml.safe_dump(document, allow_unicode=True))


@SETTINGS
@given(st.dictionaries(st.sampled_from(config.POST_KEYS), scalars, max_size=8))
def test_arbitrary_posts_in_a_valid_file(tmp_path, post):
    document = {"timezone": "Europe/Amsterdam",
                "accounts": {"t": {"platform": "x", "handle": "@t"}},
                "campaigns": {"c": {"accounts": ["t"], "vars": {"link": "https://p.nl"}, "posts": [post]}}}
    analyse_text(tmp_path, yaml.safe_dump(document, allow_unicode=True))


def test_alias_bomb_is_cut_off(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    plan = analyse_text(tmp_path, bomb)
    assert any("expands to more than" in p.message for p in plan.problems.errors)
