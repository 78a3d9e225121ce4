"""A dependency the tests need and cannot find: a skip on a developer's machine, a failure in CI.

CI runs `scripts/setup` first, so there a missing browser, database, checkov or reference document
is a broken set-up, and a skipped test would be reported as a pass. Same rule as the real-world
corpus (tests/realworld/test_realworld.py): `CI` set means fail, with the same message.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing_dependency(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: a missing dependency fails instead of skipping)", pytrace=False)
    pytest.skip(reason)
