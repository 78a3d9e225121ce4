"""Benchmark of the live Postgres audit: the `postgres` source plus drift, against the floor.

A throwaway PostgreSQL 15 + pg_cron cluster is filled with a large live estate: 10,000 Vault secrets,
50,000 grants (10 roles x 5,000 tables in 10 schemas, each table's ACL holding all ten), 1,000 pg_cron
jobs; the auditor's access is set up as `ssot db auditor` does. Then, each in a fresh child process
(so that peak memory, its own ru_maxrss, is not mixed with another's), median of three runs:

- floor: the same catalog queries, run directly as the auditor (connect, SET ROLE, execute, fetchall),
  with no ssot logic;
- ssot:  `ssot.sources.live.postgres.collect` (the same queries, plus building the inventory:
  normalised grants, fingerprints checked, cron commands scanned for literals) and the drift rule over
  it and a declared inventory of the same size (every secret, job and grant declared), plus its summary;
- audit: the whole `ssot audit --state FILE --local-db --source postgres --format json --output FILE`
  through the CLI, with a `pulumi stack export` of that declaration (Vault fingerprints recorded as the
  provider records them): state parsing, the source, every rule, drift, suppressions and the report.

    .venv/bin/python bench/bench_audit.py [--secrets 10000] [--tables 5000] [--roles 10] [--jobs 1000]

Aim: ssot <= 2 x floor wall time, < 500 MB. Results in bench/results/audit.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

AUDITOR = "ssot_auditor"
KEY = "bench-fingerprint-key-0123456789abcdef"
SCHEMAS = 10


def _platform(tmp: Path) -> Any:
    import yaml

    from ssot.model import load_platform

    path = tmp / "stacks" / "Pulumi.bench.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"config": {"ssot:platform": {
        "name": "bench", "database": {"local": True}, "roles": [{"name": AUDITOR, "kind": "auditor"}]}}}))
    return load_platform(path, stack="bench", strict=False)


def write_state(path: Path, n_secrets: int, n_jobs: int, n_roles: int) -> None:
    """A `pulumi stack export` of the same declaration (what `ssot audit --state` reads in CD)."""
    from ssot.fingerprint import fingerprint

    def res(type_: str, name: str, inputs: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"urn": f"urn:pulumi:bench::bench::{type_}::{name}", "type": type_, "custom": True,
                "inputs": inputs, "outputs": outputs or inputs}

    key = KEY.encode()
    resources = [res("pulumi-python:dynamic/ssot:VaultSecret", f"vault-bench_secret_{i}",
                     {"name": f"bench_secret_{i}", "description": "bench"},
                     {"name": f"bench_secret_{i}", "description": "bench",
                      "fingerprint": fingerprint(f"{_md5(i)}{_md5(i * 7)}", key)})
                 for i in range(1, n_secrets + 1)]
    resources += [res("pulumi-python:dynamic/ssot:CronJob", f"cron-bench-job-{i}",
                      {"name": f"bench-job-{i}", "schedule": f"{i % 60} * * * *", "command": f"select {i}"})
                  for i in range(1, n_jobs + 1)]
    resources += [res("postgresql:index/grant:Grant", f"grant-bench_role_{r}-bench_{s}",
                      {"role": f"bench_role_{r}", "schema": f"bench_{s}", "objectType": "table",
                       "privileges": ["SELECT"], "database": "postgres"})
                  for r in range(n_roles) for s in range(SCHEMAS)]
    path.write_text(json.dumps({"deployment": {"resources": resources}}))


def _md5(i: int) -> str:
    import hashlib

    return hashlib.md5(str(i).encode()).hexdigest()  # noqa: S324 - the seeded values, as in populate


def populate(db: Any, n_secrets: int, n_tables: int, n_roles: int, n_jobs: int) -> None:
    import psycopg

    from ssot import auditor_setup

    per_schema = n_tables // SCHEMAS
    with psycopg.connect(db.conninfo(), autocommit=True) as conn:
        for r in range(n_roles):
            conn.execute(f"CREATE ROLE bench_role_{r} NOLOGIN")
        for s in range(SCHEMAS):
            conn.execute(f"CREATE SCHEMA bench_{s}")
            conn.execute(f"DO $$BEGIN FOR i IN 1..{per_schema} LOOP "
                         f"EXECUTE format('CREATE TABLE bench_{s}.t_%s (id int, payload text)', i); END LOOP; END$$")
            for r in range(n_roles):
                conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA bench_{s} TO bench_role_{r}")
        conn.execute("SELECT vault.create_secret(md5(i::text) || md5((i * 7)::text), 'bench_secret_' || i, "
                     "'bench') FROM generate_series(1, %s) i", (n_secrets,))
        conn.execute("SELECT cron.schedule('bench-job-' || i, (i %% 60) || ' * * * *', 'select ' || i) "
                     "FROM generate_series(1, %s) i", (n_jobs,))
        auditor_setup.apply(conn, AUDITOR, KEY)


def floor_queries(conninfo: str) -> int:
    """The floor: the postgres source's catalog queries, run directly as the auditor, rows fetched and dropped."""
    import psycopg
    from psycopg import sql

    from ssot.sources.live import postgres as source

    rows = 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(AUDITOR)))
        for r in source.READS:
            with conn.cursor() as cur:
                cur.execute(r.query.encode(), {"probe": source.PROBE} if "%(probe)s" in r.query else None)
                rows += len(cur.fetchall())
    return rows


