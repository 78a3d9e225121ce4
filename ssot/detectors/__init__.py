"""Secret detectors and false-positive filters, in the style of Yelp's detect-secrets.

Detectors are `Detector` subclasses in the modules of `ssot.detectors.plugins`; filters are `is_*`
functions in the modules of `ssot.detectors.filters` with the signature
`(secret: str, line: str = "", path: str = "") -> bool` (True: the candidate is not a secret).
Both are discovered automatically: adding one is adding a class or a function.

What leaves this package is a `SecretMatch`: where, what kind, a keyed fingerprint and a shape-only
redaction. The plaintext never does, and nothing here logs or prints.

`scan_text` runs every detector, then the filters; `explain_text` also returns the candidates a
filter rejected, with the filter's name (for tests and tuning); `false_positive_reason` applies the
filters to a candidate another scanner (checkov) found.
"""

from __future__ import annotations

import bisect
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from ssot.detectors.base import Detector
from ssot.fingerprint import fingerprint, redact

__all__ = [
    "Detector",
    "SecretMatch",
    "all_detectors",
    "all_filters",
    "explain_text",
    "false_positive_reason",
    "scan_text",
    "scan_value",
]

Filter = Callable[..., bool]


@dataclass(frozen=True, slots=True)
class SecretMatch:
    secret_type: str  # detector's secret_type
    detector: str  # detector class name
    line: int  # 1-based
    column: int  # 1-based
    fingerprint: str  # ssot.fingerprint.fingerprint(secret)
    redacted: str  # ssot.fingerprint.redact(secret)


def _modules(package: ModuleType) -> list[ModuleType]:
    order: tuple[str, ...] = getattr(package, "ORDER", ())
    names = sorted(
        (i.name for i in pkgutil.iter_modules(package.__path__) if not i.name.startswith("_")),
        key=lambda n: (order.index(n) if n in order else len(order), n),
    )
    return [importlib.import_module(f"{package.__name__}.{name}") for name in names]


