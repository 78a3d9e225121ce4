"""Pathological inputs for ssot's own scanners: each doubled in size several times, timed, so the
results show whether a parser stays linear (a ratio near 2 per doubling) or not (near 4).

    .venv/bin/python bench/bench_pathological.py [--max-mb 2] [--out bench/results/pathological.json]

The inputs are the ones issue 7 found quadratic (open `cron.schedule(` and `create table t (` calls,
45,000 Odoo cron rows) and their kin found while fixing them (lines of spaces in a crontab, repeated
`ssot: justified` markers, XML text in many pieces, thousands of crons created from Python, a line
of unclosed inline ignores), plus YAML alias bombs and deep nesting, which must be refused at once.
Each input goes through the whole static scan of a one-file repository (`collect_static`, checkov
off), then the rules and the suppressions, as `ssot scan --no-checkov` would, and the largest size
is also run under tracemalloc for its peak memory. Wall and CPU time are both recorded.
Numbers go to bench/results/pathological.json and a table to pathological.md.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ssot import suppressions  # noqa: E402
from ssot.errors import ConfigError  # noqa: E402
from ssot.pipeline import scan  # noqa: E402
from ssot.yamlpos import load_yaml  # noqa: E402

MANIFEST = "{'name': 'A', 'data': ['data/ir_cron.csv', 'data/cron.xml']}\n"
Case = Callable[[int], dict[str, str]]
# A made-up AWS access key id, assembled so that this file itself holds no key-shaped literal.
FAKE_AWS_KEY = "AKIA" + "Z7Q4MX2PLK9WT3RB"


def _repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


CASES: dict[str, Case] = {
    "sql: open `select cron.schedule(` calls": lambda n: {"m.sql": _repeat("select cron.schedule(", n)},
    "sql: open `create table t (` calls": lambda n: {"m.sql": _repeat("create table t (", n)},
    "sql: cron.schedule with open quotes": lambda n: {"m.sql": _repeat("select cron.schedule('x', $a$", n)},
    "sql: well-formed cron.schedule calls": lambda n: {
        "m.sql": _repeat("select cron.schedule('j', '*/5 * * * *', $$select 1$$);\n", n)},
    "odoo csv: ir_cron rows": lambda n: {
        "addons/a/__manifest__.py": MANIFEST,
        "addons/a/data/ir_cron.csv": "id,name,model_id:id,code,interval_number,interval_type\n" + "".join(
            f"c{i},Cron {i},model_res_partner,model._run(),1,days\n" for i in range(max(1, n // 45)))},
    "odoo xml: a field's text in many pieces": lambda n: {
        "addons/a/__manifest__.py": MANIFEST,
        "addons/a/data/cron.xml": "<odoo><record id='c' model='ir.cron'><field name='code'>"
                                  + _repeat("x&amp;\n", n) + "</field></record></odoo>\n"},
    "odoo python: crons created from code": lambda n: {
        "addons/a/__manifest__.py": MANIFEST,
        "addons/a/models/m.py": "".join(f"env['ir.cron'].create({{'code': f(x{i})}})\n"
                                        for i in range(max(1, n // 40)))},
    "crontab: a line of spaces": lambda n: {"ops/crontab": "* * * * * a" + " " * n + "b\n"},
    "workflow: repeated `ssot: justified` markers": lambda n: {
        ".github/workflows/w.yml": "# " + _repeat("ssot: justified ", n) + "\non: push\n"},
    "detectors: one long line of key-like text": lambda n: {"a.txt": _repeat("api_key=AKIA", n)},
    "inline ignore: a secret's line of unclosed `ssot: ignore[`": lambda n: {
        "a.py": f'aws_access_key_id = "{FAKE_AWS_KEY}"  # ' + _repeat("ssot: ignore[", n) + "\n"},
}

def _laughs(n: int) -> str:
    levels = max(1, n.bit_length() - 8)
    out = ["l0: &l0 [x,x,x,x,x,x,x,x,x]\n"]
    for i in range(1, levels + 1):
        out.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n")
    return "".join(out)


YAML_CASES: dict[str, Callable[[int], str]] = {
    "yaml: billion laughs (levels of 9 aliases)": _laughs,
    "yaml: nested sequences": lambda n: "a: " + "[" * min(n, 900) + "]" * min(n, 900) + "\n",
}


def _tree(files: dict[str, str]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="ssot-bench-patho-"))
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def _time_scan(files: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of the scan. Seven engineers share this machine's two cores: the wall
    clock's ratios follow their load, the process's CPU time follows the algorithm."""
    root = _tree(files)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        _scan(root)
        return time.perf_counter() - t0, time.process_time() - c0
    finally:
        shutil.rmtree(root)


