"""The doctrine schemas (ops, ai, audit, analytics, shadow) and the extensions they rely on."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_postgresql as postgresql

from ssot.components import TYPE_PREFIX, where
from ssot.model import Extension, Schema


@dataclass
class DoctrineSchemasArgs:
    database: str
    schemas: tuple[Schema, ...]
    extensions: tuple[Extension, ...]


class DoctrineSchemas(pulumi.ComponentResource):
    schemas: dict[str, postgresql.Schema]
    extensions: dict[str, postgresql.Extension]

    def __init__(self, name: str, args: DoctrineSchemasArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # The doctrine facts (owner domain per schema) travel as component props: pulumi-postgresql
        # has no place for them, and policies and previews read them from the resource graph.
        doctrine = {
            "schemas": {s.name: {"domain": s.domain, "owner": s.owner, **where(s)} for s in args.schemas},
            "extensions": {e.name: {"schema": e.schema, **where(e)} for e in args.extensions},
        }
        super().__init__(f"{TYPE_PREFIX}:DoctrineSchemas", name, {"doctrine": doctrine}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.extensions = {
            e.name: postgresql.Extension(
                f"ext-{e.name}",
                postgresql.ExtensionArgs(name=e.name, schema=e.schema, database=args.database,
                                         create_cascade=True, drop_cascade=False),
                child,
            )
            for e in args.extensions
        }
        self.schemas = {
            s.name: postgresql.Schema(
                f"schema-{s.name}",
                postgresql.SchemaArgs(name=s.name, owner=s.owner, database=args.database,
                                      # A schema full of data is never dropped by a config edit.
                                      drop_cascade=False, if_not_exists=True),
                child,
            )
            for s in args.schemas
        }
        self.register_outputs({"doctrine": doctrine})
