"""Vault secrets: the default home of every automation, scheduler, agent and webhook credential."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ssot.components import TYPE_PREFIX, source_meta, where
from ssot.components.connection import SecretResolver
from ssot.model import VaultSecret as VaultSecretDecl
from ssot.providers.vault_secret import VaultSecret, VaultSecretArgs


@dataclass
class VaultSecretsArgs:
    conninfo: pulumi.Output[str]
    fingerprint_key: pulumi.Output[str]
    secrets: tuple[VaultSecretDecl, ...]
    resolver: SecretResolver
    depends_on: list[pulumi.Resource]


class VaultSecrets(pulumi.ComponentResource):
    secrets: dict[str, VaultSecret]

    def __init__(self, name: str, args: VaultSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        doctrine = {"secrets": {s.name: {"category": s.category, **source_meta(s.value), **where(s)}
                                for s in args.secrets}}
        super().__init__(f"{TYPE_PREFIX}:VaultSecrets", name, {"doctrine": doctrine}, opts)
        self.secrets = {}
        for s in args.secrets:
            src = s.value
            self.secrets[s.name] = VaultSecret(
                f"vault-{s.name}",
                VaultSecretArgs(
                    conninfo=args.conninfo, fingerprint_key=args.fingerprint_key, name=s.name,
                    description=s.description, value=args.resolver.value(src),
                    generate_bytes=src.generate_bytes if src.kind == "generated" else None,
                    managed_outside=src.kind == "managed-outside",
                ),
                pulumi.ResourceOptions(parent=self, depends_on=args.depends_on,
                                       # A managed-outside secret is adopted, never destroyed by us.
                                       retain_on_delete=src.kind == "managed-outside"),
            )
        self.register_outputs({"doctrine": doctrine})
