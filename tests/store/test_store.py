"""The audit store against the real database: migrations, the findings lifecycle, agent grants."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ssot.findings import Finding, Severity
from ssot.inventory import Location, Phase
from ssot.reporters import Report
from ssot.store import grant_agent_read, migrate, migrations, recent_runs, store_run
from ssot.store.errors import StoreConfigError
from ssot.store.writer import RunRecord

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def finding(subject: str, severity: Severity = Severity.HIGH, **meta: object) -> Finding:
    return Finding(rule_id="hardcoded_secret", title="literal secret", severity=severity, clause="§4",
                   explain=f"a literal at {subject}", propose="move it to Vault", location=Location(path=subject),
                   subject=subject, phase=Phase.STATIC, metadata=dict(meta))


def report(*findings: Finding, incomplete: tuple[str, ...] = (), suppressed: tuple[Finding, ...] = ()) -> Report:
    return Report(command="scan", target="repo", findings=list(findings), suppressed=list(suppressed),
                  incomplete=list(incomplete))


def record(minutes: int, scope: str = "scan:repo") -> RunRecord:
    start = T0 + timedelta(minutes=minutes)
    return RunRecord(command="scan", scope=scope, target="repo", started_at=start,
                     finished_at=start + timedelta(seconds=5), sources_read=("repository files",))


def states(conn: psycopg.Connection, scope: str = "scan:repo") -> dict[str, tuple]:
    rows = conn.execute("SELECT subject, resolved_at IS NOT NULL, reopen_count, suppressed FROM audit.findings "
                        "WHERE scope = %s", (scope,)).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_migrations_apply_once_and_record_checksums(store: psycopg.Connection) -> None:
    assert migrate(store) == [m.version for m in migrations()]
    assert migrate(store) == []
    rows = store.execute("SELECT version, checksum FROM audit.schema_migrations").fetchall()
    assert rows == [(m.version, m.checksum) for m in migrations()]


def test_migrations_coexist_with_a_declared_audit_schema(store: psycopg.Connection) -> None:
    # What the stacks' DoctrineSchemas component creates before ssot ever stores a run.
    store.execute("CREATE SCHEMA audit")
    store.execute("CREATE TABLE audit.other (id int)")
    assert migrate(store) == [m.version for m in migrations()]
    assert store.execute("SELECT count(*) FROM audit.other").fetchone() == (0,)


def test_an_edited_applied_migration_is_refused(store: psycopg.Connection) -> None:
    migrate(store)
    store.execute("UPDATE audit.schema_migrations SET checksum = 'x' WHERE version = 1")
    with pytest.raises(Exception, match="applied with different contents"):
        migrate(store)


def test_concurrent_migrations_apply_each_version_exactly_once(store_dsn: str) -> None:
    applied: list[list[int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        try:
            with psycopg.connect(store_dsn, autocommit=True) as conn:
                barrier.wait()
                applied.append(migrate(conn))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(v for a in applied for v in a) == [m.version for m in migrations()]


def test_lifecycle_first_seen_resolved_reopened(store: psycopg.Connection) -> None:
    migrate(store)
    a, b = finding("a.py"), finding("b.py", Severity.LOW)
    r1 = store_run(store, report(a, b), record(0))
    assert states(store) == {"a.py": (False, 0, False), "b.py": (False, 0, False)}
    r2 = store_run(store, report(a), record(10))
    assert states(store)["b.py"] == (True, 0, False)
    assert store.execute("SELECT resolved_by_run FROM audit.findings WHERE subject = 'b.py'").fetchone() == (r2,)
    r3 = store_run(store, report(a, b), record(20))
    assert states(store)["b.py"] == (False, 1, False)
    row = store.execute(
        "SELECT first_seen_run, last_seen_run, reopened_at FROM audit.findings WHERE subject = 'b.py'").fetchone()
    assert row == (r1, r3, T0 + timedelta(minutes=20))
    # History: which run saw what.
    seen = store.execute("SELECT run_id, count(*) FROM audit.run_findings GROUP BY run_id ORDER BY run_id").fetchall()
    assert seen == [(r1, 2), (r2, 1), (r3, 2)]
    counts = store.execute("SELECT high, low, blocking, complete, verdict FROM audit.runs WHERE id = %s",
                           (r1,)).fetchone()
    assert counts == (1, 1, 1, True, "fail")


def test_an_incomplete_run_resolves_nothing(store: psycopg.Connection) -> None:
    migrate(store)
    store_run(store, report(finding("a.py"), finding("b.py")), record(0))
    run = store_run(store, report(incomplete=("checkov: could not run",)), record(10))
    assert states(store) == {"a.py": (False, 0, False), "b.py": (False, 0, False)}
    row = store.execute("SELECT complete, verdict, exit_code, sources_not_read FROM audit.runs WHERE id = %s",
                        (run,)).fetchone()
    assert row == (False, "incomplete", 3, ["checkov: could not run"])


def test_resolution_is_per_scope(store: psycopg.Connection) -> None:
    migrate(store)
    store_run(store, report(finding("a.py")), record(0, scope="preview:prod"))
    store_run(store, report(), record(10, scope="scan:repo"))
    assert states(store, "preview:prod") == {"a.py": (False, 0, False)}


def test_a_run_storing_late_cannot_resolve_a_later_sighting(store: psycopg.Connection) -> None:
    migrate(store)
    store_run(store, report(finding("a.py")), record(10))
    # Started before the run above, stored after it: it proves nothing about minute 10.
    store_run(store, report(), record(5))
    assert states(store) == {"a.py": (False, 0, False)}
    # And a late sighting does not reopen a finding resolved after it.
    store_run(store, report(), record(20))
    store_run(store, report(finding("a.py")), record(15))
    assert states(store) == {"a.py": (True, 0, False)}
    # A finding first stored by a run older than one already stored that did not see it: resolved.
    store_run(store, report(), record(40))
    store_run(store, report(finding("new.py")), record(30))
    assert states(store)["new.py"] == (True, 0, False)
    resolved_by = store.execute("SELECT r.started_at FROM audit.findings f JOIN audit.runs r ON r.id = "
                                "f.resolved_by_run WHERE f.subject = 'new.py'").fetchone()
    assert resolved_by == (T0 + timedelta(minutes=40),)


def test_suppressed_findings_keep_reason_owner_expiry(store: psycopg.Connection) -> None:
    migrate(store)
    from dataclasses import replace

    sup = replace(finding("c.py"), suppressed_by="suppressions-file",
                  metadata={"suppression": {"by": "suppressions-file", "reason": "test fixture",
                                            "owner": "platform-team", "expires": "2027-06-30"}})
    store_run(store, report(finding("a.py"), suppressed=(sup,)), record(0))
    row = store.execute("SELECT suppressed, suppressed_by, suppression_reason, suppression_owner, "
                        "suppression_expires::text, metadata FROM audit.findings WHERE subject = 'c.py'").fetchone()
    assert row == (True, "suppressions-file", "test fixture", "platform-team", "2027-06-30", {})
    assert [r[0] for r in store.execute("SELECT subject FROM audit.open_findings")] == ["a.py"]
    assert [r[0] for r in store.execute("SELECT subject FROM audit.suppressed_findings")] == ["c.py"]


def test_private_metadata_is_not_stored(store: psycopg.Connection) -> None:
    migrate(store)
    store_run(store, report(finding("a.py", _match="Canary-Private-Metadata-91f2", line_hint=3)), record(0))
    blob = str(store.execute("SELECT row_to_json(f)::text FROM audit.findings f").fetchall())
    assert "Canary-Private-Metadata-91f2" not in blob and "line_hint" in blob


def test_recent_runs_oldest_first(store: psycopg.Connection) -> None:
    migrate(store)
    for minute in (0, 10, 20):
        store_run(store, report(*[finding(f"{i}.py") for i in range(minute // 10)]), record(minute))
    history = recent_runs(store, "scan:repo", limit=2)
    assert [h["high"] for h in history] == [1, 2]
    assert history[0]["started_at"] < history[1]["started_at"]


@pytest.fixture
def agent_role(store: psycopg.Connection) -> Iterator[str]:
    import secrets

    role = f"ssot_agent_{secrets.token_hex(3)}"
    store.execute(f"CREATE ROLE {role} NOLOGIN")
    yield role
    store.execute(f"DROP OWNED BY {role}")
    store.execute(f"DROP ROLE {role}")


def test_agent_reads_the_views_and_nothing_else(store: psycopg.Connection, agent_role: str) -> None:
    migrate(store)
    # As the stacks declare for the auditor: default privileges on new audit tables.
    store.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA audit GRANT SELECT ON TABLES TO {agent_role}")
    store.execute(f"GRANT SELECT ON audit.findings TO {agent_role}")
    store.execute(f"GRANT USAGE ON SEQUENCE audit.runs_id_seq TO {agent_role}")
    store_run(store, report(finding("a.py")), record(0))
    assert grant_agent_read(store, [agent_role, "ssot_missing_role"]) == [agent_role]
    store.execute(f"SET ROLE {agent_role}")
    try:
        rows = store.execute("SELECT key, stop_severity, explain, propose FROM audit.open_findings").fetchall()
        assert len(rows) == 1 and rows[0][1] == "high" and rows[0][2] and rows[0][3]
        for view in ("suppressed_findings", "finding_lifecycle", "run_history", "run_finding_history"):
            store.execute(f"SELECT * FROM audit.{view}").fetchall()
        for table in ("findings", "runs", "run_findings", "schema_migrations"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), store.transaction():
                store.execute(f"SELECT * FROM audit.{table}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), store.transaction():
            store.execute("DELETE FROM audit.suppressed_findings")  # a simple, updatable view
        for seq in ("runs_id_seq", "findings_id_seq", "requests_id_seq"):
            assert store.execute("SELECT has_sequence_privilege(current_user, %s, 'USAGE,SELECT,UPDATE')",
                                 (f"audit.{seq}",)).fetchone() == (False,)
    finally:
        store.execute("RESET ROLE")


@pytest.mark.parametrize("bad", ["Agent", "agent;drop", "agent\n", "postgres", "a" * 64])
def test_agent_role_names_are_validated(store: psycopg.Connection, bad: str) -> None:
    migrate(store)
    with pytest.raises(StoreConfigError, match="expected a lowercase role name"):
        grant_agent_read(store, [bad])


def test_a_role_with_only_schema_rights_can_migrate_and_store(store: psycopg.Connection) -> None:
    """On Supabase the store's role may own nothing but rights on the stacks' `audit` schema."""
    import secrets

    role = f"ssot_store_{secrets.token_hex(3)}"
    store.execute("CREATE SCHEMA audit")
    store.execute(f"CREATE ROLE {role} NOLOGIN")
    store.execute(f"REVOKE CREATE ON DATABASE {store.info.dbname} FROM PUBLIC")
    store.execute(f"GRANT USAGE, CREATE ON SCHEMA audit TO {role}")
    try:
        store.execute(f"SET ROLE {role}")
        assert migrate(store) == [m.version for m in migrations()]
        store_run(store, report(finding("a.py")), record(0))
        store.execute("RESET ROLE")
        assert store.execute("SELECT count(*) FROM audit.findings").fetchone() == (1,)
    finally:
        store.execute("RESET ROLE")
        store.execute(f"DROP OWNED BY {role}")
        store.execute(f"DROP ROLE {role}")
