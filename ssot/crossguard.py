"""The doctrine as a Pulumi CrossGuard policy pack: one stack policy per rule.

`policies/__main__.py` serves these with pulumi_policy.PolicyPack (`pulumi preview --policy-pack
policies`, `pulumi policy analyze`). Each policy is a data object wrapping the rule's pure function:
the stack's resources become the declared inventory once (shared by all policies of one analysis),
the rule runs, each finding is reported against its resource's URN.

CrossGuard hands policies secret values in the clear. The declared adapter only fingerprints and
scans them, and findings are built from names and locations, never values; `report` redacts any
remaining secret-looking text as a last line of defence.

Config (per policy, in the policy pack config):
  allow:          [finding keys or subjects]  silenced, e.g. after review
  justifications: [{subject, reason, owner, expires}]  as in the stack's `justifications`
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import Severity as PolicySeverity

from ssot.findings import Finding, Severity
from ssot.inventory import Inventory
from ssot.outguard import withhold
from ssot.rules import Rule, all_rules
from ssot.sources.declared import ResourceView, inventory_from_resources

PACK_NAME = "ssot-doctrine"

_SEVERITY = {Severity.INFO: PolicySeverity.LOW, Severity.LOW: PolicySeverity.LOW,
             Severity.MEDIUM: PolicySeverity.MEDIUM, Severity.HIGH: PolicySeverity.HIGH,
             Severity.CRITICAL: PolicySeverity.CRITICAL}

CONFIG_SCHEMA = PolicyConfigSchema(properties={
    "allow": {
        "type": "array", "items": {"type": "string", "minLength": 1},
        "description": "Finding keys or subjects this policy must not report (reviewed exceptions).",
    },
    "justifications": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["subject", "reason", "owner", "expires"],
            "additionalProperties": False,
            "properties": {
                "subject": {"type": "string", "minLength": 1},
                "reason": {"type": "string", "minLength": 10},
                "owner": {"type": "string", "minLength": 1},
                "expires": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
            },
        },
        "description": "Time-boxed justifications for what the doctrine allows only with one.",
    },
})


def enforcement_for(severity: Severity) -> EnforcementLevel:
    """Blocking severities stop `pulumi up`; the rest are reported and let through."""
    return EnforcementLevel.MANDATORY if severity >= Severity.HIGH else EnforcementLevel.ADVISORY


class _InventoryCache:
    """All policies of one analysis see the same resources: build the inventory once."""

    def __init__(self) -> None:
        self._key: tuple[str, ...] | None = None
        self._inventory: Inventory | None = None

    def get(self, resources: Sequence[Any]) -> Inventory:
        key = tuple(r.urn for r in resources)
        if key != self._key or self._inventory is None:
            self._inventory = inventory_from_resources(
                ResourceView(r.resource_type, r.name, r.urn, _plain(r.props)) for r in resources)
            self._key = key
        return self._inventory


def _plain(props: Mapping[str, Any]) -> dict[str, Any]:
    # pulumi_policy wraps values in read-only proxies; the adapter wants plain dicts and lists.
    def conv(v: Any) -> Any:
        if isinstance(v, Mapping):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [conv(x) for x in v]
        return v
    return conv(props)


def _with_policy_config(inv: Inventory, rule: Rule, config: Mapping[str, Any]) -> Inventory:
    extra = []
    for j in config.get("justifications") or []:
        try:
            expires = dt.date.fromisoformat(str(j["expires"]))
        except (KeyError, ValueError):
            continue
        extra.append({"rule": rule.id, "subject": j.get("subject"), "reason": j.get("reason"),
                      "owner": j.get("owner"), "expires": expires})
    if not extra:
        return inv
    view = Inventory(assets=list(inv.assets), phases=set(inv.phases))
    view.justifications = [*inv.justifications, *extra]
    return view


def message(f: Finding) -> str:
    """STOP / EXPLAIN / PROPOSE in one violation message (CrossGuard shows it verbatim)."""
    where = f.location.describe()
    # Findings are value-free; the guard still withholds a token that hid in a name (a URN).
    return withhold(f"[{f.severity.label}] {f.title} ({f.clause})\n"
                    f"EXPLAIN: {f.explain}\n  at {where}\n"
                    f"PROPOSE: {f.propose}\n"
                    f"key: {f.key}")


def make_policy(rule: Rule, cache: _InventoryCache) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config() or {}
        allowed = set(config.get("allow") or [])
        inv = _with_policy_config(cache.get(args.resources), rule, config)
        for finding in rule.run(inv):
            if finding.key in allowed or finding.subject in allowed:
                continue
            report_violation(message(finding), finding.location.urn)

    return StackValidationPolicy(
        name=rule.id, description=rule.title, validate=validate,
        enforcement_level=enforcement_for(rule.severity), config_schema=CONFIG_SCHEMA,
        display_name=rule.title, severity=_SEVERITY[rule.severity], tags=list(rule.categories),
        remediation_steps=rule.remediation,
    )


def policies(rules: Iterable[Rule] | None = None) -> list[Policy]:
    cache = _InventoryCache()
    return [make_policy(r, cache) for r in (rules if rules is not None else all_rules())]


def run_policies(resources: Sequence[Any], config: Mapping[str, Mapping[str, Any]] | None = None,
                 pols: Sequence[Policy] | None = None) -> list[tuple[str, str, str | None]]:
    """Run every policy over `resources` as the analyzer would: (policy, message, urn) per violation."""
    out: list[tuple[str, str, str | None]] = []
    for policy in pols if pols is not None else policies():
        assert isinstance(policy, StackValidationPolicy)

        def report(msg: str, urn: str | None = None, _name: str = policy.name) -> None:
            out.append((_name, msg, urn))

        policy.validate(StackValidationArgs(list(resources), (config or {}).get(policy.name, {})), report)
    return out


ReportFn = Callable[[str, str | None], None]
