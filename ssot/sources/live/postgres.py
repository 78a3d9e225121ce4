"""The live Supabase Postgres: catalog, grants, Vault metadata and fingerprints, pg_cron, as the auditor.

Connects as the least-privilege auditor role (`audits/postgres/auditor.sql` sets up its access):
the user is `audit.database.user` (default: the declared role of kind `auditor`), the password is
read from the environment variable `audit.database.passwordEnv` names. For a local database
(`database.local`, or `ssot audit --local-db`) it connects to the cluster `ssot db start` runs with
the local superuser's credentials and then `SET ROLE`s to the auditor, so that every query below
runs with the auditor's privileges only: what the audit can see locally is what it could see on a
real project, and a missing grant shows up here as it would there.

Every catalog read is one query (one round trip). A query the auditor may not run becomes a Gap
naming the permission; nothing is ever read around a refusal, and nothing is read from a view that
row-level security would silently narrow (`cron.job` shows a role only its own jobs: jobs are read
through `ssot_audit.cron_jobs()`, a SECURITY DEFINER function only the auditor may execute).

Vault values never leave the database: `ssot_audit.vault_fingerprints()` (declared by the Pulumi
program, `ssot/components/audit.py`) returns a keyed HMAC per secret name, computed with pgcrypto
under the fingerprint key held in Vault, plus the HMAC of a constant probe string
(`ssot.fingerprint.PROBE`). If the probe differs from this process's `ssot.fingerprint` of the same
string, the two keys differ and Vault
fingerprints cannot be compared with other stores': they are dropped and the read is reported.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ssot import localdb
from ssot.deadline import Deadline
from ssot.fingerprint import PROBE, fingerprint
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.model import Platform
from ssot.names import pg_identifier_problem_allow_pg
from ssot.sources.live import LiveSource, SourceContext, SourceResult

NAME = "postgres"
AUDIT_SCHEMA = "ssot_audit"
FINGERPRINT_KEY_SECRET = "ssot_fingerprint_key"
# Supabase's own roles and schemas: read and reported, but not the platform's to manage.
SUPABASE_ROLES = frozenset({"anon", "authenticated", "service_role", "authenticator", "postgres",
                            "supabase_admin", "supabase_auth_admin", "supabase_storage_admin",
                            "supabase_replication_admin", "supabase_read_only_user", "supabase_realtime_admin",
                            "supabase_functions_admin", "dashboard_user", "pgbouncer", "pgsodium_keyholder",
                            "pgsodium_keyiduser", "pgsodium_keymaker"})
SUPABASE_SCHEMAS = frozenset({"public", "extensions", "vault", "cron", "net", "auth", "storage", "realtime",
                              "graphql", "graphql_public", "supabase_functions", "supabase_migrations",
                              "pgsodium", "pgsodium_masks", "pgbouncer", "_realtime", "_analytics",
                              AUDIT_SCHEMA})
_SYSTEM_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
_OBJTYPE = {"r": "table", "S": "sequence", "f": "function", "T": "type", "n": "schema"}


class _Lost(Exception):
    """The connection is gone: the remaining reads cannot happen."""


@dataclass(frozen=True)
class _Read:
    object: str  # what is read, as gaps and coverage name it
    query: str
    permission: str  # the privilege the auditor needs, named in a gap when refused
    fill: Callable[[SourceResult, list[tuple[Any, ...]], _State], int]
    missing_hint: str = ""  # what to do when the object does not exist


@dataclass
class _State:
    db: str
    key_matches: bool | None = None
    cron_ids: dict[int, Asset] | None = None


def _loc(obj: str) -> Location:
    return Location(object=obj)


def _add(res: SourceResult, kind: Kind, store: Store, name: str, obj: str, props: dict[str, Any],
         fp: str | None = None) -> None:
    res.inventory.add(Asset(kind, store, name, Phase.LIVE, _loc(obj), props, fingerprint=fp))


# --- the reads ----------------------------------------------------------------------------------------

Q_SCHEMAS = f"""
SELECT n.nspname, pg_get_userbyid(n.nspowner),
       (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r','p','v','m','f')),
       (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind = 'S'),
       (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid)
FROM pg_namespace n WHERE {_SYSTEM_SCHEMAS} ORDER BY 1"""


def _schemas(res: SourceResult, rows: list[tuple[Any, ...]], st: _State) -> int:
    for name, owner, tables, sequences, functions in rows:
        _add(res, Kind.SCHEMA, Store.POSTGRES, name, f"schema {name}",
             {"domain": None, "owner": owner, "supabase_builtin": name in SUPABASE_SCHEMAS,
              "object_counts": {"table": int(tables), "sequence": int(sequences), "function": int(functions)}})
    return len(rows)


Q_TABLES = f"""
SELECT n.nspname, c.relname,
       coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{{}}')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_SYSTEM_SCHEMAS}
GROUP BY n.nspname, c.relname"""


def _tables(res: SourceResult, rows: list[tuple[Any, ...]], st: _State) -> int:
    for schema, table, columns in rows:
        name = f"{schema}.{table}"
        _add(res, Kind.TABLE, Store.POSTGRES, name, f"table {name}",
             {"schema": schema, "table": table, "domain": None, "columns": list(columns)})
    return len(rows)


Q_ROLES = """
SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolbypassrls,
       coalesce((SELECT array_agg(b.rolname::text ORDER BY b.rolname) FROM pg_auth_members m
                 JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid), '{}')
FROM pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY 1"""


def _roles(res: SourceResult, rows: list[tuple[Any, ...]], st: _State) -> int:
    for name, login, superuser, bypassrls, member_of in rows:
        _add(res, Kind.ROLE, Store.POSTGRES, name, f"role {name}",
             {"role_kind": None, "login": bool(login), "superuser": bool(superuser), "bypassrls": bool(bypassrls),
              "member_of": list(member_of), "odoo_raw_allowed": False, "supabase_builtin": name in SUPABASE_ROLES})
    # PUBLIC is every role: grants to it are grants to anyone who can log in.
    _add(res, Kind.ROLE, Store.POSTGRES, "PUBLIC", "role PUBLIC",
         {"role_kind": None, "login": False, "member_of": [], "odoo_raw_allowed": False, "supabase_builtin": True,
          "pseudo": True})
    return len(rows) + 1


# Objects' ACLs, NULL meaning the type's default (acldefault), exploded to one row per grantee and
# object with its privileges. The owner's own implicit privileges are not grants.
Q_GRANTS = f"""
WITH objs AS (
  SELECT n.nspname AS schema, CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END AS object_type,
         c.relname::text AS object, c.relowner AS owner,
         coalesce(c.relacl,
                  acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner)) AS acl
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {_SYSTEM_SCHEMAS}
  UNION ALL
  SELECT n.nspname, 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.proowner,
         coalesce(p.proacl, acldefault('f'::"char", p.proowner))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE {_SYSTEM_SCHEMAS}
  UNION ALL
  SELECT n.nspname, 'schema', NULL, n.nspowner, coalesce(n.nspacl, acldefault('n'::"char", n.nspowner))
  FROM pg_namespace n WHERE {_SYSTEM_SCHEMAS}
)
SELECT o.schema, o.object_type, o.object, coalesce(g.rolname, 'PUBLIC'),
       array_agg(a.privilege_type ORDER BY a.privilege_type)
