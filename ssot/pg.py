"""One way to open a PostgreSQL connection, with errors that are safe to show.

A libpq conninfo carries a password. psycopg's own error text normally names only host, port and
user, but libpq's wording is not a contract, so every message that leaves this module is scrubbed
of the conninfo, the password and any other value the caller names as sensitive.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import conninfo as pg_conninfo

from ssot.errors import ProviderError, SourceUnavailable

CONNECT_TIMEOUT_SECONDS = 5
# Long enough for catalog reads and Vault writes; short enough that a lock held by someone else
# surfaces as an error instead of a hung `pulumi up`.
STATEMENT_TIMEOUT_MS = 30_000
REDACTED = "[redacted]"
# psycopg's own text for a malformed conninfo quotes the fragment it choked on, maybe a password.
_MALFORMED = "the PostgreSQL connection string is malformed (not shown: it may hold a password)"


@dataclass(frozen=True)
class Target:
    """The non-secret parts of a conninfo: what messages may name."""

    host: str
    port: str
    dbname: str
    user: str

    def __str__(self) -> str:
        return f"database '{self.dbname}' as '{self.user}' at {self.host}:{self.port}"


def describe(conninfo: str) -> Target:
    """Host, port, database and user of a conninfo, without the password; 'unknown' when unparsable."""
    try:
        parts = pg_conninfo.conninfo_to_dict(conninfo)
    except (psycopg.ProgrammingError, ValueError):
        return Target("unknown", "unknown", "unknown", "unknown")
    return Target(
        host=str(parts.get("host") or parts.get("hostaddr") or "localhost"),
        port=str(parts.get("port") or "5432"),
        dbname=str(parts.get("dbname") or parts.get("user") or "postgres"),
        user=str(parts.get("user") or "unknown"),
    )


def valid_conninfo(conninfo: object) -> bool:
    if not isinstance(conninfo, str) or not conninfo.strip():
        return False
    try:
        pg_conninfo.conninfo_to_dict(conninfo)
    except (psycopg.ProgrammingError, ValueError):
        return False
    return True


def _sensitive(conninfo: str, extra: Iterable[str | None]) -> list[str]:
    found = [conninfo]
    try:
        password = pg_conninfo.conninfo_to_dict(conninfo).get("password")
    except (psycopg.ProgrammingError, ValueError):
        password = None
    if password:
        found.append(str(password))
    found.extend(s for s in extra if s)
    # Longest first so that a secret containing another one is removed whole.
    return sorted({s for s in found if s}, key=len, reverse=True)


def scrub(text: str, conninfo: str, extra: Iterable[str | None] = ()) -> str:
    for secret in _sensitive(conninfo, extra):
        text = text.replace(secret, REDACTED)
    return text


def _server_text(exc: BaseException) -> str:
    """The server's primary message only: DETAIL lines can quote row values (a key, a secret)."""
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        return exc.diag.message_primary
    first = str(exc).strip().splitlines()
    return first[-1] if first else type(exc).__name__


def explain(exc: BaseException, conninfo: str, extra: Iterable[str | None] = ()) -> tuple[str, bool]:
    """A safe one-line reason for a failed database operation, and whether the database was unreachable."""
    target = describe(conninfo)
    raw = str(exc)
    sqlstate = exc.sqlstate if isinstance(exc, psycopg.Error) else None
    if "password authentication failed" in raw or sqlstate in ("28P01", "28000"):
        reason = (f"authentication failed for {target}: check the user and password in the connection "
                  "string (the stack's secret config)")
        return scrub(reason, conninfo, extra), False
    if isinstance(exc, psycopg.OperationalError) and sqlstate is None:
        if "does not exist" in raw and "database" in raw:
            reason = f"{target}: the database does not exist"
        elif "timeout" in raw.lower():
            reason = f"cannot reach {target}: connection timed out after {CONNECT_TIMEOUT_SECONDS}s"
        else:
            reason = (f"cannot reach {target}: is the server running and accepting TCP connections? "
                      "(for the local database: `ssot db start`)")
        return scrub(reason, conninfo, extra), True
    if sqlstate == "3D000":
        return scrub(f"{target}: the database does not exist", conninfo, extra), False
    if sqlstate == "42501":
        reason = (f"permission denied for '{target.user}' ({_server_text(exc)}): grant the role the "
                  "needed privilege or connect as a role that has it")
        return scrub(reason, conninfo, extra), False
    if sqlstate in ("42883", "3F000", "42P01"):
        reason = (f"{target}: {_server_text(exc)}: the expected Supabase interface (vault, pg_cron, "
                  "pgcrypto in schema extensions) is missing")
        return scrub(reason, conninfo, extra), False
    if sqlstate == "57014":
        return scrub(f"{target}: statement timed out (a lock held elsewhere?)", conninfo, extra), False
    detail = f" [SQLSTATE {sqlstate}]" if sqlstate else ""
    return scrub(f"{target}: {_server_text(exc)}{detail}", conninfo, extra), False


def connect(conninfo: str, *, app: str, extra_sensitive: Iterable[str | None] = ()) -> psycopg.Connection:
    """An autocommit connection with a short connect timeout.

    Any failure to connect (unreachable, refused credentials, missing database, malformed conninfo)
    is SourceUnavailable with a safe message: for an audit that means "incomplete", and providers
    turn it into a ProviderError naming the object (provider_errors).
    """
    try:
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                               application_name=app)
    except psycopg.ProgrammingError:
        raise SourceUnavailable(_MALFORMED) from None
    except psycopg.Error as exc:
        raise SourceUnavailable(explain(exc, conninfo, extra_sensitive)[0]) from None
    except (ValueError, TypeError):
        raise SourceUnavailable(_MALFORMED) from None
    try:
        # A SET, not the `options` startup parameter, which connection poolers refuse.
        conn.execute(f"SET statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")
    except psycopg.Error as exc:
        conn.close()
        raise SourceUnavailable(explain(exc, conninfo, extra_sensitive)[0]) from None
    return conn


@contextmanager
def provider_errors(action: str, conninfo: str, *, extra_sensitive: Iterable[str | None] = ()
                    ) -> Iterator[None]:
    """Turn any database failure inside the block into one safe ProviderError about `action`.

    `from None` drops the psycopg exception from the chain: its text and its query parameters
    could carry the secret that the message itself has been scrubbed of.
    """
    extra = list(extra_sensitive)
    try:
        yield
    except (ProviderError, SourceUnavailable) as exc:
        raise ProviderError(f"{action} failed: {scrub(str(exc), conninfo, extra)}") from None
    except psycopg.Error as exc:
        reason, _ = explain(exc, conninfo, extra)
        raise ProviderError(f"{action} failed: {reason}") from None
