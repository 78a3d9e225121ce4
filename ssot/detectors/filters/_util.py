"""Small helpers shared by the filters (a private module: it holds no filters)."""

from __future__ import annotations

_QUOTES = "\"'`"


def bare(secret: str) -> str:
    """The candidate without surrounding whitespace and quotes, as other scanners may report it."""
    s = secret.strip()
    while len(s) >= 2 and s[0] == s[-1] and s[0] in _QUOTES:
        s = s[1:-1].strip()
    return s


def inside_any(secret: str, spans: list[str]) -> bool:
    return bool(secret) and any(secret in span for span in spans)
