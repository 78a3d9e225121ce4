"""The CrossGuard pack: loaded as Pulumi loads it, its policies run on the mocked program's resources."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    StackValidationPolicy,
)

from ssot.crossguard import PACK_NAME, enforcement_for, policies, run_policies
from ssot.findings import Severity
from ssot.mockrun import ProgramRun, run_stack
from ssot.rules import all_rules

ROOT = Path(__file__).resolve().parents[1]
ESTATE = ROOT / "examples" / "estate"


def as_policy_resources(run: ProgramRun, secret_values: dict[str, str] | None = None) -> list[PolicyResource]:
    """What the analyzer hands a stack policy: every resource with its props (secrets unmarked)."""
    by_urn: dict[str, PolicyResource] = {}
    out = []
    for r in run.resources:
        props = dict(r.props)
        for key, value in (secret_values or {}).items():
            if key in props:
                props[key] = value
        opts = PolicyResourceOptions(protect=r.protect, ignore_changes=[], delete_before_replace=None,
                                     aliases=[], additional_secret_outputs=[],
                                     custom_timeouts=PolicyCustomTimeouts(0, 0, 0))
        pr = PolicyResource(r.type, props, r.urn, r.name, opts, None, by_urn.get(r.parent or ""), [], {})
        by_urn[r.urn] = pr
        out.append(pr)
    return out


@pytest.fixture(scope="module")
def estate_resources() -> list[PolicyResource]:
    return as_policy_resources(run_stack(ESTATE, "dev"))


def test_one_policy_per_rule_with_the_rule_id() -> None:
    pols = policies()
    assert [p.name for p in pols] == [r.id for r in all_rules()]
    for p, r in zip(pols, all_rules(), strict=True):
        assert isinstance(p, StackValidationPolicy)
        assert p.enforcement_level == enforcement_for(r.severity)
        assert p.config_schema is not None and {"allow", "justifications"} <= set(p.config_schema.properties)
    assert enforcement_for(Severity.CRITICAL) == EnforcementLevel.MANDATORY
    assert enforcement_for(Severity.LOW) == EnforcementLevel.ADVISORY


def test_pack_entry_point_is_thin_and_named() -> None:
    source = (ROOT / "policies" / "__main__.py").read_text()
    tree = ast.parse(source)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "PolicyPack"]
    assert len(calls) == 1
    assert "policies()" in source and "PACK_NAME" in source
    assert PACK_NAME == "ssot-doctrine"
    assert "virtualenv: ../.venv" in (ROOT / "policies" / "PulumiPolicy.yaml").read_text()


@pytest.mark.parametrize("stack", ["local", "prod"])
def test_shipped_stacks_pass_every_policy(stack: str) -> None:
    assert run_policies(as_policy_resources(run_stack(ROOT, stack))) == []


def test_estate_violations_reported_against_their_resources(estate_resources: list[PolicyResource]) -> None:
    violations = run_policies(estate_resources)
    by_policy: dict[str, list[tuple[str, str | None]]] = {}
    for name, msg, urn in violations:
        by_policy.setdefault(name, []).append((msg, urn))
    assert set(by_policy) == {"hardcoded_secret", "duplicated_secret", "secret_placement", "ownership_boundary",
                              "exposed_role_grant"}
    urns = {r.urn for r in estate_resources}
    for name, items in by_policy.items():
        for msg, urn in items:
            assert "EXPLAIN:" in msg and "PROPOSE:" in msg and f"key: {name}:" in msg
            if urn is not None:
                assert urn in urns
    cron = [u for _, u in by_policy["hardcoded_secret"] if u and u.endswith("::cron-push-kpis")]
    assert cron, "the hardcoded key in the pg_cron command is reported against that job"
    exposed = [u for _, u in by_policy["exposed_role_grant"]]
    assert len(exposed) == 1 and exposed[0], exposed
    assert exposed[0].endswith("postgresql:index/grant:Grant::grant-anon-table-odoo_shadow-all"), exposed


def test_policy_config_allow_and_justify(estate_resources: list[PolicyResource]) -> None:
    before = [v for v in run_policies(estate_resources) if v[0] == "duplicated_secret"]
    assert len(before) == 1
    key = before[0][1].rsplit("key: ", 1)[1].strip()
    assert run_policies(estate_resources, {"duplicated_secret": {"allow": [key]}}, ) == [
        v for v in run_policies(estate_resources) if v[0] != "duplicated_secret"]
    justified = run_policies(estate_resources, {"duplicated_secret": {"justifications": [
        {"subject": "edge:STRIPE_API_KEY, vault:stripe_api_key", "reason": "Edge function verifies at request time",
         "owner": "payments@acme.example", "expires": "2999-01-01"}]}})
    assert not [v for v in justified if v[0] == "duplicated_secret"]
    expired = run_policies(estate_resources, {"duplicated_secret": {"justifications": [
        {"subject": "edge:STRIPE_API_KEY, vault:stripe_api_key", "reason": "Edge function verifies at request time",
         "owner": "payments@acme.example", "expires": "2001-01-01"}]}})
    assert [v for v in expired if v[0] == "duplicated_secret"]


def test_secret_values_handed_in_clear_never_reach_a_message() -> None:
    """CrossGuard gives policies secret inputs unmarked: plant canaries in them and in a literal."""
    canary = "sb_secret_CanaryCrossGuard9Kd7Hs5Lq2Pz"
    run = run_stack(ESTATE, "dev")
    resources = as_policy_resources(run, {"value": canary, "conninfo": f"host=x password={canary}",
                                          "access_token": canary, "db_pass": canary, "password": canary})
    violations = run_policies(resources)
    assert violations
    text = json.dumps(violations)
    assert canary not in text
    assert canary[12:] not in text


def test_pack_served_over_the_analyzer_protocol(tmp_path: Path) -> None:
    """Start the pack as Pulumi does (a process printing its gRPC port) and analyze over gRPC."""
    import subprocess
    import sys

    import grpc
    from google.protobuf import empty_pb2, json_format, struct_pb2
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    proc = subprocess.Popen([sys.executable, "-u", str(ROOT / "policies" / "__main__.py")],
                            cwd=ROOT / "policies", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            assert info.name == PACK_NAME
            assert {p.name for p in info.policies} == {r.id for r in all_rules()}
            run = run_stack(ESTATE, "dev")
            resources = []
            for r in run.resources:
                props = struct_pb2.Struct()
                json_format.ParseDict(json.loads(json.dumps(r.props, default=str)), props)
                resources.append(analyzer_pb2.AnalyzerResource(
                    type=r.type, properties=props, urn=r.urn, name=r.name,
                    options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect), parent=r.parent or "",
                    dependencies=list(r.dependencies)))
            response = stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=60)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    diagnostics = list(response.diagnostics)
    names = {d.policyName for d in diagnostics}
    assert {"hardcoded_secret", "ownership_boundary", "duplicated_secret", "secret_placement"} <= names
    mandatory = [d for d in diagnostics if d.enforcementLevel == analyzer_pb2.MANDATORY]
    assert mandatory, "high and critical findings must block the deployment"
    assert all(d.policyPackName == PACK_NAME for d in diagnostics)


def test_foreign_resource_scheduling_work_in_odoo_is_blocked() -> None:
    """CrossGuard sees every program, not only ours: a resource that writes an Odoo `ir.cron`
    record (here a dynamic resource over Odoo's XML-RPC) is Odoo used as a scheduler."""
    props = {"model": "ir.cron", "name": "Push invoices to Supabase", "interval_number": 2,
             "interval_type": "hours", "code": "model._push_invoices()", "active": True}
    opts = PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 additional_secret_outputs=[], custom_timeouts=PolicyCustomTimeouts(0, 0, 0))
    urn = "urn:pulumi:prod::erp::pulumi-python:dynamic/odoo:Record::push-invoices-cron"
    near = {"model": "res.partner", "name": "ACME"}
    resources = [PolicyResource("pulumi-python:dynamic/odoo:Record", props, urn, "push-invoices-cron", opts,
                                None, None, [], {}),
                 PolicyResource("pulumi-python:dynamic/odoo:Record", near, urn.replace("push-invoices-cron", "acme"),
                                "acme", opts, None, None, [], {})]
    violations = run_policies(resources)
    assert [(name, u) for name, _, u in violations] == [("odoo_cron", urn)]
    message = violations[0][1]
    assert "pg_cron" in message and "0 */2 * * *" in message


