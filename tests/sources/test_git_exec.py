"""The scanned repository's git config and attributes never make ssot's git calls run a program.

A hostile tree decides its `.gitattributes`, and whoever prepared the clone decides `.git/config`:
filter drivers (clean/smudge/process), diff textconv and external drivers, fsmonitor, pagers, hooks
and signature programs are all programs git would run on its behalf. Each case plants a command
that creates a marker file, then asks ssot what changed and what the history holds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ssot.sources.git import changed_files
from ssot.sources.history import collect_history

from .conftest import TreeMaker
from .test_changed_since import git

# name -> (.gitattributes line or None, config key -> value with {marker})
CASES: dict[str, tuple[str | None, dict[str, str]]] = {
    "filter clean": ("* filter=pwn", {"filter.pwn.clean": 'sh -c "touch {marker}; cat"'}),
    "filter process": ("* filter=pwn", {"filter.pwn.process": 'sh -c "touch {marker}"', "filter.pwn.required": "true"}),
    "filter with odd name": ("* filter=a=b.c", {"filter.a=b.c.clean": 'sh -c "touch {marker}; cat"'}),
    "diff textconv": ("* diff=pwn", {"diff.pwn.textconv": 'sh -c "touch {marker}; cat \\"$1\\"" -'}),
    "diff command": ("* diff=pwn", {"diff.pwn.command": 'sh -c "touch {marker}"'}),
    "diff external": (None, {"diff.external": 'sh -c "touch {marker}"'}),
    "fsmonitor": (None, {"core.fsmonitor": 'sh -c "touch {marker}"'}),
    "pager": (None, {"core.pager": 'sh -c "touch {marker}; cat"', "pager.diff": "true", "pager.log": "true"}),
    "signatures": (None, {"log.showSignature": "true", "gpg.program": 'sh -c "touch {marker}"'}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_program_named_by_the_repo_runs(make_tree: TreeMaker, tmp_path: Path, case: str) -> None:
    attributes, config = CASES[case]
    marker = tmp_path / "PWNED"
    root = make_tree({"a.py": "a = 1\n", "b.py": "b = 1\n"})
    git(root, "init", "-q", "-b", "main")
    if attributes:
        (root / ".gitattributes").write_text(attributes + "\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    (root / "a.py").write_text("a = 2\n")
    git(root, "commit", "-qam", "change")
    for key, value in config.items():
        git(root, "config", key, value.format(marker=marker))
    # The work tree differs from the index by stat only (same size, new mtime) and by content:
    # both make git re-read files, which is where it applies filters.
    (root / "b.py").write_text("b = 2\n")
    past = time.time() + 5
    os.utime(root / "a.py", (past, past))

    assert changed_files(root, "HEAD~1") >= {"a.py", "b.py"}
    collect_history(root, None)
    assert not marker.exists(), f"{case}: git ran a program the scanned repository named"


def test_the_planted_filter_does_run_for_plain_git(make_tree: TreeMaker, tmp_path: Path) -> None:
    """The reproduction is real: the same repository makes an unguarded `git diff HEAD` run it."""
    marker = tmp_path / "PWNED"
    root = make_tree({"a.py": "a = 1\n", ".gitattributes": "* filter=pwn\n"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "config", "filter.pwn.clean", f'sh -c "touch {marker}; cat"')
    (root / "a.py").write_text("a = 2\n")
    git(root, "diff", "--name-only", "HEAD")
    assert marker.exists()
