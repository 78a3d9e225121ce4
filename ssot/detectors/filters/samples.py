"""Well-known public sample tokens: published in vendors' documentation, never usable.

They are recognised exactly, never by a look-alike: the jwt.io sample JWT by verifying its signature
with the secret jwt.io publishes beside it (so a real token that merely copies its claims is not
excused), the others by their SHA-256 digest (this file never spells them out). AWS's documentation
keys are `is_documentation_example`'s.
"""

from __future__ import annotations

import hashlib

from ssot.detectors.base import jwt_signed_with
from ssot.detectors.filters._util import bare

# The HMAC secrets jwt.io shows with its sample tokens (older and current site).
_JWT_IO_SECRETS = ("your-256-bit-secret", "a-string-secret-at-least-256-bits-long")

# sha256 of: Stripe's documentation test keys (three generations of docs) and publishable key,
# GitHub's documentation personal access token.
_SAMPLE_DIGESTS = frozenset(
    {
        "2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326",
        "f2d6ca16515033e5dce14eba840b979d27b5cbae24bb3e5bf484339667f86397",
        "7e8de44ea9ecf6d53415c90f5b249a8591f7abafbf7d65a2c0d855afeca3ec09",
        "4695960a4c78863e469628d04a2e77d71066793355b6f27c93ad071965852420",
        "b1471f544ceeea31333bde7e1ecbaad6eac0d4a749412ad29bd66ef895b81c6b",
        "3543c50b0cb9cea8e55eb1f529b79f043cb250d485fde7b66cabbb5183add7da",
    }
)


def _signed_with_jwt_io_secret(token: str) -> bool:
    return jwt_signed_with(token, _JWT_IO_SECRETS)


def is_public_sample_token(secret: str, line: str = "", path: str = "") -> bool:
    """jwt.io's sample JWT, Stripe's and GitHub's documentation tokens: public, and never valid."""
    s = bare(secret)
    if hashlib.sha256(s.encode("utf-8", "surrogatepass")).hexdigest() in _SAMPLE_DIGESTS:
        return True
    return s.startswith("eyJ") and _signed_with_jwt_io_secret(s)
