"""The dynamic providers as the Pulumi engine calls them: over gRPC, in another process.

`pulumi up` starts the plugin `pulumi-resource-pulumi-python`, a script that execs
`python -m pulumi.dynamic`: the SDK's own dynamic provider server, which prints its port and serves
the ResourceProvider protocol. Here that same server runs in a subprocess and is called with the
SDK's generated stubs (Check, Diff, Create, Read, Update, Delete), against the real local
PostgreSQL (Vault stand-in and pg_cron).

The property bags are the ones the program sends: each resource is declared by the real component
classes under the mock runtime and its RegisterResource request is captured as it leaves the SDK,
so `__provider` is the dill pickle the program's registration made, and secret inputs are
secret-wrapped structs. The server says `acceptSecrets: false`, so between Check and the CRUD
calls the engine strips the secret markers and, after each call, marks secret every output
whose input was secret, plus the resource's additionalSecretOutputs (`annotateSecrets` in the
engine). These tests do the same, and prove with canaries that no secret value crosses the wire
in anything the engine would store in plaintext, nor in an error.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import select
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pulumi
import pytest
from google.protobuf import empty_pb2, struct_pb2
from google.protobuf.json_format import MessageToDict
from psycopg.conninfo import conninfo_to_dict
from pulumi.runtime import rpc
from pulumi.runtime.proto import ResourceProviderStub, provider_pb2

from ssot import mockrun
from ssot.providers.cron_job import CronJob, CronJobArgs
from ssot.providers.edge_secret import EdgeFunctionSecret, EdgeFunctionSecretArgs
from ssot.providers.supabase_project import SupabaseProject, SupabaseProjectArgs
from ssot.providers.vault_secret import VaultSecret, VaultSecretArgs

ROOT = Path(__file__).resolve().parents[1]
CANARY = "canary-grpc-" + secrets.token_hex(12)
# How a secret travels in a Pulumi property bag: {SECRET_SIG: SECRET_SIG_VALUE, "value": ...}.
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"
TIMEOUT = 30
# The Management API's token: the provider server reads it from its environment for Read and Delete
# (the engine hands those only the outputs, which never hold it), as under `pulumi up`.
MGMT_TOKEN = "sbp_" + "c" * 8 + secrets.token_hex(16)


# --- the engine's side ------------------------------------------------------------------------------


class Registration:
    """What the program sent for one resource: type, name, inputs on the wire, and which outputs
    the engine must keep secret."""

    def __init__(self, request: Any) -> None:
        self.type: str = request.type
        self.name: str = request.name
        self.urn = f"urn:pulumi:test::ssot::{request.type}::{request.name}"
        self.inputs = struct_pb2.Struct()
        self.inputs.CopyFrom(request.object)
        self.additional_secret_outputs = set(request.additionalSecretOutputs)


def declare(make: Callable[[], None]) -> list[Registration]:
    """Run `make` under the mock runtime and capture the RegisterResource requests it sends."""
    captured: list[Registration] = []
    original = mockrun.RecordingMonitor.RegisterResource

    def capture(self: mockrun.RecordingMonitor, request: Any) -> Any:
        if request.type.startswith("pulumi-python:dynamic/"):
            captured.append(Registration(request))
        return original(self, request)

    mockrun.RecordingMonitor.RegisterResource = capture  # type: ignore[method-assign]
    try:
        mockrun.run_program(make, project="ssot", stack="test")
    finally:
        mockrun.RecordingMonitor.RegisterResource = original  # type: ignore[method-assign]
    return captured


def _serialize(props: dict[str, Any]) -> struct_pb2.Struct:
    # A loop of our own: the caller's thread loop is left as it was.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_SIG_VALUE


def _unwrap(value: Any) -> Any:
    if _is_secret(value):
        return _unwrap(value["value"])
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def wire(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A struct as plain JSON data, secret wrappers still visible (the wire form)."""
    return MessageToDict(struct)


def secret_keys(struct: struct_pb2.Struct) -> set[str]:
    return {k for k, v in wire(struct).items() if _is_secret(v)}


def strip_secrets(struct: struct_pb2.Struct) -> struct_pb2.Struct:
    """What the engine sends a provider that answered Configure with acceptSecrets: false."""
    return _serialize({k: _unwrap(v) for k, v in wire(struct).items()})


