"""Benchmark of the live audit's external sources against their floor.

A large external estate: 2,000 AWS Secrets Manager secrets (+ 200 SSM parameters) in moto's server
mode, and 500 Odoo scheduled actions in the example's Odoo stand-in (XML-RPC, Odoo 17 field set), each
server in its own process. Measured, each in a fresh child process (so its peak RSS is its own), median
of three runs:

- `aws` / `odoo`: the live source (`SOURCE.collect`), everything it does;
- `aws-floor` / `odoo-floor`: the same API calls made directly, with no ssot logic (boto3 paginators
  and one get_secret_value per secret; the same execute_kw calls), results dropped.

Targets (issue 6): at most 2x the floor, under 500 MB. Results: bench/results/live_ext.json and .md.

    .venv/bin/python bench/bench_live_ext.py [--secrets 2000] [--crons 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LIVE = ROOT / "examples" / "estate" / "live"
sys.path.insert(0, str(ROOT))

REGION = "eu-central-1"
CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
PASSWORD = "bench-odoo-password-not-a-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def odoo_data(crons: int) -> dict[str, Any]:
    data = json.loads((LIVE / "odoo-data.json").read_text())
    models = data["models"]
    models["ir.cron"] = [
        {"id": i, "name": f"Bench cron {i}", "cron_name": f"Bench cron {i}", "model_id": [301, "Bench"],
         "model_name": "acme.sync.job", "state": "code", "code": f"model._cron_bench_{i}()",
         "active": i % 5 != 0, "interval_number": 1 + i % 12, "interval_type": "hours", "numbercall": -1,
         "doall": False, "nextcall": "2026-11-28 00:00:00", "priority": 5} for i in range(1, crons + 1)]
    models["ir.model.data"] = [{"id": 10_000 + i, "module": "acme_bench", "name": f"ir_cron_bench_{i}",
                                "model": "ir.cron", "res_id": i} for i in range(1, crons + 1)]
    models["ir.module.module"].append({"id": 99, "name": "acme_bench", "state": "installed", "author": "ACME"})
    data["users"][0]["password"] = PASSWORD
    return data


def seed_aws(url: str, n: int) -> None:
    import boto3

    sm = boto3.client("secretsmanager", endpoint_url=url, region_name=REGION, **CREDS)
    ssm = boto3.client("ssm", endpoint_url=url, region_name=REGION, **CREDS)

    def one(i: int) -> None:
        sm.create_secret(Name=f"bench/svc{i % 50}/secret_{i:05d}", SecretString=f"bench-value-{i:05d}-" + "x" * 40)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(n)))
        list(pool.map(lambda i: ssm.put_parameter(Name=f"/bench/app/param_{i:04d}", Value=f"v{i}",
                                                  Type="SecureString" if i % 2 else "String"), range(200)))


# --- measured work (in a child process) ---------------------------------------------------------------


def platform(aws_url: str, odoo_url: str) -> Any:
    import dataclasses

    from ssot.model import Audit, Aws, Odoo, SecretSource, Where, load_platform

    base = load_platform(ROOT / "examples" / "estate" / "stacks" / "Pulumi.dev.yaml", strict=False)
    where = Where("bench", None, "bench")
    return dataclasses.replace(
        base, project=None, aws=Aws(where, REGION, aws_url, "bench/", "/bench/"),
        odoo=Odoo(where, odoo_url, "acme-dev", "ssot-auditor", SecretSource("env", where, "X")),
        audit=Audit(where, odoo_credential_env="BENCH_ODOO_PASSWORD", timeout_seconds=60))


def run_source(which: str, aws_url: str, odoo_url: str) -> dict[str, Any]:
    from ssot.sources.live import SourceContext
    from ssot.sources.live import aws as aws_source
    from ssot.sources.live import odoo as odoo_source

    p = platform(aws_url, odoo_url)
    ctx = SourceContext(env={**{k.upper(): v for k, v in CREDS.items()}, "BENCH_ODOO_PASSWORD": PASSWORD,
                             "SSOT_FINGERPRINT_KEY": "bench-key"}, timeout=60)
    src = aws_source.SOURCE if which == "aws" else odoo_source.SOURCE
    start = time.perf_counter()
    result = src.collect(p, ctx)
    wall = time.perf_counter() - start
    assert result.complete, [g.describe() for g in result.gaps]
    return {"wall_s": wall, "assets": len(result.inventory), "read": result.read}


def run_aws_floor(aws_url: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 3})
    sm = boto3.client("secretsmanager", endpoint_url=aws_url, region_name=REGION, config=config, **CREDS)
    ssm = boto3.client("ssm", endpoint_url=aws_url, region_name=REGION, config=config, **CREDS)
    start = time.perf_counter()
    arns = [s["ARN"] for page in sm.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "name", "Values": ["bench/"]}], PaginationConfig={"PageSize": 100})
        for s in page["SecretList"]]
    for arn in arns:
        sm.get_secret_value(SecretId=arn)
    params = sum(len(page["Parameters"]) for page in ssm.get_paginator("get_parameters_by_path").paginate(
        Path="/bench/", Recursive=True, WithDecryption=True, PaginationConfig={"PageSize": 10}))
    return {"wall_s": time.perf_counter() - start, "secrets": len(arns), "parameters": params}


def run_odoo_floor(odoo_url: str) -> dict[str, Any]:
    import xmlrpc.client

    start = time.perf_counter()
    common = xmlrpc.client.ServerProxy(f"{odoo_url}/xmlrpc/2/common", allow_none=True)
    obj = xmlrpc.client.ServerProxy(f"{odoo_url}/xmlrpc/2/object", allow_none=True)
    uid = common.authenticate("acme-dev", "ssot-auditor", PASSWORD, {})

    def call(model: str, method: str, args: list[Any], kw: dict[str, Any] | None = None) -> Any:
        return obj.execute_kw("acme-dev", uid, PASSWORD, model, method, args, kw or {})

    call("ir.model", "search_read", [[["model", "in", ["ir.cron", "queue.job"]]], ["model"]])
    call("ir.cron", "fields_get", [], {"attributes": ["type"]})
    crons = call("ir.cron", "search_read", [[], ["cron_name", "name", "model_name", "model_id", "code", "state",
                                                  "interval_number", "interval_type", "active", "numbercall",
                                                  "doall", "nextcall"]], {"context": {"active_test": False}})
    ids = [c["id"] for c in crons]
    call("ir.model.data", "search_read", [[["model", "=", "ir.cron"], ["res_id", "in", ids]],
                                          ["module", "name", "res_id"]])
    call("ir.module.module", "search_read", [[["name", "in", ["acme_bench", "base"]]], ["name", "author"]])
    call("ir.module.module", "search_read", [[["name", "in", ["queue_job"]], ["state", "=", "installed"]],
                                             ["name", "state"]])
    call("queue.job", "read_group", [[], ["model_name", "method_name"], ["model_name", "method_name"]],
         {"lazy": False})
    call("ir.config_parameter", "search_read", [["|", ["key", "ilike", "secret"], ["key", "ilike", "token"]],
                                                ["key", "value"]])
    call("ir.mail_server", "search_count", [[["smtp_pass", "!=", False]]])
    call("payment.provider", "fields_get", [], {"attributes": ["type"]})
    call("payment.provider", "search_count", [[["stripe_secret_key", "!=", False]]])
    call("ir.model.fields", "search_read", [["|", ["name", "ilike", "embedding"], ["name", "ilike", "memory"]],
                                            ["model", "name", "ttype", "state"]])
    return {"wall_s": time.perf_counter() - start, "crons": len(crons)}


def child(which: str, aws_url: str, odoo_url: str) -> None:
    if which in ("aws", "odoo"):
        out = run_source(which, aws_url, odoo_url)
    elif which == "aws-floor":
        out = run_aws_floor(aws_url)
    else:
        out = run_odoo_floor(odoo_url)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


def measure(which: str, aws_url: str, odoo_url: str, runs: int) -> dict[str, Any]:
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, __file__, "--child", which, aws_url, odoo_url], check=True,
                             capture_output=True, text=True, cwd=ROOT)
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    walls = [s["wall_s"] for s in samples]
    best = samples[walls.index(statistics.median(walls))] if runs % 2 else samples[0]
    return {**best, "wall_s": round(statistics.median(walls), 3), "wall_s_runs": [round(w, 3) for w in walls],
            "peak_rss_mb": max(s["peak_rss_mb"] for s in samples)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--secrets", type=int, default=2000)
    ap.add_argument("--crons", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--child", nargs=3)
    ns = ap.parse_args()
    if ns.child:
        child(*ns.child)
        return
    bindir = Path(sys.executable).parent
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            moto_port, odoo_port = free_port(), free_port()
            procs.append(subprocess.Popen([str(bindir / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            data = Path(tmp) / "odoo.json"
            data.write_text(json.dumps(odoo_data(ns.crons)))
            procs.append(subprocess.Popen([sys.executable, str(LIVE / "odoo_standin.py"), "--data", str(data),
                                           "--port", str(odoo_port)], stdout=subprocess.DEVNULL))
            wait_port(moto_port)
            wait_port(odoo_port)
            aws_url, odoo_url = f"http://127.0.0.1:{moto_port}", f"http://127.0.0.1:{odoo_port}"
            t = time.perf_counter()
            seed_aws(aws_url, ns.secrets)
            print(f"seeded {ns.secrets} secrets in {time.perf_counter() - t:.1f}s", file=sys.stderr)
            results = {w: measure(w, aws_url, odoo_url, ns.runs) for w in ("aws-floor", "aws", "odoo-floor", "odoo")}
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=10)
    ratio = {"aws": round(results["aws"]["wall_s"] / results["aws-floor"]["wall_s"], 2),
             "odoo": round(results["odoo"]["wall_s"] / results["odoo-floor"]["wall_s"], 2)}
    machine = f"{os.cpu_count()} CPUs, {sys.platform}"
    report: dict[str, Any] = {
        "machine": machine, "python": sys.version.split()[0],
        "estate": {"aws_secrets": ns.secrets, "ssm_parameters": 200, "odoo_crons": ns.crons, "runs": ns.runs},
        "results": results,
        "ratio": ratio,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "live_ext.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = ["# Live audit, external sources: benchmark", "",
             f"{ns.secrets} AWS secrets + 200 SSM parameters (moto server mode), {ns.crons} Odoo crons "
             f"(stand-in, XML-RPC); median of {ns.runs} runs, each in a fresh process; {machine}.", "",
             "| measurement | wall (s) | peak RSS (MB) | vs floor |", "|---|---|---|---|"]
    for w, r in results.items():
        vs = "" if w.endswith("floor") else f"{ratio[w]}x"
        lines.append(f"| {w} | {r['wall_s']} | {r['peak_rss_mb']} | {vs} |")
    (RESULTS / "live_ext.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
