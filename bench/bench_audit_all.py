"""Benchmark of the whole live audit (issue 6): every source at once, against the floor, in one run.

A large live estate, each system really running on loopback:
- PostgreSQL 15 + pg_cron (a throwaway cluster, `ssot.localdb`): 10,000 Vault secrets, 50,000 grants
  (10 roles x 5,000 tables), 1,000 pg_cron jobs, the auditor's access as `ssot db auditor` sets it up
  (seeding: bench_audit.populate);
- AWS in moto's server mode: 2,000 Secrets Manager secrets + 200 SSM parameters (bench_live_ext.seed_aws);
- the Odoo stand-in (XML-RPC): 500 scheduled actions (bench_live_ext.odoo_data);
- the Supabase Management API stand-in (checked against the published OpenAPI document): the project
  and its Edge Function secrets.

Measured, median of three, each a fresh process whose wall time and peak RSS are taken from outside
(a wrapper process waits for it and reads `getrusage(RUSAGE_CHILDREN)`, the largest process of the tree):
- audit: the whole `ssot audit --state FILE --local-db --format json --output FILE` through the CLI,
  all four sources, every rule, drift against a `pulumi stack export` of the Postgres side, the report;
- floor: the same catalog queries and API calls made directly, with no ssot logic (psycopg as the
  auditor; boto3 paginators and one get_secret_value per secret; the same XML-RPC execute_kw calls;
  the same three Management API GETs with urllib), results dropped. Its work time is also reported
  (without the interpreter's start and imports), the stricter comparison.

The machine is shared: the load average is recorded before and after.

    .venv/bin/python bench/bench_audit_all.py [--scale 1.0] [--runs 3] [--out bench/results]

Aim: ssot <= 2 x floor wall time, < 500 MB. Results: bench/results/audit_all.json and audit_all.md.
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
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import bench_audit as pg  # noqa: E402 - the sibling benchmarks' seeding and floors, reused
import bench_live_ext as ext  # noqa: E402

PROJECT_REF = "benchauditallproject"  # 20 lowercase letters, as Supabase refs are
TOKEN = "sbp_bench_management_api_token_not_a_secret"
ENV = {"AWS_ACCESS_KEY_ID": ext.CREDS["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": ext.CREDS["aws_secret_access_key"],
       "BENCH_ODOO_PASSWORD": ext.PASSWORD, "BENCH_SUPABASE_TOKEN": TOKEN, "BENCH_DB_PASSWORD": "unused-locally",
       "SSOT_FINGERPRINT_KEY": pg.KEY}


def sizes(scale: float) -> dict[str, int]:
    def n(full: int, least: int = 1) -> int:
        return max(least, round(full * scale))

    return {"vault_secrets": n(10_000), "tables": n(5_000, pg.SCHEMAS), "roles": 10, "cron_jobs": n(1_000),
            "aws_secrets": n(2_000), "odoo_crons": n(500), "edge_secrets": n(50, 2)}


def stack_yaml(aws_url: str, odoo_url: str, api_url: str) -> dict[str, Any]:
    """The bench estate's stack: every live system declared, credentials named (never written)."""
    return {"config": {"ssot:platform": {
        "name": "bench",
        "project": {"name": "bench", "organizationId": "bench-org", "region": ext.REGION,
                    "dbPassword": {"env": "BENCH_DB_PASSWORD"}, "accessToken": {"env": "BENCH_SUPABASE_TOKEN"},
                    "apiUrl": api_url},
        "database": {"local": True},
        "roles": [{"name": pg.AUDITOR, "kind": "auditor"}],
        "odoo": {"url": odoo_url, "database": "acme-dev", "username": "ssot-auditor",
                 "password": {"env": "BENCH_ODOO_PASSWORD"}},
        "aws": {"region": ext.REGION, "endpointUrl": aws_url, "secretsPrefix": "bench/", "parametersPath": "/bench/"},
        "audit": {"supabase": {"tokenEnv": "BENCH_SUPABASE_TOKEN"},
                  "odoo": {"protocol": "xmlrpc", "credentialEnv": "BENCH_ODOO_PASSWORD"}, "timeoutSeconds": 120},
    }}}


def mgmt_data(n_edge: int) -> dict[str, Any]:
    secrets = {f"BENCH_EDGE_SECRET_{i:03d}": f"bench-edge-value-{i:03d}-not-a-secret" for i in range(n_edge)}
    secrets["SUPABASE_URL"] = f"https://{PROJECT_REF}.supabase.co"
    return {"token": TOKEN, "projects": [{"ref": PROJECT_REF, "name": "bench", "organization": "bench-org",
                                          "region": ext.REGION, "secrets": secrets}]}


# --- measured work (each in a fresh process) ----------------------------------------------------------


