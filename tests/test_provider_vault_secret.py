"""VaultSecretProvider against real PostgreSQL (the Vault stand-in), called as the Pulumi engine does."""

from __future__ import annotations

import base64
import logging
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import dill
import psycopg
import pulumi
import pytest
from pgtools import cluster_base, free_port
from psycopg import conninfo as pg_conninfo
from pulumi.runtime import rpc

from ssot import localdb
from ssot.errors import ProviderError
from ssot.fingerprint import fingerprint
from ssot.providers._base import _serialized
from ssot.providers.vault_secret import (
    VaultSecret,
    VaultSecretArgs,
    VaultSecretProvider,
)

CANARY = "canary-7f3c-" + secrets.token_hex(12)
OUTPUT_KEYS = {"conninfo", "fingerprint_key", "secret_id", "name", "description", "fingerprint", "source"}


@pytest.fixture
def provider() -> VaultSecretProvider:
    return VaultSecretProvider()


@pytest.fixture
def fp_key() -> str:
    return "fp-key-" + secrets.token_hex(16)


def _name() -> str:
    return "ssot_t_" + uuid.uuid4().hex[:12]


def _inputs(provider: VaultSecretProvider, **news: Any) -> dict[str, Any]:
    result = provider.check({}, news)
    assert [(f.property, f.reason) for f in result.failures] == []
    return result.inputs


def _row(pg: psycopg.Connection, secret_id: str) -> tuple[Any, ...] | None:
    return pg.execute("SELECT name, description, secret, decrypted_secret FROM vault.decrypted_secrets "
                      "WHERE id = %s", (secret_id,)).fetchone()


def _assert_no_value(outs: dict[str, Any], *values: str) -> None:
    assert "value" not in outs
    for value in values:
        assert value not in repr(outs)


def test_value_lifecycle(provider: VaultSecretProvider, db_conninfo: str, pg: psycopg.Connection,
                         fp_key: str) -> None:
    name = _name()
    inputs = _inputs(provider, conninfo=db_conninfo, fingerprint_key=fp_key, name=name, value=CANARY,
                     description="first")
    created = provider.create(inputs)
    secret_id, outs = created.id, created.outs
    assert outs is not None and set(outs) == OUTPUT_KEYS
    assert str(uuid.UUID(secret_id)) == secret_id == outs["secret_id"]
    assert outs["fingerprint"] == fingerprint(CANARY, fp_key.encode())  # pgcrypto == Python
    assert (outs["name"], outs["description"], outs["source"]) == (name, "first", "value")
    _assert_no_value(outs, CANARY)
    row = _row(pg, secret_id)
    assert row is not None and row[3] == CANARY and CANARY not in row[2]

    # Second apply with the same inputs: nothing to do.
    assert provider.diff(secret_id, outs, inputs).changes is False
    assert provider.read(secret_id, outs).outs == outs

    # Out-of-band value change: refresh sees a new fingerprint, the next diff wants to put it back.
    pg.execute("SELECT vault.update_secret(%s, 'changed-outside')", (secret_id,))
    refreshed = provider.read(secret_id, outs)
    assert refreshed.id == secret_id and refreshed.outs is not None
    assert refreshed.outs["fingerprint"] == fingerprint("changed-outside", fp_key.encode())
    diff = provider.diff(secret_id, refreshed.outs, inputs)
    assert (diff.changes, diff.replaces) == (True, [])
    restored = provider.update(secret_id, refreshed.outs, inputs).outs
    assert restored is not None and restored["fingerprint"] == outs["fingerprint"]
    assert _row(pg, secret_id)[3] == CANARY  # type: ignore[index]

    # New value and description from config: an update in place.
    new_inputs = _inputs(provider, conninfo=db_conninfo, fingerprint_key=fp_key, name=name,
                         value=CANARY + "-v2", description="second")
    diff = provider.diff(secret_id, restored, new_inputs)
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update(secret_id, restored, new_inputs).outs
    assert updated is not None
    assert updated["fingerprint"] == fingerprint(CANARY + "-v2", fp_key.encode())
    assert updated["description"] == "second" and updated["secret_id"] == secret_id
    assert provider.diff(secret_id, updated, new_inputs).changes is False

    provider.delete(secret_id, updated)
    assert _row(pg, secret_id) is None
    gone = provider.read(secret_id, updated)
    assert gone.id == "" and gone.outs == {}
    provider.delete(secret_id, updated)  # deleting what is gone is not an error


