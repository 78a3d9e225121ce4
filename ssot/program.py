"""The Pulumi program: load the stack's platform declaration and declare it.

`__main__.py` only calls `main()`. The same function runs under the real engine (`pulumi up`) and
under Pulumi's mock runtime (`ssot preview`, tests), where SSOT_OFFLINE=1 says no secrets provider,
no database and no CI environment are at hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import pulumi
from psycopg.conninfo import conninfo_to_dict

from ssot.components.connection import DatabaseConnection, SecretResolver
from ssot.components.platform import Platform, PlatformArgs
from ssot.errors import SsotError
from ssot.model import Platform as PlatformDecl
from ssot.model import load_platform, stack_file

OFFLINE_ENV = "SSOT_OFFLINE"


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV) == "1"


def connection_for(decl: PlatformDecl, resolver: SecretResolver, root: Path) -> DatabaseConnection | None:
    db = decl.database
    if db.from_project:
        return None
    if db.local:
        from ssot import localdb

        if resolver.offline:
            return DatabaseConnection(host="127.0.0.1", port=localdb.resolve_port(), dbname="postgres",
                                      user="postgres", password=pulumi.Output.secret("<local database>"),
                                      sslmode="disable")
        st = localdb.status(root / ".pgdata")
        if not st.running or st.port is None or st.pid is None:
            raise SsotError(f"{decl.file}: database.local: the local database is not running; start it with "
                            "`ssot db start`")
        info = conninfo_to_dict(localdb.LocalDb(datadir=st.datadir, port=st.port, pid=st.pid).conninfo())
        return DatabaseConnection(host=str(info["host"]), port=int(str(info["port"])), dbname="postgres",
                                  user=str(info["user"]), password=pulumi.Output.secret(str(info["password"])),
                                  sslmode="disable")
    assert db.host is not None and db.password is not None
    password = resolver.value(db.password)
    if password is None:
        raise SsotError(f"{decl.file}: database.password: a value the deployment can read ({{secret: ...}} or "
                        "{env: ...}); generated or managed-outside passwords cannot be used to connect")
    return DatabaseConnection(host=db.host, port=db.port, dbname=db.name, user=db.user, password=password,
                              sslmode=db.sslmode, sslrootcert=db.sslrootcert)


def declare(decl: PlatformDecl, *, root: Path, resolver: SecretResolver) -> Platform:
    platform = Platform(decl.name, PlatformArgs(platform=decl, resolver=resolver,
                                                connection=connection_for(decl, resolver, root)))
    for key, value in platform.outputs.items():
        pulumi.export(key, value)
    return platform


def main(root: Path | None = None) -> Platform:
    root = root or Path.cwd()
    stack = pulumi.get_stack()
    path = stack_file(stack, root)
    try:
        decl = load_platform(path, stack=stack, strict=not offline(),
                             display=os.path.relpath(path, root))
        return declare(decl, root=root, resolver=SecretResolver(offline=offline()))
    except SsotError as exc:
        # RunError ends the program with the message alone: a config mistake is not a crash.
        raise pulumi.RunError(str(exc)) from None
