"""An Edge Function secret (a runtime environment variable of a project's Edge Functions).

The doctrine keeps secrets in Supabase Vault and allows Edge Function secrets only for runtime-only
values, so every one must say why it is runtime-only (`runtime_only_reason`, required, kept in
outputs for the auditor).

Inputs: api_url, access_token (secret), project_ref, name, value (secret), runtime_only_reason,
fingerprint_key (secret).
Outputs: api_url, project_ref, name, runtime_only_reason, digest, fingerprint.

- `digest` is what Supabase itself reports for the secret: the SHA-256 hex of the value. It lets
  read (refresh), which gets no inputs and so no value, see an out-of-band change by comparing it
  with the live digest; diff compares sha256(new value) with it, in memory. Being an unkeyed hash, it
  is registered as a secret output, so Pulumi encrypts it in state and masks it in displays.
- `fingerprint` is the keyed HMAC (ssot.fingerprint) the auditor compares across stores. After an
  out-of-band change read cannot compute it (it never sees the new plaintext), so it becomes None and
  the next `pulumi up` writes the declared value back.
- create refuses to overwrite a secret that already exists (someone else owns it: import it or remove
  it first); renames and project changes replace; read and delete take the access token from
  SUPABASE_ACCESS_TOKEN, because outputs never hold it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.runtime.rpc import UNKNOWN

from ssot.errors import ProviderError
from ssot.fingerprint import fingerprint
from ssot.names import env_name_problem, project_ref_problem
from ssot.providers._base import DynamicResource, secret
from ssot.shape import describe
from ssot.supabase_api import DEFAULT_BASE_URL, ManagementApi, NotFound, resolve_access_token

MAX_VALUE_LENGTH = 24576  # CreateSecretBody: value maxLength
_OUTPUTS = ("api_url", "project_ref", "name", "runtime_only_reason", "digest", "fingerprint")


def _unknown(v: Any) -> bool:
    return isinstance(v, str) and v == UNKNOWN


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _same(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and hmac.compare_digest(a, b)


def secret_id(project_ref: str, name: str) -> str:
    return f"{project_ref}/{name}"


class EdgeFunctionSecretProvider(ResourceProvider):
    """Stateless: every connection detail comes from the resource's properties."""

    def _client_kwargs(self) -> dict[str, Any]:
        """Extra ManagementApi arguments; tests override it to inject sleep/clock."""
        return {}

    def _api(self, props: dict[str, Any]) -> ManagementApi:
        return ManagementApi(resolve_access_token(props), props.get("api_url") or DEFAULT_BASE_URL,
                             **self._client_kwargs())

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []

        def value(prop: str) -> Any:
            v = news.get(prop)
            return None if _unknown(v) else v

        def require(prop: str, ok: bool, expected: str) -> None:
            if news.get(prop) is None or (value(prop) is not None and not ok):
                failures.append(CheckFailure(prop, f"{prop}: expected {expected}"))

        name = value("name")
        require("name", env_name_problem(name) is None, str(env_name_problem(name)))
        ref = value("project_ref")
        require("project_ref", project_ref_problem(ref) is None, str(project_ref_problem(ref)))
        reason = value("runtime_only_reason")
        require("runtime_only_reason", isinstance(reason, str) and bool(reason.strip()),
                "a non-empty reason why this value is runtime-only (the doctrine keeps secrets in "
                "Supabase Vault; Edge Function secrets are allowed only for runtime-only values)")
        secret = value("value")
        # Never echo the value: say only what shape was expected.
        require("value", isinstance(secret, str) and 0 < len(secret) <= MAX_VALUE_LENGTH,
                f"a secret value (non-empty string of at most {MAX_VALUE_LENGTH} characters)")
        key = value("fingerprint_key")
        require("fingerprint_key", isinstance(key, str) and bool(key),
                "a fingerprint key (non-empty string)")
        token = value("access_token")
        if token is not None and not (isinstance(token, str) and token):
            failures.append(CheckFailure("access_token", "access_token: expected a non-empty string"))
        url = value("api_url")
        if url is not None and not (isinstance(url, str) and re.match(r"^https?://[^/\s]+", url)):
            failures.append(CheckFailure("api_url", f"api_url: expected an http(s) URL such as "
                                                    f"{DEFAULT_BASE_URL}, got {describe(url)}"))
        return CheckResult(news, failures)

    def _outs(self, props: dict[str, Any], digest: str | None, fp: str | None) -> dict[str, Any]:
        return {
            "api_url": props.get("api_url") or DEFAULT_BASE_URL,
            "project_ref": props["project_ref"],
            "name": props["name"],
            "runtime_only_reason": props.get("runtime_only_reason"),
            "digest": digest,
            "fingerprint": fp,
        }

    def _write(self, api: ManagementApi, props: dict[str, Any]) -> str:
        """Set the value and confirm Supabase now reports its digest; return that digest."""
        ref, name, value = props["project_ref"], props["name"], props["value"]
        api.create_secrets(ref, {name: value})
        live = api.get_secret_digest(ref, name)
        if not _same(live, _sha256(value)):
            raise ProviderError(f"Edge Function secret {name} in project {ref}: after writing it, "
                                f"Supabase reports {'no such secret' if live is None else 'another value'}")
        assert live is not None
        return live

    def create(self, props: dict[str, Any]) -> CreateResult:
        api = self._api(props)
        ref, name = props["project_ref"], props["name"]
        if api.get_secret_digest(ref, name) is not None:
            raise ProviderError(f"Edge Function secret {name} already exists in project {ref}; it is "
                                f"managed elsewhere: import it (`pulumi import`) or delete it first")
        digest = self._write(api, props)
        fp = fingerprint(props["value"], props["fingerprint_key"].encode())
        return CreateResult(secret_id(ref, name), self._outs(props, digest, fp))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        ref, _, name = id_.partition("/")
        ref = props.get("project_ref") or ref
        name = props.get("name") or name
        try:
            live = self._api(props).get_secret_digest(ref, name)
        except NotFound:
            live = None  # the project itself is gone, and the secret with it
        if live is None:
            return ReadResult("", {})
        outs = {k: props.get(k) for k in _OUTPUTS}
        outs.update(project_ref=ref, name=name, api_url=props.get("api_url") or DEFAULT_BASE_URL)
        if not _same(live, props.get("digest")):
            # Changed out of band: record what Supabase holds now; the keyed fingerprint of a value
            # we never saw cannot be computed.
            outs.update(digest=live, fingerprint=None)
        return ReadResult(secret_id(ref, name), outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("project_ref", "name")
                    if _unknown(news.get(k)) or news.get(k) != olds.get(k)]
        changed = [k for k in ("runtime_only_reason", "api_url")
                   if _unknown(news.get(k)) or news.get(k) != olds.get(k)]
        value, key = news.get("value"), news.get("fingerprint_key")
        if _unknown(value) or not isinstance(value, str):
            changed.append("value")
        elif not _same(_sha256(value), olds.get("digest")):
            changed.append("value")
        elif _unknown(key) or not isinstance(key, str) or \
                not _same(fingerprint(value, key.encode()), olds.get("fingerprint")):
            changed.append("fingerprint")
        return DiffResult(changes=bool(replaces or changed), replaces=replaces, stables=[],
                          delete_before_replace=False)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        digest = olds.get("digest")
        if not _same(_sha256(news["value"]), digest):
            digest = self._write(self._api(news), news)
        fp = fingerprint(news["value"], news["fingerprint_key"].encode())
        return UpdateResult(self._outs(news, digest, fp))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        ref, _, name = id_.partition("/")
        try:
            self._api(props).delete_secrets(props.get("project_ref") or ref, [props.get("name") or name])
        except NotFound:
            pass  # the project is gone, and the secret with it


