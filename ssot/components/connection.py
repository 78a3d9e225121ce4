"""How the program reaches the database, and how secret values are obtained for it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_postgresql as postgresql
from psycopg.conninfo import make_conninfo

from ssot.errors import ConfigError
from ssot.model import CONFIG_NAMESPACE, SecretSource


class SecretResolver:
    """Turns a SecretSource into a secret Output, or None where no value passes through Pulumi.

    `offline` is for `ssot preview`: secret config cannot be decrypted without the stack's secrets
    provider, and CI's environment is not there, so unknown values become labelled stand-ins that
    are still marked secret (the program's shape, not its values, is what a preview checks).
    """

    def __init__(self, config: pulumi.Config | None = None, env: Mapping[str, str] | None = None,
                 offline: bool = False) -> None:
        self._config = config or pulumi.Config(CONFIG_NAMESPACE)
        self._env = os.environ if env is None else env
        self.offline = offline

    def value(self, src: SecretSource) -> pulumi.Output[str] | None:
        if src.kind == "secret-config":
            assert src.ref is not None
            return self._config.require_secret(src.ref)
        if src.kind == "env":
            assert src.ref is not None
            if src.ref in self._env:
                return pulumi.Output.secret(self._env[src.ref])
            if self.offline:
                return pulumi.Output.secret(f"<env {src.ref}>")
            raise ConfigError.single(src.where.file, src.where.path,
                                     f"environment variable {src.ref} to be set for this deployment",
                                     src.where.line)
        if src.kind == "literal":
            # Only reachable in lenient mode (previews): the rules report it; the value stays secret.
            return pulumi.Output.secret(src.literal or "")
        return None


@dataclass
class DatabaseConnection:
    """The database the platform is declared into, as Pulumi values (password always secret)."""

    host: pulumi.Input[str]
    port: int
    dbname: str
    user: str
    password: pulumi.Output[str]
    sslmode: str
    sslrootcert: str | None = None

    def conninfo(self) -> pulumi.Output[str]:
        return pulumi.Output.secret(
            pulumi.Output.all(self.host, self.password).apply(
                lambda hp: make_conninfo(host=hp[0], port=str(self.port), dbname=self.dbname, user=self.user,
                                         password=hp[1], sslmode=self.sslmode, sslrootcert=self.sslrootcert,
                                         connect_timeout="10",
                                         application_name="ssot-pulumi")))

    def provider(self, name: str, opts: pulumi.ResourceOptions | None = None) -> postgresql.Provider:
        return postgresql.Provider(
            name,
            postgresql.ProviderArgs(
                host=self.host, port=self.port, database=self.dbname, username=self.user,
                password=self.password, sslmode=self.sslmode, sslrootcert=self.sslrootcert,
                # Supabase's `postgres` is not a superuser: the provider must not assume it is.
                superuser=False, connect_timeout=15,
            ),
            opts,
        )
