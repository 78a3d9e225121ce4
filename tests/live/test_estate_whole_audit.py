"""`ssot audit` of the whole example estate, every live source at once, through the CLI: the database
(its own PostgreSQL + pg_cron cluster, seeded by examples/estate/live/seed.py) and the external systems
(the example's stand-ins and moto, in-process on free ports; the estate's stack copied with those ports).
The oracle is the estate README's three live tables ("Live side", "Live: external systems", "Live: the
whole audit").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from estate_readme import ESTATE, table
from mgmt_api_server import MgmtApiServer, require_spec, seed
from pgtools import cluster_base, free_port

from ssot import localdb
from ssot.cli import main

from .conftest import LIVE_EXAMPLE, example_module

CREDENTIALS = dict(line.split("=", 1) for line in (LIVE_EXAMPLE / "credentials.env").read_text().splitlines()
                   if line and not line.startswith("#"))


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
    try:
        code = main(["audit", "--root", str(root), "--stack", "dev", "--local-db", "--datadir", str(estate_db.datadir),
                     "--state", str(state), "--format", "json"])
    finally:
        odoo.stop()
        mgmt.stop()
    doc = json.loads(capsys.readouterr().out)
    assert doc["incomplete"] == [] and {s["status"] for s in doc["audit"]["sources"]} == {"read"}
    whole = table("Live: the whole audit")
    replaced = {(r["rule"], r["replaces"]) for r in whole if r["replaces"] != "-"}
    expected = {(r["rule"], r["subject"]) for r in table("Live side")}
    expected |= {(r["rule"], r["subject"]) for r in table("Live: external systems") if r["expect"] == "finding"}
    expected = (expected - replaced) | {(r["rule"], r["subject"]) for r in whole}
    got = {(f["rule_id"], f["subject"]) for f in doc["findings"]}
    assert got == expected, (sorted(got - expected), sorted(expected - got))
    assert code == 1 and doc["audit"]["drift"]["not_compared"] == []
