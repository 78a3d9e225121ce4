"""Progress per source on a terminal (rich), and nothing at all when output is not a terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from ssot.cli import main
from ssot.progress import source_progress


def test_progress_draws_each_source_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with source_progress(enabled=True, console=console) as update:
        assert update is not None
        update("postgres", "grants", 1200)
        console.print("", end="")  # let the live display render once
        update("postgres", "done", None)
        update("odoo", "ir.cron", None)
    text = out.getvalue()
    assert "postgres" in text and "odoo" in text


def test_no_progress_when_not_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with source_progress(enabled=False) as update:
        assert update is None
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"deployment": {"resources": []}}))
    root = Path(__file__).resolve().parents[1] / "examples" / "estate"
    main(["audit", "--root", str(root), "--stack", "dev", "--local-db", "--datadir", str(tmp_path / "none"),
          "--state", str(state), "--format", "json", "--source", "postgres"])
    captured = capsys.readouterr()
    assert captured.err == ""  # pytest's capture is not a TTY: no spinner, no progress line
    json.loads(captured.out)
