"""The static scan on hostile trees (issue 7): symlinks and special files, unreadable paths, large,
UTF-16 and binary files, undecodable names, deep trees, YAML bombs, and checkov's share of all that.

Tests run as root, which reads mode-000 files; unreadability is reproduced by running the scan as
`nobody` (setpriv) on a tree in a world-traversable directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from needs import missing_dependency

from ssot.errors import ConfigError
from ssot.inventory import Kind
from ssot.safefile import remove_tree
from ssot.sources._repo import MAX_FILE_BYTES, WINDOW_BYTES, RepoFile, load_ignore, scan_large, walk
from ssot.sources.static import collect_static, stage

from .conftest import TreeMaker, synthetic_secret

BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def _lits(inv: object) -> list[tuple[str | None, int | None]]:
    return sorted((a.location.path, a.location.line) for a in inv.of(Kind.SECRET_LITERAL))  # type: ignore[attr-defined]


def test_links_and_special_files_are_never_opened(make_tree: TreeMaker, tmp_path: Path) -> None:
    secret = synthetic_secret()
    outside = tmp_path / "outside.py"
    outside.write_text(f"K = '{secret}'\n")
    root = make_tree({"app.py": "x = 1\n"})
    (root / "environ").symlink_to("/proc/self/environ")
    (root / "zero").symlink_to("/dev/zero")
    (root / "out.py").symlink_to(outside)
    (root / "outdir").symlink_to(tmp_path)
    (root / "inside.py").symlink_to(root / "app.py")
    os.mkfifo(root / "pipe.yml")
    files, not_read = walk(root)
    assert [f.rel for f in files] == ["app.py"]
    # a FIFO is not content we can scan, so the scan says so; links are simply not followed
    assert not_read == ["pipe.yml: not a regular file (named pipe)"]
    inv = collect_static(root, use_checkov=False)
    assert _lits(inv) == [] and inv.incomplete == ["not read: pipe.yml: not a regular file (named pipe)"]


def test_undecodable_names_and_deep_trees(make_tree: TreeMaker) -> None:
    secret = synthetic_secret()
    root = make_tree({})
    (root / os.fsdecode(b"bad\xff.py")).write_text(f"K = '{secret}'\n")
    deep = root
    for _ in range(1000):  # os.walk recursed: 1,000 nested directories were an internal error
        deep = deep / "d"
        os.mkdir(deep)
    (deep / "k.py").write_text(f"K = '{secret}'\n")
    try:
        inv = collect_static(root, use_checkov=False)
        assert inv.incomplete == ["not read: bad\\xff.py: name is not valid UTF-8 (not scanned)"]
        assert _lits(inv) == [("d/" * 1000 + "k.py", 1)]
        # checkov's private copy of it is made, and removed, without recursion too
        dest = Path(tempfile.mkdtemp())
        files, _ = walk(root)
        assert stage(files, dest) == []
        assert (dest / ("d/" * 1000 + "k.py")).read_text() == f"K = '{secret}'\n"
        remove_tree(dest)
        assert not dest.exists()
    finally:
        # pytest's own clean-up (shutil.rmtree, recursive in 3.11) cannot remove a tree this deep
        remove_tree(root / "d")


def test_large_utf16_and_binary_files_are_scanned(make_tree: TreeMaker) -> None:
    secret = synthetic_secret()
    filler = "x = 1\n" * (MAX_FILE_BYTES // 6 + 10)
    root = make_tree({
        "big.py": filler + f"K = '{secret}'\n",
        "big.sql": filler + "select cron.schedule('j', '* * * * *', $$select 1$$);\n",
        "addons/a/__manifest__.py": "{'name': 'A', 'data': ['cron.xml']}\n#" + filler,
        "wide.txt": f"K = '{secret}'\n".encode("utf-16"),
        "blob.bin": b"\x89PNG\0\0\0" + f"K = '{secret}'".encode(),
    })
    inv = collect_static(root, use_checkov=False)
    n = filler.count("\n")
    assert _lits(inv) == [("big.py", n + 1), ("blob.bin", 1), ("wide.txt", 1)]
    # the big SQL file's secrets were scanned, but its cron jobs were not parsed: never silent
    assert sorted(inv.incomplete) == [
        f"not parsed: {rel}: larger than {MAX_FILE_BYTES} bytes (secret literals scanned; its jobs, tables "
        "and schedules not read)" for rel in ("addons/a/__manifest__.py", "big.sql")]


def test_streamed_windows_find_each_secret_once_with_its_line_and_column(tmp_path: Path) -> None:
    secrets = [synthetic_secret() for _ in range(4)]
    p = tmp_path / "dump.sql"
    # secrets placed across window boundaries: before, straddling and after the first cut
    lines = ["-- filler " + "y" * 70] * (WINDOW_BYTES // 81 - 2)
    lines += [f"  K0 = '{secrets[0]}'", f"K1 = '{secrets[1]}'"]
    lines += ["-- filler " + "y" * 70] * 200 + [f"K2='{secrets[2]}'"]
    lines += ["z" * (3 * WINDOW_BYTES) + f" K3 = '{secrets[3]}'"]  # one huge line
    p.write_text("\n".join(lines) + "\n")
    matches = scan_large(RepoFile("dump.sql", p, p.stat().st_size))
    text = p.read_text()
    want = []
    for s in secrets:
        off = text.index(s)
        want.append((text.count("\n", 0, off) + 1, off - text.rfind("\n", 0, off)))
    assert [(m.line, m.column) for m in matches] == want


def test_ssotignore_with_a_bad_glob_names_its_line(make_tree: TreeMaker) -> None:
    root = make_tree({".ssotignore": "# ok\nvendor/\n[z-a]\n"})
    with pytest.raises(ConfigError, match=r"\.ssotignore:3: line 3: a valid glob pattern \(bad character range"):
        load_ignore(root)
    d = make_tree({})
    (d / ".ssotignore").mkdir()
    with pytest.raises(ConfigError, match=r"\.ssotignore: <root>: a readable regular file of ignore globs"):
        load_ignore(d)


def test_yaml_bombs_in_workflows_are_refused_fast(make_tree: TreeMaker) -> None:
    root = make_tree({".github/workflows/bomb.yml": BOMB, ".github/workflows/loop.yml": "on: &a [*a]\n",
                      ".github/workflows/deep.yml": "on: " + "[" * 300 + "]" * 300 + "\n"})
    inv = collect_static(root, use_checkov=False)
    assert inv.incomplete == [
        "workflows: .github/workflows/bomb.yml:1: expected YAML aliases that expand to at most 100,000 more "
        "nodes (these expand to more: an alias bomb)",
        "workflows: .github/workflows/deep.yml:1: expected YAML nested at most 200 levels deep",
        "workflows: .github/workflows/loop.yml:1: expected no recursive YAML aliases (an anchor used inside "
        "itself)",
    ]


# --- unreadable paths, as an unprivileged user -----------------------------------------------------


@pytest.fixture
def shared_tree() -> Iterator[Path]:
    """A tree `nobody` can traverse (pytest's tmp_path is private to root)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        missing_dependency("needs root and setpriv to run the scan as an unprivileged user")
    root = Path(tempfile.mkdtemp(prefix="ssot-hostile-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        for d, dirs, _ in os.walk(root):
            for x in dirs:
                os.chmod(os.path.join(d, x), 0o700)
        shutil.rmtree(root)


_AS_NOBODY = """
import json, sys
from pathlib import Path
from ssot.inventory import Kind
from ssot.safefile import remove_tree
from ssot.sources.static import collect_static, stage
inv = collect_static(Path(sys.argv[1]), use_checkov=False)
lits = sorted(a.location.path for a in inv.of(Kind.SECRET_LITERAL))
print(json.dumps({"incomplete": inv.incomplete, "lits": lits}))
"""


def _as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *args],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"})


def test_unreadable_files_and_directories_make_the_scan_incomplete(shared_tree: Path) -> None:
    secret = synthetic_secret()
    files = {"ok.py": f"K = '{secret}'\n", "secret.py": f"K = '{secret}'\n",
             "addons/a/__manifest__.py": "{'name': 'A', 'data': ['data/cron.xml']}\n",
             "addons/a/data/cron.xml": "<odoo><record id='c' model='ir.cron'/></odoo>\n",
             ".github/workflows/w.yml": "on: {schedule: [{cron: '0 1 * * *'}]}\n",
             "locked/inner.py": f"K = '{secret}'\n"}
    for rel, text in files.items():
        p = shared_tree / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.parent.chmod(0o755)
        p.write_text(text)
        p.chmod(0o644)
    for rel in ("secret.py", "addons/a/data/cron.xml", ".github/workflows/w.yml"):
        (shared_tree / rel).chmod(0o000)
    (shared_tree / "locked").chmod(0o000)
    proc = _as_nobody(sys.executable, "-c", _AS_NOBODY, str(shared_tree))
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    assert got["lits"] == ["ok.py"]
    assert sorted(got["incomplete"]) == [
        "not read: .github/workflows/w.yml: not readable (permission denied)",
        "not read: addons/a/data/cron.xml: not readable (permission denied)",
        "not read: locked/: directory not readable (permission denied)",
        "not read: secret.py: not readable (permission denied)",
    ]
    # end to end: exit 3 (incomplete), never a pass
    cli = _as_nobody(str(Path(sys.executable).with_name("ssot")), "scan", "--no-checkov", str(shared_tree))
    assert cli.returncode == 3, cli.stdout[-2000:] + cli.stderr[-2000:]
    assert "secret.py: not readable (permission denied)" in cli.stdout
    assert secret not in cli.stdout + cli.stderr


# --- checkov gets only what passed the filter ------------------------------------------------------


def test_checkov_sees_only_accepted_regular_files(make_tree: TreeMaker, tmp_path: Path, checkov_exe: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from .test_checkov import FIXED  # checkov flags this one (entropy above its threshold)

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "creds.py").write_text(f"SUPABASE_KEY = \"{FIXED}\"\n")
    canary = synthetic_secret("sb_secret_", 40)
    monkeypatch.setenv("SSOT_CANARY_KEY", canary)
    marker = tmp_path / "ran"
    root = make_tree({
        "app.py": "x = 1\n",
        ".github/workflows/bomb.yml": BOMB,
        # a pull request's own checkov must never be what runs
        "tools/.checkov-venv/bin/checkov": f"#!/bin/sh\ntouch {marker}\n",
    })
    (root / "tools/.checkov-venv/bin/checkov").chmod(0o755)
    (root / "creds.py").symlink_to(outside / "creds.py")
    (root / "vendored").symlink_to(outside)
    (root / "environ").symlink_to("/proc/self/environ")
    (root / "zero.py").symlink_to("/dev/zero")
    os.mkfifo(root / "pipe.py")
    inv = collect_static(root, checkov_exe=checkov_exe, checkov_timeout=300)
    assert _lits(inv) == []
    assert sorted(inv.incomplete) == [
        "checkov: not given .github/workflows/bomb.yml:1: expected YAML aliases that expand to at most "
        "100,000 more nodes (these expand to more: an alias bomb)",
        "not read: pipe.py: not a regular file (named pipe)",
        "workflows: .github/workflows/bomb.yml:1: expected YAML aliases that expand to at most 100,000 more "
        "nodes (these expand to more: an alias bomb)",
    ]
    assert not marker.exists()
    assert canary not in repr(inv.assets)


def test_inline_ignores_are_read_like_the_scan_reads(make_tree: TreeMaker, tmp_path: Path) -> None:
    from ssot.suppressions import file_reader

    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1  # ssot: ignore[hardcoded_secret] reason=\"outside\"\n")
    root = make_tree({"a.py": "x = 1  # ssot: ignore[hardcoded_secret] reason=\"ok\"\n"})
    (root / "link.py").symlink_to(outside)
    os.mkfifo(root / "pipe.py")
    read = file_reader(root)
    assert read("a.py") == ["x = 1  # ssot: ignore[hardcoded_secret] reason=\"ok\""]
    assert read("link.py") is None and read("pipe.py") is None  # not followed; no hang on the FIFO


def test_checkov_memory_bound_is_reported(make_tree: TreeMaker, checkov_exe: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSOT_CHECKOV_MEMORY_MB", "150")
    # A workflow, so that checkov has a framework to run (it is started only for what the tree holds).
    tree = make_tree({"a.py": "x = 1\n", ".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    runs-on: x\n"})
    inv = collect_static(tree, checkov_exe=checkov_exe, checkov_timeout=120)
    assert inv.incomplete == ["checkov: checkov exceeded its memory bound (150 MiB)"]
