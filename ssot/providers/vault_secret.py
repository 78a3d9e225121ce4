"""Supabase Vault secrets as a Pulumi dynamic resource.

Works through Vault's public interface only (vault.create_secret, vault.update_secret,
vault.decrypted_secrets, DELETE FROM vault.secrets), so the same code runs against a real Supabase
project and against the local stand-in.

A secret's value comes from exactly one source:
- `value`: from Pulumi secret config. It crosses the wire once per write, never comes back, and is
  represented in state by `fingerprint` only.
- `generate_bytes`: random bytes generated inside the database (gen_random_bytes, base64), so the
  plaintext never leaves PostgreSQL.
- `managed_outside`: someone else owns the secret; we adopt it by name, read its fingerprint and
  never write or delete it.

`fingerprint` is HMAC-SHA256 of the value under `fingerprint_key`, computed by pgcrypto inside the
database on every read (so `pulumi refresh` sees a value changed out of band) and, for `value`, by
ssot.fingerprint in Python at diff time; the two agree byte for byte.

Outputs carry `conninfo` and `fingerprint_key` because the engine hands only the outputs to read and
delete; both arrive as secret inputs, so the engine keeps them secret in state.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pulumi
from psycopg import errors as pg_errors
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from ssot import pg
from ssot.errors import ProviderError
from ssot.fingerprint import fingerprint
from ssot.names import secret_name_problem
from ssot.providers._base import DynamicResource, secret
from ssot.providers._props import (
    as_int,
    get,
    is_unknown,
    plain,
    require_str,
    unknown_key_failures,
)
from ssot.shape import describe

SOURCE_VALUE = "value"
SOURCE_GENERATED = "generated"
SOURCE_MANAGED_OUTSIDE = "managed_outside"
# The input that selects each source; what CheckFailure and DiffResult.replaces name.
_SOURCE_INPUT = {SOURCE_VALUE: "value", SOURCE_GENERATED: "generate_bytes",
                 SOURCE_MANAGED_OUTSIDE: "managed_outside"}

INPUTS = frozenset({"conninfo", "fingerprint_key", "name", "description", "value", "generate_bytes",
                    "managed_outside"})
MIN_FINGERPRINT_KEY_CHARS = 16
MIN_GENERATED_BYTES = 16
MAX_GENERATED_BYTES = 1024  # pgcrypto's gen_random_bytes limit
MAX_DESCRIPTION_CHARS = 1000
APP = "ssot-vault-secret"

# Base64 without the line breaks PostgreSQL's encode() inserts every 76 characters.
_GENERATED_SQL = "translate(encode(extensions.gen_random_bytes(%(n)s::int), 'base64'), E'\\n', '')"


def _sources(props: dict[str, Any]) -> list[str]:
    found = []
    if get(props, "value") is not None:
        found.append(SOURCE_VALUE)
    if get(props, "generate_bytes") is not None:
        found.append(SOURCE_GENERATED)
    managed = get(props, "managed_outside")
    if managed is True or is_unknown(managed):
        found.append(SOURCE_MANAGED_OUTSIDE)
    return found


def source_of(props: dict[str, Any]) -> str:
    found = _sources(props)
    if len(found) != 1:
        raise ProviderError("a Vault secret needs exactly one of value, generate_bytes or "
                            f"managed_outside; got {len(found)} (run `pulumi preview` to see check errors)")
    return found[0]


def _valid_name(props: dict[str, Any], what: str) -> str:
    """The secret's name; re-checked here as well as in check, because it reaches the database."""
    name = require_str(props, "name", what)
    problem = secret_name_problem(name)
    if problem:
        raise ProviderError(f"{what}: expected {problem}")
    return name


def _key_bytes(props: dict[str, Any]) -> bytes:
    return require_str(props, "fingerprint_key", "Vault secret").encode()


