"""`archive report --html`: the archive's statistics as one self-contained HTML page. No database, no
click: it takes what archive.stats.collect found and returns the page.

Per month and per week: posts (bars stacked by kind) and engagement (a line), each chart an SVG
drawn here (archive.charts) followed by its numbers as a table (in <details>) and one sentence
saying what it shows; per account, per campaign, the top posts and the top hashtags, mentions and
links. Labels in Dutch or English, dates and numbers through Babel. Jinja2 escapes every text
(post texts, hashtags, campaign names); a link is a link only when it is http(s). No scripts, no
external assets: CSS inline in <head>. The size is bounded: the longest texts are shortened, and a
range of more periods than a chart can show is summarised per month only (or not charted).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from markupsafe import Markup

from . import charts
from .stats import KINDS, METRICS, Collected, Period, Stats, Totals

MAX_WEEKS = 1100  # about 21 years
MAX_MONTHS = 600
TEXT_LIMIT = 1000  # characters of a top post's text shown
KEY_LIMIT = 200  # of a hashtag, mention, link, account or campaign shown

LABELS = {
    "nl": {
        "title": "Archiefrapport", "selection": "Selectie", "accounts": "Accounts", "all_accounts": "alle accounts",
        "range": "Periode", "timezone": "Tijdzone", "generated": "Gemaakt op", "filters": "Filters",
        "overview": "Overzicht", "what": "Wat", "number": "Aantal", "total": "Totaal", "engagement": "Interactie",
        "posts": "Berichten", "all_posts": "Alle berichten",
        "kinds": {"post": "originele berichten", "reply": "antwoorden", "repost": "reposts", "quote": "citaten"},
        "metrics": {"likes": "likes", "reposts": "keer gedeeld", "replies": "reacties", "quotes": "keer geciteerd"},
        "engagement_note": "Interactie: de likes, deelacties, reacties en citaten die een bericht kreeg. Een repost "
                           "(van een ander) telt als bericht mee, maar zijn interactie hoort bij het origineel.",
        "month": ("maand", "maanden"), "week": ("week", "weken"),
        "per_month": "Per maand", "per_week": "Per week",
        "posts_per": "Berichten per {unit}", "engagement_per": "Interactie per {unit}",
        "posts_desc": "Gestapelde staafgrafiek: het aantal berichten per {unit} van {first} tot en met {last}, "
                      "per soort (berichten, antwoorden, reposts, citaten).",
        "engagement_desc": "Lijngrafiek: de interactie (likes, gedeeld, reacties, geciteerd) per {unit} van "
                           "{first} tot en met {last}.",
        "most_posts": "Meeste berichten in {period}: {count}; {empty} {units} zonder berichten.",
        "most_engagement": "Meeste interactie in {period}: {count}; {total} in totaal.",
        "nothing": "Geen berichten in deze periode.",
        "data_table": "De cijfers als tabel", "first_day": "Eerste dag",
        "too_many": "Te veel {units} ({count}) voor een grafiek; kies een kortere periode met --from en --until.",
        "per_account": "Per account", "account": "Account", "platform": "Platform",
        "accounts_title": "Berichten per maand, per account",
        "accounts_desc": "Lijngrafiek: het aantal berichten per maand van elk account.",
        "accounts_summary": "Meeste berichten: {account} ({count}).",
        "per_campaign": "Per campagne", "campaign": "Campagne", "no_campaign": "(niet uit de campagne)",
        "campaign_title": "Interactie per campagne",
        "campaign_desc": "Staafgrafiek: de interactie met de berichten van elke campagne.",
        "campaign_summary": "Meeste interactie: {campaign} ({count}).",
        "no_campaigns": "Geen van deze berichten is door de campagne verstuurd.",
        "top_posts": "Topberichten", "top_posts_note": "De eigen berichten met de meeste interactie.",
        "view": "Bekijk bericht", "no_top_posts": "Geen eigen berichten met interactie.",
        "hashtags": "Hashtags", "mentions": "Vermeldingen", "links": "Links", "hashtag": "Hashtag",
        "mention": "Vermelding", "link": "Link", "in_posts": "In berichten",
        "entity_title": "Meest gebruikte {what}", "entity_desc": "Staafgrafiek: in hoeveel berichten elk van de "
                                                                 "{count} meest gebruikte {what} voorkomt.",
        "entity_summary": "Meest gebruikt: {key} ({count} {posts}).", "post_words": ("bericht", "berichten"),
        "none": "Geen.",
        "footer": "Gemaakt met Praat mee (archive report).",
    },
    "en": {
        "title": "Archive report", "selection": "Selection", "accounts": "Accounts", "all_accounts": "all accounts",
        "range": "Range", "timezone": "Time zone", "generated": "Generated", "filters": "Filters",
        "overview": "Overview", "what": "What", "number": "Number", "total": "Total", "engagement": "Engagement",
        "posts": "Posts", "all_posts": "All posts",
        "kinds": {"post": "original posts", "reply": "replies", "repost": "reposts", "quote": "quotes"},
        "metrics": {"likes": "likes", "reposts": "reposted", "replies": "replies received", "quotes": "quoted"},
        "engagement_note": "Engagement: the likes, reposts, replies and quotes a post received. A repost (of "
                           "someone else's post) counts as a post, but its engagement belongs to the original.",
        "month": ("month", "months"), "week": ("week", "weeks"),
        "per_month": "Per month", "per_week": "Per week",
        "posts_per": "Posts per {unit}", "engagement_per": "Engagement per {unit}",
        "posts_desc": "Stacked bar chart: the number of posts per {unit} from {first} to {last}, by kind "
                      "(posts, replies, reposts, quotes).",
        "engagement_desc": "Line chart: the engagement (likes, reposts, replies, quotes) per {unit} from {first} "
                           "to {last}.",
        "most_posts": "Most posts in {period}: {count}; {empty} {units} without posts.",
        "most_engagement": "Most engagement in {period}: {count}; {total} in all.",
        "nothing": "No posts in this range.",
        "data_table": "The numbers as a table", "first_day": "First day",
        "too_many": "Too many {units} ({count}) for a chart; choose a shorter range with --from and --until.",
        "per_account": "Per account", "account": "Account", "platform": "Platform",
        "accounts_title": "Posts per month, per account",
        "accounts_desc": "Line chart: the number of posts per month of each account.",
        "accounts_summary": "Most posts: {account} ({count}).",
        "per_campaign": "Per campaign", "campaign": "Campaign", "no_campaign": "(not from the campaign)",
        "campaign_title": "Engagement per campaign",
        "campaign_desc": "Bar chart: the engagement with the posts of each campaign.",
        "campaign_summary": "Most engagement: {campaign} ({count}).",
        "no_campaigns": "None of these posts was sent by the campaign.",
        "top_posts": "Top posts", "top_posts_note": "Own posts with the most engagement.",
        "view": "View post", "no_top_posts": "No own posts with engagement.",
        "hashtags": "Hashtags", "mentions": "Mentions", "links": "Links", "hashtag": "Hashtag", "mention": "Mention",
        "link": "Link", "in_posts": "In posts",
        "entity_title": "Most used {what}", "entity_desc": "Bar chart: in how many posts each of the {count} most "
                                                           "used {what} appears.",
        "entity_summary": "Most used: {key} ({count} {posts}).", "post_words": ("post", "posts"),
        "none": "None.",
        "footer": "Made with Praat mee (archive report).",
    },
}
LOCALES = tuple(LABELS)
KIND_COLORS = dict(zip(KINDS, charts.PALETTE))
ENGAGEMENT_COLOR = "#D55E00"


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list]  # first cell a row heading; cells str or Markup


@dataclass
class Chart:
    svg: Markup | None
    summary: str
    table: Table | None
    note: str | None = None  # instead of a chart, e.g. too many periods


@dataclass
class Section:
    id: str
    title: str
    charts: list[Chart] = field(default_factory=list)
    note: str | None = None


class _Format:
    """Numbers and dates in the report's locale (Babel)."""

    def __init__(self, locale: str, zone: tzinfo):
        from babel import Locale

        self.locale = Locale.parse(locale)
        self.zone = zone

    def number(self, value: float) -> str:
        from babel.numbers import format_decimal

        return format_decimal(round(value) if float(value).is_integer() else value, locale=self.locale)

    def day(self, value: date) -> str:
        from babel.dates import format_date

        return format_date(value, "d MMM y", locale=self.locale)

    def month(self, value: date) -> str:
        from babel.dates import format_date

        return format_date(value, "LLLL y", locale=self.locale)

    def short_month(self, value: date) -> str:
        from babel.dates import format_date

        return format_date(value, "LLL", locale=self.locale)

    def moment(self, value: datetime) -> str:
        from babel.dates import format_datetime

        return format_datetime(value, "d MMM y HH:mm", tzinfo=self.zone, locale=self.locale)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def period_name(period: Period, unit: str, fmt: _Format) -> str:
    """How a table names a period: "januari 2015", "2015-W05"."""
    return fmt.month(period.first_day) if unit == "month" else period.key


