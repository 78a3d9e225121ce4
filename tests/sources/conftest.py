"""Fixtures of the static-source tests: small repository trees and the real checkov CLI.

- `make_tree(files)` writes `{relative path: text}` under a fresh temporary directory and returns it.
- `checkov_exe` (in tests/conftest.py): the real checkov CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

TreeMaker = Callable[[dict[str, str | bytes]], Path]


@pytest.fixture
def make_tree(tmp_path: Path) -> TreeMaker:
    counter = iter(range(1_000_000))

    def make(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / f"repo{next(counter)}"
        root.mkdir()
        for rel, content in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content, encoding="utf-8")
        return root

    return make


def synthetic_secret(prefix: str = "sb_secret_", n: int = 32) -> str:
    """A fresh, detector-valid, never-issued key (random, so no test can pass by remembering it)."""
    import secrets
    import string

    alphabet = string.ascii_letters + string.digits
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(n))
        if any(c.isdigit() for c in body) and any(c.isupper() for c in body):
            return prefix + body