def _text(message: Any) -> str:
    return str(message.SerializeToString().decode("utf-8", "replace"))


class Engine:
    """A client of the dynamic provider server, doing what the engine does around each call."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub
        # Every secret a test sends; none may show up in what the provider process writes.
        self.canaries: set[str] = {CANARY, MGMT_TOKEN}

    def check(self, reg: Registration, olds: struct_pb2.Struct | None = None) -> provider_pb2.CheckResponse:
        """Check as the engine calls it: secret markers stripped on the way in, and put back on the
        way out on every input that was secret in the program's registration."""
        response = self.stub.Check(provider_pb2.CheckRequest(
            urn=reg.urn, name=reg.name, type=reg.type, olds=strip_secrets(olds or struct_pb2.Struct()),
            news=strip_secrets(reg.inputs)), timeout=TIMEOUT)
        was_secret = secret_keys(reg.inputs)
        checked = wire(response.inputs)
        annotated = {k: ({SECRET_SIG: SECRET_SIG_VALUE, "value": v} if k in was_secret else v)
                     for k, v in checked.items()}
        result = provider_pb2.CheckResponse()
        result.CopyFrom(response)
        result.inputs.CopyFrom(_serialize(annotated))
        return result

    def stored_secret(self, reg: Registration, inputs: struct_pb2.Struct) -> set[str]:
        """The output keys the engine keeps encrypted in the state: those whose input was secret,
        and the resource's additionalSecretOutputs."""
        return secret_keys(inputs) | reg.additional_secret_outputs


# --- the server ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provider_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """`python -m pulumi.dynamic`, started as the engine's plugin host starts it."""
    # Its stderr goes to a file: a pipe nobody reads could fill and stall the server.
    log_path = tmp_path_factory.mktemp("provider-server") / "stderr.log"
    log = log_path.open("wb")
    engine: Engine | None = None
    env = {**os.environ, "PULUMI_PROJECT": "ssot", "PYTHONPATH": str(ROOT), "SUPABASE_ACCESS_TOKEN": MGMT_TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "pulumi.dynamic"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=log)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
        assert ready, f"the provider server printed no port within {TIMEOUT} s"
        line = proc.stdout.readline().decode().strip()
        assert line.isdigit(), f"the provider server printed no port (exit {proc.poll()})"
        channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
        stub = ResourceProviderStub(channel)
        info = stub.GetPluginInfo(empty_pb2.Empty())
        assert info.version
        configured = stub.Configure(provider_pb2.ConfigureRequest(args=struct_pb2.Struct(),
                                                                   acceptSecrets=True))
        # The premise of everything below: the engine strips secret markers before each call.
        assert configured.acceptSecrets is False
        engine = Engine(stub)
        yield engine
        channel.close()
    finally:
        proc.kill()
        proc.wait(timeout=TIMEOUT)
        if proc.stdout:
            proc.stdout.close()
        log.close()
    written = log_path.read_text(errors="replace")
    for canary in engine.canaries if engine else ():
        assert canary not in written, "the provider server wrote a secret to its stderr"


@pytest.fixture
def db_password(db_conninfo: str) -> str:
    password = conninfo_to_dict(db_conninfo).get("password")
    assert password, "the local database's conninfo carries a password: it is a canary too"
    return str(password)


def _assert_only_in(struct: struct_pb2.Struct, secret_value: str, allowed: set[str], what: str) -> None:
    """`secret_value` may only appear under the keys the engine will store encrypted."""
    for key, value in wire(struct).items():
        if secret_value in json.dumps(value):
            assert key in allowed, f"{what}: output '{key}' carries a secret the engine stores in plaintext"


# --- Vault secrets --------------------------------------------------------------------------------------


def _vault_registration(conninfo: str, name: str, value: str | None = None) -> Registration:
    def program() -> None:
        VaultSecret("vault-" + name, VaultSecretArgs(
            conninfo=pulumi.Output.secret(conninfo), fingerprint_key=pulumi.Output.secret("fp-" + "k" * 20),
            name=name, description="over the wire",
            value=pulumi.Output.secret(value) if value is not None else None,
            generate_bytes=None if value is not None else 32))

    (reg,) = declare(program)
    return reg


def _vault_row(pg: psycopg.Connection, secret_id: str) -> tuple[Any, ...] | None:
    return pg.execute("SELECT name, description, decrypted_secret FROM vault.decrypted_secrets WHERE id = %s",
                      (secret_id,)).fetchone()


