"""What the external live sources (AWS, Odoo, Management API) share about secret values and names.

A value read from a store is fingerprinted the moment it arrives and never kept: `fingerprint_now`
takes the key from the audit's environment (`SSOT_FINGERPRINT_KEY`, the key the Vault fingerprint
function and `fingerprintKey` use, so fingerprints are comparable across stores) and otherwise falls
back to the process key (then duplicates are still found across the stores this run read itself).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from ssot.fingerprint import fingerprint, fingerprint_key

FINGERPRINT_KEY_ENV = "SSOT_FINGERPRINT_KEY"

# Names that say what kind of credential a live secret is, when its store has no declared category
# (an AWS secret, an Edge Function secret nobody declared). First match wins; the order puts the
# specific before the generic ("github_webhook_secret" is a webhook secret, not a GitHub App key).
_CATEGORY_BY_NAME: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), c) for p, c in (
        (r"webhook|signing[_\-/]?secret", "webhook"),
        (r"github[_\-/]?app|gh[_\-]?app|app[_\-/]private[_\-/]?key", "github-app"),
        (r"scheduler|cron", "scheduler"),
        (r"agent", "agent"),
        (r"db[_\-/]?pass|database|postgres|pg[_\-/]?pass|dsn|conn(ection)?[_\-/]?string", "database"),
        (r"api[_\-/]?key|apikey|token|secret[_\-/]?key|access[_\-/]?key|client[_\-/]?secret", "api-key"),
    ))
_TAG_KEYS = ("ssot:category", "category")


def plain_name(value: object, limit: int = 200) -> str | None:
    """`value` if it is a short printable name a report can carry, else None. Names come from the
    systems read, which may be hostile: no control characters, no megabyte-long names."""
    if isinstance(value, str) and 0 < len(value) <= limit and value.isprintable():
        return value
    return None


def key_from(env: Mapping[str, str]) -> bytes:
    given = env.get(FINGERPRINT_KEY_ENV)
    return given.encode() if given else fingerprint_key()


def fingerprint_now(value: str | bytes, key: bytes) -> str:
    return fingerprint(value, key)


def digest_fingerprint(value: str | bytes, key: bytes) -> str:
    """Keyed fingerprint of the value's SHA-256 hex digest: comparable with what the Supabase Management
    API reports for Edge Function secrets (a digest), so a value held there and here is linked."""
    data = value.encode() if isinstance(value, str) else value
    return fingerprint_now(hashlib.sha256(data).hexdigest(), key)


def category_for(name: str, tags: Mapping[str, str] | None = None) -> str | None:
    """A secret's category from its store's tags (`ssot:category`), else guessed from its name."""
    for k in _TAG_KEYS:
        v = (tags or {}).get(k)
        if isinstance(v, str) and re.fullmatch(r"[a-z][a-z0-9\-]{0,30}", v):
            return v
    for pattern, cat in _CATEGORY_BY_NAME:
        if pattern.search(name):
            return cat
    return None