def _subclasses(cls: type[Detector]) -> list[type[Detector]]:
    out: list[type[Detector]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


@cache
def all_detectors() -> tuple[Detector, ...]:
    """One instance of every concrete detector in `ssot.detectors.plugins`, highest priority first."""
    from ssot.detectors import plugins

    prefix = plugins.__name__ + "."
    modules = {m.__name__ for m in _modules(plugins)}
    found: dict[str, type[Detector]] = {}
    for cls in _subclasses(Detector):
        # Only plugin modules count, so a subclass defined elsewhere (a test, a script) never joins.
        if not cls.__module__.startswith(prefix) or cls.__module__ not in modules:
            continue
        if cls.__dict__.get("abstract", False):
            continue
        _check_detector(cls)
        if cls.__name__ in found:
            raise TypeError(f"detector class name {cls.__name__} is defined twice ({cls.__module__})")
        found[cls.__name__] = cls
    return tuple(c() for c in sorted(found.values(), key=lambda c: (-c.priority, c.__name__)))


def _check_detector(cls: type[Detector]) -> None:
    where = f"{cls.__module__}.{cls.__name__}"
    if not cls.secret_type:
        raise TypeError(f"{where}: a detector needs a non-empty secret_type")
    if not cls.regexes:
        raise TypeError(f"{where}: a detector needs at least one compiled regex in `regexes`")
    for rx in cls.regexes:
        if not isinstance(rx, re.Pattern) or "secret" not in rx.groupindex:
            raise TypeError(f"{where}: every regex must be compiled and have a named group 'secret'")
    for word in (cls.gate, *cls.keywords):
        if word != word.lower():
            raise TypeError(f"{where}: gate and keywords are matched in lowercased text: {word!r} must be lowercase")


@cache
def all_filters() -> tuple[Filter, ...]:
    """Every `is_*` function defined in the modules of `ssot.detectors.filters`.

    Modules in `filters.ORDER` order (then by name), functions in definition order: the order in
    which `false_positive_reason` asks them, so the first that applies names the reason.
    """
    from ssot.detectors import filters

    out: dict[str, Filter] = {}
    for module in _modules(filters):
        for name, fn in vars(module).items():
            if name.startswith("is_") and inspect.isfunction(fn) and fn.__module__ == module.__name__:
                if name in out:
                    raise TypeError(f"filter {name} is defined twice ({module.__name__})")
                out[name] = fn
    return tuple(out.values())


# Filters read the line around a candidate; on a minified file that line can be megabytes long.
_LINE_CONTEXT = 2000


def _line_around(text: str, start: int, end: int) -> str:
    lo = text.rfind("\n", max(0, start - _LINE_CONTEXT), start) + 1
    if lo == 0 and start > _LINE_CONTEXT:
        lo = start - _LINE_CONTEXT
    hi = text.find("\n", end, end + _LINE_CONTEXT)
    if hi < 0:
        hi = min(len(text), end + _LINE_CONTEXT)
    return text[lo:hi]


def false_positive_reason(secret: str, line_text: str = "", path: str = "") -> str | None:
    """The name of the first filter that says this candidate is not a secret, or None.

    Meant for other scanners' results too (checkov), so it takes only what they report.
    """
    for fn in all_filters():
        if fn(secret, line_text, path):
            return fn.__name__
    return None


@dataclass(slots=True)
class _Candidate:
    detector: Detector
    start: int
    end: int
    secret: str
    reason: str | None  # the filter that rejected it, None when it stands


def _ascii_lower(text: str) -> str:
    lowered = text.lower()
    # Offsets found in the lowered text are used on the original; a few non-ASCII characters
    # lowercase to more than one code point, so then only ASCII letters are lowered.
    if len(lowered) != len(text):
        lowered = text.translate(_ASCII_LOWER)
    return lowered


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


class _Presence:
    """Which keywords occur in one haystack, each looked up once per scan."""

    __slots__ = ("_known", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._known: dict[str, bool] = {}

    def __call__(self, keyword: str) -> bool:
        known = self._known.get(keyword)
        if known is None:
            known = self._known[keyword] = keyword in self._text
        return known


def _candidates(text: str, path: str) -> list[_Candidate]:
    # Keywords are tested against the lowercased text only: one haystack, so a keyword shared by
    # several detectors (in any case) is searched for once.
    lowered = _ascii_lower(text)
    has = _Presence(lowered)
    found: list[_Candidate] = []
    seen: set[tuple[int, int]] = set()
    for det in all_detectors():
        haystack = lowered if det.case_insensitive else text
        for rx in det.active_regexes(haystack, has):
            for m in rx.finditer(haystack):
                start, end = m.span("secret")
                if start < 0 or end <= start or (start, end) in seen:
                    continue
                secret = text[start:end]
                if not det.verify_shape(secret):
                    continue
                line = _line_around(text, start, end)
                if not det.verify_context(secret, line):
                    continue
                seen.add((start, end))
                found.append(_Candidate(det, start, end, secret, false_positive_reason(secret, line, path)))
    return found


def _resolve_overlaps(cands: list[_Candidate], keep_rejected: bool = False) -> list[_Candidate]:
    # Highest priority first; a candidate a filter rejected still claims its text, so a weaker
    # detector cannot report what a stronger one has already judged.
    cands.sort(key=lambda c: (-c.detector.priority, c.start, -(c.end - c.start)))
    starts: list[int] = []
    spans: list[tuple[int, int]] = []
    kept: list[_Candidate] = []
    for c in cands:
        i = bisect.bisect_left(starts, c.start)
        if i > 0 and spans[i - 1][1] > c.start:
            continue
        if i < len(spans) and spans[i][0] < c.end:
            continue
        starts.insert(i, c.start)
        spans.insert(i, (c.start, c.end))
        if keep_rejected or c.reason is None:
            kept.append(c)
    kept.sort(key=lambda c: c.start)
    return kept


def _fingerprint(secret: str) -> str:
    try:
        return fingerprint(secret)
    except UnicodeEncodeError:  # a lone surrogate (text decoded with surrogateescape): hash its code units
        return fingerprint(secret.encode("utf-8", "surrogatepass"))


def _to_matches(text: str, cands: list[_Candidate]) -> list[SecretMatch]:
    out: list[SecretMatch] = []
    line, pos = 1, 0
    for c in cands:  # sorted by start: line numbers are counted incrementally, only up to matches
        line += text.count("\n", pos, c.start)
        pos = c.start
        column = c.start - text.rfind("\n", 0, c.start)
        out.append(
            SecretMatch(
                secret_type=c.detector.secret_type,
                detector=c.detector.name,
                line=line,
                column=column,
                fingerprint=_fingerprint(c.secret),
                redacted=redact(c.secret, c.detector.public_part(c.secret)),
            )
        )
    return out


def public_part(value: str) -> str:
    """The longest public format marker any detector recognises at the start of `value`, or ""."""
    return max((d.public_part(value) for d in all_detectors()), key=len, default="")


def scan_text(text: str, path: str = "<text>") -> list[SecretMatch]:
    """Every secret in a text, after false-positive filters, in order of appearance."""
    if not text:
        return []
    return _to_matches(text, _resolve_overlaps(_candidates(text, path)))


def explain_text(text: str, path: str = "<text>") -> list[tuple[SecretMatch, str | None]]:
    """Like scan_text, but also the candidates a filter rejected, each with that filter's name.

    For tests and for tuning filters; it holds no more about a secret than scan_text does.
    """
    if not text:
        return []
    cands = _resolve_overlaps(_candidates(text, path), keep_rejected=True)
    return list(zip(_to_matches(text, cands), (c.reason for c in cands), strict=True))


_REDACTED_LEN = re.compile(r"\((\d+) chars\)")


def _span(line: str, m: SecretMatch) -> tuple[int, int] | None:
    """Where the match sits in its line, proved by recomputing the (keyed) fingerprint, so nothing
    but the secret is ever cut out."""
    lm = _REDACTED_LEN.search(m.redacted or "")
    if not lm:
        return None
    n = int(lm.group(1))
    col = m.column or 0
    for start in (col - 1, col, col - 2):
        if 0 <= start and start + n <= len(line):
            piece = line[start:start + n]
            try:
                ok = fingerprint(piece) == m.fingerprint
            except UnicodeEncodeError:  # a lone surrogate from an undecodable input
                ok = fingerprint(piece.encode("utf-8", "surrogatepass")) == m.fingerprint
            if ok:
                return start, start + n
    return None


def replace_matches(text: str, matches: list[SecretMatch], *, mark: Callable[[SecretMatch], str],
                    line_withheld: str, all_withheld: str) -> str:
    """`text` with each match (found in it by `scan_text`) replaced by `mark(match)`. A match that
    cannot be located exactly withholds its whole line, and one on no line of the text the whole
    text, rather than risk keeping the value."""
    if not matches:
        return text
    lines = text.split("\n")
    by_line: dict[int, list[SecretMatch]] = {}
    for m in matches:
        by_line.setdefault(m.line, []).append(m)
    for lineno, ms in by_line.items():
        idx = lineno - 1
        if not 0 <= idx < len(lines):
            return all_withheld
        line = lines[idx]
        spans = [(_span(line, m), m) for m in ms]
        located = [(s, m) for s, m in spans if s is not None]
        if len(located) != len(spans):
            lines[idx] = line_withheld
            continue
        for (start, end), m in sorted(located, key=lambda p: -p[0][0]):
            line = f"{line[:start]}{mark(m)}{line[end:]}"
        lines[idx] = line
    return "\n".join(lines)


def scan_value(value: str, context: str = "") -> list[SecretMatch]:
    """Secrets in one value (a config value, a command, a resource input).

    `context` is what the value is (a key name such as "db_password", or a label such as
    "cron-command"). When it names a secret and no detector recognises a format, the whole value
    is judged as a secret assigned to that key: by the generic detector's shape check and the filters.
    """
    matches = scan_text(value, path=context or "<value>")
    if matches or not context:
        return matches
    from ssot.detectors.plugins.generic import GenericSecretAssignmentDetector, names_a_secret

    stripped = value.strip()
    if not stripped or not names_a_secret(context):
        return matches
    generic = next(d for d in all_detectors() if isinstance(d, GenericSecretAssignmentDetector))
    if not generic.verify_shape(stripped) or false_positive_reason(stripped, value, context):
        return matches
    offset = value.index(stripped)
    line = value.count("\n", 0, offset) + 1
    column = offset - value.rfind("\n", 0, offset)
    return [
        SecretMatch(
            secret_type=generic.secret_type,
            detector=generic.name,
            line=line,
            column=column,
            fingerprint=_fingerprint(stripped),
            redacted=redact(stripped),
        )
    ]
