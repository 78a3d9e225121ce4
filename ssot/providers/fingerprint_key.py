"""A stack's fingerprint key when it declares none: 32 random bytes, made once, kept secret.

Fingerprints are HMACs so that holding one does not let anyone test guesses of the value offline;
that only holds while the key is secret. A key derived from the stack's name (what ssot did before)
is no key: anyone with the repository recomputes it. So a stack without `fingerprintKey` gets a key
generated at its first `pulumi up` and kept in state as a secret output only (encrypted like the
database password beside it); the audit learns whether its own key is this one by the database's
probe, and says "keys differ" when it is not.
"""

from __future__ import annotations

import secrets
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider

from ssot.providers._base import DynamicResource
from ssot.providers._props import get, unknown_key_failures

KEY_BYTES = 32


class FingerprintKeyProvider(ResourceProvider):
    """Create makes the key; nothing ever changes it (a new key would change every fingerprint)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(dict(news), unknown_key_failures(news, frozenset()))

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(secrets.token_hex(8), {"key": secrets.token_urlsafe(KEY_BYTES)})

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=False, replaces=[], delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, {"key": get(props, "key")})


class FingerprintKey(DynamicResource, module="ssot", name="FingerprintKey"):
    provider_class = FingerprintKeyProvider
    secret_outputs = ("key",)

    key: pulumi.Output[str]

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(resource_name, {}, opts)
