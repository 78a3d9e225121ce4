"""The live Postgres source against the real PostgreSQL 15 + pg_cron cluster, as the auditor role.

Every object is planted with the superuser, then read back through `ssot.sources.live.postgres`,
which runs every query with the auditor's privileges only (`SET ROLE` locally, its own login
otherwise). Refusals, a server that is down, wrong credentials, a timeout and a connection lost
half-way are each a gap naming the source: never an asset, never a pass.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import sql

from ssot import auditor_setup, localdb
from ssot.fingerprint import PROBE, fingerprint
from ssot.inventory import Kind
from ssot.model import Platform, load_platform
from ssot.sources.live import SourceContext, SourceResult
from ssot.sources.live import postgres as source

AUDITOR = "ssot_auditor"
KEY = "test-fingerprint-key-" + "k" * 16
PLATFORM: dict[str, object] = {
    "name": "live-test",
    "database": {"local": True},
    "roles": [{"name": AUDITOR, "kind": "auditor"}, {"name": "lt_agent", "kind": "agent"}],
}


def platform(tmp_path: Path, **override: object) -> Platform:
    decl = {**PLATFORM, **override}
    path = tmp_path / "stacks" / "Pulumi.t.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"config": {"ssot:platform": decl}}))
    return load_platform(path, stack="t", strict=False)


def ctx(db: localdb.LocalDb, tmp_path: Path, **kw: object) -> SourceContext:
    return SourceContext(env=kw.pop("env", {}), root=str(tmp_path), datadir=str(db.datadir), **kw)  # type: ignore[arg-type]


@pytest.fixture
def estate(pg: psycopg.Connection, local_db: localdb.LocalDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A small live platform: a schema with two tables, an agent role with grants and default privileges,
    a Vault secret, a pg_cron job owned by postgres, a SECURITY DEFINER function exposing plaintext."""
    monkeypatch.setenv("SSOT_FINGERPRINT_KEY", KEY)
    from ssot import fingerprint as fp_module

    fp_module.use_key(None)
    fp_module._env_or_random.cache_clear()
    value = "lt-" + secrets.token_urlsafe(24)
    pg.execute("DROP SCHEMA IF EXISTS lt_ops CASCADE")
    pg.execute("DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lt_agent') THEN "
               "CREATE ROLE lt_agent NOLOGIN; END IF; END$$")
    pg.execute("CREATE SCHEMA lt_ops")
    pg.execute("CREATE TABLE lt_ops.sync_status (id int, state text)")
    pg.execute("CREATE TABLE lt_ops.runs (id int)")
    pg.execute("GRANT USAGE ON SCHEMA lt_ops TO lt_agent")
    pg.execute("GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA lt_ops TO lt_agent")
    pg.execute("GRANT DELETE ON lt_ops.runs TO lt_agent")
    pg.execute("ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA lt_ops GRANT SELECT ON TABLES TO lt_agent")
    pg.execute("CREATE FUNCTION lt_ops.leak() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER "
               "AS 'SELECT decrypted_secret FROM vault.decrypted_secrets'")
    pg.execute("SELECT vault.create_secret(%s, 'lt_webhook', 'webhook secret')", (value,))
    pg.execute("SELECT cron.schedule('lt-nightly', '0 1 * * *', 'select 1')")
    auditor_setup.apply(pg, AUDITOR, KEY)
    yield value
    pg.execute("DROP SCHEMA IF EXISTS lt_ops CASCADE")
    pg.execute("DROP OWNED BY lt_agent")
    pg.execute("DROP ROLE IF EXISTS lt_agent")
    pg.execute("DELETE FROM vault.secrets WHERE name = 'ssot_fingerprint_key'")


def by(res: SourceResult, kind: Kind) -> dict[str, object]:
    return {a.name: a for a in res.inventory.of(kind)}


