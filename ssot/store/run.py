"""The CLI's side of `--store`: build the run record from what the command knows, write it, and read
back the trend for the HTML report. Kept here so that `ssot/cli.py` only calls one function."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from ssot.reporters._report import Report
from ssot.store import connect, describe_error, grant_agent_read, migrate, recent_runs, store_run
from ssot.store.errors import StoreError
from ssot.store.worker import request_id_from_env
from ssot.store.writer import RunRecord

AGENT_ROLES_ENV = "SSOT_STORE_AGENT_ROLES"
_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?\Z")
_REF = re.compile(r"refs/[A-Za-z0-9._/-]{1,200}\Z")
_MAX_GIT_FILE = 4096


@dataclass
class Stored:
    run_id: int
    scope: str
    history: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        from ssot.reporters._report import clean

        return (f"stored as run {self.run_id} of scope {clean(self.scope)!r} in audit.runs "
                "(agents read audit.open_findings)")


def _small_file(path: Path) -> str | None:
    # The tree may come from a stranger's pull request: no symlinks out, nothing large.
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _MAX_GIT_FILE:
            return None
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


def commit_of(root: Path, env: Mapping[str, str]) -> str | None:
    """The commit being checked: CI's GITHUB_SHA, else read from the tree's .git (no git process runs:
    a hostile repository's config could make one execute code)."""
    given = env.get("GITHUB_SHA", "").strip().lower()
    if _SHA.match(given):
        return given
    git = root / ".git"
    if git.is_symlink() or not git.is_dir():
        return None
    head = (_small_file(git / "HEAD") or "").strip()
    if _SHA.match(head):
        return head
    if not head.startswith("ref: "):
        return None
    ref = head[5:].strip()
    if not _REF.match(ref) or ".." in ref:
        return None
    loose = (_small_file(git / ref) or "").strip()
    if _SHA.match(loose):
        return loose
    packed = git / "packed-refs"
    try:
        if packed.is_symlink() or not packed.is_file() or packed.stat().st_size > 1_000_000:
            return None
        for line in packed.read_text(encoding="ascii", errors="replace").splitlines():
            sha, _, name = line.partition(" ")
            if name == ref and _SHA.match(sha):
                return sha
    except OSError:
        return None
    return None


def scope_of(command: str, stack: str | None, root: Path) -> str:
    return f"{command}:{stack}" if stack else f"{command}:{root.name or 'root'}"


def agent_roles(env: Mapping[str, str], declared: list[str]) -> list[str]:
    raw = env.get(AGENT_ROLES_ENV)
    if raw is not None:
        return [r.strip() for r in raw.split(",") if r.strip()]
    return declared


def store_report(report: Report, *, command: str, root: Path, started_at: datetime, stack: str | None = None,
                 sources_read: list[str] | None = None, declared_agent_roles: list[str] | None = None,
                 env: Mapping[str, str] | None = None) -> Stored:
    env = os.environ if env is None else env
    scope = scope_of(command, stack, root)
    record = RunRecord(command=command, scope=scope, stack=stack, target=report.target, started_at=started_at,
                       finished_at=datetime.now(UTC), commit_sha=commit_of(root, env),
                       sources_read=tuple(sources_read or ()), request_id=request_id_from_env(env))
    conn = connect(env)
    try:
        with conn:
            step = "migrating the audit schema"
            migrate(conn)
            step = "granting the agent roles read access to the views"
            grant_agent_read(conn, agent_roles(env, declared_agent_roles or []))
            step = "writing the run"
            run_id = store_run(conn, report, record)
            step = "reading the recent runs"
            history = recent_runs(conn, scope)
    except psycopg.Error as exc:
        raise StoreError(f"could not store the run ({step}): {describe_error(exc)}") from None
    return Stored(run_id, scope, history)


def sources_for(command: str, args: Any, result: Any) -> list[str]:
    """What the run read, for `audit.runs.sources_read` (what it could not read is the report's
    `incomplete`)."""
    given = getattr(result, "sources_read", None)
    if given:  # the pipeline says (ssot audit)
        return [str(s) for s in given]
    audit = getattr(result, "audit", None)
    if command == "audit" and isinstance(audit, dict):
        read = ["declared stack" + (" (state export)" if getattr(args, "state", None) else " (program)")]
        for s in audit.get("sources", []):
            if s.get("status") == "read":
                read.append(str(s.get("source")))
            elif s.get("status") == "incomplete":
                read.append(f"{s.get('source')} (partly: see sources_not_read)")
        return read
    failed = {str(i).split(":", 1)[0] for i in getattr(result.inventory, "incomplete", [])}
    if command == "scan":
        read = ["repository files", "stack files"]
        if not getattr(args, "no_checkov", False) and "checkov" not in failed:
            read.append("checkov")
        return read
    if command == "preview":
        return ["stack file", "pulumi program (mock runtime)"]
    return []


def declared_agent_roles(root: Path, stack: str | None) -> list[str]:
    """The roles of kind `agent` the stack declares (none for a scan, which has no stack of record)."""
    if not stack:
        return []
    from ssot.errors import SsotError
    from ssot.model import load_platform, stack_file

    try:
        platform = load_platform(stack_file(stack, root), stack=stack, strict=False)
    except (SsotError, OSError):
        return []
    return [r.name for r in platform.roles if r.kind == "agent"]
