"""Benchmark of `ssot scan --history` on a generated repository with 10,000 commits.

The repository is written with `git fast-import` (fast, deterministic): 300 files under a few
directories; each commit rewrites one or two of them; every 500th commit plants a secret that a later
commit removes, and a few stay in HEAD. Measured in a fresh child process: the whole history scan
(distinct blobs read once), with the numbers of commits, blobs and secrets. Results:
`bench/results/history.json`, `history.md`.

    .venv/bin/python bench/bench_history.py [--commits 10000] [--files 300]
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

_WORDS = "invoice partner account move line tax journal payment amount currency sync report".split()


def _secret(rng: random.Random) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "sb_secret_" + "".join(rng.choice(alphabet) for _ in range(34))


def _content(rng: random.Random, path: str, n: int) -> str:
    lines = [f"# {path} revision {n}"]
    lines += [f"{rng.choice(_WORDS)}_{i} = {rng.randint(0, 10**6)}  # {' '.join(rng.sample(_WORDS, 4))}"
              for i in range(rng.randint(15, 40))]
    return "\n".join(lines) + "\n"


def build(root: Path, commits: int, files: int) -> dict[str, Any]:
    rng = random.Random(11)  # synthetic content, not security
    paths = [f"{rng.choice(['app', 'ops', 'lib', 'addons/acme/models'])}/m{i:03d}.py" for i in range(files)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    out: list[bytes] = []
    planted: dict[str, int] = {}  # path -> commit that planted a secret still to be removed
    secrets = 0

    def blob(path: str, text: str) -> None:
        data = text.encode()
        out.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")

    for n in range(1, commits + 1):
        msg = f"change {n}\n".encode()
        ts = 1_600_000_000 + n * 60
        out.append(f"commit refs/heads/main\nauthor Bench <bench@example.test> {ts} +0000\n"
                   f"committer Bench <bench@example.test> {ts} +0000\ndata {len(msg)}\n".encode() + msg)
        if n == 1:
            for p in paths:
                blob(p, _content(rng, p, n))
            continue
        touched = rng.sample(paths, rng.choice((1, 1, 2)))
        for p in touched:
            text = _content(rng, p, n)
            if n % 500 == 0:
                text += f"SUPABASE_SECRET_KEY = '{_secret(rng)}'\n"
                planted[p] = n
                secrets += 1
            elif p in planted and n - planted[p] > 50 and n < commits - 2000:
                del planted[p]  # rewritten without the secret: removed from HEAD, still in history
            elif p in planted:
                text += "# keeps its secret line above in an earlier revision only\n"
            blob(p, text)
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input=b"".join(out), check=True)
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "main"], check=True)
    return {"commits": commits, "files": files, "secrets_planted": secrets}


def measure(root: Path) -> dict[str, Any]:
    from ssot.sources.history import collect_history

    t0 = time.perf_counter()
    inv, stats = collect_history(root)
    wall = time.perf_counter() - t0
    import resource

    return {"wall_s": round(wall, 3), "commits": stats.commits, "changes": stats.changes, "blobs": stats.blobs,
            "secrets": stats.secrets, "still_in_head": sum(1 for a in inv.assets if a.props["still_in_head"]),
            "incomplete": inv.incomplete,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=10_000)
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    tmp = Path(tempfile.mkdtemp(prefix="ssot-bench-history-"))
    try:
        root = tmp / "repo"
        t0 = time.perf_counter()
        repo = build(root, args.commits, args.files)
        repo["build_s"] = round(time.perf_counter() - t0, 1)
        proc = subprocess.run([sys.executable, __file__, "--measure", str(root)], capture_output=True, text=True,
                              check=True)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    machine = f"{os.cpu_count()} CPUs, {sys.platform}, load average {os.getloadavg()[0]:.1f} at start"
    data = {"machine": machine, "repository": repo, "history_scan": result}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "history.json").write_text(json.dumps(data, indent=2) + "\n")
    md = ["# `ssot scan --history` benchmark", "", f"Machine: {machine}.", "",
          f"A generated repository: {repo['commits']} commits over {repo['files']} files, "
          f"{repo['secrets_planted']} secrets planted (most removed later).", "",
          "| commits | file changes | distinct blobs scanned | secrets reported | still in HEAD | wall (s) | "
          "peak RSS (MB) |", "|---|---|---|---|---|---|---|",
          f"| {result['commits']} | {result['changes']} | {result['blobs']} | {result['secrets']} | "
          f"{result['still_in_head']} | {result['wall_s']} | {result['peak_rss_mb']} |", "",
          f"Incomplete: {result['incomplete'] or 'no'}."]
    (RESULTS / "history.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
