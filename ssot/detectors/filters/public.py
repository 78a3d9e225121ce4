"""Keys that are public by design: they identify an app and are safe to ship to browsers."""

from __future__ import annotations

from ssot.detectors.base import jwt_claims
from ssot.detectors.filters._util import bare

_PUBLIC_PREFIXES = ("sb_publishable_", "pk_live_", "pk_test_")


def is_public_by_design(secret: str, line: str = "", path: str = "") -> bool:
    """Supabase `sb_publishable_…` and the legacy anon JWT (role anon), Stripe publishable keys."""
    s = bare(secret)
    if s.startswith(_PUBLIC_PREFIXES):
        return True
    if s.startswith("eyJ"):
        claims = jwt_claims(s)
        return claims is not None and claims.get("role") == "anon"
    return False
