"""Grants and default privileges: who may read and write which doctrine schema."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_postgresql as postgresql

from ssot.components import TYPE_PREFIX, where
from ssot.model import DefaultPrivilege, Grant


@dataclass
class GrantsArgs:
    database: str
    grants: tuple[Grant, ...]
    default_privileges: tuple[DefaultPrivilege, ...]
    schemas: dict[str, pulumi.Resource]
    roles: dict[str, pulumi.Resource]


class Grants(pulumi.ComponentResource):
    grants: dict[str, postgresql.Grant]
    default_privileges: dict[str, postgresql.DefaultPrivileges]

    def __init__(self, name: str, args: GrantsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        doctrine = {
            "grants": {g.resource_name: where(g) for g in args.grants},
            "default_privileges": {d.resource_name: where(d) for d in args.default_privileges},
        }
        super().__init__(f"{TYPE_PREFIX}:Grants", name, {"doctrine": doctrine}, opts)

        def deps(role: str, schema: str, *more: str) -> list[pulumi.Resource]:
            found = [args.roles.get(role), args.schemas.get(schema), *(args.roles.get(m) for m in more)]
            return [d for d in found if d is not None]

        self.grants = {
            g.resource_name: postgresql.Grant(
                f"grant-{g.resource_name}",
                postgresql.GrantArgs(database=args.database, role=g.role, schema=g.schema, object_type=g.on,
                                     privileges=list(g.privileges), objects=list(g.objects) or None),
                pulumi.ResourceOptions(parent=self, depends_on=deps(g.role, g.schema)),
            )
            for g in args.grants
        }
        self.default_privileges = {
            d.resource_name: postgresql.DefaultPrivileges(
                f"defaults-{d.resource_name}",
                postgresql.DefaultPrivilegesArgs(database=args.database, role=d.role, schema=d.schema,
                                                 owner=d.owner, object_type=d.on,
                                                 privileges=list(d.privileges)),
                pulumi.ResourceOptions(parent=self, depends_on=deps(d.role, d.schema, d.owner)),
            )
            for d in args.default_privileges
        }
        self.register_outputs({"doctrine": doctrine})
