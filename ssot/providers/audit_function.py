"""The audit's Vault fingerprint function, `ssot_audit.vault_fingerprints()`, as a dynamic resource.

pulumi-postgresql's `Function` cannot attach `SET search_path` to a function, and a SECURITY DEFINER
function without it resolves every unqualified name through the *caller's* search_path: a caller
with CREATE on any schema plants `encode(bytea, text)` there, puts that schema first, and runs it
as the function's owner. So the function is created here, by the very statement `ssot db auditor`
runs locally (`create_function_sql`): search_path pinned to '' (pg_catalog only, never pg_temp for
functions), every call and operator schema-qualified besides, and EXECUTE revoked from PUBLIC and
granted to the auditor in the same transaction, so PUBLIC never holds it for an instant.

The function takes no argument. It returns the HMAC of a constant probe (`ssot.fingerprint.PROBE`),
so the audit can tell whether its own key is the database's; a caller-chosen probe would let anyone
with EXECUTE test guesses of any Vault value against its fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
import pulumi
from psycopg import sql
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from ssot import pg
from ssot.errors import ProviderError
from ssot.fingerprint import PROBE
from ssot.names import pg_identifier_problem
from ssot.providers._base import DynamicResource, secret
from ssot.providers._props import get, is_unknown, require_str, unknown_key_failures

SCHEMA = "ssot_audit"
FUNCTION = "vault_fingerprints"
SIGNATURE = f"{SCHEMA}.{FUNCTION}()"
KEY_SECRET = "ssot_fingerprint_key"
RETURNS = "TABLE (name text, fingerprint text, is_probe boolean)"
INPUTS = frozenset({"conninfo", "auditor"})
APP = "ssot-audit-function"
# The key and the values are text in Vault; both are hashed as their UTF-8 bytes, as ssot.fingerprint
# and the Vault provider do, so the three agree byte for byte. Every name is qualified although
# search_path is '' as well: the body must stay safe if someone copies it without the SET clause.
BODY = f"""
WITH k AS (
    SELECT pg_catalog.convert_to(d.decrypted_secret, 'UTF8') AS key
    FROM vault.decrypted_secrets d WHERE d.name OPERATOR(pg_catalog.=) '{KEY_SECRET}' LIMIT 1
)
SELECT s.name::pg_catalog.text,
       pg_catalog.encode(extensions.hmac(pg_catalog.convert_to(s.decrypted_secret, 'UTF8'), k.key, 'sha256'), 'hex'),
       false
FROM vault.decrypted_secrets s CROSS JOIN k
WHERE s.name IS NOT NULL AND s.name OPERATOR(pg_catalog.<>) '{KEY_SECRET}' AND s.decrypted_secret IS NOT NULL
UNION ALL
SELECT NULL, pg_catalog.encode(extensions.hmac(pg_catalog.convert_to('{PROBE}', 'UTF8'), k.key, 'sha256'), 'hex'),
       true
