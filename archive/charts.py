"""SVG charts drawn on the server: pure functions from data to an SVG string (markupsafe.Markup), for
`archive report` and, later, the web workspace. No database, no click, no scripts.

Accessible: each chart is <svg role="img" aria-labelledby="ID-title" aria-describedby="ID-desc"> with
its <title> (the image's name) and <desc> (its description); the page shows the numbers as a table too (the caller's job, see archive.report). Safe: every
text and attribute value goes through markupsafe.escape in _element, so a hashtag or a campaign name
cannot become markup. No style attributes (the workspace's Content-Security-Policy forbids inline
styles): colours are presentation attributes (fill=, stroke=) and every part has a class= that a
page's CSS may restyle (.chart-bar, .chart-line, .chart-axis, .chart-grid, .chart-legend …).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from markupsafe import Markup, escape

# Okabe-Ito: told apart with the common kinds of colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
INK = "#333333"
GRID = "#dddddd"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    color: str = PALETTE[0]


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _element(tag: str, attributes: dict | None = None, *children) -> Markup:
    """<tag a="v"…>children</tag>; attribute values and str children escaped, Markup children kept."""
    parts = [f"<{tag}"]
    for name, value in (attributes or {}).items():
        if value is None:
            continue
        if isinstance(value, float):
            value = f"{value:.1f}".rstrip("0").rstrip(".")
        parts.append(f' {name}="{escape(str(value))}"')
    if not children:
        return Markup("".join(parts) + "/>")
    inner = "".join(str(child) if isinstance(child, Markup) else str(escape(child)) for child in children)
    return Markup("".join(parts) + ">" + inner + f"</{tag}>")


def _frame(chart_id: str, title: str, description: str, width: int, height: int, kind: str, *body) -> Markup:
    return _element(
        "svg", {"xmlns": "http://www.w3.org/2000/svg", "role": "img", "class": f"chart chart-{kind}",
                "viewBox": f"0 0 {width} {height}", "aria-labelledby": f"{chart_id}-title",
                "aria-describedby": f"{chart_id}-desc",
                "font-family": "system-ui, sans-serif", "font-size": 12},
        _element("title", {"id": f"{chart_id}-title"}, title),
        _element("desc", {"id": f"{chart_id}-desc"}, description),
        *body)


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """0 and round steps (1, 2, 2.5 or 5 times a power of ten) up to at least maximum."""
    if maximum <= 0:
        return [0, 1]
    rough = maximum / count
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)
    if step < 1:
        step = 1
    top = math.ceil(maximum / step) * step
    return [i * step for i in range(int(round(top / step)) + 1)]


@dataclass(frozen=True)
class _Plot:
    left: int
    top: int
    width: int
    height: int
    ticks: list

    def y(self, value: float) -> float:
        return self.top + self.height - (value / self.ticks[-1]) * self.height


def _axes(plot: _Plot, labels: Sequence[str | None], number: Callable[[float], str], y_label: str,
          slot: float, centre: Callable[[int], float]) -> list[Markup]:
    grid = [_element("line", {"x1": plot.left, "x2": plot.left + plot.width, "y1": plot.y(t), "y2": plot.y(t),
                              "stroke": GRID, "stroke-width": 1}) for t in plot.ticks]
    y_axis = [_element("text", {"x": plot.left - 6, "y": plot.y(t) + 4, "text-anchor": "end", "fill": INK},
                       number(t)) for t in plot.ticks]
    x_axis = []
    bottom = plot.top + plot.height
    last = None
    for index, label in enumerate(labels):
        if label:
            x = centre(index)
            if last is not None and x - last < 7 * len(label) + 8:
                continue  # it would overlap the previous label
            last = x
            x_axis.append(_element("line", {"x1": x, "x2": x, "y1": bottom, "y2": bottom + 4, "stroke": INK}))
            x_axis.append(_element("text", {"x": x, "y": bottom + 17, "text-anchor": "middle", "fill": INK}, label))
    return [_element("g", {"class": "chart-grid"}, *grid),
            _element("g", {"class": "chart-axis chart-y"}, *y_axis,
                     _element("text", {"x": 4, "y": plot.top - 10, "fill": INK}, y_label)),
            _element("g", {"class": "chart-axis chart-x"},
                     _element("line", {"x1": plot.left, "x2": plot.left + plot.width, "y1": bottom, "y2": bottom,
                                       "stroke": INK}), *x_axis)]


def _legend(series: Sequence[Series], left: int, y: int) -> Markup:
    items, x = [], left
    for item in series:
        items.append(_element("rect", {"x": x, "y": y - 10, "width": 12, "height": 12, "fill": item.color}))
        items.append(_element("text", {"x": x + 17, "y": y, "fill": INK}, item.name))
        x += 30 + 7 * len(item.name)
    return _element("g", {"class": "chart-legend"}, *items)


def bar_chart(chart_id: str, categories: Sequence[str], series: Sequence[Series], *, title: str, description: str,
              labels: Sequence[str | None] | None = None, y_label: str = "",
              number: Callable[[float], str] = _number, width: int = 960, height: int = 300) -> Markup:
    """Vertical bars, one per category, the series stacked (in order, bottom up). categories name each
    bar (its tooltip); labels (same length, None for none) are shown under the axis."""
    legend = len(series) > 1
    plot_top = 40 if legend else 28
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    plot = _Plot(56, plot_top, width - 56 - 12, height - plot_top - 28, nice_ticks(max(totals, default=0)))
    slot = plot.width / max(1, len(categories))
    gap = slot * 0.15 if slot >= 4 else 0
    bars = []
    for index, category in enumerate(categories):
        base = 0.0
        for item in series:
            value = item.values[index]
            if value <= 0:
                continue
            y_top, y_bottom = plot.y(base + value), plot.y(base)
            bars.append(_element("rect", {"x": plot.left + index * slot + gap / 2, "y": y_top,
                                          "width": max(slot - gap, 0.5), "height": max(y_bottom - y_top, 0.5),
                                          "fill": item.color},
                                 _element("title", None, f"{category}: {item.name} {number(value)}"
                                          if legend else f"{category}: {number(value)}")))
            base += value
    body = [*_axes(plot, labels or [None] * len(categories), number, y_label, slot,
                   lambda i: plot.left + (i + 0.5) * slot),
            _element("g", {"class": "chart-bars"}, *bars)]
    if legend:
        body.append(_legend(series, plot.left, 16))
    return _frame(chart_id, title, description, width, height, "bar", *body)


def line_chart(chart_id: str, categories: Sequence[str], series: Sequence[Series], *, title: str, description: str,
               labels: Sequence[str | None] | None = None, y_label: str = "",
               number: Callable[[float], str] = _number, width: int = 960, height: int = 300) -> Markup:
    """Lines over the categories, one per series (not stacked)."""
    legend = len(series) > 1
    plot_top = 40 if legend else 28
    peak = max((max(s.values, default=0) for s in series), default=0)
    plot = _Plot(56, plot_top, width - 56 - 12, height - plot_top - 28, nice_ticks(peak))
    slot = plot.width / max(1, len(categories))

    def x(index: int) -> float:
        return plot.left + (index + 0.5) * slot

    lines = []
    for item in series:
        points = " ".join(f"{x(i):.1f},{plot.y(v):.1f}" for i, v in enumerate(item.values))
        if len(item.values) == 1:
            lines.append(_element("circle", {"cx": x(0), "cy": plot.y(item.values[0]), "r": 3, "fill": item.color}))
        else:
            lines.append(_element("polyline", {"points": points, "fill": "none", "stroke": item.color,
                                               "stroke-width": 2, "stroke-linejoin": "round"}))
    peak_marks = []
    for item in series:
        if item.values and max(item.values) > 0:
            index = max(range(len(item.values)), key=lambda i: (item.values[i], -i))
            peak_marks.append(_element("circle", {"cx": x(index), "cy": plot.y(item.values[index]), "r": 3.5,
                                                  "fill": item.color},
                                       _element("title", None, f"{categories[index]}: {item.name} "
                                                               f"{number(item.values[index])}")))
    body = [*_axes(plot, labels or [None] * len(categories), number, y_label, slot, x),
            _element("g", {"class": "chart-lines"}, *lines, *peak_marks)]
    if legend:
        body.append(_legend(series, plot.left, 16))
    return _frame(chart_id, title, description, width, height, "line", *body)


def hbar_chart(chart_id: str, items: Sequence[tuple[str, float]], *, title: str, description: str,
               number: Callable[[float], str] = _number, color: str = PALETTE[0], width: int = 960,
               label_width: int = 300, row: int = 24) -> Markup:
    """Horizontal bars, one per (label, value), in the order given; long labels are shortened (the
    whole label is the bar's tooltip)."""
    height = 12 + row * max(1, len(items))
    peak = max((value for _, value in items), default=0) or 1
    room = width - label_width - 80
    rows = []
    for index, (label, value) in enumerate(items):
        y = 6 + index * row
        shown = label if len(label) <= 42 else label[:41] + "…"
        length = max(room * value / peak, 1 if value else 0)
        rows.append(_element(
            "g", {"class": "chart-row"},
            _element("text", {"x": label_width - 8, "y": y + row / 2 + 4, "text-anchor": "end", "fill": INK}, shown),
            _element("rect", {"x": label_width, "y": y + 3, "width": length, "height": row - 8, "fill": color},
                     _element("title", None, f"{label}: {number(value)}")),
            _element("text", {"x": label_width + length + 6, "y": y + row / 2 + 4, "fill": INK}, number(value))))
    return _frame(chart_id, title, description, width, height, "hbar", _element("g", {"class": "chart-bars"}, *rows))
