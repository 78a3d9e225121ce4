"""Roles for agents, automation, auditors and services."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_postgresql as postgresql

from ssot.components import TYPE_PREFIX, source_meta, where
from ssot.components.connection import SecretResolver
from ssot.model import Role


@dataclass
class RolesArgs:
    roles: tuple[Role, ...]
    secrets: SecretResolver


class Roles(pulumi.ComponentResource):
    roles: dict[str, postgresql.Role]

    def __init__(self, name: str, args: RolesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        doctrine = {"roles": {r.name: {"kind": r.kind, "login": r.login, "odoo_raw_allowed": r.odoo_raw_allowed,
                                       "member_of": list(r.member_of),
                                       **(source_meta(r.password) if r.password else {}), **where(r)}
                              for r in args.roles}}
        super().__init__(f"{TYPE_PREFIX}:Roles", name, {"doctrine": doctrine}, opts)
        self.roles = {}
        declared = {r.name for r in args.roles}
        # Roles may be members of other declared roles: create parents first so the dependency is
        # explicit rather than left to the engine's luck.
        for role in _parents_first(args.roles):
            deps = [self.roles[p] for p in role.member_of if p in declared]
            password = args.secrets.value(role.password) if role.password else None
            self.roles[role.name] = postgresql.Role(
                f"role-{role.name}",
                postgresql.RoleArgs(
                    name=role.name, login=role.login, password=password, inherit=True,
                    connection_limit=role.connection_limit, roles=list(role.member_of) or None,
                    # Supabase's postgres cannot create superusers or replication roles anyway;
                    # saying so keeps plans honest.
                    superuser=False, create_database=False, create_role=False, replication=False,
                    bypass_row_level_security=False,
                ),
                pulumi.ResourceOptions(parent=self, depends_on=deps,
                                       additional_secret_outputs=["password"]),
            )
        self.register_outputs({"doctrine": doctrine})


def _parents_first(roles: tuple[Role, ...]) -> list[Role]:
    by_name = {r.name: r for r in roles}
    out: list[Role] = []
    seen: set[str] = set()

    def visit(r: Role, stack: tuple[str, ...]) -> None:
        if r.name in seen or r.name in stack:
            return
        for p in r.member_of:
            if p in by_name:
                visit(by_name[p], (*stack, r.name))
        seen.add(r.name)
        out.append(r)

    for r in roles:
        visit(r, ())
    return out
