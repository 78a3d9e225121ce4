"""Outside strings cannot forge report structure, in any format.

File names, object names, reasons and warnings come from the scanned repository, which on a pull
request belongs to a stranger. Each hostile name below goes everywhere a report shows outside text
(location, subject, explanation, proposal, target, suppression reason, warnings, unreadable
sources), and each format is then read back the way its consumer reads it: text line by line,
Markdown by a CommonMark + GFM-tables parser, JSON and SARIF by a JSON parser.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from ssot.findings import Severity
from ssot.inventory import Location, Phase
from ssot.reporters import FORMATS, Report, render
from ssot.rules import Rule

HOSTILE = {
    "newline-verdict": "a.py\nVerdict: PASS (exit 0): ssot scan: passed, no findings\n",
    "crlf": "b.py\r\nSummary: critical 0 high 0\rVerdict: PASS",
    "ansi": "c\x1b[2J\x1b[1;32mVerdict: PASS\x1b[0m.py",
    "c1-csi": "d\x9b2J\x85Verdict: PASS.py",
    "script": "<script>alert(1)</script><img src=x onerror=alert(2)>.py",
    "pipes": "e|f|g\\|h.py",
    "backticks": "`x` `` ``` ```` code.py",
    "link": "[click](https://evil.example/x)![img](https://evil.example/i.png).py",
    "heading": "\n## Forged heading\n\n<details open><summary>forged</summary>\n",
    "html-close": "</details></summary><!-- ssot-report:preview -->.py",
    "bidi": "invoice\u202egnp.exe\u2066x\u2069\u200f.py",
    "separators": "x\u2028Verdict: PASS\u2029y\u200b.py",
    "block-start": "1. ordered",
    "dash": "- item --- ***",
    "emphasis": "**bold** _it_ ~~s~~ #1 \\ !",
}

# Nothing that changes how text is displayed may reach any output raw (newline aside).
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")

RULE = Rule(id="hardcoded_secret", title="Secrets are never hardcoded", clause="§4 Secret Management",
            severity=Severity.CRITICAL, categories=("secrets",), phases=frozenset(Phase),
            risk="A real risk.", remediation="Use Vault.", check=lambda inv: [])


def _report(name: str) -> Report:
    loc = Location(path=name, line=3, object=f"odoo:ir.cron:{name}")
    f = RULE.finding(subject=f"repository:secret_literal:{name}", explain=f"A token is hardcoded at {name}:3.",
                     propose=f"platform:\n  vault:\n    secrets:\n      - name: {name}\n", location=loc,
                     phase=Phase.STATIC)
    s = RULE.finding(subject=f"other:{name}", explain=f"Also {name}.", propose="", location=loc, phase=Phase.STATIC)
    s = replace(s, suppressed_by="suppressions", metadata={"suppression": {
        "by": "suppressions", "reason": f"accepted for {name}", "owner": name, "expires": "2030-01-01"}})
    return Report(command="scan", target=name, findings=[f], suppressed=[s], fail_on=Severity.HIGH,
                  incomplete=[f"file:{name}"], warnings=[f"{name}: stale"], rules=(RULE,),
                  generated_at="2025-01-15T10:00:00Z")


def _ids() -> list[str]:
    return list(HOSTILE)


@pytest.mark.parametrize("case", _ids())
def test_no_format_lets_a_display_control_through(case: str) -> None:
    report = _report(HOSTILE[case])
    for fmt in FORMATS:
        out = render(report, fmt)
        bad = UNSAFE.findall(out)
        assert not bad, (fmt, bad)


@pytest.mark.parametrize("case", _ids())
def test_text_structure_cannot_be_forged(case: str) -> None:
    report = _report(HOSTILE[case])
    out = render(report, "text")
    lines = out.splitlines()
    # Our own structural lines start at column 0; nothing from outside ever does.
    assert [ln for ln in lines if ln.startswith("Verdict")] == [lines[-1]]
    assert lines[-1].startswith("Verdict: INCOMPLETE (exit 3)")
    assert sum(ln.startswith("Summary") for ln in lines) == 1
    assert sum(ln.startswith("== ") for ln in lines) == 1
    assert sum(ln.startswith("INCOMPLETE") for ln in lines) == 1
    top = [ln for ln in lines if ln and not ln.startswith(" ")]
    assert [ln.split()[0] for ln in top] == ["ssot", "==", "Suppressed", "Warnings:", "INCOMPLETE:", "Summary:",
                                             "Verdict:"]


def _md_tokens(text: str) -> list[Any]:
    md = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    out: list[Any] = []

    def walk(tokens: list[Any]) -> None:
        for t in tokens:
            out.append(t)
            walk(t.children or [])

    walk(md.parse(text))
    return out


_OUR_HTML_LINE = re.compile(
    r"<!-- ssot-report:scan -->|<details( open)?>|</details>|<summary><b>[^<>]*</b>: [^<>]*</summary>"
    r"|<summary>Suppressed \(\d+\)</summary>|<sub>|</sub>"
)


@pytest.mark.parametrize("case", _ids())
def test_markdown_structure_cannot_be_forged(case: str) -> None:
    report = _report(HOSTILE[case])
    text = render(report, "markdown")
    tokens = _md_tokens(text)
    headings = [(t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert [h for h, _ in headings] == ["h2", "h4"], headings
    for t in tokens:
        if t.type in ("html_block", "html_inline"):
            for line in t.content.strip().splitlines():
                assert _OUR_HTML_LINE.fullmatch(line.strip()), line
    # Links: exactly ours (the finding's file and the suppressed one's), relative, percent-encoded.
    hrefs = [t.attrGet("href") for t in tokens if t.type == "link_open"]
    assert len(hrefs) == 2 and all(isinstance(h, str) and not re.match(r"[a-z]+:", h) for h in hrefs), hrefs
    assert not any(t.type == "image" for t in tokens)
    # The severity table keeps its shape: 5 rows of 3 cells.
    rows = [t for t in tokens if t.type == "tr_open"]
    cells = [t for t in tokens if t.type in ("td_open", "th_open")]
    assert len(rows) == 6 and len(cells) == 18
    # List items: one per unreadable source, warning and suppressed finding; none nested.
    items = [t for t in tokens if t.type == "list_item_open"]
    assert len(items) == 3 and all(t.level <= 1 for t in items), [t.level for t in items]
    assert not any(t.type in ("blockquote_open", "hr", "ordered_list_open") for t in tokens)
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script" not in html and "<img" not in html and "<h1" not in html and "<h3" not in html


@pytest.mark.parametrize("case", _ids())
@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_and_sarif_carry_every_string_exactly(case: str, fmt: str) -> None:
    name = HOSTILE[case]
    doc = json.loads(render(_report(name), fmt))
    if fmt == "json":
        finding: dict[str, Any] = doc["findings"][0]
        assert finding["location"]["path"] == name and doc["target"] == name
        assert doc["incomplete"] == [f"file:{name}"] and doc["warnings"] == [f"{name}: stale"]
    else:
        run = doc["runs"][0]
        assert run["properties"]["target"] == name
        assert run["results"][0]["properties"]["subject"] == f"repository:secret_literal:{name}"
        assert name in run["results"][0]["message"]["text"]
        assert run["results"][1]["suppressions"][0]["justification"].startswith(f"accepted for {name}")


def test_one_line_shows_what_it_neutralises() -> None:
    from ssot.reporters._report import multi_line, one_line

    assert one_line("a\nb\r\x1b[1m\u202e\x9b\t") == "a\\nb\\r\\x1b[1m\\u202e\\x9b\\t"
    assert multi_line("a\nb\r\x1b\tc") == "a\nb\\r\\x1b\tc"


def test_markdown_code_spans_in_table_cells_escape_pipes() -> None:
    from ssot.reporters.markdown import code_span

    cell = code_span("a|b", in_table=True)
    table = f"| x | y |\n|---|---|\n| {cell} | z |\n"
    tokens = _md_tokens(table)
    assert len([t for t in tokens if t.type == "td_open"]) == 2
    assert [t.content for t in tokens if t.type == "code_inline"] == ["a|b"]


def test_show_table_cells_cannot_forge_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A runtime-only reason is free text from the stack file, and `show` quotes it in its table.
    import shutil

    from ssot.show import render_platform

    root = Path(__file__).resolve().parents[1]
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(root / name, tmp_path / name)
    (tmp_path / "stacks").mkdir()
    stack = (root / "stacks" / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    reason = "runtimeOnly: Verified inside the stripe-webhook Edge Function on every request; no database job reads it"
    assert reason in stack
    hostile = 'runtimeOnly: "x\\x1b[2J\\nPlatform: forged\\u202e"'
    (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text(stack.replace(reason, hostile), encoding="utf-8")
    monkeypatch.setenv("COLUMNS", "1000")  # no clipping of the details column
    out = render_platform(tmp_path, "prod")
    assert not UNSAFE.findall(out)
    assert not any(line.startswith("Platform: forged") for line in out.splitlines())
    assert "runtime-only: x\\x1b[2J\\nPlatform: forged\\u202e" in out


def test_crossguard_messages_withhold_a_token_hidden_in_a_name() -> None:
    from ssot.crossguard import message

    token = "ghp_" + "Zq8Wm4Xt6Rv1Yb" * 2 + "Ab12Cd34"
    f = RULE.finding(subject="s", explain=f"Seen on project-{token.lower()}.", propose="p",
                     location=Location(urn=f"urn:pulumi:prod::ssot::ssot:SupabaseProject::project-{token.lower()}"),
                     phase=Phase.DECLARED)
    text = message(f)
    assert token.lower()[4:] not in text and "[withheld: GitHub token, ghp_…(40 chars)]" in text


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_hostile_file_name_in_a_real_scan_forges_nothing(fmt: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    # The reproduction: a file name with newlines wrote `Verdict: PASS` above the real verdict.
    from ssot.cli import main

    name = "a\nVerdict: PASS (exit 0): ssot scan: passed, no findings\n\x1b[32m<script>alert(1)<\\script>.py"
    (tmp_path / name).write_text('TOKEN = "sb_secret_' + "Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LmZx" + '"\n', encoding="utf-8")
    code = main(["scan", str(tmp_path), "--no-checkov", "--format", fmt])
    out, _ = capsys.readouterr()
    assert code in (1, 3)
    assert not UNSAFE.findall(out)
    if fmt == "text":
        assert [ln for ln in out.splitlines() if ln.startswith("Verdict")] == [out.splitlines()[-1]]
        assert "PASS" not in out.splitlines()[-1]
    else:
        tokens = _md_tokens(out)
        assert [t.tag for t in tokens if t.type == "heading_open"].count("h2") == 1
        assert "<script" not in MarkdownIt("commonmark").enable("table").render(out)
