"""Suppressions file, inline ignores and baseline, on real files in a temporary repository."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from ssot import suppressions as sup
from ssot.errors import ConfigError
from ssot.findings import Finding, Severity
from ssot.inventory import Location, Phase
from ssot.reporters import FORMATS, Report, render
from ssot.rules import Rule

TODAY = date(2025, 3, 1)
CANARY = "CANARY-ghp-7e1d0b9c"


def _rule(rule_id: str, severity: Severity) -> Rule:
    return Rule(id=rule_id, title=f"{rule_id} title text", clause="§4 Secret Management: test clause",
                severity=severity, categories=("secrets",), phases=frozenset(Phase),
                risk="A real risk sentence.", remediation="A real remediation sentence.", check=lambda i: [])


SECRET = _rule("no_hardcoded_secrets", Severity.CRITICAL)
CRON = _rule("no_odoo_cron", Severity.HIGH)


def lit(path: str, line: int, subject: str | None = None) -> Finding:
    return SECRET.finding(subject=subject or f"repository:secret_literal:{path}:{line}", explain="A literal.",
                          propose="Use Vault.", location=Location(path=path, line=line), phase=Phase.STATIC)


def cron(name: str, path: str | None = None) -> Finding:
    return CRON.finding(subject=f"odoo:odoo_cron:{name}", explain="An Odoo cron.", propose="Use pg_cron.",
                        location=Location(path=path, line=3 if path else None, object=f"ir.cron:{name}"),
                        phase=Phase.LIVE)


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def no_files(path: str) -> Sequence[str] | None:
    return None


# ---------------------------------------------------------------------------------------------
# The suppressions file


def test_valid_suppressions_by_key_rule_path_and_subject(tmp_path: Path) -> None:
    a, b, c, d = lit("app/a.py", 1), lit("addons/legacy_x/models/m.py", 9), cron("sync_invoices"), cron("other")
    write(tmp_path, "supp.yaml", f"""
suppressions:
  - key: {a.key}
    reason: test fixture, not a credential
    owner: platform-team
    expires: 2025-06-30
  - rule: no_hardcoded_secrets
    path: "addons/legacy_*/**"
    reason: legacy addon, removal tracked in PLAT-42
    owner: erp-team
    expires: "2025-03-01"
  - rule: no_odoo_cron
    subject: "odoo:odoo_cron:sync_*"
    reason: migration to pg_cron in progress
    owner: erp-team
    expires: 2026-01-01
