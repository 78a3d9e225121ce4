"""Benchmark of `ssot scan --changed-since REF` on a pull request's worth of change: a 2,000-file
repository (bench_scan.py's generated tree, committed), then 20 files changed on a branch (two of
them gaining a secret). Measured in fresh child processes: the changed-since scan, and the whole
scan of the same tree for comparison. Results: `bench/results/changed.json`, `changed.md`.

    .venv/bin/python bench/bench_changed.py [--files 2000] [--mb 50] [--changed 20]

Target: the changed-since scan in under 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

_GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.test", "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.test"}


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
                          env={**os.environ, **_GIT_ENV}).stdout


def build(root: Path, files: int, mb: float, changed: int) -> dict[str, Any]:
    import random

    from bench_scan import _secret, generate

    gen = generate(root, files, mb)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    _git(root, "checkout", "-q", "-b", "pr")
    rng = random.Random(3)  # which files change: synthetic, not security
    tracked = sorted(p for p in _git(root, "ls-files").splitlines() if p.endswith((".py", ".yaml", ".sql")))
    picked = rng.sample(tracked, changed)
    for i, rel in enumerate(picked):
        with (root / rel).open("a", encoding="utf-8") as fh:
            fh.write(f"\n# change {i}\n" + (f"SUPABASE_SECRET_KEY = '{_secret(rng)}'\n" if i < 2 else ""))
    _git(root, "commit", "-qam", "a pull request")
    return {**gen, "changed_files": changed}


def measure(what: str, root: Path) -> dict[str, Any]:
    from ssot.pipeline import scan

    t0 = time.perf_counter()
    result = scan(root, changed_since="main") if what == "changed" else scan(root)
    wall = time.perf_counter() - t0
    return {"wall_s": round(wall, 3), "findings": len(result.findings),
            "incomplete": result.inventory.incomplete,
            "paths": sorted({f.location.path for f in result.findings if f.location.path})[:5]}


def _child(what: str, root: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--measure", what, "--root", str(root)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--mb", type=float, default=50.0)
    ap.add_argument("--changed", type=int, default=20)
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.root)))
        return
    tmp = Path(tempfile.mkdtemp(prefix="ssot-bench-changed-"))
    try:
        root = tmp / "repo"
        tree = build(root, args.files, args.mb, args.changed)
        machine = f"{os.cpu_count()} CPUs, {sys.platform}, load average {os.getloadavg()[0]:.1f} at start"
        data: dict[str, Any] = {"machine": machine, "tree": tree, "changed_since": _child("changed", root),
                                "whole": _child("whole", root)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "changed.json").write_text(json.dumps(data, indent=2) + "\n")
    c, w = data["changed_since"], data["whole"]
    md = ["# `ssot scan --changed-since` benchmark", "", f"Machine: {data['machine']}.", "",
          f"A {tree['files']}-file repository ({tree['bytes'] / 2**20:.1f} MB), {tree['changed_files']} files "
          "changed on a branch (two gain a secret).", "",
          "| scan | wall (s) | findings |", "|---|---|---|",
          f"| `--changed-since main` | {c['wall_s']} | {c['findings']} |",
          f"| whole tree | {w['wall_s']} | {w['findings']} |", "",
          f"Target: the changed-since scan under 3 s: {'ok' if c['wall_s'] < 3 else 'MISSED'}."]
    (RESULTS / "changed.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