def _check(news: dict[str, Any]) -> tuple[dict[str, Any], list[CheckFailure]]:
    failures = unknown_key_failures(news, INPUTS)
    inputs = dict(news)

    conninfo = get(news, "conninfo")
    if not is_unknown(conninfo) and not pg.valid_conninfo(conninfo):
        failures.append(CheckFailure("conninfo", "expected a libpq connection string (postgresql://... or "
                                                 "key=value pairs); the value is not shown as it may hold a "
                                                 "password"))
    key = get(news, "fingerprint_key")
    if not is_unknown(key) and (not isinstance(key, str) or len(key) < MIN_FINGERPRINT_KEY_CHARS):
        failures.append(CheckFailure("fingerprint_key", f"expected a string of at least "
                                                        f"{MIN_FINGERPRINT_KEY_CHARS} characters (the HMAC "
                                                        "key for fingerprints; value not shown)"))
    name = get(news, "name")
    if not is_unknown(name):
        problem = secret_name_problem(name)
        if problem:
            failures.append(CheckFailure("name", "expected " + problem))

    found = _sources(news)
    if not found:
        failures.append(CheckFailure("value", "expected exactly one of value (a secret from Pulumi config), "
                                              "generate_bytes (a number of random bytes generated in the "
                                              "database) or managed_outside: true; none was given"))
    elif len(found) > 1:
        given = ", ".join(_SOURCE_INPUT[s] for s in found)
        failures.append(CheckFailure(_SOURCE_INPUT[found[1]],
                                     f"expected exactly one of value, generate_bytes or managed_outside; "
                                     f"got {given}"))

    value = get(news, "value")
    if value is not None and not is_unknown(value) and (not isinstance(value, str) or value == ""):
        failures.append(CheckFailure("value", "expected a non-empty string (value not shown)"))

    generate = get(news, "generate_bytes")
    if generate is not None and not is_unknown(generate):
        n = as_int(generate)
        if n is None or not MIN_GENERATED_BYTES <= n <= MAX_GENERATED_BYTES:
            failures.append(CheckFailure("generate_bytes", f"expected a whole number of random bytes "
                                                           f"between {MIN_GENERATED_BYTES} and "
                                                           f"{MAX_GENERATED_BYTES}, got {describe(generate)}"))
        else:
            inputs["generate_bytes"] = n

    managed = get(news, "managed_outside")
    if managed is not None and not is_unknown(managed) and not isinstance(managed, bool):
        failures.append(CheckFailure("managed_outside", f"expected true or false, got {describe(managed)}"))

    description = get(news, "description")
    if managed is True and description is not None:
        failures.append(CheckFailure("description", "a secret managed outside is never written: remove "
                                                    "description (the live one is reported as an output)"))
    elif description is not None and not is_unknown(description):
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS:
            failures.append(CheckFailure("description", f"expected a string of at most "
                                                        f"{MAX_DESCRIPTION_CHARS} characters"))
    elif managed is not True:
        inputs["description"] = ""
    return inputs, failures


