"""bench/bench_audit_all.py at a toy size, so that the whole live audit's benchmark cannot rot: every
system seeded and started, the floor and `ssot audit` each run once, the results written (to a
temporary directory, never over bench/results)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mgmt_api_server import require_spec

ROOT = Path(__file__).resolve().parents[1]


def test_bench_audit_all_runs_at_a_toy_size(tmp_path: Path) -> None:
    require_spec()
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_audit_all.py"), "--scale", "0.001",
                           "--runs", "1", "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    r = json.loads((tmp_path / "audit_all.json").read_text())
    e = r["estate"]
    assert (e["vault_secrets"], e["grants"], e["cron_jobs"], e["aws_secrets"], e["odoo_crons"]) == (10, 100, 1, 2, 1)

    # The audit read every system, all of what was seeded, and found the declared Postgres side in sync.
    [audit] = r["audit"]["runs"]
    sources = audit["sources"]
    assert {s: v["status"] for s, v in sources.items()} == dict.fromkeys(("aws", "odoo", "postgres", "supabase_api"),
                                                                          "read")
    assert sources["postgres"]["read"]["vault fingerprints"] == e["vault_secrets"]
    assert sources["postgres"]["read"]["cron.job"] == e["cron_jobs"]
    assert sources["aws"]["read"]["secretsmanager:values"] == e["aws_secrets"]
    assert sources["odoo"]["read"]["ir.cron"] == e["odoo_crons"]
    assert sources["supabase_api"]["read"]["edge function secrets"] == e["edge_secrets"] + 1
    assert audit["drift"]["declared"] == audit["drift"]["in_sync"] == e["vault_secrets"] + e["cron_jobs"] + 100
    assert audit["exit"] in (0, 1) and audit["wall_s"] > 0 and audit["peak_rss_mb"] > 0

    # The floor made the same reads directly.
    [floor] = r["floor"]["runs"]
    assert (floor["aws_secrets"], floor["odoo_crons"], floor["edge_secrets"]) == (
        e["aws_secrets"], e["odoo_crons"], e["edge_secrets"] + 1)
    assert floor["pg_rows"] > e["vault_secrets"] + e["grants"]
    assert 0 < r["floor"]["work_s_median"] < r["floor"]["wall_s_median"]
    assert r["ratio_wall"] == round(r["audit"]["wall_s_median"] / r["floor"]["wall_s_median"], 2)
    assert len(r["machine"]["load_average_before"]) == 3

    md = (tmp_path / "audit_all.md").read_text()
    assert f"| `ssot audit` through the CLI (process) | {r['audit']['wall_s_median']} |" in md
