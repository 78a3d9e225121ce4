"""Report formats: exit codes, JSON schema, SARIF 2.1.0 (OASIS schema + GitHub's extra demands),
Markdown layout and escaping, terminal text, and that no private field ever reaches a report."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from needs import missing_dependency

from ssot.errors import SsotError
from ssot.findings import Finding, Severity
from ssot.inventory import Location, Phase
from ssot.reporters import FORMATS, Report, json_report, markdown, render, sarif, text
from ssot.rules import Rule

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CANARY = "CANARY-s3cr3t-4f9a1c"
NOW = "2025-01-15T10:00:00Z"


def _rule(rule_id: str, severity: Severity, clause: str, categories: tuple[str, ...]) -> Rule:
    return Rule(
        id=rule_id, title=f"Rule {rule_id.replace('_', ' ')} is enforced", clause=clause, severity=severity,
        categories=categories, phases=frozenset(Phase), risk="A real risk sentence for this rule.",
        remediation="Move the value to Supabase Vault and reference it by name.", check=lambda inv: [],
    )


SECRET = _rule("no_hardcoded_secrets", Severity.CRITICAL, "§4 Secret Management: Secrets MUST NOT be hardcoded",
               ("secrets",))
CRON = _rule("no_odoo_cron", Severity.HIGH, "§5 Orchestration: Odoo is NEVER used as a scheduler",
             ("orchestration", "odoo"))
AGENT = _rule("agents_read_supabase", Severity.MEDIUM, "§6 AI & Agent Access: agents DO NOT read raw Odoo",
              ("ai", "access"))
RULES = (SECRET, CRON, AGENT)

PROPOSE_YAML = "platform:\n  vault:\n    secrets:\n      - name: github_app_key\n        category: api_key\n"
PROPOSE_SQL = "select cron.schedule('sync', '*/5 * * * *', $$call ops.sync()$$);"

FILE_LOC = Location(path="app/settings.py", line=12, column=5)
URN_LOC = Location(urn="urn:pulumi:dev::ssot::ssot:supabase:VaultSecret::github_app_key")
URN_FILE_LOC = Location(path="stacks/Pulumi.dev.yaml", line=40,
                        urn="urn:pulumi:dev::ssot::postgresql:index/grant:Grant::agent_raw")
LIVE_LOC = Location(object="odoo:ir.cron:42")
NOWHERE = Location()


def secret_finding(loc: Location = FILE_LOC, subject: str = "repository:secret_literal:app/settings.py") -> Finding:
    return SECRET.finding(subject=subject, explain="A GitHub token literal is committed in a Python file.",
                          propose=PROPOSE_YAML, location=loc, phase=Phase.STATIC)


def cron_finding(loc: Location = LIVE_LOC) -> Finding:
    return CRON.finding(subject="odoo:odoo_cron:sync_invoices", explain="Odoo runs a scheduled action.",
                        propose=PROPOSE_SQL, location=loc, phase=Phase.LIVE)


def agent_finding(loc: Location = URN_FILE_LOC) -> Finding:
    return AGENT.finding(subject="supabase-postgres:grant:agent:table:odoo_raw", propose="",
                         explain="Role agent can SELECT raw Odoo tables.", location=loc, phase=Phase.DECLARED)


def make(findings: list[Finding], *, fail_on: Severity = Severity.HIGH, suppressed: list[Finding] | None = None,
         incomplete: list[str] | None = None, command: str = "scan", **kw: Any) -> Report:
    return Report(command=command, target="stacks/Pulumi.dev.yaml", findings=findings,
                  suppressed=suppressed or [], fail_on=fail_on, incomplete=incomplete or [], rules=RULES,
                  generated_at=NOW, information_uri="https://github.com/example/ssot",
                  default_artifact="stacks/Pulumi.dev.yaml", **kw)


def suppressed(f: Finding, by: str = "suppressions") -> Finding:
    return replace(f, suppressed_by=by, metadata={**f.metadata, "suppression": {
        "by": by, "reason": "accepted: test fixture", "owner": "platform-team", "expires": "2030-01-01"}})


SCENARIOS: dict[str, Report] = {}


def scenarios() -> dict[str, Report]:
    if not SCENARIOS:
        SCENARIOS.update({
            "empty": make([]),
            "file": make([secret_finding()]),
            "urn": make([secret_finding(URN_LOC, "supabase-vault:vault_secret:github_app_key")]),
            "urn+file": make([agent_finding()]),
            "live": make([cron_finding()]),
            "nowhere": make([secret_finding(NOWHERE, "x:y:z")]),
            "mixed": make([secret_finding(), cron_finding(), agent_finding()],
                          suppressed=[suppressed(secret_finding(URN_LOC, "s:v:other")),
                                      suppressed(cron_finding(FILE_LOC), "inline")],
                          incomplete=["live:aws-ssm"], warnings=["stale suppression"]),
        })
    return SCENARIOS


# ---------------------------------------------------------------------------------------------
# Exit codes and verdicts


@pytest.mark.parametrize(("severities", "fail_on", "incomplete", "n_suppressed", "exit_code", "verdict"), [
    ([], Severity.HIGH, [], 0, 0, "pass"),
    ([Severity.MEDIUM], Severity.HIGH, [], 0, 0, "pass"),
    ([Severity.MEDIUM], Severity.MEDIUM, [], 0, 1, "fail"),
    ([Severity.HIGH], Severity.HIGH, [], 0, 1, "fail"),
    ([Severity.CRITICAL, Severity.LOW], Severity.CRITICAL, [], 0, 1, "fail"),
    ([Severity.HIGH], Severity.CRITICAL, [], 0, 0, "pass"),
    ([Severity.INFO], Severity.INFO, [], 0, 1, "fail"),
    ([], Severity.HIGH, ["live:odoo"], 0, 3, "incomplete"),
    ([Severity.CRITICAL], Severity.HIGH, ["live:odoo"], 0, 3, "incomplete"),
    ([], Severity.LOW, [], 2, 0, "pass"),
])
def test_exit_codes(severities: list[Severity], fail_on: Severity, incomplete: list[str], n_suppressed: int,
                    exit_code: int, verdict: str) -> None:
    findings = [replace(secret_finding(subject=f"s{i}"), severity=s) for i, s in enumerate(severities)]
    supp = [suppressed(secret_finding(subject=f"sup{i}")) for i in range(n_suppressed)]
    report = make(findings, fail_on=fail_on, incomplete=incomplete, suppressed=supp)
    assert report.exit_code == exit_code
    assert report.verdict == verdict
    doc = json.loads(json_report.render(report))
    assert doc["summary"]["exit_code"] == exit_code
    assert doc["summary"]["verdict"] == verdict
    assert sarif.to_document(report)["runs"][0]["properties"]["exit_code"] == exit_code
    assert f"(exit {exit_code})" in text.render(report)
    assert f"(exit {exit_code})" in markdown.render(report)


def test_blocking_is_recomputed_from_the_threshold() -> None:
    # A finding handed in as blocking under another threshold must not leak that stale verdict.
    stale = secret_finding().with_threshold(Severity.LOW)
    low = replace(stale, severity=Severity.LOW)
    assert low.blocking
    report = make([low], fail_on=Severity.HIGH)
    assert report.exit_code == 0 and not report.findings[0].blocking
    report = make([], suppressed=[replace(secret_finding(), blocking=True)])
    assert report.suppressed[0].blocking is False and report.suppressed[0].suppressed_by
    report = make([suppressed(secret_finding())])
    assert report.findings == [] and len(report.suppressed) == 1 and report.exit_code == 0


def test_report_rejects_an_unknown_command() -> None:
    with pytest.raises(ValueError, match="scan, preview, audit"):
        Report(command="deploy", target="x")


def test_format_registry_and_unknown_format() -> None:
    assert set(FORMATS) == {"text", "json", "sarif", "markdown", "html"}
    report = scenarios()["file"]
    for name, fn in FORMATS.items():
        assert render(report, name) == fn(report)
    with pytest.raises(SsotError, match=r"did you mean 'sarif'"):
        render(report, "sarf")


def test_headlines() -> None:
    assert make([]).headline() == "ssot scan: passed, no findings"
    assert make([agent_finding()]).headline() == "ssot scan: passed (1 advisory finding)"
    assert make([secret_finding(), cron_finding()], command="audit").headline() == "ssot audit: 2 blocking findings"
    assert make([secret_finding()], incomplete=["a", "b"]).headline() == (
        "ssot scan: incomplete, could not read 2 sources; 1 blocking finding")


# ---------------------------------------------------------------------------------------------
# JSON


@pytest.fixture(scope="module")
def report_validator() -> jsonschema.protocols.Validator:
    schema = json_report.load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("name", ["empty", "file", "urn", "urn+file", "live", "nowhere", "mixed"])
def test_json_report_matches_its_schema(name: str, report_validator: jsonschema.protocols.Validator) -> None:
    report = scenarios()[name]
    doc = json.loads(json_report.render(report))
    errors = sorted(report_validator.iter_errors(doc), key=str)
    assert not errors, [e.message for e in errors]
    assert doc["$schema"] == json_report.SCHEMA_ID == report_validator.schema["$id"]
    assert doc["schema_version"] == "1.0"
    assert doc["summary"]["total"] == len(report.findings)
    assert sum(doc["summary"]["by_severity"].values()) == len(report.findings)
    assert len(doc["suppressed"]) == len(report.suppressed)


def test_json_locations_per_kind() -> None:
    doc = json.loads(json_report.render(scenarios()["mixed"]))
    by_rule = {f["rule_id"]: f for f in doc["findings"]}
    assert by_rule["no_hardcoded_secrets"]["location"] == {"path": "app/settings.py", "line": 12, "column": 5}
    assert by_rule["no_odoo_cron"]["location"] == {"object": "odoo:ir.cron:42"}
    assert by_rule["agents_read_supabase"]["location"]["urn"].startswith("urn:pulumi:dev::")
    assert by_rule["no_hardcoded_secrets"]["blocking"] is True
    assert by_rule["agents_read_supabase"]["blocking"] is False
    assert {s["suppressed_by"] for s in doc["suppressed"]} == {"suppressions", "inline"}
    assert doc["incomplete"] == ["live:aws-ssm"] and doc["warnings"] == ["stale suppression"]


def test_json_schema_rejects_a_broken_report(report_validator: jsonschema.protocols.Validator) -> None:
    # The schema must be able to fail: a report missing a verdict, or an active finding that claims
    # to be suppressed, is invalid.
    doc = json.loads(json_report.render(scenarios()["mixed"]))
    del doc["summary"]["verdict"]
    assert list(report_validator.iter_errors(doc))
    doc = json.loads(json_report.render(scenarios()["mixed"]))
    doc["findings"][0]["suppressed_by"] = "baseline"
    assert list(report_validator.iter_errors(doc))
    doc = json.loads(json_report.render(scenarios()["mixed"]))
    doc["findings"][0]["metadata"]["_private"] = "x"
    assert list(report_validator.iter_errors(doc))


def test_schema_is_packaged_data() -> None:
    from importlib import resources

    assert resources.files("ssot").joinpath("schemas/report.schema.json").is_file()


# ---------------------------------------------------------------------------------------------
# SARIF


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    path = SHARED / "sarif-schema-2.1.0.json"
    if not path.is_file():
        missing_dependency(f"the OASIS SARIF 2.1.0 schema is not at {path} (reference data lives in ../shared)")
    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def _github_checks(doc: dict[str, Any]) -> None:
    """What GitHub code scanning demands beyond the OASIS schema."""
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "ssot"
    for rule in rules:
        sev = rule["properties"]["security-severity"]
        assert isinstance(sev, str) and 0.0 <= float(sev) <= 10.0
        assert "security" in rule["properties"]["tags"]
        assert rule["help"]["text"] and rule["help"]["markdown"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["locations"], "GitHub rejects a result without a location"
        phys = result["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        uri = phys["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "./", "file:")) and "\\" not in uri
        assert phys["region"]["startLine"] >= 1
        assert result["partialFingerprints"]["ssotKey/v1"]


@pytest.mark.parametrize("name", ["empty", "file", "urn", "urn+file", "live", "nowhere", "mixed"])
def test_sarif_is_valid(name: str, sarif_validator: jsonschema.protocols.Validator) -> None:
    doc = json.loads(sarif.render(scenarios()[name]))
    errors = sorted(sarif_validator.iter_errors(doc), key=str)
    assert not errors, [e.message for e in errors]
    assert doc["version"] == "2.1.0"
    _github_checks(doc)


def test_sarif_validator_can_fail(sarif_validator: jsonschema.protocols.Validator) -> None:
    doc = json.loads(sarif.render(scenarios()["file"]))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    assert list(sarif_validator.iter_errors(doc))


def test_sarif_rules_and_results() -> None:
    doc = sarif.to_document(scenarios()["mixed"])
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["semanticVersion"] and driver["informationUri"] == "https://github.com/example/ssot"
    by_id = {r["id"]: r for r in driver["rules"]}
    secret_rule = by_id["no_hardcoded_secrets"]
    assert secret_rule["name"] == "NoHardcodedSecrets"
    assert secret_rule["properties"]["security-severity"] == "9.5"
    assert secret_rule["defaultConfiguration"]["level"] == "error"
    assert secret_rule["properties"]["tags"] == ["secrets", "security"]
    assert "Supabase Vault" in secret_rule["help"]["markdown"]
    assert by_id["agents_read_supabase"]["defaultConfiguration"]["level"] == "warning"
    assert run["automationDetails"]["id"] == "ssot/scan/"
    assert run["invocations"][0]["executionSuccessful"] is False

    results = {(r["ruleId"], "suppressions" in r): r for r in run["results"]}
    active_secret = results[("no_hardcoded_secrets", False)]
    assert active_secret["level"] == "error"
    assert active_secret["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/settings.py"
    assert active_secret["locations"][0]["physicalLocation"]["region"] == {"startLine": 12, "startColumn": 5}
    assert "PROPOSE:\nplatform:\n  vault:" in active_secret["message"]["text"]

    live = results[("no_odoo_cron", False)]
    assert live["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "odoo:ir.cron:42"
    assert live["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "stacks/Pulumi.dev.yaml"
    assert live["locations"][0]["physicalLocation"]["region"]["startLine"] == 1

    urn = results[("agents_read_supabase", False)]
    assert urn["level"] == "warning"  # medium, below fail-on high: advisory
    loc = urn["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "stacks/Pulumi.dev.yaml"
    assert loc["physicalLocation"]["region"]["startLine"] == 40
    assert loc["logicalLocations"][0] == {"name": "agent_raw", "kind": "resource",
                                          "fullyQualifiedName": URN_FILE_LOC.urn}

    supp = results[("no_hardcoded_secrets", True)]["suppressions"][0]
    assert supp["kind"] == "external" and "accepted: test fixture" in supp["justification"]
    assert results[("no_odoo_cron", True)]["suppressions"][0]["kind"] == "inSource"


def test_sarif_blocking_medium_is_an_error_and_unknown_rules_get_a_descriptor() -> None:
    report = Report(command="preview", target="dev", findings=[agent_finding()], fail_on=Severity.MEDIUM,
                    generated_at=NOW)  # no rule metadata handed in, no default artifact
    doc = sarif.to_document(report)
    run = doc["runs"][0]
    assert run["results"][0]["level"] == "error"
    descriptor = run["tool"]["driver"]["rules"][0]
    assert descriptor["id"] == "agents_read_supabase"
    assert descriptor["properties"]["security-severity"] == "5.5"
    assert "informationUri" not in run["tool"]["driver"]
    _github_checks(doc)


def test_sarif_paths_are_made_relative_to_the_root(tmp_path: Path) -> None:
    loc = Location(path=str(tmp_path / "addons" / "x" / "data.xml"), line=3)
    report = make([secret_finding(loc)], root=str(tmp_path))
    doc = sarif.to_document(report)
    art = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert art == {"uri": "addons/x/data.xml", "uriBaseId": "%SRCROOT%"}
    assert doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    assert sarif.information_uri_from_env({"GITHUB_SERVER_URL": "https://github.com",
                                           "GITHUB_REPOSITORY": "o/r"}) == "https://github.com/o/r"
    assert sarif.information_uri_from_env({}) is None


# ---------------------------------------------------------------------------------------------
# Markdown


def _layout(md: str) -> tuple[list[str], list[str]]:
    """HTML tags outside fenced code blocks, and the code blocks' contents (CommonMark fence rules)."""
    tags: list[str] = []
    blocks: list[str] = []
    fence: str | None = None
    body: list[str] = []
    for line in md.splitlines():
        if fence is None:
            m = re.match(r"^(`{3,})", line)
            if m:
                fence, body = m.group(1), []
                continue
            tags += re.findall(r"</?(?:details|summary|script)\b", line)
        elif re.match(rf"^{fence}`*\s*$", line):
            blocks.append("\n".join(body))
            fence = None
        else:
            body.append(line)
    assert fence is None, "unterminated code fence"
    return tags, blocks


