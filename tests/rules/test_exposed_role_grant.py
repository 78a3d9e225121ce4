from __future__ import annotations

from pathlib import Path

import pytest

from ssot.findings import Severity
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.rules.exposed_role_grant import RULE

from ._cases import Case, Expect, rows, run_case

MIGRATION = Location(path="supabase/migrations/0004_api.sql", line=7)
DECLARED = Location(path="stacks/Pulumi.prod.yaml", line=70,
                    urn="urn:pulumi:prod::ssot::postgresql:index/grant:Grant::anon-table-odoo_shadow-all")
DEFPRIV = Location(object="pg_default_acl:postgres:audit")

DOMAINS = {"ops": "ops", "ai": "ai", "audit": "audit", "analytics": "analytics", "odoo_shadow": "shadow",
           "app": None}


def schemas(p: Phase) -> list[Asset]:
    return [Asset(Kind.SCHEMA, Store.POSTGRES, n, p, props={"domain": d}) for n, d in DOMAINS.items()]


def grant(p: Phase, role: str, schema: str, privileges: list[str], *, object_type: str = "table",
          objects: list[str] | None = None, loc: Location = MIGRATION, kind: Kind = Kind.GRANT,
          owner: str | None = None, domain: str | None = None) -> Asset:
    objs = objects or ["*"]
    props = {"role": role, "role_kind": None, "schema": schema, "object_type": object_type, "objects": objs,
             "privileges": privileges}
    if owner:
        props["owner"] = owner
    if domain:
        props["domain"] = domain
    suffix = "" if objs == ["*"] else "." + ",".join(objs)
    return Asset(kind, Store.POSTGRES, f"{role}:{object_type}:{schema}{suffix}", p, loc, props=props)


CASES = [
    Case("nothing there", lambda p: []),
    Case("near miss", lambda p: [*schemas(p),
        # Supabase-owned data served to users through RLS: reads of analytics, ops and ai
        grant(p, "authenticated", "analytics", ["SELECT"], objects=["kpi_daily"]),
        grant(p, "anon", "analytics", ["SELECT"]),
        grant(p, "authenticated", "ai", ["SELECT"], kind=Kind.DEFAULT_PRIVILEGE, owner="postgres"),
        # USAGE reads nothing; EXECUTE writes nothing by itself
        grant(p, "anon", "audit", ["USAGE"], object_type="schema"),
        grant(p, "authenticated", "odoo_shadow", ["USAGE"], object_type="schema"),
        grant(p, "authenticated", "ops", ["EXECUTE"], object_type="function", objects=["submit_ticket"]),
        # the app's own schema is outside the doctrine; the platform's own roles are not the API's
        grant(p, "authenticated", "app", ["SELECT", "INSERT", "UPDATE", "DELETE"]),
        grant(p, "ssot_sync", "odoo_shadow", ["SELECT", "INSERT", "UPDATE", "DELETE"]),
        grant(p, "service_role", "audit", ["ALL"]),
    ]),
    Case("violation", lambda p: [*schemas(p),
        grant(p, "anon", "odoo_shadow", ["SELECT", "INSERT", "UPDATE"], loc=DECLARED),
        grant(p, "PUBLIC", "odoo_shadow", ["ALL"], objects=["account_move"]),
        grant(p, "authenticated", "audit", ["SELECT"], kind=Kind.DEFAULT_PRIVILEGE, owner="postgres", loc=DEFPRIV),
        grant(p, "authenticated", "ai", ["INSERT"]),
        grant(p, "anon", "ops", ["USAGE", "CREATE"], object_type="schema"),
    ], expect=[
        Expect("grant:anon:table:odoo_shadow", Severity.CRITICAL, DECLARED,
               explain_has=["Role anon", "anyone holding the project's public key", "INSERT, SELECT, UPDATE",
                            "domain shadow", "written only by the sync"],
               propose_has=['revoke insert, select, update on all tables in schema "odoo_shadow" from "anon";',
                            "Edge Function that calls Odoo's API"]),
        Expect("grant:PUBLIC:table:odoo_shadow.account_move", Severity.CRITICAL, MIGRATION,
               explain_has=["every role, anon and authenticated included"],
               propose_has=['revoke all on table "odoo_shadow"."account_move" from public;']),
        Expect("default-privilege:authenticated:table:audit", Severity.HIGH, DEFPRIV,
               explain_has=["any signed-up user", "read access", "findings about the platform's own weaknesses"],
               propose_has=['alter default privileges for role "postgres" in schema "audit" revoke select on '
                            'tables from "authenticated";',
                            "enable row level security", "security_invoker = true"]),
        Expect("grant:authenticated:table:ai", Severity.HIGH, MIGRATION,
               explain_has=["INSERT on table ai.*", "agent memory"],
               propose_has=['revoke insert on all tables in schema "ai" from "authenticated";',
                            "with check (<owner column> = auth.uid())"]),
        Expect("grant:anon:schema:ops", Severity.HIGH, MIGRATION,
               propose_has=['revoke create on schema "ops" from "anon";']),
    ]),
    Case("fixed", lambda p: [*schemas(p),
        grant(p, "ssot_sync", "odoo_shadow", ["SELECT", "INSERT", "UPDATE", "DELETE"]),
        grant(p, "authenticated", "analytics", ["SELECT"], objects=["kpi_daily"]),
        grant(p, "authenticated", "audit", ["USAGE"], object_type="schema"),
    ]),
    # A repository without a stack: the doctrine's own schema names, and any schema named as a shadow.
    Case("schemas known by name", lambda p: [
        grant(p, "anon", "audit", ["SELECT"], objects=["findings"]),
        grant(p, "authenticated", "erp_shadow", ["UPDATE"]),
        grant(p, "anon", "shadowy", ["SELECT"]),
    ], expect=[
        Expect("grant:anon:table:audit.findings", Severity.HIGH, MIGRATION,
               propose_has=['revoke select on table "audit"."findings" from "anon";']),
        Expect("grant:authenticated:table:erp_shadow", Severity.CRITICAL, MIGRATION),
    ]),
]


@pytest.mark.parametrize(("case", "phase"), rows(RULE, CASES))
def test_exposed_role_grant(case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_case(RULE, case, phase, monkeypatch, tmp_path)
