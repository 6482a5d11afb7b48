"""YAML syntax errors in the words of the person who made them, with the fix.

PyYAML says what its parser expected ("mapping values are not allowed here"); the team needs to
hear what they wrote and what to write instead ("this text holds ': ' … put it in quotes"). Each
rule below recognises one parser message together with the line it points at; anything else
keeps the parser's own words.
"""
from __future__ import annotations

import re

from campaign.spec.problems import Mark

_KEY_VALUE = re.compile(r"^(\s*(?:-\s+)?)([^\s:#'\"][^:#]*?):\s+(\S.*)$")
_KEY_ONLY = re.compile(r"^(\s*)(-\s+)?([^\s:#'\"][^:]*?):(\s|$)")


def explain(text: str, exc) -> tuple[Mark, str]:
    """(where, message) for a yaml.MarkedYAMLError raised while reading `text`."""
    lines = text.splitlines()
    mark = exc.problem_mark or exc.context_mark
    where = Mark(mark.line + 1, mark.column + 1) if mark else Mark()
    problem = exc.problem or exc.context or "invalid YAML"
    context = exc.context or ""
    context_at = (Mark(exc.context_mark.line + 1, exc.context_mark.column + 1)
                  if getattr(exc, "context_mark", None) else None)
    line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""

    if "'\\t'" in problem:
        return where, "a tab in the indentation: indent with spaces (YAML does not allow tabs)"
    if problem == "mapping values are not allowed here":
        return where, _colon(lines, where, line)
    if problem.startswith("found unexpected end of stream") and "quoted scalar" in context and context_at:
        quote = _char_at(lines, context_at)
        return context_at, (f"the {quote} that opens this text (line {context_at.line}) is never closed: "
                            f"add the closing {quote} at the end of the text")
    if problem.startswith("found unknown escape character"):
        return where, ("in double quotes a backslash starts an escape such as \\n: write \\\\ for a backslash, "
                       "or put the text in single quotes")
    if problem.startswith("expected alphabetic or numeric character") and ("alias" in context or "anchor" in context):
        char = "*" if "alias" in context else "&"
        return where, (f"a value starting with '{char}' is read as a YAML {'alias' if char == '*' else 'anchor'}, "
                       "not as text: put the text in quotes")
    if problem.startswith("found undefined alias"):
        return where, ("a value starting with '*' is read as a reference to an anchor: put the text in quotes")
    if problem.startswith("found character") and "cannot start any token" in problem:
        char = problem.split("'")[1] if "'" in problem else "?"
        return where, f"a value cannot start with '{char}' unless it is quoted: put the text in quotes"
    if problem.startswith("expected ',' or ']'") and context_at:
        return context_at, (f"the list opened with '[' on line {context_at.line} is not closed: add ']' "
                            "(or put a text with '[' in quotes)")
    if problem.startswith("expected ',' or '}'") and context_at:
        return context_at, (f"the mapping opened with '{{' on line {context_at.line} is not closed: add '}}' "
                            "(or put a text with '{' in quotes)")
    if problem == "could not find expected ':'" and context_at:
        return context_at, (f"line {context_at.line} is not a 'key: value' line: a text that continues on the "
                            "next line must be indented under its key, or be put in quotes")
    if problem.startswith("expected <block end>, but found '<scalar>'"):
        opened = _unclosed_quote(lines, where.line, context_at.line if context_at else 1)
        if opened is not None:
            return opened, (f"this quote is not closed on line {opened.line}, so YAML reads on to the next quote "
                            f"(line {where.line}): add the closing quote at the end of the text")
        return where, _after_value(line, where)
    if problem.startswith("expected <block end>, but found '-'") or \
            problem.startswith("expected <block end>, but found '<block sequence start>'"):
        return where, _list_item(lines, where, line)
    if problem.startswith("expected <block end>, but found '?'"):
        return where, _key_after_list(lines, where, line)
    if problem.startswith("expected <block end>") or problem.startswith("did not find expected key") or \
            problem.startswith("did not find expected '-'"):
        return where, _indentation(lines, where, line)
    if problem.startswith("expected a single document") or context.startswith("expected a single document"):
        return where, "the file holds more than one document ('---'): keep only one"
    return where, problem


def _after_value(line: str, where: Mark) -> str:
    """More on the line after what YAML took for the whole value: say what it took it for."""
    match = _KEY_VALUE.match(line)
    start = match.group(3)[:1] if match else ""
    if start == "{":
        return "a text starting with '{' is read as a YAML mapping: put the text in quotes"
    if start == "[":
        return "a text starting with '[' is read as a YAML list: put the text in quotes"
    if start == "'":
        return ("a single quote inside a text in single quotes ends it: write it twice ('') or put the text "
                "in double quotes")
    return "more text after the closing quote: put the whole text inside the quotes"


