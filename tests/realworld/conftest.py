"""The real-world corpus's precision and recall in pytest's summary."""

from __future__ import annotations

from typing import Any

from .test_realworld import STATS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not STATS:
        return
    terminalreporter.write_sep("-", "real-world corpus (published Odoo addons)")
    terminalreporter.write_line(
        f"expected {STATS['expected']}, reported {STATS['found']} ({STATS['blocking']} blocking), "
        f"true positives {STATS['true_positives']}, false positives {STATS['false_positives']}, "
        f"missed {STATS['false_negatives']}")
    terminalreporter.write_line(f"precision {STATS['precision']:.3f}  recall {STATS['recall']:.3f}")
