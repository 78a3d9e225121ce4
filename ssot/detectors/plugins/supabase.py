"""Supabase credentials: secret API keys, personal access tokens, and privileged legacy JWT keys."""

from __future__ import annotations

import re

from ssot.detectors.base import JWT_RE, Detector, jwt_claims


class SupabaseSecretKeyDetector(Detector):
    """`sb_secret_…` keys bypass Row Level Security: server-side only."""

    secret_type = "Supabase secret key"
    public_prefix = re.compile(r"sb_secret_")
    gate = "secret"
    keywords = ("sb_secret_",)
    regexes = (re.compile(r"(?P<secret>sb_secret_(?<![A-Za-z0-9]sb_secret_)[A-Za-z0-9_-]{20,128})(?![A-Za-z0-9_-])"),)


class SupabasePersonalAccessTokenDetector(Detector):
    """Management API tokens (`sbp_` + 40 hex): they act as the user on every project."""

    secret_type = "Supabase personal access token"
    public_prefix = re.compile(r"sbp_(?:v0_)?")
    keywords = ("sbp_",)
    regexes = (re.compile(r"(?P<secret>sbp_(?<![A-Za-z0-9_]sbp_)(?:v0_)?[a-f0-9]{40})(?![A-Za-z0-9_])"),)


_PRIVILEGED_ROLES = frozenset({"service_role", "supabase_admin"})


class SupabaseServiceRoleJwtDetector(Detector):
    """Legacy JWT API keys whose role bypasses RLS. The anon key is public by design and not flagged."""

    secret_type = "Supabase service_role JWT"
    public_prefix = re.compile(r"eyJ")  # every JWT starts so: base64 of '{"'
    keywords = ("eyj",)
    regexes = (JWT_RE,)

    def verify_shape(self, value: str) -> bool:
        claims = jwt_claims(value)
        return claims is not None and claims.get("role") in _PRIVILEGED_ROLES