""")
    active, suppressed, warnings = sup.apply([a, b, c, d], suppressions_file=tmp_path / "supp.yaml",
                                             root=tmp_path, today=TODAY, read_lines=no_files)
    assert [f.key for f in active] == [d.key]
    assert [f.key for f in suppressed] == [a.key, b.key, c.key]
    assert warnings == []
    first = suppressed[0]
    assert first.suppressed_by == "suppressions" and not first.blocking
    assert first.metadata["suppression"] == {
        "by": "suppressions", "reason": "test fixture, not a credential", "owner": "platform-team",
        "expires": "2025-06-30", "file": str(tmp_path / "supp.yaml"), "entry": 0, "line": 3}
    # `expires` is the last day that still applies: 2025-03-01 is today.
    assert suppressed[1].metadata["suppression"]["expires"] == "2025-03-01"


def test_path_glob_semantics() -> None:
    entry = sup.Suppression(file="f", index=0, line=1, reason="r", owner="o", expires=TODAY,
                            rule="no_hardcoded_secrets", path="src/*.py")
    assert entry.matches(lit("src/a.py", 1))
    assert entry.matches(lit("./src/a.py", 1))
    assert not entry.matches(lit("src/deep/a.py", 1))  # '*' stays inside one directory
    deep = sup.Suppression(file="f", index=0, line=1, reason="r", owner="o", expires=TODAY,
                           rule="no_hardcoded_secrets", path="src/**/*.py")
    assert deep.matches(lit("src/a.py", 1)) and deep.matches(lit("src/x/y/a.py", 1))
    assert not deep.matches(lit("other/src/a.py", 1))
    assert not deep.matches(cron("x", path="src/a.py"))  # another rule
    assert not deep.matches(cron("x"))


ENTRY = "  - key: no_hardcoded_secrets:0123456789abcdef\n"


def test_each_finding_is_compared_only_with_entries_that_can_match_it(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Entries by key or by another rule cannot match: comparing every finding with every entry is
    # quadratic in a long suppressions file.
    findings = [cron(f"c{i}") for i in range(40)] + [lit("a.py", 1)]
    body = "suppressions:\n" + "".join(
        f"- key: {f.key}\n  reason: r\n  owner: o\n  expires: 2030-01-01\n" for f in findings[:20]) + (
        "- rule: no_hardcoded_secrets\n  path: a.py\n  reason: r\n  owner: o\n  expires: 2030-01-01\n"
        "- rule: no_odoo_cron\n  subject: 'odoo:odoo_cron:c3*'\n  reason: r\n  owner: o\n  expires: 2030-01-01\n")
    write(tmp_path, "s.yaml", body)
    compared: list[int] = []
    real = sup.Suppression.matches

    def counting(self: sup.Suppression, f: Finding, root: Path | None = None) -> bool:
        compared.append(self.index)
        return real(self, f, root)

    monkeypatch.setattr(sup.Suppression, "matches", counting)
    active, suppressed, warnings = sup.apply(findings, suppressions_file=tmp_path / "s.yaml", root=tmp_path,
                                             today=TODAY, read_lines=no_files)
    assert len(suppressed) == 20 + 10 + 1 and len(active) == 10 and warnings == []
    assert len(compared) == 20 + 40 + 1


@pytest.mark.parametrize(("body", "expected"), [
    (ENTRY + "    owner: me\n    expires: 2025-06-30\n",
     "supp.yaml:3: suppressions[0].reason: a reason saying why this finding is acceptable (required, "
     "key no_hardcoded_secrets:0123456789abcdef)"),
    (ENTRY + "    reason: why\n    expires: 2025-06-30\n",
     "supp.yaml:3: suppressions[0].owner: an owner (team or person) answerable for it (required"),
    (ENTRY + "    reason: why\n    owner: me\n",
     "supp.yaml:3: suppressions[0].expires: an expiry date YYYY-MM-DD, the last day it applies (required, "
     "key no_hardcoded_secrets:0123456789abcdef; missing)"),
    (ENTRY + "    reason: why\n    owner: me\n    expires: next week\n",
     "supp.yaml:6: suppressions[0].expires: an expiry date YYYY-MM-DD, the last day it applies (required, "
     "key no_hardcoded_secrets:0123456789abcdef; got a string of 9 characters: lowercase letters, spaces)"),
    (ENTRY + "    reason: why\n    owner: me\n    expires: 2025-02-30\n",
     "supp.yaml:6: suppressions[0].expires: a valid value (day is out of range for month)"),
    (ENTRY + "    reason: why\n    owner: me\n    expires: '2025-02-30'\n",
     "supp.yaml:6: suppressions[0].expires: an expiry date YYYY-MM-DD"),
    (ENTRY + "    reason: '  '\n    owner: me\n    expires: 2025-06-30\n",
     "supp.yaml:4: suppressions[0].reason: a reason"),
    (ENTRY + "    resaon: why\n    owner: me\n    expires: 2025-06-30\n",
     "supp.yaml:4: suppressions[0].resaon: a known field (key, rule, subject, path, reason, owner, expires) "
     "(did you mean 'reason'?)"),
    ("  - rule: no_odoo_cron\n    reason: why\n    owner: me\n    expires: 2025-06-30\n",
     "supp.yaml:3: suppressions[0].rule: with 'rule', a 'subject' and/or 'path' glob"),
    ("  - reason: why\n    owner: me\n    expires: 2025-06-30\n",
     "supp.yaml:3: suppressions[0]: either 'key' (a finding key"),
    (ENTRY + "    rule: no_odoo_cron\n    path: a\n    reason: why\n    owner: me\n    expires: 2025-06-30\n",
     "suppressions[0].rule: either 'key' or 'rule', not both"),
    ("  - key: not a key\n    reason: why\n    owner: me\n    expires: 2025-06-30\n",
     "supp.yaml:3: suppressions[0].key: a finding key like rule_id:0123456789abcdef; got a string of 9 characters"),
    ("  - just a string\n", "supp.yaml:3: suppressions[0]: a mapping with 'key'"),
])
def test_invalid_entries_name_file_entry_and_expectation(tmp_path: Path, body: str, expected: str) -> None:
    write(tmp_path, "supp.yaml", "# header\nsuppressions:\n" + body)
    with pytest.raises(ConfigError) as exc:
        sup.load_suppressions(tmp_path / "supp.yaml", display="supp.yaml")
    assert expected in str(exc.value)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "s.yaml", "- key: no_hardcoded_secrets:0123456789abcdef\n- rule: no_odoo_cron\n  path: x\n")
    with pytest.raises(ConfigError) as exc:
        sup.load_suppressions(tmp_path / "s.yaml", display="s.yaml")
    issues = [str(i) for i in exc.value.issues]
    assert len(issues) == 6
    assert any(i.startswith("s.yaml:2: suppressions[1].owner") for i in issues)


@pytest.mark.parametrize(("text", "expected"), [
    ("suppressions: {a: 1}\n", "s.yaml:1: suppressions: a list of entries"),
    ("supressions: []\n", "s.yaml:1: supressions: only a top-level 'suppressions:' list (did you mean"),
    ("suppressions: [\n", "s.yaml:2: <root>: valid YAML"),
])
def test_malformed_files(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path, "s.yaml", text)
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace("[", r"\[")):
        sup.load_suppressions(tmp_path / "s.yaml", display="s.yaml")


def test_empty_file_and_missing_explicit_file(tmp_path: Path) -> None:
    write(tmp_path, "s.yaml", "# nothing accepted yet\n")
    assert sup.load_suppressions(tmp_path / "s.yaml") == []
    with pytest.raises(ConfigError, match="an existing file"):
        sup.apply([lit("a.py", 1)], suppressions_file=tmp_path / "nope.yaml", root=tmp_path, today=TODAY)


def test_default_file_is_used_when_present(tmp_path: Path) -> None:
    f = lit("a.py", 1)
    assert sup.apply([f], root=tmp_path, today=TODAY, read_lines=no_files)[0] == [f]
    write(tmp_path, sup.DEFAULT_SUPPRESSIONS, f"- key: {f.key}\n  reason: r\n  owner: o\n  expires: 2030-01-01\n")
    active, suppressed, _ = sup.apply([f], root=tmp_path, today=TODAY, read_lines=no_files)
    assert active == [] and suppressed[0].metadata["suppression"]["file"] == ".ssot/suppressions.yaml"


def test_expired_entry_does_not_suppress_and_says_so(tmp_path: Path) -> None:
    f = lit("a.py", 1)
    write(tmp_path, "s.yaml", f"- key: {f.key}\n  reason: temporary\n  owner: alice\n  expires: 2025-02-28\n")
    active, suppressed, warnings = sup.apply([f], suppressions_file=tmp_path / "s.yaml", root=tmp_path,
                                             today=TODAY, read_lines=no_files)
    assert suppressed == [] and warnings == []
    (back,) = active
    assert back.key == f.key and back.suppressed_by is None
    assert "expired on 2025-02-28 (owner: alice)" in back.explain
    assert back.metadata["suppression_expired"]["expires"] == "2025-02-28"
    report = Report(command="scan", target="t", findings=active, generated_at="2025-03-01T00:00:00Z")
    assert report.exit_code == 1
    assert "expired on 2025-02-28 (owner: alice)" in render(report, "markdown")


def test_an_expired_suppression_wins_over_the_baseline(tmp_path: Path) -> None:
    # The baseline was written while the suppression was valid; once it expires the finding must
    # come back, not be silently hidden again by the baseline (which would make expiry meaningless).
    f, other = lit("a.py", 1), lit("b.py", 2)
    write(tmp_path, "s.yaml", f"- key: {f.key}\n  reason: temporary\n  owner: alice\n  expires: 2025-02-28\n")
    sup.write_baseline([f, other], tmp_path / "baseline.json")
    active, suppressed, _ = sup.apply([f, other], suppressions_file=tmp_path / "s.yaml",
                                      baseline_file=tmp_path / "baseline.json", root=tmp_path, today=TODAY,
                                      read_lines=no_files)
    assert [a.key for a in active] == [f.key] and active[0].suppressed_by is None
    assert "expired on 2025-02-28 (owner: alice)" in active[0].explain
    assert "baseline" in active[0].explain
    assert [s.key for s in suppressed] == [other.key] and suppressed[0].suppressed_by == "baseline"
    report = Report(command="scan", target="t", findings=active, suppressed=suppressed,
                    generated_at="2025-03-01T00:00:00Z")
    assert report.exit_code == 1


def test_stale_entries_are_warnings(tmp_path: Path) -> None:
    f = lit("a.py", 1)
    write(tmp_path, "s.yaml", f"""- key: {f.key}
  reason: r
  owner: o
  expires: 2030-01-01
