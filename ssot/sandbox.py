"""Evaluate a stack's Pulumi program in a child process: clean environment, bounded time and memory.

`ssot scan --changed-since REF --with-preview` previews the program of a pull request, which is
code a stranger wrote. In this process it would see ssot's whole environment (in CI: tokens, the
store's DSN) and could change ssot's own state. The child gets only what the mock runtime needs
(PATH, the locale, SSOT_OFFLINE=1, PULUMI_SKIP_UPDATE_CHECK=1, an empty HOME and TMPDIR of its own),
runs in isolated mode (`python -I`: no PYTHON* variables, no user site, not the scanned tree's
directory on the import path before the program asks for it), under CPU, memory and file-size
limits and a wall-clock timeout, and hands back only the resource graph as JSON.

What this does not do: it is not a container. The child runs as the same user and can read what
that user can read on disk; a scan of untrusted code still belongs on a machine that holds no
secrets in files (a CI runner, where credentials come through the environment).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ssot.errors import SsotError

TIMEOUT_S = 300.0
MEMORY_BYTES = 4 << 30  # address space: the SDK's gRPC threads reserve far more than they use
OUTPUT_BYTES = 256 << 20
# What the parent reads back: the resource graph of a 7,000-resource program is about 10 MB. The
# child writes its own output file, so it is read as hostile: a regular file (not a link to /dev/zero
# or a FIFO), refused above this size before any of it is parsed.
RESULT_BYTES = 32 << 20
# Environment variables the child keeps from ours (by exact name): nothing that could be a credential.
KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


class SandboxError(SsotError):
    """The program could not be evaluated in its child process; the child's own exit code (2: the
    program or its config is wrong, 3: it could not finish) is kept."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def child_env(home: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in KEEP_ENV if k in os.environ}
    return {**env, "HOME": str(home), "TMPDIR": str(home), "SSOT_OFFLINE": "1", "PULUMI_SKIP_UPDATE_CHECK": "1"}


def _limits() -> None:  # pragma: no cover - runs in the child between fork and exec
    import resource

    cpu = int(TIMEOUT_S)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_BYTES, OUTPUT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_stack_resources(root: Path, stack: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(type, name, urn, props) of every resource the program declares for `stack`."""
    with tempfile.TemporaryDirectory(prefix="ssot-preview-") as tmp:
        home = Path(tmp)
        out = home / "resources.json"
        err = home / "stderr.txt"
        with err.open("wb") as stderr:
            proc = subprocess.Popen([sys.executable, "-I", "-m", "ssot.sandbox", str(root), stack, str(out)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                    env=child_env(home), cwd=home, preexec_fn=_limits, start_new_session=True)
            try:
                code = proc.wait(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise SandboxError(f"stack {stack}: the program did not finish within {TIMEOUT_S:.0f}s", 3) from None
            finally:
                # Whatever the program started in its session goes with it.
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if code != 0:
            raise SandboxError(f"stack {stack}: {_last_line(err)}", code if code in (2, 3) else 3)
        from ssot.safefile import NotRead, read_bytes

        try:
            raw = read_bytes(out, limit=RESULT_BYTES, rel="resources.json")
        except NotRead:
            raise SandboxError(f"stack {stack}: the program's child process returned no resource graph (or one "
                               f"larger than {RESULT_BYTES >> 20} MiB, or not a regular file)", 3) from None
        try:
            data = json.loads(raw)
            return [(str(r["type"]), str(r["name"]), str(r["urn"]), dict(r["props"])) for r in data]
        except (ValueError, KeyError, TypeError, RecursionError):
            raise SandboxError(f"stack {stack}: the program's child process returned no resource graph", 3) from None


def _last_line(err: Path) -> str:
    lines = [line for line in err.read_bytes()[-4096:].decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return "the program's child process failed without a message"
    # The program writes to the same stderr: printable characters only (no terminal escapes in a CI
    # log), bounded; the CLI's output guard still checks it for secrets.
    return "".join(c if c.isprintable() else "?" for c in lines[-1][:300])


def _child(root: str, stack: str, out: str) -> int:
    """In the child: evaluate the program and write its resources; errors as the CLI reports them."""
    from ssot.mockrun import run_stack

    try:
        import pulumi

        try:
            run = run_stack(Path(root), stack)
        except pulumi.RunError as exc:
            print(f"the program failed: {exc}", file=sys.stderr)
            return 2
    except SsotError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code if exc.exit_code in (2, 3) else 3
    except MemoryError:
        print("the program ran out of memory", file=sys.stderr)
        return 3
    except Exception as exc:  # the program's own error: only its type (its text may quote data)
        print(f"the program raised {type(exc).__name__}", file=sys.stderr)
        return 2
    resources = [{"type": r.type, "name": r.name, "urn": r.urn, "props": r.props} for r in run.resources]
    with open(out, "w", encoding="utf-8") as f:
        json.dump(resources, f, default=lambda o: f"<{type(o).__name__}>")
    return 0


if __name__ == "__main__":
    sys.exit(_child(*sys.argv[1:4]))
