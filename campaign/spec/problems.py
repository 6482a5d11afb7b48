"""Problems found in an input file, each pinned to FILE:LINE:COL."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class Mark:
    """A 1-based position in a file."""

    line: int = 1
    col: int = 1


@dataclass(frozen=True)
class Problem:
    """One thing check reports, with where it is in the file."""

    file: str
    mark: Mark
    severity: str  # "error" | "warning" | "note" (what check wants the author to see, not a problem)
    message: str
    context: str | None = None  # the offending line of the file, shown under the message with a caret

    def __str__(self) -> str:
        return f"{self.file}:{self.mark.line}:{self.mark.col}: {self.severity}: {self.message}"

    def with_context(self) -> str:
        """str(self), then the offending line and a caret under the column (when known)."""
        if self.context is None:
            return str(self)
        line = one_line(self.context.replace("\t", " "))
        return f"{self}\n    {line}\n    {' ' * (self.mark.col - 1)}^"

    def as_dict(self) -> dict:
        out = {"file": self.file, "line": self.mark.line, "column": self.mark.col, "severity": self.severity,
               "message": self.message}
        if self.context is not None:
            out["source"] = self.context
        return out


class ProblemList:
    """Collects every problem in one pass so the user sees them all at once."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []

    def error(self, mark: Mark | None, message: str, context: str | None = None) -> None:
        self.items.append(Problem(self.file, mark or Mark(), "error", one_line(message), context))

    def warning(self, mark: Mark | None, message: str, context: str | None = None) -> None:
        self.items.append(Problem(self.file, mark or Mark(), "warning", one_line(message), context))

    def note(self, mark: Mark | None, message: str) -> None:
        self.items.append(Problem(self.file, mark or Mark(), "note", one_line(message)))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def sorted(self, *, notes: bool = False) -> list[Problem]:
        """Errors and warnings by place; with notes=True the notes too (only `check` shows them:
        a cron job that syncs must stay silent when all is well)."""
        order = {"error": 0, "warning": 1, "note": 2}
        return sorted((p for p in self.items if notes or p.severity != "note"),
                      key=lambda p: (p.mark, order[p.severity], p.message))


def one_line(message: str) -> str:
    """Messages quote user input; keep each problem on one line whatever that input holds."""
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
                   for ch in message)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the nearest candidate, or ''."""
    import difflib

    match = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""