- rule: odoo_cron
  subject: "odoo:odoo_cron:gone_*"
  reason: r
  owner: o
  expires: 2024-01-01
- rule: not_a_rule
  path: "Zq8ghp_CANARYxx/**"
  reason: r
  owner: o
  expires: 2030-01-01
""")
    active, suppressed, warnings = sup.apply([f], suppressions_file=tmp_path / "s.yaml", root=tmp_path,
                                             today=TODAY, read_lines=no_files)
    assert active == [] and len(suppressed) == 1
    # A known rule id is named; globs and unknown ids are outside text, described by shape only.
    assert warnings == [f"{tmp_path / 's.yaml'}:5: suppressions[1] (rule odoo_cron, a subject glob (a string "
                        "of 21 characters: lowercase letters, symbols)) matches no finding (stale); it also "
                        "expired on 2024-01-01; remove it",
                        f"{tmp_path / 's.yaml'}:10: suppressions[2] (a rule (a string of 10 characters: lowercase "
                        "letters, symbols), a path glob (a string of 18 characters: letters, digits, symbols)) "
                        "matches no finding (stale); remove it"]
    assert not any("CANARY" in w or "gone_" in w for w in warnings)


# ---------------------------------------------------------------------------------------------
# Inline ignores


@pytest.mark.parametrize(("lines", "line", "suppressed", "reason"), [
    (['token = "x"  # ssot: ignore[no_hardcoded_secrets] reason="fixture"'], 1, True, "fixture"),
    (["// ssot: ignore[no_hardcoded_secrets] reason='demo key'", "const k = 'x';"], 2, True, "demo key"),
    (["-- ssot: ignore[no_odoo_cron, no_hardcoded_secrets] reason=\"seed data\"", "insert ..."], 2, True,
     "seed data"),
    (['<!-- ssot: ignore[no_hardcoded_secrets] reason="docs example" -->', "<field>x</field>"], 2, True,
     "docs example"),
    (["# ssot: ignore[no_odoo_cron] reason=\"other rule\"", "x"], 2, False, None),
    (["a = 1  # ssot: ignore[no_hardcoded_secrets] reason=\"covers line 1 only\"", "b = 'x'"], 2, False, None),
    (["msg = 'ssot: ignore[no_hardcoded_secrets] reason=\"in a string\"'"], 1, False, None),
    (["# ssot: ignore[no_hardcoded_secrets] reason=\"two lines up\"", "", "x"], 3, False, None),
    (['x = 1  # ssot: ignore[no_hardcoded_secrets] reason=""'], 1, False, None),
])
def test_inline_ignores(lines: list[str], line: int, suppressed: bool, reason: str | None) -> None:
    f = lit("src/file.txt", line)
    active, supp, _ = sup.apply([f], today=TODAY, read_lines=lambda p: lines if p == "src/file.txt" else None)
    assert bool(supp) is suppressed and bool(active) is not suppressed
    if suppressed:
        assert supp[0].suppressed_by == "inline"
        assert supp[0].metadata["suppression"]["reason"] == reason


def test_inline_ignores_can_be_turned_off_and_the_finding_says_so() -> None:
    """`--no-inline-ignores` (pull requests): the change's own comments excuse nothing."""
    lines = ['token = "x"  # ssot: ignore[no_hardcoded_secrets] reason="fixture"']
    f = lit("src/file.txt", 1)
    active, supp, _ = sup.apply([f], today=TODAY, read_lines=lambda p: lines, inline=False)
    assert supp == [] and [a.key for a in active] == [f.key]
    assert active[0].metadata["inline_ignore_not_honoured"] == "src/file.txt:1"
    assert "was not honoured" in active[0].explain and "fixture" not in active[0].explain


