"""Keyed fingerprints of secret values.

A fingerprint lets us say "these two stores hold the same value" without holding two plaintexts
side by side and without a digest that could be brute-forced offline: it is HMAC-SHA256 under a key
that is either given (SSOT_FINGERPRINT_KEY, so fingerprints are comparable across runs and with
those computed inside Postgres by pgcrypto) or random for this process.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import cache

_override: bytes | None = None
# The string whose fingerprint the database returns next to Vault's, so the audit can tell whether its
# key is the database's. Constant on purpose: a caller-chosen probe would be a guess oracle.
PROBE = "ssot-fingerprint-probe"


@cache
def _env_or_random() -> bytes:
    given = os.environ.get("SSOT_FINGERPRINT_KEY")
    return given.encode() if given else secrets.token_bytes(32)


def fingerprint_key() -> bytes:
    return _override if _override is not None else _env_or_random()


def use_key(key: str | bytes | None) -> None:
    """Fingerprint under this key from now on (None: back to SSOT_FINGERPRINT_KEY or a random key)."""
    global _override
    _override = key.encode() if isinstance(key, str) else key


def fingerprint(value: str | bytes, key: bytes | None = None) -> str:
    data = value.encode() if isinstance(value, str) else value
    return hmac.new(key or fingerprint_key(), data, hashlib.sha256).hexdigest()


def redact(value: str, public: str = "") -> str:
    """A shape-only description of a secret: its format's public prefix, if any, and its length.

    `public` is the part of the value that is the same in every secret of its format (a key type
    marker such as `ghp_` or `sk-ant-api03-`, found by the detector that knows the format); no
    character of the secret part is ever shown, so a random password shows only its length.
    """
    head = public if public and len(public) < len(value) and value.startswith(public) else ""
    return f"{head}…({len(value)} chars)"
