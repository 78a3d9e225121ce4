"""`ssot audit` of the whole example estate, every live source at once, through the CLI: the database
(its own PostgreSQL + pg_cron cluster, seeded by examples/estate/live/seed.py) and the external systems
(the example's stand-ins and moto, in-process on free ports; the estate's stack copied with those ports).
The oracle is the estate README's three live tables ("Live side", "Live: external systems", "Live: the
whole audit").
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from estate_readme import ESTATE, table
from mgmt_api_server import MgmtApiServer, require_spec, seed
from pgtools import cluster_base, free_port

from ssot import localdb
from ssot.cli import main
from ssot.reporters import FORMATS

from .conftest import LIVE_EXAMPLE, example_module

CREDENTIALS = dict(line.split("=", 1) for line in (LIVE_EXAMPLE / "credentials.env").read_text().splitlines()
                   if line and not line.startswith("#"))


_SECRET_KEYS = ("password", "api_key", "token", "smtp_pass", "value")


def planted_values() -> set[str]:
    """The stand-ins' secret values: every `ESTATE-FAKE-` string in their data, and their credentials."""
    found: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str):
            # Planted fakes wherever they sit (an Odoo cron's code quotes one), and the credentials.
            found.update(re.findall(r"ESTATE-FAKE-[A-Za-z0-9-]+", node))
            if node.startswith("ESTATE-FAKE-") or node.startswith("sbp_") or (
                    key in _SECRET_KEYS and "not-a-secret" in node):
                found.add(node)

    for name in ("odoo-data.json", "aws-data.json", "mgmt-api-data.json"):
        walk(json.loads((LIVE_EXAMPLE / name).read_text()))
    return found


@pytest.fixture(scope="module")
def estate_db() -> Iterator[localdb.LocalDb]:
    with cluster_base() as base:
        yield localdb.start(base / "pgdata", port=free_port())


def test_the_whole_estate_audit(estate_db: localdb.LocalDb, moto_url: str, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    require_spec()
    for k, v in CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    state = tmp_path / "state.json"
    done = subprocess.run([sys.executable, str(LIVE_EXAMPLE / "seed.py"), "--datadir", str(estate_db.datadir),
                           "--state-out", str(state)], capture_output=True, text=True, check=False, timeout=120,
                          env={**os.environ, **CREDENTIALS})
    assert done.returncode == 0, done.stderr[-2000:]
    odoo = example_module("odoo_standin").load(LIVE_EXAMPLE / "odoo-data.json").start()
    mgmt = MgmtApiServer(polls_until_healthy=0)
    seed(mgmt, json.loads((LIVE_EXAMPLE / "mgmt-api-data.json").read_text()))
    mgmt.start()
    example_module("aws_seed").seed(moto_url, json.loads((LIVE_EXAMPLE / "aws-data.json").read_text()))
    root = tmp_path / "estate"
    shutil.copytree(ESTATE, root, ignore=shutil.ignore_patterns("live"))
    stack = root / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text().replace("http://127.0.0.1:54380", odoo.url.rstrip("/"))
                     .replace("http://127.0.0.1:54381", mgmt.url.rstrip("/"))
                     .replace("http://127.0.0.1:54382", moto_url))
    out = {fmt: tmp_path / f"audit.{fmt}" for fmt in sorted(FORMATS) if fmt != "json"}
    try:
        code = main(["audit", "--root", str(root), "--stack", "dev", "--local-db", "--datadir", str(estate_db.datadir),
                     "--state", str(state), "--format", "json",
                     *[a for fmt, p in out.items() for a in ("--also", f"{fmt}={p}")]])
    finally:
        odoo.stop()
        mgmt.stop()
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    texts = {fmt: p.read_text() for fmt, p in out.items()}
    texts["json"], texts["stderr"] = captured.out, captured.err
    # No value planted in the stand-ins' data, nor its SHA-256 (what the Management API reports of an
    # Edge Function secret), reaches any format.
    planted = planted_values()
    assert len(planted) >= 10
    for fmt, text in texts.items():
        assert "ir_cron_legacy_export" in text or fmt == "stderr", fmt  # the report is really there
        for value in planted:
            assert value not in text, f"a planted value reached the {fmt} output"
            assert hashlib.sha256(value.encode()).hexdigest() not in text, f"a planted value's SHA-256 reached {fmt}"
    assert doc["incomplete"] == [] and {s["status"] for s in doc["audit"]["sources"]} == {"read"}
    whole = table("Live: the whole audit")
    replaced = {(r["rule"], r["replaces"]) for r in whole if r["replaces"] != "-"}
    expected = {(r["rule"], r["subject"]) for r in table("Live side")}
    expected |= {(r["rule"], r["subject"]) for r in table("Live: external systems") if r["expect"] == "finding"}
    expected = (expected - replaced) | {(r["rule"], r["subject"]) for r in whole}
    got = {(f["rule_id"], f["subject"]) for f in doc["findings"]}
    assert got == expected, (sorted(got - expected), sorted(expected - got))
    assert code == 1 and doc["audit"]["drift"]["not_compared"] == []
