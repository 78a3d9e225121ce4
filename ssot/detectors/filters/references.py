"""Candidates that are references to a secret held elsewhere, not the secret itself."""

from __future__ import annotations

import re

from ssot.detectors.filters._util import bare, inside_any

_GHA_EXPR = re.compile(r"\$\{\{\s*(?:secrets|vars|env|inputs|steps|needs|github|matrix)\.[^}'\"]*\}\}")


def is_github_actions_secret_ref(secret: str, line: str = "", path: str = "") -> bool:
    """`${{ secrets.X }}` and other GitHub Actions expressions: resolved by the runner, not literals."""
    s = bare(secret)
    if _GHA_EXPR.fullmatch(s) or s.startswith("${{"):
        return True
    return inside_any(s, [m.group(0) for m in _GHA_EXPR.finditer(line)])


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_Q = r"[\"']"
_ENV_REF = re.compile(
    "|".join(
        (
            # ${VAR}, ${VAR:?message}, ${VAR:-} (a non-empty default would be a literal, so it is not here)
            rf"\$\{{{_NAME}(?::?\?[^}}]*|:?-|:?=)?\}}",
            rf"\${_NAME}",
            rf"%\({_NAME}\)s",
            rf"%{_NAME}%",
            rf"os\.environ(?:\.get)?\s*[\[(]\s*{_Q}{_NAME}{_Q}\s*[\])]",
            rf"os\.getenv\(\s*{_Q}{_NAME}{_Q}\s*\)",
            rf"process\.env(?:\.{_NAME}|\[\s*{_Q}{_NAME}{_Q}\s*\])",
            rf"(?:Deno\.env\.get|System\.getenv|getenv|env)\(\s*{_Q}{_NAME}{_Q}\s*\)",
            rf"ENV(?:\.fetch\(|\[)\s*{_Q}{_NAME}{_Q}\s*[\])]",
        )
    )
)


def is_env_reference(secret: str, line: str = "", path: str = "") -> bool:
    """`${VAR}`, `$VAR`, `os.environ[...]`, `process.env.X`…: the value comes from the environment."""
    s = bare(secret)
    if _ENV_REF.fullmatch(s):
        return True
    return inside_any(s, [m.group(0) for m in _ENV_REF.finditer(line)])


_VAULT_LOOKUP = re.compile(
    r"\(?\s*select\b[^;]*?\bfrom\s+vault\.decrypted_secrets\b[^;)]*\)?"
    r"|vault\.decrypted_secrets\b[^;)]*",
    re.IGNORECASE,
)


def is_vault_lookup(secret: str, line: str = "", path: str = "") -> bool:
    """A read from Supabase Vault (`vault.decrypted_secrets where name = '…'`): a name, not a value.

    Only the lookup expression itself is excused; `vault.create_secret('<literal>', …)` is not.
    """
    s = bare(secret)
    if "vault.decrypted_secrets" in s.lower() and "create_secret" not in s.lower():
        return True
    if "decrypted_secrets" not in line.lower():
        return False
    return inside_any(s, [m.group(0) for m in _VAULT_LOOKUP.finditer(line)])


_V1_CIPHERTEXT = re.compile(r"v1:[A-Za-z0-9+/=]{8,}:[A-Za-z0-9+/=]{8,}")
_SECURE_VALUE = re.compile(r"(?:\bsecure|\"ciphertext\")[\"']?\s*:\s*[\"']?(?P<ct>[A-Za-z0-9+/=:_-]{16,})")


def is_pulumi_secure_ciphertext(secret: str, line: str = "", path: str = "") -> bool:
    """`secure: v1:…` in Pulumi stack config (and `ciphertext` in state): encrypted, not plaintext."""
    s = bare(secret)
    if _V1_CIPHERTEXT.fullmatch(s):
        return True
    return inside_any(s, [m.group("ct") for m in _SECURE_VALUE.finditer(line)])