def _scan(root: Path) -> None:
    """`ssot scan --no-checkov` up to its report: the scan, then the suppressions and inline ignores."""
    findings = scan(root, use_checkov=False).findings
    suppressions.apply(findings, root=root, today=datetime.date(2025, 1, 1))


def _peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return round(peak / 1e6, 1)


def _staging_cost(files: int = 2000, size: int = 28_000) -> dict[str, float]:
    """What safety costs before checkov starts: the walk (an open and fstat per file) and the private
    copy checkov reads instead of the tree, for 2,000 files of 28 KB (56 MB, as bench_scan.py)."""
    from ssot.sources._repo import walk
    from ssot.sources.static import stage

    root = Path(tempfile.mkdtemp(prefix="ssot-bench-stage-"))
    dest = Path(tempfile.mkdtemp(prefix="ssot-bench-staged-"))
    try:
        line = "value = 'lorem ipsum dolor sit amet consectetur adipiscing elit'\n"
        body = line * (size // len(line))
        for i in range(files):
            d = root / f"pkg{i % 40}"
            d.mkdir(exist_ok=True)
            (d / f"m{i}.py").write_text(body)
        t0 = time.perf_counter()
        found, _ = walk(root)
        t1 = time.perf_counter()
        stage(found, dest)
        t2 = time.perf_counter()
        return {"files": files, "mb": round(files * len(body) / 1e6, 1), "walk_s": round(t1 - t0, 3),
                "staging_copy_s": round(t2 - t1, 3)}
    finally:
        shutil.rmtree(root)
        shutil.rmtree(dest)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--max-mb", type=float, default=2.0, help="largest input size (default: 2 MB)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pathological.json")
    args = ap.parse_args()
    top = int(args.max_mb * 1_000_000)
    sizes = [top >> k for k in range(4, -1, -1)]  # five sizes, each double the one before
    results: dict[str, object] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                                  "sizes_bytes": sizes, "cases": {}}
    cases: dict[str, object] = {}
    for name, make in CASES.items():
        timed = [_time_scan(make(n)) for n in sizes]
        times = [round(wall, 3) for wall, _ in timed]
        cpu = [round(c, 3) for _, c in timed]
        ratios = [round(b / a, 2) if a > 0.01 else None for a, b in itertools.pairwise(times)]
        cpu_ratios = [round(b / a, 2) if a > 0.01 else None for a, b in itertools.pairwise(cpu)]
        root = _tree(make(sizes[-1]))
        try:
            peak = _peak_mb(lambda root=root: _scan(root))  # type: ignore[misc]
        finally:
            shutil.rmtree(root)
        cases[name] = {"seconds": times, "ratio_per_doubling": ratios, "cpu_seconds": cpu,
                       "cpu_ratio_per_doubling": cpu_ratios, "peak_mb_at_largest": peak}
        print(f"{name:48s} {times} ratios {ratios} cpu {cpu} cpu ratios {cpu_ratios} peak {peak} MB",
              flush=True)
    for name, make_yaml in YAML_CASES.items():
        times = []
        outcome = ""
        for n in sizes:
            text = make_yaml(n)
            t0 = time.perf_counter()
            try:
                load_yaml("bench.yaml", text=text)
                outcome = "loaded"
            except ConfigError as exc:
                outcome = "refused: " + exc.issues[0].expected
            times.append(round(time.perf_counter() - t0, 4))
        cases[name] = {"seconds": times, "outcome_at_largest": outcome}
        print(f"{name:48s} {times} {outcome}", flush=True)
    results["cases"] = cases
    results["walk_and_checkov_staging"] = _staging_cost()
    print("walk and staging copy:", results["walk_and_checkov_staging"], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    lines = ["| input | " + " | ".join(f"{s / 1e6:.2f} MB" for s in sizes)
             + " | ratio per doubling | CPU seconds | CPU ratio per doubling |",
             "|---|" + "---|" * len(sizes) + "---|---|---|"]
    for name, r in cases.items():
        assert isinstance(r, dict)
        ratio = r.get("ratio_per_doubling") or [r.get("outcome_at_largest")]
        lines.append(f"| {name} | " + " | ".join(f"{t:.3f} s" for t in r["seconds"]) + f" | {ratio} | "
                     f"{r.get('cpu_seconds', '')} | {r.get('cpu_ratio_per_doubling', '')} |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
