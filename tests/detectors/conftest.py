"""Fixtures for the detector tests, and the recall/precision lines in pytest's summary."""

from __future__ import annotations

from typing import Any

import pytest
from detector_corpus import STATS


@pytest.fixture(scope="session")
def detector_stats() -> dict[str, Any]:
    return STATS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not STATS:
        return
    terminalreporter.write_sep("-", "secret detector corpus")
    terminalreporter.write_line(
        f"secrets planted {STATS['planted']}, found with the right type {STATS['true_positives']}, "
        f"traps {STATS['traps']}, false positives {STATS['false_positives']}"
    )
    terminalreporter.write_line(f"recall {STATS['recall']:.3f}  precision {STATS['precision']:.3f}")