@pytest.mark.parametrize("name", ["empty", "file", "urn", "urn+file", "live", "nowhere", "mixed"])
def test_markdown_structure(name: str) -> None:
    report = scenarios()[name]
    md = markdown.render(report)
    assert md.startswith("<!-- ssot-report:scan -->\n## ssot scan: ")
    assert "| Severity | Findings | Blocking |" in md
    tags, _ = _layout(md)
    assert tags.count("<details") == tags.count("</details")
    rules = {f.rule_id for f in report.findings}
    assert tags.count("<details") == len(rules) + (1 if report.suppressed else 0)
    assert len(md) <= markdown.MAX_CHARS


def test_markdown_content_and_links() -> None:
    report = make([secret_finding(), cron_finding()], link_base="https://github.com/o/r/blob/abc123/")
    md = markdown.render(report)
    assert "## ssot scan: 2 blocking findings" in md
    assert "[app/settings.py:12](https://github.com/o/r/blob/abc123/app/settings.py#L12)" in md
    assert "`odoo:ir.cron:42`" in md
    assert "<details open>" in md
    _, blocks = _layout(md)
    assert PROPOSE_YAML.rstrip() in blocks and PROPOSE_SQL in blocks
    assert "```yaml\n" in md and "```sql\n" in md
    relative = markdown.render(make([secret_finding()]))
    assert "[app/settings.py:12](app/settings.py#L12)" in relative
    assert markdown.render(make([], command="audit")).startswith("<!-- ssot-report:audit -->")