def mgmt_floor(api_url: str) -> int:
    """The Management API source's three GETs (list projects, the project, its secrets), bodies parsed."""
    def get(path: str) -> Any:
        req = urllib.request.Request(api_url + path, headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: S310
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - loopback http, ours
            return json.loads(resp.read())

    projects = get("/v1/projects")
    ref = next(p["ref"] for p in projects if p["name"] == "bench")
    get(f"/v1/projects/{ref}")
    return len(get(f"/v1/projects/{ref}/secrets"))


def floor(datadir: str, aws_url: str, odoo_url: str, api_url: str) -> dict[str, Any]:
    from ssot import localdb

    st = localdb.status(Path(datadir))
    assert st.port is not None and st.pid is not None
    # The superuser's conninfo holds the cluster's password: built here, never passed on a command line.
    conninfo = localdb.LocalDb(datadir=st.datadir, port=st.port, pid=st.pid).conninfo()
    t0 = time.perf_counter()
    out: dict[str, Any] = {"pg_rows": pg.floor_queries(conninfo)}
    t1 = time.perf_counter()
    aws = ext.run_aws_floor(aws_url)
    t2 = time.perf_counter()
    odoo = ext.run_odoo_floor(odoo_url)
    t3 = time.perf_counter()
    out["edge_secrets"] = mgmt_floor(api_url)
    t4 = time.perf_counter()
    out.update(aws_secrets=aws["secrets"], ssm_parameters=aws["parameters"], odoo_crons=odoo["crons"])
    out["work_s"] = {"postgres": round(t1 - t0, 3), "aws": round(t2 - t1, 3), "odoo": round(t3 - t2, 3),
                     "supabase_api": round(t4 - t3, 3), "total": round(t4 - t0, 3)}
    return out


def measure(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run cmd as a fresh process: wall time from outside, peak RSS of its tree (run from a wrapper
    process of its own, so that RUSAGE_CHILDREN holds this command only), its last stdout line."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = proc.stdout.strip().splitlines()
    return {"exit": proc.returncode, "wall_s": round(wall, 3), "peak_rss_mb": round(rss, 1),
            "stdout": lines[-1] if lines else "", "stderr": proc.stderr[-2000:]}


def run_once(mode: str, ns: argparse.Namespace) -> dict[str, Any]:
    """In the wrapper process: one measured run of `mode`."""
    env = {**os.environ, **ENV}
    if mode == "floor":
        m = measure([sys.executable, __file__, "--floor", ns.datadir, ns.aws, ns.odoo, ns.api], env)
        if m["exit"] != 0:
            raise SystemExit(f"floor failed ({m['exit']}): {m['stderr']}")
        detail = json.loads(m["stdout"])
        return {"wall_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"], **detail}
    report = Path(ns.tmp) / "report.json"
    m = measure([str(Path(sys.executable).parent / "ssot"), "audit", "--root", ns.tmp, "--stack", "bench",
                 "--local-db", "--datadir", ns.datadir, "--state", str(Path(ns.tmp) / "state.json"),
                 "--format", "json", "--output", str(report)], env)
    if m["exit"] not in (0, 1):
        raise SystemExit(f"ssot audit exited {m['exit']}: {m['stderr']}")
    doc = json.loads(report.read_text())
    if doc["incomplete"]:
        raise SystemExit(f"ssot audit was incomplete: {doc['incomplete']}")
    drift = doc["audit"]["drift"]
    return {"wall_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"], "exit": m["exit"],
            "findings": len(doc["findings"]),
            "sources": {s["source"]: {"status": s["status"], "read": s["read"]} for s in doc["audit"]["sources"]},
            "drift": {k: drift[k] for k in ("declared", "in_sync", "missing", "changed", "unmanaged")}}


# --- the estate ---------------------------------------------------------------------------------------


