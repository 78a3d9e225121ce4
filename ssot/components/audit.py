"""The audit's database side the program declares: Vault fingerprints computed in the database.

`ssot audit` must compare Vault values with the declared state and with other stores without the
auditor ever reading a plaintext. So the database computes them: `ssot_audit.vault_fingerprints()`
is a SECURITY DEFINER function (owned by the deploying, privileged role, search_path pinned) returning,
per Vault secret name, the keyed HMAC-SHA256 of its value (pgcrypto), the same fingerprint
`ssot.fingerprint` computes in Python and the Vault provider records in state; plus the HMAC of a
constant probe string (`ssot.fingerprint.PROBE`), so the audit can tell whether its own key
(SSOT_FINGERPRINT_KEY) is the database's. The key itself lives in Vault (secret `ssot_fingerprint_key`:
the stack's `fingerprintKey`, else generated in the database),
and EXECUTE is granted to the auditor role only (revoked from PUBLIC).

The rest of the auditor's access (metadata columns of vault.secrets, the pg_cron readers) is not
the program's: `audits/postgres/auditor.sql` sets it up, since it must exist before the first audit
and is applied by whoever administers the database.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_postgresql as postgresql

from ssot.components import TYPE_PREFIX
from ssot.providers.audit_function import (
    FUNCTION,
    KEY_SECRET,
    SCHEMA,
    AuditFunction,
    AuditFunctionArgs,
)
from ssot.providers.vault_secret import VaultSecret, VaultSecretArgs

KEY_DESCRIPTION = "ssot: key of the Vault fingerprints the audit compares (HMAC-SHA256)"


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
        # Not pulumi-postgresql's Function: it cannot pin search_path (ssot/providers/audit_function.py).
        self.function = AuditFunction(
            f"function-{FUNCTION}", AuditFunctionArgs(conninfo=args.conninfo, auditor=args.auditor),
            pulumi.ResourceOptions(parent=self, depends_on=[self.schema, self.key, *args.depends_on]))
        # The function's resource grants and revokes in the same transaction as it creates; these
        # declare the same for the state and keep stacks deployed before it from deleting them (a
        # deleted Grant revokes by function name, which would now hit the new function).
        self.revoke_public = postgresql.Grant(f"grant-{FUNCTION}-public", postgresql.GrantArgs(
            database=args.database, role="public", schema=SCHEMA, object_type="function", objects=[FUNCTION],
            privileges=[]), pulumi.ResourceOptions(parent=self, depends_on=[self.function, self.schema]))
        self.grant = postgresql.Grant(f"grant-{FUNCTION}-{args.auditor}", postgresql.GrantArgs(
            database=args.database, role=args.auditor, schema=SCHEMA, object_type="function", objects=[FUNCTION],
            privileges=["EXECUTE"]), pulumi.ResourceOptions(parent=self, depends_on=[self.function, self.schema,
                                                                      *args.depends_on]))
        self.register_outputs({"doctrine": doctrine})