def test_vault_secret_lifecycle_over_grpc(provider_server: Engine, db_conninfo: str, db_password: str,
                                          pg: psycopg.Connection) -> None:
    engine, stub = provider_server, provider_server.stub
    engine.canaries.update({db_password, CANARY + "-rotated"})
    name = "ssot_grpc_" + uuid.uuid4().hex[:10]
    reg = _vault_registration(db_conninfo, name, CANARY)

    # The program's registration: secrets travel wrapped, the provider pickled with dill.
    assert {"conninfo", "fingerprint_key", "value"} <= secret_keys(reg.inputs)
    assert wire(reg.inputs)["__provider"] and CANARY not in wire(reg.inputs)["__provider"]
    assert {"conninfo", "fingerprint_key", "value"} <= reg.additional_secret_outputs

    checked = engine.check(reg)
    assert list(checked.failures) == []
    for secret in (CANARY, db_password):
        _assert_only_in(checked.inputs, secret, secret_keys(reg.inputs), "Check")
    # Checked inputs keep the secrets the program marked (the engine stores them so) and the
    # provider the program pickled.
    assert {"conninfo", "fingerprint_key", "value"} <= secret_keys(checked.inputs)
    assert wire(checked.inputs)["__provider"] == wire(reg.inputs)["__provider"]
    inputs = checked.inputs

    created = stub.Create(provider_pb2.CreateRequest(urn=reg.urn, name=reg.name, type=reg.type,
                                                     properties=strip_secrets(inputs)), timeout=TIMEOUT)
    secret_id = created.id
    assert str(uuid.UUID(secret_id)) == secret_id
    row = _vault_row(pg, secret_id)
    assert row is not None and row[0] == name and row[2] == CANARY
    outs = wire(created.properties)
    assert "value" not in outs and outs["name"] == name and outs["source"] == "value"
    assert len(outs["fingerprint"]) == 64
    stored_secret = engine.stored_secret(reg, inputs)
    assert CANARY not in created.SerializeToString().decode("utf-8", "replace")
    _assert_only_in(created.properties, db_password, stored_secret, "Create")
    assert "conninfo" in stored_secret and "fingerprint_key" in stored_secret

    # Refresh: Read by id from the state's outputs.
    read = stub.Read(provider_pb2.ReadRequest(id=secret_id, urn=reg.urn, name=reg.name, type=reg.type,
                                              properties=created.properties, inputs=strip_secrets(inputs)),
                     timeout=TIMEOUT)
    assert read.id == secret_id and wire(read.properties)["fingerprint"] == outs["fingerprint"]
    assert CANARY not in read.SerializeToString().decode("utf-8", "replace")
    _assert_only_in(read.properties, db_password, stored_secret, "Read")

    # The same program again: no change. A new value: a change, found by fingerprint, not by value.
    same = stub.Diff(provider_pb2.DiffRequest(id=secret_id, urn=reg.urn, olds=created.properties,
                                              news=strip_secrets(inputs)), timeout=TIMEOUT)
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    canary2 = CANARY + "-rotated"
    reg2 = _vault_registration(db_conninfo, name, canary2)
    inputs2 = engine.check(reg2, olds=inputs).inputs
    diff = stub.Diff(provider_pb2.DiffRequest(id=secret_id, urn=reg.urn, olds=created.properties,
                                              news=strip_secrets(inputs2)), timeout=TIMEOUT)
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and list(diff.replaces) == []
    assert canary2 not in diff.SerializeToString().decode("utf-8", "replace")

    updated = stub.Update(provider_pb2.UpdateRequest(id=secret_id, urn=reg.urn, olds=created.properties,
                                                     news=strip_secrets(inputs2)), timeout=TIMEOUT)
    row = _vault_row(pg, secret_id)
    assert row is not None and row[2] == canary2
    assert wire(updated.properties)["fingerprint"] != outs["fingerprint"]
    text = updated.SerializeToString().decode("utf-8", "replace")
    assert CANARY not in text and canary2 not in text
    _assert_only_in(updated.properties, db_password, stored_secret, "Update")

    stub.Delete(provider_pb2.DeleteRequest(id=secret_id, urn=reg.urn, properties=updated.properties),
                timeout=TIMEOUT)
    assert _vault_row(pg, secret_id) is None