def child(mode: str, datadir: Path, n_secrets: int, n_jobs: int, n_roles: int) -> dict[str, Any]:
    os.environ["SSOT_FINGERPRINT_KEY"] = KEY

    from ssot import localdb
    from ssot.sources.live import SourceContext
    from ssot.sources.live import postgres as source

    st = localdb.status(datadir)
    assert st.port is not None and st.pid is not None
    db = localdb.LocalDb(datadir=st.datadir, port=st.port, pid=st.pid)
    tmp = Path(tempfile.mkdtemp(prefix="ssot-bench-audit-"))
    try:
        platform = _platform(tmp)
        if mode == "audit":
            # The whole `ssot audit --state FILE --local-db --source postgres --format json`, report included.
            from ssot.cli import main as cli

            state = tmp / "state.json"
            write_state(state, n_secrets, n_jobs, n_roles)
            out = tmp / "report.json"
            t0 = time.perf_counter()
            code = cli(["audit", "--root", str(tmp), "--stack", "bench", "--local-db", "--datadir", str(datadir),
                        "--state", str(state), "--source", "postgres", "--format", "json", "--output", str(out)])
            wall = time.perf_counter() - t0
            doc = json.loads(out.read_text())
            assert not doc["incomplete"], doc["incomplete"]
            detail: dict[str, Any] = {"exit": code, "findings": len(doc["findings"]),
                                      "drift": doc["audit"]["drift"]}
        elif mode == "floor":
            t0 = time.perf_counter()
            rows = floor_queries(db.conninfo())
            wall = time.perf_counter() - t0
            detail = {"rows": rows}
        else:
            from ssot.inventory import Asset, Inventory, Kind, Phase, Store
            from ssot.rules.drift import RULE, summary

            # the declared side: every secret, job and "all tables" grant, built before the clock starts
            declared = [Asset(Kind.VAULT_SECRET, Store.VAULT, f"bench_secret_{i}", Phase.DECLARED,
                              props={"description": "bench"}) for i in range(1, n_secrets + 1)]
            declared += [Asset(Kind.CRON_JOB, Store.POSTGRES, f"bench-job-{i}", Phase.DECLARED,
                               props={"schedule": f"{i % 60} * * * *", "command": f"select {i}", "active": True})
                         for i in range(1, n_jobs + 1)]
            declared += [Asset(Kind.GRANT, Store.POSTGRES, f"bench_role_{r}:table:bench_{s}", Phase.DECLARED,
                               props={"role": f"bench_role_{r}", "schema": f"bench_{s}", "object_type": "table",
                                      "objects": ["*"], "privileges": ["SELECT"]})
                         for r in range(n_roles) for s in range(SCHEMAS)]
            t0 = time.perf_counter()
            res = source.collect(platform, SourceContext(env={}, root=str(tmp), datadir=str(datadir), timeout=300))
            assert not res.gaps, [g.describe() for g in res.gaps]
            combined = Inventory(declared, phases={Phase.DECLARED, Phase.LIVE})
            combined.merge(res.inventory)
            findings = list(RULE.run(combined))
            s = summary(combined, findings)
            wall = time.perf_counter() - t0
            detail = {"assets": len(res.inventory), "read": res.read, "drift": {k: s[k] for k in
                      ("declared", "in_sync", "missing", "changed", "unmanaged")}}
        return {"wall_s": round(wall, 3),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), **detail}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--secrets", type=int, default=10_000)
    p.add_argument("--tables", type=int, default=5_000)
    p.add_argument("--roles", type=int, default=10)
    p.add_argument("--jobs", type=int, default=1_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--child", choices=("floor", "ssot", "audit"))
    p.add_argument("--datadir", type=Path)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.datadir, args.secrets, args.jobs, args.roles)))
        return 0

    from ssot import localdb

    base = Path(tempfile.mkdtemp(prefix="ssot-bench-audit-", dir="/tmp"))
    base.chmod(0o755)
    try:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        db = localdb.start(base / "pgdata", port=port)
        t0 = time.perf_counter()
        populate(db, args.secrets, args.tables, args.roles, args.jobs)
        setup_s = time.perf_counter() - t0
        runs: dict[str, list[dict[str, Any]]] = {"floor": [], "ssot": [], "audit": []}
        for _ in range(args.runs):
            for mode in ("floor", "ssot", "audit"):
                out = subprocess.run([sys.executable, __file__, "--child", mode, "--datadir", str(db.datadir),
                                      "--secrets", str(args.secrets), "--jobs", str(args.jobs),
                                      "--roles", str(args.roles)],
                                     capture_output=True, text=True, check=True)
                runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {m: statistics.median(r["wall_s"] for r in rs) for m, rs in runs.items()}
        mem = {m: max(r["peak_rss_mb"] for r in rs) for m, rs in runs.items()}
        result = {
            "benchmark": "live Postgres audit: postgres source + drift vs the same catalog queries alone",
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "estate": {"vault_secrets": args.secrets, "tables": args.tables, "roles": args.roles,
                       "grants": args.tables * args.roles, "cron_jobs": args.jobs, "setup_s": round(setup_s, 1)},
            "floor": {"wall_s_median": med["floor"], "peak_rss_mb": mem["floor"], "runs": runs["floor"]},
            "ssot": {"wall_s_median": med["ssot"], "peak_rss_mb": mem["ssot"], "runs": runs["ssot"]},
            "ssot_audit_cli": {"wall_s_median": med["audit"], "peak_rss_mb": mem["audit"], "runs": runs["audit"]},
            "ratio_wall": round(med["ssot"] / med["floor"], 2) if med["floor"] else None,
            "ratio_wall_cli": round(med["audit"] / med["floor"], 2) if med["floor"] else None,
            "aim": "ssot <= 2 x floor, < 500 MB",
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "audit.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({k: result[k] for k in ("estate", "ratio_wall", "ratio_wall_cli")}, indent=1))
        print(f"floor {med['floor']:.2f} s, {mem['floor']} MB; source+drift {med['ssot']:.2f} s, {mem['ssot']} MB; "
              f"ssot audit {med['audit']:.2f} s, {mem['audit']} MB")
        return 0
    finally:
        try:
            localdb.stop(base / "pgdata")
        finally:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
