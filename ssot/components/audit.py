"""The audit's database side the program declares: Vault fingerprints computed in the database.

`ssot audit` must compare Vault values with the declared state and with other stores without the
auditor ever reading a plaintext. So the database computes them: `ssot_audit.vault_fingerprints(probe)`
is a SECURITY DEFINER function (owned by the deploying, privileged role) returning, per Vault secret
name, the keyed HMAC-SHA256 of its value (pgcrypto), the same fingerprint `ssot.fingerprint` computes
in Python and the Vault provider records in state; plus the HMAC of the caller's probe string, so the
audit can tell whether its own key (SSOT_FINGERPRINT_KEY) is the database's. The key itself lives in
Vault (secret `ssot_fingerprint_key`: the stack's `fingerprintKey`, else generated in the database),
and EXECUTE is granted to the auditor role only (revoked from PUBLIC).

The rest of the auditor's access (metadata columns of vault.secrets, the pg_cron readers) is not
the program's: `audits/postgres/auditor.sql` sets it up, since it must exist before the first audit
and is applied by whoever administers the database.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_postgresql as postgresql
from psycopg import sql

from ssot.components import TYPE_PREFIX
from ssot.providers.vault_secret import VaultSecret, VaultSecretArgs

SCHEMA = "ssot_audit"
FUNCTION = "vault_fingerprints"
KEY_SECRET = "ssot_fingerprint_key"
KEY_DESCRIPTION = "ssot: key of the Vault fingerprints the audit compares (HMAC-SHA256)"
ARG = "probe"
RETURNS = "TABLE (name text, fingerprint text, is_probe boolean)"
# The key and the values are text in Vault; both are hashed as their UTF-8 bytes, as ssot.fingerprint
# and the Vault provider do, so the three agree byte for byte.
BODY = f"""
WITH k AS (
    SELECT convert_to(d.decrypted_secret, 'UTF8') AS key
    FROM vault.decrypted_secrets d WHERE d.name = '{KEY_SECRET}' LIMIT 1
)
SELECT s.name::text,
       encode(extensions.hmac(convert_to(s.decrypted_secret, 'UTF8'), k.key, 'sha256'), 'hex'),
       false
FROM vault.decrypted_secrets s CROSS JOIN k
WHERE s.name IS DISTINCT FROM '{KEY_SECRET}' AND s.decrypted_secret IS NOT NULL
UNION ALL
SELECT NULL, encode(extensions.hmac(convert_to({ARG}, 'UTF8'), k.key, 'sha256'), 'hex'), true FROM k
"""


def create_function_sql() -> sql.Composed:
    """The same function as a statement, for databases no `pulumi up` reaches (the local cluster)."""
    return sql.SQL(
        "CREATE OR REPLACE FUNCTION {schema}.{fn}({arg} text) RETURNS {returns} LANGUAGE sql STABLE "
        "SECURITY DEFINER SET search_path = '' AS {body}"
    ).format(schema=sql.Identifier(SCHEMA), fn=sql.Identifier(FUNCTION), arg=sql.Identifier(ARG),
             returns=sql.SQL(RETURNS), body=sql.Literal(BODY))


def grant_sql(auditor: str) -> sql.Composed:
    return sql.SQL(
        "REVOKE ALL ON FUNCTION {schema}.{fn}(text) FROM PUBLIC; "
        "GRANT EXECUTE ON FUNCTION {schema}.{fn}(text) TO {auditor}"
    ).format(schema=sql.Identifier(SCHEMA), fn=sql.Identifier(FUNCTION), auditor=sql.Identifier(auditor))


@dataclass
class AuditAccessArgs:
    database: str
    auditor: str
    conninfo: pulumi.Output[str]
    fingerprint_key: pulumi.Output[str]
    # The stack's fingerprintKey when declared (then the audit can use the same key), else generated.
    key_value: pulumi.Output[str] | None
    depends_on: list[pulumi.Resource]


class AuditAccess(pulumi.ComponentResource):
    def __init__(self, name: str, args: AuditAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        doctrine = {"auditor": args.auditor, "function": f"{SCHEMA}.{FUNCTION}", "key_secret": KEY_SECRET}
        super().__init__(f"{TYPE_PREFIX}:AuditAccess", name, {"doctrine": doctrine}, opts)
        me = pulumi.ResourceOptions(parent=self, depends_on=args.depends_on)
        self.key = VaultSecret(
            f"vault-{KEY_SECRET}",
            VaultSecretArgs(conninfo=args.conninfo, fingerprint_key=args.fingerprint_key, name=KEY_SECRET,
                            description=KEY_DESCRIPTION,
                            value=args.key_value, generate_bytes=None if args.key_value is not None else 32,
                            managed_outside=False),
            me)
        self.schema = postgresql.Schema(f"schema-{SCHEMA}", postgresql.SchemaArgs(
            name=SCHEMA, database=args.database, drop_cascade=False, if_not_exists=True), me)
        self.function = postgresql.Function(
            f"function-{FUNCTION}",
            postgresql.FunctionArgs(
                name=FUNCTION, schema=SCHEMA, database=args.database, language="sql", security_definer=True,
                volatility="STABLE", returns=RETURNS, body=BODY,
                args=[postgresql.FunctionArgArgs(name=ARG, type="text")]),
            pulumi.ResourceOptions(parent=self, depends_on=[self.schema, self.key, *args.depends_on]))
        # EXECUTE for the auditor only: an empty privilege list on PUBLIC revokes its default EXECUTE.
        self.revoke_public = postgresql.Grant(f"grant-{FUNCTION}-public", postgresql.GrantArgs(
            database=args.database, role="public", schema=SCHEMA, object_type="function", objects=[FUNCTION],
            privileges=[]), pulumi.ResourceOptions(parent=self, depends_on=[self.function, self.schema]))
        self.grant = postgresql.Grant(f"grant-{FUNCTION}-{args.auditor}", postgresql.GrantArgs(
            database=args.database, role=args.auditor, schema=SCHEMA, object_type="function", objects=[FUNCTION],
            privileges=["EXECUTE"]), pulumi.ResourceOptions(parent=self, depends_on=[self.function, self.schema,
                                                                      *args.depends_on]))
        self.register_outputs({"doctrine": doctrine})
