"""What printing safely costs, and the SQL grant parser on pathological input.

    .venv/bin/python bench/bench_output.py [--findings 2000] [--out bench/results/output.json]

1. A report of N findings (file names and explanations with a hostile character here and there) is
   rendered in every format, then passed through the output guard (`ssot.outguard.withhold`, one
   pass of the format-aware detectors). Both are timed separately, median of 3.
2. `ssot.sources.sql_grants.sql_grants` over inputs built to make a careless parser quadratic
   (no `;`, a keyword every few characters, one statement of 100,000 names), at two sizes: linear
   time shows as the same MB/s at both.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ssot.findings import Severity  # noqa: E402
from ssot.inventory import Location, Phase  # noqa: E402
from ssot.outguard import withhold  # noqa: E402
from ssot.reporters import FORMATS, Report, render  # noqa: E402
from ssot.rules import Rule  # noqa: E402
from ssot.sources.sql_grants import sql_grants  # noqa: E402


def _median(fn: Callable[[], object], n: int = 3) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _report(n: int) -> Report:
    rule = Rule(id="hardcoded_secret", title="t", clause="§4 Secret Management", severity=Severity.HIGH,
                categories=("secrets",), phases=frozenset(Phase), risk="r", remediation="m", check=lambda i: [])
    findings = []
    for i in range(n):
        name = f"src/module_{i}/file_{i}.py" + ("\n\x1b[2J\u202e" if i % 10 == 0 else "")
        findings.append(rule.finding(subject=f"file:{name}", explain=f"A token is hardcoded at {name}:{i}. " * 3,
                                     propose="platform:\n  vault:\n    secrets:\n      - name: x\n" * 2,
                                     location=Location(path=name, line=i + 1), phase=Phase.STATIC))
    return Report(command="scan", target="bench", findings=findings, rules=(rule,))


def bench_reports(n: int) -> dict[str, object]:
    report = _report(n)
    out: dict[str, object] = {}
    for fmt in FORMATS:
        text = render(report, fmt)
        out[fmt] = {"chars": len(text), "render_s": round(_median(partial(render, report, fmt)), 4),
                    "guard_s": round(_median(partial(withhold, text)), 4)}
    return out


PATHOLOGICAL: dict[str, Callable[[int], str]] = {
    "grant-no-semicolon": lambda k: "grant select on " * k,
    "keyword-every-6-chars": lambda k: "grant " * k,
    "commented-grants": lambda k: "-- grant\n" * k,
    "one-statement-many-names": lambda k: "grant select on " + "a," * k + "b to anon;",
    "many-real-statements": lambda k: "grant select on all tables in schema audit to anon;\n" * (k // 8),
}


def bench_sql(sizes: tuple[int, ...] = (50_000, 200_000)) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, make in PATHOLOGICAL.items():
        rows = []
        for k in sizes:
            text = make(k)
            secs = _median(partial(sql_grants, text, "bench.sql"))
            rows.append({"bytes": len(text), "seconds": round(secs, 4),
                         "mb_per_s": round(len(text) / 1e6 / secs, 2) if secs else None})
        out[name] = rows
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "output.json")
    args = ap.parse_args()
    result = {"machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
              "findings": args.findings, "reports": bench_reports(args.findings), "sql_grants": bench_sql()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