_OLD_INLINE = re.compile(r"ssot:\s*ignore\[(?P<rules>[^\]]*)\]")
_OLD_REASON = re.compile(r"""\A\s*reason\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""")


def _old_parse_inline(text: str, line: int) -> sup.InlineIgnore | None:
    # The single pattern parse_inline replaced (quadratic on a line of unclosed directives): the
    # reference for what it must still answer.
    m = _OLD_INLINE.search(text)
    if not m or not any(marker in text[:m.start()] for marker in ("#", "//", "--", "<!--", "/*")):
        return None
    rules = frozenset(r.strip() for r in m.group("rules").split(",") if r.strip())
    r = _OLD_REASON.match(text[m.end():])
    reason = (r.group("dq") if r.group("dq") is not None else r.group("sq")).strip() or None if r else None
    return sup.InlineIgnore(line=line, rules=rules, reason=reason)


@pytest.mark.parametrize("text", [
    '# ssot: ignore[a, b] reason="r"', "# ssot:ignore[]", "# ssot:   ignore[a] reason='x'  ", "# ssot: ignore[a",
    "# ssot: ignore[a\n] reason='x'", "ssot: ignore[a] # ssot: ignore[b] reason='y'", "x = 1 # ssot: ignore[a]]]",
    "# " + "ssot: ignore[" * 2000, "# " + "ssot: ignore[a" * 2000 + "]", "// ssot: ignore[a] ssot: ignore[b]",
    "# ssot:\tignore[a,,b ,] reason = \"q\"", "/* ssot: ignore[a] reason=\"unclosed", "# ssot: ignore [a]",
])
def test_inline_parse_is_the_single_pattern_in_linear_time(text: str) -> None:
    assert sup.parse_inline(text, 7) == _old_parse_inline(text, 7)


