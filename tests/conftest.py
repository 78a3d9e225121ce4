"""Shared fixtures: a real PostgreSQL 15 + pg_cron cluster, started by ssot.localdb for the session.

- `local_db` (session): the running ssot.localdb.LocalDb, in a fresh 0755 directory under /tmp (the
  cluster runs as the `postgres` OS user, who cannot enter pytest's 0700 tmp dirs), on a free port.
  Stopped and removed at the end of the session. Skips, saying why, only if the PostgreSQL binaries
  are not installed.
- `db_conninfo` (function): a superuser conninfo for the `postgres` database (where pg_cron and the
  Vault stand-in live). Vault secrets and pg_cron jobs a test leaves behind are removed after it, so
  tests do not see each other's.
- `pg` (function): an autocommit psycopg connection on `db_conninfo`.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from needs import missing_dependency
from pgtools import cluster_base, free_port

from ssot import localdb


@pytest.fixture(scope="session")
def local_db() -> Iterator[localdb.LocalDb]:
    with cluster_base() as base:
        for attempt in range(3):
            try:
                db = localdb.start(base / "pgdata", port=free_port())
                break
            except localdb.PortInUse:
                # Another test session took the port between our probe and the server's bind.
                if attempt == 2:
                    raise
        yield db


def _snapshot(conn: psycopg.Connection) -> tuple[set[str], set[int]]:
    secrets = {str(r[0]) for r in conn.execute("SELECT id FROM vault.secrets")}
    jobs = {int(r[0]) for r in conn.execute("SELECT jobid FROM cron.job")}
    return secrets, jobs


@pytest.fixture
def db_conninfo(local_db: localdb.LocalDb) -> Iterator[str]:
    conninfo = local_db.conninfo()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        secrets_before, jobs_before = _snapshot(conn)
    yield conninfo
    if not localdb.status(local_db.datadir).running:
        return  # a test stopped the server; nothing to clean
    with psycopg.connect(conninfo, autocommit=True) as conn:
        secrets_after, jobs_after = _snapshot(conn)
        for secret_id in secrets_after - secrets_before:
            conn.execute("DELETE FROM vault.secrets WHERE id = %s::uuid", (secret_id,))
        for job_id in jobs_after - jobs_before:
            conn.execute("SELECT cron.unschedule(%s::bigint)", (job_id,))


@pytest.fixture
def pg(db_conninfo: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def checkov_exe() -> str:
    """The checkov executable (SSOT_CHECKOV, `<repo>/.checkov-venv`, or PATH); scripts/setup installs
    it, so a skip here means the suite was started without the set-up, and says how to fix that."""
    from ssot.sources.checkov import CheckovNotFound, find_checkov

    try:
        return find_checkov()
    except CheckovNotFound as exc:
        missing_dependency(f"no checkov executable ({exc}); run scripts/setup")


# Fuzzing profiles (tests/test_fuzz.py): registered here, before pytest-hypothesis reads
# --hypothesis-profile. "ci" is deterministic and short; "long" is for local runs.
def _hypothesis_profiles() -> None:
    import os

    from hypothesis import HealthCheck, settings

    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large]
    settings.register_profile("ci", max_examples=150, derandomize=True, deadline=None, database=None,
                              suppress_health_check=quiet)
    settings.register_profile("long", max_examples=3000, deadline=None, suppress_health_check=quiet)
    settings.load_profile(os.environ.get("SSOT_HYPOTHESIS_PROFILE", "ci"))


_hypothesis_profiles()
