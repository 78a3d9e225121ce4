"""Well-known local development defaults: published values that only ever open a local stack.

The Supabase CLI's local stack signs its demo anon/service_role JWTs with a published JWT secret
(issuer `supabase-demo`), ships fixed local `sb_secret_`/`sb_publishable_` keys and S3 keys, and
runs Postgres as postgres:postgres on localhost. A JWT is recognised by verifying its signature
with the published secret, so a real key that merely claims `iss: supabase-demo` is not excused.
Other published values are kept as SHA-256 digests: this file never spells them out.
"""

from __future__ import annotations

import hashlib
import re

from ssot.detectors.base import jwt_signed_with
from ssot.detectors.filters._util import bare
from ssot.detectors.plugins.postgres import POSTGRES_URI_RE

SUPABASE_DEMO_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"

# sha256 of: the Supabase CLI's local secret key, publishable key, S3 access key id and S3 secret key.
_LOCAL_DEFAULT_DIGESTS = frozenset(
    {
        "c85debb55f2f204d868cc1552c42faa143b4c675f61363ab040dd50b5b5304cd",
        "9705102db0d5f99ee08daa19a73e510d9877a2a9add9369da247cbbe6c2a0140",
        "b0f3a96ded759f6c5f13d27881ffcbfd7821fd6bb5858b0ab819e7a187e46452",
        "7f59edafa4d502ca0156b8fddf28394634d77b1843838b5783a7c9c95fcbd32f",
    }
)

# Hosts that only ever mean "this machine" (nothing here binds to them).
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", "host.docker.internal"})  # noqa: S104
_LOCAL_DB_PASSWORDS = frozenset({"postgres"})
_CONNINFO_HOST = re.compile(r"(?<![A-Za-z0-9_])host(?:addr)?=['\"]?(?P<host>[^\s'\"]+)")
_CONNINFO_PASSWORD = re.compile(r"(?<![A-Za-z0-9_])password=['\"]?(?P<pw>[^\s'\"]+)")


def _signed_with_demo_secret(token: str) -> bool:
    return jwt_signed_with(token, (SUPABASE_DEMO_JWT_SECRET,), algs=("HS256",))


def _local_postgres(s: str, line: str) -> bool:
    # the candidate is either the password itself or a whole URI (as another scanner may report it)
    uris = [m for m in POSTGRES_URI_RE.finditer(f"{line}\n{s}") if s == m.group("secret") or m.group(0) in s]
    if uris:
        return all(m.group("host").lower() in _LOCAL_HOSTS and m.group("secret") in _LOCAL_DB_PASSWORDS for m in uris)
    if s in _LOCAL_DB_PASSWORDS:
        hosts = [m.group("host").lower() for m in _CONNINFO_HOST.finditer(line)]
        pws = [m.group("pw") for m in _CONNINFO_PASSWORD.finditer(line)]
        return bool(hosts) and s in pws and all(h in _LOCAL_HOSTS for h in hosts)
    return False


def is_local_development_default(secret: str, line: str = "", path: str = "") -> bool:
    """Supabase CLI demo JWTs and keys, its JWT secret, postgres:postgres on localhost."""
    s = bare(secret)
    if (
        s == SUPABASE_DEMO_JWT_SECRET
        or hashlib.sha256(s.encode("utf-8", "surrogatepass")).hexdigest() in _LOCAL_DEFAULT_DIGESTS
    ):
        return True
    if s.startswith("eyJ") and _signed_with_demo_secret(s):
        return True
    return _local_postgres(s, line)
