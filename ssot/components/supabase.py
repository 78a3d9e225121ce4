"""The Supabase project and its Edge Function secrets, through the Management API."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ssot.components import TYPE_PREFIX, source_meta, where
from ssot.components.connection import SecretResolver
from ssot.model import EdgeSecret, Project
from ssot.providers.edge_secret import EdgeFunctionSecret, EdgeFunctionSecretArgs
from ssot.providers.supabase_project import SupabaseProject, SupabaseProjectArgs


@dataclass
class SupabasePlatformArgs:
    project: Project
    edge_secrets: tuple[EdgeSecret, ...]
    resolver: SecretResolver
    fingerprint_key: pulumi.Output[str]


class SupabasePlatform(pulumi.ComponentResource):
    project: SupabaseProject
    edge_secrets: dict[str, EdgeFunctionSecret]
    ref: pulumi.Output[str]

    def __init__(self, name: str, args: SupabasePlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        p = args.project
        doctrine = {
            "project": {"name": p.name, "organization_id": p.organization_id, "region": p.region, **where(p)},
            "edge_secrets": {e.name: {"category": e.category, "runtime_only": e.runtime_only,
                                      **source_meta(e.value), **where(e)} for e in args.edge_secrets},
        }
        super().__init__(f"{TYPE_PREFIX}:SupabasePlatform", name, {"doctrine": doctrine}, opts)
        token = args.resolver.value(p.access_token)
        db_pass = args.resolver.value(p.db_password)
        assert token is not None and db_pass is not None, "the model only allows value-bearing sources here"
        self.project = SupabaseProject(
            f"project-{name}",
            SupabaseProjectArgs(api_url=p.api_url, access_token=token, name=p.name,
                                organization_id=p.organization_id, region=p.region,
                                instance_size=p.instance_size, db_pass=db_pass,
                                # Lets a changed dbPassword be detected and applied without keeping it.
                                fingerprint_key=args.fingerprint_key),
            # Deleting a project deletes every table in it: make that a deliberate act.
            pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.ref = self.project.ref
        self.edge_secrets = {}
        for e in args.edge_secrets:
            value = args.resolver.value(e.value)
            assert value is not None
            self.edge_secrets[e.name] = EdgeFunctionSecret(
                f"edge-{e.name}",
                EdgeFunctionSecretArgs(api_url=p.api_url, access_token=token, project_ref=self.project.ref,
                                       name=e.name, value=value, runtime_only_reason=e.runtime_only or "",
                                       fingerprint_key=args.fingerprint_key),
                pulumi.ResourceOptions(parent=self, depends_on=[self.project]),
            )
        self.register_outputs({"doctrine": doctrine, "ref": self.ref})
