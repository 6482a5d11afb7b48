"""`archive stats`: posts, kinds and engagement per period (zero-filled), per account and per campaign;
top posts; top hashtags, mentions and links. Computed in SQL (archive.stats)."""
from __future__ import annotations

import io
import json
import sys
from dataclasses import replace

import click

from campaign.options import format_option, timezone_option

from ..stats_tables import SECTIONS, account_label, csv_table
from .exporting import export_filter_options
from .show import archive_file_options, build_filter, open_for_accounts, zone_of

def table_text(stats, zone) -> str:
    """For people: the totals, then each section as aligned columns."""
    lines = [f"{stats.posts} posts"]
    if stats.periods:
        lines[0] += (f", {stats.periods[0].first_day.isoformat()} – {stats.periods[-1].last_day.isoformat()}"
                     f" ({stats.zone})")
    if not stats.posts:
        return "\n".join(lines)
    t = stats.totals
    lines.append(f"kinds: {t.kinds['post']} posts, {t.kinds['reply']} replies, {t.kinds['repost']} reposts, "
                 f"{t.kinds['quote']} quotes")
    lines.append(f"engagement: {t.engagement} ({t.likes} likes, {t.reposts} reposts, {t.replies} replies, "
                 f"{t.quotes} quotes; reposts of others not counted)")

    def table(title, header, rows):
        if not rows:
            return
        cells = [[str(c) for c in row] for row in rows]
        widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(header)]
        numeric = [all(isinstance(row[i], int) for row in rows) for i in range(len(header))]

        def line(values):
            return "  " + "  ".join(v.rjust(w) if n else v.ljust(w)
                                    for v, w, n in zip(values, widths, numeric)).rstrip()

        lines.extend(["", title, line(header)])
        lines.extend(line(row) for row in cells)

    numbers = ["posts", "replies", "reposts", "quotes", "engagement"]

    def summary(totals):
        return [totals.posts, totals.kinds["reply"], totals.kinds["repost"], totals.kinds["quote"], totals.engagement]

    table(f"per {stats.period}", [stats.period, *numbers],
          [[p.key, *summary(totals)] for p, totals in zip(stats.periods, stats.per_period)])
    if len(stats.accounts) > 1:
        table("per account", ["account", *numbers],
              [[account_label(a, stats.accounts), *summary(a.totals)] for a in stats.accounts])
    table("per campaign", ["campaign", *numbers],
          [[campaign or "(not from the campaign)", *summary(totals)] for campaign, totals in stats.campaigns])
    table("top posts", ["engagement", "account", "created (local)", "text"],
          [[p.engagement, "@" + p.account, p.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            _short(p.text)] for p in stats.top_posts])
    table("top hashtags", ["hashtag", "posts"], [["#" + k, v] for k, v in stats.hashtags])
    table("top mentions", ["mention", "posts"], [["@" + k, v] for k, v in stats.mentions])
    table("top links", ["link", "posts"], [[k, v] for k, v in stats.links])
    return "\n".join(lines)


def json_text(value) -> str:
    """json.dumps(value, ensure_ascii=False, indent=2), by orjson where it can (the same text, in a
    tenth of the time: with indent the standard library encodes in Python); a text it refuses (a
    lone surrogate) by the standard library."""
    import orjson

    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, indent=2)


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def write_csv(header, rows, *, excel: bool) -> None:
    from campaign.csvexcel import ENCODING, SEPARATOR, write_csv as write

    cells = [[str(cell) for cell in row] for row in rows]
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding=ENCODING if excel else "utf-8", newline="")
    try:
        write(stream, header, cells, delimiter=SEPARATOR if excel else ",", excel=excel,
              id_columns=[header.index("id")] if excel and "id" in header else (),
              lineterminator="\r\n" if excel else "\n")
    finally:
        stream.flush()
        stream.detach()


@click.command("stats")
@click.option("--by", "period", type=click.Choice(["month", "week", "day"]), default="month", show_default=True,
              help="Count per calendar month, ISO week or day (in --timezone); every one in the range, "
                   "also those without posts.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many top posts, hashtags, mentions and links to list.")
@format_option(["table", "csv", "json"], "table", dest="format_name",
               help="table for people; csv (one section, wide: a row per period, a column per number) "
                    "or json (everything) for tools.")
@click.option("--section", type=click.Choice(SECTIONS), default="periods", show_default=True,
              help="Which table --format csv writes: periods, accounts, campaigns, posts (the top posts), "
                   "hashtags, mentions or links.")
@click.option("--excel", is_flag=True, help="CSV for (Dutch) Excel: ';', a BOM, formula-like cells made harmless.")
@timezone_option("IANA zone for days, weeks and months [env ARCHIVE_TIMEZONE; default: Europe/Amsterdam].")
@export_filter_options
@archive_file_options
def command(period, top, format_name, section, excel, zone_name, accounts, since, until, db_url, posts_file,
            **filters):
    """Summarise the archive: posts, replies, reposts, quotes and engagement per period, per account
    and per campaign; top posts; top hashtags, mentions and links.

    Engagement is the likes, reposts, replies and quotes a post received (a repost's belong to the
    reposted post and are not counted). Periods run from --from (or the first post) to --until (or
    the last post), zero-filled.

    Example:

    \b
        archive stats --account teamsaantstuur --from 2015-01-01 --by week --format csv > stats.csv
    """
    from archive.stats import compute

    zone = zone_of(zone_name)
    post_filter = replace(build_filter((), zone=zone, since=since, until=until, **filters), newest_first=False)
    database, post_filter = open_for_accounts(db_url, posts_file, accounts, post_filter)
    try:
        stats = compute(database, post_filter, period=period, zone=zone, top=top)
    finally:
        database.engine.dispose()
    if format_name == "json":
        click.echo(json_text(stats.as_dict(zone)))
    elif format_name == "csv":
        header, rows = csv_table(stats, section, zone)
        write_csv(header, rows, excel=excel)
    else:
        click.echo(table_text(stats, zone))
