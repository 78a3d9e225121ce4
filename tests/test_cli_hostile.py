"""Inputs that used to end in "internal error" (exit 70, issue 7 item 8): each is now a clear message
naming the file, with exit 2 (bad usage or config) or 3 (incomplete). Exit codes are 0-3, nothing else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from needs import missing_dependency

from ssot.cli import main

Setup = Callable[[Path], list[str]]


def _scan_tree(files: dict[str, str]) -> Setup:
    def setup(root: Path) -> list[str]:
        for rel, text in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        return ["scan", "--no-checkov", str(root)]

    return setup


def _undecodable_name(root: Path) -> list[str]:
    (root / os.fsdecode(b"caf\xe9.py")).write_text("x = 1\n")
    return ["scan", "--no-checkov", str(root)]


def _stack_is_a_directory(root: Path) -> list[str]:
    (root / "stacks" / "Pulumi.dir.yaml").mkdir(parents=True)
    return ["scan", "--no-checkov", str(root)]


def _preview_stack_is_a_directory(root: Path) -> list[str]:
    (root / "Pulumi.yaml").write_text("name: x\nruntime: python\n")
    (root / "__main__.py").write_text("")
    (root / "stacks" / "Pulumi.dir.yaml").mkdir(parents=True)
    return ["preview", "--root", str(root), "--stack", "dir"]


def _stack_is_a_fifo(root: Path) -> list[str]:
    (root / "stacks").mkdir()
    os.mkfifo(root / "stacks" / "Pulumi.pipe.yaml")
    return ["scan", "--no-checkov", str(root)]


def _option(option: str, make: Callable[[Path], Path]) -> Setup:
    def setup(root: Path) -> list[str]:
        (root / "a.py").write_text("x = 1\n")
        return ["scan", "--no-checkov", str(root), option, str(make(root))]

    return setup


def _file(name: str, text: str) -> Callable[[Path], Path]:
    def make(root: Path) -> Path:
        p = root.parent / f"{root.name}-{name}"
        p.write_text(text)
        return p

    return make


def _directory(root: Path) -> Path:
    d = root.parent / f"{root.name}-dir"
    d.mkdir()
    return d


def _under_a_file(root: Path) -> Path:
    f = root.parent / f"{root.name}-file"
    f.write_text("")
    return f / "baseline.json"


BASE = '{"format": "ssot-baseline", "version": 1, "findings": []'
# nine levels of nine aliases: 387 million nodes once expanded
LAUGHS = "l0: &l0 [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 10))


@pytest.mark.parametrize(
    ("setup", "code", "named"),
    [
        pytest.param(_undecodable_name, 3, "caf\\xe9.py: name is not valid UTF-8", id="non-utf8-file-name"),
        pytest.param(_scan_tree({"addons/a/__manifest__.py": "{'name': 'A'}\n",
                                 "addons/a/models/m.py": "x = " + "+".join(["1"] * 20000) + "\n"}), 3,
                     "addons/a/models/m.py: expected code or data nested shallowly enough", id="20000-term-expression"),
        pytest.param(_scan_tree({"addons/a/__manifest__.py": "{'name': " + "+".join(["'a'"] * 20000) + "}\n"}), 3,
                     "addons/a/__manifest__.py: expected code or data nested", id="20000-term-manifest"),
        pytest.param(_scan_tree({"addons/a/__manifest__.py": "{'name': 'A'}\n",
                                 "addons/a/data/d.xml": "<odoo>" + "<a>" * 5000 + "</a>" * 5000 + "</odoo>"}), 3,
                     "addons/a/data/d.xml: expected code or data nested", id="deep-addon-xml"),
        pytest.param(_stack_is_a_directory, 2, "stacks/Pulumi.dir.yaml: <root>: a readable regular file",
                     id="stack-path-is-a-directory"),
        pytest.param(_preview_stack_is_a_directory, 2, "Pulumi.dir.yaml: <root>: a readable regular file",
                     id="preview-stack-path-is-a-directory"),
        pytest.param(_stack_is_a_fifo, 2, "stacks/Pulumi.pipe.yaml: <root>: a readable regular file (not a "
                     "regular file (named pipe))", id="stack-path-is-a-fifo"),
        pytest.param(_scan_tree({".ssotignore": "[z-a]\n"}), 2, ".ssotignore:1: line 1: a valid glob pattern",
                     id="bad-ssotignore-glob"),
        pytest.param(_option("--write-baseline", _directory), 2, "-dir: cannot write the baseline (Is a directory)",
                     id="write-baseline-to-a-directory"),
        pytest.param(_option("--write-baseline", _under_a_file), 2, "baseline.json: cannot write the baseline",
                     id="write-baseline-under-a-file"),
        pytest.param(_option("--suppressions", _directory), 2, "-dir: <root>: a readable regular file",
                     id="suppressions-is-a-directory"),
        pytest.param(_option("--baseline", _file("b.json", BASE + ', "n": ' + "9" * 5000 + "}")), 2,
                     "b.json: <root>: valid JSON as written by ssot (a number too long", id="baseline-5000-digits"),
        pytest.param(_option("--baseline", _file("b.json", "[" * 100_000 + "]" * 100_000)), 2,
                     "b.json: <root>: JSON nested as a baseline is (too deep)", id="baseline-100000-deep"),
        pytest.param(_option("--baseline", _directory), 2, "-dir: <root>: a readable baseline file",
                     id="baseline-is-a-directory"),
        pytest.param(_option("--suppressions", _file("s.yaml", "a: &a [*a]\n")), 2,
                     "s.yaml:1: <root>: no recursive YAML aliases", id="suppressions-recursive-alias"),
        pytest.param(_option("--suppressions", _file("s.yaml", LAUGHS)), 2,
                     "s.yaml:1: <root>: YAML aliases that expand to at most 100,000 more nodes",
                     id="suppressions-billion-laughs"),
        pytest.param(_scan_tree({"stacks/Pulumi.bomb.yaml": LAUGHS}), 2,
                     "stacks/Pulumi.bomb.yaml:1: <root>: YAML aliases that expand to at most",
                     id="stack-billion-laughs"),
        pytest.param(_scan_tree({"stacks/Pulumi.bomb.yaml": "config: &a {x: *a}\n"}), 2,
                     "stacks/Pulumi.bomb.yaml:1: <root>: no recursive YAML aliases", id="stack-recursive-alias"),
    ],
)
def test_hostile_inputs_exit_2_or_3_naming_the_file(setup: Setup, code: int, named: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    argv = setup(root)
    got = main(argv)
    out, err = capsys.readouterr()
    assert got == code, out[-1500:] + err[-1500:]
    assert "internal error" not in err
    assert named in out + err


def test_db_start_with_a_file_as_datadir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("pg_ctl") is None and not Path("/usr/lib/postgresql").is_dir():
        missing_dependency("PostgreSQL is not installed (scripts/setup installs it)")
    f = tmp_path / "datadir"
    f.write_text("")
    assert main(["db", "start", "--datadir", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"{f}: expected a directory for the local database cluster" in err


def test_the_last_resort_is_incomplete_not_70(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import ssot.cli

    def bug(_args: object) -> int:
        raise KeyError("sb_secret_canary_value_never_shown")

    monkeypatch.setitem(ssot.cli.COMMANDS, "show", bug)
    assert main(["show"]) == 3
    err = capsys.readouterr().err
    assert "internal error (KeyError)" in err and "canary" not in err


def test_a_symlinked_stacks_directory_is_not_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "runner"
    outside.mkdir()
    (outside / "Pulumi.evil.yaml").write_text("config: [\n")  # would be exit 2 if it were read
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    (root / "stacks").symlink_to(outside)
    (root / "Pulumi.top.yaml").symlink_to(outside / "Pulumi.evil.yaml")
    assert main(["scan", "--no-checkov", str(root)]) == 0
    out, err = capsys.readouterr()
    assert "evil" not in out + err


# --- paths the user running ssot may not read or write (as `nobody`: root reads and writes anything) ----


def _as_nobody(tmp: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    ssot = Path(sys.executable).parent / "ssot"
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", str(ssot), *argv],
                          capture_output=True, text=True, timeout=120, check=False, cwd=tmp,
                          env={"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"})


@pytest.fixture
def nobody_dir() -> Iterator[Path]:
    """A directory `nobody` can traverse (pytest's tmp_path is private to root) holding a small repo."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        missing_dependency("needs root and setpriv to run ssot as an unprivileged user")
    base = Path(tempfile.mkdtemp(prefix="ssot-cli-hostile-"))
    try:
        repo = base / "repo"
        (repo / "stacks").mkdir(parents=True)
        (repo / "a.py").write_text("x = 1\n")
        (repo / "Pulumi.yaml").write_text("name: x\nruntime: python\n")
        (repo / "__main__.py").write_text("")
        for path in (base, repo, repo / "stacks"):
            path.chmod(0o755)
        for path in repo.glob("*.*"):
            path.chmod(0o644)
        yield base
    finally:
        for d, dirs, _ in os.walk(base):
            for name in dirs:
                os.chmod(os.path.join(d, name), 0o700)
        shutil.rmtree(base)


def _unreadable_stack(base: Path) -> Path:
    stack = base / "repo" / "stacks" / "Pulumi.prod.yaml"
    stack.write_text(f"config:\n  ssot:dbPassword: {CANARY}\n")
    stack.chmod(0o000)
    return stack


CANARY = "sb_secret_NobodyMayReadThisCanary0123456789"


@pytest.mark.parametrize(("argv", "named"), [
    pytest.param(["scan", "--no-checkov", "repo"],
                 "stacks/Pulumi.prod.yaml: <root>: a readable regular file (not readable (permission denied))",
                 id="scan-unreadable-stack-file"),
    pytest.param(["preview", "--root", "repo", "--stack", "prod"],
                 "Pulumi.prod.yaml: <root>: a readable regular file (not readable (permission denied))",
                 id="preview-unreadable-stack-file"),
])
def test_an_unreadable_stack_file_exits_2_naming_it(nobody_dir: Path, argv: list[str], named: str) -> None:
    _unreadable_stack(nobody_dir)
    proc = _as_nobody(nobody_dir, *argv)
    assert proc.returncode == 2, proc.stdout[-1500:] + proc.stderr[-1500:]
    assert named in proc.stderr and "internal error" not in proc.stderr
    assert CANARY not in proc.stdout + proc.stderr


@pytest.mark.parametrize("target", ["base.json", "ro/base.json"], ids=["read-only-file", "read-only-directory"])
def test_a_read_only_write_baseline_path_exits_2_naming_it(nobody_dir: Path, target: str) -> None:
    (nobody_dir / "ro").mkdir()
    (nobody_dir / "base.json").write_text("")
    (nobody_dir / "base.json").chmod(0o444)
    (nobody_dir / "ro").chmod(0o555)
    proc = _as_nobody(nobody_dir, "scan", "--no-checkov", "repo", "--write-baseline", target)
    assert proc.returncode == 2, proc.stdout[-1500:] + proc.stderr[-1500:]
    assert f"{target}: cannot write the baseline (Permission denied)" in proc.stderr
    assert "internal error" not in proc.stderr
    assert (nobody_dir / "base.json").read_text() == "" and not (nobody_dir / "ro" / "base.json").exists()
