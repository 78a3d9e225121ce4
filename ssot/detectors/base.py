"""The building blocks of a detector, and the shape checks several detectors share.

A detector is one small class: a stable `secret_type`, compiled `regexes` with a named group
`secret`, and optionally `verify_shape`. Speed comes from the regexes themselves: every pattern
should start with a literal (CPython's `re` then skips ahead with a fast substring search instead
of trying each position), so word boundaries are written as a lookbehind *after* the literal.
Detectors that must match case-insensitively set `case_insensitive` and write lowercase patterns:
they run over a lowercased copy of the text, which is much faster than `re.IGNORECASE`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, ClassVar


class Detector:
    """Base of all detectors. Subclasses in `ssot.detectors.plugins` are discovered automatically."""

    #: stable, human-readable name of what is found, e.g. "Supabase secret key"
    secret_type: ClassVar[str] = ""
    #: patterns with a named group `secret`; lowercase when `case_insensitive` is set
    regexes: ClassVar[tuple[re.Pattern[str], ...]] = ()
    #: lowercase; the regexes run only when the lowercased text contains one of these. A substring
    #: test is several times faster than a regex pass, and most text holds none of them.
    keywords: ClassVar[tuple[str, ...]] = ()
    #: lowercase; a substring every match contains, tested before the keywords: detectors sharing a
    #: gate ("n8n", "pass", "secret") pay for one test, and skip their own when it fails
    gate: ClassVar[str] = ""
    #: run the regexes over the lowercased text (offsets are the same; the secret is cut from the original)
    case_insensitive: ClassVar[bool] = False
    #: when two detectors claim overlapping text, the higher priority one wins
    priority: ClassVar[int] = 50
    #: a base class meant only to be subclassed sets this in its own body
    abstract: ClassVar[bool] = False
    #: the start of a secret that is the same in every secret of the format (a key type marker such
    #: as `ghp_`); the only characters of a secret a redaction may show. None: the format has none.
    public_prefix: ClassVar[re.Pattern[str] | None] = None

    @property
    def name(self) -> str:
        return type(self).__name__

    def active_regexes(self, haystack: str, has: Callable[[str], bool]) -> Sequence[re.Pattern[str]]:
        """The regexes worth running over this text: all of them, unless no keyword occurs in it.

        `has(keyword)` answers whether the keyword occurs in the lowercased text, remembered per scan
        so that detectors sharing a keyword pay for one substring search.
        """
        if (self.gate and not has(self.gate)) or (self.keywords and not any(has(k) for k in self.keywords)):
            return ()
        return self.regexes

    def verify_shape(self, value: str) -> bool:
        """Structure or entropy checks that a regex cannot express. Never raises on odd input."""
        return True

    def public_part(self, value: str) -> str:
        """The format's public marker at the start of `value`, or "" (never the secret part)."""
        m = self.public_prefix.match(value) if self.public_prefix else None
        return m.group(0) if m and m.end() < len(value) else ""

    def verify_context(self, value: str, line: str) -> bool:
        """Checks that need the line around the value (at most a few thousand characters of it)."""
        return True

    def __repr__(self) -> str:
        return f"<{self.name} {self.secret_type!r}>"


# --- shared shape checks -----------------------------------------------------------------------


def shannon_entropy(value: str) -> float:
    """Bits per character of the value's own character distribution."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


_DIGIT = re.compile(r"[0-9]")
_OTHER = re.compile(r"[^A-Za-z0-9]")


def char_classes(value: str) -> int:
    """How many of lower, upper, digit and other characters the value uses."""
    # str methods and one-character-class searches run in C: this is called for every candidate.
    return (
        (value != value.upper())
        + (value != value.lower())
        + (_DIGIT.search(value) is not None)
        + (_OTHER.search(value) is not None)
    )


_B64URL = re.compile(r"^[A-Za-z0-9_-]+\Z")


def _b64url_json(segment: str) -> Any:
    if not _B64URL.match(segment):
        return None
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Header and payload of a compact JWS, decoded without verifying anything; None if not a JWT."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[2]:
        return None
    header, payload = _b64url_json(parts[0]), _b64url_json(parts[1])
    if not isinstance(header, dict) or not isinstance(payload, dict) or "alg" not in header:
        return None
    return header, payload


_HMAC_ALGS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def jwt_signed_with(token: str, secrets: Sequence[str], algs: Sequence[str] = tuple(_HMAC_ALGS)) -> bool:
    """Whether a JWT's HMAC signature verifies with one of `secrets` (published ones, such as a
    local-development or documentation secret), for a header `alg` among `algs`."""
    parts = jwt_parts(token)
    alg = str(parts[0].get("alg")) if parts else ""
    if alg not in algs or alg not in _HMAC_ALGS:
        return False
    head, payload, sig = token.split(".")
    try:
        given = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    except (binascii.Error, ValueError):
        return False
    msg = f"{head}.{payload}".encode()
    return any(hmac.compare_digest(given, hmac.new(k.encode(), msg, _HMAC_ALGS[alg]).digest()) for k in secrets)


def jwt_claims(token: str) -> dict[str, Any] | None:
    parts = jwt_parts(token)
    return parts[1] if parts else None


# JWTs are found by one pattern shared by the detectors and filters that look inside them.
JWT_PATTERN = r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"
JWT_RE = re.compile(rf"(?P<secret>{JWT_PATTERN})(?![A-Za-z0-9_-])")
