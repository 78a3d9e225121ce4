"""Encrypted credential blobs: ciphertext is what a secret looks like once it is properly stored.

Pulumi's `secure:` values are `is_pulumi_secure_ciphertext`'s; here: ansible-vault, sops, age and
OpenPGP messages. An age *identity* (`AGE-SECRET-KEY-1…`) is a private key, not ciphertext, and is
never excused.
"""

from __future__ import annotations

import re

from ssot.detectors.filters._util import bare, inside_any

# sops: ENC[AES256_GCM,data:…,iv:…,tag:…,type:str]
_SOPS = re.compile(r"ENC\[[A-Z0-9_]+,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:[a-z]+\]")
_ANSIBLE_VAULT = re.compile(r"\$ANSIBLE_VAULT;\d+\.\d+;[A-Z0-9]+(?:;[\w.-]+)?")
# The body lines of an ansible-vault payload: hex only, 80 columns (the last one shorter).
_VAULT_BODY = re.compile(r"[0-9a-f]{32,80}")
_ARMORED = re.compile(r"-----BEGIN (?:AGE ENCRYPTED FILE|PGP MESSAGE)-----")


def is_encrypted_blob(secret: str, line: str = "", path: str = "") -> bool:
    """sops `ENC[…]`, ansible-vault (`$ANSIBLE_VAULT;1.1;AES256`, `!vault |`), age and PGP messages."""
    s = bare(secret)
    if "AGE-SECRET-KEY-" in s.upper():
        return False
    if _SOPS.fullmatch(s) or inside_any(s, [m.group(0) for m in _SOPS.finditer(line)]):
        return True
    if _ANSIBLE_VAULT.match(s) or s == "!vault" or _ARMORED.search(s):
        return True
    stripped = line.strip()
    if "!vault" in line and (s == "|" or stripped.endswith("|") or stripped.endswith("!vault")):
        return True
    # A hex body line of a vault file (path says so, since a line alone cannot).
    return _VAULT_BODY.fullmatch(s) is not None and stripped == s and "vault" in path.lower()
