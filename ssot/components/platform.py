"""The whole declared platform of one stack: the component `__main__.py` declares."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ssot.components import TYPE_PREFIX, where
from ssot.components.audit import AuditAccess, AuditAccessArgs
from ssot.components.connection import DatabaseConnection, SecretResolver
from ssot.components.cron import CronJobs, CronJobsArgs
from ssot.components.grants import Grants, GrantsArgs
from ssot.components.roles import Roles, RolesArgs
from ssot.components.schemas import DoctrineSchemas, DoctrineSchemasArgs
from ssot.components.vault import VaultSecrets, VaultSecretsArgs
from ssot.model import Platform as PlatformDecl


@dataclass
class PlatformArgs:
    platform: PlatformDecl
    resolver: SecretResolver
    # Filled in by the program for a local or fixed-host database; for `fromProject` it is built
    # here from the project's ref.
    connection: DatabaseConnection | None


class Platform(pulumi.ComponentResource):
    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        decl = args.platform
        doctrine = {
            "stack_file": decl.file, "stack": decl.stack,
            "justifications": [
                {**j.as_dict(), "expires": j.expires.isoformat()} for j in decl.justifications],
            "odoo": {"url": decl.odoo.url, "database": decl.odoo.database, **where(decl.odoo)} if decl.odoo else None,
            "aws": {"region": decl.aws.region, **where(decl.aws)} if decl.aws else None,
            # Plaintext where a secret belongs, for values that feed no store of their own (Vault,
            # Edge and role secrets carry their source on their own component).
            "literal_sources": {
                label: {"path": src.where.file, "line": src.where.line, "ref": src.ref}
                for label, src in decl.secret_sources()
                if src.kind == "literal" and not label.startswith(("vault:", "edge:", "role:"))
            },
        }
        super().__init__(f"{TYPE_PREFIX}:Platform", name, {"doctrine": doctrine}, opts)
        me = pulumi.ResourceOptions(parent=self)

        fkey = self._fingerprint_key(decl, args.resolver, me)
        supabase = None
        connection = args.connection
        if decl.project is not None:
            # Imported lazily: the local stack has no project and needs no Management API client.
            from ssot.components.supabase import SupabasePlatform, SupabasePlatformArgs

            supabase = SupabasePlatform(
                decl.project.name.lower().replace(" ", "-"),
                SupabasePlatformArgs(project=decl.project, edge_secrets=decl.edge_secrets,
                                     resolver=args.resolver, fingerprint_key=fkey),
                me,
            )
            if connection is None:
                assert decl.database.password is not None
                password = args.resolver.value(decl.database.password)
                assert password is not None
                connection = DatabaseConnection(
                    host=supabase.ref.apply(lambda ref: f"db.{ref}.supabase.co"), port=decl.database.port,
                    dbname=decl.database.name, user=decl.database.user, password=password,
                    sslmode=decl.database.sslmode, sslrootcert=decl.database.sslrootcert)
        if connection is None:
            raise ValueError("no database connection: the program must pass one for this stack")

        provider = connection.provider("postgres", pulumi.ResourceOptions(
            parent=self, depends_on=[supabase.project] if supabase else None))
        on_db = pulumi.ResourceOptions(parent=self, providers={"postgresql": provider})
        self.schemas = DoctrineSchemas("schemas", DoctrineSchemasArgs(
            database=decl.database.name, schemas=decl.schemas, extensions=decl.extensions), on_db)
        self.roles = Roles("roles", RolesArgs(roles=decl.roles, secrets=args.resolver), on_db)
        self.grants = Grants("grants", GrantsArgs(
            database=decl.database.name, grants=decl.grants, default_privileges=decl.default_privileges,
            schemas=dict(self.schemas.schemas), roles=dict(self.roles.roles)), on_db)
        conninfo = connection.conninfo()
        base_deps: list[pulumi.Resource] = [supabase.project] if supabase else []
        self.vault = VaultSecrets("vault", VaultSecretsArgs(
            conninfo=conninfo, fingerprint_key=fkey, secrets=decl.vault_secrets, resolver=args.resolver,
            depends_on=[*base_deps, *self.schemas.extensions.values()]), me)
        self.cron = CronJobs("cron", CronJobsArgs(
            conninfo=conninfo, jobs=decl.cron_jobs, base_depends_on=[*base_deps, *self._cron_extension()],
            schemas=dict(self.schemas.schemas), vault_secrets=dict(self.vault.secrets)), me)
        auditor = next((r.name for r in decl.roles if r.kind == "auditor"), None)
        if decl.audit and decl.audit.db_user:
            auditor = decl.audit.db_user
        self.audit = None
        if auditor is not None:
            # The Vault key secret holds the very key the providers fingerprint under, so state,
            # database and the audit process agree (ssot/components/audit.py).
            self.audit = AuditAccess("audit", AuditAccessArgs(
                database=decl.database.name, auditor=auditor, conninfo=conninfo, fingerprint_key=fkey,
                key_value=fkey, depends_on=[*base_deps, *self.schemas.extensions.values(),
                                            *([self.roles.roles[auditor]] if auditor in self.roles.roles else [])]),
                on_db)
        if decl.audit_schedule is not None:
            from ssot.components.audit_schedule import AuditSchedule, AuditScheduleArgs

            self.audit_schedule = AuditSchedule("audit-schedule", AuditScheduleArgs(
                conninfo=conninfo, schedule=decl.audit_schedule, stack=decl.stack,
                depends_on=[*base_deps, *self._cron_extension()], schemas=dict(self.schemas.schemas),
                vault_secrets=dict(self.vault.secrets)), me)
        self.supabase = supabase
        outputs: dict[str, object] = {
            "schemas": sorted(self.schemas.schemas), "roles": sorted(self.roles.roles),
            "vault_secrets": sorted(self.vault.secrets), "cron_jobs": sorted(self.cron.jobs),
        }
        if supabase:
            outputs["project_ref"] = supabase.ref
        self.outputs = outputs
        self.register_outputs({**outputs, "doctrine": doctrine})

    def _cron_extension(self) -> list[pulumi.Resource]:
        ext = self.schemas.extensions.get("pg_cron")
        return [ext] if ext is not None else []

    @staticmethod
    def _fingerprint_key(decl: PlatformDecl, resolver: SecretResolver, opts: pulumi.ResourceOptions
                         ) -> pulumi.Output[str]:
        if decl.fingerprint_key is not None:
            value = resolver.value(decl.fingerprint_key)
            if value is not None:
                return value
        # Without a declared key, a random one made at the first `pulumi up` and kept only as a
        # secret output: a key derived from public names would let anyone with the repository test
        # guesses against every fingerprint (ssot/providers/fingerprint_key.py).
        from ssot.providers.fingerprint_key import FingerprintKey

        return FingerprintKey("fingerprint-key", opts).key
