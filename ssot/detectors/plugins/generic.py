"""A value of enough entropy assigned to a key that names a secret (`password=`, `api_key:`, `token =`).

The weakest detector: it runs last and yields to any format-specific detector on the same text.
Its shape check rejects what assignments to such keys usually are when they are not secrets:
identifiers and dotted names, function calls, paths and URLs without credentials, numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from ssot.detectors.base import Detector, char_classes, shannon_entropy

# Lowercase: the detector runs over the lowercased text. Each keyword gets its own pattern so that
# every pattern starts with a literal (fast) instead of an alternation (slow).
SECRET_KEYWORDS = ("pass", "pwd", "secret", "token", "key", "credential")
# The pattern's head for each keyword: a literal first, then what must surround it; the `key` family
# is told apart by fixed-width lookbehinds, which keeps "key" as the literal prefix.
_HEADS = (
    r"pass(?:word|wd)",
    r"pwd",
    r"secret",
    r"token",
    r"key(?:(?<=api_key)|(?<=api-key)|(?<=apikey)|(?<=access_key)|(?<=access-key)|(?<=auth_key)"
    r"|(?<=private_key)|(?<=private-key)|(?<=secret_key)|(?<=secretkey)|(?<=signing_key)|(?<=encryption_key))",
    r"credential",
)

_TAIL = (
    r"[a-z0-9_.-]{0,30}[\"']?[ \t]{0,5}(?::=|=>|=|:)[ \t]{0,5}"
    r"(?P<q>[\"'`])?(?![!?]=)(?P<secret>[^\s\"'`,;<>\\=|&(){}\[\]][^\s\"'`,;<>\\()\[\]&]{7,999})"
    # Quoted: the closing quote must follow (a quoted value cut short by a space is prose, e.g. a
    # label such as "Supabase secret key"). Unquoted: the value must end at a delimiter; one cut
    # short by `(` or `[` is a call or a subscript (`os.environ[...]`), one cut short by `&` a URL
    # query parameter: not literals.
    r"(?(q)(?P=q)|(?![^\s\"'`,;<>\\]))"
)

_NAMES_A_SECRET = re.compile("|".join(_HEADS))


def names_a_secret(key: str) -> bool:
    """Whether a key or label (e.g. `db_password`, `X-Api-Key`) names a secret."""
    return _NAMES_A_SECRET.search(key.lower()) is not None


_IDENTIFIER = re.compile(
    r"[a-z_][a-z0-9_]*(?:[.\-][a-z0-9_]+)*"  # snake_case, kebab-case, dotted.path, name-v2
    r"|[A-Z_][A-Z0-9_]*(?:\.[A-Z_][A-Z0-9_]*)*"  # UPPER_SNAKE constants
    r"|[a-z]+(?:[A-Z][a-z0-9]*)+(?:\.[A-Za-z_][A-Za-z0-9_]*)*"  # camelCase
    r"|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+"  # PascalCase
)
_DIGITS = re.compile(r"[0-9]")
_WORD_PATH = re.compile(r"[a-z][a-z0-9_-]*(?:[/:][a-z][a-z0-9_-]*)+")
_NUMBER = re.compile(r"[+-]?[0-9][0-9_.,:eE+-]*")
_URL_WITH_CREDENTIALS = re.compile(r"://[^/@\s]+:[^/@\s]+@")
_NOT_SECRET_PREFIXES = ("/", "./", "../", "~/", "http://", "https://", "file:", "s3://", "gs://", "arn:")


class GenericSecretAssignmentDetector(Detector):
    secret_type = "Generic secret"
    case_insensitive = True
    priority = 10
    regexes = tuple(re.compile(head + _TAIL) for head in _HEADS)
    keywords = SECRET_KEYWORDS

    def active_regexes(self, haystack: str, has: Callable[[str], bool]) -> Sequence[re.Pattern[str]]:
        # Each keyword's own pattern runs only where that keyword occurs.
        if not super().active_regexes(haystack, has):
            return ()
        return [rx for kw, rx in zip(SECRET_KEYWORDS, self.regexes, strict=True) if has(kw)]

    def verify_shape(self, value: str) -> bool:
        if value[0] == "$":
            return True  # a reference: the filters decide, and say why
        if not 8 <= len(value) <= 1000:
            return False
        if value.endswith(":") or "{" in value or "}" in value:
            return False  # the next key, or a template or code block, not a scalar
        if value.startswith(_NOT_SECRET_PREFIXES) and not _URL_WITH_CREDENTIALS.search(value):
            return False
        if _NUMBER.fullmatch(value):
            return False
        if _IDENTIFIER.fullmatch(value) and len(_DIGITS.findall(value)) / len(value) < 0.3:
            return False
        if _WORD_PATH.fullmatch(value) and len(_DIGITS.findall(value)) / len(value) < 0.2:
            return False  # prod/github-app, team/service-name: a path of words
        needed = min(3.0, 0.8 * math.log2(len(value)))
        entropy = shannon_entropy(value)
        return entropy >= needed and (char_classes(value) >= 2 or (len(value) >= 16 and entropy >= 3.5))