def test_many_findings_on_one_line_parse_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A minified file can carry thousands of findings on one long line: each parsing that line again
    # is quadratic in it.
    parsed: list[int] = []
    real = sup.parse_inline

    def counting(text: str, line: int) -> sup.InlineIgnore | None:
        parsed.append(line)
        return real(text, line)

    monkeypatch.setattr(sup, "parse_inline", counting)
    lines = ["# ssot: ignore[no_hardcoded_secrets] reason=\"fixture\"", "k = 'x' " * 50]
    findings = [lit("m.js", 2, subject=f"s{i}") for i in range(300)] + [lit("m.js", 1, subject="t")]
    active, supp, _ = sup.apply(findings, today=TODAY, read_lines=lambda p: lines if p == "m.js" else None)
    assert len(supp) == 301 and active == []
    assert sorted(parsed) == [1, 1, 2]


def test_inline_without_reason_does_not_suppress_and_never_quotes_the_line(tmp_path: Path) -> None:
    write(tmp_path, "app/settings.py", f'import os\nTOKEN = "{CANARY}"  # ssot: ignore[no_hardcoded_secrets]\n')
    f = lit("app/settings.py", 2)
    active, suppressed, warnings = sup.apply([f], root=tmp_path, today=TODAY)
    assert suppressed == [] and len(active) == 1
    assert warnings == ["app/settings.py:2: 'ssot: ignore[no_hardcoded_secrets]' has no reason=\"...\", so it "
                        "does not suppress no_hardcoded_secrets; add a reason"]
    assert "has no reason" in active[0].explain
    report = Report(command="scan", target="t", findings=active, warnings=warnings,
                    generated_at="2025-03-01T00:00:00Z")
    for name in FORMATS:
        assert CANARY not in render(report, name)
    assert CANARY not in repr(active) + repr(warnings)


def test_file_reader_reads_each_file_once(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "x = 1  # ssot: ignore[no_hardcoded_secrets] reason=\"r\"\n")
    calls: list[str] = []
    real = sup.file_reader(tmp_path)

    def counting(path: str) -> Sequence[str] | None:
        calls.append(path)
        return real(path)

    findings = [lit("a.py", 1, subject=f"s{i}") for i in range(5)] + [lit("missing.py", 1)]
    active, suppressed, _ = sup.apply(findings, root=tmp_path, today=TODAY, read_lines=counting)
    assert len(suppressed) == 5 and len(active) == 1
    # The default reader caches: changing the file after the first read does not change the answer.
    (tmp_path / "a.py").write_text("nothing\n", encoding="utf-8")
    assert real("a.py") == ["x = 1  # ssot: ignore[no_hardcoded_secrets] reason=\"r\""]
    assert real("missing.py") is None


