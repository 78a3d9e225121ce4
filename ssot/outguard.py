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

from functools import cache


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
    from ssot.detectors import replace_matches, scan_text  # the plugins load only when there is output

    distinctive = _distinctive()
    matches = [m for m in scan_text(text, "<output>") if m.detector in distinctive]
    return replace_matches(text, matches, mark=lambda m: f"[withheld: {m.secret_type}, {m.redacted}]",
                           line_withheld="[line withheld: it holds a secret]",
                           all_withheld="[withheld: it holds a secret]")