FROM objs o CROSS JOIN LATERAL aclexplode(o.acl) a
LEFT JOIN pg_roles g ON g.oid = a.grantee
WHERE a.grantee <> o.owner
GROUP BY 1, 2, 3, 4"""


def _grants(res: SourceResult, rows: list[tuple[Any, ...]], st: _State) -> int:
    """Per-object ACLs normalised to the declared adapter's names: privileges every object of a type in a
    schema grants to a role become one `role:type:schema` grant on all objects (what a declared
    "on: table" grant produces); what only some objects grant stays per object (`role:type:schema.obj`)."""
    counts: dict[tuple[str, str], int] = {}
    for a in res.inventory.of(Kind.SCHEMA):
        for t, n in (a.props.get("object_counts") or {}).items():
            counts[(a.name, t)] = n
    per: dict[tuple[str, str, str], dict[str, frozenset[str]]] = defaultdict(dict)
    for schema, object_type, obj, grantee, privs in rows:
        per[(grantee, object_type, schema)][obj or ""] = frozenset(privs)
    n = 0
    for (role, object_type, schema), objects in per.items():
        if object_type == "schema":
            emitted = [("", objects[""])]
            common: frozenset[str] = frozenset()
        else:
            total = counts.get((schema, object_type))
            privsets = list(objects.values())
            common = frozenset.intersection(*privsets) if total is not None and len(objects) == total \
                else frozenset()
            emitted = [("*", common)] if common else []
            emitted += [(o, p - common) for o, p in sorted(objects.items()) if p - common]
        for obj, privs in emitted:
            suffix = "" if obj in ("", "*") else f".{obj}"
            name = f"{role}:{object_type}:{schema}{suffix}"
            _add(res, Kind.GRANT, Store.POSTGRES, name, f"grant {name}",
                 {"role": role, "role_kind": None, "schema": schema, "object_type": object_type,
                  "objects": ["*"] if obj in ("", "*") else [obj], "privileges": sorted(privs),
                  "schema_domain": None})
            n += 1
    return n


Q_DEFAULT_PRIVILEGES = """
SELECT pg_get_userbyid(d.defaclrole), coalesce(n.nspname, ''), d.defaclobjtype::text, coalesce(g.rolname, 'PUBLIC'),
       array_agg(a.privilege_type ORDER BY a.privilege_type)
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
CROSS JOIN LATERAL aclexplode(d.defaclacl) a
LEFT JOIN pg_roles g ON g.oid = a.grantee
WHERE a.grantee <> d.defaclrole
GROUP BY 1, 2, 3, 4"""


def _default_privileges(res: SourceResult, rows: list[tuple[Any, ...]], st: _State) -> int:
    for owner, schema, objtype, role, privs in rows:
        object_type = _OBJTYPE.get(objtype, objtype)
        name = f"{role}:{object_type}:{schema}"
        _add(res, Kind.DEFAULT_PRIVILEGE, Store.POSTGRES, name, f"default privileges {name} (owner {owner})",
             {"role": role, "role_kind": None, "schema": schema, "object_type": object_type, "objects": ["*"],
              "privileges": sorted(privs), "owner": owner, "schema_domain": None})
    return len(rows)


Q_EXTENSIONS = """
SELECT e.extname, n.nspname, e.extversion FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"""


def _extensions(res: SourceResult, rows: list[tuple[Any, ...]], st: _State) -> int:
    for name, schema, version in rows:
        _add(res, Kind.EXTENSION, Store.POSTGRES, name, f"extension {name}", {"schema": schema, "version": version})
    return len(rows)


# Metadata only: the auditor has SELECT on these columns of vault.secrets, never on `secret`.
Q_VAULT = "SELECT id::text, name, description, updated_at FROM vault.secrets"


def _vault(res: SourceResult, rows: list[tuple[Any, ...]], st: _State) -> int:
    for sid, name, description, updated in rows:
        label = name if name is not None else f"<unnamed {sid}>"
        _add(res, Kind.VAULT_SECRET, Store.VAULT, label, f"vault.secrets {sid}",
             {"category": None, "description": description or "", "id": sid, "named": name is not None,
              "updated_at": updated.isoformat() if isinstance(updated, dt.datetime) else None,
              "fingerprint_key": name == FINGERPRINT_KEY_SECRET})
    return len(rows)


Q_FINGERPRINTS = f"SELECT name, fingerprint, is_probe FROM {AUDIT_SCHEMA}.vault_fingerprints()"


_HMAC_HEX = re.compile(r"[0-9a-f]{64}")


def _fingerprints(res: SourceResult, rows: list[tuple[Any, ...]], st: _State) -> int:
    probe = next((fp for _n, fp, is_probe in rows if is_probe), None)
    if probe is None:
        res.gap("vault fingerprints", f"Vault holds no {FINGERPRINT_KEY_SECRET}, so no value can be fingerprinted",
                f"a Vault secret named {FINGERPRINT_KEY_SECRET} (declared by the Pulumi program)")
        return 0
    st.key_matches = probe == fingerprint(PROBE)
    if not st.key_matches:
        # Comparable with nothing this process computes; whether that matters depends on what else
        # the audit compares, which the pipeline knows.
        for a in res.inventory.of(Kind.VAULT_SECRET):
            a.props["fingerprint_key_differs"] = True
        return 0
    by_name = {str(n): fp for n, fp, is_probe in rows if not is_probe and n is not None}
    # An HMAC-SHA256 in hex and nothing else: a function replaced to return something else (a value)
    # must not have that copied into the inventory, where reports could show it.
    if not all(isinstance(fp, str) and _HMAC_HEX.fullmatch(fp) for fp in by_name.values()):
        res.gap("vault fingerprints", f"{AUDIT_SCHEMA}.vault_fingerprints() returned something other than "
                "hex HMAC-SHA256 digests; it is not the function ssot declares")
        return 0
    for a in res.inventory.of(Kind.VAULT_SECRET):
        if a.props.get("named") and not a.props.get("fingerprint_key"):
            a.fingerprint = by_name.get(a.name)
    return len(by_name)


Q_CRON = f"SELECT jobid, jobname, schedule, command, database, username, active FROM {AUDIT_SCHEMA}.cron_jobs()"


def _cron(res: SourceResult, rows: list[tuple[Any, ...]], st: _State) -> int:
    from ssot.detectors import scan_value

    st.cron_ids = {}
    for jobid, jobname, schedule, command, database, username, active in rows:
        name = jobname or f"<unnamed job {jobid}>"
        matches = scan_value(command or "", context="cron-command")
        asset = Asset(Kind.CRON_JOB, Store.POSTGRES, name, Phase.LIVE, _loc(f"cron.job {jobid}"),
                      {"schedule": schedule, "command": _safe_command(command or "", matches),
                       "database": database, "username": username, "active": bool(active), "scheduler": "pg_cron",
                       "jobid": int(jobid), "command_secret_types": sorted({m.secret_type for m in matches}),
                       "failed_runs": 0, "last_failure": None})
        res.inventory.add(asset)
        st.cron_ids[int(jobid)] = asset
    return len(rows)


def _safe_command(command: str, matches: list[Any]) -> str:
    return "<command withheld: it contains a secret-looking literal>" if matches else command


Q_CRON_FAILURES = f"SELECT jobid, failed, last_failure FROM {AUDIT_SCHEMA}.cron_failures()"


def _cron_failures(res: SourceResult, rows: list[tuple[Any, ...]], st: _State) -> int:
    for jobid, failed, last in rows:
        asset = (st.cron_ids or {}).get(int(jobid))
        if asset is not None:
            asset.props["failed_runs"] = int(failed)
            asset.props["last_failure"] = last.isoformat() if isinstance(last, dt.datetime) else None
    return len(rows)


# SECURITY DEFINER functions reading Vault's plaintext: whoever may execute them may read secrets.
# Vault's own functions and ssot's fingerprint function (which returns HMACs only) are marked.
Q_SECRET_FUNCTIONS = """
SELECT n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', pg_get_userbyid(p.proowner),
       coalesce((SELECT array_agg(DISTINCT coalesce(g.rolname, 'PUBLIC')::text)
                 FROM aclexplode(coalesce(p.proacl, acldefault('f'::"char", p.proowner))) a
                 LEFT JOIN pg_roles g ON g.oid = a.grantee
                 WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner), '{}')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prosecdef AND p.prosrc ~* 'decrypted_secrets'"""


def _secret_functions(res: SourceResult, rows: list[tuple[Any, ...]], st: _State) -> int:
    for schema, signature, owner, executors in rows:
        name = f"{schema}.{signature}"
        _add(res, Kind.SECRET_FUNCTION, Store.POSTGRES, name, f"function {name}",
             {"schema": schema, "owner": owner, "executable_by": sorted(executors),
              "exposes": "vault.decrypted_secrets", "vault_own": schema == "vault",
              "ssot_fingerprints": schema == AUDIT_SCHEMA and signature == "vault_fingerprints()"})
    return len(rows)


READS: tuple[_Read, ...] = (
    _Read("schemas", Q_SCHEMAS, "SELECT on pg_catalog.pg_namespace", _schemas),
    _Read("tables", Q_TABLES, "SELECT on pg_catalog.pg_class and pg_attribute", _tables),
    _Read("roles", Q_ROLES, "SELECT on pg_catalog.pg_roles", _roles),
    _Read("grants", Q_GRANTS, "SELECT on pg_catalog.pg_class, pg_proc, pg_namespace", _grants),
    _Read("default privileges", Q_DEFAULT_PRIVILEGES, "SELECT on pg_catalog.pg_default_acl", _default_privileges),
    _Read("extensions", Q_EXTENSIONS, "SELECT on pg_catalog.pg_extension", _extensions),
    _Read("vault.secrets", Q_VAULT, "USAGE on schema vault and SELECT (id, name, description, updated_at) on "
          "vault.secrets", _vault),
    _Read("vault fingerprints", Q_FINGERPRINTS, f"USAGE on schema {AUDIT_SCHEMA} and EXECUTE on function "
          f"{AUDIT_SCHEMA}.vault_fingerprints()", _fingerprints,
          "the fingerprint function is declared by the Pulumi program (pulumi up) or, locally, by `ssot db auditor`"),
    _Read("cron.job", Q_CRON, f"USAGE on schema {AUDIT_SCHEMA} and EXECUTE on function {AUDIT_SCHEMA}.cron_jobs()",
          _cron, "apply audits/postgres/auditor.sql"),
    _Read("cron.job_run_details", Q_CRON_FAILURES, f"USAGE on schema {AUDIT_SCHEMA} and EXECUTE on function "
          f"{AUDIT_SCHEMA}.cron_failures()", _cron_failures, "apply audits/postgres/auditor.sql"),
    _Read("security definer functions", Q_SECRET_FUNCTIONS, "SELECT on pg_catalog.pg_proc", _secret_functions),
)


# --- connecting -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    conninfo: str
    set_role: str | None  # local: connect as the superuser, then act as this role only
    user: str
    describe: str


def auditor_role(platform: Platform) -> str | None:
    if platform.audit and platform.audit.db_user:
        return platform.audit.db_user
    return next((r.name for r in platform.roles if r.kind == "auditor"), None)


def _target(platform: Platform, ctx: SourceContext, res: SourceResult) -> _Target | None:
    from psycopg.conninfo import make_conninfo

    user = auditor_role(platform)
    if user is None or pg_identifier_problem_allow_pg(user):
        res.gap("connection", "no auditor role: declare a role of kind auditor or set audit.database.user")
        return None
    db = platform.database
    if db.local or ctx.local_db:
        datadir = localdb.project_root(Path(ctx.root)) / ".pgdata" if ctx.datadir is None else Path(ctx.datadir)
        st = localdb.status(datadir)
        if not st.running or st.port is None or st.pid is None:
            res.gap("connection", f"the local database in {st.datadir} is not running (start it with `ssot db start`)")
            return None
        local = localdb.LocalDb(datadir=st.datadir, port=st.port, pid=st.pid)
        try:
            conninfo = local.conninfo()
        except localdb.LocalDbError:
            res.gap("connection", f"cannot read the local database's password file in {st.datadir}")
            return None
        return _Target(conninfo, user, user, f"local database 127.0.0.1:{st.port} as role {user}")
    env = platform.audit.db_password_env if platform.audit else None
    if env is None:
        res.gap("connection", "no credential: set audit.database.passwordEnv to the environment variable holding "
                f"the password of {user}")
        return None
    password = ctx.env.get(env)
    if not password:
        res.gap("connection", f"the environment variable {env} (the password of {user}) is not set")
        return None
    if db.from_project:
        ref = platform.audit.project_ref if platform.audit else None
        if ref is None:
            res.gap("connection", "the database is the project's: set audit.supabase.projectRef to reach it")
            return None
        host, port = f"db.{ref}.supabase.co", 5432
    else:
        host, port = str(db.host), db.port
    # The CA that `verify-full` checks the server against (Supabase's own); a relative path is the
    # project's, as the stack declares it, whatever directory the audit runs from.
    rootcert = db.sslrootcert
    if rootcert and rootcert != "system" and not os.path.isabs(rootcert):
        rootcert = os.path.join(ctx.root, rootcert)
    conninfo = make_conninfo(host=host, port=str(port), dbname=db.name, user=user, password=password,
                             sslmode=db.sslmode, sslrootcert=rootcert)
    return _Target(conninfo, None, user, f"database '{db.name}' at {host}:{port} as {user}")


def _connect(t: _Target, ctx: SourceContext, res: SourceResult) -> psycopg.Connection | None:
    try:
        conn = psycopg.connect(t.conninfo, autocommit=True, connect_timeout=max(1, int(ctx.timeout)),
                               application_name="ssot-audit")
    except psycopg.Error as exc:
        raw = str(exc)
        if "password authentication failed" in raw or getattr(exc, "sqlstate", None) in ("28P01", "28000"):
            res.gap("connection", f"authentication failed for {t.describe}", f"LOGIN with the password in "
                    f"the environment for role {t.user}")
        elif "timeout" in raw.lower():
            res.gap("connection", f"{t.describe}: connection timed out after {ctx.timeout:.0f}s")
        else:
            res.gap("connection", f"cannot reach {t.describe}")
        return None
    except (ValueError, TypeError):
        res.gap("connection", "the connection parameters are malformed (not shown: they hold a password)")
        return None
    try:
        conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(int(ctx.timeout * 1000))))
        if t.set_role:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(t.set_role)))
    except psycopg.Error as exc:
        conn.close()
        if getattr(exc, "sqlstate", None) == "22023":
            res.gap("connection", f"role {t.set_role} does not exist in the {t.describe.split(' as ')[0]}",
                    "apply audits/postgres/auditor.sql")
        else:
            res.gap("connection", f"cannot act as role {t.set_role} on the {t.describe.split(' as ')[0]}")
        return None
    return conn


def _run(conn: psycopg.Connection, r: _Read, res: SourceResult, st: _State, timeout: float) -> None:
    try:
        with conn.cursor() as cur:
            cur.execute(r.query.encode())
            rows = cur.fetchall()
    except psycopg.errors.InsufficientPrivilege:
        res.gap(r.object, "permission denied", r.permission)
        return
    except (psycopg.errors.UndefinedFunction, psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName,
            psycopg.errors.UndefinedColumn):
        hint = f" ({r.missing_hint})" if r.missing_hint else ""
        res.gap(r.object, f"not found in the database{hint}", r.permission)
        return
    except psycopg.errors.QueryCanceled:
        res.gap(r.object, f"timed out after {timeout:.0f}s")
        return
    except psycopg.OperationalError:
        raise _Lost() from None
    except psycopg.Error as exc:
        # The server's text can quote data; the SQLSTATE is enough to look it up.
        res.gap(r.object, f"the query failed (SQLSTATE {getattr(exc, 'sqlstate', None) or 'unknown'})")
        return
    res.count(r.object, r.fill(res, rows, st))


def collect(platform: Platform, ctx: SourceContext, reads: Sequence[_Read] = READS) -> SourceResult:
    res = SourceResult(NAME, configured=True)
    target = _target(platform, ctx, res)
    if target is None:
        return res
    ctx.progress("connecting", None)
    conn = _connect(target, ctx, res)
    if conn is None:
        return res
    st = _State(db=platform.database.name)
    # Each query is bounded by statement_timeout (the server's) and the connection's timeouts; the
    # source as a whole by its deadline, checked between reads: past it, what is left is a gap.
    deadline = Deadline(ctx.deadline)
    with conn:
        for i, r in enumerate(reads):
            if deadline.expired():
                for rest in reads[i:]:
                    res.gap(rest.object, f"the source's deadline of {ctx.deadline:g}s passed before it was read")
                break
            ctx.progress(r.object, len(res.inventory))
            try:
                _run(conn, r, res, st, ctx.timeout)
            except _Lost:
                for rest in reads[i:]:
                    res.gap(rest.object, "the connection was lost before it could be read")
                break
    return res


SOURCE = LiveSource(NAME, "Supabase Postgres", collect)