def axis_labels(periods: list[Period], unit: str, fmt: _Format) -> list[str | None]:
    """Labels under the bars: each year (every few years over a long range), or each month/week over a short one."""
    if unit == "month" and len(periods) <= 24:
        return [fmt.short_month(p.first_day) + (f" {p.first_day.year}" if p.first_day.month == 1 or i == 0 else "")
                for i, p in enumerate(periods)]
    if unit == "week" and len(periods) <= 26:
        return [p.key.split("-")[1] for p in periods]
    years = len({p.key[:4] for p in periods})
    every = 1 if years <= 25 else 5 if years <= 125 else 25
    per_year = 12 if unit == "month" else 52
    first_year_periods = sum(1 for p in periods if p.key[:4] == periods[0].key[:4])
    out, seen = [], set()
    for index, p in enumerate(periods):
        year = int(p.key[:4])
        first_of_year = year not in seen
        seen.add(year)
        # A range starting late in a year: its stub would crowd the next year's label.
        stub = index == 0 and years > 1 and first_year_periods < per_year / 4
        out.append(str(year) if first_of_year and year % every == 0 and not stub else None)
    return out


def period_charts(stats: Stats, unit: str, labels: dict, fmt: _Format, prefix: str) -> list[Chart]:
    units = labels[unit][1]
    limit = MAX_MONTHS if unit == "month" else MAX_WEEKS
    if len(stats.periods) > limit:
        return [Chart(None, "", None, labels["too_many"].format(units=units, count=fmt.number(len(stats.periods))))]
    periods = stats.periods
    names = [period_name(p, unit, fmt) for p in periods]
    axis = axis_labels(periods, unit, fmt)
    first, last = fmt.day(periods[0].first_day), fmt.day(periods[-1].last_day)
    kinds = labels["kinds"]
    posts_series = [charts.Series(kinds[kind], [t.kinds[kind] for t in stats.per_period], KIND_COLORS[kind])
                    for kind in KINDS]
    counts = [t.posts for t in stats.per_period]
    busiest = max(range(len(periods)), key=lambda i: (counts[i], -i))
    empty = sum(1 for c in counts if c == 0)
    posts_summary = labels["most_posts"].format(period=names[busiest], count=fmt.number(counts[busiest]),
                                                empty=fmt.number(empty), units=units if empty != 1 else labels[unit][0])
    posts_table = Table(labels["posts_per"].format(unit=labels[unit][0]),
                        [labels[unit][0].capitalize(), labels["first_day"], labels["total"],
                         *[kinds[k] for k in KINDS]],
                        [[name, fmt.day(p.first_day), fmt.number(t.posts), *[fmt.number(t.kinds[k]) for k in KINDS]]
                         for name, p, t in zip(names, periods, stats.per_period)])
    engagement = [t.engagement for t in stats.per_period]
    most = max(range(len(periods)), key=lambda i: (engagement[i], -i))
    engagement_summary = labels["most_engagement"].format(period=names[most], count=fmt.number(engagement[most]),
                                                          total=fmt.number(stats.totals.engagement))
    metrics = labels["metrics"]
    engagement_table = Table(labels["engagement_per"].format(unit=labels[unit][0]),
                             [labels[unit][0].capitalize(), labels["engagement"], *[metrics[m] for m in METRICS]],
                             [[name, fmt.number(t.engagement), *[fmt.number(getattr(t, m)) for m in METRICS]]
                              for name, t in zip(names, stats.per_period)])
    return [
        Chart(charts.bar_chart(f"{prefix}-posts", names, posts_series,
                               title=labels["posts_per"].format(unit=labels[unit][0]),
                               description=labels["posts_desc"].format(unit=labels[unit][0], first=first, last=last),
                               labels=axis, number=fmt.number),
              posts_summary, posts_table),
        Chart(charts.line_chart(f"{prefix}-engagement", names,
                                [charts.Series(labels["engagement"], engagement, ENGAGEMENT_COLOR)],
                                title=labels["engagement_per"].format(unit=labels[unit][0]),
                                description=labels["engagement_desc"].format(unit=labels[unit][0], first=first,
                                                                            last=last),
                                labels=axis, number=fmt.number),
              engagement_summary, engagement_table),
    ]


