"""n8n credentials.

n8n public-API keys are HS256 JWTs issued by the instance (`iss: n8n`, `aud: public-api`) and sent
in the `X-N8N-API-KEY` header; older releases issued opaque `n8n_api_…` keys. Instances configured
by environment also carry the basic-auth password and the credentials encryption key.
"""

from __future__ import annotations

import re

from ssot.detectors.base import JWT_RE, Detector, char_classes, jwt_claims, shannon_entropy


class N8nApiKeyDetector(Detector):
    secret_type = "n8n API key"
    public_prefix = re.compile(r"n8n_api_|eyJ")
    keywords = ("eyj", "n8n_api_")
    regexes = (
        JWT_RE,
        re.compile(r"(?P<secret>n8n_api_(?<![A-Za-z0-9]n8n_api_)[A-Za-z0-9]{32,128})(?![A-Za-z0-9_])"),
    )

    def verify_shape(self, value: str) -> bool:
        if value.startswith("n8n_api_"):
            return True
        claims = jwt_claims(value)
        return claims is not None and claims.get("iss") == "n8n"


_ASSIGN = r"[\"']?[ \t]{0,5}(?:=|:)[ \t]{0,5}[\"']?"


class N8nApiKeyAssignmentDetector(Detector):
    """An opaque value given to n8n's API-key header or environment variable."""

    secret_type = "n8n API key"
    case_insensitive = True
    priority = 45
    gate = "n8n"
    keywords = ("x-n8n-api-key", "n8n_api_key")
    regexes = (
        re.compile(r"x-n8n-api-key" + _ASSIGN + r"(?P<secret>[a-z0-9._\-+/=]{16,512})(?![^\s\"'`,;])"),
        re.compile(r"n8n_api_key" + _ASSIGN + r"(?P<secret>[a-z0-9._\-+/=]{16,512})(?![^\s\"'`,;])"),
    )

    def verify_shape(self, value: str) -> bool:
        return shannon_entropy(value) >= 3.0 and char_classes(value) >= 2


class N8nBasicAuthPasswordDetector(Detector):
    secret_type = "n8n basic auth password"
    case_insensitive = True
    gate = "n8n"
    keywords = ("n8n_basic_auth_password",)
    regexes = (re.compile(r"n8n_basic_auth_password" + _ASSIGN + r"(?P<secret>[^\s\"'`#][^\s\"'`]{0,199})"),)

    def verify_shape(self, value: str) -> bool:
        return value.lower() not in {"true", "false", "null", "none", "''", '""'}


class N8nEncryptionKeyDetector(Detector):
    secret_type = "n8n encryption key"
    case_insensitive = True
    gate = "n8n"
    keywords = ("n8n_encryption_key",)
    regexes = (re.compile(r"n8n_encryption_key" + _ASSIGN + r"(?P<secret>[^\s\"'`#][^\s\"'`]{7,511})"),)