def test_description_only_change_keeps_value(provider: VaultSecretProvider, db_conninfo: str,
                                             pg: psycopg.Connection, fp_key: str) -> None:
    base = {"conninfo": db_conninfo, "fingerprint_key": fp_key, "name": _name(), "value": CANARY}
    created = provider.create(_inputs(provider, **base))
    assert created.outs is not None
    before = pg.execute("SELECT secret FROM vault.secrets WHERE id = %s", (created.id,)).fetchone()
    news = _inputs(provider, **base, description="documented")
    outs = provider.update(created.id, created.outs, news).outs
    assert outs is not None and outs["description"] == "documented"
    after = pg.execute("SELECT secret FROM vault.secrets WHERE id = %s", (created.id,)).fetchone()
    assert before == after  # the ciphertext was not rewritten: the value did not travel again


def test_rename_is_an_update_in_place(provider: VaultSecretProvider, db_conninfo: str,
                                      pg: psycopg.Connection, fp_key: str) -> None:
    base = {"conninfo": db_conninfo, "fingerprint_key": fp_key, "value": CANARY}
    old_name, new_name = _name(), _name()
    created = provider.create(_inputs(provider, **base, name=old_name))
    assert created.outs is not None
    news = _inputs(provider, **base, name=new_name)
    diff = provider.diff(created.id, created.outs, news)
    assert (diff.changes, diff.replaces) == (True, [])
    outs = provider.update(created.id, created.outs, news).outs
    assert outs is not None and outs["name"] == new_name and outs["secret_id"] == created.id
    assert _row(pg, created.id)[0::3] == (new_name, CANARY)  # type: ignore[index]

    # Renaming onto a name someone else holds fails clearly and changes nothing.
    taken = _name()
    pg.execute("SELECT vault.create_secret('other', %s)", (taken,))
    clash = _inputs(provider, **base, name=taken)
    with pytest.raises(ProviderError, match=f"cannot rename to '{taken}'"):
        provider.update(created.id, outs, clash)
    assert _row(pg, created.id)[0] == new_name  # type: ignore[index]


def test_create_refuses_an_existing_name(provider: VaultSecretProvider, db_conninfo: str,
                                         pg: psycopg.Connection, fp_key: str) -> None:
    name = _name()
    pg.execute("SELECT vault.create_secret('someone-elses', %s)", (name,))
    with pytest.raises(ProviderError, match="already exists: adopt it with managed_outside") as err:
        provider.create(_inputs(provider, conninfo=db_conninfo, fingerprint_key=fp_key, name=name,
                                value=CANARY))
    assert CANARY not in str(err.value)
    assert _row(pg, pg.execute("SELECT id FROM vault.secrets WHERE name = %s", (name,)
                               ).fetchone()[0])[3] == "someone-elses"  # type: ignore[index]


def test_generated_value_never_leaves_the_database(provider: VaultSecretProvider, db_conninfo: str,
                                                   pg: psycopg.Connection, fp_key: str) -> None:
    base = {"conninfo": db_conninfo, "fingerprint_key": fp_key, "name": _name()}
    inputs = _inputs(provider, **base, generate_bytes=32.0)  # Pulumi numbers travel as floats
    assert inputs["generate_bytes"] == 32
    created = provider.create(inputs)
    outs = created.outs
    assert outs is not None and outs["source"] == "generated" and outs["generate_bytes"] == 32
    assert set(outs) == OUTPUT_KEYS | {"generate_bytes"}
    assert provider.read(created.id, outs).outs == outs  # the fingerprint is stable
    assert provider.diff(created.id, outs, inputs).changes is False

    # The test (not the provider) looks at the plaintext, only to prove what the outputs are not.
    generated = _row(pg, created.id)[3]  # type: ignore[index]
    assert len(base64.b64decode(generated, validate=True)) == 32
    assert outs["fingerprint"] == fingerprint(generated, fp_key.encode())
    _assert_no_value(outs, generated)

    bigger = _inputs(provider, **base, generate_bytes=200)
    diff = provider.diff(created.id, outs, bigger)
    assert (diff.changes, diff.replaces) == (True, [])
    regenerated = provider.update(created.id, outs, bigger).outs
    assert regenerated is not None and regenerated["fingerprint"] != outs["fingerprint"]
    new_value = _row(pg, created.id)[3]  # type: ignore[index]
    assert "\n" not in new_value and len(base64.b64decode(new_value, validate=True)) == 200
    _assert_no_value(regenerated, new_value)


