"""Terminal report: findings grouped by rule, each as STOP / EXPLAIN / PROPOSE, then a verdict.

Colour is opt-in (`color=True`, which the CLI sets only for a TTY): a report written to a file or
a CI log must stay plain text. Outside text (file and object names, reasons, warnings) is shown
with its control and bidi characters escaped, and multi-line text is indented under its label, so
no finding can start a line of its own: the `Verdict:` line at the end is the only one there is.
"""

from __future__ import annotations

import textwrap

from ssot.findings import Finding, Severity
from ssot.reporters._report import Report, audit_lines, group_by_rule, multi_line, one_line, plural, suppression_of

_RESET = "\x1b[0m"
_SEV_COLOR = {
    Severity.CRITICAL: "\x1b[1;35m",
    Severity.HIGH: "\x1b[1;31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_VERDICT_COLOR = {"pass": "\x1b[1;32m", "fail": "\x1b[1;31m", "incomplete": "\x1b[1;33m"}
_BOLD = "\x1b[1m"
_LABEL = 9  # width of the "EXPLAIN  " column


class _Paint:
    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.on else text


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line.strip() else line.rstrip() for line in text.splitlines())


def _finding(f: Finding, paint: _Paint) -> list[str]:
    pad = " " * (2 + _LABEL)
    stop = f.severity.label.upper() + ", " + ("BLOCKING" if f.blocking else "advisory")
    stop_colored = paint(_SEV_COLOR[f.severity], stop)
    explain = _indent(multi_line(f.explain).strip(), pad).lstrip() or "(no explanation given)"
    lines = [
        f"  {'STOP':<{_LABEL}}{stop_colored}",
        f"  {'EXPLAIN':<{_LABEL}}{explain}",
        f"{pad}at {one_line(f.location.describe())}",
    ]
    propose = _indent(textwrap.dedent(multi_line(f.propose)).strip("\n"), " " * (2 + _LABEL + 2))
    if propose.strip():
        lines += [f"  {'PROPOSE':<{_LABEL}}".rstrip(), propose]
    else:
        lines.append(f"  {'PROPOSE':<{_LABEL}}(none given)")
    lines.append(f"  {'key':<{_LABEL}}{one_line(f.key)}")
    return lines


def render(report: Report, *, color: bool = False) -> str:
    paint = _Paint(color)
    out: list[str] = [
        paint(_BOLD, f"ssot {report.command}")
        + f" | target: {one_line(report.target)} | fail-on: {report.fail_on.label} | {report.generated_at}",
        "",
    ]
    for rule_id, group in group_by_rule(report.findings):
        rule = report.rule(rule_id)
        first = group[0]
        title = rule.title if rule else first.title
        clause = rule.clause if rule else first.clause
        out.append(paint(_BOLD, f"== {one_line(rule_id)}: {one_line(title)}") + f" ({plural(len(group), 'finding')})")
        out.append(f"   {one_line(clause)}")
        for f in group:
            out.append("")
            out.extend(_finding(f, paint))
        out.append("")
    if report.suppressed:
        out.append(paint(_BOLD, f"Suppressed ({len(report.suppressed)}):"))
        for f in report.suppressed:
            reason = suppression_of(f).get("reason")
            why = f": {one_line(str(reason))}" if reason else ""
            out.append(f"  - {one_line(f.rule_id)} at {one_line(f.location.describe())} "
                       f"(by {one_line(f.suppressed_by or '')}{why})")
        out.append("")
    if report.warnings:
        out.append(paint(_BOLD, "Warnings:"))
        out.extend(f"  - {one_line(w)}" for w in report.warnings)
        out.append("")
    if report.audit:
        out.append(paint(_BOLD, "Sources:"))
        out.extend(f"  {one_line(line)}" for line in audit_lines(report))
        out.append("")
    if report.incomplete:
        note = "INCOMPLETE: could not read these sources; this is not a pass:"
        out.append(paint(_VERDICT_COLOR["incomplete"], note))
        out.extend(f"  - {one_line(s)}" for s in report.incomplete)
        out.append("")
    counts = " ".join(f"{label} {n}" for label, n in report.counts().items())
    out.append(
        f"Summary: {counts} | {len(report.blocking)} blocking at or above {report.fail_on.label}"
        f" | {len(report.suppressed)} suppressed"
    )
    verdict = f"Verdict: {report.verdict.upper()} (exit {report.exit_code}): {report.headline()}"
    out.append(paint(_VERDICT_COLOR[report.verdict], verdict))
    return "\n".join(out) + "\n"
