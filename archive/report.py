"""The archive's statistics as a report: `archive report --html` (one self-contained page) and the web
workspace's charts page build it here. No database, no click: it takes what archive.stats.collect
found and returns the sections of the page.

Per month and per week: posts (bars stacked by kind) and engagement (a line), each chart an SVG
drawn here (archive.charts) followed by its numbers as a table (in <details>) and one sentence
saying what it shows; per account, per campaign, the top posts and the top hashtags, mentions and
links. The texts are English message ids translated through a gettext catalogue
(archive/locale/<lang>/LC_MESSAGES/report.po, compiled in memory by campaign.catalogues), so the
static page and the workspace say the same; dates and numbers through Babel. Jinja2 escapes every
text (post texts, hashtags, campaign names); a link is a link only when it is http(s). The size is
bounded: the longest texts are shortened, and a range of more periods than a chart can show is
said instead of drawn.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from pathlib import Path
from typing import Callable

from markupsafe import Markup

from . import charts
from .stats import KINDS, METRICS, Collected, Period, Stats, Totals

MAX_WEEKS = 1100  # about 21 years
MAX_MONTHS = 600
TEXT_LIMIT = 1000  # characters of a top post's text shown
KEY_LIMIT = 200  # of a hashtag, mention, link, account or campaign shown
UNITS = ("month", "week")

LOCALES = ("nl", "en")
DOMAIN = "report"
LOCALE_DIR = Path(__file__).parent / "locale"
TEMPLATES = Path(__file__).parent / "templates"
KIND_COLORS = dict(zip(KINDS, charts.PALETTE))
ENGAGEMENT_COLOR = "#D55E00"


def N_(message: str) -> str:  # noqa: N802  (the marker extraction tools look for)
    """Marks a text for the catalogue where it is defined; translated where it is shown."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802
    """Marks a pair of texts whose choice depends on a number (ngettext)."""
    return singular, plural


KIND_NAMES = {"post": N_("original posts"), "reply": N_("replies"), "repost": N_("reposts"), "quote": N_("quotes")}
METRIC_NAMES = {"likes": N_("likes"), "reposts": N_("reposted"), "replies": N_("replies received"),
                "quotes": N_("quoted")}
# Each unit's texts whole, so that a translator sees full sentences.
UNIT_TEXTS = {
    "month": {"section": N_("Per month"), "unit": N_("Month"), "posts": N_("Posts per month"),
              "engagement": N_("Engagement per month"),
              "posts_desc": N_("Stacked bar chart: the number of posts per month from %(first)s to %(last)s, by kind "
                               "(posts, replies, reposts, quotes)."),
              "engagement_desc": N_("Line chart: the engagement (likes, reposts, replies, quotes) per month from "
                                    "%(first)s to %(last)s."),
              "most_posts": N_plural("Most posts in %(period)s: %(count)s; %(empty)s month without posts.",
                                   "Most posts in %(period)s: %(count)s; %(empty)s months without posts."),
              "too_many": N_("Too many months (%(count)s) for a chart."),
              "accounts": N_("Posts per month, per account"),
              "accounts_desc": N_("Line chart: the number of posts per month of each account.")},
    "week": {"section": N_("Per week"), "unit": N_("Week"), "posts": N_("Posts per week"),
             "engagement": N_("Engagement per week"),
             "posts_desc": N_("Stacked bar chart: the number of posts per week from %(first)s to %(last)s, by kind "
                              "(posts, replies, reposts, quotes)."),
             "engagement_desc": N_("Line chart: the engagement (likes, reposts, replies, quotes) per week from "
                                   "%(first)s to %(last)s."),
             "most_posts": N_plural("Most posts in %(period)s: %(count)s; %(empty)s week without posts.",
                                  "Most posts in %(period)s: %(count)s; %(empty)s weeks without posts."),
             "too_many": N_("Too many weeks (%(count)s) for a chart."),
             "accounts": N_("Posts per week, per account"),
             "accounts_desc": N_("Line chart: the number of posts per week of each account.")},
}
# (plural heading, column heading, chart title, chart description, how a key is shown)
ENTITY_TEXTS = {
    "hashtags": (N_("Hashtags"), N_("Hashtag"), N_("Most used hashtags"),
                 N_("Bar chart: in how many posts each of the %(count)s most used hashtags appears."),
                 lambda key: "#" + key),
    "mentions": (N_("Mentions"), N_("Mention"), N_("Most used mentions"),
                 N_("Bar chart: in how many posts each of the %(count)s most used mentions appears."),
                 lambda key: "@" + key),
    "links": (N_("Links"), N_("Link"), N_("Most used links"),
              N_("Bar chart: in how many posts each of the %(count)s most used links appears."),
              lambda key: key),
}


