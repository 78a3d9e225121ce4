"""The last check before anything leaves ssot: no secret the detectors recognise is ever printed.

Messages are built from names, shapes and locations, never values, and findings are value-free by
contract. But a secret can hide inside something that *is* a name: a credential pasted as the
project's name becomes the Pulumi resource's name, its URN, and every finding that points at it.
So every text ssot writes (reports, the `show` table, error messages, warnings) passes through
`withhold`, which replaces each secret found by a detector that knows its format by its redacted
shape (the format's public marker and the length). Detectors that judge a value by the key it is
assigned to are left out: a report's own structure (`"key": "<rule>:<digest>"`) would fool them.
It costs one detector pass over the output, which is small.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from ssot.fingerprint import fingerprint

if TYPE_CHECKING:
    from ssot.detectors import SecretMatch

_LENGTH = re.compile(r"\((\d+) chars\)\Z")


def _span(line: str, m: SecretMatch) -> tuple[int, int] | None:
    # The match's own fingerprint proves the span, so nothing but the secret is cut out.
    n = _LENGTH.search(m.redacted)
    if not n or not m.column:
        return None
    start, end = m.column - 1, m.column - 1 + int(n.group(1))
    if end > len(line):
        return None
    try:
        ok = fingerprint(line[start:end]) == m.fingerprint
    except UnicodeEncodeError:
        ok = fingerprint(line[start:end].encode("utf-8", "surrogatepass")) == m.fingerprint
    return (start, end) if ok else None


@cache
def _distinctive() -> frozenset[str]:
    """Detectors that recognise a secret by its own format (a key type marker, a PEM block). The
    others judge a value by the key it is assigned to, and a report is full of keys named `key`
    and `fingerprint` whose values are digests, not secrets."""
    from ssot.detectors import all_detectors
    from ssot.detectors.plugins.keys import PrivateKeyDetector

    return frozenset(d.name for d in all_detectors()
                     if d.public_prefix is not None or isinstance(d, PrivateKeyDetector))


def withhold(text: str) -> str:
    """`text` with every detected secret replaced by `[withheld: <type>, <redacted shape>]`; a line
    holding a secret that cannot be located exactly is withheld whole rather than risk printing it."""
    if not text:
        return text
    from ssot.detectors import scan_text  # the plugins load only when there is output to check

    distinctive = _distinctive()
    matches = [m for m in scan_text(text, "<output>") if m.detector in distinctive]
    if not matches:
        return text
    lines = text.split("\n")
    by_line: dict[int, list[SecretMatch]] = {}
    for m in matches:
        by_line.setdefault(m.line, []).append(m)
    for lineno, ms in by_line.items():
        line = lines[lineno - 1]
        spans = [(_span(line, m), m) for m in ms]
        if any(s is None for s, _ in spans):
            lines[lineno - 1] = "[line withheld: it holds a secret]"
            continue
        for (start, end), m in sorted(((s, m) for s, m in spans if s is not None), key=lambda p: -p[0][0]):
            line = f"{line[:start]}[withheld: {m.secret_type}, {m.redacted}]{line[end:]}"
        lines[lineno - 1] = line
    return "\n".join(lines)
