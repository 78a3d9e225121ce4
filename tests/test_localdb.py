"""ssot.localdb against real PostgreSQL 15 + pg_cron: lifecycle, bootstrap, the Vault stand-in."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pgtools import cluster_base, free_port
from psycopg import conninfo as pg_conninfo
from psycopg import errors as pg_errors

from ssot import localdb
from ssot import pg as pg_helper
from ssot.errors import SourceUnavailable


@pytest.fixture
def scratch_dir() -> Iterator[Path]:
    with cluster_base() as base:
        yield base


def test_lifecycle_is_idempotent(scratch_dir: Path) -> None:
    datadir = scratch_dir / "pgdata"
    before = localdb.status(datadir)
    assert (before.initialized, before.running) == (False, False)

    port = free_port()
    db = localdb.start(datadir, port=port)
    assert db.port == port and db.pid > 0
    again = localdb.start(datadir, port=port)
    assert again == db  # same running server, not a second one

    st = localdb.status(datadir)
    assert (st.initialized, st.running, st.pid, st.port) == (True, True, db.pid, port)
    with psycopg.connect(db.conninfo(), autocommit=True) as conn:
        assert conn.execute("SELECT current_setting('listen_addresses')").fetchone() == ("127.0.0.1",)
        assert conn.execute("SELECT current_setting('unix_socket_directories')").fetchone() == (str(datadir),)
        assert conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone() == ("pg_cron",)

    assert localdb.stop(datadir) is True
    assert localdb.stop(datadir) is False
    assert localdb.status(datadir).running is False

    # A pid file left behind by a crash, naming a process that is not a postmaster.
    dead = subprocess.Popen(["true"])
    dead.wait()
    (datadir / "postmaster.pid").write_text(f"{dead.pid}\n{datadir}\n0\n{port}\n")
    assert localdb.status(datadir).running is False
    restarted = localdb.start(datadir, port=port)
    assert restarted.pid != db.pid
    with psycopg.connect(restarted.conninfo(), autocommit=True) as conn:  # same password after restart
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert localdb.stop(datadir) is True


def test_port_in_use_is_reported(scratch_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(localdb.PortInUse, match=f"port {port} .* in use"):
            localdb.start(scratch_dir / "pgdata", port=port)


def test_password_is_private(local_db: localdb.LocalDb) -> None:
    password = local_db.password_file.read_text().strip()
    assert len(password) >= 32
    assert (local_db.password_file.stat().st_mode & 0o777) == 0o600
    assert password not in repr(local_db)
    assert password not in str(local_db.as_dict())
    assert password in local_db.conninfo()


def test_port_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(localdb.PORT_ENV, "55432")
    assert localdb.resolve_port() == 55432
    assert localdb.resolve_port(55433) == 55433
    monkeypatch.setenv(localdb.PORT_ENV, "not-a-port")
    with pytest.raises(localdb.LocalDbError, match=localdb.PORT_ENV):
        localdb.resolve_port()
    monkeypatch.delenv(localdb.PORT_ENV)
    assert localdb.resolve_port() == localdb.DEFAULT_PORT


def test_missing_binaries_name_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(localdb.BINDIR_ENV, str(tmp_path))
    with pytest.raises(localdb.PostgresNotInstalled, match="postgresql-15"):
        localdb.start(tmp_path / "pgdata", port=free_port())


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the cluster to the postgres user")
def test_untraversable_parent_is_explained() -> None:
    base = Path(tempfile.mkdtemp(prefix="ssot-test-", dir="/tmp"))  # mkdtemp makes it 0700
    try:
        with pytest.raises(localdb.LocalDbError, match="cannot enter"):
            localdb.start(base / "pgdata", port=free_port())
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_roles(pg: psycopg.Connection) -> None:
    rows = {r[0]: r[1:] for r in pg.execute(
        "SELECT rolname, rolcanlogin, rolinherit, rolbypassrls FROM pg_roles WHERE rolname = ANY(%s)",
        (["anon", "authenticated", "service_role", "authenticator", "postgres"],))}
    assert rows["anon"] == (False, False, False)
    assert rows["authenticated"] == (False, False, False)
    assert rows["service_role"] == (False, False, True)
    assert rows["authenticator"] == (True, False, False)
    assert "postgres" in rows
    members = {r[0] for r in pg.execute(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'authenticator'")}
    assert members == {"anon", "authenticated", "service_role"}


def test_extensions(pg: psycopg.Connection) -> None:
    rows: dict[str, str] = dict(pg.execute("SELECT e.extname, n.nspname FROM pg_extension e "
                           "JOIN pg_namespace n ON n.oid = e.extnamespace").fetchall())
    assert rows["pgcrypto"] == "extensions"
    assert rows["uuid-ossp"] == "extensions"
    assert rows["pg_cron"] == "pg_catalog"  # pg_cron creates and uses its own schema `cron`
    assert pg.execute("SELECT length(extensions.gen_random_bytes(8))").fetchone() == (8,)


def test_vault_interface_shape(pg: psycopg.Connection) -> None:
    columns = pg.execute(
        "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_schema = 'vault' AND table_name = 'secrets' ORDER BY ordinal_position").fetchall()
    shape = {c[0]: c[1:3] for c in columns}
    assert shape == {
        "id": ("uuid", "NO"), "name": ("text", "YES"), "description": ("text", "NO"),
        "secret": ("text", "NO"), "key_id": ("uuid", "YES"), "nonce": ("bytea", "YES"),
        "created_at": ("timestamp with time zone", "NO"), "updated_at": ("timestamp with time zone", "NO"),
    }
    defaults = {c[0]: c[3] for c in columns}
    assert defaults["id"] == "gen_random_uuid()"
    assert defaults["description"] == "''::text"
    assert pg.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'vault' AND tablename = 'secrets' "
                      "AND indexdef LIKE '%UNIQUE%(name)%'").fetchone() is not None

    view = [r[0] for r in pg.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'vault' "
        "AND table_name = 'decrypted_secrets' ORDER BY ordinal_position")]
    assert set(view) == set(shape) | {"decrypted_secret"}

    funcs = {r[0]: r[1:] for r in pg.execute(
        "SELECT p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), p.prosecdef,"
        " p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'vault'")}
    assert set(funcs) == {"create_secret", "update_secret"}  # and no delete function
    assert funcs["create_secret"][0] == ("new_secret text, new_name text DEFAULT NULL::text, "
                                         "new_description text DEFAULT ''::text, "
                                         "new_key_id uuid DEFAULT NULL::uuid")
    assert funcs["create_secret"][1] == "uuid"
    assert funcs["update_secret"][0] == ("secret_id uuid, new_secret text DEFAULT NULL::text, "
                                         "new_name text DEFAULT NULL::text, "
                                         "new_description text DEFAULT NULL::text, "
                                         "new_key_id uuid DEFAULT NULL::uuid")
    assert funcs["update_secret"][1] == "void"
    for name in ("create_secret", "update_secret"):
        assert funcs[name][2] is True, f"{name} must be SECURITY DEFINER"
        assert funcs[name][3] == ['search_path=""'], f"{name} must pin search_path to ''"

    comment = pg.execute("SELECT obj_description('vault'::regnamespace, 'pg_namespace')").fetchone()
    assert comment is not None and "STAND-IN" in comment[0]


def test_vault_semantics(pg: psycopg.Connection) -> None:
    plain = "stand-in-plaintext-value"
    secret_id = pg.execute("SELECT vault.create_secret(%s, 'ssot_t_semantics', 'first')", (plain,)
                           ).fetchone()[0]  # type: ignore[index]
    stored, key_id, nonce = pg.execute("SELECT secret, key_id, nonce FROM vault.secrets WHERE id = %s",
                                       (secret_id,)).fetchone()  # type: ignore[misc]
    assert plain not in stored and key_id is not None and nonce is not None
    base64.b64decode(stored, validate=True)  # ciphertext, base64
    assert pg.execute("SELECT decrypted_secret FROM vault.decrypted_secrets WHERE id = %s",
                      (secret_id,)).fetchone() == (plain,)

    with pg.transaction():
        pg.execute("SELECT vault.update_secret(%s, new_description => 'second')", (secret_id,))
        row = pg.execute("SELECT name, description, decrypted_secret, updated_at = now() "
                         "FROM vault.decrypted_secrets WHERE id = %s", (secret_id,)).fetchone()
    assert row == ("ssot_t_semantics", "second", plain, True)  # NULLs kept the rest

    pg.execute("SELECT vault.update_secret(%s, 'new-value', 'ssot_t_renamed')", (secret_id,))
    assert pg.execute("SELECT name, description, decrypted_secret FROM vault.decrypted_secrets "
                      "WHERE id = %s", (secret_id,)).fetchone() == ("ssot_t_renamed", "second", "new-value")

    with pytest.raises(pg_errors.UniqueViolation):
        pg.execute("SELECT vault.create_secret('x', 'ssot_t_renamed')")
    pg.execute("DELETE FROM vault.secrets WHERE id = %s", (secret_id,))
    assert pg.execute("SELECT count(*) FROM vault.secrets WHERE id = %s", (secret_id,)).fetchone() == (0,)


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_plaintext_hidden_from_api_roles(pg: psycopg.Connection, role: str) -> None:
    pg.execute("SELECT vault.create_secret('role-test-value', 'ssot_t_roles')")
    for query in ("SELECT decrypted_secret FROM vault.decrypted_secrets",
                  "SELECT secret FROM vault.secrets",
                  "SELECT key FROM vault.stand_in_keys",
                  "SELECT vault.create_secret('x')"):
        with pg.transaction():
            pg.execute(f"SET LOCAL ROLE {role}")
            with pytest.raises(pg_errors.InsufficientPrivilege), pg.transaction():
                pg.execute(query)


def test_service_role_reads_plaintext_but_not_keys(pg: psycopg.Connection) -> None:
    pg.execute("SELECT vault.create_secret('svc-value', 'ssot_t_svc')")
    with pg.transaction():
        pg.execute("SET LOCAL ROLE service_role")
        assert pg.execute("SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = 'ssot_t_svc'"
                          ).fetchone() == ("svc-value",)
        with pytest.raises(pg_errors.InsufficientPrivilege), pg.transaction():
            pg.execute("SELECT key FROM vault.stand_in_keys")


def test_pg_cron_usable(pg: psycopg.Connection) -> None:
    job_id = pg.execute("SELECT cron.schedule('ssot-t-cron', '*/10 * * * *', 'SELECT 1')").fetchone()[0]  # type: ignore[index]
    assert pg.execute("SELECT jobname, schedule, database, active FROM cron.job WHERE jobid = %s",
                      (job_id,)).fetchone() == ("ssot-t-cron", "*/10 * * * *", "postgres", True)
    pg.execute("SELECT cron.alter_job(%s, schedule => '0 * * * *')", (job_id,))
    assert pg.execute("SELECT schedule FROM cron.job WHERE jobid = %s", (job_id,)).fetchone() == ("0 * * * *",)
    pg.execute("SELECT cron.unschedule('ssot-t-cron')")
    assert pg.execute("SELECT count(*) FROM cron.job WHERE jobid = %s", (job_id,)).fetchone() == (0,)


def test_bootstrap_is_idempotent(local_db: localdb.LocalDb, pg: psycopg.Connection) -> None:
    secret_id = pg.execute("SELECT vault.create_secret('survives', 'ssot_t_bootstrap')").fetchone()[0]  # type: ignore[index]
    localdb.bootstrap(local_db)
    localdb.bootstrap(local_db)
    assert pg.execute("SELECT decrypted_secret FROM vault.decrypted_secrets WHERE id = %s",
                      (secret_id,)).fetchone() == ("survives",)
    assert pg.execute("SELECT count(*) FROM vault.stand_in_keys").fetchone() == (1,)


def test_pg_connect_settings(local_db: localdb.LocalDb) -> None:
    with pg_helper.connect(local_db.conninfo(), app="ssot-test") as conn:
        assert conn.autocommit is True
        assert conn.execute("SELECT current_setting('application_name'), current_setting('statement_timeout')"
                            ).fetchone() == ("ssot-test", "30s")


def test_pg_connect_failures_are_safe(local_db: localdb.LocalDb) -> None:
    canary = "canary-pw-" + os.urandom(8).hex()
    uri_wrong = (f"postgresql://postgres:{canary}@127.0.0.1:{local_db.port}/postgres")
    closed_port = free_port()
    cases = [
        (uri_wrong, "authentication failed for database 'postgres' as 'postgres'"),
        (f"host=127.0.0.1 port={closed_port} user=postgres password={canary}", "cannot reach"),
        (pg_conninfo.make_conninfo(local_db.conninfo(), dbname="no_such_db"), "does not exist"),
        (f"host=127.0.0.1 password={canary} garbage", "malformed"),
        (f"postgresql://u:{canary}@127.0.0.1:{closed_port}/db?bogus_option=1", "malformed"),
    ]
    for conninfo, expected in cases:
        with pytest.raises(SourceUnavailable, match=expected) as err:
            pg_helper.connect(conninfo, app="ssot-test", extra_sensitive=[canary])
        message = str(err.value)
        assert canary not in message and conninfo not in message
        assert local_db.password_file.read_text().strip() not in message
        assert err.value.__cause__ is None and err.value.__suppress_context__


def test_scrub_removes_password_and_extras() -> None:
    conninfo = "host=db.example port=5432 user=u password=s3cr3t-pass dbname=d"
    text = f"failed with {conninfo} and s3cr3t-pass and token-xyz"
    cleaned = pg_helper.scrub(text, conninfo, ["token-xyz"])
    assert "s3cr3t-pass" not in cleaned and "token-xyz" not in cleaned and conninfo not in cleaned
    assert str(pg_helper.describe(conninfo)) == "database 'd' as 'u' at db.example:5432"