class VaultSecretProvider(ResourceProvider):
    """CRUD for one Vault secret. Stateless: everything arrives in the property bags."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = _check(news)
        return CheckResult(inputs, failures)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        olds, news = _olds, _news
        old_source = get(olds, "source")
        new_sources = _sources(news)
        new_source = new_sources[0] if len(new_sources) == 1 else None
        name_changed = get(news, "name") != get(olds, "name")
        replaces: list[str] = []
        changed: list[str] = []

        if old_source != new_source:
            if SOURCE_MANAGED_OUTSIDE in (old_source, new_source) and not name_changed:
                # Handing a secret over (to us or away from us) keeps the same secret: replacing it
                # would delete the very secret being handed over, or collide with it by name.
                changed.append("source")
            else:
                replaces.append(_SOURCE_INPUT.get(new_source or "", "value"))
        elif new_source == SOURCE_MANAGED_OUTSIDE and name_changed:
            replaces.append("name")  # adopting another secret; the old one stays where it is

        if name_changed and not replaces:
            changed.append("name")  # a rename is vault.update_secret(new_name): same id, same value
        if new_source != SOURCE_MANAGED_OUTSIDE:
            if get(news, "description", "") != get(olds, "description", ""):
                changed.append("description")
        if new_source == SOURCE_VALUE and old_source == SOURCE_VALUE:
            value, key = get(news, "value"), get(news, "fingerprint_key")
            if is_unknown(value) or is_unknown(key) or not isinstance(value, str) or not isinstance(key, str):
                changed.append("value")
            elif fingerprint(value, key.encode()) != get(olds, "fingerprint"):
                changed.append("value")
        if new_source == SOURCE_GENERATED and old_source == SOURCE_GENERATED:
            if as_int(get(news, "generate_bytes")) != as_int(get(olds, "generate_bytes")):
                changed.append("generate_bytes")
        for key in ("conninfo", "fingerprint_key"):
            if get(news, key) != get(olds, key):
                changed.append(key)

        return DiffResult(
            changes=bool(replaces or changed),
            replaces=replaces,
            # Same name on both sides of a replace: the unique name must be freed first.
            delete_before_replace=bool(replaces) and not name_changed,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        source = source_of(props)
        conninfo = require_str(props, "conninfo", "creating a Vault secret")
        name = _valid_name(props, "creating a Vault secret")
        value = get(props, "value")
        action = f"creating Vault secret '{name}'"
        with pg.provider_errors(action, conninfo, extra_sensitive=[value]):
            with pg.connect(conninfo, app=APP, extra_sensitive=[value]) as conn, conn.transaction():
                if source == SOURCE_MANAGED_OUTSIDE:
                    row = conn.execute("SELECT id::text FROM vault.secrets WHERE name = %s",
                                       (name,)).fetchone()
                    if row is None:
                        raise ProviderError(
                            f"no Vault secret named '{name}' exists to adopt (managed_outside: true): create "
                            "it in Supabase first, or let ssot manage it with value or generate_bytes")
                    secret_id = str(row[0])
                else:
                    secret_id = self._create_secret(conn, source, props, name)
                outs = _outputs(conn, secret_id, props, source)
        if outs is None:
            raise ProviderError(f"{action} failed: the secret vanished right after it was written")
        return CreateResult(secret_id, outs)

    @staticmethod
    def _create_secret(conn: psycopg.Connection, source: str, props: dict[str, Any], name: str) -> str:
        description = get(props, "description", "")
        try:
            if source == SOURCE_VALUE:
                row = conn.execute("SELECT vault.create_secret(%(v)s, %(name)s, %(d)s)::text",
                                   {"v": get(props, "value"), "name": name, "d": description}).fetchone()
            else:
                row = conn.execute(
                    f"SELECT vault.create_secret({_GENERATED_SQL}, %(name)s, %(d)s)::text",
                    {"n": as_int(get(props, "generate_bytes")), "name": name, "d": description},
                ).fetchone()
        except pg_errors.UniqueViolation:
            raise ProviderError(
                f"a Vault secret named '{name}' already exists: adopt it with managed_outside: true, delete "
                "it, or choose another name") from None
        assert row is not None
        return str(row[0])

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        source = get(props, "source") or source_of(props)
        conninfo = require_str(props, "conninfo", "reading a Vault secret")
        name = get(props, "name", id_)
        with pg.provider_errors(f"reading Vault secret '{name}' ({id_})", conninfo):
            _require_uuid(id_, name)
            with pg.connect(conninfo, app=APP) as conn:
                outs = _outputs(conn, id_, props, source)
        if outs is None:
            return ReadResult("", {})  # gone: the engine drops it from state
        return ReadResult(id_, outs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        olds, news = _olds, _news
        source = source_of(news)
        conninfo = require_str(news, "conninfo", "updating a Vault secret")
        name = _valid_name(news, "updating a Vault secret")
        value = get(news, "value")
        action = f"updating Vault secret '{name}' ({_id})"
        with pg.provider_errors(action, conninfo, extra_sensitive=[value]):
            _require_uuid(_id, name)
            with pg.connect(conninfo, app=APP, extra_sensitive=[value]) as conn, conn.transaction():
                if source != SOURCE_MANAGED_OUTSIDE:
                    self._update_secret(conn, _id, olds, news, source, name)
                outs = _outputs(conn, _id, news, source)
        if outs is None:
            raise ProviderError(f"{action} failed: the secret no longer exists (deleted outside Pulumi?); "
                                "run `pulumi refresh` and then `pulumi up` to re-create it")
        return UpdateResult(outs)

    @staticmethod
    def _update_secret(conn: psycopg.Connection, secret_id: str, olds: dict[str, Any], news: dict[str, Any],
                       source: str, name: str) -> None:
        old_source = get(olds, "source")
        params: dict[str, Any] = {
            "id": secret_id,
            "name": name if name != get(olds, "name") else None,
            "d": get(news, "description", ""),
        }
        key_changed = get(news, "fingerprint_key") != get(olds, "fingerprint_key")
        if source == SOURCE_VALUE:
            value = get(news, "value")
            write = (old_source != SOURCE_VALUE or key_changed
                     or fingerprint(value, _key_bytes(news)) != get(olds, "fingerprint"))
            params["v"] = value if write else None
            query = "SELECT vault.update_secret(%(id)s::uuid, %(v)s, %(name)s, %(d)s)"
        else:
            n = as_int(get(news, "generate_bytes"))
            regenerate = old_source != SOURCE_GENERATED or n != as_int(get(olds, "generate_bytes"))
            params["n"] = n
            new_secret = _GENERATED_SQL if regenerate else "NULL"
            query = f"SELECT vault.update_secret(%(id)s::uuid, {new_secret}, %(name)s, %(d)s)"
        try:
            conn.execute(query, params)
        except pg_errors.UniqueViolation:
            raise ProviderError(f"cannot rename to '{name}': another Vault secret already has that name"
                                ) from None

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        props = _props
        if get(props, "source") == SOURCE_MANAGED_OUTSIDE:
            return  # adopted, not ours: leave it
        conninfo = require_str(props, "conninfo", "deleting a Vault secret")
        name = get(props, "name", _id)
        with pg.provider_errors(f"deleting Vault secret '{name}' ({_id})", conninfo):
            _require_uuid(_id, name)
            with pg.connect(conninfo, app=APP) as conn:
                conn.execute("DELETE FROM vault.secrets WHERE id = %s::uuid", (_id,))


def _require_uuid(secret_id: str, name: object) -> None:
    try:
        uuid.UUID(secret_id)
    except (ValueError, TypeError, AttributeError):
        raise ProviderError(f"Vault secret '{name}': id {secret_id!r} is not a Vault secret id (a uuid)"
                            ) from None


def _outputs(conn: psycopg.Connection, secret_id: str, props: dict[str, Any], source: str
             ) -> dict[str, Any] | None:
    """The resource's outputs as the database has them now, or None if the secret is gone."""
    row = conn.execute(
        "SELECT id::text, name, description,"
        " encode(extensions.hmac(convert_to(decrypted_secret, 'UTF8'), %(k)s::bytea, 'sha256'), 'hex')"
        " FROM vault.decrypted_secrets WHERE id = %(id)s::uuid",
        {"k": _key_bytes(props), "id": secret_id},
    ).fetchone()
    if row is None:
        return None
    outs: dict[str, Any] = {
        "conninfo": plain(props.get("conninfo")),
        "fingerprint_key": plain(props.get("fingerprint_key")),
        "secret_id": row[0],
        "name": row[1],
        "description": row[2],
        "fingerprint": row[3],
        "source": source,
    }
    if source == SOURCE_GENERATED:
        outs["generate_bytes"] = as_int(get(props, "generate_bytes"))
    if source == SOURCE_MANAGED_OUTSIDE:
        outs["managed_outside"] = True
    return outs