def translations(locale: str):
    """The report's gettext catalogue for locale: its gettext() and ngettext() give the texts
    (English: the message ids themselves). Raises ValueError for a locale it does not speak."""
    import gettext

    from campaign.catalogues import compiled

    if locale not in LOCALES:
        raise ValueError(f"locale must be one of {LOCALES}")
    if locale == "en":
        return gettext.NullTranslations()
    return compiled(LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po", DOMAIN)


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


@dataclass
class _Words:
    """What build() needs to speak: the catalogue's gettext/ngettext and the formats."""
    gettext: Callable[[str], str]
    ngettext: Callable[[str, str, int], str]
    fmt: _Format

    def kinds(self) -> dict[str, str]:
        return {kind: self.gettext(name) for kind, name in KIND_NAMES.items()}

    def metrics(self) -> dict[str, str]:
        return {metric: self.gettext(name) for metric, name in METRIC_NAMES.items()}


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


def _too_many(stats: Stats, unit: str) -> bool:
    return len(stats.periods) > (MAX_MONTHS if unit == "month" else MAX_WEEKS)


def period_charts(stats: Stats, unit: str, words: _Words, prefix: str, advice: str) -> list[Chart]:
    _, fmt, texts = words.gettext, words.fmt, UNIT_TEXTS[unit]
    if _too_many(stats, unit):
        note = _(texts["too_many"]) % {"count": fmt.number(len(stats.periods))}
        return [Chart(None, "", None, f"{note} {advice}")]
    periods = stats.periods
    names = [period_name(p, unit, fmt) for p in periods]
    axis = axis_labels(periods, unit, fmt)
    span = {"first": fmt.day(periods[0].first_day), "last": fmt.day(periods[-1].last_day)}
    kinds, metrics = words.kinds(), words.metrics()
    posts_series = [charts.Series(kinds[kind], [t.kinds[kind] for t in stats.per_period], KIND_COLORS[kind])
                    for kind in KINDS]
    counts = [t.posts for t in stats.per_period]
    busiest = max(range(len(periods)), key=lambda i: (counts[i], -i))
    empty = sum(1 for c in counts if c == 0)
    posts_summary = words.ngettext(*texts["most_posts"], empty) % {
        "period": names[busiest], "count": fmt.number(counts[busiest]), "empty": fmt.number(empty)}
    posts_table = Table(_(texts["posts"]), [_(texts["unit"]), _("First day"), _("Total"), *[kinds[k] for k in KINDS]],
                        [[name, fmt.day(p.first_day), fmt.number(t.posts), *[fmt.number(t.kinds[k]) for k in KINDS]]
                         for name, p, t in zip(names, periods, stats.per_period)])
    engagement = [t.engagement for t in stats.per_period]
    most = max(range(len(periods)), key=lambda i: (engagement[i], -i))
    engagement_summary = _("Most engagement in %(period)s: %(count)s; %(total)s in all.") % {
        "period": names[most], "count": fmt.number(engagement[most]), "total": fmt.number(stats.totals.engagement)}
    engagement_table = Table(_(texts["engagement"]),
                             [_(texts["unit"]), _("Engagement"), *[metrics[m] for m in METRICS]],
                             [[name, fmt.number(t.engagement), *[fmt.number(getattr(t, m)) for m in METRICS]]
                              for name, t in zip(names, stats.per_period)])
    return [
        Chart(charts.bar_chart(f"{prefix}-posts", names, posts_series, title=_(texts["posts"]),
                               description=_(texts["posts_desc"]) % span, labels=axis, number=fmt.number),
              posts_summary, posts_table),
        Chart(charts.line_chart(f"{prefix}-engagement", names,
                                [charts.Series(_("Engagement"), engagement, ENGAGEMENT_COLOR)],
                                title=_(texts["engagement"]), description=_(texts["engagement_desc"]) % span,
                                labels=axis, number=fmt.number),
              engagement_summary, engagement_table),
    ]


def _totals_cells(totals: Totals, fmt: _Format) -> list:
    return [fmt.number(totals.posts), *[fmt.number(totals.kinds[k]) for k in KINDS], fmt.number(totals.engagement)]


def _accounts_section(stats: Stats, unit: str, words: _Words, totals_header: list[str]) -> Section:
    _, fmt = words.gettext, words.fmt
    section = Section("accounts", _("Per account"))
    table = Table(_("Per account"), [_("Account"), _("Platform"), *totals_header],
                  [[_short("@" + a.account, KEY_LIMIT), a.platform, *_totals_cells(a.totals, fmt)]
                   for a in stats.accounts])
    svg = None
    if 1 < len(stats.accounts) <= len(charts.PALETTE) and not _too_many(stats, unit):
        names = [period_name(p, unit, fmt) for p in stats.periods]
        svg = charts.line_chart("accounts-posts", names, [
            charts.Series(_short("@" + a.account, 40), [t.posts for t in a.per_period], charts.PALETTE[i])
            for i, a in enumerate(stats.accounts)], title=_(UNIT_TEXTS[unit]["accounts"]),
            description=_(UNIT_TEXTS[unit]["accounts_desc"]), labels=axis_labels(stats.periods, unit, fmt),
            number=fmt.number)
    busiest = stats.accounts[0]
    section.charts.append(Chart(svg, _("Most posts: %(account)s (%(count)s).") % {
        "account": _short("@" + busiest.account, KEY_LIMIT), "count": fmt.number(busiest.totals.posts)}, table))
    return section


def _campaigns_section(stats: Stats, words: _Words, totals_header: list[str],
                       campaign_names: dict[str, str]) -> Section:
    _, fmt = words.gettext, words.fmt

    def name(campaign: str) -> str:
        return _short(campaign_names.get(campaign) or campaign, KEY_LIMIT)

    section = Section("campaigns", _("Per campaign"))
    named = [(c, t) for c, t in stats.campaigns if c is not None]
    table = Table(_("Per campaign"), [_("Campaign"), *totals_header],
                  [[name(c) if c else _("(not from the campaign)"), *_totals_cells(t, fmt)]
                   for c, t in stats.campaigns])
    if named:
        ranked = sorted(named, key=lambda item: (-item[1].engagement, item[0]))
        svg = charts.hbar_chart("campaigns-engagement", [(name(c), t.engagement) for c, t in ranked],
                                title=_("Engagement per campaign"),
                                description=_("Bar chart: the engagement with the posts of each campaign."),
                                number=fmt.number, color=ENGAGEMENT_COLOR)
        section.charts.append(Chart(svg, _("Most engagement: %(campaign)s (%(count)s).") % {
            "campaign": name(ranked[0][0]), "count": fmt.number(ranked[0][1].engagement)}, table))
    else:
        section.note = _("None of these posts was sent by the campaign.")
        section.charts.append(Chart(None, "", table))
    return section


def _entity_section(stats: Stats, kind: str, words: _Words) -> Section:
    from .render import safe_href

    _, fmt = words.gettext, words.fmt
    heading, column, title, description, shown = ENTITY_TEXTS[kind]
    items = getattr(stats, kind)
    section = Section(kind, _(heading))
    if not items:
        section.note = _("None.")
        return section
    svg = charts.hbar_chart(f"{kind}-top", [(_short(shown(k), KEY_LIMIT), v) for k, v in items], title=_(title),
                            description=_(description) % {"count": len(items)}, number=fmt.number)
    rows = []
    for k, v in items:
        text = _short(shown(k), KEY_LIMIT)
        href = safe_href(k) if kind == "links" else None
        cell = Markup('<a href="{}" rel="nofollow noopener">{}</a>').format(href, text) if href else text
        rows.append([cell, fmt.number(v)])
    first_key, first_count = items[0]
    summary = words.ngettext("Most used: %(key)s (%(count)s post).", "Most used: %(key)s (%(count)s posts).",
                             first_count) % {"key": _short(shown(first_key), KEY_LIMIT),
                                             "count": fmt.number(first_count)}
    section.charts.append(Chart(svg, summary, Table(_(heading), [_(column), _("In posts")], rows)))
    return section


def build(collected: Collected, *, locale: str = "nl", title: str | None = None, top: int = 10,
          selection: dict | None = None, now: datetime | None = None, units: tuple[str, ...] = UNITS,
          campaign_names: dict[str, str] | None = None, command_line: bool = True) -> dict:
    """The template's context: sections of charts, tables and summaries, the top posts, and `rt`,
    the report's gettext for the template's own texts.

    units: the periods charted, each a section ("month", "week"; the first also per account).
    campaign_names: shown for campaign ids where known. command_line: advice names --from/--until.
    Raises ValueError for an unknown locale or unit."""
    from .render import safe_href

    if not units or set(units) - set(UNITS):
        raise ValueError(f"units must be some of {UNITS}")
    catalogue = translations(locale)
    _ = catalogue.gettext
    fmt = _Format(locale, collected.zone)
    words = _Words(_, catalogue.ngettext, fmt)
    by_unit = {unit: collected.stats(unit) for unit in units}
    main = by_unit[units[0]]
    totals = main.totals
    kinds, metrics = words.kinds(), words.metrics()
    totals_header = [_("Total"), *[kinds[k] for k in KINDS], _("Engagement")]
    advice = (_("Choose a shorter range with --from and --until.") if command_line
              else _("Choose a shorter range."))
    sections = []
    overview = Section("overview", _("Overview"))
    overview.charts.append(Chart(None, _(
        "Engagement: the likes, reposts, replies and quotes a post received. A repost (of someone else's post) "
        "counts as a post, but its engagement belongs to the original."), Table(
        _("Overview"), [_("What"), _("Number")],
        [[_("All posts"), fmt.number(totals.posts)],
         *[[kinds[k].capitalize(), fmt.number(totals.kinds[k])] for k in KINDS],
         [_("Engagement"), fmt.number(totals.engagement)],
         *[[metrics[m].capitalize(), fmt.number(getattr(totals, m))] for m in METRICS]])))
    sections.append(overview)
    if not totals.posts:
        overview.note = _("No posts in this range.")
    else:
        for unit in units:
            sections.append(Section(f"{unit}s", _(UNIT_TEXTS[unit]["section"]),
                                    period_charts(by_unit[unit], unit, words, unit, advice)))
        sections.append(_accounts_section(main, units[0], words, totals_header))
        sections.append(_campaigns_section(main, words, totals_header, campaign_names or {}))
        sections.extend(_entity_section(main, kind, words) for kind in ENTITY_TEXTS)
    names = campaign_names or {}
    top_posts = [{"text": _short(p.text, TEXT_LIMIT), "account": _short("@" + p.account, KEY_LIMIT),
                  "when": fmt.moment(p.created_at), "datetime": p.created_at.astimezone(timezone.utc).isoformat(),
                  "url": safe_href(p.url), "engagement": fmt.number(p.engagement),
                  "metrics": [(metrics[m], fmt.number(getattr(p, m))) for m in METRICS],
                  "campaign": _short(names.get(p.campaign) or p.campaign, KEY_LIMIT) if p.campaign else None}
                 for p in main.top_posts[:top] if p.engagement > 0]
    return {
        "language": locale, "rt": _, "title": title or _("Archive report"), "sections": sections,
        "top_posts": top_posts, "has_posts": bool(totals.posts), "posts": totals.posts,
        "selection": [(_("Accounts"), ", ".join(_short("@" + a.account, KEY_LIMIT) for a in main.accounts)
                       or _("all accounts")),
                      (_("Range"), f"{fmt.day(collected.first)} – {fmt.day(collected.last)}"
                       if collected.first else "–"),
                      (_("Time zone"), main.zone),
                      *[(_("Filters"), value) for value in (selection or {}).values() if value]],
        "generated": fmt.moment(now) if now else None, "generated_iso": now.isoformat() if now else None,
    }


def render_report(collected: Collected, *, locale: str = "nl", title: str | None = None, top: int = 10,
                  selection: dict | None = None, now: datetime | None = None) -> str:
    """The report page (HTML5, well-formed, self-contained: its CSS inline). Raises ValueError for
    a locale it does not speak."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    context = build(collected, locale=locale, title=title, top=top, selection=selection, now=now)
    return environment.get_template("report.html").render(**context)
