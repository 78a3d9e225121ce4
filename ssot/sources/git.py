"""What changed in a git work tree relative to a ref, for `ssot scan --changed-since REF`.

REF comes from a command line or a CI event, so it is hostile: it must look like a ref name or a
commit id (never an option; `--end-of-options` also tells git so), and it must resolve to a commit.
git's output is read with `-z` (NUL-separated paths: a file name may hold newlines or quotes).
Changed means: committed on HEAD since the merge base with REF (`REF...HEAD`), plus what is staged,
modified or untracked (not ignored) in the work tree. Deleted files are not scanned (nothing to read).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from ssot.errors import ConfigError, SsotError

# A branch, tag, remote-tracking ref, `HEAD~3` or a commit id. git's own rules (check-ref-format)
# are stricter in places; what matters here is that nothing else gets through.
_REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./@{}~^+-]{0,250}\Z")
_TIMEOUT = 120.0


class GitError(SsotError):
    """git could not answer; the message says what was asked, never file contents. Not knowing what
    changed means not knowing what to scan: the run is incomplete (exit 3)."""

    exit_code = 3


def validate_ref(ref: str) -> str:
    if not _REF.match(ref) or ".." in ref or "//" in ref or ref.endswith((".", "/", ".lock")):
        raise ConfigError.single("--changed-since", "", "a git ref name or commit id (e.g. origin/main)")
    return ref


# The scanned repository's own config must not make git run anything (fsmonitor hooks, pagers,
# external diff drivers or textconv filters): read-only plumbing, with those switched off.
GIT_SAFE = ("-c", "core.fsmonitor=false", "-c", "core.pager=cat", "-c", "diff.external=",
            "-c", "core.hooksPath=/dev/null", "-c", "log.showSignature=false", "-c", "protocol.allow=never",
            "--no-pager")

# Drivers named in `.gitattributes` (which the scanned tree writes) run the commands the config gives
# them: a filter's clean/process whenever git re-reads a work-tree file (`git diff HEAD`, racy index
# entries), a diff driver's textconv/command. No switch turns them all off, so every driver the
# config defines is redefined empty. Through GIT_CONFIG_KEY_n/VALUE_n rather than `-c`: a driver
# name may contain `=`, which `-c name=value` would split at.
_DRIVER_KEYS = {"filter": {"clean": "", "smudge": "", "process": "", "required": "false"},
                "diff": {"textconv": "", "command": "", "cachetextconv": "false"}}


def git_command(root: Path, *args: str) -> list[str]:
    return ["git", *GIT_SAFE, "-C", str(root), *args]


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")) and k != "GIT_CONFIG_COUNT"}
    return {**env, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C",
            "GIT_EXTERNAL_DIFF": "", "GIT_PAGER": "cat", "GIT_NO_LAZY_FETCH": "1"}


def _drivers(root: Path) -> set[tuple[str, str]]:
    """(section, driver name) of every filter and diff driver the repository's config defines."""
    try:
        proc = subprocess.run(git_command(root, "config", "-z", "--name-only", "--get-regexp", r"^(filter|diff)\."),
                              capture_output=True, stdin=subprocess.DEVNULL, env=_base_env(), timeout=_TIMEOUT,
                              check=False)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git config did not finish within {_TIMEOUT:.0f}s") from None
    if proc.returncode not in (0, 1):  # 1: no such key, nothing to neutralise
        raise GitError(f"git config failed (exit {proc.returncode})")
    found = set()
    for raw in proc.stdout.split(b"\0"):
        name = raw.decode("utf-8", "surrogateescape")
        section, _, rest = name.partition(".")
        driver, dot, _key = rest.rpartition(".")
        if dot and section in _DRIVER_KEYS:
            found.add((section, driver))
    return found


def git_env(root: Path | None = None) -> dict[str, str]:
    """The environment for git in `root`: no prompts, no locks, and every driver the repository's
    config defines switched off (see `_DRIVER_KEYS`)."""
    env = _base_env()
    if root is None:
        return env
    pairs = [(f"{section}.{driver}.{key}", value) for section, driver in sorted(_drivers(root))
             for key, value in _DRIVER_KEYS[section].items()]
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    env["GIT_CONFIG_COUNT"] = str(len(pairs))
    return env


def _git(root: Path, *args: str) -> bytes:
    env = git_env(root)
    try:
        proc = subprocess.run(git_command(root, *args), capture_output=True, stdin=subprocess.DEVNULL,
                              env=env, timeout=_TIMEOUT, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} did not finish within {_TIMEOUT:.0f}s") from None
    if proc.returncode != 0:
        raise GitError(f"git {args[0]} failed (exit {proc.returncode})")
    return proc.stdout


def _paths(out: bytes) -> set[str]:
    return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}


def changed_files(root: Path, ref: str) -> set[str]:
    """Paths relative to `root` (POSIX) changed since `ref`, restricted to `root`."""
    ref = validate_ref(ref)
    try:
        _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except GitError:
        raise ConfigError.single("--changed-since", ref, "a commit that exists in this repository "
                                 "(fetch it first, e.g. `git fetch origin main` or checkout with fetch-depth: 0)"
                                 ) from None
    changed = _paths(_git(root, "diff", "--name-only", "-z", "--no-renames", "--relative", "--no-ext-diff",
                          "--no-textconv", "--end-of-options", f"{ref}...HEAD", "--"))
    changed |= _paths(_git(root, "diff", "--name-only", "-z", "--no-renames", "--relative", "--no-ext-diff",
                           "--no-textconv", "HEAD", "--"))
    changed |= _paths(_git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", "."))
    return changed
