"""Occurrence identity is stable: inserting, reordering or editing one post never changes the others'."""
from __future__ import annotations

from campaign.spec.plan import analyse

HEADER = """\
timezone: Europe/Amsterdam
accounts:
  t: {platform: x, handle: "@t"}
campaigns:
  c:
    accounts: [t]
    posts:
"""
A = "      - {text: 'Eerste bericht', at: 2027-01-18 10:00}\n"
B = "      - {variants: [een, twee], every: day, at: '12:00', from: 2027-01-18, count: 3}\n"
C = "      - {id: vast, text: 'Met id', at: 2027-01-20 09:00}\n"


def keys(write_posts, body: str) -> dict[str, str]:
    plan = analyse(write_posts(HEADER + body))
    assert plan.ok, plan.problems.items
    return {o.key: o.text for o in plan.occurrences}


def test_reordering_and_inserting_posts_keeps_every_identity(write_posts):
    before = keys(write_posts, A + B + C)
    reordered = keys(write_posts, C + A + B)
    inserted = keys(write_posts, A + "      - {text: 'Nieuw', at: 2027-01-19 08:00}\n" + B + C)
    assert reordered == before
    assert set(before) < set(inserted) and all(inserted[k] == v for k, v in before.items())


def test_editing_one_post_leaves_the_others_alone(write_posts):
    before = keys(write_posts, A + B + C)
    edited = keys(write_posts, A.replace("Eerste bericht", "Eerste bericht!") + B + C.replace("Met id", "Met id, aangepast"))
    unchanged_before = {k: v for k, v in before.items() if "Eerste" not in v}
    assert {k: v for k, v in edited.items() if k in unchanged_before and "Met id" not in v} == \
        {k: v for k, v in unchanged_before.items() if "Met id" not in v}
    # a post with an explicit id keeps its identity when its text changes
    assert "c/vast/t" in before and edited["c/vast/t"] == "Met id, aangepast"


def test_recurring_identity_includes_the_local_time(write_posts):
    assert [k.rsplit("/", 1)[1] for k in sorted(keys(write_posts, B))] == \
        ["2027-01-18T12:00", "2027-01-19T12:00", "2027-01-20T12:00"]
