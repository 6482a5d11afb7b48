"""Load YAML keeping the position of every key and value.

PyYAML's composer already knows where each node starts; we keep those marks next
to the plain Python values so validation can say FILE:LINE:COL. Dates stay
strings (YAML 1.1 timestamps would silently lose the time zone question we must
ask), duplicate keys are reported instead of silently overwritten, and alias
bombs are cut off.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

from campaign.spec.problems import Mark, ProblemList

# Budgets checked on the event stream before anything is built: a 1 KB alias bomb would otherwise
# expand to hundreds of millions of values, and deep nesting overflows the recursive composer.
MAX_NODES = 250_000  # values after expanding aliases; a large real posts.yaml has tens of thousands
MAX_DEPTH = 50
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YMap(dict):
    """A mapping whose keys and values remember where they were written."""

    mark: Mark
    key_marks: dict
    value_marks: dict

    def key_mark(self, key) -> Mark:
        return self.key_marks.get(key, self.mark)

    def value_mark(self, key) -> Mark:
        return self.value_marks.get(key, self.mark)


class YList(list):
    """A sequence whose items remember where they were written."""

    mark: Mark
    item_marks: list

    def item_mark(self, index: int) -> Mark:
        return self.item_marks[index] if index < len(self.item_marks) else self.mark


class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


if _FastLoader is not yaml.SafeLoader:
    class _CLoader(_FastLoader):
        """libyaml builds the nodes ten times faster; only used once the pure parser's wording is not needed."""

    _CLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
else:
    _CLoader = _Loader


