"""Benchmark: loading the platform model and running the Pulumi program under the mock runtime.

Generates stacks of growing size (schemas, roles, grants, Vault secrets, pg_cron jobs in the
proportions of the largest: 200 schemas, 500 roles, 5,000 Vault secrets, 1,000 cron jobs, plus a
grant per role), then, each size in a fresh process so peak memory is its own, measures the wall
time and peak RSS of (a) loading and validating the model, (b) running the real `__main__.py`
under Pulumi's mock runtime (which includes (a)).

    .venv/bin/python bench/bench_program.py [--sizes 500,2000,5000,full] [--out bench/results/program.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FULL = {"schemas": 200, "roles": 500, "vault": 5000, "cron": 1000}


def generate(n_resources: int | None) -> dict:
    """A stack with about n_resources resources (None: the full large stack)."""
    full_total = FULL["schemas"] + FULL["roles"] * 2 + FULL["vault"] + FULL["cron"]
    scale = 1.0 if n_resources is None else n_resources / full_total
    n = {k: max(1, round(v * scale)) for k, v in FULL.items()}
    domains = ["ops", "ai", "audit", "analytics", "shadow"]
    schemas = [{"name": f"s{i:04d}", "domain": domains[i % 5]} for i in range(n["schemas"])]
    kinds = ["agent", "automation", "auditor", "service"]
    roles = [{"name": f"r{i:04d}", "kind": kinds[i % 4]} for i in range(n["roles"])]
    grants = [{"role": f"r{i:04d}", "schema": f"s{i % n['schemas']:04d}", "on": "table",
               "privileges": ["SELECT"]} for i in range(n["roles"])]
    cats = ["github-app", "api-key", "webhook", "scheduler", "agent"]
    vault = [{"name": f"secret_{i:05d}", "category": cats[i % 5], "value": {"generate": {"bytes": 32}}}
             for i in range(n["vault"])]
    cron = [{"name": f"job-{i:04d}", "schedule": f"{i % 60} * * * *", "command": f"select {i}"}
            for i in range(n["cron"])]
    return {"config": {"ssot:platform": {
        "name": "bench", "database": {"local": True}, "extensions": ["pgcrypto", "pg_cron"],
        "schemas": schemas, "roles": roles, "grants": grants, "vault": {"secrets": vault},
        "cron": {"jobs": cron}}}}


def child(root: Path, what: str) -> None:
    """Runs in a fresh process: one measurement, printed as JSON."""
    sys.path.insert(0, str(ROOT))
    t0, c0 = time.perf_counter(), time.process_time()
    if what == "model":
        from ssot.model import load_platform

        platform = load_platform(root / "stacks" / "Pulumi.bench.yaml")
        count = platform.resource_count
    else:
        from ssot.mockrun import run_stack

        run = run_stack(root, "bench")
        count = len([r for r in run.resources if r.custom])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # CPU time as well as wall time: on these shared machines the wall clock also measures the
    # neighbours, and comparing two versions of the runner needs the part that is ours.
    print(json.dumps({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "peak_rss_mb": round(peak_mb, 1),
                      "resources": count}))


def measure(size: int | None, what: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="ssot-bench-") as tmp:
        root = Path(tmp)
        (root / "stacks").mkdir()
        (root / "stacks" / "Pulumi.bench.yaml").write_text(yaml.safe_dump(generate(size), sort_keys=False))
        shutil.copy(ROOT / "__main__.py", root / "__main__.py")
        (root / "Pulumi.yaml").write_text("name: ssot-bench\nruntime: python\nstackConfigDir: stacks\n")
        out = subprocess.run([sys.executable, __file__, "--child", str(root), what], check=True,
                             capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        return json.loads(out.stdout.strip().splitlines()[-1])


def _median(runs: list[dict]) -> dict:
    """The run with the median wall time (this machine's timings vary by ±15% run to run)."""
    return sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="500,2000,5000,full")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "program.json")
    ap.add_argument("--repeat", type=int, default=3, help="runs per size; the median is reported")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return
    rows = []
    baseline_mb = json.loads(subprocess.run(
        [sys.executable, "-c", "import json,resource,pulumi,pulumi_postgresql,psycopg,ssot.mockrun;"
         "print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024))"],
        check=True, capture_output=True, text=True, cwd=ROOT).stdout)
    for token in args.sizes.split(","):
        size = None if token == "full" else int(token)
        models = [measure(size, "model") for _ in range(args.repeat)]
        programs = [measure(size, "program") for _ in range(args.repeat)]
        model, program = _median(models), _median(programs)
        row = {"requested": token, "resources": program["resources"], "model": model, "program": program,
               "program_wall_s_all": [p["wall_s"] for p in programs],
               "program_cpu_s_all": [p["cpu_s"] for p in programs]}
        rows.append(row)
        print(f"{token:>6}: {program['resources']:>5} resources  model {model['wall_s']:6.2f} s "
              f"{model['peak_rss_mb']:6.0f} MB   program {program['wall_s']:6.2f} s (cpu {program['cpu_s']:.2f} s) "
              f"{program['peak_rss_mb']:6.0f} MB"
              f"   (runs: {', '.join(str(p['wall_s']) for p in programs)})",
              flush=True)
    result = {"benchmark": "model load and Pulumi program under the mock runtime",
              "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
              "import_baseline_rss_mb": round(baseline_mb, 1), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
