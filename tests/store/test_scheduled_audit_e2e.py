"""SLOW (up to ~70 s, the only one of its kind): the platform's real pg_cron fires the audit schedule.

pg_cron 1.4 has minute granularity and no run-now, so the jobs are scheduled `* * * * *` and the test
waits for the next minute boundary. Two jobs, as the stacks declare them through the CronJob provider:
- dispatch (prod's form): pg_net's `net.http_post` (the local stand-in records it) to GitHub's
  workflow-dispatch endpoint, with the token read from Vault when the job ran: the test compares the
  recorded Authorization header with the Vault value inside the database, never reading it itself;
- worker (local's form): a row in `audit.requests`; the worker, woken by NOTIFY, runs `ssot audit
  --stack local --store` and the run appears in `audit.runs` linked to the request.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo as pg_conninfo

from ssot import localdb
from ssot.audit_schedule import AuditSchedule, Dispatch, job_command
from ssot.providers.cron_job import CronJobProvider
from ssot.store import migrate
from ssot.store.worker import child_runner, serve

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 75


@pytest.mark.slow
def test_pg_cron_fires_the_audit_schedule(pg: psycopg.Connection, db_conninfo: str, store: psycopg.Connection,
                                          store_dsn: str, local_db: localdb.LocalDb) -> None:
    migrate(store)
    secret_name = f"ssot_test_dispatch_{secrets.token_hex(4)}"
    pg.execute("SELECT vault.create_secret(%s, %s)", ("ghp_" + secrets.token_hex(18), secret_name))
    (before,) = pg.execute("SELECT coalesce(max(id), 0) FROM net.stand_in_requests").fetchone() or (0,)
    provider = CronJobProvider()
    suffix = secrets.token_hex(4)
    dispatch = AuditSchedule(None, "* * * * *",
                             dispatch=Dispatch("acme/platform", "ssot-audit.yml", "main", secret_name))
    worker = AuditSchedule(None, "* * * * *", worker=True)  # requests `ssot audit`
    store_db = str(pg_conninfo.conninfo_to_dict(store_dsn)["dbname"])
    for name, decl, database in ((f"ssot-audit-dispatch-{suffix}", dispatch, None),
                                 (f"ssot-audit-worker-{suffix}", worker, store_db)):
        inputs = provider.check({}, {"conninfo": db_conninfo, "name": name, "schedule": decl.schedule,
                                     "command": job_command(decl, "local"),
                                     **({"database": database} if database else {})})
        assert not inputs.failures
        provider.create(inputs.inputs)

    handled: list[int] = []
    thread = threading.Thread(target=lambda: handled.append(serve(
        ROOT, env={**os.environ, "SSOT_STORE_DSN": store_dsn}, max_requests=1, poll_seconds=5,
        runner=child_runner(["--local-db", "--datadir", str(local_db.datadir)]))), daemon=True)
    thread.start()

    deadline = time.monotonic() + WAIT_S
    sent = run = None
    while time.monotonic() < deadline and not (sent and run):
        sent = sent or pg.execute(
            "SELECT url, headers->>'Authorization' = 'Bearer ' || (SELECT decrypted_secret FROM "
            "vault.decrypted_secrets WHERE name = %s) FROM net.stand_in_requests WHERE id > %s "
            "AND body->'inputs'->>'stack' = 'local' ORDER BY id LIMIT 1", (secret_name, before)).fetchone()
        run = run or store.execute(
            "SELECT r.command, r.stack, q.requested_by, q.exit_code = r.exit_code FROM audit.runs r "
            "JOIN audit.requests q ON q.id = r.request_id WHERE q.state IN ('done', 'failed')").fetchone()
        time.sleep(1)
    details = pg.execute("SELECT j.jobname, d.status, d.return_message FROM cron.job_run_details d "
                         "JOIN cron.job j USING (jobid) WHERE j.jobname LIKE %s", (f"%{suffix}",)).fetchall()
    assert sent, f"the dispatch job did not run within {WAIT_S} s: {details}"
    assert sent == ("https://api.github.com/repos/acme/platform/actions/workflows/ssot-audit.yml/dispatches", True)
    # Stored whatever its verdict (this cluster has no auditor set up, so the audit says incomplete).
    assert run == ("audit", "local", "pg_cron", True), f"worker run missing: {details}"
    thread.join(timeout=30)
    assert handled == [1]