def test_reads_the_catalog_vault_and_cron_as_the_auditor(estate: str, local_db: localdb.LocalDb,
                                                           tmp_path: Path) -> None:
    res = source.collect(platform(tmp_path), ctx(local_db, tmp_path))
    assert res.gaps == [] and res.configured
    schemas, tables, roles = by(res, Kind.SCHEMA), by(res, Kind.TABLE), by(res, Kind.ROLE)
    assert schemas["lt_ops"].props["owner"] == "postgres"  # type: ignore[attr-defined]
    assert schemas["vault"].props["supabase_builtin"] is True  # type: ignore[attr-defined]
    assert tables["lt_ops.sync_status"].props["columns"] == ["id", "state"]  # type: ignore[attr-defined]
    assert {"anon", "authenticated", "service_role", "PUBLIC", "lt_agent", AUDITOR} <= set(roles)
    grants = by(res, Kind.GRANT)
    # per-table ACLs normalised: what every table grants is one "all tables" grant, the rest per table
    assert grants["lt_agent:table:lt_ops"].props["privileges"] == ["INSERT", "SELECT"]  # type: ignore[attr-defined]
    assert grants["lt_agent:table:lt_ops.runs"].props["privileges"] == ["DELETE"]  # type: ignore[attr-defined]
    assert grants["lt_agent:schema:lt_ops"].props["privileges"] == ["USAGE"]  # type: ignore[attr-defined]
    # functions are executable by PUBLIC by default (lt_ops has one: "all functions")
    assert grants["PUBLIC:function:lt_ops"].props["privileges"] == ["EXECUTE"]  # type: ignore[attr-defined]
    defaults = by(res, Kind.DEFAULT_PRIVILEGE)
    assert defaults["lt_agent:table:lt_ops"].props == {  # type: ignore[attr-defined]
        "role": "lt_agent", "role_kind": None, "schema": "lt_ops", "object_type": "table", "objects": ["*"],
        "privileges": ["SELECT"], "owner": "postgres", "schema_domain": None}
    assert "pgcrypto" in by(res, Kind.EXTENSION) and "pg_cron" in by(res, Kind.EXTENSION)
    vault = by(res, Kind.VAULT_SECRET)
    # the fingerprint the database computed is the one this process computes from the value
    assert vault["lt_webhook"].fingerprint == fingerprint(estate, KEY.encode())  # type: ignore[attr-defined]
    assert vault["ssot_fingerprint_key"].fingerprint is None  # type: ignore[attr-defined]
    # cron.job's row-level security would show the auditor none of postgres's jobs
    job = by(res, Kind.CRON_JOB)["lt-nightly"]
    assert job.props["schedule"] == "0 1 * * *" and job.props["username"] == "postgres"  # type: ignore[attr-defined]
    exposing = by(res, Kind.SECRET_FUNCTION)
    assert exposing["lt_ops.leak()"].props["executable_by"] == ["PUBLIC"]  # type: ignore[attr-defined]
    assert exposing["ssot_audit.vault_fingerprints()"].props["ssot_fingerprints"] is True  # type: ignore[attr-defined]
    assert res.read["grants"] >= 4 and res.read["vault.secrets"] >= 2


def test_failed_cron_runs_are_counted(estate: str, pg: psycopg.Connection, local_db: localdb.LocalDb,
                                      tmp_path: Path) -> None:
    jobid = pg.execute("SELECT jobid FROM cron.job WHERE jobname = 'lt-nightly'").fetchone()[0]  # type: ignore[index]
    pg.execute("INSERT INTO cron.job_run_details (jobid, runid, database, username, command, status, "
               "return_message, start_time, end_time) VALUES (%s, 424242, 'postgres', 'postgres', 'select 1', "
               "'failed', 'boom', now(), now())", (jobid,))
    try:
        res = source.collect(platform(tmp_path), ctx(local_db, tmp_path))
        job = by(res, Kind.CRON_JOB)["lt-nightly"]
        assert job.props["failed_runs"] == 1 and job.props["last_failure"]  # type: ignore[attr-defined]
    finally:
        pg.execute("DELETE FROM cron.job_run_details WHERE runid = 424242")