def test_markdown_escapes_hostile_finding_text() -> None:
    hostile_explain = "closing </details> early, then ``` a fence ````` and <script>alert(1)</script> | pipe"
    hostile_propose = "```\n</details>\n<summary>x</summary>\n````\n"
    f = Finding(rule_id="no_hardcoded_secrets", title="Title with </summary><script>x</script> and `ticks`",
                severity=Severity.CRITICAL, clause="§4 Secret *Management* | [link](javascript:x)",
                explain=hostile_explain, propose=hostile_propose,
                location=Location(path="weird dir/a`b|c<d>.py", line=2, object="obj`with`ticks"),
                subject="s", phase=Phase.STATIC)
    report = Report(command="scan", target="t|x", findings=[f], generated_at=NOW)
    md = markdown.render(report)
    tags, blocks = _layout(md)
    assert tags == ["<details", "<summary", "</summary", "</details"]
    assert hostile_explain in blocks
    assert hostile_propose.strip("\n") in blocks
    assert "<script>" not in md.replace(hostile_explain, "")
    assert "&lt;/summary&gt;&lt;script&gt;" in md
    assert "weird%20dir/a%60b%7Cc%3Cd%3E.py#L2" in md
    assert "``obj`with`ticks``" in md
    # The clause is plain text: emphasis and link syntax are escaped, and the pipe cannot split a table.
    assert r"\*Management\*" in md and r"\[link\]" in md