def start(cmd: list[str], port: int, procs: list[subprocess.Popen[bytes]]) -> None:
    procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    ext.wait_port(port)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the full estate (1.0: issue 6's sizes)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where the results are written")
    ap.add_argument("--floor", nargs=4, metavar=("DATADIR", "AWS", "ODOO", "API"), help=argparse.SUPPRESS)
    ap.add_argument("--run", choices=("floor", "audit"), help=argparse.SUPPRESS)
    for opt in ("aws", "odoo", "api", "tmp", "datadir"):
        ap.add_argument(f"--{opt}", help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.floor:
        print(json.dumps(floor(*ns.floor)))
        return 0
    if ns.run:
        print(json.dumps(run_once(ns.run, ns)))
        return 0

    from ssot import localdb

    size = sizes(ns.scale)
    load_before = loadavg()
    base = Path(tempfile.mkdtemp(prefix="ssot-bench-audit-all-", dir="/tmp"))
    base.chmod(0o755)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        import yaml

        db = localdb.start(base / "pgdata", port=ext.free_port())
        moto_port, odoo_port, api_port = ext.free_port(), ext.free_port(), ext.free_port()
        start([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
              moto_port, procs)
        (base / "odoo.json").write_text(json.dumps(ext.odoo_data(size["odoo_crons"])))
        start([sys.executable, str(ext.LIVE / "odoo_standin.py"), "--data", str(base / "odoo.json"),
               "--port", str(odoo_port)], odoo_port, procs)
        (base / "mgmt.json").write_text(json.dumps(mgmt_data(size["edge_secrets"])))
        start([sys.executable, str(ext.LIVE / "mgmt_api_standin.py"), "--data", str(base / "mgmt.json"),
               "--port", str(api_port)], api_port, procs)
        urls = {"aws": f"http://127.0.0.1:{moto_port}", "odoo": f"http://127.0.0.1:{odoo_port}",
                "api": f"http://127.0.0.1:{api_port}"}

        t0 = time.perf_counter()
        pg.populate(db, size["vault_secrets"], size["tables"], size["roles"], size["cron_jobs"])
        t1 = time.perf_counter()
        ext.seed_aws(urls["aws"], size["aws_secrets"])
        t2 = time.perf_counter()
        project = base / "project"
        (project / "stacks").mkdir(parents=True)
        (project / "stacks" / "Pulumi.bench.yaml").write_text(
            yaml.safe_dump(stack_yaml(urls["aws"], urls["odoo"], urls["api"])))
        pg.write_state(project / "state.json", size["vault_secrets"], size["cron_jobs"], size["roles"])

        wrapper = [sys.executable, __file__, "--aws", urls["aws"], "--odoo", urls["odoo"], "--api", urls["api"],
                   "--tmp", str(project), "--datadir", str(db.datadir)]
        runs: dict[str, list[dict[str, Any]]] = {"floor": [], "audit": []}
        for _ in range(ns.runs):
            for mode in ("floor", "audit"):
                out = subprocess.run([*wrapper, "--run", mode], capture_output=True, text=True, cwd=ROOT)
                if out.returncode != 0:
                    raise SystemExit(f"{mode} run failed: {out.stderr[-3000:]}")
                runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        try:
            localdb.stop(base / "pgdata")
        finally:
            shutil.rmtree(base, ignore_errors=True)

    med = {m: statistics.median(r["wall_s"] for r in rs) for m, rs in runs.items()}
    mem = {m: max(r["peak_rss_mb"] for r in rs) for m, rs in runs.items()}
    floor_work = statistics.median(r["work_s"]["total"] for r in runs["floor"])
    result: dict[str, Any] = {
        "benchmark": "the whole `ssot audit` (postgres, aws, odoo, supabase_api) vs the same reads made directly",
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "load_average_before": load_before,
                    "load_average_after": loadavg()},
        "estate": {**size, "grants": size["tables"] * size["roles"], "ssm_parameters": 200, "scale": ns.scale,
                   "setup_s": {"postgres": round(t1 - t0, 1), "aws": round(t2 - t1, 1)}},
        "runs": ns.runs,
        "floor": {"wall_s_median": med["floor"], "work_s_median": floor_work, "peak_rss_mb": mem["floor"],
                  "runs": runs["floor"]},
        "audit": {"wall_s_median": med["audit"], "peak_rss_mb": mem["audit"], "runs": runs["audit"]},
        "ratio_wall": round(med["audit"] / med["floor"], 2),
        "ratio_vs_floor_work": round(med["audit"] / floor_work, 2),
        "aim": "ssot audit <= 2 x floor wall time, < 500 MB",
        "aim_met": med["audit"] <= 2 * med["floor"] and mem["audit"] < 500,
    }
    ns.out.mkdir(parents=True, exist_ok=True)
    (ns.out / "audit_all.json").write_text(json.dumps(result, indent=2) + "\n")
    (ns.out / "audit_all.md").write_text(markdown(result))
    print(markdown(result))
    return 0


def markdown(r: dict[str, Any]) -> str:
    e, m = r["estate"], r["machine"]
    work = r["floor"]["runs"][0]["work_s"]
    lines = [
        "# The whole live audit: benchmark (issue 6)", "",
        f"Estate: {e['vault_secrets']:,} Vault secrets, {e['grants']:,} grants ({e['tables']:,} tables x "
        f"{e['roles']} roles), {e['cron_jobs']:,} pg_cron jobs (PostgreSQL 15); {e['aws_secrets']:,} AWS secrets + "
        f"{e['ssm_parameters']} SSM parameters (moto, server mode); {e['odoo_crons']:,} Odoo crons (stand-in, "
        f"XML-RPC); {e['edge_secrets'] + 1} Edge Function secrets (Management API stand-in).", "",
        f"Machine: {m['cpus']} CPUs shared with other work; load average {m['load_average_before']} before, "
        f"{m['load_average_after']} after; Python {m['python']}. Median of {r['runs']} runs, each a fresh process.",
        "", "| measurement | wall (s) | peak RSS (MB) | vs floor |", "|---|---|---|---|",
        f"| floor: the same queries and API calls, no ssot logic (process) | {r['floor']['wall_s_median']} | "
        f"{r['floor']['peak_rss_mb']} | |",
        f"| floor: its work only (no interpreter start, no imports) | {r['floor']['work_s_median']} | | |",
        f"| `ssot audit` through the CLI (process) | {r['audit']['wall_s_median']} | {r['audit']['peak_rss_mb']} | "
        f"{r['ratio_wall']}x ({r['ratio_vs_floor_work']}x the work only) |", "",
        "Floor work by system (first run): " + ", ".join(f"{k} {v} s" for k, v in work.items() if k != "total") + ".",
        "", f"Aim: {r['aim']}: {'met' if r['aim_met'] else 'NOT met'}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
