"""`--store` through the CLI: parallel runs against the real database, canaries, safe error messages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from pgtools import free_port
from psycopg import conninfo as pg_conninfo

from ssot.store import migrations

CANARY_KEY = "sb_secret_CanaryStoreZq8Wm4Xt6Rv1Yb"


def repo(base: Path, planted: str) -> Path:
    root = base / "repo"
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / f"{planted}.py").write_text(f'KEY = "{CANARY_KEY}"\n')
    (root / "scripts" / "common.py").write_text('TOKEN = "sb_secret_SharedStoreQ1w2E3r4T5y6U7i8"\n')
    return root


def ssot(*argv: str, dsn: str | None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SSOT_STORE_DSN"}
    if dsn is not None:
        env["SSOT_STORE_DSN"] = dsn
    return subprocess.run([sys.executable, "-m", "ssot.cli", *argv], env=env, capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def dump(conn: psycopg.Connection) -> str:
    tables = [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'audit' AND c.relkind IN ('r', 'v') ORDER BY 1")]
    return "\n".join(str(conn.execute(f"SELECT row_to_json(t)::text FROM audit.{t} t").fetchall()) for t in tables)


def test_parallel_runs_lose_nothing_and_duplicate_nothing(tmp_path: Path, store_dsn: str) -> None:
    # Four runs of the same scope (`scan:repo`) on a fresh database: they also race to migrate it.
    roots = [repo(tmp_path / f"p{i}", f"planted_{i}") for i in range(4)]
    procs = [subprocess.Popen([sys.executable, "-m", "ssot.cli", "scan", str(r), "--no-checkov", "--store",
                               "--format", "json", "--output", str(r.parent / "report.json")],
                              env={**os.environ, "SSOT_STORE_DSN": store_dsn}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for r in roots]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [1, 1, 1, 1], results
    reports = [json.loads((r.parent / "report.json").read_text()) for r in roots]
    keys = [{f["key"] for f in rep["findings"]} for rep in reports]
    with psycopg.connect(store_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT scope) FROM audit.runs").fetchone() == (4, 1)
        stored = [r[0] for r in conn.execute("SELECT key FROM audit.findings")]
        assert sorted(stored) == sorted(set().union(*keys))  # every key, each once
        per_run = conn.execute("SELECT r.id, array_agg(f.key) FROM audit.runs r JOIN audit.run_findings rf "
                               "ON rf.run_id = r.id JOIN audit.findings f ON f.id = rf.finding_id GROUP BY r.id"
                               ).fetchall()
        assert sorted(sorted(k) for _, k in per_run) == sorted(sorted(k) for k in keys)
        # Whatever order they committed in: the finding every run saw is open, last seen is the latest
        # sighting, and a finding is resolved exactly when a run that started after its last sighting
        # did not see it.
        shared = set.intersection(*keys)
        assert shared <= {r[0] for r in conn.execute("SELECT key FROM audit.open_findings")}
        wrong = conn.execute("""
            SELECT f.key FROM audit.findings f
             WHERE f.last_seen_at IS DISTINCT FROM (SELECT max(r.started_at) FROM audit.run_findings rf
                                                     JOIN audit.runs r ON r.id = rf.run_id WHERE rf.finding_id = f.id)
                OR (f.resolved_at IS NOT NULL) <> EXISTS (
                       SELECT 1 FROM audit.runs r WHERE r.started_at > f.last_seen_at AND r.complete
                          AND NOT EXISTS (SELECT 1 FROM audit.run_findings rf
                                           WHERE rf.run_id = r.id AND rf.finding_id = f.id))""").fetchall()
        assert wrong == []
        assert conn.execute("SELECT count(*) FROM audit.schema_migrations").fetchone() == (len(migrations()),)


def test_no_secret_reaches_the_tables_or_the_output(tmp_path: Path, store_dsn: str) -> None:
    root = repo(tmp_path, "canary")
    done = ssot("scan", str(root), "--no-checkov", "--store", "--format", "markdown", dsn=store_dsn)
    assert done.returncode == 1, done.stderr
    assert re.search(r"stored as run \d+ of scope 'scan:repo' in audit\.runs", done.stderr)
    password = str(pg_conninfo.conninfo_to_dict(store_dsn)["password"])
    assert password and password not in done.stdout + done.stderr
    with psycopg.connect(store_dsn, autocommit=True) as conn:
        blob = dump(conn)
        assert "canary.py" in blob  # the planted secret was found and stored...
        for secret in (CANARY_KEY, CANARY_KEY[10:], str(password)):
            assert secret not in blob  # ...but never its value, nor the store's password
        run = conn.execute("SELECT command, scope, sources_read, complete, tool_version FROM audit.runs").fetchone()
        assert run == ("scan", "scan:repo", ["repository files", "stack files"], True, "0.1.0")


def test_store_failures_name_no_part_of_the_connection_string(tmp_path: Path) -> None:
    root = repo(tmp_path, "x")
    out = tmp_path / "report.json"
    dsn = (f"host=127.0.0.1 port={free_port()} user=canary_user_77 password=Canary-Dsn-Pw-9e1 "
           "dbname=canary_db_42 connect_timeout=3")
    done = ssot("scan", str(root), "--no-checkov", "--store", "--format", "json", "--output", str(out), dsn=dsn)
    assert done.returncode == 3  # the findings are real, but the run is not where agents read it
    assert "incomplete" in done.stderr and "SSOT_STORE_DSN" in done.stderr
    for part in ("canary_user_77", "Canary-Dsn-Pw-9e1", "canary_db_42", "127.0.0.1"):
        assert part not in done.stdout + done.stderr
    assert json.loads(out.read_text())["findings"]  # the report itself was still written


@pytest.mark.parametrize(("dsn", "code"), [(None, 2), ("", 2), ("host='unterminated password=Canary-Bad-Dsn-3", 2)])
def test_missing_or_malformed_dsn_is_bad_usage(tmp_path: Path, dsn: str | None, code: int) -> None:
    done = ssot("scan", str(repo(tmp_path, "x")), "--no-checkov", "--store", dsn=dsn)
    assert done.returncode == code
    assert "SSOT_STORE_DSN" in done.stderr and "Canary-Bad-Dsn" not in done.stderr + done.stdout


def test_preview_store_grants_the_stacks_agent_role(store_dsn: str) -> None:
    # The local stack declares ssot_agent (kind agent): after a stored preview it reads the views only.
    root = Path(__file__).resolve().parents[2]
    with psycopg.connect(store_dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'ssot_agent'").fetchone() is None:
            conn.execute("CREATE ROLE ssot_agent NOLOGIN")
    done = ssot("preview", "--stack", "local", "--store", dsn=store_dsn, cwd=root)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(store_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT command, scope, stack, complete FROM audit.runs").fetchone() == (
            "preview", "preview:local", "local", True)
        privs = conn.execute(
            "SELECT has_table_privilege('ssot_agent', 'audit.open_findings', 'SELECT'),"
            " has_table_privilege('ssot_agent', 'audit.findings', 'SELECT'),"
            " has_table_privilege('ssot_agent', 'audit.runs', 'INSERT')").fetchone()
        assert privs == (True, False, False)
        conn.execute("REVOKE ALL ON ALL TABLES IN SCHEMA audit FROM ssot_agent")
        conn.execute("REVOKE ALL ON SCHEMA audit FROM ssot_agent")


def test_html_report_draws_the_stored_trend(tmp_path: Path, store_dsn: str) -> None:
    root = repo(tmp_path, "x")
    for _ in range(2):
        done = ssot("scan", str(root), "--no-checkov", "--store", "--format", "json", "--also",
                    f"html={tmp_path / 'report.html'}", dsn=store_dsn)
        assert done.returncode == 1, done.stderr
    page = (tmp_path / "report.html").read_text()
    assert 'id="trend"' in page and "Trend over the last 2 stored runs" in page
    done = ssot("scan", str(root), "--no-checkov", "--format", "html", dsn=None)
    assert done.returncode == 1 and done.stdout.startswith("<!DOCTYPE html>") and 'id="trend"' not in done.stdout