def _totals_row(head, totals: Totals, fmt: _Format) -> list:
    return [head, fmt.number(totals.posts), *[fmt.number(totals.kinds[k]) for k in KINDS],
            fmt.number(totals.engagement)]


def build(collected: Collected, *, locale: str = "nl", title: str | None = None, top: int = 10,
          selection: dict | None = None, now: datetime | None = None) -> dict:
    """The template's context: sections of charts, tables and summaries."""
    from .render import safe_href

    labels = LABELS[locale]
    fmt = _Format(locale, collected.zone)
    months, weeks = collected.stats("month"), collected.stats("week")
    totals = months.totals
    kinds, metrics = labels["kinds"], labels["metrics"]
    totals_header = [labels["total"], *[kinds[k] for k in KINDS], labels["engagement"]]
    sections = []
    overview = Section("overview", labels["overview"])
    overview.charts.append(Chart(None, labels["engagement_note"], Table(
        labels["overview"], [labels["what"], labels["number"]],
        [[labels["all_posts"], fmt.number(totals.posts)],
         *[[kinds[k].capitalize(), fmt.number(totals.kinds[k])] for k in KINDS],
         [labels["engagement"], fmt.number(totals.engagement)],
         *[[metrics[m].capitalize(), fmt.number(getattr(totals, m))] for m in METRICS]])))
    sections.append(overview)
    if not totals.posts:
        overview.note = labels["nothing"]
    else:
        sections.append(Section("months", labels["per_month"], period_charts(months, "month", labels, fmt, "month")))
        sections.append(Section("weeks", labels["per_week"], period_charts(weeks, "week", labels, fmt, "week")))
        accounts = Section("accounts", labels["per_account"])
        table = Table(labels["per_account"], [labels["account"], labels["platform"], *totals_header],
                      [[_short("@" + a.account, KEY_LIMIT), a.platform, *_totals_row(None, a.totals, fmt)[1:]]
                       for a in months.accounts])
        svg = None
        if 1 < len(months.accounts) <= len(charts.PALETTE) and len(months.periods) <= MAX_MONTHS:
            names = [period_name(p, "month", fmt) for p in months.periods]
            svg = charts.line_chart("accounts-posts", names, [
                charts.Series(_short("@" + a.account, 40), [t.posts for t in a.per_period], charts.PALETTE[i])
                for i, a in enumerate(months.accounts)], title=labels["accounts_title"],
                description=labels["accounts_desc"], labels=axis_labels(months.periods, "month", fmt),
                number=fmt.number)
        busiest = months.accounts[0]
        accounts.charts.append(Chart(svg, labels["accounts_summary"].format(
            account=_short("@" + busiest.account, KEY_LIMIT), count=fmt.number(busiest.totals.posts)), table))
        sections.append(accounts)
        campaigns = Section("campaigns", labels["per_campaign"])
        named = [(c, t) for c, t in months.campaigns if c is not None]
        table = Table(labels["per_campaign"], [labels["campaign"], *totals_header],
                      [_totals_row(_short(c, KEY_LIMIT) if c else labels["no_campaign"], t, fmt)
                       for c, t in months.campaigns])
        if named:
            ranked = sorted(named, key=lambda item: (-item[1].engagement, item[0]))
            svg = charts.hbar_chart("campaigns-engagement", [(c, t.engagement) for c, t in ranked],
                                    title=labels["campaign_title"], description=labels["campaign_desc"],
                                    number=fmt.number, color=ENGAGEMENT_COLOR)
            campaigns.charts.append(Chart(svg, labels["campaign_summary"].format(
                campaign=_short(ranked[0][0], KEY_LIMIT), count=fmt.number(ranked[0][1].engagement)), table))
        else:
            campaigns.note = labels["no_campaigns"]
            campaigns.charts.append(Chart(None, "", table))
        sections.append(campaigns)
        for kind, singular, shown in (("hashtags", "hashtag", lambda k: "#" + k),
                                      ("mentions", "mention", lambda k: "@" + k), ("links", "link", lambda k: k)):
            items = getattr(months, kind)
            section = Section(kind, labels[kind])
            if not items:
                section.note = labels["none"]
            else:
                what = labels[kind].lower()
                svg = charts.hbar_chart(f"{kind}-top", [(_short(shown(k), KEY_LIMIT), v) for k, v in items],
                                        title=labels["entity_title"].format(what=what),
                                        description=labels["entity_desc"].format(what=what, count=len(items)),
                                        number=fmt.number)
                rows = []
                for k, v in items:
                    text = _short(shown(k), KEY_LIMIT)
                    href = safe_href(k) if kind == "links" else None
                    cell = Markup('<a href="{}" rel="nofollow noopener">{}</a>').format(href, text) if href else text
                    rows.append([cell, fmt.number(v)])
                section.charts.append(Chart(svg, labels["entity_summary"].format(
                    key=_short(shown(items[0][0]), KEY_LIMIT), count=fmt.number(items[0][1]),
                    posts=labels["post_words"][items[0][1] != 1]),
                    Table(labels[kind], [labels[singular], labels["in_posts"]], rows)))
            sections.append(section)
    top_posts = [{"text": _short(p.text, TEXT_LIMIT), "account": _short("@" + p.account, KEY_LIMIT),
                  "when": fmt.moment(p.created_at), "datetime": p.created_at.astimezone(timezone.utc).isoformat(),
                  "url": safe_href(p.url), "engagement": fmt.number(p.engagement),
                  "metrics": [(metrics[m], fmt.number(getattr(p, m))) for m in METRICS],
                  "campaign": _short(p.campaign, KEY_LIMIT) if p.campaign else None}
                 for p in months.top_posts[:top] if p.engagement > 0]
    return {
        "language": locale, "labels": labels, "title": title or labels["title"], "sections": sections,
        "top_posts": top_posts, "has_posts": bool(totals.posts),
        "selection": [(labels["accounts"], ", ".join(_short("@" + a.account, KEY_LIMIT) for a in months.accounts)
                       or labels["all_accounts"]),
                      (labels["range"], f"{fmt.day(collected.first)} – {fmt.day(collected.last)}"
                       if collected.first else "–"),
                      (labels["timezone"], months.zone),
                      *[(labels["filters"], value) for value in (selection or {}).values() if value]],
        "generated": fmt.moment(now) if now else None, "generated_iso": now.isoformat() if now else None,
    }


def render_report(collected: Collected, *, locale: str = "nl", title: str | None = None, top: int = 10,
                  selection: dict | None = None, now: datetime | None = None) -> str:
    """The report page (HTML5, well-formed, self-contained)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    if locale not in LABELS:
        raise ValueError(f"locale must be one of {LOCALES}")
    environment = Environment(loader=PackageLoader("archive", "templates"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    context = build(collected, locale=locale, title=title, top=top, selection=selection, now=now)
    return environment.get_template("report.html").render(**context)

