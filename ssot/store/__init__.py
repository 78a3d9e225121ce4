"""`--store`: record a run and its findings in Supabase's `audit` schema, where agents read them.

The database is named by the libpq connection string in `SSOT_STORE_DSN` (never on the command
line, never printed, not even in errors: driver messages can quote its host and user, so every
message here is ssot's own). `connect` opens it, `migrate` brings the schema up to date, `store_run`
writes one run, `grant_agent_read` lets agent roles read the views and nothing else, `recent_runs`
reads the trend the HTML report draws.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import psycopg

from ssot.store.errors import StoreConfigError, StoreError
from ssot.store.migrate import migrate, migrations
from ssot.store.writer import (
    AGENT_VIEWS,
    RunRecord,
    grant_agent_read,
    recent_runs,
    store_run,
)

DSN_ENV = "SSOT_STORE_DSN"
CONNECT_TIMEOUT_S = 10
# Bounded: waiting for another run's lock, or a hung server, ends as an error, not a hung CI job.
STATEMENT_TIMEOUT_MS = 120_000

_SQLSTATE_WORDS = {
    "42501": "the role lacks a privilege it needs (grant it CREATE on the database and USAGE, CREATE on "
             "schema audit)",
    "57014": "a statement took too long (statement timeout)",
    "55P03": "a lock could not be obtained in time",
    "40P01": "a deadlock was detected",
    "3D000": "the database does not exist",
    "28P01": "the password was rejected",
    "28000": "the role is not allowed to connect",
}


def describe_error(exc: BaseException) -> str:
    """What went wrong, in words that cannot quote a connection string or a stored value."""
    state = getattr(exc, "sqlstate", None)
    if state:
        return f"{_SQLSTATE_WORDS.get(state, 'the database refused the operation')} (SQLSTATE {state})"
    if isinstance(exc, psycopg.OperationalError):
        return "the connection failed (server unreachable, refused, timed out, or credentials rejected)"
    return f"{type(exc).__name__}"


def connect(env: Mapping[str, str] | None = None) -> psycopg.Connection:
    env = os.environ if env is None else env
    dsn = env.get(DSN_ENV, "")
    if not dsn.strip():
        raise StoreConfigError(f"--store and --serve need the libpq connection string of the store database in "
                               f"the environment variable {DSN_ENV} (never on the command line)")
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except (psycopg.ProgrammingError, ValueError):
        raise StoreConfigError(f"{DSN_ENV} is not a valid libpq connection string (not shown: it may hold a "
                               "password)") from None
    from ssot.transport import postgres_tls_defaults

    # A remote store is verified unless the DSN says otherwise (its password is in the DSN).
    tls = postgres_tls_defaults({k: str(v) for k, v in params.items() if v is not None})
    try:
        conn = psycopg.connect(psycopg.conninfo.make_conninfo(dsn, **tls), autocommit=True,
                               connect_timeout=CONNECT_TIMEOUT_S, application_name="ssot-store")
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to the store database named by {DSN_ENV}: "
                         f"{describe_error(exc)}") from None
    try:
        conn.execute(f"SET statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")
    except psycopg.Error as exc:
        conn.close()
        raise StoreError(f"store database: {describe_error(exc)}") from None
    return conn


__all__ = ["AGENT_VIEWS", "DSN_ENV", "RunRecord", "StoreConfigError", "StoreError", "connect", "describe_error",
           "grant_agent_read", "migrate", "migrations", "recent_runs", "store_run"]