def test_markdown_truncates_under_the_comment_limit() -> None:
    many = [secret_finding(Location(path=f"src/f{i}.py", line=i + 1), subject=f"s{i}") for i in range(3000)]
    many[0] = replace(many[0], explain="x" * 100_000)
    report = make(many, suppressed=[suppressed(cron_finding())])
    md = markdown.render(report)
    assert len(md) <= markdown.MAX_CHARS
    tags, _ = _layout(md)
    assert tags.count("<details") == tags.count("</details") >= 1
    m = re.search(r"\*\*Truncated:\*\* (\d+) of 3000 findings not shown", md)
    assert m
    shown = md.count("#### ")
    assert shown + int(m.group(1)) == 3000
    assert "more characters not shown" in md


# ---------------------------------------------------------------------------------------------
# Text


def test_text_report() -> None:
    report = scenarios()["mixed"]
    out = text.render(report)
    assert "\x1b[" not in out
    assert "== no_hardcoded_secrets: Rule no hardcoded secrets is enforced (1 finding)" in out
    assert "§4 Secret Management: Secrets MUST NOT be hardcoded" in out
    assert "STOP     CRITICAL, BLOCKING" in out
    assert "STOP     MEDIUM, advisory" in out
    assert "at app/settings.py:12" in out
    assert "at odoo:ir.cron:42" in out
    assert f"at stacks/Pulumi.dev.yaml:40 / {URN_FILE_LOC.urn}" in out
    assert "\n             platform:\n               vault:\n" in out  # the snippet, indented, shape kept
    assert "Summary: critical 1 high 1 medium 1 low 0 info 0 | 2 blocking at or above high | 2 suppressed" in out
    assert "accepted: test fixture" in out
    assert "INCOMPLETE: could not read these sources" in out and "live:aws-ssm" in out
    assert out.rstrip().endswith("Verdict: INCOMPLETE (exit 3): ssot scan: incomplete, could not read 1 source; "
                                 "2 blocking findings")
    colored = text.render(report, color=True)
    assert "\x1b[1;35mCRITICAL, BLOCKING\x1b[0m" in colored
    assert render(report, "text", color=True) == colored