def test_the_auditor_cannot_read_plaintext_and_can_call_the_fingerprint_function(
        estate: str, local_db: localdb.LocalDb) -> None:
    with psycopg.connect(local_db.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(AUDITOR)))
        for query in ("SELECT decrypted_secret FROM vault.decrypted_secrets",
                      "SELECT * FROM vault.decrypted_secrets",
                      "SELECT secret FROM vault.secrets",
                      "SELECT * FROM vault.secrets",
                      "SELECT key FROM vault.stand_in_keys",
                      "SELECT * FROM lt_ops.leak()",
                      # nor cron.job itself: jobs only through ssot_audit.cron_jobs()
                      "SELECT command FROM cron.job"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(query)
        rows = conn.execute("SELECT name, fingerprint, is_probe FROM ssot_audit.vault_fingerprints()").fetchall()
        assert ("lt_webhook", fingerprint(estate, KEY.encode()), False) in rows
        assert (None, fingerprint(PROBE, KEY.encode()), True) in rows
        assert all(estate not in str(r) and KEY not in str(r) for r in rows)
        # the auditor has no way to write or to create
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE ssot_audit.x (id int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT vault.create_secret('x', 'x')")


def test_permission_denied_half_way_is_a_gap_naming_the_permission(
        estate: str, pg: psycopg.Connection, local_db: localdb.LocalDb, tmp_path: Path) -> None:
    pg.execute(sql.SQL("REVOKE EXECUTE ON FUNCTION ssot_audit.cron_jobs() FROM {}").format(sql.Identifier(AUDITOR)))
    pg.execute(sql.SQL("REVOKE USAGE ON SCHEMA vault FROM {}").format(sql.Identifier(AUDITOR)))
    res = source.collect(platform(tmp_path), ctx(local_db, tmp_path))
    gaps = {g.object: g for g in res.gaps}
    assert gaps["cron.job"].permission == "USAGE on schema ssot_audit and EXECUTE on function ssot_audit.cron_jobs()"
    assert gaps["vault.secrets"].permission is not None and "USAGE on schema vault" in gaps["vault.secrets"].permission
    assert gaps["cron.job"].describe().startswith("postgres: cron.job: permission denied (needs ")
    # what was not read is absent, never empty-and-fine; what was readable still is
    assert not list(res.inventory.of(Kind.CRON_JOB)) and not list(res.inventory.of(Kind.VAULT_SECRET))
    assert "lt_ops" in by(res, Kind.SCHEMA) and not res.complete


def test_no_auditor_setup_is_a_gap_not_an_empty_read(pg: psycopg.Connection, local_db: localdb.LocalDb,
                                                     tmp_path: Path) -> None:
    pg.execute("DROP SCHEMA IF EXISTS ssot_audit CASCADE")
    res = source.collect(platform(tmp_path), ctx(local_db, tmp_path))
    objects = {g.object for g in res.gaps}
    assert {"cron.job", "cron.job_run_details", "vault fingerprints"} <= objects
    assert all("auditor.sql" in g.reason or "ssot db auditor" in g.reason or "permission" in g.reason
               for g in res.gaps)


def test_server_down_is_a_gap(local_db: localdb.LocalDb, tmp_path: Path) -> None:
    res = source.collect(platform(tmp_path), SourceContext(env={}, root=str(tmp_path),
                                                           datadir=str(tmp_path / "no-cluster")))
    assert [g.object for g in res.gaps] == ["connection"] and "not running" in res.gaps[0].reason
    assert len(res.inventory) == 0


def _login(pg: psycopg.Connection, password: str) -> None:
    pg.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(AUDITOR), sql.Literal(password)))


