"""SupabaseProjectProvider's create/read/diff/update/delete against the local Management API."""

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
from ssot.providers.supabase_project import (
    INSTANCE_SIZES,
    SupabaseProject,
    SupabaseProjectArgs,
    SupabaseProjectProvider,
)
from ssot.supabase_api import ManagementApiUnavailable, Unauthorized

TOKEN = "sbp_CANARY_project_token_41c9e7"
DB_PASS = "CANARY-db-pass-8d2f6a0b"
FP_KEY = "CANARY-fp-key-3e7c1a"
OUTPUT_KEYS = {"api_url", "ref", "name", "region", "organization_id", "status", "instance_size",
               "db_pass_fingerprint"}


class Provider(SupabaseProjectProvider):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def _client_kwargs(self) -> dict[str, Any]:
        return self.clock.client_kwargs()


@pytest.fixture
def server() -> Iterator[MgmtApiServer]:
    with running_server(polls_until_healthy=2) as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider(clock: FakeClock) -> Provider:
    return Provider(clock)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    # read and delete only see outputs, so they take the token from the environment.
    monkeypatch.setenv("SUPABASE_ACCESS_TOKEN", TOKEN)
    monkeypatch.delenv("SSOT_FINGERPRINT_KEY", raising=False)


def inputs(server: MgmtApiServer | str, **over: Any) -> dict[str, Any]:
    url = server if isinstance(server, str) else server.url
    props = {"api_url": url, "access_token": TOKEN, "name": "acme-prod", "organization_id": "acme-org",
             "region": "eu-central-1", "db_pass": DB_PASS, "instance_size": "micro",
             "fingerprint_key": FP_KEY, "wait_timeout": 120}
    props.update(over)
    return props


def test_create_waits_until_healthy_and_outputs_no_secret(server: MgmtApiServer, provider: Provider,
                                                          clock: FakeClock) -> None:
    props = inputs(server)
    assert provider.check({}, props).failures == []
    result = provider.create(props)
    outs = result.outs or {}
    assert set(outs) == OUTPUT_KEYS
    assert outs["ref"] == result.id and result.id in server.projects
    assert (outs["name"], outs["region"], outs["organization_id"], outs["status"]) == (
        "acme-prod", "eu-central-1", "acme-org", "ACTIVE_HEALTHY")
    assert outs["db_pass_fingerprint"] == fingerprint(DB_PASS, FP_KEY.encode())
    assert clock.sleeps == [2.0, 4.0]  # two COMING_UP polls
    assert server.projects[result.id].db_pass_sha256 == hashlib.sha256(DB_PASS.encode()).hexdigest()
    assert not {DB_PASS, TOKEN, FP_KEY} & {str(v) for v in outs.values()}


def test_second_apply_has_no_changes(server: MgmtApiServer, provider: Provider) -> None:
    props = inputs(server)
    created = provider.create(props)
    diff = provider.diff(created.id, created.outs or {}, props)
    assert diff.changes is False and diff.replaces == []
    # A refresh of an untouched project changes nothing either.
    read = provider.read(created.id, created.outs or {})
    assert read.id == created.id and read.outs == created.outs
    # Rotating the token is not a change to the project.
    assert provider.diff(created.id, created.outs or {}, {**props, "access_token": "other"}).changes is False


def test_refresh_sees_a_rename_done_elsewhere_and_update_restores_it(server: MgmtApiServer,
                                                                     provider: Provider) -> None:
    props = inputs(server)
    created = provider.create(props)
    server.projects[created.id].name = "renamed-in-dashboard"
    read = provider.read(created.id, created.outs or {})
    assert read.outs is not None and read.outs["name"] == "renamed-in-dashboard"
    diff = provider.diff(created.id, read.outs, props)
    assert diff.changes is True and diff.replaces == []
    updated = provider.update(created.id, read.outs, props)
    assert (updated.outs or {})["name"] == "acme-prod"
    assert server.projects[created.id].name == "acme-prod"


def test_declared_rename_is_an_update_in_place(server: MgmtApiServer, provider: Provider) -> None:
    created = provider.create(inputs(server))
    renamed = inputs(server, name="acme-platform")
    diff = provider.diff(created.id, created.outs or {}, renamed)
    assert diff.changes is True and diff.replaces == []
    outs = provider.update(created.id, created.outs or {}, renamed).outs or {}
    assert outs["name"] == "acme-platform" and outs["ref"] == created.id
    assert server.projects[created.id].name == "acme-platform"
    assert "v1-update-database-password" not in server.operations()


