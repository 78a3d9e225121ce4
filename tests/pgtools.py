"""Helpers for tests that run their own PostgreSQL cluster (imported by name: tests/ is on sys.path)."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from needs import missing_dependency

from ssot import localdb


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def cluster_base() -> Iterator[Path]:
    """A fresh 0755 directory under /tmp (the `postgres` user must traverse it; pytest's own tmp
    dirs are root-only), removed afterwards together with any cluster left running in `pgdata`."""
    try:
        localdb.bindir()
    except localdb.PostgresNotInstalled as exc:
        missing_dependency(f"real PostgreSQL needed: {exc}")
    base = Path(tempfile.mkdtemp(prefix="ssot-test-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        try:
            localdb.stop(base / "pgdata")
        except localdb.LocalDbError:
            pass
        shutil.rmtree(base, ignore_errors=True)