def test_managed_outside_is_adopted_never_written(provider: VaultSecretProvider, db_conninfo: str,
                                                  pg: psycopg.Connection, fp_key: str) -> None:
    name = _name()
    existing = str(pg.execute("SELECT vault.create_secret('outside-value', %s, 'theirs')", (name,)
                              ).fetchone()[0])  # type: ignore[index]
    before = pg.execute("SELECT secret, updated_at FROM vault.secrets WHERE id = %s", (existing,)).fetchone()
    inputs = _inputs(provider, conninfo=db_conninfo, fingerprint_key=fp_key, name=name, managed_outside=True)
    created = provider.create(inputs)
    outs = created.outs
    assert created.id == existing and outs is not None
    assert outs["fingerprint"] == fingerprint("outside-value", fp_key.encode())
    assert (outs["description"], outs["source"]) == ("theirs", "managed_outside")
    assert pg.execute("SELECT secret, updated_at FROM vault.secrets WHERE id = %s", (existing,)
                      ).fetchone() == before

    # Its owner rotates it: refresh records the new fingerprint, but there is nothing for us to write.
    pg.execute("SELECT vault.update_secret(%s, 'rotated-outside')", (existing,))
    refreshed = provider.read(existing, outs).outs
    assert refreshed is not None and refreshed["fingerprint"] == fingerprint("rotated-outside", fp_key.encode())
    assert provider.diff(existing, refreshed, inputs).changes is False

    # Adopting another secret is a replace; deleting an adopted secret leaves it alone.
    other = _inputs(provider, conninfo=db_conninfo, fingerprint_key=fp_key, name=_name(),
                    managed_outside=True)
    assert provider.diff(existing, refreshed, other).replaces == ["name"]
    provider.delete(existing, refreshed)
    assert _row(pg, existing) is not None


def test_adopting_a_missing_secret_fails_clearly(provider: VaultSecretProvider, db_conninfo: str,
                                                 fp_key: str) -> None:
    name = _name()
    with pytest.raises(ProviderError, match=f"no Vault secret named '{name}' exists to adopt"):
        provider.create(_inputs(provider, conninfo=db_conninfo, fingerprint_key=fp_key, name=name,
                                managed_outside=True))


def test_source_changes(provider: VaultSecretProvider, db_conninfo: str, pg: psycopg.Connection,
                        fp_key: str) -> None:
    name = _name()
    common = {"conninfo": db_conninfo, "fingerprint_key": fp_key, "name": name}
    as_value = _inputs(provider, **common, value=CANARY)
    created = provider.create(as_value)
    assert created.outs is not None

    # value -> generated under the same name: replace, deleting first so the name is free.
    diff = provider.diff(created.id, created.outs, _inputs(provider, **common, generate_bytes=32))
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, ["generate_bytes"], True)
    # ... under a new name: replace, create first (no collision possible).
    diff = provider.diff(created.id, created.outs,
                         _inputs(provider, **{**common, "name": _name()}, generate_bytes=32))
    assert (diff.replaces, diff.delete_before_replace) == (["generate_bytes"], False)

    # value -> managed_outside: hand the same secret over, never delete it.
    handed = _inputs(provider, **common, managed_outside=True)
    diff = provider.diff(created.id, created.outs, handed)
    assert (diff.changes, diff.replaces) == (True, [])
    outs = provider.update(created.id, created.outs, handed).outs
    assert outs is not None and outs["source"] == "managed_outside"
    provider.delete(created.id, outs)
    assert _row(pg, created.id) is not None

    # managed_outside -> value: take it back, writing the declared value into the same secret.
    pg.execute("SELECT vault.update_secret(%s, 'drifted')", (created.id,))
    back = _inputs(provider, **common, value=CANARY)
    diff = provider.diff(created.id, outs, back)
    assert (diff.changes, diff.replaces) == (True, [])
    outs = provider.update(created.id, outs, back).outs
    assert outs is not None and outs["source"] == "value"
    assert outs["fingerprint"] == fingerprint(CANARY, fp_key.encode())
    assert _row(pg, created.id)[3] == CANARY  # type: ignore[index]


def test_fingerprint_key_change_recomputes(provider: VaultSecretProvider, db_conninfo: str,
                                           fp_key: str) -> None:
    common = {"conninfo": db_conninfo, "name": _name(), "value": CANARY}
    created = provider.create(_inputs(provider, **common, fingerprint_key=fp_key))
    assert created.outs is not None
    new_key = fp_key + "-rotated"
    news = _inputs(provider, **common, fingerprint_key=new_key)
    assert provider.diff(created.id, created.outs, news).changes is True
    outs = provider.update(created.id, created.outs, news).outs
    assert outs is not None and outs["fingerprint"] == fingerprint(CANARY, new_key.encode())


