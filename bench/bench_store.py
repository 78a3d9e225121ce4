"""Benchmark of `--store` and the HTML report at scale, against a real throwaway PostgreSQL 15.

    .venv/bin/python bench/bench_store.py [--findings 10000] [--writers 4] [--out bench/results/store.json]

Measures, on a fresh database: applying the migrations; storing a first run of N findings; storing a
second run where 10% of them are gone (resolved) and 10% are new (upserts + resolution); W concurrent
runs of the same scope each storing N/W findings (all serialized by the scope lock); reading the
trend; rendering the HTML report of N findings (size and time). Every timing is the median of three.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import conninfo as pg_conninfo  # noqa: E402
from psycopg import sql  # noqa: E402

from ssot import localdb  # noqa: E402
from ssot.findings import Finding, Severity  # noqa: E402
from ssot.inventory import Location, Phase  # noqa: E402
from ssot.reporters import Report, render  # noqa: E402
from ssot.rules import all_rules  # noqa: E402
from ssot.store import migrate, recent_runs, store_run  # noqa: E402
from ssot.store.writer import RunRecord  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SEVERITIES = list(Severity)


def findings(ids: range) -> list[Finding]:
    return [Finding(rule_id="hardcoded_secret", title="Secret hardcoded", severity=SEVERITIES[i % 5], clause="§4",
                    explain=f"A literal credential in src/module_{i}.py at line {i % 300}.",
                    propose="Move it to Vault: vault.create_secret(...) and read it at run time.",
                    location=Location(path=f"src/module_{i}.py", line=i % 300 + 1), subject=f"src/module_{i}.py:k",
                    phase=Phase.STATIC, metadata={"detector": "generic", "line_hint": i % 300})
            for i in ids]


def report(fs: list[Finding]) -> Report:
    return Report(command="scan", target="bench", findings=fs, rules=all_rules())


def record(minute: int, scope: str = "scan:bench") -> RunRecord:
    start = T0 + timedelta(minutes=minute)
    return RunRecord(command="scan", scope=scope, target="bench", started_at=start, finished_at=start)


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_db(admin: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return pg_conninfo.make_conninfo(admin, dbname=name)


def one_round(admin: str, n: int, writers: int, k: int) -> dict[str, float]:
    dsn = fresh_db(admin, f"bench_store_{k}")
    out: dict[str, float] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        out["migrate_s"] = timed(lambda: migrate(conn))
        first = findings(range(n))
        out["first_run_s"] = timed(lambda: store_run(conn, report(first), record(0)))
        tenth = n // 10
        second = findings(range(tenth, n + tenth))  # 10% gone, 10% new
        out["second_run_s"] = timed(lambda: store_run(conn, report(second), record(10)))
        resolved = conn.execute("SELECT count(*) FROM audit.findings WHERE resolved_at IS NOT NULL").fetchone()
        assert resolved == (tenth,), resolved
        out["trend_read_s"] = timed(lambda: recent_runs(conn, "scan:bench"))

    def writer(i: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as c:
            part = findings(range(n * 2 + i * (n // writers), n * 2 + (i + 1) * (n // writers)))
            store_run(c, report(part), record(20 + i, scope="scan:parallel"))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    out["parallel_runs_s"] = time.perf_counter() - t
    with psycopg.connect(dsn, autocommit=True) as conn:
        got = conn.execute("SELECT count(*), count(DISTINCT key) FROM audit.findings WHERE scope = 'scan:parallel'"
                           ).fetchone()
        assert got == ((n // writers) * writers,) * 2, got
        out["table_mib"] = round(int(conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'audit' AND c.relkind = 'r'").fetchone()[0]) / 2**20, 1)  # type: ignore[index]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=10_000)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "store.json")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="ssot-bench-store-", dir="/tmp"))
    base.chmod(0o755)
    try:
        db = localdb.start(base / "pgdata", port=free_port())
        rounds = [one_round(db.conninfo(), args.findings, args.writers, k) for k in range(3)]
    finally:
        localdb.stop(base / "pgdata")
        shutil.rmtree(base, ignore_errors=True)
    med = {key: round(statistics.median(r[key] for r in rounds), 3) for key in rounds[0]}
    big = report(findings(range(args.findings)))
    big.history = [{"started_at": (T0 + timedelta(hours=i)).isoformat(), "complete": True, "verdict": "fail",
                    "critical": i, "high": 2 * i, "medium": 3, "low": 1, "info": 0} for i in range(30)]
    html_times = []
    for _ in range(3):
        t = time.perf_counter()
        page = render(big, "html")
        html_times.append(time.perf_counter() - t)
    result = {
        "benchmark": "ssot --store (audit schema) and the HTML report",
        "findings_per_run": args.findings,
        "concurrent_writers": args.writers,
        **med,
        "findings_per_second_first_run": round(args.findings / med["first_run_s"]),
        "html_render_s": round(statistics.median(html_times), 3),
        "html_mib": round(len(page.encode()) / 2**20, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
