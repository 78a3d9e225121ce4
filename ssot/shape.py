"""What a value looks like, never what it says: the only way an error message may mention input.

A value found where a name, a key or a schedule belongs may be the secret itself (the most natural
mistake is `password: {secret: <the actual password>}`), so no message quotes text from a stack
file, a repository file, the command line or the environment. A message names the file, the line
and the key path, says what was expected, and describes what was found by its shape: its type,
length and character classes. That is enough to spot "a string of 40 characters: letters, digits"
where a key name was expected, and useless to anyone reading a CI log for credentials.

The one exception is text from ssot's own vocabulary (a known key, a rule id, a choice), which
callers quote themselves after checking it is one of theirs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

_CLASSES = (
    ("lowercase letters", str.islower),
    ("uppercase letters", str.isupper),
    ("digits", lambda c: c.isascii() and c.isdigit()),
    ("spaces", lambda c: c == " "),
    ("line breaks", lambda c: c in "\r\n\x0b\x0c\x85\u2028\u2029"),
    ("other whitespace", lambda c: c.isspace() and c not in " \r\n\x0b\x0c\x85\u2028\u2029"),
    ("control characters", lambda c: not c.isprintable() and not c.isspace()),
)


def _classes(text: str) -> list[str]:
    found: list[str] = []
    rest = False
    # One pass over a bounded prefix: the shape of a 10 MB value is not worth 10 MB of work.
    seen = set(text[:100_000])
    for label, test in _CLASSES:
        if any(test(c) for c in seen):
            found.append(label)
    for c in seen:
        if not (c.isalnum() and c.isascii()) and not c.isspace() and c.isprintable():
            rest = True
            break
    if rest:
        found.append("symbols")
    if any(not c.isascii() and c.isalpha() for c in seen):
        found.append("non-ASCII letters")
    return found


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def describe(value: Any) -> str:
    """The shape of a value, e.g. "a string of 40 characters: letters, digits".

    Never contains any character of a string value, nor the digits of a number (a PIN or an account
    number is a number too); a boolean, nothing, a date and the container types are shown as such.
    """
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int):
        # str() of a huge int is itself refused by Python (and slow): past 18 digits, say so.
        return f"a whole number of {_count(len(str(abs(value))), 'digit')}" if abs(value) < 10**18 else \
            "a whole number of more than 18 digits"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, str):
        if not value:
            return "an empty string"
        if not value.strip():
            return f"a string of {_count(len(value), 'whitespace character')}"
        lines = value.count("\n") + 1 if "\n" in value.rstrip("\n") else 1
        kinds = _classes(value)
        if "lowercase letters" in kinds and "uppercase letters" in kinds:
            kinds[kinds.index("lowercase letters")] = "letters"
            kinds.remove("uppercase letters")
        size = _count(len(value), "character") + (f" on {lines} lines" if lines > 1 else "")
        return f"a string of {size}: {', '.join(kinds)}"
    if isinstance(value, list | tuple):
        return f"a list of {_count(len(value), 'item')}"
    if isinstance(value, dict):
        return f"a mapping of {_count(len(value), 'key')}"
    return f"a value of type {type(value).__name__}"


def got(value: Any) -> str:
    """`"; got <shape>"`, the tail every "expected X" message uses."""
    return f"got {describe(value)}"