def test_refresh_sees_a_deleted_project(server: MgmtApiServer, provider: Provider) -> None:
    created = provider.create(inputs(server))
    del server.projects[created.id]
    read = provider.read(created.id, created.outs or {})
    assert read.id == "" and read.outs == {}


@pytest.mark.parametrize(("prop", "value"), [("region", "us-west-2"), ("organization_id", "other-org"),
                                             ("instance_size", "large")])
def test_create_time_choices_force_replacement(server: MgmtApiServer, provider: Provider, prop: str,
                                               value: str) -> None:
    created = provider.create(inputs(server))
    diff = provider.diff(created.id, created.outs or {}, inputs(server, **{prop: value}))
    assert diff.changes is True and diff.replaces == [prop]


def test_db_pass_change_is_detected_by_fingerprint_and_applied(server: MgmtApiServer,
                                                               provider: Provider) -> None:
    created = provider.create(inputs(server))
    new = inputs(server, db_pass=DB_PASS + "-rotated")
    diff = provider.diff(created.id, created.outs or {}, new)
    assert diff.changes is True and diff.replaces == []
    outs = provider.update(created.id, created.outs or {}, new).outs or {}
    assert server.projects[created.id].db_pass_sha256 == hashlib.sha256(
        (DB_PASS + "-rotated").encode()).hexdigest()
    assert outs["db_pass_fingerprint"] == fingerprint(DB_PASS + "-rotated", FP_KEY.encode())
    assert provider.diff(created.id, outs, new).changes is False


def test_without_a_fingerprint_key_db_pass_is_create_only(server: MgmtApiServer,
                                                          provider: Provider) -> None:
    props = inputs(server, fingerprint_key=None)
    created = provider.create(props)
    assert (created.outs or {})["db_pass_fingerprint"] is None
    diff = provider.diff(created.id, created.outs or {}, {**props, "db_pass": "another-pass"})
    assert diff.changes is False


def test_unknown_values_during_preview_count_as_changes(server: MgmtApiServer, provider: Provider) -> None:
    created = provider.create(inputs(server))
    assert provider.diff(created.id, created.outs or {}, inputs(server, db_pass=UNKNOWN)).changes is True
    assert provider.diff(created.id, created.outs or {},
                         inputs(server, region=UNKNOWN)).replaces == ["region"]
    assert provider.check({}, inputs(server, name=UNKNOWN, db_pass=UNKNOWN)).failures == []


