"""Which endpoints may carry credentials without verified TLS: only this machine's own.

A password sent over plain http, or over TLS whose certificate nobody checks (`sslmode=require`),
goes to whoever answers on the path; loopback and Unix sockets never leave the machine.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping


def is_loopback_host(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1 (brackets allowed), exactly: `127.0.0.1.evil.test` is not."""
    host = host.strip().removeprefix("[").removesuffix("]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def postgres_tls_defaults(params: Mapping[str, str], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Connection parameters to add to a libpq conninfo that does not choose its own TLS mode:
    `sslmode=verify-full` unless every host is local (a Unix socket directory or loopback). libpq's
    own default, `prefer`, silently falls back to plain text; PGSSLMODE, when set, is a choice."""
    env = os.environ if env is None else env
    if params.get("sslmode") or env.get("PGSSLMODE"):
        return {}
    hosts = [h for h in (params.get("host") or "").split(",") if h] or [""]
    addrs = [a for a in (params.get("hostaddr") or "").split(",") if a]
    local = all(h.startswith("/") or h == "" or is_loopback_host(h) for h in hosts)
    if local and not (addrs and not all(is_loopback_host(a) for a in addrs)):
        return {}
    return {"sslmode": "verify-full"}
