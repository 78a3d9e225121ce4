"""ssot's exit codes are 0, 1, 2 and 3 and nothing else: an interrupted run is incomplete (3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ssot import cli

ROOT = Path(__file__).resolve().parents[1]


def test_ctrl_c_is_incomplete_not_130(tmp_path: Path) -> None:
    """A real SIGINT, delivered while the command runs, through the interpreter's own handler."""
    code = ("import os, signal, sys\n"
            "import ssot.cli as cli\n"
            "def interrupted(args):\n"
            "    os.kill(os.getpid(), signal.SIGINT)\n"
            "    for _ in range(10**8): pass\n"
            "cli.COMMANDS['scan'] = interrupted\n"
            f"sys.exit(cli.main(['scan', {str(tmp_path)!r}]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          check=False)
    assert done.returncode == 3, done.stderr
    assert done.stderr.strip() == "ssot scan: interrupted: the run is incomplete"


def test_interrupt_inside_a_scan_is_incomplete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def stop(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("ssot.pipeline.scan", stop)
    assert cli.main(["scan", str(tmp_path), "--no-checkov"]) == cli.EXIT_INCOMPLETE == 3
    assert "interrupted" in capsys.readouterr().err
