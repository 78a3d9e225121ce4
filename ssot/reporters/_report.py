"""The Report every format renders, and the helpers the formats share.

Rendering rule (all formats): a reporter renders only a finding's declared fields (rule id, title,
severity, blocking, key, phase, clause, explain, propose, location, subject, suppressed_by) and the
*public* part of its metadata. Metadata keys starting with "_" are private to the tool (for example
a detector's working data) and are never rendered anywhere. Findings are value-free by contract;
this rule keeps a careless extra field from leaking through a report anyway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import ssot
from ssot.findings import Finding, Severity
from ssot.rules import Rule

COMMANDS = ("scan", "preview", "audit")

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_INCOMPLETE = 3


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Report:
    """The outcome of one `ssot scan|preview|audit` run.

    `findings` are the active ones (after suppressions and baseline); `suppressed` the ones a
    suppression, an inline ignore or the baseline silenced. Blocking is recomputed here from
    `fail_on`, so callers cannot hand in a stale threshold.

    Exit code: 3 when any source could not be read (incomplete wins over findings and over clean:
    an audit that did not see everything must never look like a pass, and "incomplete" is the
    more urgent thing to fix, since findings from a partial read are themselves partial); else 1
    when any active finding is blocking (severity >= fail_on); else 0.
    """

    command: str
    target: str
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    fail_on: Severity = Severity.HIGH
    incomplete: list[str] = field(default_factory=list)
    rules: tuple[Rule, ...] = ()
    tool_version: str = ssot.__version__
    generated_at: str = field(default_factory=_now)
    # Where SARIF points a finding that has no file (a URN or a live object): the file that
    # declares the platform, typically the stack file.
    default_artifact: str | None = None
    # Non-fatal problems to surface, e.g. stale suppressions.
    warnings: list[str] = field(default_factory=list)
    # Repository root, to make absolute file paths relative for SARIF and Markdown links.
    root: str | None = None
    # SARIF tool.driver.informationUri; the CLI can fill it from GITHUB_SERVER_URL/GITHUB_REPOSITORY.
    information_uri: str | None = None
    # Markdown links: prefix for file links, e.g. "https://github.com/o/r/blob/<sha>/".
    link_base: str | None = None
    # `ssot audit` only: {"sources": [{source, title, status, read, gaps}], "drift": {counts, coverage}}.
    audit: dict[str, Any] | None = None
    # The store's recent runs of the same scope (oldest first), when the run was stored: trend charts.
    history: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.command not in COMMANDS:
            raise ValueError(f"Report.command must be one of {', '.join(COMMANDS)}; got {self.command!r}")
        # A finding that carries suppressed_by is suppressed, whichever list it was handed in.
        moved = [f for f in self.findings if f.suppressed_by]
        self.findings = [f.with_threshold(self.fail_on) for f in self.findings if not f.suppressed_by]
        self.suppressed = [
            replace(f, blocking=False, suppressed_by=f.suppressed_by or "suppressed")
            for f in [*self.suppressed, *moved]
        ]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def exit_code(self) -> int:
        if self.incomplete:
            return EXIT_INCOMPLETE
        if self.blocking:
            return EXIT_FINDINGS
        return EXIT_CLEAN

    @property
    def verdict(self) -> str:
        return {EXIT_INCOMPLETE: "incomplete", EXIT_FINDINGS: "fail", EXIT_CLEAN: "pass"}[self.exit_code]

    def counts(self) -> dict[str, int]:
        """Active findings per severity, every severity present (highest first)."""
        out = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in self.findings:
            out[f.severity.label] += 1
        return out

    def blocking_counts(self) -> dict[str, int]:
        out = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in self.blocking:
            out[f.severity.label] += 1
        return out

    def rule(self, rule_id: str) -> Rule | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None

    def headline(self) -> str:
        n_block = len(self.blocking)
        head = f"ssot {self.command}"
        if self.incomplete:
            n = len(self.incomplete)
            text = f"{head}: incomplete, could not read {n} source{_s(n)}"
            return text + (f"; {n_block} blocking finding{_s(n_block)}" if n_block else "")
        if n_block:
            return f"{head}: {n_block} blocking finding{_s(n_block)}"
        n = len(self.findings)
        return f"{head}: passed" + (f" ({n} advisory finding{_s(n)})" if n else ", no findings")


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{_s(n)}"


def group_by_rule(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings grouped by rule, most severe rule first, then by rule id; order kept inside a group."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.rule_id, []).append(f)
    return sorted(groups.items(), key=lambda kv: (-max(f.severity for f in kv[1]), kv[0]))


def public_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The renderable part of a finding's metadata: no "_" keys (at any depth), JSON-safe values."""
    return {str(k): _json_safe(v) for k, v in metadata.items() if not str(k).startswith("_")}


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return _json_safe(value.value)
    if isinstance(value, dict):
        return public_metadata(value)
    if isinstance(value, set | frozenset):
        return sorted((_json_safe(v) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return str(value)


def finding_dict(f: Finding) -> dict[str, Any]:
    """`Finding.to_dict()` with only public metadata: the one serialized form every format uses."""
    d = f.to_dict()
    d["metadata"] = public_metadata(f.metadata)
    return d


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Drop terminal control characters (e.g. ANSI escapes smuggled in a file name), keep \\n and \\t."""
    return _CONTROL.sub("", text)


# Characters that change how text is displayed rather than what it says: C0/C1 controls (ANSI
# escapes, CR that rewinds a line, NEL), Unicode bidi overrides and isolates (which reorder what a
# reviewer sees), zero-width and invisible format characters, and the line/paragraph separators.
_UNSAFE = "\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
_UNSAFE_ONE_LINE = re.compile(f"[{_UNSAFE}]")
_UNSAFE_MULTI_LINE = re.compile(f"(?![\n\t])[{_UNSAFE}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(m: re.Match[str]) -> str:
    c = m.group(0)
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def one_line(text: str) -> str:
    """Outside text (a file name, an object name, a reason) made safe for one line of any format.

    Every control, bidi and invisible character is shown as an escape (`\\n`, `\\x1b`,
    `\\u202e`) instead of acting: a file name can neither start a line of its own (and forge a
    verdict), nor colour or clear a terminal, nor reorder what a reviewer reads.
    """
    return _UNSAFE_ONE_LINE.sub(_visible, text)


def multi_line(text: str) -> str:
    """As `one_line`, keeping line breaks and tabs: for explanations and proposals, whose layout the
    reporters then contain (indentation in text, fenced code in Markdown)."""
    return _UNSAFE_MULTI_LINE.sub(_visible, text)


_JSON_UNSAFE = _UNSAFE_MULTI_LINE  # C0 controls in strings are already escaped; \n is the indentation


def json_text(doc: Any) -> str:
    """JSON whose every outside string is encoded: `json.dumps` with ensure_ascii=False escapes only
    C0 controls, so C1 controls (a terminal reads \\x9b as an escape), bidi overrides and the line
    separators are escaped here too. They can occur only inside strings, so the result is the same
    JSON value; reading it back gives the original text."""
    out = json.dumps(doc, indent=2, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", out) + "\n"


def relative_path(path: str, root: str | None) -> str:
    """A forward-slash path relative to `root` when it lies under it; otherwise unchanged (absolute)."""
    p = path.replace("\\", "/")
    if root:
        r = root.replace("\\", "/").rstrip("/") + "/"
        if p.startswith(r):
            p = p[len(r):]
    while p.startswith("./"):
        p = p[2:]
    return p


def is_absolute(path: str) -> bool:
    return path.startswith("/") or bool(re.match(r"^[A-Za-z]:/", path))


def suppression_of(f: Finding) -> dict[str, Any]:
    """The public description of why a finding is suppressed (set by ssot.suppressions)."""
    info = f.metadata.get("suppression")
    return public_metadata(info) if isinstance(info, dict) else {}


def audit_lines(report: Report) -> list[str]:
    """The audit's sources and drift summary as plain lines (text and Markdown render them)."""
    if not report.audit:
        return []
    out = []
    for s in report.audit.get("sources") or []:
        read = ", ".join(f"{k} {v}" for k, v in (s.get("read") or {}).items())
        out.append(f"{s['source']} ({s['title']}): {s['status']}" + (f": {read}" if read else ""))
        for g in s.get("gaps") or []:
            need = f" (needs {g['permission']})" if g.get("permission") else ""
            out.append(f"    could not read {g['object']}: {g['reason']}{need}")
    d = report.audit.get("drift")
    if d:
        out.append(f"drift: {d['declared']} declared, {d['in_sync']} in sync, {d['missing']} missing, "
                   f"{d['changed']} changed, {d['unmanaged']} unmanaged; coverage "
                   + (f"{d['coverage']}%" if d.get("coverage") is not None else "n/a (nothing compared)")
                   + (f"; not compared (not read): {', '.join(d['not_compared'])}" if d.get("not_compared") else ""))
    return out
