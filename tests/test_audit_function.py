"""The audit's SECURITY DEFINER functions against the real PostgreSQL: no caller can run code as their owner.

The review's reproduction: an auditor with CREATE on some schema plants `encode(bytea, text)` (and
friends) there, puts that schema first in its search_path and calls the fingerprint function; a
SECURITY DEFINER function resolving names through the caller's search_path then runs the planted code
as the owner. The function is created here by the Pulumi resource's own provider
(`ssot.providers.audit_function`), i.e. the very SQL `pulumi up` issues.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from ssot import auditor_setup
from ssot.fingerprint import PROBE, fingerprint
from ssot.providers.audit_function import AuditFunctionProvider

AUDITOR = "ssot_auditor_sp"
KEY = "audit-function-key-" + "q" * 16
SCRATCH = "sp_scratch"
# Every name the fingerprint function's body (and the cron readers') calls, planted with the argument
# types the calls resolve to, each announcing who it ran as.
PLANTED = [
    "CREATE FUNCTION {s}.encode(bytea, text) RETURNS text LANGUAGE plpgsql AS "
    "$$BEGIN RAISE EXCEPTION 'planted encode ran as %', current_user; END$$",
    "CREATE FUNCTION {s}.convert_to(text, name) RETURNS bytea LANGUAGE plpgsql AS "
    "$$BEGIN RAISE EXCEPTION 'planted convert_to ran as %', current_user; END$$",
    "CREATE FUNCTION {s}.count() RETURNS bigint LANGUAGE plpgsql AS "
    "$$BEGIN RAISE EXCEPTION 'planted count ran as %', current_user; END$$",
    "CREATE FUNCTION {s}.eq(text, text) RETURNS boolean LANGUAGE plpgsql AS "
    "$$BEGIN RAISE EXCEPTION 'planted = ran as %', current_user; END$$",
    "CREATE OPERATOR {s}.= (LEFTARG = text, RIGHTARG = text, FUNCTION = {s}.eq)",
    "CREATE OPERATOR {s}.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = {s}.eq)",
]
# The function as pulumi-postgresql's Function declared it before: SECURITY DEFINER, no SET clause.
UNPINNED_BEFORE = """
CREATE FUNCTION ssot_audit.unpinned_control(probe text) RETURNS TABLE (name text, fingerprint text, is_probe boolean)
LANGUAGE sql STABLE SECURITY DEFINER AS $b$
WITH k AS (SELECT convert_to(d.decrypted_secret, 'UTF8') AS key FROM vault.decrypted_secrets d
           WHERE d.name = 'ssot_fingerprint_key' LIMIT 1)
SELECT NULL::text, encode(extensions.hmac(convert_to(probe, 'UTF8'), k.key, 'sha256'), 'hex'), true FROM k
$b$"""


@pytest.fixture
def hostile_auditor(pg: psycopg.Connection, db_conninfo: str) -> Iterator[str]:
    """The auditor role with CREATE on a schema of planted look-alikes, and the function created by the provider."""
    pg.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
    pg.execute(f"DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{AUDITOR}') THEN "
               f"CREATE ROLE {AUDITOR} NOLOGIN; END IF; END$$")
    pg.execute(f"CREATE SCHEMA {SCRATCH} AUTHORIZATION {AUDITOR}")
    auditor_setup.apply(pg, AUDITOR, KEY)
    with pg.transaction():
        pg.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(AUDITOR)))
        for stmt in PLANTED:
            pg.execute(stmt.format(s=SCRATCH).encode())
    AuditFunctionProvider().create({"conninfo": db_conninfo, "auditor": AUDITOR})
    try:
        yield AUDITOR
    finally:
        pg.execute("DROP FUNCTION IF EXISTS ssot_audit.unpinned_control(text)")
        pg.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
        pg.execute(sql.SQL("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ssot_audit FROM {r}; "
                           "REVOKE ALL ON SCHEMA ssot_audit FROM {r}; REVOKE ALL ON SCHEMA vault FROM {r}; "
                           "REVOKE ALL ON vault.secrets FROM {r}; DROP ROLE {r}").format(r=sql.Identifier(AUDITOR)))
        pg.execute("DELETE FROM vault.secrets WHERE name = 'ssot_fingerprint_key'")


def _as_hostile_auditor(conn: psycopg.Connection) -> None:
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(AUDITOR)))
    conn.execute(f"SET search_path = {SCRATCH}, pg_catalog")


def test_the_reproduction_runs_planted_code_in_an_unpinned_security_definer_function(
        hostile_auditor: str, pg: psycopg.Connection, db_conninfo: str) -> None:
    """The control: the review's attack works against the function as it was declared before."""
    pg.execute(UNPINNED_BEFORE)
    pg.execute(sql.SQL("GRANT EXECUTE ON FUNCTION ssot_audit.unpinned_control(text) TO {}")
               .format(sql.Identifier(AUDITOR)))
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        _as_hostile_auditor(conn)
        with pytest.raises(psycopg.errors.RaiseException, match=r"planted .* ran as postgres"):
            conn.execute("SELECT * FROM ssot_audit.unpinned_control('x')")


