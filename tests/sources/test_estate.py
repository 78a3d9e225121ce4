"""`examples/estate`: the static source finds exactly what its README lists."""

from __future__ import annotations

import pytest
from estate_readme import ESTATE, table

from ssot.inventory import Inventory, Kind
from ssot.sources.static import collect_static


@pytest.fixture(scope="module")
def inventory(checkov_exe: str) -> Inventory:
    return collect_static(ESTATE, checkov_exe=checkov_exe)


def test_estate_assets_are_exactly_those_listed(inventory: Inventory) -> None:
    assert inventory.incomplete == []
    violations = table("Planted violations")
    quiet = [r for r in table("Near misses") if r["asset"] == "quiet"]
    expected = {(r["kind"], r["path"], r["name"]) for r in violations + quiet}
    got = {(a.kind.value, a.location.path, a.name) for a in inventory.assets}
    assert got == expected


def test_estate_near_misses_stay_absent(inventory: Inventory) -> None:
    for r in table("Near misses"):
        if r["asset"] != "absent":
            continue
        hits = [a for a in inventory.assets if a.kind.value == r["kind"] and a.location.path == r["path"]
                and r["name"] in ("-", a.name)]
        assert hits == [], f"near miss flagged: {r['what']}"


def test_estate_planted_facts(inventory: Inventory) -> None:
    lits = {a.name: a for a in inventory.of(Kind.SECRET_LITERAL)}
    dup = [a for a in lits.values() if a.props["secret_type"] == "Supabase secret key"
           and not (a.location.path or "").startswith("stacks/")]
    assert len(dup) == 2 and dup[0].fingerprint == dup[1].fingerprint
    param = next(a for a in inventory.of(Kind.ODOO_PARAMETER) if a.name == "acme_sync.webhook_secret")
    assert param.props["looks_secret"] is True
    assert param.fingerprint == lits["odoo/addons/acme_sync/data/ir_config_parameter.xml:Odoo system parameter "
                                     "secret"].fingerprint
    jwt = lits["supabase/migrations/20240101000000_cron_jobs.sql:Supabase service_role JWT"]
    assert jwt.props["context"] == "cron-command"
    crons = {a.name: a for a in inventory.of(Kind.CRON_JOB)}
    assert crons["refresh-kpis"].props["command_secret_types"] == ["Supabase service_role JWT"]
    assert crons["nightly-export"].props["command_secret_types"] == []
    odoo = {a.name: a.props for a in inventory.of(Kind.ODOO_CRON)}
    assert odoo["acme_sync.ir_cron_push_invoices"]["defined_in"] == "xml"
    assert odoo["acme_sync.ir_cron_push_invoices"]["noupdate"] is True
    assert odoo["acme_sync:ACME: retry failed pushes"]["register_hook"] is True


def test_estate_rules_fire_as_listed(inventory: Inventory) -> None:
    """Each rule named for a violation reports on the listed file; rules named only by near misses stay quiet
    on theirs."""
    from ssot.rules import all_rules

    findings = [f for rule in all_rules() for f in rule.run(inventory)]
    fired = {(f.rule_id, f.location.path) for f in findings}
    for r in table("Planted violations"):
        assert (r["rule"], r["path"]) in fired, f"{r['rule']} did not fire on {r['path']}: {r['what']}"
    listed = {(r["rule"], r["path"]) for r in table("Planted violations")}
    for r in table("Near misses"):
        if (r["rule"], r["path"]) not in listed:
            assert (r["rule"], r["path"]) not in fired, f"{r['rule']} fired on near miss: {r['what']}"