def test_own_login_wrong_credentials_and_right_ones(estate: str, pg: psycopg.Connection,
                                                    local_db: localdb.LocalDb, tmp_path: Path) -> None:
    password = secrets.token_urlsafe(18)
    _login(pg, password)
    decl = platform(tmp_path, database={"host": "127.0.0.1", "port": local_db.port, "sslmode": "disable",
                                        "password": {"env": "ADMIN_PW"}},
                    audit={"database": {"user": AUDITOR, "passwordEnv": "LT_AUDITOR_PW"}})
    missing = source.collect(decl, SourceContext(env={}, root=str(tmp_path)))
    assert [g.object for g in missing.gaps] == ["connection"] and "LT_AUDITOR_PW" in missing.gaps[0].reason
    wrong = source.collect(decl, SourceContext(env={"LT_AUDITOR_PW": "not-" + password}, root=str(tmp_path)))
    assert [g.object for g in wrong.gaps] == ["connection"]
    assert "authentication failed" in wrong.gaps[0].reason and password not in wrong.gaps[0].describe()
    right = source.collect(decl, SourceContext(env={"LT_AUDITOR_PW": password}, root=str(tmp_path)))
    assert right.gaps == [] and "lt-nightly" in by(right, Kind.CRON_JOB)
    pg.execute(sql.SQL("ALTER ROLE {} NOLOGIN PASSWORD NULL").format(sql.Identifier(AUDITOR)))


def test_a_timeout_is_a_gap(estate: str, local_db: localdb.LocalDb, tmp_path: Path) -> None:
    slow = source._Read("slow catalog", "SELECT pg_sleep(5)", "nothing", lambda res, rows, st: len(rows))
    res = source.collect(platform(tmp_path), ctx(local_db, tmp_path, timeout=0.3), reads=[slow, *source.READS[:1]])
    assert res.gaps[0].object == "slow catalog" and "timed out" in res.gaps[0].reason
    assert "schemas" in res.read  # the session survives a cancelled statement


def test_past_the_deadline_the_rest_is_a_gap(estate: str, local_db: localdb.LocalDb, tmp_path: Path) -> None:
    """Each statement stays within the timeout; together they outlast the source's deadline."""
    slow = source._Read("slow catalog", "SELECT pg_sleep(0.6)", "nothing", lambda res, rows, st: len(rows))
    res = source.collect(platform(tmp_path), ctx(local_db, tmp_path, timeout=5, deadline=0.5),
                         reads=[slow, *source.READS[:2]])
    assert res.read == {"slow catalog": 1}
    assert [(g.object, g.reason) for g in res.gaps] == [
        (r.object, "the source's deadline of 0.5s passed before it was read") for r in source.READS[:2]]


def test_a_connection_lost_half_way_leaves_the_rest_as_gaps(estate: str, pg: psycopg.Connection,
                                                            local_db: localdb.LocalDb, tmp_path: Path) -> None:
    def kill(res: SourceResult, rows: list[tuple[object, ...]], st: object) -> int:
        pg.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ssot-audit'")
        return len(rows)

    first = source._Read("first", "SELECT 1", "nothing", kill)
    res = source.collect(platform(tmp_path), ctx(local_db, tmp_path), reads=[first, *source.READS[:3]])
    assert res.read == {"first": 1}
    assert [g.object for g in res.gaps] == ["schemas", "tables", "roles"]
    assert all("connection was lost" in g.reason for g in res.gaps)