def test_secret_wrapped_inputs_reach_the_provider_intact(provider_server: Engine, db_conninfo: str,
                                                         pg: psycopg.Connection) -> None:
    """An engine that passes the secret markers through (the inputs exactly as the program sent
    them): the provider reads the values inside, and answers with no value in its outputs."""
    stub = provider_server.stub
    name = "ssot_grpc_" + uuid.uuid4().hex[:10]
    reg = _vault_registration(db_conninfo, name, CANARY)
    checked = stub.Check(provider_pb2.CheckRequest(urn=reg.urn, olds=struct_pb2.Struct(), news=reg.inputs),
                         timeout=TIMEOUT)
    assert list(checked.failures) == []
    # Check hands back the inputs it was given, secrets still marked as secrets.
    assert {"conninfo", "fingerprint_key", "value"} <= secret_keys(checked.inputs)
    created = stub.Create(provider_pb2.CreateRequest(urn=reg.urn, properties=reg.inputs), timeout=TIMEOUT)
    row = _vault_row(pg, created.id)
    assert row is not None and row[2] == CANARY
    assert CANARY not in created.SerializeToString().decode("utf-8", "replace")
    stub.Delete(provider_pb2.DeleteRequest(id=created.id, urn=reg.urn, properties=created.properties),
                timeout=TIMEOUT)


def test_generated_secret_never_crosses_the_wire(provider_server: Engine, db_conninfo: str,
                                                 pg: psycopg.Connection) -> None:
    engine, stub = provider_server, provider_server.stub
    reg = _vault_registration(db_conninfo, "ssot_grpc_" + uuid.uuid4().hex[:10])
    inputs = engine.check(reg).inputs
    created = stub.Create(provider_pb2.CreateRequest(urn=reg.urn, properties=strip_secrets(inputs)),
                          timeout=TIMEOUT)
    row = _vault_row(pg, created.id)
    assert row is not None and len(row[2]) >= 40  # 32 random bytes, base64
    assert row[2] not in created.SerializeToString().decode("utf-8", "replace")
    assert wire(created.properties)["source"] == "generated"
    stub.Delete(provider_pb2.DeleteRequest(id=created.id, urn=reg.urn, properties=created.properties),
                timeout=TIMEOUT)


def test_errors_over_the_wire_quote_no_secret(provider_server: Engine, db_conninfo: str, db_password: str,
                                              pg: psycopg.Connection) -> None:
    """The server sends a failing call's traceback to the engine, which prints it: a name clash
    while creating, with a canary as the value, must name the clash and nothing secret."""
    engine, stub = provider_server, provider_server.stub
    name = "ssot_grpc_" + uuid.uuid4().hex[:10]
    first = _vault_registration(db_conninfo, name, CANARY)
    created = stub.Create(provider_pb2.CreateRequest(
        urn=first.urn, properties=strip_secrets(engine.check(first).inputs)), timeout=TIMEOUT)
    canary2 = CANARY + "-clash"
    engine.canaries.update({canary2, db_password})
    second = _vault_registration(db_conninfo, name, canary2)
    with pytest.raises(grpc.RpcError) as info:
        stub.Create(provider_pb2.CreateRequest(urn=second.urn + "-2",
                                               properties=strip_secrets(engine.check(second).inputs)),
                    timeout=TIMEOUT)
    details = info.value.details() or ""
    assert "already exists" in details
    for secret in (CANARY, canary2, db_password):
        assert secret not in details
    stub.Delete(provider_pb2.DeleteRequest(id=created.id, urn=first.urn, properties=created.properties),
                timeout=TIMEOUT)

    # A check failure names the input and the expected shape, never the value.
    bad = _vault_registration(db_conninfo, "Bad Name\n", canary2)
    checked = engine.check(bad)
    assert [f.property for f in checked.failures] == ["name"]
    assert canary2 not in str(list(checked.failures))


# --- pg_cron jobs ----------------------------------------------------------------------------------------


def _cron_registration(conninfo: str, name: str, schedule: str, command: str) -> Registration:
    def program() -> None:
        CronJob("cron-" + name, CronJobArgs(conninfo=pulumi.Output.secret(conninfo), name=name,
                                            schedule=schedule, command=command))

    (reg,) = declare(program)
    return reg


