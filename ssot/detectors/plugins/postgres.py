"""Postgres passwords in connection URIs and in libpq conninfo strings."""

from __future__ import annotations

import re

from ssot.detectors.base import Detector

# userinfo is `user:password@`; a password may hold ':' but not an unencoded '@', '/' or whitespace.
POSTGRES_URI_RE = re.compile(
    r"postgres(?:ql)?(?:\+[a-z0-9]+)?://(?P<user>[^:@/\s'\"`]*):(?P<secret>[^@\s'\"`/]+)@"
    r"(?P<host>\[[0-9a-fA-F:.]+\]|[^\s/'\"`?:,;]+)(?::(?P<port>\d+))?"
)


class PostgresUriDetector(Detector):
    secret_type = "Postgres password"
    keywords = ("postgres",)
    regexes = (POSTGRES_URI_RE,)


# conninfo keywords stand at the start of the string or after whitespace or a quote (not `obj.user=`)
_CONNINFO_KEYS = re.compile(r"(?<![^\s'\"])(?:host|hostaddr|dbname|user|port|sslmode)=[^\s=]")


class PostgresConninfoDetector(Detector):
    """`password=…` in a libpq keyword/value string: only when the line also has other conninfo keys."""

    secret_type = "Postgres password"
    priority = 45
    gate = "pass"
    keywords = ("password=",)
    regexes = (
        re.compile(r"password='(?<![^\s'\"]password=')(?P<secret>(?:[^'\\\n]|\\.){1,200})'"),
        re.compile(r"password=(?<![^\s'\"]password=)(?P<secret>[^\s'\"\\;,`&=][^\s'\"\\;,`&]{0,199})"),
    )

    def verify_context(self, value: str, line: str) -> bool:
        if _CONNINFO_KEYS.search(line) is None:
            return False
        # `password=x,` and `password=fn(...)` are keyword arguments in code (make_conninfo(...,
        # password=self.password, ...)): conninfo strings separate pairs with spaces.
        at = line.find("password=" + value)
        after = line[at + 9 + len(value):at + 10 + len(value)] if at >= 0 else ""
        return after not in (",", ")") and "(" not in value