def test_foreign_resource_making_odoo_a_job_runner_is_blocked() -> None:
    """A resource that installs queue_job (or kin) in Odoo, by record or by Odoo's command line, or
    writes `queue.job` records, makes Odoo a job runner; installing another module does not."""
    opts = PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 additional_secret_outputs=[], custom_timeouts=PolicyCustomTimeouts(0, 0, 0))
    base = "urn:pulumi:prod::erp::"
    record, command = "pulumi-python:dynamic/odoo:Record", "command:local:Command"
    declared = [
        (record, "install-queue-job", {"model": "ir.module.module", "name": "queue_job", "state": "installed"}),
        (command, "odoo-init", {"create": "odoo -d prod -i queue_job_cron,acme_sync --stop-after-init"}),
        (record, "enqueue-sync", {"model": "queue.job", "model_name": "acme.sync", "method_name": "_push"}),
        # near misses: another module installed, queue_job named where no module is installed
        (record, "install-sale", {"model": "ir.module.module", "name": "sale"}),
        (command, "odoo-update", {"create": "odoo -d prod -u sale --stop-after-init"}),
        (record, "partner", {"model": "res.partner", "name": "queue_job"}),
    ]
    resources = [PolicyResource(t, props, f"{base}{t}::{name}", name, opts, None, None, [], {})
                 for t, name, props in declared]
    violations = sorted((name, u) for name, _, u in run_policies(resources))
    assert violations == sorted([("odoo_job_runner", f"{base}{record}::install-queue-job"),
                                 ("odoo_job_runner", f"{base}{command}::odoo-init"),
                                 ("odoo_job_runner", f"{base}{record}::enqueue-sync")])
    messages = {u: m for name, m, u in run_policies(resources)}
    assert "queue_job_cron" in messages[f"{base}{command}::odoo-init"]
    assert "acme.sync._push" in messages[f"{base}{record}::enqueue-sync"]
