"""Placeholders and documentation examples: shaped like secrets, never usable."""

from __future__ import annotations

import re

from ssot.detectors.filters._util import bare

_PLACEHOLDER_WORDS = (
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "change_this",
    "replaceme",
    "replace_me",
    "replace-me",
    "placeholder",
    "your_",
    "your-",
    "yourpassword",
    "yoursecret",
    "yourtoken",
    "insert_",
    "insert-",
    "redacted",
    "dummy",
    "notasecret",
    "not-a-secret",
    "not_a_secret",
    "fixme",
    "<",
)
_MASKED = re.compile(r"x{4,}|\*{3,}|•{3,}|#{4,}|\.{3,}|…", re.IGNORECASE)
_REPEATED = re.compile(r"(.)\1{5,}")
_BRACKETED = re.compile(r"\[[^\]]*\]|<[^>]*>|\{[^}]*\}")
_BARE_WORDS = frozenset(
    {"password", "secret", "token", "apikey", "api_key", "none", "null", "nil", "undefined", "string", "empty"}
)


def is_placeholder(secret: str, line: str = "", path: str = "") -> bool:
    """`changeme`, `<your-api-key>`, `[YOUR-PASSWORD]`, `xxxx…`, `********`: a value still to be filled in."""
    s = bare(secret)
    low = s.lower()
    if not s or low in _BARE_WORDS:
        return True
    if _MASKED.search(s) or _REPEATED.search(s) or _BRACKETED.fullmatch(s):
        return True
    return any(w in low for w in _PLACEHOLDER_WORDS)


# AWS's documentation keys, spelled as AWS publishes them.
_AWS_EXAMPLES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAI44QH8DHBEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    }
)
_EXAMPLE_MARKERS = re.compile(r"example|lorem|ipsum|(?:^|[_\-.])(?:sample|fake)(?:[_\-.]|\Z)", re.IGNORECASE)


def is_documentation_example(secret: str, line: str = "", path: str = "") -> bool:
    """AWS's AKIAIOSFODNN7EXAMPLE, `sk-ant-…example`, `…_sample_…`: values published as examples."""
    s = bare(secret)
    return s in _AWS_EXAMPLES or _EXAMPLE_MARKERS.search(s) is not None
