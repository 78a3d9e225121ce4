"""Machine-readable report, versioned and described by `ssot/schemas/report.schema.json`."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ssot.findings import FINDING_SCHEMA_VERSION
from ssot.reporters._report import Report, finding_dict, json_text

SCHEMA_ID = "urn:ssot:schema:report:1.0"


@cache
def load_schema() -> dict[str, Any]:
    """The report's JSON Schema (draft 2020-12), as packaged with ssot."""
    text = resources.files("ssot").joinpath("schemas/report.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def to_document(report: Report) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_ID,
        "schema_version": FINDING_SCHEMA_VERSION,
        "tool": {"name": "ssot", "version": report.tool_version},
        "command": report.command,
        "target": report.target,
        "generated_at": report.generated_at,
        "fail_on": report.fail_on.label,
        "summary": {
            "verdict": report.verdict,
            "exit_code": report.exit_code,
            "headline": report.headline(),
            "total": len(report.findings),
            "blocking": len(report.blocking),
            "suppressed": len(report.suppressed),
            "incomplete": len(report.incomplete),
            "by_severity": report.counts(),
            "blocking_by_severity": report.blocking_counts(),
        },
        "findings": [finding_dict(f) for f in report.findings],
        "suppressed": [finding_dict(f) for f in report.suppressed],
        "incomplete": list(report.incomplete),
        "warnings": list(report.warnings),
        **({"audit": report.audit} if report.audit else {}),
    }


def render(report: Report) -> str:
    return json_text(to_document(report))
