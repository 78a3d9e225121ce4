"""Benchmark of the static scan: checkov alone as the scan runs it (the IaC frameworks the tree has
files for), our detectors alone, the whole `collect_static` (checkov running concurrently with our
scanners), on a generated 2,000-file tree (~50 MB: Python, YAML, JSON, SQL, XML, Markdown, a few
GitHub workflows, Kubernetes manifests, a Dockerfile and a Terraform file, with a few secrets and
traps) and on `examples/estate`.
`--checkov-secrets` also measures checkov's (opt-in) secrets framework and the scan with it.

The numbers before checkov's secrets framework became opt-in are kept in
`bench/results/scan_before.json` (same generator, same machine kind) and shown beside the new ones.

Each measurement runs in a fresh child process of this script, so that its peak memory (its own
`ru_maxrss`, plus `RUSAGE_CHILDREN` for checkov) is not mixed with another's. Results go to
`bench/results/scan.json` and `bench/results/scan.md`.

    .venv/bin/python bench/bench_scan.py [--files 2000] [--mb 50] [--keep DIR]

Targets: our detectors >= 20 MB/s; the whole scan of the 2,000-file tree <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ESTATE = ROOT / "examples" / "estate"
sys.path.insert(0, str(ROOT))

_WORDS = ("invoice partner account move line tax journal payment amount currency company analytic "
          "vault secret cron schedule sync push pull report export import refresh view table schema "
          "grant role agent memory embedding vector summary audit finding drift status shadow ops").split()


def _rand_words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def _py(rng: random.Random, i: int) -> str:
    out = [f'"""Module {i}: {_rand_words(rng, 8)}."""', "", "import os", "", ""]
    for j in range(rng.randint(20, 40)):
        name = "_".join(rng.choice(_WORDS) for _ in range(2))
        out += [f"def {name}_{j}(value, limit={rng.randint(1, 999)}):",
                f'    """{_rand_words(rng, 10)}."""',
                f"    total = sum(x * {rng.random():.4f} for x in range(limit))",
                f"    token = os.environ.get('{name.upper()}_TOKEN')",
                f"    return {{'name': '{name}', 'total': total, 'note': '{_rand_words(rng, 6)}'}}", ""]
    return "\n".join(out) + "\n"


def _yaml(rng: random.Random, i: int) -> str:
    out = [f"name: service-{i}", "settings:"]
    for j in range(rng.randint(40, 80)):
        out.append(f"  {rng.choice(_WORDS)}_{j}: \"{_rand_words(rng, 5)}\"")
    out += ["secrets:", "  api_key: ${{ secrets.API_KEY }}", "  db_url: ${DATABASE_URL}"]
    return "\n".join(out) + "\n"


def _json(rng: random.Random, i: int) -> str:
    rows = [{"id": j, "partner": _rand_words(rng, 2), "amount": round(rng.random() * 1e4, 2),
             "note": _rand_words(rng, 8)} for j in range(rng.randint(60, 120))]
    return json.dumps({"file": i, "rows": rows}, indent=2) + "\n"


def _sql(rng: random.Random, i: int) -> str:
    out = [f"-- migration {i}: {_rand_words(rng, 6)}", f"create schema if not exists analytics_{i % 7};"]
    for j in range(rng.randint(20, 40)):
        out.append(f"create table if not exists analytics_{i % 7}.{rng.choice(_WORDS)}_{j} "
                   f"(id bigint primary key, {rng.choice(_WORDS)} text, amount numeric(12,2));")
        out.append(f"insert into analytics_{i % 7}.{rng.choice(_WORDS)}_{j} values ({j}, "
                   f"'{_rand_words(rng, 4)}', {rng.random() * 100:.2f});")
    return "\n".join(out) + "\n"


def _xml(rng: random.Random, i: int) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>', "<odoo>"]
    for j in range(rng.randint(20, 40)):
        out += [f'  <record id="view_{i}_{j}" model="ir.ui.view">',
                f'    <field name="name">{_rand_words(rng, 3)}</field>',
                f'    <field name="arch" type="xml"><tree><field name="{rng.choice(_WORDS)}"/></tree></field>',
                "  </record>"]
    return "\n".join([*out, "</odoo>"]) + "\n"


def _md(rng: random.Random, i: int) -> str:
    paras = [_rand_words(rng, rng.randint(40, 90)) + "." for _ in range(rng.randint(15, 30))]
    return f"# Notes {i}\n\n" + "\n\n".join(paras) + "\n"


_GEN = {"py": _py, "yaml": _yaml, "json": _json, "sql": _sql, "xml": _xml, "md": _md}


def _secret(rng: random.Random, prefix: str = "sb_secret_", n: int = 34) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return prefix + "".join(rng.choice(alphabet) for _ in range(n))


_WORKFLOW = ("name: job-{i}\non:\n  push:\n  schedule:\n    - cron: '0 {i} * * *'\njobs:\n  run:\n"
             "    runs-on: ubuntu-latest\n    steps:\n      - run: echo {i}\n")
_CRONJOB = ("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: report-{i}\nspec:\n"
            "  schedule: '30 {i} * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
            "          containers:\n            - name: r\n              image: busybox\n"
            "          restartPolicy: OnFailure\n")
_DOCKERFILE = "FROM debian:12\nCOPY jobs.cron /etc/cron.d/jobs-{i}\nCMD [\"cron\", \"-f\"]\n"
_TERRAFORM = ('provider "aws" {{\n  region = "eu-central-1"\n}}\n'
              'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "b{i}"\n}}\n')


def generate(dest: Path, files: int, target_mb: float, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)  # synthetic content, not security
    dest.mkdir(parents=True, exist_ok=True)
    per_file = target_mb * 1024 * 1024 / files
    kinds = list(_GEN)
    total = 0
    planted = 0
    for i in range(files):
        kind = kinds[i % len(kinds)]
        text = _GEN[kind](rng, i)
        # pad with more of the same kind until the file reaches its share of the target size
        while len(text) < per_file * rng.uniform(0.6, 1.4):
            text += _GEN[kind](rng, i)
        if i % 97 == 0:  # a few real-looking secrets
            text += f"\nSUPABASE_SECRET_KEY = '{_secret(rng)}'\n"
            planted += 1
        if i % 89 == 0:  # traps that must stay quiet
            text += ("\nanon = 'sb_publishable_" + _secret(rng, "", 24) + "'\n"
                     "password = 'changeme'\nkey = '${{ secrets.SUPABASE_SECRET_KEY }}'\n")
        sub = dest / f"{kind}/{i // 100:02d}"
        if i < 3:  # IaC that checkov's frameworks and ssot's custom checks have work in
            sub, kind, text = dest / ".github" / "workflows", "yml", _WORKFLOW.format(i=i)
        elif i < 5:
            sub, kind, text = dest / "k8s", "yaml", _CRONJOB.format(i=i)
        elif i == 5:  # checkov's Dockerfile and Terraform frameworks (their doctrine checks) run too
            sub, kind, text = dest / "docker", "Dockerfile", _DOCKERFILE.format(i=i)
        elif i == 6:
            sub, kind, text = dest / "infra", "tf", _TERRAFORM.format(i=i)
        sub.mkdir(parents=True, exist_ok=True)
        p = sub / f"f{i:04d}.{kind}"
        p.write_text(text, encoding="utf-8")
        total += len(text.encode())
    return {"files": files, "bytes": total, "planted_secrets": planted}


# --- measurements (each in its own child process) ----------------------------------------------


def _tree_bytes(root: Path) -> tuple[int, int]:
    n = size = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", "node_modules") and not d.startswith(".venv")]
        for f in filenames:
            n += 1
            size += (Path(dirpath) / f).stat().st_size
    return n, size


def measure(what: str, root: Path) -> dict[str, Any]:
    # Imports and the detectors' one-off set-up (regex compilation, plugin discovery) happen before
    # the clock starts: a CLI pays them once per process, not per megabyte.
    from ssot.detectors import scan_text
    from ssot.sources import checkov as ck
    from ssot.sources._repo import read_text, walk
    from ssot.sources.static import collect_static

    scan_text("warm-up sb_secret_ password = x", "warm-up")
    t0 = time.perf_counter()
    extra: dict[str, Any] = {}
    if what in ("checkov", "checkov_secrets"):
        exe = ck.find_checkov(ROOT)
        files, _ = walk(root)
        t0 = time.perf_counter()  # checkov only: the walk that chooses its frameworks is the scan's
        plan = ck.plan_for(((f.rel, f.path) for f in files), secrets=what == "checkov_secrets")
        extra["frameworks"] = list(plan.frameworks)
        extra["checkov_files"] = len(plan.files) or "whole tree"
        reports: list[dict[str, Any]] = []
        if plan.frameworks:  # as the scan does: nothing to run, checkov is not started
            cmd = ck.command(exe, root.resolve(), frameworks=plan.frameworks, files=plan.files)
            proc = subprocess.run(cmd, cwd=root, capture_output=True, env=ck._env(), check=False)
            reports = ck.parse_output(proc.stdout.decode(), proc.stderr.decode(), proc.returncode)
        extra["checkov_failed_checks"] = sum(len((r.get("results") or {}).get("failed_checks") or [])
                                             for r in reports)
    elif what == "detectors":
        files, _ = walk(root)
        t0 = time.perf_counter()  # detectors only: the walk is not theirs
        found = 0
        scanned = 0
        for f in files:
            text = read_text(f)
            if text is None:
                continue
            scanned += len(text.encode())
            found += len(scan_text(text, f.rel))
        extra.update(matches=found, scanned_bytes=scanned)
    elif what in ("static", "static_secrets"):
        inv = collect_static(root, checkov_secrets=what == "static_secrets")
        extra.update(assets=len(inv.assets), incomplete=inv.incomplete,
                     by_kind={k.value: sum(1 for a in inv.assets if a.kind is k)
                              for k in {a.kind for a in inv.assets}})
    else:
        raise SystemExit(f"unknown measurement {what!r}")
    wall = time.perf_counter() - t0
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"wall_s": round(wall, 3), "peak_rss_self_mb": round(self_rss / 1024, 1),
            "peak_rss_children_mb": round(child_rss / 1024, 1), **extra}


def _run_child(what: str, root: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--measure", what, "--root", str(root)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"measurement {what} on {root} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def bench_tree(label: str, root: Path, secrets: bool = False) -> dict[str, Any]:
    n, size = _tree_bytes(root)
    res: dict[str, Any] = {"label": label, "files": n, "bytes": size, "mb": round(size / 2**20, 2)}
    for what in ("checkov", "detectors", "static", *(("checkov_secrets", "static_secrets") if secrets else ())):
        print(f"[{label}] {what} ...", file=sys.stderr, flush=True)
        res[what] = _run_child(what, root)
    det = res["detectors"]
    res["detectors_mb_per_s"] = round(det["scanned_bytes"] / 2**20 / det["wall_s"], 1) if det["wall_s"] else None
    return res


def _markdown(data: dict[str, Any]) -> str:
    before = {r["label"]: r for r in json.loads((RESULTS / "scan_before.json").read_text())["trees"]}
    lines = ["# Static scan benchmark", "",
             f"Machine: {data['machine']}; checkov {data['checkov_version']}; Python {data['python']}.", "",
             "| tree | files | MB | before: whole scan, checkov secrets + IaC (s) | now: whole scan (s) | "
             "speed-up | now: checkov alone, frameworks (s) | our detectors (s) | detectors MB/s | "
             "whole peak RSS self / children (MB) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in data["trees"]:
        c, d, s = r["checkov"], r["detectors"], r["static"]
        old = before.get(r["label"], {}).get("static", {}).get("wall_s")
        speedup = f"{old / s['wall_s']:.0f}x" if old and s["wall_s"] else "-"
        lines.append(f"| {r['label']} | {r['files']} | {r['mb']} | {old if old is not None else '-'} | "
                     f"{s['wall_s']} | {speedup} | {c['wall_s']} ({', '.join(c['frameworks']) or 'not run'}) | "
                     f"{d['wall_s']} | {r['detectors_mb_per_s']} | {s['peak_rss_self_mb']} / "
                     f"{s['peak_rss_children_mb']} |")
    lines += ["", "Targets: detectors >= 20 MB/s; the whole scan of the generated tree <= 10 s.", "",
              "checkov runs only the IaC frameworks the tree has files for (GitHub workflows, Kubernetes-style "
              "manifests, Kubernetes objects, Dockerfiles, Terraform) with ssot's doctrine checks; its secrets "
              "framework is opt-in (`ssot scan "
              "--checkov-secrets`). The whole scan starts checkov after the walk and runs our scanners while "
              "it works.", ""]
    for r in data["trees"]:
        # Below 1 MB the detectors' time is per-file overhead, not throughput: no verdict on MB/s.
        rate = r["detectors_mb_per_s"] or 0
        verdict = "n/a, tree too small" if r["bytes"] < 2**20 else ("ok" if rate >= 20 else "MISSED")
        whole = r["static"]["wall_s"]
        lines.append(f"- {r['label']}: detectors {rate} MB/s ({verdict}), whole scan {whole} s "
                     f"({'ok' if whole <= 10 else 'MISSED'}); assets {r['static'].get('assets')}, "
                     f"incomplete {r['static'].get('incomplete')}")
        for what in ("checkov_secrets", "static_secrets"):
            if what in r:
                lines.append(f"  - with `--checkov-secrets`: {what} {r[what]['wall_s']} s")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--mb", type=float, default=50.0)
    ap.add_argument("--keep", type=Path, help="generate the tree here and keep it")
    ap.add_argument("--report-only", action="store_true", help="re-render scan.md from scan.json")
    ap.add_argument("--checkov-secrets", action="store_true", help="also measure checkov's secrets framework")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.root)))
        return
    if args.report_only:
        (RESULTS / "scan.md").write_text(_markdown(json.loads((RESULTS / "scan.json").read_text())))
        return
    from ssot.sources import checkov as ck

    tmp = Path(tempfile.mkdtemp(prefix="ssot-bench-"))
    tree = args.keep or tmp / "tree"
    try:
        gen = generate(tree, args.files, args.mb)
        version = subprocess.run([ck.find_checkov(ROOT), "--version"], capture_output=True, text=True,
                                 check=False).stdout.strip()
        machine = f"{os.cpu_count()} CPUs, {sys.platform}, load average {os.getloadavg()[0]:.1f} at start"
        data = {"machine": machine, "python": sys.version.split()[0],
                "checkov_version": version, "generated": gen,
                "trees": [bench_tree(f"generated ({args.files} files)", tree, args.checkov_secrets),
                          bench_tree("examples/estate", ESTATE, args.checkov_secrets)]}
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scan.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / "scan.md").write_text(_markdown(data))
    print(_markdown(data))


if __name__ == "__main__":
    main()
