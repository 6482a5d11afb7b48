"""The `notify:` part of posts.yaml (top level and per campaign): where alerts go.

    notify: "{env:TEAMS_WEBHOOK}"                 # one URL, every event, at once
    notify:                                       # or a list of URLs and groups
      - "{env:TEAMS_WEBHOOK}"
      - urls: ["mailtos://{env:SMTP_USER}:{env:SMTP_PASSWORD}@smtp.example.nl?to=team@example.nl"]
        events: [failed, missed]                  # default: every event
        digest: daily                             # one message a day listing them
        digest_at: "08:30"                        # default 09:00, in the file's (campaign's) zone

Split from campaign.spec.config like config_schedule; `reader` is config's _Reader.
"""
from __future__ import annotations

import re

from campaign.spec import keys
from campaign.spec.model import NOTIFY_EVENTS, NotifyTarget
from campaign.spec.problems import Mark, did_you_mean
from campaign.spec.yamlfile import YList, YMap

GROUP_KEYS = keys.names(keys.NOTIFY_GROUP)
DIGESTS = ("daily",)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def read_notify(reader, node: YMap, campaign_id: str | None, timezone: str | None) -> list[NotifyTarget]:
    """Every target under node['notify']; problems go to the reader."""
    value, mark = node["notify"], node.value_mark("notify")
    zone = timezone or "UTC"
    if isinstance(value, str):
        return _urls([(value, mark)], reader, campaign_id, zone, None, None, "09:00")
    if isinstance(value, YMap):
        return _group(reader, value, mark, campaign_id, zone)
    if isinstance(value, YList):
        out: list[NotifyTarget] = []
        for index, item in enumerate(value):
            item_mark = value.item_mark(index)
            if isinstance(item, str):
                out += _urls([(item, item_mark)], reader, campaign_id, zone, None, None, "09:00")
            elif isinstance(item, YMap):
                out += _group(reader, item, item_mark, campaign_id, zone)
            else:
                reader.err(item_mark, "a notify entry must be a URL or a mapping with 'urls'")
        return out
    reader.err(mark, "'notify' must be a URL, a list of URLs, or a mapping with 'urls'")
    return []


def _unquoted_placeholder(node: YMap, mark: Mark, reader) -> bool:
    """`- {env:TEAMS}` without quotes is a YAML mapping, not a URL: say so instead of 'unknown key'."""
    keys = [k for k in node if isinstance(k, str) and k.startswith("env:")]
    if keys:
        reader.err(mark, f"quote the placeholder: '{{{keys[0]}}}' (unquoted, YAML reads braces as a mapping)")
        return True
    return False


def _group(reader, node: YMap, mark: Mark, campaign_id: str | None, zone: str) -> list[NotifyTarget]:
    if _unquoted_placeholder(node, mark, reader):
        return []
    reader.check_keys(node, GROUP_KEYS, "'notify'")
    urls: list[tuple[str, Mark]] = []
    if "urls" not in node:
        reader.err(mark, "a notify group needs 'urls'")
    else:
        value = node["urls"]
        if isinstance(value, str):
            urls = [(value, node.value_mark("urls"))]
        elif isinstance(value, YList) and value and all(isinstance(v, str) for v in value):
            urls = [(v, value.item_mark(i)) for i, v in enumerate(value)]
        else:
            reader.err(node.value_mark("urls"), "'urls' must be a URL or a list of URLs (quote each one)")
    events = _events(reader, node)
    digest = None
    if "digest" in node:
        digest = node["digest"]
        if digest not in DIGESTS:
            reader.err(node.value_mark("digest"), f"digest must be 'daily'{did_you_mean(digest, DIGESTS)} "
                                                  "(leave it out to send each alert at once)")
            digest = None
    digest_at = "09:00"
    if "digest_at" in node:
        given = node["digest_at"]
        match = _CLOCK.match(given) if isinstance(given, str) else None
        if match is None:
            reader.err(node.value_mark("digest_at"), "digest_at must be a time like \"08:30\" (quote it)")
        else:
            digest_at = f"{int(match.group(1)):02d}:{match.group(2)}"
        if "digest" not in node:
            reader.err(node.key_mark("digest_at"), "digest_at needs 'digest: daily'")
    return _urls(urls, reader, campaign_id, zone, events, digest, digest_at)


def _events(reader, node: YMap) -> tuple[str, ...] | None:
    if "events" not in node:
        return None
    value, mark = node["events"], node.value_mark("events")
    items = [(value, mark)] if isinstance(value, str) else (
        [(v, value.item_mark(i)) for i, v in enumerate(value)] if isinstance(value, YList) and value else None)
    if items is None:
        reader.err(mark, f"'events' must be a list of: {', '.join(NOTIFY_EVENTS)}")
        return None
    out = []
    for name, item_mark in items:
        if name not in NOTIFY_EVENTS:
            reader.err(item_mark, f"unknown event '{name}'{did_you_mean(str(name), NOTIFY_EVENTS)}; "
                                  f"use {', '.join(NOTIFY_EVENTS)}")
        else:
            out.append(name)
    return tuple(dict.fromkeys(out))


def _urls(urls: list[tuple[str, Mark]], reader, campaign_id: str | None, zone: str,
          events: tuple[str, ...] | None, digest: str | None, digest_at: str) -> list[NotifyTarget]:
    from campaign.alerts.deliver import malformed_placeholder, url_problem

    out = []
    for url, mark in urls:
        url = url.strip()
        if not url:
            reader.err(mark, "the notification URL is empty")
            continue
        bad = malformed_placeholder(url)
        if bad is not None:
            reader.err(mark, f"'{bad}' is not a placeholder; write {{env:NAME}} with a variable name "
                             "of letters, digits and _")
            continue
        problem = url_problem(url)
        if problem:
            reader.err(mark, f"notify: {problem}")
            continue
        out.append(NotifyTarget(url, campaign_id, events, digest, digest_at, zone, mark))
    return out
