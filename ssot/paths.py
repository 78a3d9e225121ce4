"""Which repository paths are test code.

Test code is part of the repository, so a real credential committed there is still leaked; but a
fixture password in a test is not a production secret, and work a test enqueues never runs in
production. Rules use this to lower severity (secrets) or sources to skip (Odoo jobs); the policy is
documented in docs/rules/hardcoded_secret.md.
"""

from __future__ import annotations

import re

# A directory named tests/test/testing/__tests__/spec/fixtures anywhere in the path, or a file named
# like a test module (test_*.py, *_test.py, *.test.ts, *.spec.js, conftest.py).
_TEST_DIR = re.compile(r"(?:^|/)(?:tests?|testing|__tests__|spec|specs|fixtures?)/")
_TEST_FILE = re.compile(
    r"(?:^|/)(?:test_[^/]*\.py|[^/]*_tests?\.py|conftest\.py|[^/]*\.(?:test|spec)\.[cm]?[jt]sx?)\Z")


def is_test_path(path: str | None) -> bool:
    if not path:
        return False
    p = path.replace("\\", "/")
    return _TEST_DIR.search(p) is not None or _TEST_FILE.search(p) is not None
