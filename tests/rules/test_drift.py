from __future__ import annotations

from pathlib import Path

import pytest

from ssot.findings import Severity
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.rules.drift import RULE, summary

from ._cases import Case, Expect, rows, run_case

D, L = Phase.DECLARED, Phase.LIVE
FP_A, FP_B = "a" * 64, "b" * 64
STACK = "stacks/Pulumi.prod.yaml"


def decl_loc(line: int, urn: str) -> Location:
    return Location(path=STACK, line=line, urn=f"urn:pulumi:prod::ssot::{urn}")


def live_loc(obj: str) -> Location:
    return Location(object=obj)


def schema(phase: Phase, name: str, owner: str | None = "postgres", **props: object) -> Asset:
    loc = decl_loc(10, f"schema-{name}") if phase == D else live_loc(f"schema {name}")
    return Asset(Kind.SCHEMA, Store.POSTGRES, name, phase, loc, {"domain": None, "owner": owner, **props})


def role(phase: Phase, name: str, kind: str | None = None, **props: object) -> Asset:
    loc = decl_loc(20, f"role-{name}") if phase == D else live_loc(f"role {name}")
    return Asset(Kind.ROLE, Store.POSTGRES, name, phase, loc,
                 {"role_kind": kind, "login": False, "member_of": [], **props})


def grant(phase: Phase, role_: str, schema_: str, privs: list[str], obj: str = "*", typ: str = "table",
          default_owner: str | None = None) -> Asset:
    name = f"{role_}:{typ}:{schema_}" + ("" if obj == "*" else f".{obj}")
    kind = Kind.DEFAULT_PRIVILEGE if default_owner else Kind.GRANT
    loc = decl_loc(30, f"grant-{name}") if phase == D else live_loc(f"grant {name}")
    props: dict[str, object] = {"role": role_, "schema": schema_, "object_type": typ, "objects": [obj],
                                "privileges": privs}
    if default_owner:
        props["owner"] = default_owner
    return Asset(kind, Store.POSTGRES, name, phase, loc, props)


def vault(phase: Phase, name: str, fp: str | None, description: str = "", sid: str | None = None) -> Asset:
    loc = decl_loc(40, f"vault-{name}") if phase == D else live_loc(f"vault.secrets {sid or '1'}")
    props: dict[str, object] = {"category": "webhook", "description": description}
    if phase == L:
        props.update({"id": sid or "6f1c1f7e-0000-4000-8000-000000000001", "named": True})
    return Asset(Kind.VAULT_SECRET, Store.VAULT, name, phase, loc, props, fingerprint=fp)


def cron(phase: Phase, name: str, schedule: str, command: str = "select 1", **props: object) -> Asset:
    loc = decl_loc(50, f"cron-{name}") if phase == D else live_loc(f"cron.job {name}")
    return Asset(Kind.CRON_JOB, Store.POSTGRES, name, phase, loc,
                 {"schedule": schedule, "command": command, "active": True, "database": None, "username": None,
                  "scheduler": "pg_cron", **props})


def edge(phase: Phase, name: str, fp: str | None, digest_fp: str | None = None) -> Asset:
    loc = decl_loc(60, f"edge-{name}") if phase == D else live_loc(f"edge secret {name}")
    props: dict[str, object] = {"category": "webhook"}
    if digest_fp:
        props["digest_fingerprint"] = digest_fp
    return Asset(Kind.EDGE_SECRET, Store.EDGE, name, phase, loc, props, fingerprint=fp)


def declared() -> list[Asset]:
    return [schema(D, "ai"), schema(D, "odoo_shadow"), role(D, "acme_agent", "agent"),
            role(D, "ssot_auditor", "auditor"),
            grant(D, "acme_agent", "ai", ["INSERT", "SELECT"]),
            vault(D, "stripe_api_key", FP_A), vault(D, "n8n_webhook_token", None),
            cron(D, "nightly-sync", "0 1 * * *"), edge(D, "STRIPE_WEBHOOK_SECRET", FP_A)]


def live_in_sync() -> list[Asset]:
    return [schema(L, "ai", object_counts={"table": 2}), schema(L, "odoo_shadow", object_counts={"table": 1}),
            role(L, "acme_agent", "agent"), role(L, "ssot_auditor", "auditor"),
            grant(L, "acme_agent", "ai", ["INSERT", "SELECT"]),
            vault(L, "stripe_api_key", FP_A),
            vault(L, "n8n_webhook_token", FP_B, sid="6f1c1f7e-0000-4000-8000-00000000000b"),
            cron(L, "nightly-sync", "0 1 * * *"), edge(L, "STRIPE_WEBHOOK_SECRET", FP_A)]


