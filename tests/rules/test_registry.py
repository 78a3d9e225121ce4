"""The rule registry: discovery, metadata, the three files per rule, and what findings may never carry."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from ssot.inventory import Asset, Inventory, Kind, Location, Phase, Provenance, Store
from ssot.rules import Rule, all_rules, run_rules

ROOT = Path(__file__).resolve().parents[2]
DOCTRINE_RULES = {"hardcoded_secret", "odoo_cron", "duplicated_secret", "secret_placement",
                  "scheduler_placement", "ownership_boundary", "odoo_job_runner", "exposed_role_grant",
                  "vault_exposure", "cron_job_failing"}
# Test files in tests/rules that are not one rule's table.
NOT_RULE_TESTS = {"test_registry.py", "test_common.py"}
DOC_SECTIONS = ("## What it enforces", "## Why", "## What triggers it", "## Near misses that stay quiet",
                "## Subject format", "## How to fix", "## Severity and phases")
CANARY = "sk_live_CANARY7f3e9b1d2c4a6058ZZ"


def test_discovery_finds_the_doctrine_rules() -> None:
    rules = all_rules()
    ids = [r.id for r in rules]
    assert DOCTRINE_RULES <= set(ids)
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    for rule in rules:
        assert isinstance(rule, Rule)
        rule.validate(rule.id)  # the module name is the id
        assert rule.phases <= set(Phase)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.id)
def test_every_rule_has_its_test_and_doc_page(rule: Rule) -> None:
    test = ROOT / "tests" / "rules" / f"test_{rule.id}.py"
    doc = ROOT / "docs" / "rules" / f"{rule.id}.md"
    assert test.is_file(), f"missing {test.relative_to(ROOT)}"
    assert doc.is_file(), f"missing {doc.relative_to(ROOT)}"
    src = test.read_text()
    assert f"from ssot.rules.{rule.id} import RULE" in src
    assert src.count("@pytest.mark.parametrize") == 1, "one table-driven test per rule"
    for row in ("nothing there", "near miss", "violation", "fixed"):
        assert f'Case("{row}' in src, f"{test.name} has no {row!r} row"
    # pytest gives repeated ids a suffix, so a row pasted twice (a merge) would run twice unnoticed
    names = re.findall(r'Case\("([^"]+)"', src)
    repeated = sorted({n for n in names if names.count(n) > 1})
    assert not repeated, f"{test.name} repeats rows: {repeated}"
    text = doc.read_text()
    assert text.startswith(f"# {rule.id}\n"), f"{doc.name} must start with '# {rule.id}'"
    for section in DOC_SECTIONS:
        assert section in text, f"{doc.name} has no '{section}' section"
    assert rule.clause in text, f"{doc.name} must quote the clause verbatim"
    assert f"**{rule.severity.label}**" in text, f"{doc.name} must state the default severity"
    for phase in rule.phases:
        assert phase.value in text


def test_no_orphan_tests_or_pages() -> None:
    ids = {r.id for r in all_rules()}
    tests = {p.name for p in (ROOT / "tests" / "rules").glob("test_*.py")} - NOT_RULE_TESTS
    assert {t[len("test_"):-len(".py")] for t in tests} == ids
    pages = {p.stem for p in (ROOT / "docs" / "rules").glob("*.md")} - {"README", "index"}
    assert pages == ids


def careless_inventory(phase: Phase) -> Inventory:
    """Every kind the rules read, each with the canary where a careless source might leave a value."""
    raw = {"raw": CANARY, "value": CANARY, "line_text": f"token = '{CANARY}'", "description": CANARY}
    loc = Location(path="scripts/sync.py", line=3)
    return Inventory([
        Asset(Kind.SECRET_LITERAL, Store.REPOSITORY, "scripts/sync.py:Stripe API key", phase, loc,
              props={**raw, "secret_type": "Stripe API key", "context": "file", "detector": "CKV_SECRET_6",
                     "redacted": "…(32 chars)"}, fingerprint="f" * 64),
        Asset(Kind.SECRET_LITERAL, Store.REPOSITORY, "scripts/old.py:Stripe API key", phase, loc,
              props={**raw, "secret_type": "Stripe API key", "context": "file", "redacted": CANARY},
              fingerprint="f" * 64),
        Asset(Kind.CONFIG_VALUE, Store.STACK_CONFIG, "githubWebhookSecret", phase, loc,
              props={**raw, "key": "githubWebhookSecret", "expected": "an encrypted value"}),
        Asset(Kind.VAULT_SECRET, Store.VAULT, "stripe_api_key", phase, loc, props={**raw, "category": "api-key"},
              provenance=Provenance("literal"), fingerprint="f" * 64),
        Asset(Kind.EDGE_SECRET, Store.EDGE, "STRIPE_KEY", phase, loc,
              props={**raw, "category": "api-key", "runtime_only_reason": None}, fingerprint="f" * 64),
        Asset(Kind.AWS_SECRET, Store.AWS_SECRETS_MANAGER, "prod/stripe", phase, loc,
              props={**raw, "category": "api-key", "secure": True}, fingerprint="f" * 64),
        Asset(Kind.ODOO_PARAMETER, Store.ODOO, "acme.stripe_key", phase, loc,
              props={**raw, "looks_secret": True}, fingerprint="f" * 64),
        Asset(Kind.ODOO_SECRET_FIELD, Store.ODOO, "res.company.stripe_key", phase, loc,
              props={**raw, "model": "res.company", "field": "stripe_key"}),
        Asset(Kind.CRON_JOB, Store.POSTGRES, "nightly-sync", phase, loc,
              props={**raw, "schedule": "0 3 * * *", "command": f"select charge('{CANARY}')",
                     "command_secret_types": ["Stripe API key"], "failed_runs": 2, "last_failure": None}),
        Asset(Kind.ODOO_CRON, Store.ODOO, "acme.ir_cron_charge", phase, loc,
              props={**raw, "model": "account.move", "code": f"model._cron_charge(key='{CANARY}')",
                     "interval": {"number": 1, "type": "days"}, "active": True, "defined_in": "xml"}),
        Asset(Kind.SCHEDULE, Store.ODOO, "acme.queue", phase, loc,
              props={**raw, "schedule": CANARY, "command": CANARY}),
        Asset(Kind.SCHEDULE, Store.CRONTAB, "deploy/crontab:charge", phase, loc,
              props={**raw, "schedule": f"0 3 * * * {CANARY}", "scheduler": "cron",
                     "command": f"curl -H 'Bearer {CANARY}'"}),
        Asset(Kind.ODOO_MODULE, Store.ODOO, "queue_job", phase, loc,
              props={**raw, "state": "depended", "job_runner": True, "depended_by": [CANARY, "acme"]}),
        Asset(Kind.ODOO_JOB, Store.ODOO, "scripts/sync.py:3", phase, loc,
              props={**raw, "via": "with_delay", "model": CANARY, "method": CANARY, "addon": CANARY}),
        Asset(Kind.SCHEMA, Store.POSTGRES, "odoo_shadow", phase, props={**raw, "domain": "shadow"}),
        Asset(Kind.ROLE, Store.POSTGRES, "ssot_agent", phase, props={**raw, "role_kind": "agent"}),
        Asset(Kind.TABLE, Store.POSTGRES, "public.invoices", phase, loc,
              props={**raw, "schema": "public", "table": "invoices", "columns": ["id"]}),
        Asset(Kind.GRANT, Store.POSTGRES, "ssot_agent:table:odoo_shadow", phase, loc,
              props={**raw, "role": "ssot_agent", "role_kind": "agent", "schema": "odoo_shadow",
                     "object_type": "table", "objects": ["*"], "privileges": ["SELECT", "INSERT"]}),
        Asset(Kind.GRANT, Store.POSTGRES, "anon:table:odoo_shadow", phase, loc,
              props={**raw, "role": "anon", "schema": "odoo_shadow", "object_type": "table", "objects": ["*"],
                     "privileges": ["INSERT"]}),
        Asset(Kind.ODOO_DATA_FIELD, Store.ODOO, "acme.insight.x_embedding", phase, loc,
              props={**raw, "model": "acme.insight", "field": "x_embedding", "holds": "embedding"}),
        Asset(Kind.SECRET_FUNCTION, Store.POSTGRES, "public.get_key()", phase, loc,
              props={**raw, "schema": "public", "owner": "postgres", "executable_by": ["PUBLIC"]}),
    ])


@pytest.mark.parametrize("phase", list(Phase), ids=lambda p: p.value)
def test_a_careless_sources_values_never_reach_a_finding(phase: Phase) -> None:
    inv = careless_inventory(phase)
    findings = run_rules(inv)
    # Every rule fires, so this test can fail for each of them.
    assert {f.rule_id for f in findings} >= {r.id for r in all_rules() if phase in r.phases}
    for f in findings:
        rendered = json.dumps(f.to_dict(), default=str) + repr(f) + str(f.metadata)
        assert CANARY not in rendered, f"{f.rule_id} rendered a value: {f.subject}"
        assert CANARY[8:20] not in rendered, f"{f.rule_id} rendered part of a value: {f.subject}"


def test_subjects_are_documented() -> None:
    """Each subject's prefix (what users write justifications against) appears in the rule's page."""
    for f in run_rules(careless_inventory(Phase.STATIC)):
        page = (ROOT / "docs" / "rules" / f"{f.rule_id}.md").read_text()
        prefix = re.split(r"(?<=:)", f.subject, maxsplit=1)[0]
        assert f"`{prefix}" in page, f"{f.rule_id}: subject prefix {prefix!r} is not documented"


def test_rules_are_pure() -> None:
    inv = careless_inventory(Phase.LIVE)
    before = copy.deepcopy(inv.assets)
    first = [f.to_dict() for f in run_rules(inv)]
    assert [f.to_dict() for f in run_rules(inv)] == first
    assert repr(inv.assets) == repr(before)
