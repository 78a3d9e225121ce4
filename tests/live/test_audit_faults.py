"""`ssot audit` through the CLI, one external source at a time, under each fault a live system has: down,
wrong credentials, permission denied half-way, timeout. Whatever the fault, the audit is incomplete
(exit 3), never a pass, and the JSON report names the source in `audit.sources` and `incomplete`.

The systems are the example estate's (the Odoo and Management API stand-ins, moto in server mode),
behind the fault proxy of tests/live/conftest.py where the fault is on the wire; the stack is the
estate's, its URLs pointed at them and its audit timeout at 1 s.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from estate_readme import ESTATE
from mgmt_api_server import MgmtApiServer, require_spec, seed
from pgtools import free_port

from ssot.cli import main

from .conftest import LIVE_EXAMPLE, FaultProxy, example_module, moto_post

CREDENTIALS = dict(line.split("=", 1) for line in (LIVE_EXAMPLE / "credentials.env").read_text().splitlines()
                   if line and not line.startswith("#"))
URLS = {"odoo": "http://127.0.0.1:54380", "supabase_api": "http://127.0.0.1:54381", "aws": "http://127.0.0.1:54382"}
# What each fault must show in the source's gap (its `incomplete` line), besides the source's name.
EXPECT = {
    ("odoo", "down"): "login: Odoo unreachable",
    ("odoo", "wrong credentials"): "login: the credentials were refused",
    ("odoo", "denied half-way"): "ir.config_parameter: ",
    ("odoo", "timeout"): "login: timed out",
    ("supabase_api", "down"): "project: unreachable",
    ("supabase_api", "wrong credentials"): "project: the token was refused (HTTP 401)",
    ("supabase_api", "denied half-way"): "edge function secrets: the token was refused (HTTP 403)",
    ("supabase_api", "timeout"): "project: unreachable or timed out",
    ("aws", "down"): "secretsmanager:ListSecrets: AWS endpoint unreachable",
    ("aws", "wrong credentials"): "secretsmanager:ListSecrets: ",
    ("aws", "denied half-way"): "secretsmanager secret acme/stripe_api_key: access denied",
    ("aws", "timeout"): "timed out",
}
DENIED = json.dumps({"__type": "AccessDeniedException", "Message": "not authorized"}).encode()
AWS_JSON = {"Content-Type": "application/x-amz-json-1.1"}

# A setup brings up the source's system with the fault and returns (URL, environment overrides).
Setup = Callable[[ExitStack, str], tuple[str, dict[str, str]]]


def _down(_stack: ExitStack, _moto: str) -> tuple[str, dict[str, str]]:
    return f"http://127.0.0.1:{free_port()}", {}


def _proxy(stack: ExitStack, upstream: str) -> FaultProxy:
    proxy = FaultProxy(upstream)
    stack.callback(proxy.close)
    return proxy


def _odoo(fault: str) -> Setup:
    def setup(stack: ExitStack, _moto: str) -> tuple[str, dict[str, str]]:
        if fault == "down":
            return _down(stack, _moto)
        odoo = example_module("odoo_standin").load(LIVE_EXAMPLE / "odoo-data.json").start()
        stack.callback(odoo.stop)
        if fault == "wrong credentials":
            return odoo.url.rstrip("/"), {"SSOT_ESTATE_ODOO_CREDENTIAL": "not-the-auditor-password"}
        if fault == "denied half-way":
            odoo.revoke("ir.config_parameter")
        else:
            odoo.hang_next(1, 2.5)
        return odoo.url.rstrip("/"), {}
    return setup


def _mgmt(fault: str) -> Setup:
    def setup(stack: ExitStack, _moto: str) -> tuple[str, dict[str, str]]:
        if fault == "down":
            return _down(stack, _moto)
        require_spec()
        server = MgmtApiServer(polls_until_healthy=0)
        seed(server, json.loads((LIVE_EXAMPLE / "mgmt-api-data.json").read_text()))
        server.start()
        stack.callback(server.stop)
        if fault == "wrong credentials":
            return server.url.rstrip("/"), {"SSOT_ESTATE_SUPABASE_TOKEN": "sbp_" + "0" * 40}
        if fault == "denied half-way":
            # The project is found, then listing its secrets is refused (a token without that scope).
            server.refuse("v1-list-all-secrets")
            return server.url.rstrip("/"), {}
        proxy = _proxy(stack, server.url)
        proxy.hang_next(10, 2.5)
        return proxy.url, {}
    return setup


def _aws(fault: str) -> Setup:
    def setup(stack: ExitStack, moto: str) -> tuple[str, dict[str, str]]:
        if fault == "down":
            return _down(stack, moto)
        example_module("aws_seed").seed(moto, json.loads((LIVE_EXAMPLE / "aws-data.json").read_text()))
        if fault == "wrong credentials":
            moto_post(moto, "/moto-api/reset-auth", b"0")  # IAM enforcement: unknown keys are refused
            return moto, {"AWS_ACCESS_KEY_ID": "AKIAWRONGWRONGWRONG1", "AWS_SECRET_ACCESS_KEY": "wrong"}
        proxy = _proxy(stack, moto)
        if fault == "denied half-way":
            proxy.fail_when(b"acme/stripe_api_key", 400, AWS_JSON, DENIED)
        else:
            proxy.hang_next(20, 2.5)
        return proxy.url, {}
    return setup


SETUPS: dict[str, Callable[[str], Setup]] = {"odoo": _odoo, "supabase_api": _mgmt, "aws": _aws}
FAULTS = ("down", "wrong credentials", "denied half-way", "timeout")


@pytest.fixture(scope="module")
def estate_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("estate") / "estate"
    shutil.copytree(ESTATE, root, ignore=shutil.ignore_patterns("live"))
    yield root


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("source", sorted(SETUPS))
def test_a_faulty_source_makes_the_audit_incomplete(source: str, fault: str, estate_copy: Path, moto: str,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    for k, v in CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"deployment": {"resources": []}}))
    stack_file = estate_copy / "stacks" / "Pulumi.dev.yaml"
    original = stack_file.read_text()
    with ExitStack() as stack:
        url, env = SETUPS[source](fault)(stack, moto)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        text = original.replace(URLS[source], url).replace("    audit:\n", "    audit:\n      timeoutSeconds: 1\n", 1)
        assert text != original and "timeoutSeconds: 1" in text
        stack_file.write_text(text)
        try:
            code = main(["audit", "--root", str(estate_copy), "--stack", "dev", "--state", str(state),
                         "--format", "json", "--source", source])
        finally:
            stack_file.write_text(original)
    doc = json.loads(capsys.readouterr().out)
    assert code == 3 and doc["summary"]["verdict"] == "incomplete"
    statuses = {s["source"]: s["status"] for s in doc["audit"]["sources"]}
    assert statuses.pop(source) == "incomplete"
    assert set(statuses.values()) == {"skipped"}
    lines = [line for line in doc["incomplete"] if line.startswith(f"{source}: ")]
    assert lines and len(lines) == len(doc["incomplete"]), doc["incomplete"]
    assert any(EXPECT[(source, fault)] in line for line in lines), lines
    for secret in ("not-the-auditor-password", "0" * 40, "AKIAWRONGWRONGWRONG1"):
        assert secret not in json.dumps(doc)
