"""`archive stats`: posts per month or week, top hashtags, mentions and links, engagement per campaign."""
from __future__ import annotations

import csv
import json
import sys
from dataclasses import replace

import click

from .exporting import export_filter_options
from campaign.options import format_option, timezone_option

from .show import archive_file_options, build_filter, open_for_accounts, zone_of


def _table(stats, top: int) -> str:
    data = stats.as_dict(top)
    lines = [f"{stats.posts} posts"]

    def section(title, items):
        if not items:
            return
        width = max(len(str(k)) for k, _ in items)
        lines.append("")
        lines.append(title)
        lines.extend(f"  {str(k):<{width}}  {v:>7}" for k, v in items)

    section(f"posts per {stats.period}", [(r["period"], r["posts"]) for r in data["per_period"]])
    section("kinds", list(data["kinds"].items()))
    section("top hashtags", [("#" + r["hashtag"], r["posts"]) for r in data["top_hashtags"]])
    section("top mentions", [("@" + r["mention"], r["posts"]) for r in data["top_mentions"]])
    section("top links", [(r["link"], r["posts"]) for r in data["top_links"]])
    if data["campaigns"]:
        lines.append("")
        lines.append("engagement per campaign (posts, likes, reposts, replies, quotes)")
        for r in data["campaigns"]:
            lines.append(f"  {r['campaign'] or '(not from the campaign)'}: {r['posts']}, {r['likes']}, "
                         f"{r['reposts']}, {r['replies']}, {r['quotes']}")
    return "\n".join(lines)


@click.command("stats")
@click.option("--by", "period", type=click.Choice(["month", "week"]), default="month", show_default=True,
              help="Count posts per calendar month or ISO week (in --timezone).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many hashtags, mentions and links to list.")
@format_option(["table", "csv", "json"], "table", dest="format_name",
               help="table for people; csv (section,key,value) or json for tools.")
@timezone_option("IANA zone for months and weeks [env ARCHIVE_TIMEZONE; default: Europe/Amsterdam].")
@export_filter_options
@archive_file_options
def command(period, top, format_name, zone_name, accounts, since, until, db_url, posts_file, **filters):
    """Summarise the archive: posts per period, top hashtags/mentions/links, engagement per campaign.

    Example:

    \b
        archive stats --account teamsaantstuur --from 2015-01-01 --by week --format csv > stats.csv
    """
    from archive.stats import compute
    from archive.store import query_posts

    zone = zone_of(zone_name)
    post_filter = replace(build_filter((), zone=zone, since=since, until=until, **filters), newest_first=False)
    database, post_filter = open_for_accounts(db_url, posts_file, accounts, post_filter)
    try:
        stats = compute(query_posts(database, post_filter, with_raw=False), period=period, zone=zone)
    finally:
        database.engine.dispose()
    if format_name == "json":
        click.echo(json.dumps(stats.as_dict(top), ensure_ascii=False, indent=2))
    elif format_name == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["section", "key", "value"])
        writer.writerows(stats.rows(top))
    else:
        click.echo(_table(stats, top))