def _job(pg: psycopg.Connection, job_id: str) -> tuple[Any, ...] | None:
    return pg.execute("SELECT jobname, schedule, command, active FROM cron.job WHERE jobid = %s::bigint",
                      (job_id,)).fetchone()


def test_cron_job_lifecycle_over_grpc(provider_server: Engine, db_conninfo: str, db_password: str,
                                      pg: psycopg.Connection) -> None:
    engine, stub = provider_server, provider_server.stub
    name = "ssot-grpc-" + uuid.uuid4().hex[:10]
    reg = _cron_registration(db_conninfo, name, "*/5 * * * *", "select 1")
    assert "conninfo" in secret_keys(reg.inputs)
    checked = engine.check(reg)
    assert list(checked.failures) == []
    inputs = checked.inputs
    stored_secret = engine.stored_secret(reg, inputs)

    created = stub.Create(provider_pb2.CreateRequest(urn=reg.urn, properties=strip_secrets(inputs)),
                          timeout=TIMEOUT)
    assert _job(pg, created.id) == (name, "*/5 * * * *", "select 1", True)
    outs = wire(created.properties)
    assert int(outs["job_id"]) == int(created.id)
    _assert_only_in(created.properties, db_password, stored_secret, "Create")

    read = stub.Read(provider_pb2.ReadRequest(id=created.id, urn=reg.urn, properties=created.properties),
                     timeout=TIMEOUT)
    assert wire(read.properties)["schedule"] == "*/5 * * * *"
    _assert_only_in(read.properties, db_password, stored_secret, "Read")

    reg2 = _cron_registration(db_conninfo, name, "0 * * * *", "select 2")
    inputs2 = engine.check(reg2, olds=inputs).inputs
    diff = stub.Diff(provider_pb2.DiffRequest(id=created.id, urn=reg.urn, olds=created.properties,
                                              news=strip_secrets(inputs2)), timeout=TIMEOUT)
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and list(diff.replaces) == []
    updated = stub.Update(provider_pb2.UpdateRequest(id=created.id, urn=reg.urn, olds=created.properties,
                                                     news=strip_secrets(inputs2)), timeout=TIMEOUT)
    assert _job(pg, created.id) == (name, "0 * * * *", "select 2", True)
    _assert_only_in(updated.properties, db_password, stored_secret, "Update")

    # A rename is a replace (pg_cron cannot rename in place).
    reg3 = _cron_registration(db_conninfo, name + "-b", "0 * * * *", "select 2")
    diff = stub.Diff(provider_pb2.DiffRequest(id=created.id, urn=reg.urn, olds=updated.properties,
                                              news=strip_secrets(engine.check(reg3, olds=inputs2).inputs)),
                     timeout=TIMEOUT)
    assert "name" in diff.replaces

    stub.Delete(provider_pb2.DeleteRequest(id=created.id, urn=reg.urn, properties=updated.properties),
                timeout=TIMEOUT)
    assert _job(pg, created.id) is None


def test_cron_check_failure_over_the_wire(provider_server: Engine, db_conninfo: str) -> None:
    reg = _cron_registration(db_conninfo, "ssot-grpc-bad", "every minute", "select 1")
    checked = provider_server.check(reg)
    assert [f.property for f in checked.failures] == ["schedule"]
    assert str(conninfo_to_dict(db_conninfo)["password"]) not in str(list(checked.failures))


# --- Supabase project and Edge Function secrets, through the local Management API ---------------------


