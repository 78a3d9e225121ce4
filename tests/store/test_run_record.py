"""What a stored run says about itself: the commit (read without running git), scope, sources."""

from __future__ import annotations

import os
from pathlib import Path

from ssot.store.run import agent_roles, commit_of, scope_of

SHA = "0123456789abcdef0123456789abcdef01234567"


def git_dir(root: Path, head: str) -> Path:
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text(head)
    return git


def test_ci_sha_wins(tmp_path: Path) -> None:
    git_dir(tmp_path, "ref: refs/heads/main\n")
    assert commit_of(tmp_path, {"GITHUB_SHA": SHA.upper()}) == SHA
    assert commit_of(tmp_path, {"GITHUB_SHA": "not-a-sha"}) is None


def test_loose_and_packed_refs(tmp_path: Path) -> None:
    git = git_dir(tmp_path, "ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text(SHA + "\n")
    assert commit_of(tmp_path, {}) == SHA
    (git / "refs" / "heads" / "main").unlink()
    (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{'f' * 40} refs/heads/other\n{SHA} refs/heads/main\n")
    assert commit_of(tmp_path, {}) == SHA


def test_detached_head(tmp_path: Path) -> None:
    git_dir(tmp_path, SHA + "\n")
    assert commit_of(tmp_path, {}) == SHA


def test_hostile_trees_yield_no_commit_and_read_nothing_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text(SHA)
    root = tmp_path / "repo"
    root.mkdir()
    git = git_dir(root, "ref: ../../outside/secret\n")
    assert commit_of(root, {}) is None  # a ref escaping .git is refused
    (git / "HEAD").write_text("ref: refs/heads/../../../outside/secret\n")
    assert commit_of(root, {}) is None
    (git / "HEAD").unlink()
    os.symlink(outside / "secret", git / "HEAD")
    assert commit_of(root, {}) is None  # symlinks are not followed
    (git / "HEAD").unlink()
    (git / "HEAD").write_text("ref: refs/heads/big\n")
    (git / "refs" / "heads" / "big").write_text(SHA + "\n" + "x" * 10_000)
    assert commit_of(root, {}) is None  # nothing large is read
    other = tmp_path / "linked"
    other.mkdir()
    (other / ".git").write_text(f"gitdir: {outside}\n")  # a worktree's pointer leads outside: not followed
    assert commit_of(other, {}) is None


def test_scope_and_agent_roles(tmp_path: Path) -> None:
    assert scope_of("audit", "prod", tmp_path) == "audit:prod"
    assert scope_of("scan", None, tmp_path / "platform") == "scan:platform"
    assert agent_roles({}, ["ssot_agent"]) == ["ssot_agent"]
    assert agent_roles({"SSOT_STORE_AGENT_ROLES": " a_agent, b_agent ,"}, ["ssot_agent"]) == ["a_agent", "b_agent"]
