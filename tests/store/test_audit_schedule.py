"""The audit scheduled by the platform (doctrine §5): the stack model, the pg_cron job's SQL run against
the real database with the pg_net and Vault stand-ins, and the worker that answers requests."""

from __future__ import annotations

import secrets
from pathlib import Path

import psycopg
import pytest

from ssot.audit_schedule import AuditSchedule, Dispatch, job_command
from ssot.errors import ConfigError
from ssot.model import load_platform
from ssot.store import migrate
from ssot.store.worker import Request, handle, serve

ROOT = Path(__file__).resolve().parents[2]
LOCAL = (ROOT / "stacks" / "Pulumi.local.yaml").read_text()
_BLOCK = '''    auditSchedule:
      schedule: "*/30 * * * *"
      worker: true
'''


def stack_with(tmp_path: Path, block: str) -> Path:
    assert _BLOCK in LOCAL
    path = tmp_path / "Pulumi.local.yaml"
    path.write_text(LOCAL.replace(_BLOCK, block))
    return path


DISPATCH = '''    auditSchedule:
      schedule: "0 */6 * * *"
      dispatch:
        repository: acme/platform
        workflow: ssot-audit.yml
        ref: main
        tokenSecret: scheduler_webhook_token
'''


def test_stacks_declare_the_schedule() -> None:
    local = load_platform(ROOT / "stacks" / "Pulumi.local.yaml")
    assert local.audit_schedule and local.audit_schedule.worker and local.audit_schedule.dispatch is None
    prod = load_platform(ROOT / "stacks" / "Pulumi.prod.yaml")
    assert prod.audit_schedule and prod.audit_schedule.dispatch == Dispatch(
        "acme/platform", "ssot-audit.yml", "main", "github_actions_dispatch_token")


