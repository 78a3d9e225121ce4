"""A missing test dependency skips locally and fails in CI (tests/needs.py)."""

from __future__ import annotations

import pytest
from needs import missing_dependency


def test_missing_dependency_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is needed"):
        missing_dependency("chromium is needed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"chromium is needed.*CI is set"):
        missing_dependency("chromium is needed")


def test_the_shared_helpers_use_it() -> None:
    # each place that reaches for a set-up dependency goes through missing_dependency, never pytest.skip
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    for name in ("browser.py", "mgmt_api_server.py", "conftest.py", "pgtools.py", "test_reporters.py",
                 "test_cli_e2e.py", "test_workflow.py"):
        text = (tests / name).read_text()
        assert "missing_dependency(" in text and "pytest.skip(" not in text, name
