"""Errors that reach users. Each one names where the problem is and what was expected."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class SsotError(Exception):
    """Base for errors with a message meant for a human; the CLI prints it without a traceback."""

    exit_code = 2


class ConfigIssue:
    """One problem in a config file: the file, the dotted key path, the line, and what was expected."""

    __slots__ = ("expected", "file", "line", "path")

    def __init__(self, file: str, path: str, expected: str, line: int | None = None) -> None:
        self.file = file
        self.path = path
        self.expected = expected
        self.line = line

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '<root>'}: {self.expected}"

    def __repr__(self) -> str:
        return f"ConfigIssue({self!s})"


class ConfigError(SsotError):
    """One or more config problems, reported together so a user can fix them in one pass."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = list(issues)
        lines = [str(i) for i in self.issues]
        head = "invalid configuration" if len(lines) != 1 else "invalid configuration:"
        super().__init__(head + (" " + lines[0] if len(lines) == 1 else ":\n  " + "\n  ".join(lines)))

    @classmethod
    def single(cls, file: str, path: str, expected: str, line: int | None = None) -> ConfigError:
        return cls([ConfigIssue(file, path, expected, line)])


class SourceUnavailable(SsotError):
    """A system we must read or write could not be reached; the message never carries a secret."""

    exit_code = 3


class ProviderError(SsotError):
    """A dynamic provider operation failed; the message is safe to show and to store in Pulumi state."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
