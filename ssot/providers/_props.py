"""Helpers for reading the property bags the Pulumi engine hands to a dynamic provider."""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckFailure
from pulumi.runtime import rpc

from ssot.errors import ProviderError, did_you_mean

UNKNOWN = rpc.UNKNOWN


def plain(value: Any) -> Any:
    """The value inside a wrapped RPC secret (dynamic providers normally receive them unwrapped)."""
    return rpc.unwrap_rpc_secret(value)


def is_unknown(value: Any) -> bool:
    """A value not known yet (preview, or computed from a resource not created yet)."""
    return plain(value) == UNKNOWN


def get(props: dict[str, Any], key: str, default: Any = None) -> Any:
    value = plain(props.get(key, default))
    return default if value is None else value


def unknown_key_failures(news: dict[str, Any], allowed: frozenset[str]) -> list[CheckFailure]:
    failures = []
    for key in sorted(news):
        if key.startswith("__") or key in allowed:
            continue
        failures.append(CheckFailure(key, f"unknown input '{key}'{did_you_mean(key, allowed)}; expected "
                                          f"some of: {', '.join(sorted(allowed))}"))
    return failures


def as_int(value: Any) -> int | None:
    """An integer from a property bag (Pulumi numbers travel as floats), or None if it is not one."""
    value = plain(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def require_str(props: dict[str, Any], key: str, what: str) -> str:
    """A string the operation cannot do without; ProviderError (never quoting the bag) otherwise."""
    value = get(props, key)
    if not isinstance(value, str) or not value or value == UNKNOWN:
        raise ProviderError(f"{what}: the '{key}' property is missing from the resource state; "
                            f"run `pulumi refresh` or re-create the resource")
    return value