@dataclass
class EdgeFunctionSecretArgs:
    api_url: pulumi.Input[str]
    access_token: pulumi.Input[str] = field(repr=False)
    project_ref: pulumi.Input[str]
    name: pulumi.Input[str]
    value: pulumi.Input[str] = field(repr=False)
    runtime_only_reason: pulumi.Input[str]
    fingerprint_key: pulumi.Input[str] = field(repr=False)


class EdgeFunctionSecret(DynamicResource, module="ssot", name="EdgeFunctionSecret"):
    provider_class = EdgeFunctionSecretProvider
    # The digest is an unsalted SHA-256 of the value: kept encrypted too.
    secret_outputs = ("access_token", "value", "fingerprint_key", "digest", "fingerprint")

    api_url: pulumi.Output[str]
    project_ref: pulumi.Output[str]
    name: pulumi.Output[str]
    runtime_only_reason: pulumi.Output[str]
    digest: pulumi.Output[str]
    fingerprint: pulumi.Output[str | None]

    def __init__(self, resource_name: str, args: EdgeFunctionSecretArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "api_url": args.api_url,
            # Marked secret here so a caller passing a plain string cannot leak it into state.
            "access_token": secret(args.access_token),
            "project_ref": args.project_ref,
            "name": args.name,
            "value": secret(args.value),
            "runtime_only_reason": args.runtime_only_reason,
            "fingerprint_key": secret(args.fingerprint_key),
        }
        super().__init__(resource_name, props, opts)
