from __future__ import annotations

from pathlib import Path

import pytest

from ssot.findings import Severity
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.model import Platform
from ssot.rules.ownership_boundary import RULE

from ._cases import YESTERDAY, Case, Expect, justification, rows, run_case

MIGRATION = Location(path="supabase/migrations/0003_invoices.sql", line=5)
GRANT_LOC = Location(urn="urn:pulumi:dev::ssot::postgresql:index/grant:Grant::agent-public-write")
DEFPRIV_LOC = Location(object="pg_default_acl:ssot_admin:public")
READ_LOC = Location(urn="urn:pulumi:dev::ssot::postgresql:index/grant:Grant::agent-shadow-read")
READ_LOC2 = Location(object="grant:ssot_agent:table:odoo_shadow.res_partner")
TABLE_LOC = Location(object="table:public.records")

DOMAINS = {"ops": "ops", "ai": "ai", "audit": "audit", "analytics": "analytics", "odoo_shadow": "shadow",
           "public": None}


def schemas(p: Phase) -> list[Asset]:
    return [Asset(Kind.SCHEMA, Store.POSTGRES, n, p, props={"domain": d, "owner": "ssot_admin"})
            for n, d in DOMAINS.items()]


def roles(p: Phase, raw_allowed: bool = False) -> list[Asset]:
    return [
        Asset(Kind.ROLE, Store.POSTGRES, "ssot_agent", p,
              props={"role_kind": "agent", "login": True, "odoo_raw_allowed": raw_allowed}),
        Asset(Kind.ROLE, Store.POSTGRES, "ssot_sync", p, props={"role_kind": "automation", "login": True}),
    ]


def table(p: Phase, name: str, columns: list[str] | None = None, loc: Location = MIGRATION) -> Asset:
    schema, tbl = name.split(".")
    return Asset(Kind.TABLE, Store.POSTGRES, name, p, loc,
                 props={"schema": schema, "table": tbl, "domain": DOMAINS.get(schema),
                        "columns": columns or ["id", "created_at"]})


def grant(p: Phase, role: str, schema: str, privileges: list[str], *, object_type: str = "table",
          objects: list[str] | None = None, loc: Location = GRANT_LOC, role_kind: str | None = None,
          kind: Kind = Kind.GRANT, owner: str | None = None) -> Asset:
    objs = objects or ["*"]
    props = {"role": role, "role_kind": role_kind, "schema": schema, "object_type": object_type,
             "objects": objs, "privileges": privileges}
    if owner:
        props["owner"] = owner
    suffix = "" if objs == ["*"] else "." + ",".join(objs)
    return Asset(kind, Store.POSTGRES, f"{role}:{object_type}:{schema}{suffix}", p, loc, props=props)


ODOO_LOC = Location(object="ir.model.fields")


def odoo_data(p: Phase, model: str, field: str, holds: str | None) -> Asset:
    return Asset(Kind.ODOO_DATA_FIELD, Store.ODOO, f"{model}.{field}", p, ODOO_LOC,
                 props={"model": model, "field": field, "holds": holds, "defined_in": "live"})


def raw_allowed_declared(platform: Platform) -> None:
    assert [r.odoo_raw_allowed for r in platform.roles if r.name == "ssot_agent"] == [True]
    assert [(j.rule, j.subject) for j in platform.justifications] == [("ownership_boundary", "role:ssot_agent")]


def base(p: Phase, raw_allowed: bool = False) -> list[Asset]:
    return schemas(p) + roles(p, raw_allowed)


ACCOUNTING_COLUMNS = ["id", "name", "move_type", "payment_state", "amount_residual", "journal_id"]

