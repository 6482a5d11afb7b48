"""Statistics over a stream of posts: posts per month or week, top hashtags, mentions and links,
engagement per campaign. One pass, memory bounded by the number of distinct keys. No database, no click.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timezone
from typing import Iterable

from .records import ArchivedPost

METRICS = ("likes", "reposts", "replies", "quotes")


@dataclass
class Stats:
    period: str  # "month" | "week"
    posts: int = 0
    per_period: Counter = field(default_factory=Counter)  # "2015-01" or "2015-W05" -> posts
    kinds: Counter = field(default_factory=Counter)
    hashtags: Counter = field(default_factory=Counter)  # lower-cased tag -> posts
    mentions: Counter = field(default_factory=Counter)
    links: Counter = field(default_factory=Counter)  # expanded url -> posts
    campaigns: dict = field(default_factory=dict)  # campaign id ("" = not from the campaign) -> {"posts", metrics…}

    def as_dict(self, top: int = 10) -> dict:
        return {
            "posts": self.posts, "period": self.period,
            "per_period": [{"period": k, "posts": v} for k, v in sorted(self.per_period.items())],
            "kinds": dict(sorted(self.kinds.items())),
            "top_hashtags": [{"hashtag": k, "posts": v} for k, v in _top(self.hashtags, top)],
            "top_mentions": [{"mention": k, "posts": v} for k, v in _top(self.mentions, top)],
            "top_links": [{"link": k, "posts": v} for k, v in _top(self.links, top)],
            "campaigns": [{"campaign": k or None, **v} for k, v in sorted(self.campaigns.items())],
        }

    def rows(self, top: int = 10) -> list[tuple[str, str, int]]:
        """(section, key, value) rows: the long format for CSV."""
        data = self.as_dict(top)
        out = [("total", "posts", self.posts)]
        out += [(self.period, r["period"], r["posts"]) for r in data["per_period"]]
        out += [("kind", k, v) for k, v in data["kinds"].items()]
        out += [("hashtag", r["hashtag"], r["posts"]) for r in data["top_hashtags"]]
        out += [("mention", r["mention"], r["posts"]) for r in data["top_mentions"]]
        out += [("link", r["link"], r["posts"]) for r in data["top_links"]]
        for r in data["campaigns"]:
            for name in ("posts",) + METRICS:
                out.append((f"campaign:{name}", r["campaign"] or "(none)", r[name]))
        return out


def _top(counter: Counter, n: int):
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:n]


def period_key(moment, period: str, zone) -> str:
    local = moment.astimezone(zone)
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{local.year}-{local.month:02d}"


def compute(posts: Iterable[ArchivedPost], *, period: str = "month", zone=timezone.utc) -> Stats:
    """Count posts per period (in zone's calendar), hashtags/mentions/links (once per post), and sum
    engagement per campaign."""
    if period not in ("month", "week"):
        raise ValueError("period must be 'month' or 'week'")
    stats = Stats(period)
    for post in posts:
        stats.posts += 1
        stats.per_period[period_key(post.created_at, period, zone)] += 1
        stats.kinds[post.kind] += 1
        stats.hashtags.update({tag.lower() for tag in post.hashtags})
        stats.mentions.update({m.lower() for m in post.mentions})
        stats.links.update({link.expanded_url or link.url for link in post.links})
        totals = stats.campaigns.setdefault(post.campaign_id or "", {"posts": 0, **{m: 0 for m in METRICS}})
        totals["posts"] += 1
        for name in METRICS:
            totals[name] += int(post.metrics.get(name) or 0)
    return stats