def test_the_declared_function_never_runs_the_callers_planted_code(
        hostile_auditor: str, db_conninfo: str) -> None:
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        _as_hostile_auditor(conn)
        # the planted look-alikes are live for this session...
        with pytest.raises(psycopg.errors.RaiseException, match="planted encode ran as ssot_auditor_sp"):
            conn.execute("SELECT encode('x'::bytea, 'hex')")
        # ...and the fingerprint function and the cron readers resolve none of them
        rows = conn.execute("SELECT name, fingerprint, is_probe FROM ssot_audit.vault_fingerprints()").fetchall()
        conn.execute("SELECT * FROM ssot_audit.cron_jobs()").fetchall()
        conn.execute("SELECT * FROM ssot_audit.cron_failures()").fetchall()
    assert (None, fingerprint(PROBE, KEY.encode()), True) in rows


def test_every_security_definer_function_ssot_creates_pins_search_path(
        hostile_auditor: str, pg: psycopg.Connection) -> None:
    funcs = pg.execute("SELECT p.oid::regprocedure::text, p.proconfig FROM pg_proc p "
                       "JOIN pg_namespace n ON n.oid = p.pronamespace "
                       "WHERE n.nspname = 'ssot_audit' AND p.prosecdef").fetchall()
    assert {f for f, _ in funcs} >= {"ssot_audit.vault_fingerprints()", "ssot_audit.cron_jobs()",
                                     "ssot_audit.cron_failures()"}
    for name, config in funcs:
        assert config == ['search_path=""'], f"{name} must pin search_path to ''"


def test_the_fingerprint_function_takes_no_probe_from_the_caller(
        hostile_auditor: str, pg: psycopg.Connection, db_conninfo: str) -> None:
    """A caller-chosen probe was a guess oracle: HMAC(guess) under the key every Vault fingerprint uses."""
    (nargs,) = pg.execute("SELECT pronargs FROM pg_proc WHERE oid = 'ssot_audit.vault_fingerprints()'::regprocedure"
                          ).fetchone() or (None,)
    assert nargs == 0
    assert pg.execute("SELECT to_regprocedure('ssot_audit.vault_fingerprints(text)')").fetchone() == (None,)
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(AUDITOR)))
        with pytest.raises(psycopg.errors.UndefinedFunction):
            conn.execute("SELECT * FROM ssot_audit.vault_fingerprints('my guess')")
        probes = conn.execute("SELECT fingerprint FROM ssot_audit.vault_fingerprints() WHERE is_probe").fetchall()
    assert probes == [(fingerprint(PROBE, KEY.encode()),)]


def test_an_old_oracle_function_is_dropped_when_the_function_is_declared(
        hostile_auditor: str, pg: psycopg.Connection, db_conninfo: str) -> None:
    pg.execute("CREATE FUNCTION ssot_audit.vault_fingerprints(probe text) RETURNS text LANGUAGE sql "
               "SECURITY DEFINER SET search_path = '' AS 'SELECT probe'")
    out = AuditFunctionProvider().update("x", {"conninfo": db_conninfo, "auditor": AUDITOR},
                                         {"conninfo": db_conninfo, "auditor": AUDITOR}).outs
    assert out is not None and out["config"] == ['search_path=""'] and out["security_definer"] is True
    assert pg.execute("SELECT to_regprocedure('ssot_audit.vault_fingerprints(text)')").fetchone() == (None,)
    assert pg.execute("SELECT has_function_privilege('public', 'ssot_audit.vault_fingerprints()', 'EXECUTE')"
                      ).fetchone() == (False,)


def test_the_resource_reads_diffs_and_deletes_what_it_made(hostile_auditor: str, pg: psycopg.Connection,
                                                           db_conninfo: str) -> None:
    p = AuditFunctionProvider()
    props = {"conninfo": db_conninfo, "auditor": AUDITOR}
    outs = p.read("ssot_audit.vault_fingerprints()", props).outs
    assert outs is not None and outs["config"] == ['search_path=""'] and outs["signature"] == \
        "ssot_audit.vault_fingerprints()"
    assert p.diff("x", outs, props).changes is False
    # a function without the pinned search_path (as pulumi-postgresql's Function made it) is re-applied
    assert p.diff("x", {**outs, "config": []}, props).changes is True
    assert p.diff("x", outs, {**props, "auditor": "someone_else"}).changes is True
    assert p.check({}, {**props, "auditor": "Bad-Name; DROP"}).failures
    p.delete("x", props)
    assert pg.execute("SELECT to_regprocedure('ssot_audit.vault_fingerprints()')").fetchone() == (None,)
    assert p.read("x", props).id == ""
