"""EdgeFunctionSecretProvider's create/read/diff/update/delete against the local Management API."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import pulumi
import pulumi.runtime
import pytest
from mgmt_api_server import FakeClock, MgmtApiServer, free_port_url, running_server
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.rpc import UNKNOWN

from ssot.errors import ProviderError, SourceUnavailable
from ssot.fingerprint import fingerprint
from ssot.providers.edge_secret import (
    MAX_VALUE_LENGTH,
    EdgeFunctionSecret,
    EdgeFunctionSecretArgs,
    EdgeFunctionSecretProvider,
)
from ssot.supabase_api import ManagementApi, ManagementApiUnavailable, Unauthorized

TOKEN = "sbp_CANARY_edge_token_9a4c2f"
VALUE = "CANARY-edge-secret-6b3d8e1f"
FP_KEY = "CANARY-edge-fp-key-0c5a7e"
OUTPUT_KEYS = {"api_url", "project_ref", "name", "runtime_only_reason", "digest", "fingerprint"}
REASON = "webhook signing key read by the stripe-webhook function at request time"


def sha(v: str) -> str:
    return hashlib.sha256(v.encode()).hexdigest()


class Provider(EdgeFunctionSecretProvider):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def _client_kwargs(self) -> dict[str, Any]:
        return self.clock.client_kwargs()


@pytest.fixture
def server() -> Iterator[MgmtApiServer]:
    with running_server() as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider(clock: FakeClock) -> Provider:
    return Provider(clock)


@pytest.fixture
def ref(server: MgmtApiServer) -> str:
    return server.add_project("acme-prod")


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPABASE_ACCESS_TOKEN", TOKEN)


def inputs(url: str, ref: str, **over: Any) -> dict[str, Any]:
    props = {"api_url": url, "access_token": TOKEN, "project_ref": ref, "name": "STRIPE_WEBHOOK_SECRET",
             "value": VALUE, "runtime_only_reason": REASON, "fingerprint_key": FP_KEY}
    props.update(over)
    return props


def writes(server: MgmtApiServer) -> int:
    return server.operations().count("v1-bulk-create-secrets")


def test_create_outputs_digest_and_fingerprint_only(server: MgmtApiServer, provider: Provider,
                                                    ref: str) -> None:
    props = inputs(server.url, ref)
    assert provider.check({}, props).failures == []
    created = provider.create(props)
    outs = created.outs or {}
    assert created.id == f"{ref}/STRIPE_WEBHOOK_SECRET"
    assert set(outs) == OUTPUT_KEYS
    assert outs["digest"] == sha(VALUE) == server.secrets[ref]["STRIPE_WEBHOOK_SECRET"]["digest"]
    assert outs["fingerprint"] == fingerprint(VALUE, FP_KEY.encode())
    assert outs["runtime_only_reason"] == REASON
    assert not {VALUE, TOKEN, FP_KEY} & {str(v) for v in outs.values()}


def test_create_refuses_to_take_over_an_existing_secret(server: MgmtApiServer, provider: Provider,
                                                        ref: str) -> None:
    server.set_secret(ref, "STRIPE_WEBHOOK_SECRET", "owned-by-someone-else")
    with pytest.raises(ProviderError, match=r"already exists.*pulumi import"):
        provider.create(inputs(server.url, ref))
    assert server.secrets[ref]["STRIPE_WEBHOOK_SECRET"]["digest"] == sha("owned-by-someone-else")
    assert writes(server) == 0


def test_second_apply_has_no_changes(server: MgmtApiServer, provider: Provider, ref: str) -> None:
    props = inputs(server.url, ref)
    created = provider.create(props)
    diff = provider.diff(created.id, created.outs or {}, props)
    assert diff.changes is False and diff.replaces == []
    read = provider.read(created.id, created.outs or {})
    assert read.id == created.id and read.outs == created.outs
    assert provider.diff(created.id, created.outs or {}, {**props, "access_token": "rotated"}).changes is False


def test_refresh_sees_an_out_of_band_value_change_and_update_restores_it(
        server: MgmtApiServer, provider: Provider, ref: str) -> None:
    props = inputs(server.url, ref)
    created = provider.create(props)
    # Someone sets the value with another client (e.g. `supabase secrets set`).
    ManagementApi("sbp_other_admin", server.url).create_secrets(ref, {"STRIPE_WEBHOOK_SECRET": "tampered"})
    read = provider.read(created.id, created.outs or {})
    assert read.outs is not None
    assert read.outs["digest"] == sha("tampered") and read.outs["fingerprint"] is None
    diff = provider.diff(created.id, read.outs, props)
    assert diff.changes is True and diff.replaces == []
    updated = provider.update(created.id, read.outs, props).outs or {}
    assert updated == created.outs
    assert server.secrets[ref]["STRIPE_WEBHOOK_SECRET"]["digest"] == sha(VALUE)
    assert provider.diff(created.id, updated, props).changes is False


def test_refresh_sees_a_deleted_secret_and_a_deleted_project(server: MgmtApiServer, provider: Provider,
                                                             ref: str) -> None:
    created = provider.create(inputs(server.url, ref))
    del server.secrets[ref]["STRIPE_WEBHOOK_SECRET"]
    assert provider.read(created.id, created.outs or {}).id == ""
    created = provider.create(inputs(server.url, ref))
    del server.projects[ref]
    assert provider.read(created.id, created.outs or {}).id == ""


def test_declared_value_change_updates_in_place(server: MgmtApiServer, provider: Provider, ref: str) -> None:
    created = provider.create(inputs(server.url, ref))
    new = inputs(server.url, ref, value=VALUE + "-rotated")
    diff = provider.diff(created.id, created.outs or {}, new)
    assert diff.changes is True and diff.replaces == []
    outs = provider.update(created.id, created.outs or {}, new).outs or {}
    assert outs["digest"] == sha(VALUE + "-rotated") == server.secrets[ref]["STRIPE_WEBHOOK_SECRET"]["digest"]
    assert outs["fingerprint"] == fingerprint(VALUE + "-rotated", FP_KEY.encode())


def test_metadata_and_key_changes_update_without_rewriting_the_value(
        server: MgmtApiServer, provider: Provider, ref: str) -> None:
    created = provider.create(inputs(server.url, ref))
    before = writes(server)
    for change in ({"fingerprint_key": "another-key"}, {"runtime_only_reason": "read per request"}):
        new = inputs(server.url, ref, **change)
        diff = provider.diff(created.id, created.outs or {}, new)
        assert diff.changes is True and diff.replaces == []
        outs = provider.update(created.id, created.outs or {}, new).outs or {}
        assert outs["digest"] == sha(VALUE)
    assert outs["runtime_only_reason"] == "read per request"
    assert writes(server) == before


@pytest.mark.parametrize("prop", ["name", "project_ref"])
def test_rename_or_move_replaces(server: MgmtApiServer, provider: Provider, ref: str, prop: str) -> None:
    created = provider.create(inputs(server.url, ref))
    other = server.add_project("other")
    new = inputs(server.url, ref, **{prop: "STRIPE_SIGNING_SECRET" if prop == "name" else other})
    diff = provider.diff(created.id, created.outs or {}, new)
    assert diff.changes is True and diff.replaces == [prop]
    # Pulumi's replace: create the new one, then delete the old one.
    replacement = provider.create(new)
    provider.delete(created.id, created.outs or {})
    new_ref, _, new_name = replacement.id.partition("/")
    assert set(server.secrets[new_ref]) == {new_name}
    assert "STRIPE_WEBHOOK_SECRET" not in server.secrets[ref] or new_ref == ref


def test_unknown_values_during_preview(server: MgmtApiServer, provider: Provider, ref: str) -> None:
    created = provider.create(inputs(server.url, ref))
    assert provider.diff(created.id, created.outs or {}, inputs(server.url, ref, value=UNKNOWN)).changes
    assert provider.diff(created.id, created.outs or {},
                         inputs(server.url, ref, name=UNKNOWN)).replaces == ["name"]
    assert provider.check({}, inputs(server.url, ref, value=UNKNOWN, project_ref=UNKNOWN)).failures == []


def test_delete_is_idempotent(server: MgmtApiServer, provider: Provider, ref: str,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    created = provider.create(inputs(server.url, ref))
    outs = created.outs or {}
    provider.delete(created.id, outs)
    assert server.secrets[ref] == {}
    provider.delete(created.id, outs)
    del server.projects[ref]
    provider.delete(created.id, outs)  # project gone: the secret went with it
    monkeypatch.delenv("SUPABASE_ACCESS_TOKEN")
    with pytest.raises(ProviderError, match="SUPABASE_ACCESS_TOKEN"):
        provider.delete(created.id, outs)


def test_check_enforces_names_and_the_doctrine(server: MgmtApiServer, provider: Provider, ref: str) -> None:
    cases: dict[str, list[Any]] = {
        "name": ["SUPABASE_URL", "lower_case", "HAS-DASH", ""],
        "project_ref": ["short", "ABCDEFGHIJKLMNOPQRST"],
        "runtime_only_reason": ["", "   ", None],
        "value": ["", "x" * (MAX_VALUE_LENGTH + 1), 42],
        "fingerprint_key": ["", None],
    }
    for prop, values in cases.items():
        for v in values:
            failures = provider.check({}, inputs(server.url, ref, **{prop: v})).failures
            assert [f.property for f in failures] == [prop], (prop, v)
    reasons = [f.reason for f in provider.check({}, inputs(server.url, ref, name="SUPABASE_X")).failures]
    assert "SUPABASE_" in reasons[0]
    doctrine = provider.check({}, inputs(server.url, ref, runtime_only_reason="")).failures[0].reason
    assert "Vault" in doctrine and "runtime-only" in doctrine
    missing = provider.check({}, {"api_url": server.url})
    assert {f.property for f in missing.failures} == {"name", "project_ref", "runtime_only_reason", "value",
                                                     "fingerprint_key"}


def test_429_then_success(server: MgmtApiServer, provider: Provider, clock: FakeClock, ref: str) -> None:
    server.fail_next(2, 429, retry_after="4")
    created = provider.create(inputs(server.url, ref))
    assert (created.outs or {})["digest"] == sha(VALUE)
    assert clock.sleeps == [4.0, 4.0]


def test_500_forever_is_bounded(server: MgmtApiServer, provider: Provider, ref: str) -> None:
    server.fail_always(500)
    with pytest.raises(ManagementApiUnavailable) as err:
        provider.create(inputs(server.url, ref))
    assert err.value.attempts == 6 and len(server.requests) == 6
    assert "HTTP 500 after 6 attempt(s)" in str(err.value)


def test_401(server: MgmtApiServer, provider: Provider, ref: str) -> None:
    server.require_token("sbp_someone_else")
    with pytest.raises(Unauthorized, match="401"):
        provider.create(inputs(server.url, ref))
    assert len(server.requests) == 1


def test_server_down(provider: Provider) -> None:
    with pytest.raises(SourceUnavailable, match="unreachable"):
        provider.create(inputs(free_port_url(), "abcdefghijklmnopqrst"))


def test_canaries_never_leave(server: MgmtApiServer, provider: Provider, ref: str,
                              caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    server.fail_next(1, 429)
    created = provider.create(inputs(server.url, ref))
    outs = created.outs or {}
    new = inputs(server.url, ref, value=VALUE + "2")
    texts += [repr(outs), repr(provider.diff(created.id, outs, new).__dict__)]
    outs = provider.update(created.id, outs, new).outs or {}
    texts += [repr(outs), repr(provider.read(created.id, outs).outs)]
    texts += [f.reason for f in provider.check({}, inputs(server.url, ref, value=VALUE * 2000)).failures]
    server.fail_always(500)
    for call in (lambda: provider.create(inputs(server.url, ref, name="OTHER")),
                 lambda: provider.update(created.id, outs, inputs(server.url, ref, value="z" + VALUE)),
                 lambda: provider.read(created.id, outs),
                 lambda: provider.delete(created.id, outs)):
        with pytest.raises(ProviderError) as err:
            call()
        texts.append(str(err.value) + repr(err.value))
    texts.append(repr(EdgeFunctionSecretArgs(api_url="u", access_token=TOKEN, project_ref=ref, name="N",
                                             value=VALUE, runtime_only_reason="r", fingerprint_key=FP_KEY)))
    pickled = serialize_provider(EdgeFunctionSecretProvider())
    texts.append(pickled + base64.b64decode(pickled).decode("latin-1"))
    out = capsys.readouterr()
    haystack = "".join(texts) + caplog.text + out.out + out.err
    assert "HTTP 429" in caplog.text and "HTTP 500" in haystack
    for canary in (TOKEN, VALUE, FP_KEY, "CANARY"):
        assert canary not in haystack


def test_resource_registers_with_secret_inputs_and_digest_marked(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[tuple[str, dict[str, Any]]] = []
    options: list[pulumi.ResourceOptions | None] = []
    register = pulumi.CustomResource.__init__

    def spy(self: Any, t: str, name: str, props: Any = None, opts: Any = None, *a: Any, **kw: Any) -> None:
        options.append(opts)
        register(self, t, name, props, opts, *a, **kw)

    # additional_secret_outputs is applied by the engine, which mocks do not run: check it is asked for.
    monkeypatch.setattr(pulumi.CustomResource, "__init__", spy)

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            registered.append((args.typ, dict(args.inputs)))
            return "abcdefghijklmnopqrst/K", {**args.inputs, "digest": sha(VALUE)}

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
            return {}, None

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_mocks(Mocks(), preview=False)
        secret = EdgeFunctionSecret("s", EdgeFunctionSecretArgs(
            api_url="https://api.supabase.com", access_token=TOKEN, project_ref="abcdefghijklmnopqrst",
            name="K", value=VALUE, runtime_only_reason=REASON, fingerprint_key=FP_KEY))

        async def secrecy() -> dict[str, bool]:
            return {k: await getattr(secret, k).is_secret()
                    for k in ("access_token", "value", "fingerprint_key", "name")}

        marks = loop.run_until_complete(secrecy())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert marks == {"access_token": True, "value": True, "fingerprint_key": True, "name": False}
    (opts,) = options
    assert opts is not None and "digest" in (opts.additional_secret_outputs or [])
    (typ, props), = registered
    assert typ == "pulumi-python:dynamic/ssot:EdgeFunctionSecret" and "__provider" in props