def test_check_reports_every_problem_without_secrets(provider: VaultSecretProvider) -> None:
    secret_conninfo = f"host=127.0.0.1 password={CANARY} this-is-not-valid"
    result = provider.check({}, {
        "conninfo": secret_conninfo, "fingerprint_key": "short", "name": "Bad-Name",
        "value": CANARY, "generate_bytes": 8, "descripton": "typo",
    })
    reasons = {f.property: f.reason for f in result.failures}
    assert set(reasons) == {"conninfo", "fingerprint_key", "name", "generate_bytes", "descripton"}
    assert "did you mean 'description'" in reasons["descripton"]
    assert "exactly one of value, generate_bytes or managed_outside; got value, generate_bytes" in \
        reasons["generate_bytes"] or "between 16 and 1024" in reasons["generate_bytes"]
    assert "Vault secret name" in reasons["name"]
    for reason in reasons.values():
        assert CANARY not in reason

    none_given = provider.check({}, {"conninfo": "host=x", "fingerprint_key": "k" * 16, "name": "ok"})
    assert [f.property for f in none_given.failures] == ["value"]
    assert "none was given" in none_given.failures[0].reason

    described = provider.check({}, {"conninfo": "host=x", "fingerprint_key": "k" * 16, "name": "ok",
                                    "managed_outside": True, "description": "d"})
    assert [f.property for f in described.failures] == ["description"]

    # Values not known yet during preview are not judged.
    preview = provider.check({}, {"conninfo": rpc.UNKNOWN, "fingerprint_key": rpc.UNKNOWN, "name": "ok",
                                  "value": rpc.UNKNOWN, "__provider": "x"})
    assert preview.failures == []


def test_database_down_is_clear_and_leaks_nothing(provider: VaultSecretProvider, fp_key: str) -> None:
    closed = pg_conninfo.make_conninfo(host="127.0.0.1", port=str(free_port()), user="postgres",
                                       password=CANARY, dbname="postgres")
    inputs = _inputs(provider, conninfo=closed, fingerprint_key=fp_key, name="ssot_t_down", value=CANARY)
    with pytest.raises(ProviderError) as err:
        provider.create(inputs)
    message = str(err.value)
    assert "creating Vault secret 'ssot_t_down' failed: cannot reach database 'postgres'" in message
    assert "is the server running" in message
    assert CANARY not in message and closed not in message
    assert err.value.__cause__ is None


def test_wrong_password_is_clear_and_leaks_nothing(provider: VaultSecretProvider, local_db: localdb.LocalDb,
                                                   fp_key: str) -> None:
    wrong = pg_conninfo.make_conninfo(local_db.conninfo(), password=CANARY)
    for call in (lambda: provider.create(_inputs(provider, conninfo=wrong, fingerprint_key=fp_key,
                                                 name="ssot_t_pw", value=CANARY)),
                 lambda: provider.read(str(uuid.uuid4()), {"conninfo": wrong, "fingerprint_key": fp_key,
                                                           "name": "ssot_t_pw", "source": "value"})):
        with pytest.raises(ProviderError, match="authentication failed for database 'postgres' as "
                                                "'postgres'") as err:
            call()
        assert CANARY not in str(err.value) and local_db.password_file.read_text().strip() not in str(err.value)


def test_permission_denied_is_clear(provider: VaultSecretProvider, local_db: localdb.LocalDb,
                                    pg: psycopg.Connection, fp_key: str) -> None:
    role, password = "ssot_t_noperm", secrets.token_hex(16)
    pg.execute(f"DROP ROLE IF EXISTS {role}")
    pg.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        weak = pg_conninfo.make_conninfo(local_db.conninfo(), user=role, password=password)
        with pytest.raises(ProviderError, match="permission denied for 'ssot_t_noperm'") as err:
            provider.create(_inputs(provider, conninfo=weak, fingerprint_key=fp_key, name="ssot_t_perm",
                                    value=CANARY))
        assert "grant the role" in str(err.value)
        assert CANARY not in str(err.value) and password not in str(err.value)
    finally:
        pg.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.fixture
def stopped_db() -> Iterator[localdb.LocalDb]:
    with cluster_base() as base:
        yield localdb.start(base / "pgdata", port=free_port())


def test_server_stopped_midway(provider: VaultSecretProvider, stopped_db: localdb.LocalDb,
                               fp_key: str) -> None:
    conninfo = stopped_db.conninfo()
    created = provider.create(_inputs(provider, conninfo=conninfo, fingerprint_key=fp_key,
                                      name="ssot_t_stop", value=CANARY))
    assert created.outs is not None
    assert localdb.stop(stopped_db.datadir) is True
    for call in (lambda: provider.read(created.id, created.outs or {}),
                 lambda: provider.delete(created.id, created.outs or {})):
        with pytest.raises(ProviderError, match=r"Vault secret 'ssot_t_stop' .* failed: cannot reach") as err:
            call()
        assert CANARY not in str(err.value) and conninfo not in str(err.value)
        assert stopped_db.password_file.read_text().strip() not in str(err.value)


