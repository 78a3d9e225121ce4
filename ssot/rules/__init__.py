"""Doctrine rules: one module per rule, found automatically.

A rule module defines `RULE = Rule(...)`: validated metadata plus a pure function from an Inventory
to findings. The module's name is the rule id, and the same id names its test
(`tests/rules/test_<id>.py`), its doc page (`docs/rules/<id>.md`), the prefix of its finding keys and
its CrossGuard policy. A rule never reads a file, a database or an API: sources do that, once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Location, Phase
from ssot.plugins import discover

_ID = re.compile(r"^[a-z][a-z0-9_]{2,40}\Z")
_CLAUSE = re.compile(r"^§[1-7](\.\d+)? ")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    clause: str  # e.g. "§4 Secret Management: Secrets MUST NOT be hardcoded"
    severity: Severity
    categories: tuple[str, ...]
    phases: frozenset[Phase]
    risk: str
    remediation: str
    check: Callable[[Inventory], Iterable[Finding]]

    def validate(self, module_name: str) -> None:
        problems = []
        if self.id != module_name:
            problems.append(f"id {self.id!r} must equal its module name {module_name!r}")
        if not _ID.match(self.id):
            problems.append(f"id {self.id!r} must match {_ID.pattern}")
        if not _CLAUSE.match(self.clause):
            problems.append(f"clause {self.clause!r} must start with a doctrine section, e.g. '§4 '")
        if not self.phases:
            problems.append("phases must not be empty")
        for name in ("title", "risk", "remediation"):
            if len(getattr(self, name).strip()) < 10:
                problems.append(f"{name} must be a real sentence")
        if not self.categories:
            problems.append("categories must not be empty")
        if problems:
            raise TypeError(f"rule module ssot.rules.{module_name}: " + "; ".join(problems))

    def finding(self, *, subject: str, explain: str, propose: str, location: Location, phase: Phase,
                severity: Severity | None = None, metadata: dict[str, Any] | None = None) -> Finding:
        """Build a finding in this rule's shape; `subject` must be stable and free of secret values."""
        return Finding(
            rule_id=self.id, title=self.title, clause=self.clause,
            severity=self.severity if severity is None else severity,  # INFO is 0: not "unset"
            explain=explain, propose=propose, location=location, subject=subject, phase=phase,
            metadata=metadata or {},
        )

    def for_asset(self, asset: Asset, *, explain: str, propose: str, subject: str | None = None,
                  severity: Severity | None = None, metadata: dict[str, Any] | None = None) -> Finding:
        return self.finding(subject=subject or asset.ident, explain=explain, propose=propose,
                            location=asset.location, phase=asset.phase, severity=severity,
                            metadata=metadata)

    def run(self, inventory: Inventory) -> Iterator[Finding]:
        if not (self.phases & inventory.phases):
            return
        for f in self.check(inventory):
            if f.phase in self.phases:
                yield f


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule module in this package, validated, in id order."""
    return tuple(sorted(discover(__name__, __path__, "RULE", Rule, "rule"), key=lambda r: r.id))


def run_rules(inventory: Inventory, rules: Iterable[Rule] | None = None) -> list[Finding]:
    findings: dict[str, Finding] = {}
    for rule in rules if rules is not None else all_rules():
        for f in rule.run(inventory):
            # Same key twice means the same subject seen by two sources: keep the first (the most
            # precise location is collected first by convention).
            findings.setdefault(f.key, f)
    return sorted(findings.values(), key=lambda f: (-f.severity, f.rule_id, f.location.describe(), f.key))
