"""SARIF 2.1.0 for GitHub code scanning.

GitHub rejects a result without a physical location, so a finding about a Pulumi resource (URN) or a
live object gets a logical location *and* a physical one: the file that declares it when the
finding knows it (`location.path`), else `Report.default_artifact` (the stack file), else
`Pulumi.yaml`. Results carry `partialFingerprints["ssotKey/v1"]` = the finding key, so an alert
keeps its identity when lines move. Blocking findings are always level "error", so what code
scanning fails on matches the CLI's exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ssot.findings import Finding, Severity
from ssot.reporters._report import Report, finding_dict, is_absolute, json_text, relative_path, suppression_of
from ssot.rules import Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT = "ssotKey/v1"
SRCROOT = "%SRCROOT%"
FALLBACK_ARTIFACT = "Pulumi.yaml"

# GitHub maps security-severity to critical (>= 9.0), high (7.0-8.9), medium (4.0-6.9), low (0.1-3.9).
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def level(severity: Severity, blocking: bool = False) -> str:
    return "error" if blocking else _LEVEL[severity]


def information_uri_from_env(environ: dict[str, str]) -> str | None:
    """The repository URL on GitHub Actions, for `Report.information_uri` (None elsewhere)."""
    server, repo = environ.get("GITHUB_SERVER_URL"), environ.get("GITHUB_REPOSITORY")
    return f"{server.rstrip('/')}/{repo}" if server and repo else None


def _camel(rule_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in rule_id.split("_"))


def _tags(categories: tuple[str, ...]) -> list[str]:
    # GitHub applies security-severity only to rules tagged "security"; every doctrine rule is a
    # security/compliance control, so the tag is always present.
    tags = list(dict.fromkeys(categories))
    return tags if "security" in tags else [*tags, "security"]


def _descriptor(rule: Rule) -> dict[str, Any]:
    help_text = f"{rule.clause}\n\nRisk: {rule.risk}\n\nRemediation: {rule.remediation}"
    help_md = (f"**Doctrine:** {rule.clause}\n\n**Risk:** {rule.risk}\n\n"
               f"**Remediation:**\n\n{rule.remediation}")
    return {
        "id": rule.id,
        "name": _camel(rule.id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.clause}. {rule.risk}"},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": {
            "tags": _tags(rule.categories),
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": "high",
            "clause": rule.clause,
        },
    }


def _descriptor_from_finding(f: Finding, severity: Severity) -> dict[str, Any]:
    """For a finding whose rule metadata was not handed to the report: what the finding itself says."""
    return {
        "id": f.rule_id,
        "name": _camel(f.rule_id),
        "shortDescription": {"text": f.title},
        "fullDescription": {"text": f.clause},
        "help": {"text": f"{f.clause}\n\nSee each result for the proposed fix.",
                 "markdown": f"**Doctrine:** {f.clause}\n\nSee each result for the proposed fix."},
        "defaultConfiguration": {"level": level(severity)},
        "properties": {"tags": ["security"], "security-severity": SECURITY_SEVERITY[severity],
                       "precision": "high", "clause": f.clause},
    }


def _artifact(path: str, report: Report) -> dict[str, Any]:
    rel = relative_path(path, report.root)
    if is_absolute(rel):
        # Outside the repository: no base id can make it relative; GitHub will not map it, but the
        # result stays truthful rather than pointing at a wrong file.
        return {"uri": Path(rel).as_uri() if rel.startswith("/") else "file:///" + rel}
    return {"uri": rel, "uriBaseId": SRCROOT}


def _locations(f: Finding, report: Report) -> list[dict[str, Any]]:
    loc = f.location
    region: dict[str, Any] = {"startLine": max(loc.line or 1, 1)}
    if loc.line and loc.column:
        region["startColumn"] = max(loc.column, 1)
    path = loc.path or report.default_artifact or FALLBACK_ARTIFACT
    physical = {"artifactLocation": _artifact(path, report), "region": region}
    out: dict[str, Any] = {"physicalLocation": physical}
    logical = []
    if loc.urn:
        name = loc.urn.rsplit("::", 1)[-1]
        logical.append({"name": name, "fullyQualifiedName": loc.urn, "kind": "resource"})
    if loc.object:
        logical.append({"name": loc.object, "fullyQualifiedName": loc.object, "kind": "object"})
    if logical:
        out["logicalLocations"] = logical
    return [out]


def _message(f: Finding) -> str:
    text = f.explain.strip()
    if f.location.urn or f.location.object or not f.location.path:
        text += f"\n\nSeen at: {f.location.describe()}"
    if f.propose.strip():
        text += "\n\nPROPOSE:\n" + f.propose.strip("\n")
    return text


def _suppression(f: Finding) -> dict[str, Any]:
    info = suppression_of(f)
    kind = "inSource" if f.suppressed_by == "inline" else "external"
    parts = [str(info.get("reason") or f"suppressed by {f.suppressed_by}")]
    if info.get("owner"):
        parts.append(f"owner: {info['owner']}")
    if info.get("expires"):
        parts.append(f"expires: {info['expires']}")
    return {"kind": kind, "status": "accepted", "justification": "; ".join(parts),
            "properties": {"suppressed_by": f.suppressed_by, **info}}


def _result(f: Finding, index: int, report: Report) -> dict[str, Any]:
    d = finding_dict(f)
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": level(f.severity, f.blocking),
        "message": {"text": _message(f)},
        "locations": _locations(f, report),
        "partialFingerprints": {FINGERPRINT: f.key},
        "properties": {
            "severity": f.severity.label,
            "blocking": f.blocking,
            "phase": d["phase"],
            "subject": f.subject,
            "clause": f.clause,
            "metadata": d["metadata"],
        },
    }
    if f.suppressed_by:
        result["suppressions"] = [_suppression(f)]
    return result


def to_document(report: Report) -> dict[str, Any]:
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule in report.rules:
        if rule.id not in index:
            index[rule.id] = len(descriptors)
            descriptors.append(_descriptor(rule))
    every = [*report.findings, *report.suppressed]
    for f in every:
        if f.rule_id not in index:
            worst = max(g.severity for g in every if g.rule_id == f.rule_id)
            index[f.rule_id] = len(descriptors)
            descriptors.append(_descriptor_from_finding(f, worst))

    driver: dict[str, Any] = {
        "name": "ssot",
        "fullName": "ssot doctrine auditor",
        "version": report.tool_version,
        "semanticVersion": report.tool_version,
        "rules": descriptors,
    }
    if report.information_uri:
        driver["informationUri"] = report.information_uri

    notifications = [
        {"level": "error", "descriptor": {"id": "incomplete"},
         "message": {"text": f"could not read source {src}; the result is incomplete, not a pass"}}
        for src in report.incomplete
    ] + [
        {"level": "warning", "descriptor": {"id": "warning"}, "message": {"text": w}} for w in report.warnings
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": not report.incomplete,
        "endTimeUtc": report.generated_at,
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications

    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"ssot/{report.command}/"},
        "invocations": [invocation],
        "results": [_result(f, index[f.rule_id], report) for f in every],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "command": report.command,
            "target": report.target,
            "fail_on": report.fail_on.label,
            "verdict": report.verdict,
            "exit_code": report.exit_code,
        },
    }
    if report.root and report.root.startswith("/"):
        run["originalUriBaseIds"] = {SRCROOT: {"uri": Path(report.root).as_uri().rstrip("/") + "/"}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report) -> str:
    return json_text(to_document(report))
