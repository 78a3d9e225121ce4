"""The preview of a scanned pull request runs in a child process: clean environment, bounded.

Each test plants a Pulumi program that misbehaves (leaks, raises, hangs, spawns, allocates) and
checks that the parent sees only a typed error with the right exit code, and nothing of the plant's.
"""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

from ssot import sandbox
from ssot.sandbox import SandboxError, run_stack_resources


def _project(tmp_path: Path, program: str) -> Path:
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: planted\nruntime: python\nstackConfigDir: stacks\n")
    (root / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  planted:greeting: hello\n")
    (root / "__main__.py").write_text(program)
    return root


def test_the_program_runs_with_only_the_mock_runtimes_environment(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSOT_STORE_DSN", "host=db password=canary-dsn-secret-41")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "evil"))
    seen = tmp_path / "seen"
    root = _project(tmp_path, f"""
import os, pulumi
open({str(seen)!r}, "w").write(repr(sorted(os.environ)))
pulumi.CustomResource("test:index:Thing", "thing", {{"size": 3, "greeting": pulumi.Config().get("greeting")}})
""")
    resources = run_stack_resources(root, "dev")
    assert [(t, n, p) for t, n, _, p in resources] == [("test:index:Thing", "thing", {"size": 3, "greeting": "hello"})]
    names = ast.literal_eval(seen.read_text())
    assert "SSOT_STORE_DSN" not in names and "PYTHONPATH" not in names
    assert set(names) <= set(sandbox.KEEP_ENV) | {"HOME", "TMPDIR", "SSOT_OFFLINE", "PULUMI_SKIP_UPDATE_CHECK"}


def test_a_failing_program_is_reported_by_type_never_by_its_text(tmp_path: Path) -> None:
    root = _project(tmp_path, "raise ValueError('canary-value-in-an-error-77')\n")
    with pytest.raises(SandboxError) as info:
        run_stack_resources(root, "dev")
    assert info.value.exit_code == 2
    assert "canary" not in str(info.value)


def test_a_hanging_program_and_what_it_started_are_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "TIMEOUT_S", 3.0)
    pidfile = tmp_path / "pid"
    root = _project(tmp_path, f"""
import subprocess, time
p = subprocess.Popen(["sleep", "300"])
open({str(pidfile)!r}, "w").write(str(p.pid))
time.sleep(300)
""")
    started = time.monotonic()
    with pytest.raises(SandboxError) as info:
        run_stack_resources(root, "dev")
    assert info.value.exit_code == 3 and "did not finish" in str(info.value)
    assert time.monotonic() - started < 30
    pid = int(pidfile.read_text())
    for _ in range(50):
        if not _running(pid):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the program's own child outlived it")


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan may wait for a reaper that never comes in a container)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_program_cannot_take_unbounded_memory(tmp_path: Path) -> None:
    root = _project(tmp_path, "hog = bytearray(64 << 30)\n")
    with pytest.raises(SandboxError) as info:
        run_stack_resources(root, "dev")
    assert info.value.exit_code == 3 and "memory" in str(info.value)


def test_what_the_program_prints_reaches_the_parent_only_as_one_printable_line(tmp_path: Path) -> None:
    root = _project(tmp_path, "import sys\nsys.stderr.write('ok\\n\\x1b[2J\\x1b]0;pwned\\x07' + 'x' * 5000 + '\\n')\n"
                              "raise SystemExit(1)\n")
    with pytest.raises(SandboxError) as info:
        run_stack_resources(root, "dev")
    message = str(info.value)
    assert info.value.exit_code == 3 and "\x1b" not in message and "\x07" not in message and len(message) < 400


@pytest.mark.parametrize("plant", [
    "os.symlink('/dev/zero', out)",                          # a read that never ends
    "open(out, 'w').write('[' * (40 << 20))",                # past the result bound, deeply nested
])
def test_the_program_cannot_make_the_parent_read_without_bound(tmp_path: Path, plant: str) -> None:
    """The child's output file is in reach of the program: it is read as hostile input."""
    root = _project(tmp_path, f"""
import os, sys
out = sys.argv[3]
{plant}
os._exit(0)
""")
    with pytest.raises(SandboxError) as info:
        run_stack_resources(root, "dev")
    assert info.value.exit_code == 3 and "no resource graph" in str(info.value)
