"""What SQL migrations grant to the data API's roles (anon, authenticated, PUBLIC)."""

from __future__ import annotations

import pytest

from ssot.inventory import Kind, Phase
from ssot.sources.sql_grants import sql_grants

MIGRATION = """\
-- grant all on all tables in schema ops to anon;   (commented out: nothing)
grant select, insert, update on all tables in schema odoo_shadow to anon;
alter default privileges in schema audit grant select on tables to authenticated;
alter default privileges for role postgres in schema audit, ops grant all privileges on tables to "authenticated";
grant usage on schema analytics to authenticated;
grant select on analytics.invoice_kpis, ops.jobs to authenticated, ssot_agent;
grant update (amount, state) on table odoo_shadow.account_move to PUBLIC with grant option;
grant select on all tables in schema audit to anon;
revoke select on all tables in schema audit from anon;
grant insert, delete on all sequences in schema ai to group anon;
revoke delete on all sequences in schema ai from anon;
grant ssot_agent to authenticated;
grant select on all tables in schema ops to ssot_agent;
grant execute on function ops.refresh(int, text) to anon;
alter default privileges grant select on tables to anon;
revoke grant option for update on table odoo_shadow.account_move from public;
"""


def test_what_a_migration_leaves_granted_to_the_api_roles() -> None:
    assets = sql_grants(MIGRATION, "supabase/migrations/0001.sql")
    got = {(a.kind, a.name, a.location.line, tuple(a.props["privileges"]), a.props.get("owner")) for a in assets}
    assert got == {
        (Kind.GRANT, "anon:table:odoo_shadow", 2, ("INSERT", "SELECT", "UPDATE"), None),
        (Kind.DEFAULT_PRIVILEGE, "authenticated:table:audit", 3, ("SELECT",), None),
        (Kind.DEFAULT_PRIVILEGE, "authenticated:table:audit", 4, ("ALL",), "postgres"),
        (Kind.DEFAULT_PRIVILEGE, "authenticated:table:ops", 4, ("ALL",), "postgres"),
        (Kind.GRANT, "authenticated:schema:analytics", 5, ("USAGE",), None),
        (Kind.GRANT, "authenticated:table:analytics.invoice_kpis", 6, ("SELECT",), None),
        (Kind.GRANT, "authenticated:table:ops.jobs", 6, ("SELECT",), None),
        (Kind.GRANT, "public:table:odoo_shadow.account_move", 7, ("UPDATE",), None),
        (Kind.GRANT, "anon:sequence:ai", 10, ("INSERT",), None),
        (Kind.GRANT, "anon:function:ops.refresh", 14, ("EXECUTE",), None),
    }
    for a in assets:
        assert a.phase is Phase.STATIC and a.location.path == "supabase/migrations/0001.sql"
        assert a.props["role"] in ("anon", "authenticated", "public")
        assert a.props["schema"] == a.name.split(":")[2].split(".")[0]


def test_revoked_everything_leaves_nothing() -> None:
    sql = "grant all on all tables in schema audit to anon;\nrevoke all on all tables in schema audit from anon;\n"
    assert sql_grants(sql, "m.sql") == []


@pytest.mark.parametrize("text", [
    "grant select on " * 50_000,                       # no `;` anywhere
    "grant " * 100_000,
    "-- grant\n" * 50_000,
    "grant select on " + "a," * 100_000 + "b to anon;",  # one huge statement, cut at its bound
    "alter default privileges for role " + "r," * 50_000,
    "grant select on x to anon" + " " * 200_000 + ";",
])
def test_pathological_input_is_read_in_bounded_work(text: str) -> None:
    # No timing here (bench/ measures it); these would take minutes if the parser were quadratic.
    assert isinstance(sql_grants(text, "big.sql"), list)
