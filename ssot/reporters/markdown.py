"""A pull-request comment: verdict, a table per severity, one collapsible section per rule.

The first line is a hidden marker (`<!-- ssot-report:<command> -->`) so a workflow can find and
update its own comment. GitHub refuses comments over 65,536 characters: the output stays under
`MAX_CHARS`, dropping whole findings (never cutting a block in half) and saying how many were left
out. Every piece of finding text is escaped for its context (HTML in <summary>, inline Markdown,
fenced code with a fence longer than any backtick run inside), so a finding cannot break the layout.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from ssot.findings import Finding
from ssot.reporters._report import (
    Report,
    audit_lines,
    group_by_rule,
    multi_line,
    one_line,
    plural,
    relative_path,
    suppression_of,
)

MAX_CHARS = 65_536
_RESERVE = 1_500  # room for the closing tags and the truncation note
_MAX_FIELD = 6_000  # one finding's explain/propose; longer text is cut with a note
_MAX_WARNINGS = 50

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]|~#!])")
_SQL = re.compile(
    r"^\s*(--|select|insert|update|delete|create|alter|grant|revoke|drop|begin|with|do|comment)\b",
    re.IGNORECASE,
)
_YAML = re.compile(r"^\s*(-\s+)?[A-Za-z_][\w.\-]*:(\s|\Z)")


def marker(command: str) -> str:
    return f"<!-- ssot-report:{command} -->"


# Text that would open a block (a list item, an ordered list) when it starts a line or a list item.
_BLOCK_START = re.compile(r"\A(?:(\d{1,9})([.)])|([-+=]))")


def inline(text: str) -> str:
    """Text safe in a Markdown paragraph, list item or table cell: no HTML, no emphasis, no links, no
    pipes, no block start, one line, control and bidi characters shown as escapes."""
    escaped = html.escape(" ".join(one_line(text).split()), quote=False)
    escaped = _INLINE_SPECIAL.sub(r"\\\1", escaped)
    return _BLOCK_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}",
                            escaped)


def code_span(text: str, *, in_table: bool = False) -> str:
    """A code span holding `text` literally. In a GFM table cell a `|` would still end the cell even
    inside a code span, so there it is escaped (GFM renders `\\|` in a cell's code span as `|`)."""
    flat = " ".join(one_line(text).split())
    if in_table:
        flat = flat.replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def fenced(text: str, lang: str = "text") -> str:
    text = multi_line(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def _cap(text: str) -> str:
    if len(text) <= _MAX_FIELD:
        return text
    return text[:_MAX_FIELD].rstrip() + f"\n... ({len(text) - _MAX_FIELD} more characters not shown)"


def _lang(snippet: str) -> str:
    first = next((line for line in snippet.splitlines() if line.strip()), "")
    if _SQL.match(first):
        return "sql"
    if _YAML.match(first):
        return "yaml"
    return "text"


def _where(f: Finding, report: Report) -> str:
    loc = f.location
    parts = []
    if loc.path:
        rel = relative_path(loc.path, report.root)
        label = f"{rel}:{loc.line}" if loc.line else rel
        url = (report.link_base or "") + quote(rel, safe="/") + (f"#L{loc.line}" if loc.line else "")
        parts.append(f"[{inline(label)}]({url})")
    if loc.urn:
        parts.append(code_span(loc.urn))
    if loc.object:
        parts.append(code_span(loc.object))
    return " / ".join(parts) or "unknown location"


def _finding_block(n: int, f: Finding, report: Report) -> str:
    status = "**blocking**" if f.blocking else "advisory"
    lines = [
        f"#### {n}. {f.severity.label.upper()} · {status} · {_where(f, report)}",
        "",
        "**EXPLAIN**",
        "",
        fenced(_cap(f.explain.strip()) or "(no explanation given)"),
        "",
    ]
    propose = f.propose.strip("\n")
    if propose.strip():
        lines += ["**PROPOSE**", "", fenced(_cap(propose), _lang(propose)), ""]
    lines += [f"<sub>key {code_span(f.key)}</sub>", "", ""]
    return "\n".join(lines)


def _rule_head(rule_id: str, group: list[Finding], report: Report) -> str:
    rule = report.rule(rule_id)
    title = rule.title if rule else group[0].title
    clause = rule.clause if rule else group[0].clause
    blocking = sum(f.blocking for f in group)
    opened = " open" if blocking else ""
    count = plural(len(group), "finding") + (f", {blocking} blocking" if blocking else "")
    summary = f"<b>{html.escape(one_line(rule_id))}</b>: {html.escape(' '.join(one_line(title).split()))} ({count})"
    return f"<details{opened}>\n<summary>{summary}</summary>\n\n_{inline(clause)}_\n\n"


_RULE_FOOT = "</details>\n\n"


def render(report: Report) -> str:
    budget = MAX_CHARS - _RESERVE
    verdict = {"pass": "PASS", "fail": "FAIL", "incomplete": "INCOMPLETE"}[report.verdict]
    head = [
        marker(report.command),
        f"## {inline(report.headline())}",
        "",
        f"**Verdict:** {verdict} (exit {report.exit_code}) · fail-on {code_span(report.fail_on.label)}"
        f" · target {code_span(report.target)} · {plural(len(report.suppressed), 'suppressed finding')}",
        "",
        "| Severity | Findings | Blocking |",
        "|---|---:|---:|",
    ]
    blocking = report.blocking_counts()
    head += [f"| {label} | {n} | {blocking[label]} |" for label, n in report.counts().items()]
    head.append("")
    if report.audit:
        head += ["**Sources:**", ""]
        head += [f"- {inline(line.strip())}" for line in audit_lines(report)]
        head.append("")
    if report.incomplete:
        head += ["**Incomplete:** these sources could not be read, so this is not a pass:", ""]
        head += [f"- {inline(s)}" for s in report.incomplete]
        head.append("")
    if report.warnings:
        head += ["**Warnings:**", ""]
        head += [f"- {inline(w[:500])}" for w in report.warnings[:_MAX_WARNINGS]]
        if len(report.warnings) > _MAX_WARNINGS:
            head.append(f"- ... and {len(report.warnings) - _MAX_WARNINGS} more")
        head.append("")
    out = "\n".join(head) + "\n"

    shown = 0
    total = len(report.findings)
    full = False
    for rule_id, group in group_by_rule(report.findings):
        section = _rule_head(rule_id, group, report)
        if len(out) + len(section) + len(_RULE_FOOT) > budget:
            break
        added = 0
        for f in group:
            block = _finding_block(added + 1, f, report)
            if len(out) + len(section) + len(block) + len(_RULE_FOOT) > budget:
                full = True
                break
            section += block
            added += 1
        if added:
            out += section + _RULE_FOOT
            shown += added
        if full:
            break

    if report.suppressed and not full and shown == total:
        lines = [f"<details>\n<summary>Suppressed ({len(report.suppressed)})</summary>\n"]
        for f in report.suppressed:
            reason = suppression_of(f).get("reason")
            why = f": {inline(str(reason))}" if reason else ""
            by = inline(f.suppressed_by or "")
            line = f"- {code_span(f.rule_id)} at {_where(f, report)} (by {by}{why})"
            if len(out) + sum(map(len, lines)) + len(line) + len(_RULE_FOOT) + 2 > budget:
                lines.append("- ... (more not shown: comment size limit)")
                break
            lines.append(line)
        out += "\n".join(lines) + "\n\n" + _RULE_FOOT

    if shown < total:
        out += (f"**Truncated:** {total - shown} of {plural(total, 'finding')} not shown (GitHub comment "
                "size limit); the full list is in the JSON/SARIF report.\n")
    return out
