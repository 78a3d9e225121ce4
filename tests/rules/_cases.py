"""The table every rule test runs: cases (an inventory built by hand per phase) and expected findings.

Each row is run the same way: the rule over the inventory, then every expected finding checked for
rule id, severity, subject and key (stable), location (carried through), phase, and the concrete
snippets its PROPOSE must contain; then the same inventory with every line moved must give the same
keys (keys never depend on lines).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from ssot.findings import Finding, Severity, finding_key
from ssot.inventory import Asset, Inventory, Location, Phase
from ssot.model import Platform, load_platform
from ssot.rules import Rule

TODAY = datetime.date(2025, 6, 1)
YESTERDAY = TODAY - datetime.timedelta(days=1)
NEXT_MONTH = TODAY + datetime.timedelta(days=30)


def justification(rule: str, subject: str, expires: datetime.date = NEXT_MONTH,
                  owner: str = "platform-team") -> dict[str, Any]:
    return {"rule": rule, "subject": subject, "reason": "documented exception", "owner": owner,
            "expires": expires}


@dataclass
class Expect:
    subject: str
    severity: Severity
    location: Location
    propose_has: Sequence[str] = ()
    explain_has: Sequence[str] = ()
    # (header line in PROPOSE, the YAML document indented under it)
    yaml_after: Sequence[tuple[str, Any]] = ()
    metadata_has: dict[str, Any] = field(default_factory=dict)
    # Headers in PROPOSE under which a fragment of the platform declaration is indented: they are
    # applied to a stack file and loaded by ssot.model (the real validator), with every key of a
    # proposed `pulumi config set --secret <key>` set; `applied` then checks the loaded platform.
    platform_after: Sequence[str] = ()
    applied: Callable[[Platform], None] | None = None


@dataclass
class Case:
    name: str
    assets: Callable[[Phase], list[Asset]]
    expect: Sequence[Expect] = ()
    justifications: Sequence[dict[str, Any]] = ()


def rows(rule: Rule, cases: Sequence[Case]) -> list[Any]:
    return [pytest.param(c, p, id=f"{p.value}-{c.name}") for c in cases for p in Phase if p in rule.phases]


def yaml_block_after(text: str, header: str) -> Any:
    """The YAML indented under the first line of `text` that contains `header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if header in line) + 1
    block = []
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        block.append(line)
    return yaml.safe_load(textwrap.dedent("\n".join(block)))


BASE_PLATFORM: dict[str, Any] = {
    "name": "rules-test",
    "project": {"name": "rules-test", "organizationId": "acme", "region": "eu-central-1",
                "dbPassword": {"secret": "dbPassword"}, "accessToken": {"env": "SUPABASE_ACCESS_TOKEN"}},
    "database": {"fromProject": True},
    "schemas": [{"name": n, "domain": d} for n, d in
                (("ops", "ops"), ("ai", "ai"), ("audit", "audit"), ("analytics", "analytics"),
                 ("odoo_shadow", "shadow"))],
    "roles": [{"name": "ssot_agent", "kind": "agent"}, {"name": "ssot_sync", "kind": "automation"}],
}


def _merge(base: dict[str, Any], fragment: dict[str, Any]) -> None:
    for key, value in fragment.items():
        if isinstance(value, dict):
            _merge(base.setdefault(key, {}), value)
        elif isinstance(value, list):
            items = base.setdefault(key, [])
            for item in value:
                same = [i for i, old in enumerate(items)
                        if isinstance(old, dict) and isinstance(item, dict) and "name" in item
                        and old.get("name") == item["name"]]
                if same:
                    items[same[0]] = {**items[same[0]], **item}
                else:
                    items.append(item)
        else:
            base[key] = value


def apply_proposal(propose: str, headers: Sequence[str], tmp_dir: Any) -> Platform:
    """Apply PROPOSE's platform fragments and `pulumi config set --secret` commands to a stack file."""
    platform = yaml.safe_load(yaml.safe_dump(BASE_PLATFORM))
    for header in headers:
        fragment = yaml_block_after(propose, header)
        assert isinstance(fragment, dict), f"no platform fragment under {header!r}"
        _merge(platform, fragment)
    config: dict[str, Any] = {"ssot:dbPassword": {"secure": "v1:AAAA"}}
    # Keys the proposal sets, and keys it says already exist in the stack being fixed.
    for key in re.findall(r"pulumi config set --secret ([A-Za-z][A-Za-z0-9_]*)|already encrypted stack config "
                          r"\(ssot:([A-Za-z][A-Za-z0-9_]*)\)", propose):
        key = "".join(key)
        config[f"ssot:{key}"] = {"secure": "v1:AAAA"}
    config["ssot:platform"] = platform
    path = tmp_dir / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return load_platform(path, stack="test")


def _moved(asset: Asset) -> Asset:
    loc = asset.location
    return dataclasses.replace(asset, location=dataclasses.replace(loc, line=(loc.line or 0) + 40))


def run_case(rule: Rule, case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch,
             tmp_path: Any) -> list[Finding]:
    monkeypatch.setenv("SSOT_TODAY", TODAY.isoformat())
    inv = Inventory(case.assets(phase), justifications=list(case.justifications))
    got = list(rule.run(inv))
    assert sorted(f.subject for f in got) == sorted(e.subject for e in case.expect), [f.explain for f in got]
    by_subject = {f.subject: f for f in got}
    for e in case.expect:
        f = by_subject[e.subject]
        assert f.rule_id == rule.id
        assert f.key == finding_key(rule.id, e.subject)
        assert f.severity == e.severity, f.explain
        assert f.location == e.location
        assert f.phase == phase
        assert f.clause == rule.clause
        assert f.explain and f.propose
        for s in e.propose_has:
            assert s in f.propose, f"{s!r} not in PROPOSE:\n{f.propose}"
        for s in e.explain_has:
            assert s in f.explain, f"{s!r} not in EXPLAIN:\n{f.explain}"
        for header, doc in e.yaml_after:
            assert yaml_block_after(f.propose, header) == doc
        for k, v in e.metadata_has.items():
            assert f.metadata.get(k) == v
        if e.platform_after:
            applied = apply_proposal(f.propose, e.platform_after, tmp_path)
            if e.applied:
                e.applied(applied)
    moved = Inventory([_moved(a) for a in case.assets(phase)], justifications=list(case.justifications))
    assert sorted(f.key for f in rule.run(moved)) == sorted(f.key for f in got)
    return got
