"""Candidates that are code or character tables, not values."""

from __future__ import annotations

import itertools
import re

from ssot.detectors.filters._util import bare

# module.Class, package.module.function, obj.attr: a name in code, never a credential.
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
# pulumi-python:dynamic/ssot:VaultSecret, aws:s3/bucket:Bucket: Pulumi type tokens.
_TYPE_TOKEN = re.compile(r"[a-z][a-z0-9-]*:[a-z][A-Za-z0-9/_-]*:[A-Za-z][A-Za-z0-9]*")
# EdgeFunctionSecret, serviceRoleKey: words in camel case, no digits (a random key has digits or
# runs of capitals).
_CAMEL_WORDS = re.compile(r"[A-Za-z][a-z]+(?:[A-Z][a-z]+)+")
_ALPHABETS = ("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789")


def is_code_identifier(secret: str, line: str = "", path: str = "") -> bool:
    """A dotted name (`ssot.VaultSecret`, `settings.api_key`) or a Pulumi type token: code that names
    a secret, not one."""
    s = bare(secret)
    # Random tokens with dots (JWTs) are long and full of digits; names in code are neither.
    return (len(s) <= 100 and sum(c.isdigit() for c in s) <= 2
            and (_DOTTED.fullmatch(s) is not None or _TYPE_TOKEN.fullmatch(s) is not None
                 or _CAMEL_WORDS.fullmatch(s) is not None))


def _longest_run(s: str) -> int:
    best = run = 1
    for a, b in itertools.pairwise(s):
        same_alphabet = any(a in alpha and b in alpha for alpha in _ALPHABETS)
        run = run + 1 if same_alphabet and ord(b) - ord(a) == 1 else 1
        best = max(best, run)
    return best if s else 0


def is_sequential_run(secret: str, line: str = "", path: str = "") -> bool:
    """`0123456789abcdef`, `ABCDEFGH…`: a character table or a made-up example, not a random key.

    A real key of this length has a run of 8 consecutive characters with negligible probability.
    """
    return _longest_run(bare(secret)) >= 8