def near_misses() -> list[Asset]:
    return [
        # Supabase's own and the audit's own
        schema(L, "public", supabase_builtin=True), schema(L, "vault", supabase_builtin=True),
        role(L, "anon", supabase_builtin=True), role(L, "PUBLIC", supabase_builtin=True, pseudo=True),
        grant(L, "anon", "public", ["SELECT"]),
        grant(L, "ssot_auditor", "vault", ["USAGE"], obj="*", typ="schema"),
        grant(L, "ssot_auditor", "ssot_audit", ["EXECUTE"], typ="function"),
        Asset(Kind.VAULT_SECRET, Store.VAULT, "ssot_fingerprint_key", L, live_loc("vault.secrets k"),
              {"fingerprint_key": True, "named": True}),
        edge(L, "SUPABASE_SERVICE_ROLE_KEY", FP_B),
        # a declared revocation, a grant on all tables of a schema without tables, a per-object grant
        # the live side normalised to "all tables"
        grant(D, "public", "ai", [], obj="vault_fingerprints", typ="function"),
        grant(D, "acme_agent", "odoo_shadow", ["SELECT"]),
        schema(L, "ops", object_counts={"table": 0}, owner="postgres"), schema(D, "ops"),
        grant(D, "acme_agent", "ops", ["SELECT"]),
        grant(D, "ssot_auditor", "ai", ["SELECT"], obj="kpis"),
        grant(L, "ssot_auditor", "ai", ["SELECT"]),
        grant(L, "acme_agent", "odoo_shadow", ["SELECT"]),
    ]


