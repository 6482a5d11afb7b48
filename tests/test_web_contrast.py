"""WCAG 2.1 AA contrast of the workspace's and the previews' colours (4.5:1 for text, 3:1 for
focus outlines and other non-text marks), computed from the stylesheets themselves."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHEETS = sorted((ROOT / "web" / "static").glob("*.css")) + [ROOT / "campaign" / "preview" / "preview.css"]
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
DECLARATION = re.compile(r"(?:^|[;{\s])(--[\w-]+|color|background-color|background)\s*:\s*([^;]+)")


def luminance(colour: str) -> float:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def variables(css: str) -> dict[str, str]:
    return {name: value.strip() for name, value in re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\b", css)}


def resolve(value: str, known: dict[str, str]) -> str | None:
    value = value.strip()
    match = re.fullmatch(r"var\((--[\w-]+)\)", value)
    if match:
        return known.get(match.group(1))
    if value in ("#fff", "#ffffff", "white"):
        return "#ffffff"
    return value if re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value) else None


def coloured_rules():
    """(sheet, selector, text colour, background) of every rule that sets both, resolved to hex."""
    for sheet in SHEETS:
        css = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
        known = variables(css)
        for selector, body in RULE.findall(css):
            found = dict((name, value) for name, value in DECLARATION.findall(body) if not name.startswith("--"))
            text = resolve(found.get("color", ""), known)
            back = resolve(found.get("background-color", found.get("background", "")), known)
            if text and back:
                yield sheet.name, " ".join(selector.split()), text, back


def test_every_rule_with_a_text_colour_and_a_background_reads_at_aa():
    rules = list(coloured_rules())
    assert len(rules) >= 5, "the parser found too few coloured rules to mean anything"
    weak = [(sheet, selector, text, back, round(contrast(text, back), 2)) for sheet, selector, text, back in rules
            if contrast(text, back) < 4.5]
    assert weak == []


@pytest.mark.parametrize("text", ["--ink", "--muted", "--accent", "--ok", "--warn", "--bad", "--info"])
@pytest.mark.parametrize("background", ["--paper", "--wash"])
def test_the_workspace_palettes_text_colours_read_on_its_backgrounds(text, background):
    palette = variables((ROOT / "web" / "static" / "workspace.css").read_text(encoding="utf-8"))
    assert contrast(palette[text], palette[background]) >= 4.5


@pytest.mark.parametrize("mark", ["--focus"] + [f"--acct-{n}" for n in range(8)])
def test_focus_outlines_and_account_colours_stand_out_from_the_page(mark):
    palette = variables((ROOT / "web" / "static" / "workspace.css").read_text(encoding="utf-8"))
    for background in ("--paper", "--wash"):
        assert contrast(palette[mark], palette[background]) >= 3.0, (mark, background)


def test_each_platforms_preview_colours_read_on_its_card():
    css = (ROOT / "campaign" / "preview" / "preview.css").read_text(encoding="utf-8")
    card = re.search(r"--pm-bg\s*:\s*(#[0-9a-fA-F]{6})", css).group(1)
    colours = re.findall(r"(--pm-(?:fg|muted|accent|danger))\s*:\s*(#[0-9a-fA-F]{6})", css)
    assert len(colours) >= 10
    assert [(name, value) for name, value in colours if contrast(value, card) < 4.5] == []