def _mark(node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


_HASHTAG_COMMENT = re.compile(r"[ \t]+#[^\s#]")


class _Converter:
    def __init__(self, loader: _Loader, problems: ProblemList, text: str):
        self.loader = loader
        self.problems = problems
        self.count = 0
        self.active: set[int] = set()
        self.lines = text.splitlines()

    def convert(self, node) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(node)
        if isinstance(node, yaml.ScalarNode):
            if node.style in ('"', "'"):
                self.comment_after_quote(node)
            elif not node.style and self.hashtag_cut(node):  # plain: None from PyYAML, '' from libyaml
                # Taken as meant, so the rest of the file is checked without a follow-on "empty text".
                return self.lines[node.end_mark.line][node.end_mark.column:].strip()
            return self.loader.construct_object(node, deep=True)
        if id(node) in self.active:
            raise _Recursive(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                out = YList(self.convert(item) for item in node.value)
                out.mark = _mark(node)
                out.item_marks = [_mark(item) for item in node.value]
                return out
            return self._mapping(node)
        finally:
            self.active.discard(id(node))

    def comment_after_quote(self, node) -> None:
        """`text: "Praat mee" #utrecht`: the tag after the closing quote is silently a comment."""
        end = node.end_mark
        if not 0 <= end.line < len(self.lines):
            return
        line = self.lines[end.line]
        match = _HASHTAG_COMMENT.match(line[end.column:])
        if match is not None:
            self.problems.error(Mark(end.line + 1, end.column + match.end() - 1),
                                "the text after the closing quote is read as a comment: put the whole text "
                                "inside the quotes", context=line)

    def hashtag_cut(self, node) -> bool:
        """An unquoted text that runs into ' #tag' ends there: YAML reads the rest as a comment.

        A comment written on purpose has a space after '#'; '#utrecht' is a hashtag that vanished.
        True when the value was empty (the whole text became a comment).
        """
        end = node.end_mark
        if not 0 <= end.line < len(self.lines) or not isinstance(node.value, str):
            return False
        line = self.lines[end.line]
        rest = line[end.column:]
        match = _HASHTAG_COMMENT.match(rest)
        if match is None:
            return False
        where = Mark(end.line + 1, end.column + match.end() - 1)
        if node.value == "":
            message = ("this text starts with '#', which YAML reads as a comment, so the value is empty: "
                       "put the text in quotes")
        else:
            message = ("the text stops before '" + rest.strip()[:20] + "': YAML reads ' #' as the start of a "
                       "comment: put the whole text in quotes")
        self.problems.error(where, message, context=line)
        return node.value == ""

    def _mapping(self, node) -> YMap:
        self.loader.flatten_mapping(node)
        out = YMap()
        out.mark = _mark(node)
        out.key_marks, out.value_marks = {}, {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.error(_mark(key_node), "a key must be a plain word, not a list or mapping")
                continue
            key = self.loader.construct_object(key_node, deep=True)
            if isinstance(key, bool) or key is None or not isinstance(key, (str, int, float)):
                # YAML 1.1 reads a key `on:` or `no:` as a boolean; as a key it is always the word.
                key = key_node.value
            if key in out:
                first = out.key_marks[key]
                self.problems.error(_mark(key_node), f"duplicate key '{key}' (first at line {first.line})")
                continue
            out[key] = self.convert(value_node)
            out.key_marks[key] = _mark(key_node)
            out.value_marks[key] = _mark(value_node)
        return out


class _TooBig(Exception):
    def __init__(self, node):
        self.node = node


class _OverBudget(Exception):
    def __init__(self, mark, message: str):
        self.mark = Mark(mark.line + 1, mark.column + 1)
        self.message = message


def _check_budgets(text: str) -> bool:
    """Raise _OverBudget when the document nests too deep or its aliases expand too far.

    Streams events from libyaml (when present), so the check costs milliseconds; syntax errors
    are left to the pure-Python parse, which words them the way users know. True: well-formed.
    """
    try:
        _walk_events(yaml.parse(text, Loader=_FastLoader))
    except yaml.YAMLError:
        return False
    return True


def _walk_events(events) -> None:
    sizes: dict[str, int] = {}  # anchor -> values it expands to
    open_: list[tuple[int, str | None]] = []
    total = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            total += sizes.get(event.anchor, 1)  # unknown or self-referring: the composer reports it
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if len(open_) >= MAX_DEPTH:
                raise _OverBudget(event.start_mark, f"nested more than {MAX_DEPTH} levels deep")
            open_.append((total, event.anchor))
            total += 1
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            start, anchor = open_.pop()
            if anchor is not None:
                sizes[anchor] = total - start
        elif isinstance(event, yaml.ScalarEvent):
            total += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        if total > MAX_NODES:
            raise _OverBudget(event.start_mark, f"the file expands to more than {MAX_NODES:,} values "
                                                "(anchors and aliases?)")


class _Recursive(Exception):
    def __init__(self, node):
        self.node = node


def load_yaml(text: str, problems: ProblemList) -> Any:
    """Parse one YAML document; problems go to `problems`, the result is None when unusable."""
    loader = None
    try:
        loader = (_CLoader if _check_budgets(text) else _Loader)(text)
        node = loader.get_single_node()
        if node is None:
            return None
        return _Converter(loader, problems, text).convert(node)
    except yaml.MarkedYAMLError as exc:
        from campaign.spec.yamlerrors import explain

        where, message = explain(text, exc)
        problems.error(where, f"YAML syntax error: {message}", context=_line(text, where.line))
    except yaml.reader.ReaderError as exc:
        where = _position(text, exc.position)
        problems.error(where, f"character U+{ord(exc.character) if isinstance(exc.character, str) else exc.character:04X} "
                              "is not allowed in a YAML file; remove it (or write it as an escape such as "
                              "\\uFFFF inside double quotes)", context=_line(text, where.line))
    except yaml.YAMLError as exc:
        problems.error(Mark(), f"YAML error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    except _TooBig as exc:
        problems.error(_mark(exc.node), f"the file expands to more than {MAX_NODES:,} values (anchors and aliases?)")
    except _OverBudget as exc:
        problems.error(exc.mark, exc.message)
    except _Recursive as exc:
        problems.error(_mark(exc.node), "an alias refers to itself")
    except RecursionError:
        problems.error(Mark(), f"the file is nested too deeply (at most {MAX_DEPTH} levels)")
    except (ValueError, TypeError, OverflowError) as exc:
        # PyYAML raises plain ValueError for e.g. huge float/int edge cases.
        problems.error(Mark(), f"YAML error: {exc}")
    finally:
        if loader is not None:
            loader.dispose()
    return None


def _line(text: str, number: int) -> str | None:
    lines = text.splitlines()
    return lines[number - 1] if 0 < number <= len(lines) else None


def _position(text: str, offset: int) -> Mark:
    before = text[:offset]
    return Mark(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)