def test_text_neutralises_terminal_control_sequences() -> None:
    f = secret_finding(Location(path="evil\x1b[2J.py", line=1))
    f = replace(f, explain="clear\x1b]0;title\x07 screen")
    out = text.render(make([f]))
    assert "\x1b" not in out and "\x07" not in out
    assert "evil\\x1b[2J.py:1" in out  # shown, not acted on


def test_text_clean_report() -> None:
    out = text.render(make([]))
    assert "Verdict: PASS (exit 0): ssot scan: passed, no findings" in out


# ---------------------------------------------------------------------------------------------
# Nothing private is ever rendered


def test_no_format_renders_private_metadata() -> None:
    meta = {"_private": CANARY, "nested": {"_raw": CANARY, "store": "vault"}, "public": ["a", "b"],
            "phase": Phase.LIVE, "set": {"y", "x"}}
    f = SECRET.finding(subject="supabase-vault:vault_secret:k", explain="Seen twice.", propose="Keep one.",
                       location=FILE_LOC, phase=Phase.LIVE, metadata=meta)
    s = suppressed(SECRET.finding(subject="other", explain="e", propose="p", location=LIVE_LOC,
                                  phase=Phase.LIVE, metadata={"_private": CANARY}))
    report = make([f], suppressed=[s])
    for name in FORMATS:
        out = render(report, name)
        assert CANARY not in out, name
    doc = json.loads(json_report.render(report))
    assert doc["findings"][0]["metadata"] == {"nested": {"store": "vault"}, "public": ["a", "b"],
                                              "phase": "live", "set": ["x", "y"]}
    sarif_meta = sarif.to_document(report)["runs"][0]["results"][0]["properties"]["metadata"]
    assert sarif_meta == doc["findings"][0]["metadata"]
