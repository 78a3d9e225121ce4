"""§2, §3, §6: business truth stays in Odoo, agents write only to ops/ai/audit/analytics, and agents
do not read raw Odoo data unless explicitly allowed.

Three checks over the same inventory:
1. a TABLE that looks like business truth (by name, or by a tell-tale set of Odoo columns) in a schema
   whose domain is not "shadow" (shadow tables: read-only mirrors written by the sync, §3);
2. a GRANT / DEFAULT_PRIVILEGE giving an agent role a write privilege on a schema outside
   ops/ai/audit/analytics;
3. an agent role that can SELECT from a shadow-domain schema, unless the role says `odoo_raw_allowed`
   or a justification names it.
4. an Odoo field (or model) holding what §2 gives Supabase: AI embeddings/vectors, agent memory,
   KPIs (ODOO_DATA_FIELD, read live from `ir.model.fields`): medium, advisory (below the default
   `--fail-on`): the ERP works, but a second copy of Supabase-owned data is growing in it.
Only the third is justifiable: the doctrine's "unless explicitly allowed" is about reading.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Kind, Phase, Store
from ssot.rules import Rule
from ssot.rules._common import (
    AGENT_WRITABLE_DOMAINS,
    PLATFORM_CONFIG,
    SHADOW_DOMAIN,
    check_justification,
    first_schema_with_domain,
    indent,
    justification_index,
    justification_yaml,
    label,
    revoke_sql,
    safe_token,
    schema_domains,
    secret_name_for,
    sql_ident,
    str_list,
    to_yaml,
)

# Names of Odoo-owned business records (singular, after normalisation), matched as whole words.
BUSINESS_WORDS = {
    "invoice": "invoices", "bill": "bills", "payment": "payments", "ledger": "accounting",
    "payslip": "HR", "payroll": "HR", "employee": "HR", "hr": "HR",
    "lead": "CRM", "opportunity": "CRM", "partner": "CRM", "customer": "CRM", "vendor": "CRM",
    "crm": "CRM",
}
BUSINESS_PAIRS = {
    ("account", "move"): "accounting", ("journal", "entry"): "accounting", ("journal", "item"): "accounting",
    ("credit", "note"): "invoices", ("stock", "move"): "inventory", ("stock", "picking"): "inventory",
    ("stock", "quant"): "inventory", ("inventory", "move"): "inventory",
    ("inventory", "adjustment"): "inventory", ("inventory", "transaction"): "inventory",
    ("sale", "order"): "sales", ("purchase", "order"): "purchases",
}
# Words that make a name a projection or Supabase-owned metadata rather than the records themselves.
DERIVED_WORDS = frozenset({
    "kpi", "metric", "summary", "embedding", "vector", "daily", "weekly", "monthly", "hourly", "yearly",
    "quarterly", "agg", "aggregate", "aggregation", "rollup", "stat", "statistic", "trend", "forecast",
    "score", "feature", "projection", "dashboard", "annotation", "insight", "prediction", "analytic",
    "finding", "anomaly", "alert",
})
DERIVED_PAIRS = frozenset({("sync", "status"), ("sync", "state"), ("sync", "log"), ("sync", "run"),
                           ("sync", "cursor"), ("sync", "error")})
# Columns that, three or more together, betray a copy of an Odoo model whatever the table is called.
ODOO_COLUMNS = {
    "accounting": frozenset({"move_type", "payment_state", "amount_residual", "amount_untaxed",
                             "invoice_date", "invoice_date_due", "journal_id", "debit", "credit",
                             "account_id", "reconciled", "payment_reference", "invoice_origin"}),
    "HR": frozenset({"wage", "department_id", "job_id", "identification_id", "ssnid", "passport_id",
                     "bank_account_id", "payslip_run_id", "contract_id", "marital"}),
    "inventory": frozenset({"location_id", "location_dest_id", "product_uom_qty", "picking_id",
                            "quantity_done", "lot_id", "picking_type_id"}),
    "CRM": frozenset({"stage_id", "expected_revenue", "probability", "email_from", "lost_reason",
                      "date_deadline", "team_id"}),
}
_COLUMN_THRESHOLD = 3
_WRITE_PRIVILEGES = frozenset({"INSERT", "UPDATE", "DELETE", "TRUNCATE", "ALL", "ALL PRIVILEGES"})
_READ_PRIVILEGES = frozenset({"SELECT", "ALL", "ALL PRIVILEGES"})
_PLURAL_KEEP = ("ss", "us", "is")
_IRREGULAR = {"kpis": "kpi", "analyses": "analysis", "entries": "entry"}


def _singular(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and len(word) > 3 and not word.endswith(_PLURAL_KEEP):
        return word[:-1]
    return word


def words(name: str) -> list[str]:
    return [_singular(w) for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def business_area(table: str, columns: list[str]) -> tuple[str, str] | None:
    """(area, why) if `table` (unqualified) looks like Odoo business truth; None for projections."""
    ws = words(table)
    pairs = set(itertools.pairwise(ws))
    if DERIVED_WORDS.intersection(ws) or DERIVED_PAIRS & pairs:
        return None
    for pair in sorted(pairs):
        if pair in BUSINESS_PAIRS:
            return BUSINESS_PAIRS[pair], f"its name says '{' '.join(pair)}'"
    for w in ws:
        if w in BUSINESS_WORDS:
            return BUSINESS_WORDS[w], f"its name says '{w}'"
    cols = {c.lower() for c in columns}
    for area, sig in ODOO_COLUMNS.items():
        hit = sorted(cols & sig)
        if len(hit) >= _COLUMN_THRESHOLD:
            return area, "its columns " + ", ".join(hit) + " are those of an Odoo model"
    return None


def _role_kinds(inv: Inventory) -> dict[str, str]:
    out: dict[str, str] = {}
    for r in inv.of(Kind.ROLE):
        kind = r.props.get("role_kind")
        if isinstance(kind, str) and kind:
            out.setdefault(r.name, kind)
    return out


def _raw_allowed(inv: Inventory) -> set[str]:
    return {r.name for r in inv.of(Kind.ROLE) if r.props.get("odoo_raw_allowed") is True}


def _grant_role_kind(a: Asset, kinds: dict[str, str]) -> tuple[str, str | None]:
    role = str(a.props.get("role") or a.name.split(":", 1)[0])
    kind = a.props.get("role_kind")
    return role, kind if isinstance(kind, str) and kind else kinds.get(role)


def _tables(inv: Inventory, domains: dict[str, str | None]) -> Iterator[Finding]:
    shadow = first_schema_with_domain(inv, SHADOW_DOMAIN, "odoo_shadow")
    analytics = first_schema_with_domain(inv, "analytics", "analytics")
    for a in inv.of(Kind.TABLE):
        if a.store is Store.ODOO:
            continue
        schema = str(a.props.get("schema") or (a.name.split(".", 1)[0] if "." in a.name else "public"))
        table = str(a.props.get("table") or a.name.rsplit(".", 1)[-1])
        dom = a.props.get("domain") or domains.get(schema)
        if dom == SHADOW_DOMAIN:
            continue
        hit = business_area(table, str_list(a.props.get("columns")))
        if hit is None:
            continue
        area, why = hit
        yield RULE.for_asset(
            a, subject=f"table:{schema}.{table}",
            explain=(f"Table {schema}.{table} at {a.location.describe()} looks like {area} records "
                     f"({why}) but lives in a schema whose domain is {dom or 'unclassified'}, not "
                     f"'{SHADOW_DOMAIN}': Odoo owns this data; Supabase holds only shadow copies and "
                     "projections of it."),
            propose=(
                "If it mirrors Odoo (written only by the sync), move it to a shadow schema:\n"
                f"    alter table {sql_ident(schema, table)} set schema {sql_ident(shadow)};\n"
                f"and declare that schema's domain ({PLATFORM_CONFIG}):\n"
                + indent(to_yaml({"schemas": [{"name": shadow, "domain": SHADOW_DOMAIN}]}))
                + f"\nIf it is meant for analysis, keep only a projection (e.g. {analytics}.{table}_daily "
                  "aggregates) and drop the records. Either way the records are created and changed in "
                  "Odoo, never written here."
            ),
            metadata={"area": area, "schema": schema, "domain": dom},
        )


def _grants(inv: Inventory, domains: dict[str, str | None], kinds: dict[str, str]) -> Iterator[Finding]:
    target = first_schema_with_domain(inv, "ai", "ai")
    reads: dict[tuple[Phase, str], list[Asset]] = {}
    for a in inv.of(Kind.GRANT, Kind.DEFAULT_PRIVILEGE):
        role, role_kind = _grant_role_kind(a, kinds)
        if role_kind != "agent":
            continue
        schema = str(a.props.get("schema") or "")
        dom = domains.get(schema)
        privs = sorted({p.strip().upper() for p in str_list(a.props.get("privileges"))})
        obj_type = str(a.props.get("object_type") or "table").lower()
        writes = [p for p in privs if p in _WRITE_PRIVILEGES or (obj_type == "schema" and p == "CREATE")]
        if writes and dom not in AGENT_WRITABLE_DOMAINS:
            specific = [p.lower() for p in writes if p not in ("ALL", "ALL PRIVILEGES", "CREATE")]
            grant_back = ", ".join(specific) or "insert"
            yield RULE.for_asset(
                a, subject=label(a),
                explain=(f"Agent role {role} is granted {', '.join(writes)} on {obj_type} "
                         f"{schema}.{', '.join(str_list(a.props.get('objects')) or ['*'])} at "
                         f"{a.location.describe()}; schema {schema} has domain {dom or 'unclassified'}, and "
                         "agents write only to ops.*, ai.*, audit.* and analytics.*."),
                propose=(f"Revoke it (and drop the privilege from the declared grant):\n"
                         f"    {revoke_sql(a, role, schema, writes)}\n"
                         f"Let the agent write its outputs to {target}.* instead:\n"
                         f"    grant {grant_back} on all tables in schema {sql_ident(target)} to "
                         f"{sql_ident(role)};"),
                metadata={"role": role, "schema": schema, "domain": dom, "privileges": writes},
            )
        if dom == SHADOW_DOMAIN and any(p in _READ_PRIVILEGES for p in privs):
            reads.setdefault((a.phase, role), []).append(a)

    analytics = first_schema_with_domain(inv, "analytics", "analytics")
    allowed, justified = _raw_allowed(inv), justification_index(inv)  # once: per role is quadratic
    for (_phase, role), grants in sorted(reads.items()):
        if role in allowed:
            continue
        subject = f"role:{role}"
        just = check_justification(inv, RULE.id, subject, index=justified)
        if just.silenced:
            continue
        schemas = sorted({str(g.props.get("schema")) for g in grants})
        first = grants[0]
        revokes = "\n".join(f"    {revoke_sql(g, role, str(g.props.get('schema')), ['SELECT'])}"
                            for g in grants)
        yield RULE.for_asset(
            first, subject=subject,
            explain=(f"Agent role {role} can read raw Odoo data in shadow schema(s) {', '.join(schemas)} "
                     f"({len(grants)} grant(s), first at {first.location.describe()}) without an explicit "
                     "allowance." + just.note()),
            propose=(f"Revoke the reads and give the agent projections in {analytics}.* instead:\n"
                     f"{revokes}\n"
                     f"    grant select on all tables in schema {sql_ident(analytics)} "
                     f"to {sql_ident(role)};\n"
                     "If this agent is explicitly allowed to read raw Odoo data, say so on the role "
                     f"({PLATFORM_CONFIG}):\n"
                     + indent(to_yaml({"roles": [{"name": role, "kind": "agent", "odooRawAllowed": True}]}))
                     + f"\nor justify it ({PLATFORM_CONFIG}):\n" + indent(justification_yaml(RULE.id, subject))),
            metadata={"role": role, "schemas": schemas,
                      "grants": [label(g) for g in grants], **just.metadata()},
        )


_HOLDS = {"embedding": ("AI embeddings/vectors", "ai"), "agent_memory": ("agent memory", "ai"),
          "kpi": ("aggregations, metrics, KPIs", "analytics")}
_HOLDS_COLUMN = {"embedding": "embedding vector(<dimensions>) not null",
                 "agent_memory": "memory jsonb not null", "kpi": "value numeric not null"}


def _odoo_data(inv: Inventory) -> Iterator[Finding]:
    for a in inv.of(Kind.ODOO_DATA_FIELD):
        holds = str(a.props.get("holds") or "")
        if holds not in _HOLDS:
            continue
        what, domain = _HOLDS[holds]
        schema = first_schema_with_domain(inv, domain, domain)
        model = safe_token(a.props.get("model"), r"[a-z][a-z0-9_.]{0,120}") or "<model>"
        field = safe_token(a.props.get("field"), r"[a-z][a-z0-9_]{0,120}")
        table = secret_name_for(model.replace(".", "_"), (field or "").removeprefix("x_"))
        key = "odoo_id bigint not null" if holds != "kpi" else "day date not null"
        where = f"field {field!r} of model {model!r}" if field else f"model {model!r}"
        yield RULE.for_asset(
            a, subject=label(a), severity=Severity.MEDIUM,
            explain=(f"Odoo {where} at {a.location.describe()} holds {what}: Supabase owns this data "
                     "and it is never kept in Odoo (§2); agents read it from Supabase (§6)."),
            propose=(f"Keep it in Supabase, in the {domain}.* schema:\n"
                     f"    create table {sql_ident(schema, table)} ({key}, {_HOLDS_COLUMN[holds]}, "
                     f"updated_at timestamptz not null default now(), primary key ({key.split()[0]}));\n"
                     "have what computes it write there, and let an n8n workflow sync from Odoo only the "
                     f"records it is derived from ({model} by id, read with search_read), upserting into "
                     f"{schema}.{table}; Odoo screens that show it read it back from Supabase.\n"
                     f"Then remove the {where} from Odoo (its addon, or Settings > Technical > Fields for a "
                     "manual field) once the data is copied."),
            metadata={"holds": holds, "model": model, "field": field, "target": f"{schema}.{table}"},
        )


def check(inv: Inventory) -> Iterator[Finding]:
    domains = schema_domains(inv)
    yield from _tables(inv, domains)
    yield from _grants(inv, domains, _role_kinds(inv))
    yield from _odoo_data(inv)


RULE = Rule(
    id="ownership_boundary",
    title="Odoo-owned data or agent access across the ownership boundary",
    clause=("§2 Data Ownership Boundaries: financial, HR, inventory and CRM records are owned by Odoo, "
            "never Supabase; §3 Write Rules; §6 AI & Agent Access: agents write to ops/ai/audit/analytics "
            "and do not read raw Odoo tables unless explicitly allowed"),
    severity=Severity.HIGH,
    categories=("ownership", "access"),
    phases=frozenset({Phase.DECLARED, Phase.STATIC, Phase.LIVE}),
    risk=("Business records kept or written outside Odoo create a second, diverging truth; agents with "
          "write access outside their schemas can corrupt it, and agents reading raw ERP data bypass the "
          "projections that limit what they see."),
    remediation=("Keep business records in Odoo (shadow copies in a shadow schema, projections in "
                 "analytics), revoke agent writes outside ops/ai/audit/analytics, and revoke agent reads of "
                 "shadow schemas unless explicitly allowed."),
    check=check,
)
