"""`ssot audit --store` on the example estate's seeded production: real drift stored where agents read it.

A cluster of its own, seeded by examples/estate/live/seed.py (deploy, auditor access, state export,
out-of-band drift). The audit stores its run and findings (drift with its kind) in a database of that
cluster; the estate's agent role reads them through the views only; the HTML report draws the drift;
a second audit after the drift is fixed resolves the drift findings. No Vault value reaches the tables
or the report.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from estate_readme import ESTATE, table
from pgtools import cluster_base, free_port
from psycopg import conninfo as pg_conninfo

from ssot import localdb
from ssot.cli import main

SEED = ESTATE / "live" / "seed.py"


@pytest.fixture(scope="module")
def estate() -> Iterator[tuple[localdb.LocalDb, str]]:
    with cluster_base() as base:
        db = localdb.start(base / "pgdata", port=free_port())
        with psycopg.connect(db.conninfo(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE ssot_store")
        yield db, pg_conninfo.make_conninfo(db.conninfo(), dbname="ssot_store")


def seed(db: localdb.LocalDb, state: Path, *extra: str) -> None:
    done = subprocess.run([sys.executable, str(SEED), "--datadir", str(db.datadir), "--state-out", str(state), *extra],
                          capture_output=True, text=True, check=False, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]


def audit(db: localdb.LocalDb, state: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> int:
    code = main(["audit", "--root", str(ESTATE), "--stack", "dev", "--local-db", "--datadir", str(db.datadir),
                 "--state", str(state), "--source", "postgres", "--store", "--format", "html", "--output", str(out)])
    capsys.readouterr()
    return code


def test_audit_findings_stored_for_agents_and_resolved_when_fixed(
        estate: tuple[localdb.LocalDb, str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    db, dsn = estate
    monkeypatch.setenv("SSOT_STORE_DSN", dsn)
    # The estate stack declares no fingerprintKey: the seeder (as `pulumi up`) and the audit are given
    # one key, as CD gives it (live/credentials.env); otherwise the keys differ and the audit says so.
    monkeypatch.setenv("SSOT_FINGERPRINT_KEY", "estate-fingerprint-key-not-a-secret")
    state = tmp_path / "state.json"
    seed(db, state)
    assert audit(db, state, tmp_path / "drift.html", capsys) == 1
    with psycopg.connect(dsn, autocommit=True) as conn:
        run = conn.execute("SELECT command, scope, stack, complete, verdict, sources_read FROM audit.runs").fetchone()
        assert run == ("audit", "audit:dev", "dev", True, "fail", ["pulumi state export", "postgres"])
        kinds: dict[str, int] = dict(conn.execute(
            "SELECT metadata->>'drift', count(*) FROM audit.findings WHERE rule_id = 'drift' GROUP BY 1").fetchall())
        # The estate README's live table is the oracle: its drift rows, by kind.
        planted = [r["subject"].split(":", 1)[0] for r in table("Live side")
                   if r["rule"] == "drift" and r["source"] == "postgres"]
        assert kinds == {k: planted.count(k) for k in set(planted)}
        # The estate's agent role reads the open findings, with STOP, EXPLAIN and PROPOSE, and nothing else.
        conn.execute("SET ROLE acme_agent")
        rows = conn.execute("SELECT rule_id, stop_severity, explain, propose FROM audit.open_findings").fetchall()
        assert len([r for r in rows if r[0] == "drift"]) == len(planted) and all(r[2] and r[3] for r in rows)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM audit.findings")
        conn.execute("RESET ROLE")
        blob = "\n".join(str(conn.execute(f"SELECT row_to_json(t)::text FROM audit.{t} t").fetchall())
                         for t in ("runs", "findings", "run_findings"))
    with psycopg.connect(db.conninfo(), autocommit=True) as conn:
        values = [str(r[0]) for r in conn.execute("SELECT decrypted_secret FROM vault.decrypted_secrets")]
    page = (tmp_path / "drift.html").read_text()
    assert len(values) == 4
    for v in values:
        assert v not in blob and v not in page
    drift_chart = page[page.index('<figure id="drift">'):]
    drift_chart = drift_chart[:drift_chart.index("</figure>")]
    assert all(k in drift_chart for k in ("missing", "changed", "unmanaged"))

    # Drift fixed (the state as deployed): the next complete audit resolves every drift finding. The
    # seeder recreates the estate's roles, so the store's grants to the old agent role go first.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP OWNED BY acme_agent")
    seed(db, state, "--no-drift")
    assert audit(db, state, tmp_path / "fixed.html", capsys) == 1  # the declaration's own violations remain
    with psycopg.connect(dsn, autocommit=True) as conn:
        states: dict[str, int] = dict(conn.execute(
            "SELECT state, count(*) FROM audit.finding_lifecycle WHERE rule_id = 'drift' GROUP BY 1").fetchall())
        assert states == {"resolved": len(planted)}
        assert conn.execute("SELECT count(*) FROM audit.run_history").fetchone() == (2,)
    assert "Trend over the last 2 stored runs" in (tmp_path / "fixed.html").read_text()