def test_delete_is_idempotent_and_uses_the_environment_token(server: MgmtApiServer, provider: Provider,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    created = provider.create(inputs(server))
    outs = created.outs or {}
    provider.delete(created.id, outs)
    assert created.id not in server.projects
    provider.delete(created.id, outs)  # already gone: nothing to do, no error
    monkeypatch.delenv("SUPABASE_ACCESS_TOKEN")
    with pytest.raises(ProviderError, match="SUPABASE_ACCESS_TOKEN"):
        provider.delete(created.id, outs)


def test_check_reports_each_bad_input_without_echoing_secrets(server: MgmtApiServer,
                                                              provider: Provider) -> None:
    bad = inputs(server, name="", organization_id="acme org", region="Mars", instance_size="huge",
                 db_pass="abc", api_url="ftp://x", wait_timeout=-1)
    failures = {f.property: f.reason for f in provider.check({}, bad).failures}
    assert set(failures) == {"name", "organization_id", "region", "instance_size", "db_pass", "api_url",
                             "wait_timeout"}
    assert "eu-central-1" in failures["region"] and INSTANCE_SIZES[0] in failures["instance_size"]
    assert "abc" not in failures["db_pass"]
    missing = provider.check({}, {"api_url": server.url})
    assert {f.property for f in missing.failures} == {"name", "organization_id", "region", "db_pass"}


def test_create_retries_a_429_honouring_retry_after(server: MgmtApiServer, provider: Provider,
                                                    clock: FakeClock) -> None:
    server.fail_next(1, 429, retry_after="5")
    created = provider.create(inputs(server))
    assert created.id in server.projects and len(server.projects) == 1
    assert clock.sleeps[0] == 5.0
    assert [r.status for r in server.requests[:2]] == [429, 201]


def test_500_forever_on_refresh_is_bounded(server: MgmtApiServer, provider: Provider) -> None:
    created = provider.create(inputs(server))
    before = len(server.requests)
    server.fail_always(500)
    with pytest.raises(ManagementApiUnavailable) as err:
        provider.read(created.id, created.outs or {})
    assert err.value.attempts == 6 and len(server.requests) - before == 6
    assert "v1-get-project" in str(err.value) and "HTTP 500" in str(err.value)


def test_500_on_create_is_not_retried(server: MgmtApiServer, provider: Provider) -> None:
    server.fail_always(500)
    with pytest.raises(ManagementApiUnavailable, match="not retried"):
        provider.create(inputs(server))
    assert len(server.requests) == 1


def test_unhealthy_project_error_names_the_ref_left_behind(provider: Provider) -> None:
    with running_server(polls_until_healthy=10_000) as server:
        with pytest.raises(ProviderError) as err:
            provider.create(inputs(server, wait_timeout=30))
        (ref,) = server.projects
    assert ref in str(err.value) and "pulumi import" in str(err.value)


def test_401(server: MgmtApiServer, provider: Provider) -> None:
    server.require_token("sbp_someone_else")
    with pytest.raises(Unauthorized) as err:
        provider.create(inputs(server))
    assert "401" in str(err.value) and len(server.requests) == 1


def test_server_down(provider: Provider) -> None:
    with pytest.raises(SourceUnavailable) as err:
        provider.create(inputs(free_port_url()))
    assert "unreachable" in str(err.value) and isinstance(err.value, ProviderError)


def test_canaries_never_leave(server: MgmtApiServer, provider: Provider, caplog: pytest.LogCaptureFixture,
                              capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    server.fail_next(1, 429)
    created = provider.create(inputs(server))
    texts.append(repr(created.outs))
    new = inputs(server, db_pass=DB_PASS + "2", name="b")
    texts.append(repr(provider.diff(created.id, created.outs or {}, new).__dict__))
    texts.append(repr(provider.update(created.id, created.outs or {}, new).outs))
    texts.append(repr(provider.read(created.id, created.outs or {}).outs))
    server.fail_always(500)
    for call in (lambda: provider.create(inputs(server)),
                 lambda: provider.update(created.id, created.outs or {}, inputs(server, db_pass="x" + DB_PASS)),
                 lambda: provider.delete(created.id, created.outs or {})):
        with pytest.raises(ProviderError) as err:
            call()
        texts.append(str(err.value) + repr(err.value))
    texts.append(repr(SupabaseProjectArgs(api_url="u", access_token=TOKEN, name="n", organization_id="o",
                                          region="r", db_pass=DB_PASS, fingerprint_key=FP_KEY)))
    pickled = serialize_provider(SupabaseProjectProvider())
    texts.append(pickled + base64.b64decode(pickled).decode("latin-1"))
    out = capsys.readouterr()
    haystack = "".join(texts) + caplog.text + out.out + out.err
    assert "HTTP 429" in caplog.text
    for canary in (TOKEN, DB_PASS, FP_KEY, "CANARY"):
        assert canary not in haystack


def test_resource_registers_with_secret_inputs_marked() -> None:
    registered: list[tuple[str, dict[str, Any]]] = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            registered.append((args.typ, dict(args.inputs)))
            return "abcdefghijklmnopqrst", {**args.inputs, "ref": "abcdefghijklmnopqrst"}

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
            return {}, None

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_mocks(Mocks(), preview=False)
        # Plain strings on purpose: the resource must mark them secret itself.
        project = SupabaseProject("p", SupabaseProjectArgs(
            api_url="https://api.supabase.com", access_token=TOKEN, name="n", organization_id="acme-org",
            region="eu-west-1", db_pass=DB_PASS, fingerprint_key=FP_KEY))

        async def secrecy() -> dict[str, bool]:
            return {k: await getattr(project, k).is_secret()
                    for k in ("access_token", "db_pass", "fingerprint_key", "ref", "name")}

        marks = loop.run_until_complete(secrecy())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert marks == {"access_token": True, "db_pass": True, "fingerprint_key": True, "ref": False,
                     "name": False}
    (typ, props), = registered
    assert typ == "pulumi-python:dynamic/ssot:SupabaseProject" and "__provider" in props
