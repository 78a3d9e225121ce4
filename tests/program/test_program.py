"""The Pulumi program under Pulumi's mock runtime, for both shipped stacks.

These run the project's real `__main__.py` with `pulumi.runtime.set_mocks` (no engine, no CLI),
record every registration as the engine would see it, and check the graph: resources and types,
parents, dependencies, the explicit postgresql provider, secrecy of every secret-bearing input.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from ssot.mockrun import ProgramRun, Registered, run_stack
from ssot.model import load_platform

ROOT = Path(__file__).resolve().parents[2]
T = {
    "schema": "postgresql:index/schema:Schema",
    "role": "postgresql:index/role:Role",
    "grant": "postgresql:index/grant:Grant",
    "defpriv": "postgresql:index/defaultPrivileges:DefaultPrivileges",
    "ext": "postgresql:index/extension:Extension",
    "provider": "pulumi:providers:postgresql",
    "vault": "pulumi-python:dynamic/ssot:VaultSecret",
    "cron": "pulumi-python:dynamic/ssot:CronJob",
    "project": "pulumi-python:dynamic/ssot:SupabaseProject",
    "edge": "pulumi-python:dynamic/ssot:EdgeFunctionSecret",
    "audit_fn": "pulumi-python:dynamic/ssot:AuditFunction",
    "fkey": "pulumi-python:dynamic/ssot:FingerprintKey",
}
# Inputs that carry a secret whenever present.
SECRET_INPUTS = {
    T["vault"]: {"conninfo", "fingerprint_key", "value"},
    T["cron"]: {"conninfo"},
    T["role"]: {"password"},
    T["provider"]: {"password"},
    T["project"]: {"access_token", "db_pass"},
    T["edge"]: {"access_token", "value", "fingerprint_key"},
    T["audit_fn"]: {"conninfo"},
}


@pytest.fixture(scope="module", params=["local", "prod"])
def stack_run(request: pytest.FixtureRequest) -> tuple[str, ProgramRun]:
    return request.param, run_stack(ROOT, request.param)


def _one(run: ProgramRun, type_: str, name: str) -> Registered:
    found = [r for r in run.resources if r.type == type_ and r.name == name]
    assert len(found) == 1, f"{type_} {name}: {len(found)} registered"
    return found[0]


AUDIT = "ssot:platform:AuditAccess"


def _audit_children(run: ProgramRun) -> list[Registered]:
    by_urn = run.by_urn()
    return [r for r in run.resources if r.parent and by_urn[r.parent].type == AUDIT]


def test_expected_resources_and_types(stack_run: tuple[str, ProgramRun]) -> None:
    stack, run = stack_run
    decl = load_platform(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    audit = {r.urn for r in _audit_children(run)}
    counts = Counter(r.type for r in run.resources if r.urn not in audit)
    assert counts[T["schema"]] == len(decl.schemas)
    assert counts[T["role"]] == len(decl.roles)
    assert counts[T["grant"]] == len(decl.grants)
    assert counts[T["defpriv"]] == len(decl.default_privileges)
    assert counts[T["ext"]] == len(decl.extensions)
    assert counts[T["vault"]] == len(decl.vault_secrets)
    assert counts[T["cron"]] == len(decl.cron_jobs) + (1 if decl.audit_schedule else 0)
    assert counts[T["edge"]] == len(decl.edge_secrets)
    assert counts[T["project"]] == (1 if decl.project else 0)
    assert counts[T["provider"]] == 1
    assert {s.name for s in decl.schemas} == {r.inputs["name"] for r in run.by_type(T["schema"]) if r.urn not in audit}
    assert {v.name for v in decl.vault_secrets} == {r.inputs["name"] for r in run.by_type(T["vault"])
                                                    if r.urn not in audit}
    for r in run.by_type(T["schema"]):
        assert r.inputs["dropCascade"] is False, "a config edit must never drop a schema's data"


def test_the_audit_fingerprint_function_is_declared_for_the_auditor_only(stack_run: tuple[str, ProgramRun]) -> None:
    """The Vault fingerprint function the audit calls is ssot's own resource (pulumi-postgresql's Function
    cannot pin search_path), for the stack's auditor role; its key is a Vault secret
    (ssot/components/audit.py; the SQL it runs: tests/test_audit_function.py)."""
    _, run = stack_run
    kids = {(r.type, r.inputs.get("name") or r.inputs.get("role") or r.inputs.get("auditor")): r
            for r in _audit_children(run)}
    fn = kids[(T["audit_fn"], "ssot_auditor")]
    assert fn.secret_inputs == {"conninfo"}
    assert not [r for r in _audit_children(run) if r.type == "postgresql:index/function:Function"]
    assert kids[(T["vault"], "ssot_fingerprint_key")]
    assert kids[(T["grant"], "ssot_auditor")].inputs["privileges"] == ["EXECUTE"]
    assert kids[(T["grant"], "public")].inputs["privileges"] == []
    assert kids[(T["schema"], "ssot_audit")]


def test_a_stack_without_fingerprint_key_gets_a_random_secret_one(stack_run: tuple[str, ProgramRun]) -> None:
    """Not one derived from the stack's public names: a generated key, a secret output only."""
    stack, run = stack_run
    decl = load_platform(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    keys = run.by_type(T["fkey"])
    assert len(keys) == (0 if decl.fingerprint_key is not None else 1)
    from ssot.providers.edge_secret import EdgeFunctionSecret
    from ssot.providers.fingerprint_key import FingerprintKey
    from ssot.providers.vault_secret import VaultSecret

    # fingerprints in state are secret too: state plus repository must never be a guess oracle
    assert "fingerprint" in VaultSecret.secret_outputs and "fingerprint" in EdgeFunctionSecret.secret_outputs
    assert FingerprintKey.secret_outputs == ("key",)


def test_parents_form_the_component_tree(stack_run: tuple[str, ProgramRun]) -> None:
    _, run = stack_run
    by_urn = run.by_urn()
    platform = [r for r in run.resources if r.type == "ssot:platform:Platform"]
    assert len(platform) == 1 and platform[0].parent is None
    expected_parent = {
        T["schema"]: "ssot:platform:DoctrineSchemas", T["ext"]: "ssot:platform:DoctrineSchemas",
        T["role"]: "ssot:platform:Roles", T["grant"]: "ssot:platform:Grants", T["defpriv"]: "ssot:platform:Grants",
        T["vault"]: "ssot:platform:VaultSecrets", T["cron"]: "ssot:platform:CronJobs",
        T["project"]: "ssot:platform:SupabasePlatform", T["edge"]: "ssot:platform:SupabasePlatform",
        T["provider"]: "ssot:platform:Platform", T["fkey"]: "ssot:platform:Platform",
    }
    audit = {r.urn for r in _audit_children(run)}
    for r in run.resources:
        if r.urn in audit:
            continue
        if r.type == T["cron"] and r.inputs["name"] == "ssot-audit":
            assert r.parent is not None and by_urn[r.parent].type == "ssot:platform:AuditSchedule"
        elif r.type in expected_parent:
            assert r.parent is not None and by_urn[r.parent].type == expected_parent[r.type], r.urn
        elif r.type != "ssot:platform:Platform":
            assert r.type.startswith("ssot:platform:") and by_urn[r.parent or ""].type == "ssot:platform:Platform"
    # URNs carry the full parent type chain, as the engine builds them.
    schema = run.by_type(T["schema"])[0]
    assert "::ssot:platform:Platform$ssot:platform:DoctrineSchemas$postgresql:index/schema:Schema::" in schema.urn


def test_components_register_outputs_with_doctrine_facts(stack_run: tuple[str, ProgramRun]) -> None:
    _, run = stack_run
    components = [r for r in run.resources if not r.custom]
    assert components
    for c in components:
        assert "doctrine" in c.outputs, f"{c.type} did not register outputs"
    schemas = next(r for r in components if r.type == "ssot:platform:DoctrineSchemas")
    assert schemas.outputs["doctrine"]["schemas"]["ops"]["domain"] == "ops"


def test_dependencies(stack_run: tuple[str, ProgramRun]) -> None:
    stack, run = stack_run
    names = {r.urn: (r.type, r.inputs.get("name")) for r in run.resources}
    for g in run.by_type(T["grant"]) + run.by_type(T["defpriv"]):
        deps = {names[d] for d in g.dependencies if d in names}
        assert (T["role"], g.inputs["role"]) in deps or g.inputs["role"] in ("postgres", "public"), g.urn
        assert (T["schema"], g.inputs["schema"]) in deps, g.urn
    for job in run.by_type(T["cron"]):
        deps = {names[d] for d in job.dependencies if d in names}
        assert (T["ext"], "pg_cron") in deps
        # A job waits for exactly the Vault secrets and schemas its command reads, nothing more.
        for v in run.by_type(T["vault"]):
            assert ((T["vault"], v.inputs["name"]) in deps) == (f"'{v.inputs['name']}'" in job.inputs["command"])
    for v in run.by_type(T["vault"]):
        deps = {names[d] for d in v.dependencies if d in names}
        assert (T["ext"], "pgcrypto") in deps
    # Everything in the database goes through the one explicit postgresql provider.
    provider = run.by_type(T["provider"])[0]
    for r in run.resources:
        if r.type.startswith("postgresql:"):
            assert r.provider and r.provider.startswith(provider.urn), r.urn
    assert provider.inputs["superuser"] in (False, "false")  # provider config crosses the wire as strings
    if stack == "prod":
        project = run.by_type(T["project"])[0]
        assert project.protect, "deleting the Supabase project must be a deliberate act"
        for e in run.by_type(T["edge"]):
            assert project.urn in e.dependencies
        jobs = {j.inputs["name"]: {names[d] for d in j.dependencies if d in names} for j in run.by_type(T["cron"])}
        assert (T["vault"], "n8n_scheduler_token") in jobs["odoo-shadow-sync"]
        assert (T["schema"], "analytics") in jobs["refresh-kpis"]
        # The database host is derived from the project's ref.
        assert "supabase.co" in provider.inputs["host"]
        assert project.urn in provider.dependencies


def test_every_secret_bearing_input_is_secret(stack_run: tuple[str, ProgramRun]) -> None:
    _, run = stack_run
    checked = 0
    for r in run.resources:
        for key in SECRET_INPUTS.get(r.type, ()):
            if key in r.inputs and r.inputs[key] is not None:
                assert key in r.secret_inputs, f"{r.urn}: input {key} is not marked secret"
                checked += 1
    assert checked >= 5


def test_generated_and_adopted_secrets_pass_no_value(stack_run: tuple[str, ProgramRun]) -> None:
    stack, run = stack_run
    decl = load_platform(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    kinds = {v.name: v.value.kind for v in decl.vault_secrets}
    audit = {r.urn for r in _audit_children(run)}
    for r in run.by_type(T["vault"]):
        if r.urn in audit:
            continue  # the fingerprint key: the stack's fingerprint key itself (see the audit test)
        kind = kinds[r.inputs["name"]]
        if kind in ("generated", "managed-outside"):
            assert r.inputs.get("value") is None, r.urn
        if kind == "managed-outside":
            assert r.inputs.get("managed_outside") is True


def test_canary_in_environment_never_leaves_secret_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    canary = "canary-env-3f9a1c7e55d04b0e"
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        run = run_stack(ROOT, "prod", env={"SUPABASE_ACCESS_TOKEN": canary, "SSOT_AUDITOR_DB_PASSWORD": canary})
    seen_in_secret = 0
    for r in run.resources:
        for key, value in r.inputs.items():
            if canary in json.dumps(value, default=str):
                assert key in r.secret_inputs, f"{r.urn}.{key} carries the canary unmarked"
                seen_in_secret += 1
        assert canary not in json.dumps(r.outputs, default=str)
    assert seen_in_secret >= 2, "the canary should have reached the project and the role as secret inputs"
    assert canary not in json.dumps(run.exports, default=str)
    assert canary not in out.getvalue() + err.getvalue()


def test_show_renders_every_declared_resource(capsys: pytest.CaptureFixture[str]) -> None:
    from ssot.cli import main

    assert main(["show", "--stack", "prod", "--root", str(ROOT)]) == 0
    text = capsys.readouterr().out
    decl = load_platform(ROOT / "stacks" / "Pulumi.prod.yaml")
    for s in decl.vault_secrets:
        assert s.name in text
    for j in decl.cron_jobs:
        assert j.name in text
    assert "ssot.SupabaseProject" in text and "stacks/Pulumi.prod.yaml:" in text


def test_strict_program_refuses_plaintext(tmp_path: Path) -> None:
    """Outside previews the program itself refuses a plaintext secret: `pulumi up` stops cleanly."""
    import pulumi

    from ssot.mockrun import run_program

    (tmp_path / "stacks").mkdir()
    text = (ROOT / "stacks" / "Pulumi.local.yaml").read_text().replace(
        "value: {generate: {bytes: 32}}", "value: plaintext-oops-value", 1)
    (tmp_path / "stacks" / "Pulumi.local.yaml").write_text(text)
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    with pytest.raises(pulumi.RunError) as info:
        run_program(tmp_path / "__main__.py", project="ssot", stack="local", root=tmp_path)
    assert "not a plaintext value" in str(info.value)
    assert "plaintext-oops-value" not in str(info.value)


def test_canary_in_secret_config_stays_secret() -> None:
    """As under `pulumi up`, the engine hands the program decrypted secret config: every secret key of
    the prod stack carries a canary here, and it may only ever travel as a secret input."""
    from ssot.mockrun import run_program, stack_config
    from ssot.program import OFFLINE_ENV

    canary = "canary-config-9e1d4b7a02c6"
    config, secret_keys = stack_config(ROOT / "stacks" / "Pulumi.prod.yaml")
    assert len(secret_keys) >= 5
    config = {k: (f"{canary}-{k}" if k in secret_keys else v) for k, v in config.items()}
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        run = run_program(ROOT / "__main__.py", project="ssot", stack="prod", config=config,
                          secret_keys=secret_keys, root=ROOT, env={OFFLINE_ENV: "1"})
    carried = 0
    for r in run.resources:
        for key, value in r.inputs.items():
            if canary in json.dumps(value, default=str):
                assert key in r.secret_inputs, f"{r.urn}.{key} carries secret config unmarked"
                carried += 1
        assert canary not in json.dumps(r.outputs, default=str)
    assert carried >= 8  # db password, role passwords, Vault values, Edge value, fingerprint key...
    assert canary not in json.dumps(run.exports, default=str)
    assert canary not in out.getvalue() + err.getvalue()
