"""PEM private key blocks (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP)."""

from __future__ import annotations

import re

from ssot.detectors.base import Detector

_BODY_CHARS = re.compile(r"[A-Za-z0-9+/=]")


class PrivateKeyDetector(Detector):
    secret_type = "Private key"
    gate = "key"
    keywords = ("private key",)
    priority = 60
    regexes = (
        re.compile(
            r"-----BEGIN[ A-Z0-9]{0,30}PRIVATE KEY(?: BLOCK)?-----[ \t]*\r?\n?\s*"
            r"(?P<secret>[^\s-][\s\S]{31,16383}?)\s*-----END[ A-Z0-9]{0,30}PRIVATE KEY"
        ),
    )

    def verify_shape(self, value: str) -> bool:
        # Header lines of encrypted keys ("Proc-Type: …") and line breaks do not count as key material.
        body = "".join(ln for ln in value.splitlines() if ":" not in ln)
        return len(_BODY_CHARS.findall(body)) >= 64