SYNC_URN = "urn:pulumi:prod::ssot::cron-nightly-sync"
CASES = [
    Case("nothing there", lambda p: []),
    Case("near miss", lambda p: [
        *declared(), *live_in_sync(), *near_misses(),
        # whitespace in a command, a declared job without a username, an unreadable live fingerprint
        cron(D, "refresh", "5 * * * *", "refresh materialized view\n  analytics.kpis"),
        cron(L, "refresh", "5 * * * *", "refresh materialized view analytics.kpis", username="postgres"),
        vault(D, "github_app_key", FP_A), vault(L, "github_app_key", None, sid="6f1c1f7e-0000-4000-8000-00000000000c"),
        # ALL, as a foreign declaration may write it, against the catalog's list (PostgreSQL 17: MAINTAIN too)
        grant(D, "acme_agent", "analytics", ["ALL"]),
        grant(L, "acme_agent", "analytics", ["DELETE", "INSERT", "MAINTAIN", "REFERENCES", "SELECT", "TRIGGER",
                                              "TRUNCATE", "UPDATE"]),
        # Edge values known as keyed digests: equal on both sides, or only on one (not comparable)
        edge(D, "RESEND_KEY", None, FP_A), edge(L, "RESEND_KEY", None, FP_A),
        edge(D, "SLACK_KEY", FP_A), edge(L, "SLACK_KEY", None, FP_B),
    ]),
    Case("violation", lambda p: [
        *declared(),
        # schema odoo_shadow dropped; the nightly schedule edited; stripe_api_key edited out of band;
        # a hand-made grant on the shadow schema; an unmanaged Vault secret; a hand-made job
        schema(L, "ai", object_counts={"table": 2}),
        role(L, "acme_agent", "agent"), role(L, "ssot_auditor", "auditor"),
        grant(L, "acme_agent", "ai", ["DELETE", "INSERT", "SELECT"]),
        grant(L, "acme_agent", "odoo_shadow", ["INSERT"], obj="account_move"),
        vault(L, "stripe_api_key", FP_B, sid="6f1c1f7e-0000-4000-8000-00000000000a"),
        vault(L, "n8n_webhook_token", FP_B),
        vault(L, "legacy_sync_token", FP_A, sid="6f1c1f7e-0000-4000-8000-0000000000ff"),
        cron(L, "nightly-sync", "0 2 * * *"),
        cron(L, "hand-made", "* * * * *", "<command withheld: it contains a secret-looking literal>",
             command_secret_types=["Generic secret"]),
        # a command no detector flags is still never rendered
        cron(L, "typed-by-hand", "0 5 * * *", "select refresh('pw=hunter2-not-flagged')", jobid=7),
        edge(L, "STRIPE_WEBHOOK_SECRET", FP_A),
        edge(D, "RESEND_KEY", None, FP_A), edge(L, "RESEND_KEY", None, FP_B),
        role(L, "old_etl", login=True),
        grant(L, "old_etl", "ai", ["SELECT"], default_owner="postgres"),
        # PostgreSQL's default EXECUTE for PUBLIC on a function someone created in a declared schema
        grant(L, "PUBLIC", "ai", ["EXECUTE"], typ="function"),
    ], expect=[
        Expect("unmanaged:supabase-postgres:grant:PUBLIC:function:ai", Severity.MEDIUM,
               live_loc("grant PUBLIC:function:ai"),
               propose_has=['REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA "ai" FROM PUBLIC;']),
        Expect("missing:supabase-postgres:schema:odoo_shadow", Severity.HIGH, decl_loc(10, "schema-odoo_shadow"),
               explain_has=["declared (stacks/Pulumi.prod.yaml:10"], propose_has=["pulumi refresh", "pulumi up"]),
        Expect("changed:supabase-postgres:cron_job:nightly-sync", Severity.HIGH,
               Location(path=STACK, line=50, urn=SYNC_URN, object="cron.job nightly-sync"),
               explain_has=["schedule: '0 1 * * *' -> '0 2 * * *'"], metadata_has={"changed": ["schedule"]}),
        Expect("changed:supabase-vault:vault_secret:stripe_api_key", Severity.HIGH,
               Location(path=STACK, line=40, urn="urn:pulumi:prod::ssot::vault-stripe_api_key",
                        object="vault.secrets 6f1c1f7e-0000-4000-8000-00000000000a"),
               explain_has=["value: fingerprint differs"], propose_has=["pulumi config set --secret"]),
        Expect("changed:supabase-postgres:grant:acme_agent:table:ai", Severity.HIGH,
               Location(path=STACK, line=30, urn="urn:pulumi:prod::ssot::grant-acme_agent:table:ai",
                        object="grant acme_agent:table:ai"),
               explain_has=["privileges: [INSERT, SELECT] -> [DELETE, INSERT, SELECT]"]),
        Expect("unmanaged:supabase-postgres:grant:acme_agent:table:odoo_shadow.account_move", Severity.MEDIUM,
               live_loc("grant acme_agent:table:odoo_shadow.account_move"),
               propose_has=['REVOKE INSERT ON TABLE "odoo_shadow"."account_move" FROM "acme_agent";'],
               yaml_after=[("To adopt it", {"grants": [{"role": "acme_agent", "schema": "odoo_shadow", "on": "table",
                                                         "privileges": ["INSERT"], "objects": ["account_move"]}]})]),
        Expect("unmanaged:supabase-vault:vault_secret:legacy_sync_token", Severity.MEDIUM,
               live_loc("vault.secrets 6f1c1f7e-0000-4000-8000-0000000000ff"),
               propose_has=["DELETE FROM vault.secrets WHERE id = '6f1c1f7e-0000-4000-8000-0000000000ff'::uuid;",
                            "managedOutside"]),
        Expect("unmanaged:supabase-postgres:cron_job:hand-made", Severity.MEDIUM, live_loc("cron.job hand-made"),
               propose_has=["SELECT cron.unschedule('hand-made');", "schedule: '* * * * *'",
                            "<its command, from cron.job>"]),
        Expect("unmanaged:supabase-postgres:cron_job:typed-by-hand", Severity.MEDIUM,
               live_loc("cron.job typed-by-hand"), propose_has=["FROM cron.job WHERE jobid = 7"]),
        Expect("changed:supabase-edge-functions:edge_secret:RESEND_KEY", Severity.HIGH,
               Location(path=STACK, line=60, urn="urn:pulumi:prod::ssot::edge-RESEND_KEY",
                        object="edge secret RESEND_KEY"),
               explain_has=["value: fingerprint differs"], metadata_has={"changed": ["digest_fingerprint"]}),
        Expect("unmanaged:supabase-postgres:role:old_etl", Severity.MEDIUM, live_loc("role old_etl"),
               propose_has=['DROP ROLE "old_etl";', "kind: <agent|automation|auditor|service>"]),
        Expect("unmanaged:supabase-postgres:default_privilege:old_etl:table:ai@postgres", Severity.MEDIUM,
               live_loc("grant old_etl:table:ai"),
               propose_has=['ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "ai" REVOKE SELECT ON TABLES '
                            'FROM "old_etl";']),
    ]),
    Case("fixed", lambda p: [*declared(), *live_in_sync()]),
    Case("everything missing when nothing runs",
         lambda p: [*declared()[:2], schema(L, "public", supabase_builtin=True)],
         expect=[
        Expect("missing:supabase-postgres:schema:ai", Severity.HIGH, decl_loc(10, "schema-ai")),
        Expect("missing:supabase-postgres:schema:odoo_shadow", Severity.HIGH, decl_loc(10, "schema-odoo_shadow")),
    ]),
]


@pytest.mark.parametrize(("case", "phase"), rows(RULE, CASES))
def test_drift(case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    got = run_case(RULE, case, phase, monkeypatch, tmp_path)
    for f in got:
        # a secret's value, a command and a description are never rendered
        assert FP_A not in f.propose + f.explain and FP_B not in f.propose + f.explain
        assert "withheld" not in f.propose and "hunter2" not in f.propose + f.explain
        # the verdict, where the HTML report groups drift (ssot.reporters.html.DRIFT_KIND_KEYS)
        assert f.metadata["drift_kind"] == f.subject.split(":", 1)[0]


def test_summary_counts_per_verdict_and_coverage() -> None:
    from ssot.inventory import Inventory

    inv = Inventory(CASES[2].assets(L))
    s = summary(inv, list(RULE.run(inv)))
    assert (s["missing"], s["changed"], s["unmanaged"]) == (1, 4, 7)
    assert s["declared"] == 10 and s["in_sync"] == 5
    assert s["by_kind"]["vault_secret"] == {"changed": 1, "unmanaged": 1}
    assert 0 < s["coverage"] < 100
