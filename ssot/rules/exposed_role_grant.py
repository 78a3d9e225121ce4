"""§2, §3, §6: the roles Supabase's data API serves to the internet hold nothing in the doctrine's schemas.

`anon` (anyone with the project URL and its public key), `authenticated` (anyone who signed up) and
`PUBLIC` (every role, those two included) are what PostgREST and GraphQL run requests as. A grant to
them on a doctrine schema is a grant to the internet:

1. any write (INSERT, UPDATE, DELETE, TRUNCATE, ALL; CREATE on a schema) on a schema of the
   doctrine's domains (ops, ai, audit, analytics, shadow): platform state, agent data, audit
   findings and analytics are written by the platform's own roles (§5, §6), and the shadow copies
   of Odoo records only by the sync (§3) — a write there from the API forks Odoo's truth (critical);
2. any read (SELECT, ALL) on a shadow schema (raw Odoo business records, §2, §6) or on an audit
   schema (findings about the platform's own weaknesses).

Reads of ops, ai and analytics stay quiet: they are Supabase-owned data, and serving them through
RLS policies (which are per table and cannot be seen from a grant) is the supported pattern. USAGE
alone reads nothing. Grants and default privileges are both checked, in every phase.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Kind, Phase
from ssot.rules import Rule
from ssot.rules._common import (
    AGENT_WRITABLE_DOMAINS,
    PLATFORM_CONFIG,
    SHADOW_DOMAIN,
    label,
    revoke_sql,
    schema_domains,
    sql_ident,
    str_list,
)

EXPOSED_ROLES = frozenset({"anon", "authenticated", "public"})
DOCTRINE_DOMAINS = AGENT_WRITABLE_DOMAINS | {SHADOW_DOMAIN}
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "TRUNCATE", "ALL", "ALL PRIVILEGES"})
_READS = frozenset({"SELECT", "ALL", "ALL PRIVILEGES"})
_WORD = re.compile(r"[a-z0-9]+")


def domain_of(asset: Asset, declared: dict[str, str | None]) -> str | None:
    """The doctrine domain of the grant's schema: from the asset, the declared schemas, or, for a
    repository without a stack, the doctrine's own schema names (§6 names ops, ai, audit, analytics;
    a shadow schema says so in its name)."""
    schema = str(asset.props.get("schema") or "")
    dom = asset.props.get("domain") or declared.get(schema)
    if isinstance(dom, str) and dom:
        return dom
    if schema in AGENT_WRITABLE_DOMAINS:
        return schema
    return SHADOW_DOMAIN if SHADOW_DOMAIN in _WORD.findall(schema.lower()) else None


def _alternative(dom: str, schema: str, reads: bool) -> str:
    if dom == SHADOW_DOMAIN and not reads:
        return ("A change a user makes to business records belongs in Odoo, the system of record: send it "
                "through an Edge Function that calls Odoo's API, and let the sync bring it back into "
                f"{schema}.* (written only by the sync role).")
    if reads:
        return ("If signed-in users must see part of it, expose only that part: a view in an API-exposed "
                "schema that runs with the caller's rights, over a base table that keeps row level "
                "security on, e.g.\n"
                f"    alter table {sql_ident(schema, '<table>')} enable row level security;\n"
                f"    create policy \"own rows\" on {sql_ident(schema, '<table>')} for select to authenticated\n"
                "      using (<owner column> = auth.uid());\n"
                f"    create view api.<name> with (security_invoker = true) as select <columns> from "
                f"{sql_ident(schema, '<table>')};\n"
                "    grant select on api.<name> to authenticated;")
    return ("If the app must write here, grant the one table it needs to authenticated, behind row level "
            "security that says which rows, e.g.\n"
            f"    alter table {sql_ident(schema, '<table>')} enable row level security;\n"
            f"    create policy \"own rows\" on {sql_ident(schema, '<table>')} for insert to authenticated\n"
            "      with check (<owner column> = auth.uid());\n"
            "or write through an Edge Function or a function that checks its caller.")


def check(inv: Inventory) -> Iterator[Finding]:
    declared = schema_domains(inv)
    for a in inv.of(Kind.GRANT, Kind.DEFAULT_PRIVILEGE):
        role = str(a.props.get("role") or a.name.split(":", 1)[0]).lower()
        if role not in EXPOSED_ROLES:
            continue
        dom = domain_of(a, declared)
        if dom not in DOCTRINE_DOMAINS:
            continue
        schema = str(a.props.get("schema") or "")
        obj_type = str(a.props.get("object_type") or "table").lower()
        privs = sorted({p.strip().upper() for p in str_list(a.props.get("privileges"))})
        writes = [p for p in privs if p in _WRITES or (obj_type == "schema" and p == "CREATE")]
        reads = [p for p in privs if p in _READS and obj_type in ("table", "sequence")
                 and dom in (SHADOW_DOMAIN, "audit")]
        if not writes and not reads:
            continue
        offending = sorted(set(writes) | set(reads))
        what = ("write" if writes else "read") + (" and read" if writes and reads else "")
        objects = ", ".join(str_list(a.props.get("objects")) or ["*"])
        declared_fix = (f"Drop it from the declared grants ({PLATFORM_CONFIG}) and revoke it:\n"
                        if a.phase is Phase.DECLARED else "Revoke it:\n")
        yield RULE.for_asset(
            a, subject=label(a),
            severity=Severity.CRITICAL if writes and dom == SHADOW_DOMAIN else None,
            explain=(f"Role {role}, which Supabase's data API serves to {_AUDIENCE[role]}, is granted "
                     f"{', '.join(offending)} on {obj_type} {schema}.{objects} at {a.location.describe()}: "
                     f"{what} access from the internet to a schema of domain {dom} ({_WHY[dom]})."),
            propose=(declared_fix + f"    {revoke_sql(a, role, schema, offending)}\n"
                     + _alternative(dom, schema, reads=bool(reads) and not writes)),
            metadata={"role": role, "schema": schema, "domain": dom, "privileges": offending},
        )


_AUDIENCE = {"anon": "anyone holding the project's public key", "authenticated": "any signed-up user",
             "public": "every role, anon and authenticated included"}
_WHY = {SHADOW_DOMAIN: "copies of Odoo business records, written only by the sync; Odoo is their system "
                       "of record",
        "audit": "findings about the platform's own weaknesses", "ops": "platform state and orchestration",
        "ai": "agent memory and AI outputs", "analytics": "derived datasets written by the platform"}


RULE = Rule(
    id="exposed_role_grant",
    title="The data API's public roles reach the doctrine's schemas",
    clause=("§2 Data Ownership Boundaries: Odoo owns business records, Supabase holds only shadow copies; "
            "§3 Write Rules: Supabase MAY write shadow tables (the sync), Odoo writes are strictly "
            "controlled; §6 AI & Agent Access: AI outputs and audit findings live in ops/ai/audit/analytics"),
    severity=Severity.HIGH,
    categories=("ownership", "access", "exposure"),
    phases=frozenset({Phase.DECLARED, Phase.STATIC, Phase.LIVE}),
    risk=("Supabase's data API answers the internet as anon (anyone with the public key), authenticated "
          "(anyone who signs up) and PUBLIC: a grant to them on a shadow, audit or other doctrine schema lets "
          "strangers rewrite copies of Odoo's records, read business data and audit findings, or write "
          "platform and agent state."),
    remediation=("Revoke the grant (and drop it from the declaration); serve what users may see through a "
                 "view in an exposed schema over tables with row level security, and route user changes to "
                 "business records to Odoo through an Edge Function."),
    check=check,
)