def test_a_fingerprint_key_other_than_the_process_key_is_flagged(
        estate: str, local_db: localdb.LocalDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ssot import fingerprint as fp_module

    fp_module.use_key("some-other-key-" + "x" * 20)
    try:
        res = source.collect(platform(tmp_path), ctx(local_db, tmp_path))
    finally:
        fp_module.use_key(None)
    secret = by(res, Kind.VAULT_SECRET)["lt_webhook"]
    assert secret.fingerprint is None and secret.props["fingerprint_key_differs"] is True  # type: ignore[attr-defined]


def test_ssot_db_auditor_sets_up_the_local_database(pg: psycopg.Connection, local_db: localdb.LocalDb,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ssot.cli import main

    monkeypatch.delenv("SSOT_FINGERPRINT_KEY", raising=False)
    pg.execute("DELETE FROM vault.secrets WHERE name = 'ssot_fingerprint_key'")
    assert main(["db", "auditor", "--datadir", str(local_db.datadir), "--role", AUDITOR]) == 0
    assert "auditor access set up for role ssot_auditor" in capsys.readouterr().out
    assert pg.execute("SELECT to_regprocedure('ssot_audit.vault_fingerprints()') IS NOT NULL").fetchone() == (True,)
    assert pg.execute(sql.SQL("SELECT has_function_privilege({}, 'ssot_audit.cron_jobs()', 'EXECUTE'), "
                              "has_function_privilege('anon', 'ssot_audit.vault_fingerprints()', 'EXECUTE')")
                      .format(sql.Literal(AUDITOR))).fetchone() == (True, False)
    # no key given: the database generated 32 random bytes, derived from nothing anyone can recompute
    (key,) = pg.execute("SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = 'ssot_fingerprint_key'"
                        ).fetchone() or (None,)
    assert isinstance(key, str) and len(key) == 44
    probe = pg.execute("SELECT fingerprint FROM ssot_audit.vault_fingerprints() WHERE is_probe").fetchone()
    assert probe == (fingerprint(PROBE, key.encode()),)
    pg.execute("DELETE FROM vault.secrets WHERE name = 'ssot_fingerprint_key'")
    assert main(["db", "auditor", "--datadir", str(local_db.datadir), "--role", AUDITOR]) == 0
    assert pg.execute("SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = 'ssot_fingerprint_key'"
                      ).fetchone() != (key,)
    # given one (a declared fingerprintKey, as the audit is given it), it is that one
    pg.execute("DELETE FROM vault.secrets WHERE name = 'ssot_fingerprint_key'")
    monkeypatch.setenv("SSOT_FINGERPRINT_KEY", KEY)
    assert main(["db", "auditor", "--datadir", str(local_db.datadir), "--role", AUDITOR]) == 0
    probe = pg.execute("SELECT fingerprint FROM ssot_audit.vault_fingerprints() WHERE is_probe").fetchone()
    assert probe == (fingerprint(PROBE, KEY.encode()),)
    assert main(["db", "auditor", "--datadir", str(local_db.datadir), "--role", "Bad-Name"]) == 2
    pg.execute("DELETE FROM vault.secrets WHERE name = 'ssot_fingerprint_key'")


def test_no_fingerprint_key_in_vault_is_a_gap(estate: str, pg: psycopg.Connection, local_db: localdb.LocalDb,
                                              tmp_path: Path) -> None:
    pg.execute("DELETE FROM vault.secrets WHERE name = 'ssot_fingerprint_key'")
    res = source.collect(platform(tmp_path), ctx(local_db, tmp_path))
    (gap,) = res.gaps
    assert gap.object == "vault fingerprints" and "no ssot_fingerprint_key" in gap.reason
    assert by(res, Kind.VAULT_SECRET)["lt_webhook"].fingerprint is None  # type: ignore[attr-defined]


def test_ssot_audit_stack_local_on_the_local_database(estate: str, local_db: localdb.LocalDb,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The repository's own local stack, audited as `ssot audit --stack local` does after `ssot db start`:
    the program under the mock runtime is the declared side; the Vault value planted here never shows."""
    import json

    from ssot.cli import main

    root = Path(__file__).resolve().parents[2]
    code = main(["audit", "--stack", "local", "--root", str(root), "--datadir", str(local_db.datadir),
                 "--format", "json", "--source", "postgres"])
    out = capsys.readouterr().out
    doc = json.loads(out)
    postgres = next(s for s in doc["audit"]["sources"] if s["source"] == "postgres")
    assert postgres["status"] == "read" and postgres["gaps"] == []
    subjects = {f["subject"] for f in doc["findings"]}
    # the local stack declares what this test cluster does not have: missing, never a pass
    assert "missing:supabase-postgres:schema:ai" in subjects and code == 1
    assert "unmanaged:supabase-vault:vault_secret:lt_webhook" in subjects
    assert estate not in out


def test_auditor_sql_is_idempotent_and_refuses_a_bad_role_name(pg: psycopg.Connection) -> None:
    for _ in range(2):
        auditor_setup.apply(pg, AUDITOR, KEY)
    privileges = pg.execute(
        "SELECT has_function_privilege(%(r)s, 'ssot_audit.cron_jobs()', 'EXECUTE'), "
        "has_column_privilege(%(r)s, 'vault.secrets', 'name', 'SELECT'), "
        "has_column_privilege(%(r)s, 'vault.secrets', 'secret', 'SELECT'), "
        "has_table_privilege(%(r)s, 'vault.decrypted_secrets', 'SELECT'), "
        "has_function_privilege('public', 'ssot_audit.cron_jobs()', 'EXECUTE')", {"r": AUDITOR}).fetchone()
    assert privileges == (True, True, False, False, False)
    with pg.transaction():
        pg.execute("SELECT set_config('ssot.auditor', 'x\"; DROP SCHEMA vault; --', false)")
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            pg.execute(auditor_setup.auditor_sql().encode())
        raise psycopg.Rollback()
    assert pg.execute("SELECT to_regnamespace('vault') IS NOT NULL").fetchone() == (True,)
    pg.execute("DELETE FROM vault.secrets WHERE name = 'ssot_fingerprint_key'")


def test_a_remote_database_is_verified_against_the_declared_ca(tmp_path: Path) -> None:
    """`verify-full` by default, against `database.sslrootcert` resolved in the project (not in
    whatever directory the audit runs from); the password only from the named variable."""
    from psycopg.conninfo import conninfo_to_dict

    from ssot.model import load_platform
    from ssot.sources.live import SourceContext, SourceResult
    from ssot.sources.live.postgres import _target

    stack = tmp_path / "stacks" / "Pulumi.remote.yaml"
    stack.parent.mkdir()
    stack.write_text(yaml.safe_dump({"config": {"ssot:platform": {
        "name": "remote", "database": {"host": "db.example.internal", "user": "postgres",
                                       "password": {"env": "DEPLOY_PW"}, "sslrootcert": "stacks/ca.crt"},
        "roles": [{"name": "acme_auditor", "kind": "auditor"}],
        "audit": {"database": {"passwordEnv": "AUDIT_PW"}}}}}))
    platform = load_platform(stack, strict=False)
    res = SourceResult("postgres", True)
    target = _target(platform, SourceContext(env={"AUDIT_PW": "pw-from-env"}, root=str(tmp_path)), res)
    assert target is not None and res.gaps == []
    info = conninfo_to_dict(target.conninfo)
    assert info["sslmode"] == "verify-full" and info["sslrootcert"] == str(tmp_path / "stacks" / "ca.crt")
    assert info["user"] == "acme_auditor" and info["password"] == "pw-from-env"


def test_a_fingerprint_function_that_returns_values_is_a_gap_not_data(
        estate: str, pg: psycopg.Connection, local_db: localdb.LocalDb, tmp_path: Path) -> None:
    """Someone with the owner's rights replaces the function, keeping its signature and a correct probe
    but returning plaintext: nothing it returns reaches the inventory."""
    from ssot.providers import audit_function as af

    forged = af.BODY.replace(
        "pg_catalog.encode(extensions.hmac(pg_catalog.convert_to(s.decrypted_secret, 'UTF8'), k.key, 'sha256'), "
        "'hex')", "s.decrypted_secret")
    assert forged != af.BODY
    pg.execute(sql.SQL("CREATE OR REPLACE FUNCTION {}.{}() RETURNS {} LANGUAGE sql STABLE SECURITY DEFINER "
                       "SET search_path = '' AS {}").format(
        sql.Identifier(af.SCHEMA), sql.Identifier(af.FUNCTION), sql.SQL(af.RETURNS), sql.Literal(forged)))
    try:
        res = source.collect(platform(tmp_path), ctx(local_db, tmp_path))
        assert [g.object for g in res.gaps] == ["vault fingerprints"]
        assert "not the function ssot declares" in res.gaps[0].reason
        values = [str(r[0]) for r in pg.execute("SELECT decrypted_secret FROM vault.decrypted_secrets")]
        dump = repr([(a.name, a.fingerprint, a.props) for a in res.inventory.assets])
        assert values and not any(v in dump for v in values)
    finally:
        pg.execute(af.create_function_sql())