def _unclosed_quote(lines: list[str], problem_line: int, first_line: int) -> Mark | None:
    """Where a double-quoted text that runs on over the next lines was opened: the nearest line above
    the problem with an odd number of unescaped double quotes."""
    for number in range(problem_line - 1, max(first_line, 1) - 1, -1):
        line = lines[number - 1] if number <= len(lines) else ""
        if line.lstrip().startswith("#"):
            continue
        quotes = [i for i, ch in enumerate(line) if ch == '"' and (i == 0 or line[i - 1] != "\\")]
        if len(quotes) % 2 == 1:
            return Mark(number, quotes[-1] + 1)
    return None


def _char_at(lines: list[str], at: Mark) -> str:
    line = lines[at.line - 1] if 0 < at.line <= len(lines) else ""
    char = line[at.col - 1: at.col] or '"'
    return "double quote" if char == '"' else "single quote" if char == "'" else f"'{char}'"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key_of(line: str) -> str | None:
    match = _KEY_ONLY.match(line)
    return match.group(3).strip() if match else None


def _colon(lines: list[str], where: Mark, line: str) -> str:
    """': ' inside a plain text, or a key indented under a plain value."""
    before = line[: where.col - 1]
    match = _KEY_VALUE.match(line)
    if match and len(match.group(1)) + len(match.group(2)) < len(before):
        key, value = match.group(2), match.group(3)
        return (f"this text holds ': ', which YAML reads as the start of a new key: put the text in quotes, "
                f"e.g. {key}: {_quoted(value)}")
    key = _key_of(line) or "this key"
    above = _previous_content(lines, where.line)
    if above is not None:
        number, text = above
        other = _key_of(text)
        if other and _indent(line) > _indent(text):
            return (f"'{key}' is indented more than '{other}' on line {number}, so YAML reads it as part of that "
                    f"value: indent it {_indent(text)} spaces, like '{other}'")
    return f"'{key}' cannot start here: put the text before it in quotes, or check the indentation"


def _quoted(value: str) -> str:
    value = value.rstrip()
    if '"' not in value:
        return f'"{value}"'
    return "'" + value.replace("'", "''") + "'"


def _previous_content(lines: list[str], number: int) -> tuple[int, str] | None:
    for index in range(number - 2, -1, -1):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index + 1, lines[index]
    return None


def _levels(lines: list[str], number: int) -> list[tuple[int, int, str]]:
    """(indent, line number, key) of the keys that are open above line `number`, innermost first."""
    levels: list[tuple[int, int, str]] = []
    smallest = None
    for index in range(number - 2, -1, -1):
        text = lines[index]
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = _indent(text)
        dash = stripped.startswith("- ")
        column = indent + 2 if dash else indent
        if smallest is None or column < smallest:
            key = _key_of(text)
            if key is not None:
                levels.append((column, index + 1, key))
            smallest = column
            if column == 0:
                break
    return levels


def _indentation(lines: list[str], where: Mark, line: str) -> str:
    key = _key_of(line)
    indent = _indent(line)
    name = f"'{key}'" if key else f"line {where.line}"
    levels = _levels(lines, where.line)
    below = [level for level in levels if level[0] < indent]
    above = [level for level in levels if level[0] > indent]
    options = []
    if above:
        column, number, other = above[-1]
        options.append(f"{column} spaces to keep it with '{other}' (line {number})")
    if below:
        column, number, other = below[0]
        options.append(f"{column} spaces to put it beside '{other}' (line {number})")
    hint = "; use " + " or ".join(options) if options else ""
    return f"{name} is indented {indent} space{'s' * (indent != 1)}, which matches no key above it{hint}"


def _list_item(lines: list[str], where: Mark, line: str) -> str:
    above = _previous_content(lines, where.line)
    base = "a list item ('- ') where a key was expected"
    if above is not None and above[1].lstrip().startswith("- "):
        return (f"{base}: line {where.line} is indented {_indent(line)} spaces, the item on line {above[0]} "
                f"{_indent(above[1])}; give every item of one list the same indentation")
    return f"{base}: remove the '- ', or indent the item under the key whose list it belongs to"


def _key_after_list(lines: list[str], where: Mark, line: str) -> str:
    key = _key_of(line) or "this key"
    if key.startswith("-") and len(key) > 1:
        return f"a list item needs a space after '-': write '- {key[1:].lstrip()}: …'"
    indent = _indent(line)
    for number in range(where.line - 1, 0, -1):
        text = lines[number - 1]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        if _indent(text) < indent:
            break
        if _indent(text) == indent and text.lstrip().startswith("- "):
            first = number
            while first > 1 and _indent(lines[first - 2]) >= indent and (
                    _indent(lines[first - 2]) > indent or lines[first - 2].lstrip().startswith("- ")):
                first -= 1
                if _indent(lines[first - 1]) == indent and lines[first - 1].lstrip().startswith("- "):
                    number = first
            return (f"line {number} starts a list item ('- ') but '{key}' on line {where.line} is a plain key at "
                    f"the same indentation: remove the '- ' on line {number}, or write '- {key}: …' too")
    return (f"'{key}' follows list items at the same indentation: write it as an item ('- {key}: …') or "
            "indent it less, beside the key that holds the list")