def test_project_and_edge_secret_over_grpc(provider_server: Engine) -> None:
    import hashlib

    from mgmt_api_server import running_server

    engine, stub = provider_server, provider_server.stub
    db_pass = "canary-dbpass-" + secrets.token_hex(8)
    fp_key = "canary-fpkey-" + secrets.token_hex(8)
    value = "canary-edge-" + secrets.token_hex(8)
    never = (MGMT_TOKEN, db_pass, fp_key, value)
    engine.canaries.update({*never, value + "-rotated"})
    with running_server(polls_until_healthy=0) as api:
        api.require_token(MGMT_TOKEN)

        def project_program() -> None:
            SupabaseProject("project-acme", SupabaseProjectArgs(
                api_url=api.url, access_token=pulumi.Output.secret(MGMT_TOKEN), name="acme-grpc",
                organization_id="acme-org", region="eu-central-1", db_pass=pulumi.Output.secret(db_pass),
                fingerprint_key=pulumi.Output.secret(fp_key), wait_timeout=60))

        (project,) = declare(project_program)
        assert {"access_token", "db_pass", "fingerprint_key"} <= secret_keys(project.inputs)
        checked = engine.check(project)
        assert list(checked.failures) == []
        created = stub.Create(provider_pb2.CreateRequest(urn=project.urn, properties=strip_secrets(checked.inputs)),
                              timeout=TIMEOUT)
        ref = created.id
        assert ref in api.projects and wire(created.properties)["status"] == "ACTIVE_HEALTHY"
        assert api.projects[ref].db_pass_sha256 == hashlib.sha256(db_pass.encode()).hexdigest()
        for secret in never:
            assert secret not in _text(created)
        read = stub.Read(provider_pb2.ReadRequest(id=ref, urn=project.urn, properties=created.properties),
                         timeout=TIMEOUT)
        assert read.id == ref and not any(secret in _text(read) for secret in never)
        same = stub.Diff(provider_pb2.DiffRequest(id=ref, urn=project.urn, olds=created.properties,
                                                  news=strip_secrets(checked.inputs)), timeout=TIMEOUT)
        assert same.changes == provider_pb2.DiffResponse.DIFF_NONE

        def edge_program(v: str) -> Callable[[], None]:
            def program() -> None:
                EdgeFunctionSecret("edge-stripe", EdgeFunctionSecretArgs(
                    api_url=api.url, access_token=pulumi.Output.secret(MGMT_TOKEN), project_ref=ref,
                    name="STRIPE_WEBHOOK_SECRET", value=pulumi.Output.secret(v),
                    runtime_only_reason="read by the stripe-webhook function at request time",
                    fingerprint_key=pulumi.Output.secret(fp_key)))
            return program

        (edge,) = declare(edge_program(value))
        assert {"access_token", "value", "fingerprint_key"} <= secret_keys(edge.inputs)
        assert "digest" in edge.additional_secret_outputs  # an unsalted SHA-256 of the value
        edge_inputs = engine.check(edge).inputs
        stored_secret = engine.stored_secret(edge, edge_inputs)
        made = stub.Create(provider_pb2.CreateRequest(urn=edge.urn, properties=strip_secrets(edge_inputs)),
                           timeout=TIMEOUT)
        assert api.secrets[ref]["STRIPE_WEBHOOK_SECRET"]
        for secret in never:
            assert secret not in _text(made)
        _assert_only_in(made.properties, hashlib.sha256(value.encode()).hexdigest(), stored_secret, "Create")

        rotated = value + "-rotated"
        (edge2,) = declare(edge_program(rotated))
        inputs2 = engine.check(edge2, olds=edge_inputs).inputs
        diff = stub.Diff(provider_pb2.DiffRequest(id=made.id, urn=edge.urn, olds=made.properties,
                                                  news=strip_secrets(inputs2)), timeout=TIMEOUT)
        assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
        updated = stub.Update(provider_pb2.UpdateRequest(id=made.id, urn=edge.urn, olds=made.properties,
                                                         news=strip_secrets(inputs2)), timeout=TIMEOUT)
        assert rotated not in _text(updated)
        _assert_only_in(updated.properties, hashlib.sha256(rotated.encode()).hexdigest(), stored_secret,
                        "Update")
        stub.Delete(provider_pb2.DeleteRequest(id=made.id, urn=edge.urn, properties=updated.properties),
                    timeout=TIMEOUT)
        assert "STRIPE_WEBHOOK_SECRET" not in api.secrets.get(ref, {})

        # A token the API refuses: the error names the failure, never the token.
        api.require_token("sbp_someone_else_" + secrets.token_hex(8))
        with pytest.raises(grpc.RpcError) as info:
            stub.Read(provider_pb2.ReadRequest(id=ref, urn=project.urn, properties=created.properties),
                      timeout=TIMEOUT)
        assert not any(secret in (info.value.details() or "") for secret in never)
        api.require_token(MGMT_TOKEN)
        stub.Delete(provider_pb2.DeleteRequest(id=ref, urn=project.urn, properties=created.properties),
                    timeout=TIMEOUT)
        assert ref not in api.projects or api.projects[ref].status != "ACTIVE_HEALTHY"
