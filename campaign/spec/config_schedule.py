"""The schedule part of a post in posts.yaml: one-off `at`, or a recurrence.

Split from campaign.spec.config so each module reads one concern; `reader` is config's
_Reader (for its error reporting and typed getters).
"""
from __future__ import annotations

import re
from datetime import time

from campaign.spec import schedule as sched
from campaign.spec.model import Schedule
from campaign.spec.problems import did_you_mean
from campaign.spec.yamlfile import YList, YMap


def read_schedule(reader, node: YMap) -> Schedule | None:
    """The schedule keys of one post: `at` once, or a recurrence (`every`/`rrule` with from/until/count)."""
    recurring = [k for k in ("every", "rrule") if k in node]
    fold = None
    if "fold" in node:
        fold = node["fold"]
        if fold not in ("earlier", "later"):
            reader.err(node.value_mark("fold"), f"fold must be 'earlier' or 'later'{did_you_mean(fold, ('earlier', 'later'))}")
            fold = None
    if not recurring:
        for key in ("from", "until", "count", "on"):
            if key in node:
                reader.err(node.key_mark(key), f"'{key}' belongs to a recurrence; add 'every' or 'rrule'")
        if "at" not in node:
            # A misspelt or mis-indented schedule key was reported already.
            if any(reader.typo_of(node, k) for k in ("at", "every", "rrule")) or \
                    reader.misplaced & {"at", "every", "rrule"}:
                return None
            reader.err(node.mark, "a post needs a schedule: 'at' for once, or 'every'/'rrule' to repeat")
            return None
        try:
            at = sched.parse_local_datetime(node["at"])
        except sched.ScheduleError as exc:
            reader.err(node.value_mark("at"), f"at: {exc}")
            return None
        return Schedule(at=at, fold=fold, mark=node.value_mark("at"))
    if len(recurring) == 2:
        reader.err(node.key_mark("rrule"), "use either 'every' or 'rrule', not both")
        return None
    key = recurring[0]
    ok = True
    try:
        if key == "every":
            rule = sched.friendly_rule(node["every"], node.get("on"))
        else:
            if "on" in node:
                reader.err(node.key_mark("on"), "'on' goes with 'every'; put BYDAY in the rrule instead")
            rule = sched.normalise_rrule(node["rrule"])
    except sched.ScheduleError as exc:
        reader.err(node.value_mark("on" if "on" in node and "on:" in str(exc) else key), str(exc))
        return None
    times: list[tuple[int, int]] = []
    if "at" in node:
        raw = node["at"]
        values = list(raw) if isinstance(raw, YList) else [raw]
        for value in values:
            try:
                times.append(sched.parse_time_of_day(value))
            except sched.ScheduleError as exc:
                reader.err(node.value_mark("at"), f"at: {exc} (with '{key}', 'at' is the time of day)")
                ok = False
    start = None
    if "from" not in node:
        if not reader.typo_of(node, "from"):
            reader.err(node.mark, "a recurrence needs 'from' (the first day, e.g. '2027-01-11')")
        ok = False
    else:
        try:
            start = sched.parse_local_datetime(node["from"], date_only_means=time(0, 0))
        except sched.ScheduleError as exc:
            reader.err(node.value_mark("from"), f"from: {exc}")
            ok = False
        if start is not None and not times and "at" not in node and start.time() == time(0, 0) and "T" not in str(node["from"]) \
                and ":" not in str(node["from"]) and "BYHOUR" not in rule.upper():
            reader.err(node.mark, "a recurrence needs a time of day: add 'at: \"10:00\"'")
            ok = False
    until = None
    if "until" in node:
        try:
            until = sched.parse_local_datetime(node["until"], date_only_means=time(23, 59, 59))
        except sched.ScheduleError as exc:
            reader.err(node.value_mark("until"), f"until: {exc}")
            ok = False
    count = reader.whole(node, "count")
    if "count" in node and count is None:
        ok = False
    if count is not None and count > sched.MAX_OCCURRENCES_PER_POST:
        reader.err(node.value_mark("count"), f"'count' may be at most {sched.MAX_OCCURRENCES_PER_POST:,}")
        ok = False
    if until is not None and count is not None:
        reader.err(node.key_mark("count"), "use either 'until' or 'count', not both")
        ok = False
    # A given but invalid 'until' or 'count' was reported already; "never ends" would be noise.
    if "until" not in node and "count" not in node and not sched.rule_has_end(rule):
        reader.err(node.value_mark(key), "this recurrence never ends: add 'until' or 'count'")
        ok = False
    if start is not None and until is not None and until < start:
        reader.err(node.value_mark("until"), "'until' is before 'from'")
        ok = False
    match = re.search(r"(?:^|;)COUNT=(\d+)", rule, re.IGNORECASE)
    if match and count is None and until is None:
        count = int(match.group(1))
    if not ok:
        return None
    return Schedule(rule=rule, times=tuple(sorted(set(times))), start=start, until=until, count=count,
                    fold=fold, mark=node.value_mark(key))
