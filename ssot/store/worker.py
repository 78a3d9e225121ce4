"""The audit worker (`ssot audit --serve`): for platforms whose CI has no dispatch endpoint.

The platform's pg_cron job (ssot.audit_schedule, `worker: true`) inserts a row in `audit.requests`;
its trigger NOTIFYs `ssot_audit_requests`. The worker LISTENs, claims one pending request at a time
with FOR UPDATE SKIP LOCKED (several workers never run one request twice), runs the requested command
as a child `ssot <command> --stack <stack> --store` (so a crash or a hang of one audit cannot take
the worker down, and the run is stored exactly as a manual one would be, with its request id), then
records how it ended. It also polls, so a notification lost while it was down or busy is not a lost
request.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ssot.audit_schedule import COMMANDS, NOTIFY_CHANNEL, stack_problem
from ssot.store import connect, describe_error, migrate
from ssot.store.errors import StoreError

REQUEST_ENV = "SSOT_STORE_REQUEST_ID"
RUN_TIMEOUT_S = 3600
CLAIM_LOCK = 0x55_50_54_AD_17_00_00_02
_OUTCOME = {0: "passed", 1: "findings at or above the threshold", 2: "bad usage or configuration",
            3: "incomplete"}


@dataclass(frozen=True)
class Request:
    id: int
    command: str
    stack: str


Runner = Callable[[Request, Path, Mapping[str, str]], int]


def child_runner(audit_args: Sequence[str] = ()) -> Runner:
    """A runner that runs each request as a child ssot process storing its own run; `audit_args` are
    passed to `ssot audit` children (e.g. --local-db --datadir DIR, as the worker was given them)."""
    def run(request: Request, root: Path, env: Mapping[str, str]) -> int:
        return run_child(request, root, env, audit_args if request.command == "audit" else ())
    return run


def run_child(request: Request, root: Path, env: Mapping[str, str], extra: Sequence[str] = ()) -> int:
    """Run the request as a child ssot process that stores its own run; returns its exit code."""
    argv = [sys.executable, "-m", "ssot.cli", request.command, "--stack", request.stack, "--root", str(root),
            *extra, "--store", "--format", "text", "--output", os.devnull]
    child_env = {**env, REQUEST_ENV: str(request.id)}
    try:
        done = subprocess.run(argv, env=child_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=None, timeout=RUN_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return 3
    return done.returncode


def _abandon_stale(conn: psycopg.Connection) -> None:
    # A worker that died mid-run leaves its request running forever: past the longest a run may take,
    # it is marked failed so the history says so (the next scheduled request audits again).
    conn.execute("UPDATE audit.requests SET state = 'failed', finished_at = clock_timestamp(),"
                 " error = 'abandoned: the worker running it stopped before it finished'"
                 " WHERE state = 'running' AND claimed_at < clock_timestamp() - make_interval(secs => %s)",
                 (RUN_TIMEOUT_S * 2,))


def _claim(conn: psycopg.Connection, worker: str) -> Request | None:
    """The oldest pending (command, stack), answered by its newest request; the older ones of the same
    pair are superseded by it (one audit answers a backlog). Locked rows are someone else's."""
    _abandon_stale(conn)
    with conn.transaction():
        # Claims are short: serializing them keeps two workers from splitting one backlog between them.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (CLAIM_LOCK,))
        first = conn.execute("SELECT command, stack FROM audit.requests WHERE state = 'pending' ORDER BY id"
                             " FOR UPDATE SKIP LOCKED LIMIT 1").fetchone()
        if first is None:
            return None
        ids = [int(r[0]) for r in conn.execute(
            "SELECT id FROM audit.requests WHERE state = 'pending' AND command = %s AND stack = %s ORDER BY id"
            " FOR UPDATE SKIP LOCKED", first).fetchall()]
        if not ids:
            return None
        newest = ids[-1]
        conn.execute("UPDATE audit.requests SET state = 'running', claimed_at = clock_timestamp(), claimed_by = %s"
                     " WHERE id = %s", (worker, newest))
        if len(ids) > 1:
            conn.execute("UPDATE audit.requests SET state = 'superseded', superseded_by = %s,"
                         " finished_at = clock_timestamp() WHERE id = ANY(%s)", (newest, ids[:-1]))
    return Request(newest, str(first[0]), str(first[1]))


def _finish(conn: psycopg.Connection, request: Request, code: int, error: str | None) -> None:
    state = "done" if code in (0, 1) else "failed"
    conn.execute("UPDATE audit.requests SET state = %s, finished_at = clock_timestamp(), exit_code = %s, error = %s"
                 " WHERE id = %s", (state, code, error, request.id))


def handle(conn: psycopg.Connection, request: Request, root: Path, env: Mapping[str, str], runner: Runner) -> int:
    # The table's CHECK already limits these; the worker does not trust the table either.
    problem = stack_problem(request.stack)
    if request.command not in COMMANDS or problem:
        _finish(conn, request, 2, f"refused: expected a command in {', '.join(COMMANDS)} and {problem or 'a stack'}")
        return 2
    code = runner(request, root, env)
    _finish(conn, request, code, None if code in (0, 1) else f"exit {code}: {_OUTCOME.get(code, 'internal error')}")
    return code


def serve(root: Path, *, env: Mapping[str, str] | None = None, once: bool = False, poll_seconds: float = 30.0,
          max_requests: int | None = None, runner: Runner = run_child,
          on_ready: Callable[[], None] | None = None) -> int:
    """Wait for requests and run them; returns how many were handled. `once`: drain what is pending, then
    return. The connection string comes from SSOT_STORE_DSN, as for `--store`."""
    env = dict(os.environ if env is None else env)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    handled = 0
    conn = connect(env)
    try:
        with conn:
            step = "migrating the audit schema"
            migrate(conn)
            step = "listening for requests"
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            if on_ready:
                on_ready()
            while max_requests is None or handled < max_requests:
                step = "claiming a request"
                request = _claim(conn, worker)
                if request is None:
                    if once:
                        break
                    step = "waiting for requests"
                    for _ in conn.notifies(timeout=poll_seconds, stop_after=1):
                        pass
                    continue
                step = f"running request {request.id}"
                handle(conn, request, root, env, runner)
                handled += 1
    except psycopg.Error as exc:
        raise StoreError(f"audit worker: {step}: {describe_error(exc)}") from None
    return handled


def request_id_from_env(env: Mapping[str, str]) -> int | None:
    raw = env.get(REQUEST_ENV, "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None
