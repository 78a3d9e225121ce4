"""Validation of names that end up in SQL, in Pulumi resource names or in API paths.

psycopg's sql.Identifier quotes anything safely; validation is still applied first so that a hostile
or accidental name (quotes, semicolons, whitespace, reserved prefixes) is rejected with a clear message
instead of silently creating an object nobody can type. A refused name is described by its shape,
never quoted: what sits in a name field by mistake may be a secret.
"""

from __future__ import annotations

import re

from ssot.shape import describe

_PG_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}\Z")
_PG_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}\Z")
_SECRET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}\Z")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,127}\Z")
_CRON_JOB = re.compile(r"^[a-z][a-z0-9_-]{0,62}\Z")
_PROJECT_REF = re.compile(r"^[a-z]{20}\Z")

# Supabase owns these; declaring them would fight the platform's own migrations.
RESERVED_SCHEMAS = frozenset(
    {"pg_catalog", "information_schema", "auth", "storage", "realtime", "vault", "cron",
     "extensions", "graphql", "graphql_public", "pgsodium", "pgsodium_masks", "supabase_functions",
     "supabase_migrations", "net", "pgbouncer", "_realtime", "_analytics", "public"}
)
RESERVED_ROLES = frozenset(
    {"postgres", "anon", "authenticated", "service_role", "authenticator", "supabase_admin",
     "supabase_auth_admin", "supabase_storage_admin", "dashboard_user", "pgbouncer",
     "supabase_replication_admin", "supabase_read_only_user", "pg_database_owner", "public"}
)


def pg_identifier_problem(name: object) -> str | None:
    """Why `name` is not an acceptable Postgres identifier, or None if it is."""
    if not isinstance(name, str):
        return f"a name (string), got {type(name).__name__}"
    if not _PG_IDENT.match(name):
        return (
            f"a lowercase identifier matching [a-z_][a-z0-9_]* of at most 63 characters, got {describe(name)}"
        )
    if name.startswith("pg_"):
        return f"a name not starting with 'pg_' (reserved by PostgreSQL), got {describe(name)}"
    return None


def pg_identifier_problem_allow_pg(name: object) -> str | None:
    """As pg_identifier_problem, for names that refer to existing objects (which may be pg_*)."""
    if not isinstance(name, str):
        return f"a name (string), got {type(name).__name__}"
    if not _PG_IDENT.match(name):
        return (
            f"a lowercase identifier matching [a-z_][a-z0-9_]* of at most 63 characters, got {describe(name)}"
        )
    return None


def secret_name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not _SECRET_NAME.match(name):
        return f"a Vault secret name matching [a-z][a-z0-9_]* (at most 63 characters), got {describe(name)}"
    return None


def env_name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not _ENV_NAME.match(name):
        return f"an environment variable name matching [A-Z][A-Z0-9_]*, got {describe(name)}"
    if name.startswith("SUPABASE_"):
        return f"a name not starting with 'SUPABASE_' (reserved by Supabase for Edge Functions), got {describe(name)}"
    return None


def cron_job_problem(name: object) -> str | None:
    if not isinstance(name, str) or not _CRON_JOB.match(name):
        return f"a pg_cron job name matching [a-z][a-z0-9_-]* (at most 63 characters), got {describe(name)}"
    return None


def project_ref_problem(ref: object) -> str | None:
    if not isinstance(ref, str) or not _PROJECT_REF.match(ref):
        return f"a Supabase project ref (20 lowercase letters), got {describe(ref)}"
    return None


def require_pg_identifier(name: str) -> str:
    """Raise ValueError for a bad identifier: for code paths that take names from state or APIs."""
    problem = pg_identifier_problem(name)
    if problem:
        raise ValueError("expected " + problem)
    return name
