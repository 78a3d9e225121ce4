"""A self-contained HTML report: one file, offline, for a person to look at.

Verdict and counts first, then charts where looking beats reading (findings by severity and by rule,
drift by kind, the trend over the stored runs of the same scope), then every finding as the
doctrine's STOP / EXPLAIN / PROPOSE, filterable by severity, rule and text.

Everything is inline (CSS, one script, SVG): the page fetches nothing, and its Content-Security-Policy
says so (`default-src 'none'`). The script is allowed by its SHA-256 hash, not by 'unsafe-inline', so
even a string that escaped escaping could not run as script. Every outside string (file names,
subjects, explanations, rule metadata) goes through `html.escape` with quotes, after terminal control
characters are dropped.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable
from typing import Any

from ssot.findings import Finding, Severity
from ssot.reporters._report import (
    Report,
    clean,
    group_by_rule,
    multi_line,
    plural,
    public_metadata,
    relative_path,
    suppression_of,
)

_MAX_FIELD = 20_000  # one finding's explain/propose; longer text is cut with a note
# Findings drawn in full; past this the page says how many more there are (the counts and charts
# still cover all of them, and JSON/SARIF carry every one). Keeps the file a size a browser opens.
MAX_FINDINGS = 2_000
_SEVERITIES = sorted(Severity, reverse=True)
_COLORS = {"critical": "#7b1fa2", "high": "#c62828", "medium": "#ef6c00", "low": "#0277bd", "info": "#607d8b"}
_VERDICT_COLORS = {"pass": "#2e7d32", "fail": "#c62828", "incomplete": "#b26a00"}
# Metadata keys a drift finding may use for its kind (missing / changed / unmanaged; the drift rule
# uses "drift", its "kind" being the asset's): the grouping follows the data, so a new kind needs no
# change here.
DRIFT_KIND_KEYS = ("drift", "drift_kind")

_CSS = """
:root{--fg:#1d2327;--muted:#5f6b73;--line:#d8dee4;--bg:#fff;--panel:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:20px 28px;border-bottom:1px solid var(--line);background:var(--panel)}
main{padding:8px 28px 40px;max-width:1200px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}h3{font-size:15px;margin:0}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600;margin-right:8px}
.meta{color:var(--muted);font-size:12px}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:92px;background:#fff}
.card b{display:block;font-size:22px}
.charts{display:flex;gap:24px;flex-wrap:wrap}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:10px 12px;background:#fff}
figcaption{font-weight:600;margin-bottom:6px}
svg text{font:12px system-ui,sans-serif;fill:#1d2327}
.filters{display:flex;gap:14px;flex-wrap:wrap;align-items:center;padding:10px 12px;background:var(--panel);
border:1px solid var(--line);border-radius:6px;position:sticky;top:0}
.filters input[type=search]{padding:4px 8px;min-width:240px}
article.finding{border:1px solid var(--line);border-left:6px solid var(--sev);border-radius:6px;padding:10px 14px;
margin:10px 0;background:#fff}
article.finding[hidden]{display:none}
.sev{display:inline-block;padding:0 8px;border-radius:10px;color:#fff;background:var(--sev);font-size:12px;
font-weight:600;text-transform:uppercase}
dl{display:grid;grid-template-columns:90px 1fr;gap:4px 12px;margin:8px 0 0}
dt{font-weight:700;color:var(--muted)}dd{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
pre{margin:0;padding:8px;background:var(--panel);border-radius:4px;overflow:auto;white-space:pre-wrap;
overflow-wrap:anywhere}
code{overflow-wrap:anywhere}
table{border-collapse:collapse}td,th{border:1px solid var(--line);padding:3px 8px;text-align:left}
.empty{color:var(--muted)}
"""

_SCRIPT = """
(function () {
  var q = document.getElementById('q');
  var rule = document.getElementById('rule');
  var sevs = Array.prototype.slice.call(document.querySelectorAll('input[name=sev]'));
  var items = Array.prototype.slice.call(document.querySelectorAll('article.finding'));
  var shown = document.getElementById('shown');
  function apply() {
    var text = q.value.toLowerCase();
    var want = {};
    sevs.forEach(function (c) { if (c.checked) { want[c.value] = true; } });
    var n = 0;
    items.forEach(function (a) {
      var ok = want[a.getAttribute('data-severity')] === true &&
        (rule.value === '' || a.getAttribute('data-rule') === rule.value) &&
        (text === '' || a.textContent.toLowerCase().indexOf(text) !== -1);
      a.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = String(n);
  }
  q.addEventListener('input', apply);
  rule.addEventListener('change', apply);
  sevs.forEach(function (c) { c.addEventListener('change', apply); });
  apply();
})();
"""


def _script_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


CSP = ("default-src 'none'; style-src 'unsafe-inline'; "
       f"script-src '{_script_hash(_SCRIPT)}'; img-src data:; base-uri 'none'; form-action 'none'")


def _e(value: object) -> str:
    # multi_line shows bidi, zero-width and control characters as escapes, as every format does.
    return html.escape(multi_line(str(value)), quote=True)


def _cap(text: str) -> str:
    if len(text) <= _MAX_FIELD:
        return text
    return text[:_MAX_FIELD].rstrip() + f"\n... ({len(text) - _MAX_FIELD} more characters not shown)"


def drift_kind(f: Finding) -> str | None:
    if f.rule_id != "drift":
        return None
    meta = public_metadata(f.metadata)
    for key in DRIFT_KIND_KEYS:
        value = meta.get(key)
        if isinstance(value, str) and value:
            return value
    return "unspecified"


def bar_chart(title: str, rows: Iterable[tuple[str, int, str]], *, chart_id: str) -> str:
    """Horizontal bars: (label, value, colour). Labels are escaped; widths come from numbers only."""
    items = list(rows)
    if not items:
        return ""
    label_w, bar_w, row_h = 170, 300, 22
    top = max(v for _, v, _ in items) or 1
    height = row_h * len(items) + 6
    parts = [f'<figure id="{chart_id}"><figcaption>{_e(title)}</figcaption>'
             f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 50}" height="{height}" '
             f'role="img" aria-label="{_e(title)}">']
    for i, (label, value, color) in enumerate(items):
        y = i * row_h + 3
        w = round(bar_w * value / top) if value else 0
        short = label if len(label) <= 22 else label[:21] + "\u2026"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end"><title>{_e(label)}</title>'
                     f'{_e(short)}</text>'
                     f'<rect x="{label_w}" y="{y + 2}" width="{w}" height="{row_h - 6}" fill="{color}" rx="2"/>'
                     f'<text x="{label_w + w + 6}" y="{y + 14}">{int(value)}</text>')
    parts.append("</svg></figure>")
    return "".join(parts)


def trend_chart(history: list[dict[str, Any]]) -> str:
    """Findings per severity over the stored runs (oldest left); incomplete runs marked."""
    if not history:
        return ""
    w, h, pad_l, pad_b, pad_t = 560, 200, 36, 28, 10
    n = len(history)
    top = max([sum(int(r.get(s.label, 0) or 0) for s in _SEVERITIES) for r in history] + [1])
    step = (w - pad_l - 10) / max(n - 1, 1)

    def xy(i: int, v: int) -> tuple[float, float]:
        return pad_l + i * step, pad_t + (h - pad_t - pad_b) * (1 - v / top)

    parts = ['<figure id="trend"><figcaption>Trend over the last '
             f'{plural(n, "stored run")}</figcaption>'
             f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             'aria-label="findings per run">',
             f'<line x1="{pad_l}" y1="{h - pad_b}" x2="{w - 4}" y2="{h - pad_b}" stroke="#999"/>',
             f'<text x="4" y="{pad_t + 8}">{top}</text><text x="4" y="{h - pad_b}">0</text>']
    # Stacked: each line is the running total down to that severity, so areas read as shares.
    running = [0] * n
    for sev in reversed(_SEVERITIES):
        for i, r in enumerate(history):
            running[i] += int(r.get(sev.label, 0) or 0)
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, running[i]) for i in range(n)))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{_COLORS[sev.label]}" stroke-width="2">'
                     f'<title>{sev.label} and below</title></polyline>')
    for i, r in enumerate(history):
        x, y = xy(i, running[i])
        fill = "#fff" if r.get("complete") else _VERDICT_COLORS["incomplete"]
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{fill}" stroke="#333">'
                     f'<title>{_e(r.get("started_at", ""))}: {running[i]} findings, {_e(r.get("verdict", ""))}'
                     '</title></circle>')
    first, last = history[0].get("started_at", ""), history[-1].get("started_at", "")
    parts.append(f'<text x="{pad_l}" y="{h - 8}">{_e(str(first)[:10])}</text>'
                 f'<text x="{w - 4}" y="{h - 8}" text-anchor="end">{_e(str(last)[:10])}</text>')
    parts.append("</svg>")
    legend = " ".join(f'<span style="color:{_COLORS[s.label]}">\u25a0</span> {s.label}' for s in _SEVERITIES)
    parts.append(f'<div class="meta">{legend}; filled dot: incomplete run</div></figure>')
    return "".join(parts)


def _trend_table(history: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{s.label}</th>" for s in _SEVERITIES)
    rows = "".join(
        f"<tr><td>{_e(r.get('started_at', ''))}</td><td>{_e(r.get('verdict', ''))}</td>"
        + "".join(f"<td>{int(r.get(s.label, 0) or 0)}</td>" for s in _SEVERITIES) + "</tr>"
        for r in history)
    return (f"<details><summary>The runs as a table</summary><table><tr><th>started</th><th>verdict</th>{head}"
            f"</tr>{rows}</table></details>")


def _where(f: Finding, report: Report) -> str:
    loc = f.location
    parts = []
    if loc.path:
        path = relative_path(loc.path, report.root)
        parts.append(f"<code>{_e(path)}{':' + str(int(loc.line)) if loc.line else ''}</code>")
    if loc.urn:
        parts.append(f"<code>{_e(loc.urn)}</code>")
    if loc.object:
        parts.append(f"<code>{_e(loc.object)}</code>")
    return " · ".join(parts) or '<span class="empty">no location</span>'


def _finding(f: Finding, report: Report) -> str:
    sev = f.severity.label
    stop = f"{sev.upper()}, {'BLOCKING' if f.blocking else 'advisory'}"
    kind = drift_kind(f)
    drift = f" · drift: {_e(kind)}" if kind else ""
    propose = _cap(clean(f.propose)).strip("\n")
    propose_html = f"<pre>{_e(propose)}</pre>" if propose.strip() else '<span class="empty">(none given)</span>'
    return (
        f'<article class="finding" style="--sev:{_COLORS[sev]}" data-severity="{sev}" data-rule="{_e(f.rule_id)}">'
        f'<h3><span class="sev">{sev}</span> {_e(f.title)}</h3>'
        f'<div class="meta">{_e(f.rule_id)} · {_e(f.clause)} · {_e(f.phase.value)}{drift} · key <code>{_e(f.key)}'
        "</code></div>"
        f"<dl><dt>STOP</dt><dd>{_e(stop)}</dd>"
        f"<dt>EXPLAIN</dt><dd>{_e(_cap(f.explain).strip())}<br>at {_where(f, report)}</dd>"
        f"<dt>PROPOSE</dt><dd>{propose_html}</dd></dl></article>"
    )


def _suppressed(f: Finding) -> str:
    info = suppression_of(f)
    bits = [f"{_e(k)}: {_e(info[k])}" for k in ("reason", "owner", "expires") if info.get(k)]
    return (f"<li><code>{_e(f.key)}</code> {_e(f.title)} ({_e(f.suppressed_by or 'suppressed')}"
            f"{'; ' + '; '.join(bits) if bits else ''})</li>")


def _audit_section(report: Report) -> str:
    """`ssot audit` only: what each live source read, and the drift summary (driftctl's coverage)."""
    info = getattr(report, "audit", None)
    if not isinstance(info, dict):
        return ""
    out = []
    sources = [s for s in info.get("sources", []) if isinstance(s, dict)]
    if sources:
        def gaps(s: dict[str, Any]) -> str:
            return "; ".join(f"{g.get('object')}: {g.get('reason')}" for g in s.get("gaps") or []) or "-"

        rows = "".join(
            f"<tr><td>{_e(s.get('title') or s.get('source'))}</td><td>{_e(s.get('status'))}</td>"
            f"<td>{_e(', '.join(f'{k}: {v}' for k, v in (s.get('read') or {}).items()) or '-')}</td>"
            f"<td>{_e(gaps(s))}</td></tr>" for s in sources)
        out.append('<h2>Live sources</h2><table id="sources"><tr><th>source</th><th>status</th><th>read</th>'
                   f"<th>not read</th></tr>{rows}</table>")
    drift = info.get("drift")
    if isinstance(drift, dict):
        keys = ("declared", "in_sync", "missing", "changed", "unmanaged", "coverage")
        cells = "".join(f"<td>{_e(drift.get(k, '-'))}{'%' if k == 'coverage' else ''}</td>" for k in keys)
        out.append("<h2>Drift summary</h2><table id=\"drift-summary\"><tr>"
                   + "".join(f"<th>{k.replace('_', ' ')}</th>" for k in keys) + f"</tr><tr>{cells}</tr></table>")
        if drift.get("not_compared"):
            out.append(f"<p>Not compared (no live source read them): {_e(', '.join(map(str, drift['not_compared'])))}"
                       "</p>")
    return "".join(out)


def render(report: Report) -> str:
    counts = report.counts()
    verdict = report.verdict
    groups = group_by_rule(report.findings)
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(report.headline())}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header>",
        f'<h1><span class="verdict" style="background:{_VERDICT_COLORS[verdict]}">{_e(verdict)}</span>'
        f"{_e(report.headline())}</h1>",
        f'<div class="meta">target {_e(report.target)} · generated {_e(report.generated_at)} · ssot '
        f"{_e(report.tool_version)} · fails on {_e(report.fail_on.label)} and above</div>",
        "</header><main>",
    ]
    if report.incomplete:
        items = "".join(f"<li>{_e(i)}</li>" for i in report.incomplete)
        out.append(f'<h2 id="incomplete">Incomplete: {plural(len(report.incomplete), "source")} not read</h2>'
                   f"<p>Not knowing is not passing: the run could not read these.</p><ul>{items}</ul>")
    out.append('<div class="cards">' + "".join(
        f'<div class="card" style="border-top:4px solid {_COLORS[s]}">{s}<b>{n}</b></div>' for s, n in counts.items())
        + f'<div class="card">blocking<b>{len(report.blocking)}</b></div>'
        f'<div class="card">suppressed<b>{len(report.suppressed)}</b></div></div>')

    charts = [bar_chart("Findings by severity", [(s, n, _COLORS[s]) for s, n in counts.items()],
                        chart_id="by-severity")]
    if groups:
        charts.append(bar_chart("Findings by rule", [(rule, len(fs), _COLORS[max(f.severity for f in fs).label])
                                                     for rule, fs in groups], chart_id="by-rule"))
    kinds: dict[str, int] = {}
    assets: dict[str, int] = {}
    for f in report.findings:
        kind = drift_kind(f)
        if kind:
            kinds[kind] = kinds.get(kind, 0) + 1
            asset = public_metadata(f.metadata).get("kind")
            if isinstance(asset, str) and asset:
                assets[asset] = assets.get(asset, 0) + 1
    if kinds:
        charts.append(bar_chart("Drift by kind", [(k, n, "#455a64") for k, n in sorted(kinds.items())],
                                chart_id="drift"))
    if assets:
        charts.append(bar_chart("Drift by object", [(k, n, "#78909c") for k, n in sorted(assets.items())],
                                chart_id="drift-objects"))
    out.append('<h2>Overview</h2><div class="charts">' + "".join(charts) + "</div>")
    if report.command == "audit" and not kinds:
        text = ("No drift found in what was read; the audit is incomplete, so this is not a pass."
                if report.incomplete else "No drift: the live platform matches the declaration.")
        out.append(f'<p class="empty" id="drift">{text}</p>')
    out.append(_audit_section(report))
    if report.history:
        out.append("<h2>Trend</h2>" + trend_chart(report.history) + _trend_table(report.history))

    out.append(f'<h2>Findings ({len(report.findings)})</h2>')
    sev_boxes = "".join(f'<label><input type="checkbox" name="sev" value="{s.label}" checked> {s.label}</label>'
                        for s in _SEVERITIES)
    rule_opts = "".join(f'<option value="{_e(rule)}">{_e(rule)} ({len(fs)})</option>' for rule, fs in groups)
    out.append('<div class="filters" role="search">'
               f"{sev_boxes}"
               f'<label>rule <select id="rule"><option value="">all rules</option>{rule_opts}</select></label>'
               '<input type="search" id="q" placeholder="filter by text" aria-label="filter by text">'
               f'<span class="meta"><span id="shown">{len(report.findings)}</span> shown</span></div>')
    if not report.findings:
        out.append('<p class="empty">No active findings.</p>')
    budget = MAX_FINDINGS
    for rule_id, fs in groups:
        rule = report.rule(rule_id)
        about = f" — {_e(rule.title)}" if rule is not None else ""
        out.append(f'<section data-rule="{_e(rule_id)}"><h2>{_e(rule_id)}{about} ({len(fs)})</h2>')
        out.extend(_finding(f, report) for f in fs[:max(budget, 0)])
        if len(fs) > budget:
            out.append(f'<p class="empty">{plural(len(fs) - max(budget, 0), "more finding")} of this rule not drawn '
                       f"here (the page draws at most {MAX_FINDINGS:,}); JSON and SARIF list every one.</p>")
        budget -= len(fs)
        out.append("</section>")
    if report.suppressed:
        out.append(f"<details><summary>{plural(len(report.suppressed), 'suppressed finding')}</summary><ul>"
                   + "".join(_suppressed(f) for f in report.suppressed) + "</ul></details>")
    if report.warnings:
        out.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{_e(w)}</li>" for w in report.warnings) + "</ul>")
    out.append(f"</main><script>{_SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"
