"""The project stays typed and linted: ruff and mypy, as scripts/lint runs them."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_and_mypy_are_clean() -> None:
    done = subprocess.run([str(ROOT / "scripts" / "lint")], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
