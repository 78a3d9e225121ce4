"""Password hashes: one-way digests of a password, not the password (a hashed `admin_passwd`).

Modular crypt format (`$2b$`, `$argon2id$`, `$6$`, `$5$`, `$1$`, `$y$`, `$scrypt$`) and passlib's
(`$pbkdf2-sha512$`, Odoo's own), Django's `pbkdf2_sha256$…`, LDAP `{SSHA}`. A hash still deserves
care (it can be attacked offline) but it is not a credential anyone can present.
"""

from __future__ import annotations

import re

from ssot.detectors.filters._util import bare, inside_any

_B64ISH = r"[A-Za-z0-9./+=_-]"
_HASHES = re.compile(
    "|".join(
        (
            rf"\$2[abxy]?\$\d\d\${_B64ISH}{{53}}",  # bcrypt
            rf"\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\${_B64ISH}+\${_B64ISH}+",
            rf"\$(?:1|5|6|md5)\$(?:rounds=\d+\$)?{_B64ISH}{{1,16}}\${_B64ISH}{{22,86}}",  # md5/sha-crypt
            rf"\$y\$[./A-Za-z0-9]+\${_B64ISH}+\${_B64ISH}{{43}}",  # yescrypt
            rf"\$scrypt\$ln=\d+,r=\d+,p=\d+\${_B64ISH}+\${_B64ISH}+",
            rf"\$pbkdf2(?:-sha(?:1|256|512))?\$\d+\${_B64ISH}+\${_B64ISH}+",  # passlib (Odoo)
            rf"pbkdf2_sha(?:1|256)\$\d+\${_B64ISH}+\${_B64ISH}+",  # Django
            rf"\{{(?:SSHA|SSHA256|SSHA512|CRYPT|PBKDF2[-A-Z0-9]*)\}}{_B64ISH}{{20,}}",  # LDAP
        )
    )
)


def is_password_hash(secret: str, line: str = "", path: str = "") -> bool:
    """`$pbkdf2-sha512$600000$…`, `$2b$12$…`, `$argon2id$…`, `$6$…`: a stored hash, not a password."""
    s = bare(secret)
    if _HASHES.fullmatch(s):
        return True
    return inside_any(s, [m.group(0) for m in _HASHES.finditer(line)])