def test_inline_wins_over_file_and_file_over_baseline(tmp_path: Path) -> None:
    f = lit("a.py", 1)
    write(tmp_path, "a.py", "k = 1  # ssot: ignore[no_hardcoded_secrets] reason=\"inline\"\n")
    write(tmp_path, "s.yaml", f"- key: {f.key}\n  reason: file\n  owner: o\n  expires: 2030-01-01\n")
    sup.write_baseline([f], tmp_path / "baseline.json")
    _, supp, _ = sup.apply([f], suppressions_file=tmp_path / "s.yaml", baseline_file=tmp_path / "baseline.json",
                           root=tmp_path, today=TODAY)
    assert supp[0].suppressed_by == "inline"
    (tmp_path / "a.py").write_text("k = 1\n", encoding="utf-8")
    _, supp, _ = sup.apply([f], suppressions_file=tmp_path / "s.yaml", baseline_file=tmp_path / "baseline.json",
                           root=tmp_path, today=TODAY)
    assert supp[0].suppressed_by == "suppressions"
    _, supp, _ = sup.apply([f], baseline_file=tmp_path / "baseline.json", root=tmp_path, today=TODAY)
    assert supp[0].suppressed_by == "baseline"


# ---------------------------------------------------------------------------------------------
# Baseline


def test_baseline_is_stable_sorted_and_value_free(tmp_path: Path) -> None:
    a = SECRET.finding(subject="repository:secret_literal:b.py:github_token", explain=f"literal {CANARY}",
                       propose="p", location=Location(path="b.py", line=1), phase=Phase.STATIC,
                       metadata={"_private": CANARY})
    b, c = lit("a.py", 3), cron("sync")
    n = sup.write_baseline([a, b, c, b], tmp_path / ".ssot" / "baseline.json")
    first = (tmp_path / ".ssot" / "baseline.json").read_text(encoding="utf-8")
    sup.write_baseline([c, b, a], tmp_path / ".ssot" / "baseline.json")
    assert (tmp_path / ".ssot" / "baseline.json").read_text(encoding="utf-8") == first
    assert n == 3
    assert CANARY not in first
    doc = json.loads(first)
    assert [e["key"] for e in doc["findings"]] == sorted(f.key for f in (a, b, c))
    assert set(doc["findings"][0]) == {"key", "rule_id", "subject"}


def test_only_new_findings_count_against_a_baseline(tmp_path: Path) -> None:
    old, fixed = lit("a.py", 1), lit("gone.py", 1)
    sup.write_baseline([old, fixed], tmp_path / "baseline.json")
    moved = lit("a.py", 40, subject=old.subject)  # same subject, the line moved: still known
    new = lit("new.py", 2)
    fresh, known = sup.apply_baseline([moved, new], tmp_path / "baseline.json")
    assert fresh == [new]
    assert [f.key for f in known] == [old.key] and known[0].suppressed_by == "baseline"

    active, suppressed, warnings = sup.apply([moved, new], baseline_file=tmp_path / "baseline.json",
                                             root=tmp_path, today=TODAY, read_lines=no_files)
    assert active == [new] and [f.suppressed_by for f in suppressed] == ["baseline"]
    assert warnings == [f"{tmp_path / 'baseline.json'}: 1 baseline entry no longer match any finding "
                        "(fixed?); rewrite the baseline to lock the improvement in"]
    report = Report(command="scan", target="t", findings=active, suppressed=suppressed,
                    generated_at="2025-03-01T00:00:00Z")
    assert report.exit_code == 1 and len(report.blocking) == 1


@pytest.mark.parametrize(("text", "expected"), [
    ("{not json", "b.json:1: <root>: valid JSON"),
    ('{"format": "other"}', "b.json: format: a baseline written by ssot"),
    ('{"format": "ssot-baseline", "version": 9, "findings": []}',
     "b.json: version: baseline version 1; got a whole number of 1 digit"),
    ('{"format": "ssot-baseline", "version": 1, "findings": {}}', "b.json: findings: a list of"),
    ('{"format": "ssot-baseline", "version": 1, "findings": [{"key": 3}]}',
     "b.json: findings[0].key: a finding key like"),
])
def test_bad_baselines(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path, "b.json", text)
    with pytest.raises(ConfigError) as exc:
        sup.apply_baseline([], str(tmp_path / "b.json"))
    assert expected in str(exc.value).replace(str(tmp_path) + "/", "")
    with pytest.raises(ConfigError, match="an existing baseline file"):
        sup.load_baseline(tmp_path / "missing.json")
