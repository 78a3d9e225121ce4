"""examples/estate/live/start: starts the three systems, seeded; --stop stops them. The script's ports
(54380-54382 by default) are moved to free ones here, so that a test never races another user of the
machine for the example's fixed ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
import xmlrpc.client
from pathlib import Path
from typing import Any

import boto3
from mgmt_api_server import require_spec
from pgtools import free_port

from .conftest import LIVE_EXAMPLE


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_start_and_stop(tmp_path: Path) -> None:
    require_spec()
    odoo, mgmt, moto = ports = (free_port(), free_port(), free_port())
    env = {**os.environ, "SSOT_ESTATE_LIVE_STATE": str(tmp_path / "state"), "SSOT_PYTHON": sys.executable,
           "SSOT_ESTATE_ODOO_PORT": str(odoo), "SSOT_ESTATE_MGMT_PORT": str(mgmt), "SSOT_ESTATE_MOTO_PORT": str(moto)}
    start = str(LIVE_EXAMPLE / "start")
    try:
        done = subprocess.run([start], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in (tmp_path / "state").glob("*.pid")) == [
            "mgmt_api_standin.pid", "moto_server.pid", "odoo_standin.pid"]
        common: Any = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{odoo}/xmlrpc/2/common")
        assert common.authenticate("acme-dev", "ssot-auditor", "estate-odoo-auditor-password-not-a-secret", {}) == 7
        req = urllib.request.Request(f"http://127.0.0.1:{mgmt}/v1/projects", headers={
            "Authorization": "Bearer sbp_estate_management_api_token_not_a_secret"})
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310
            assert [p["ref"] for p in json.loads(r.read())] == ["acmeestatelivesample", "acmeestateothersampl"]
        sm = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{moto}", region_name="eu-central-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        assert "acme/stripe_api_key" in {s["Name"] for s in sm.list_secrets()["SecretList"]}
        again = subprocess.run([start], env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr  # restarting stops its own first
    finally:
        stop = subprocess.run([start, "--stop"], env=env, capture_output=True, text=True, timeout=60)
    assert stop.returncode == 0, stop.stderr
    assert not list((tmp_path / "state").glob("*.pid"))
    assert not any(_listening(p) for p in ports)