@dataclass
class VaultSecretArgs:
    """Inputs of a VaultSecret. Give exactly one of value, generate_bytes, managed_outside."""

    conninfo: pulumi.Input[str]
    fingerprint_key: pulumi.Input[str]
    name: pulumi.Input[str]
    description: pulumi.Input[str] | None = None
    value: pulumi.Input[str] | None = None
    generate_bytes: pulumi.Input[int] | None = None
    managed_outside: bool | None = None


class VaultSecret(DynamicResource, module="ssot", name="VaultSecret"):
    """A Supabase Vault secret; its value is never an output (see `fingerprint`)."""

    provider_class = VaultSecretProvider
    secret_outputs = ("conninfo", "fingerprint_key", "value", "fingerprint")

    secret_id: pulumi.Output[str]
    name: pulumi.Output[str]
    description: pulumi.Output[str]
    fingerprint: pulumi.Output[str]
    source: pulumi.Output[str]

    def __init__(self, resource_name: str, args: VaultSecretArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "conninfo": secret(args.conninfo),
            "fingerprint_key": secret(args.fingerprint_key),
            "name": args.name,
            "description": args.description,
            "value": secret(args.value) if args.value is not None else None,
            "generate_bytes": args.generate_bytes,
            # Absent means False: an absent input costs the SDK nothing.
            "managed_outside": True if args.managed_outside else None,
        }
        super().__init__(resource_name, props, opts)