CASES = [
    Case("nothing there", lambda p: []),
    Case("near miss", lambda p: [*base(p),
        # projections and Supabase-owned metadata about business records
        table(p, "analytics.invoice_metrics", ["day", "invoice_count", "amount_total"]),
        table(p, "analytics.payment_kpis"),
        table(p, "ai.invoice_embeddings", ["invoice_id", "embedding"]),
        table(p, "analytics.leads_daily", ACCOUNTING_COLUMNS),
        table(p, "ops.invoice_sync_status", ["invoice_id", "synced_at", "status"]),
        table(p, "audit.payment_findings"),
        # shadow copies are allowed (§3)
        table(p, "odoo_shadow.account_move", ACCOUNTING_COLUMNS),
        table(p, "odoo_shadow.hr_employee"),
        # words that only contain a keyword, and two Odoo-ish columns are not a signature
        table(p, "ops.billing_events"), table(p, "ops.leadership_notes"),
        table(p, "ops.deploys", ["id", "journal_id", "debit"]),
        # Odoo's own tables are not Supabase's business
        Asset(Kind.TABLE, Store.ODOO, "public.account_move", p, props={"schema": "public"}),
        # agents writing their outputs where they belong; others writing elsewhere
        grant(p, "ssot_agent", "ai", ["SELECT", "INSERT", "UPDATE"]),
        grant(p, "ssot_agent", "analytics", ["ALL"], kind=Kind.DEFAULT_PRIVILEGE, owner="ssot_admin"),
        grant(p, "ssot_sync", "odoo_shadow", ["SELECT", "INSERT", "UPDATE", "DELETE"]),
        # usage on a shadow schema reads nothing; function execution writes nothing
        grant(p, "ssot_agent", "odoo_shadow", ["USAGE"], object_type="schema"),
        grant(p, "ssot_agent", "public", ["EXECUTE"], object_type="function", objects=["invoice_total"]),
    ]),
    Case("violation", lambda p: [*base(p),
        table(p, "public.invoices"),
        table(p, "ops.hr_employees"),
        table(p, "public.stock_moves"),
        table(p, "analytics.crm_leads"),
        table(p, "public.records", ACCOUNTING_COLUMNS, loc=TABLE_LOC),
        grant(p, "ssot_agent", "public", ["SELECT", "INSERT", "UPDATE"]),
        grant(p, "ssot_agent", "public", ["INSERT", "DELETE"], kind=Kind.DEFAULT_PRIVILEGE, owner="ssot_admin",
              loc=DEFPRIV_LOC),
        grant(p, "ssot_agent", "odoo_shadow", ["USAGE", "CREATE"], object_type="schema"),
        grant(p, "ssot_agent", "odoo_shadow", ["SELECT"], loc=READ_LOC),
        grant(p, "ssot_agent", "odoo_shadow", ["SELECT"], objects=["res_partner"], loc=READ_LOC2),
    ], expect=[
        Expect("table:public.invoices", Severity.HIGH, MIGRATION,
               explain_has=["looks like invoices records", "its name says 'invoice'", "unclassified"],
               propose_has=['alter table "public"."invoices" set schema "odoo_shadow";',
                            "analytics.invoices_daily"],
               yaml_after=[("declare that schema's domain", {"schemas": [{"name": "odoo_shadow",
                                                                          "domain": "shadow"}]})],
               platform_after=["declare that schema's domain"]),
        Expect("table:ops.hr_employees", Severity.HIGH, MIGRATION, explain_has=["HR records", "domain is ops"]),
        Expect("table:public.stock_moves", Severity.HIGH, MIGRATION,
               explain_has=["inventory records", "'stock move'"]),
        Expect("table:analytics.crm_leads", Severity.HIGH, MIGRATION, explain_has=["CRM records"]),
        Expect("table:public.records", Severity.HIGH, TABLE_LOC,
               explain_has=["its columns amount_residual, journal_id, move_type, payment_state"]),
        Expect("grant:ssot_agent:table:public", Severity.HIGH, GRANT_LOC,
               explain_has=["INSERT, UPDATE", "domain unclassified"],
               propose_has=['revoke insert, update on all tables in schema "public" from "ssot_agent";',
                            'grant insert, update on all tables in schema "ai" to "ssot_agent";']),
        Expect("default-privilege:ssot_agent:table:public", Severity.HIGH, DEFPRIV_LOC,
               propose_has=['alter default privileges for role "ssot_admin" in schema "public" revoke '
                            'delete, insert on tables from "ssot_agent";']),
        Expect("grant:ssot_agent:schema:odoo_shadow", Severity.HIGH, GRANT_LOC,
               explain_has=["CREATE on schema"],
               propose_has=['revoke create on schema "odoo_shadow" from "ssot_agent";']),
        Expect("role:ssot_agent", Severity.HIGH, READ_LOC,
               explain_has=["read raw Odoo data in shadow schema(s) odoo_shadow", "2 grant(s)"],
               propose_has=['revoke select on all tables in schema "odoo_shadow" from "ssot_agent";',
                            'revoke select on table "odoo_shadow"."res_partner" from "ssot_agent";',
                            'grant select on all tables in schema "analytics" to "ssot_agent";',
                            "subject: role:ssot_agent"],
               yaml_after=[("say so on the role", {"roles": [{"name": "ssot_agent", "kind": "agent",
                                                             "odooRawAllowed": True}]})],
               platform_after=["say so on the role", "justify it"],
               applied=raw_allowed_declared),
    ]),
    Case("fixed", lambda p: [*base(p),
        table(p, "odoo_shadow.invoices"), table(p, "analytics.invoices_daily"),
        grant(p, "ssot_agent", "ai", ["INSERT", "UPDATE"]),
        grant(p, "ssot_agent", "analytics", ["SELECT"]),
    ]),
    # §2: embeddings, agent memory and KPIs are Supabase's, never Odoo's (read live from ir.model.fields)
    Case("near miss: Odoo data fields", lambda p: [*base(p),
        odoo_data(p, "acme.sync.job", "x_notes", "unknown"),
        odoo_data(p, "acme.sync.job", "x_embedding", None)]),
    Case("violation: Odoo data fields", lambda p: [*base(p),
        odoo_data(p, "acme.customer.insight", "x_embedding", "embedding"),
        odoo_data(p, "acme.sync.job", "x_agent_memory", "agent_memory"),
        odoo_data(p, "account.move", "x_kpi_margin", "kpi"),
        odoo_data(p, "acme.weird", "x_vector'; drop table t; --", "embedding"),
    ], expect=[
        Expect("odoo_data_field:acme.customer.insight.x_embedding", Severity.MEDIUM, ODOO_LOC,
               explain_has=["holds AI embeddings/vectors", "never kept in Odoo"],
               propose_has=['create table "ai"."acme_customer_insight_embedding" (odoo_id bigint not null, '
                            "embedding vector(<dimensions>) not null", "n8n workflow",
                            "remove the field 'x_embedding' of model 'acme.customer.insight' from Odoo"],
               metadata_has={"holds": "embedding", "target": "ai.acme_customer_insight_embedding"}),
        Expect("odoo_data_field:acme.sync.job.x_agent_memory", Severity.MEDIUM, ODOO_LOC,
               explain_has=["agent memory"],
               propose_has=['create table "ai"."acme_sync_job_agent_memory"', "memory jsonb not null"]),
        Expect("odoo_data_field:account.move.x_kpi_margin", Severity.MEDIUM, ODOO_LOC,
               explain_has=["KPIs"],
               propose_has=['create table "analytics"."account_move_kpi_margin" (day date not null, '
                            "value numeric not null"]),
        # a hostile field name is never rendered
        Expect("odoo_data_field:acme.weird.x_vector'; drop table t; --", Severity.MEDIUM, ODOO_LOC,
               propose_has=['create table "ai"."acme_weird"', "model 'acme.weird'"]),
    ]),
    Case("fixed: Odoo data fields", lambda p: [*base(p), table(p, "ai.acme_customer_insight_embedding",
                                                                ["odoo_id", "embedding"])]),
    Case("allowed by the role", lambda p: [*base(p, raw_allowed=True),
        grant(p, "ssot_agent", "odoo_shadow", ["SELECT"], loc=READ_LOC)]),
    Case("justified", lambda p: [*base(p), grant(p, "ssot_agent", "odoo_shadow", ["SELECT"], loc=READ_LOC)],
         justifications=[justification("ownership_boundary", "role:ssot_agent")]),
    Case("justification expired",
         lambda p: [*base(p), grant(p, "ssot_agent", "odoo_shadow", ["SELECT"], loc=READ_LOC)],
         justifications=[justification("ownership_boundary", "role:ssot_agent", expires=YESTERDAY,
                                       owner="data-team")],
         expect=[Expect("role:ssot_agent", Severity.HIGH, READ_LOC,
                        explain_has=["expired on 2025-05-31 (data-team)"])]),
    # role_kind comes from the grant, or else from the ROLE asset; writes outside the four schemas are
    # never justifiable.
    Case("justification does not apply to writes", lambda p: [
        *base(p), grant(p, "ssot_agent", "public", ["TRUNCATE"], role_kind=None)],
         justifications=[justification("ownership_boundary", "grant:ssot_agent:table:public")],
         expect=[Expect("grant:ssot_agent:table:public", Severity.HIGH, GRANT_LOC,
                        propose_has=['revoke truncate on all tables in schema "public"'])]),
]


@pytest.mark.parametrize(("case", "phase"), rows(RULE, CASES))
def test_ownership_boundary(case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_case(RULE, case, phase, monkeypatch, tmp_path)