def test_canary_appears_nowhere(provider: VaultSecretProvider, db_conninfo: str, pg: psycopg.Connection,
                                local_db: localdb.LocalDb, fp_key: str, capsys: pytest.CaptureFixture[str],
                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    name = _name()
    inputs = _inputs(provider, conninfo=db_conninfo, fingerprint_key=fp_key, name=name, value=CANARY)
    created = provider.create(inputs)
    assert created.outs is not None
    seen += [repr(created.outs), created.id]
    seen.append(repr(provider.read(created.id, created.outs).outs))
    seen.append(repr(provider.diff(created.id, created.outs, inputs).__dict__))
    renamed = {**inputs, "name": _name()}
    updated = provider.update(created.id, created.outs, renamed).outs
    seen.append(repr(updated))

    failing = [
        lambda: provider.create(renamed),  # name taken
        lambda: provider.update(created.id, created.outs or {}, {**inputs, "name": "Bad Name"}),
        lambda: provider.create({**inputs, "conninfo": pg_conninfo.make_conninfo(db_conninfo, password="x")}),
        lambda: provider.create({**inputs, "conninfo": f"host=127.0.0.1 port={free_port()} password=x"}),
        lambda: provider.create({**inputs, "conninfo": "not a conninfo " + CANARY}),
    ]
    for call in failing:
        with pytest.raises(ProviderError) as err:
            call()
        seen.append(str(err.value))
        seen.append(repr(err.value.args))
        assert err.value.__cause__ is None

    stored = pg.execute("SELECT string_agg(secret || ' ' || name || ' ' || description, ' ') FROM vault.secrets"
                        ).fetchone()
    seen.append(str(stored))
    captured = capsys.readouterr()
    seen += [captured.out, captured.err, caplog.text]
    seen.append((local_db.datadir / localdb.LOG_FILE).read_text(errors="replace"))
    for text in seen:
        assert CANARY not in text
    # The canary really was written: it is there, encrypted.
    assert pg.execute("SELECT count(*) FROM vault.decrypted_secrets WHERE decrypted_secret = %s",
                      (CANARY,)).fetchone() == (1,)


def test_serialized_provider_holds_no_secret(provider: VaultSecretProvider, db_conninfo: str,
                                             fp_key: str) -> None:
    provider.create(_inputs(provider, conninfo=db_conninfo, fingerprint_key=fp_key, name=_name(),
                            value=CANARY))
    pickled = base64.b64decode(_serialized(VaultSecretProvider))
    password = pg_conninfo.conninfo_to_dict(db_conninfo)["password"]
    for needle in (CANARY, fp_key, str(password), db_conninfo):
        assert needle.encode() not in pickled
    assert isinstance(dill.loads(pickled), VaultSecretProvider)  # noqa: S301 (our own pickle)
    assert vars(provider) == {}  # nothing captured on the instance either


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.registered.append(args)
        return f"{args.name}-id", {**args.inputs, "secret_id": "00000000-0000-0000-0000-000000000000",
                                   "fingerprint": "f" * 64, "source": "value"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def test_resource_registration() -> None:
    mocks = _Mocks()
    pulumi.runtime.set_mocks(mocks, preview=False)

    @pulumi.runtime.test
    def program() -> pulumi.Output[None]:
        resource = VaultSecret("api-key", VaultSecretArgs(conninfo=f"host=127.0.0.1 password={CANARY}-pw",
                                                          fingerprint_key="k" * 16, name="api_key",
                                                          value=CANARY))

        def check(values: list[Any]) -> None:
            fp, secret_id = values
            assert fp == "f" * 64 and secret_id.startswith("0000")
            (args,) = mocks.registered
            assert args.typ == "pulumi-python:dynamic/ssot:VaultSecret"
            # Secret inputs travel marked secret, so the engine encrypts them (and same-named outputs).
            for key in ("value", "conninfo", "fingerprint_key"):
                assert rpc.is_rpc_secret(args.inputs[key]), key
            assert not rpc.is_rpc_secret(args.inputs["name"])
            provider_blob = base64.b64decode(args.inputs["__provider"])
            assert CANARY.encode() not in provider_blob
            assert isinstance(dill.loads(provider_blob), VaultSecretProvider)  # noqa: S301

        return pulumi.Output.all(resource.fingerprint, resource.secret_id).apply(check)

    program()
    assert len(mocks.registered) == 1