def test_dispatch_is_parsed(tmp_path: Path) -> None:
    decl = load_platform(stack_with(tmp_path, DISPATCH), stack="local").audit_schedule
    assert decl is not None and decl.dispatch is not None
    assert decl.dispatch.url == "https://api.github.com/repos/acme/platform/actions/workflows/ssot-audit.yml/dispatches"
    assert decl.command == "audit" and decl.schedule == "0 */6 * * *" and decl.where.line


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("repository: acme/platform", "repository: \"acme/platform'; drop table x; --\"", "owner/name"),
    ("repository: acme/platform", "repository: \"acme/platform\\n\"", "owner/name"),
    ("workflow: ssot-audit.yml", "workflow: ../../x.yml", "workflow file name"),
    ("ref: main", "ref: \"main\\n\"", "branch or tag"),
    ("ref: main", "ref: a..b", "branch or tag"),
    ("tokenSecret: scheduler_webhook_token", "tokenSecret: not_declared", "Vault secret declared"),
    ("tokenSecret: scheduler_webhook_token", "tokenSecret: \"x'\"", "Vault secret name"),
    ("schedule: \"0 */6 * * *\"", "schedule: often", "cron schedule"),
    ("tokenSecret: scheduler_webhook_token", "tokenSecret: scheduler_webhook_token\n      worker: true",
     "exactly one of"),
])
def test_bad_schedules_are_config_errors(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in DISPATCH
    with pytest.raises(ConfigError, match=expected) as info:
        load_platform(stack_with(tmp_path, DISPATCH.replace(old, new)), stack="local")
    assert any(i.line for i in info.value.issues)


def test_job_name_must_not_clash(tmp_path: Path) -> None:
    block = _BLOCK + "      jobName: purge-cron-history\n"
    with pytest.raises(ConfigError, match=r"not used under cron\.jobs"):
        load_platform(stack_with(tmp_path, block), stack="local")


def _dispatch(secret_name: str) -> AuditSchedule:
    return AuditSchedule(None, "* * * * *", dispatch=Dispatch("acme/platform", "ssot-audit.yml", "main", secret_name))


def test_dispatch_job_sends_the_vault_token_read_at_run_time(pg: psycopg.Connection) -> None:
    name = f"ssot_test_dispatch_{secrets.token_hex(4)}"
    token = "ghp_" + secrets.token_hex(18)
    command = job_command(_dispatch(name), "prod")
    assert token not in command and "vault.decrypted_secrets" in command and name in command
    pg.execute("SELECT vault.create_secret(%s, %s)", (token, name))
    before = pg.execute("SELECT coalesce(max(id), 0) FROM net.stand_in_requests").fetchone()
    pg.execute(command)
    row = pg.execute(
        "SELECT url, body, headers->>'Authorization' = 'Bearer ' || (SELECT decrypted_secret FROM "
        "vault.decrypted_secrets WHERE name = %s), headers - 'Authorization', timeout_milliseconds "
        "FROM net.stand_in_requests WHERE id > %s", (name, before[0] if before else 0)).fetchall()
    assert len(row) == 1
    url, body, token_matches, other_headers, timeout = row[0]
    assert url == "https://api.github.com/repos/acme/platform/actions/workflows/ssot-audit.yml/dispatches"
    assert body == {"ref": "main", "inputs": {"stack": "prod", "command": "audit"}}
    assert token_matches is True
    assert other_headers["Accept"] == "application/vnd.github+json" and timeout == 10_000
    # pg_cron keeps the command, never the token.
    assert token not in command


def test_dispatch_job_fails_loudly_without_its_token(pg: psycopg.Connection) -> None:
    before = pg.execute("SELECT count(*) FROM net.stand_in_requests").fetchone()
    with pytest.raises(psycopg.errors.RaiseException, match="is missing or empty"):
        pg.execute(job_command(_dispatch("ssot_test_absent_token"), "prod"))
    assert pg.execute("SELECT count(*) FROM net.stand_in_requests").fetchone() == before


def test_stand_ins_are_labelled(pg: psycopg.Connection) -> None:
    comment = pg.execute("SELECT obj_description('net'::regnamespace)").fetchone()
    assert comment and "STAND-IN for Supabase pg_net" in comment[0]
    signature = pg.execute("SELECT pg_get_function_identity_arguments('net.http_post'::regproc)").fetchone()
    assert signature == ("url text, body jsonb, params jsonb, headers jsonb, timeout_milliseconds integer",)
    assert pg.execute("SELECT prorettype::regtype::text FROM pg_proc WHERE oid = 'net.http_post'::regproc"
                      ).fetchone() == ("bigint",)


def test_worker_job_queues_a_request_and_the_worker_runs_it(store: psycopg.Connection, store_dsn: str) -> None:
    migrate(store)
    store.execute("LISTEN ssot_audit_requests")
    store.execute(job_command(AuditSchedule(None, "* * * * *", command="preview", worker=True), "local"))
    notes = list(store.notifies(timeout=5, stop_after=1))
    assert len(notes) == 1 and notes[0].channel == "ssot_audit_requests"
    assert serve(ROOT, env={"SSOT_STORE_DSN": store_dsn, "PATH": "/usr/bin:/bin"}, once=True) == 1
    row = store.execute("SELECT q.state, q.exit_code, q.requested_by, r.command, r.stack, r.complete "
                        "FROM audit.requests q JOIN audit.runs r ON r.request_id = q.id").fetchone()
    assert row == ("done", 0, "pg_cron", "preview", "local", True)


def test_worker_refuses_a_request_it_should_not_run(store: psycopg.Connection) -> None:
    migrate(store)
    store.execute("ALTER TABLE audit.requests DROP CONSTRAINT requests_stack_check")  # a tampered table
    row = store.execute("INSERT INTO audit.requests (stack) VALUES ('x; rm -rf /') RETURNING id").fetchone()
    assert row is not None
    rid = int(row[0])
    ran: list[Request] = []

    def runner(request: Request, root: Path, env: object) -> int:
        ran.append(request)
        return 0

    assert handle(store, Request(rid, "audit", "x; rm -rf /"), ROOT, {}, runner) == 2
    assert ran == []
    assert store.execute("SELECT state, exit_code FROM audit.requests WHERE id = %s", (rid,)).fetchone() == (
        "failed", 2)
    with pytest.raises(psycopg.errors.CheckViolation):
        store.execute("INSERT INTO audit.requests (command, stack) VALUES ('scan', 'local')")


def test_two_workers_never_run_one_request_twice(store: psycopg.Connection, store_dsn: str) -> None:
    import threading

    migrate(store)
    for i in range(6):
        store.execute("INSERT INTO audit.requests (command, stack) VALUES ('preview', %s)", (f"s{i}",))
    seen: list[int] = []
    lock = threading.Lock()

    def runner(request: Request, root: Path, env: object) -> int:
        with lock:
            seen.append(request.id)
        return 0

    threads = [threading.Thread(target=serve, args=(ROOT,), kwargs={
        "env": {"SSOT_STORE_DSN": store_dsn}, "once": True, "runner": runner}) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 6
    assert store.execute("SELECT count(*) FROM audit.requests WHERE state = 'done'").fetchone() == (6,)


def test_audit_serve_runs_a_requested_audit(store: psycopg.Connection, store_dsn: str, local_db: object) -> None:
    """`ssot audit --serve` (the CLI form): the request the job queued becomes a stored `ssot audit` run."""
    import os
    import subprocess
    import sys

    migrate(store)
    store.execute(job_command(AuditSchedule(None, "* * * * *", worker=True), "local"))
    done = subprocess.run([sys.executable, "-m", "ssot.cli", "audit", "--serve", "--once", "--root", str(ROOT),
                           "--local-db", "--datadir", str(local_db.datadir)],  # type: ignore[attr-defined]
                          env={**os.environ, "SSOT_STORE_DSN": store_dsn}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1 request handled" in done.stderr
    row = store.execute("SELECT q.state, q.exit_code, r.command, r.stack, r.exit_code, r.sources_read[1] "
                        "FROM audit.requests q JOIN audit.runs r ON r.request_id = q.id").fetchone()
    assert row is not None and row[2:4] == ("audit", "local") and row[1] == row[4]
    assert row[0] == ("done" if row[1] in (0, 1) else "failed") and row[5] == "pulumi program (mock runtime)"


def test_audit_needs_a_stack_unless_serving() -> None:
    from ssot.cli import main

    assert main(["audit"]) == 2


def test_a_request_abandoned_by_a_dead_worker_is_marked_failed(store: psycopg.Connection, store_dsn: str) -> None:
    migrate(store)
    store.execute("INSERT INTO audit.requests (stack, state, claimed_at, claimed_by) VALUES "
                  "('local', 'running', now() - interval '3 hours', 'gone:1'), "
                  "('local', 'running', now() - interval '1 minute', 'busy:2')")
    assert serve(ROOT, env={"SSOT_STORE_DSN": store_dsn}, once=True) == 0
    states = store.execute("SELECT claimed_by, state, error FROM audit.requests ORDER BY id").fetchall()
    assert states[0][:2] == ("gone:1", "failed") and "abandoned" in states[0][2]
    assert states[1] == ("busy:2", "running", None)  # still within the time a run may take


def test_a_backlog_of_identical_requests_is_answered_by_one_run(store: psycopg.Connection, store_dsn: str) -> None:
    migrate(store)
    for stack in ("local", "local", "prod", "local"):
        store.execute("INSERT INTO audit.requests (command, stack) VALUES ('audit', %s)", (stack,))
    ran: list[Request] = []

    def runner(request: Request, root: Path, env: object) -> int:
        ran.append(request)
        return 0

    assert serve(ROOT, env={"SSOT_STORE_DSN": store_dsn}, once=True, runner=runner) == 2
    assert sorted((r.stack, r.id) for r in ran) == [("local", 4), ("prod", 3)]
    rows = store.execute("SELECT id, state, superseded_by FROM audit.requests ORDER BY id").fetchall()
    assert rows == [(1, "superseded", 4), (2, "superseded", 4), (3, "done", None), (4, "done", None)]