FROM k
"""


def create_function_sql() -> sql.Composed:
    """The function as one statement: what the resource runs and what `ssot db auditor` runs locally.
    The (text) variant of earlier versions, a guess oracle, is dropped first."""
    return sql.SQL(
        "DROP FUNCTION IF EXISTS {schema}.{fn}(text); "
        "CREATE OR REPLACE FUNCTION {schema}.{fn}() RETURNS {returns} LANGUAGE sql STABLE "
        "SECURITY DEFINER SET search_path = '' AS {body}"
    ).format(schema=sql.Identifier(SCHEMA), fn=sql.Identifier(FUNCTION), returns=sql.SQL(RETURNS),
             body=sql.Literal(BODY))


def grant_sql(auditor: str) -> sql.Composed:
    return sql.SQL(
        "REVOKE ALL ON FUNCTION {schema}.{fn}() FROM PUBLIC; "
        "GRANT EXECUTE ON FUNCTION {schema}.{fn}() TO {auditor}"
    ).format(schema=sql.Identifier(SCHEMA), fn=sql.Identifier(FUNCTION), auditor=sql.Identifier(auditor))


def _auditor(props: dict[str, Any], what: str) -> str:
    auditor = require_str(props, "auditor", what)
    problem = pg_identifier_problem(auditor)
    if problem:
        raise ProviderError(f"{what}: auditor: expected {problem}")
    return auditor


def _outputs(conn: psycopg.Connection, props: dict[str, Any]) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT p.prosecdef, coalesce(p.proconfig, '{}') FROM pg_catalog.pg_proc p "
        "WHERE p.oid = pg_catalog.to_regprocedure(%s)", (SIGNATURE,)).fetchone()
    if row is None:
        return None
    return {"conninfo": get(props, "conninfo"), "auditor": get(props, "auditor"), "signature": SIGNATURE,
            "security_definer": bool(row[0]), "config": list(row[1])}


class AuditFunctionProvider(ResourceProvider):
    """Create-or-replace the function and its grants; stateless, as every ssot provider."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = unknown_key_failures(news, INPUTS)
        auditor = get(news, "auditor")
        if not is_unknown(auditor):
            problem = pg_identifier_problem(auditor) if isinstance(auditor, str) else "a role name"
            if problem:
                failures.append(CheckFailure("auditor", f"expected {problem}"))
        return CheckResult(dict(news), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # The definition is this module's: an upgrade of ssot re-applies it (config lists the SET).
        changed = [k for k in INPUTS if get(news, k) != get(olds, k)]
        if get(olds, "signature") != SIGNATURE or "search_path=\"\"" not in (get(olds, "config") or []):
            changed.append("definition")
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def _apply(self, props: dict[str, Any], olds: dict[str, Any] | None, what: str) -> dict[str, Any]:
        conninfo = require_str(props, "conninfo", what)
        auditor = _auditor(props, what)
        with pg.provider_errors(what, conninfo):
            with pg.connect(conninfo, app=APP) as conn, conn.transaction():
                conn.execute(create_function_sql())
                old = get(olds or {}, "auditor")
                if isinstance(old, str) and old != auditor and not pg_identifier_problem(old) and conn.execute(
                        "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (old,)).fetchone():
                    conn.execute(sql.SQL("REVOKE ALL ON FUNCTION {}.{}() FROM {}").format(
                        sql.Identifier(SCHEMA), sql.Identifier(FUNCTION), sql.Identifier(old)))
                conn.execute(grant_sql(auditor))
                outs = _outputs(conn, props)
        if outs is None:
            raise ProviderError(f"{what} failed: the function vanished right after it was created")
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(SIGNATURE, self._apply(props, None, f"creating function {SIGNATURE}"))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news, olds, f"updating function {SIGNATURE}"))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        conninfo = require_str(props, "conninfo", f"reading function {SIGNATURE}")
        with pg.provider_errors(f"reading function {SIGNATURE}", conninfo):
            with pg.connect(conninfo, app=APP) as conn:
                outs = _outputs(conn, props)
        return ReadResult(id_, outs) if outs is not None else ReadResult("", {})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        conninfo = require_str(props, "conninfo", f"deleting function {SIGNATURE}")
        with pg.provider_errors(f"deleting function {SIGNATURE}", conninfo):
            with pg.connect(conninfo, app=APP) as conn:
                conn.execute(sql.SQL("DROP FUNCTION IF EXISTS {}.{}()").format(
                    sql.Identifier(SCHEMA), sql.Identifier(FUNCTION)))


@dataclass
class AuditFunctionArgs:
    conninfo: pulumi.Input[str]
    auditor: pulumi.Input[str]


class AuditFunction(DynamicResource, module="ssot", name="AuditFunction"):
    """`ssot_audit.vault_fingerprints()`: SECURITY DEFINER, search_path pinned, EXECUTE for the auditor only."""

    provider_class = AuditFunctionProvider
    secret_outputs = ("conninfo",)

    signature: pulumi.Output[str]
    security_definer: pulumi.Output[bool]
    config: pulumi.Output[list[str]]

    def __init__(self, resource_name: str, args: AuditFunctionArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(resource_name, {"conninfo": secret(args.conninfo), "auditor": args.auditor}, opts)
