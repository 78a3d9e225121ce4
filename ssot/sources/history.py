"""Secrets committed to Git (§4), for `ssot scan --history [--since REF]`.

A secret deleted from the work tree is still in every clone's history. This source reads the history
once: `git log --raw -z` lists, commit by commit (oldest first), the blob each changed path received;
every distinct blob is read once through one `git cat-file --batch` process and scanned by the
detectors (an unchanged file is one blob, however many commits carry it). Each secret (by keyed
fingerprint, never by value) is reported where it was introduced: the first commit, its author date
and the path, and whether HEAD still holds it.

Bounded: blobs above `MAX_BLOB_BYTES` are not read and make the run incomplete (with their count),
never silently skipped; binary blobs are skipped like binary files in the work tree.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ssot.detectors import scan_text
from ssot.inventory import Asset, Inventory, Kind, Location, Phase, Store
from ssot.sources.git import GitError, _git, git_command, git_env, validate_ref

MAX_BLOB_BYTES = 5 * 1024 * 1024
_SNIFF = 8192
_COMMIT_MARK = b"\x01commit "


@dataclass(frozen=True, slots=True)
class Change:
    commit: str
    date: str  # author date, ISO 8601
    path: str
    blob: str


@dataclass
class HistoryStats:
    commits: int = 0
    changes: int = 0
    blobs: int = 0  # distinct blobs read and scanned
    too_big: int = 0
    binary: int = 0
    secrets: int = 0


def _changes(root: Path, since: str | None) -> Iterator[Change]:
    """Every (commit, path, new blob) of the history, oldest commit first; merges add nothing new."""
    revs = ["--all"] if since is None else ["--all", "--not", validate_ref(since)]
    out = _git(root, "log", "--reverse", "--topo-order", "--raw", "-z", "--no-renames", "--no-abbrev", "--no-ext-diff",
               "--no-textconv",
               "--diff-filter=AMT", "--format=%x01commit %H %aI", *revs, "--")
    commit = date = ""
    # -z: the header line, then for each change ":<modes> <old> <new> <status>\0<path>\0"
    fields = out.split(b"\0")
    i = 0
    while i < len(fields):
        f = fields[i].lstrip(b"\n")
        if f.startswith(_COMMIT_MARK):
            head = f[len(_COMMIT_MARK):].split(b"\n", 1)
            commit, date = head[0].decode().split(" ", 1)
            rest = head[1] if len(head) > 1 else b""
            if rest.startswith(b":"):
                fields[i] = rest
                continue
            i += 1
            continue
        if f.startswith(b":") and i + 1 < len(fields):
            meta = f[1:].split(b" ")
            if len(meta) >= 5 and meta[0] != b"160000" and meta[1] != b"160000":  # not submodules
                yield Change(commit, date, fields[i + 1].decode("utf-8", "surrogateescape"), meta[3].decode())
            i += 2
            continue
        i += 1


def _head_blobs(root: Path) -> set[str]:
    try:
        out = _git(root, "ls-tree", "-r", "-z", "--full-tree", "HEAD")
    except GitError:
        return set()  # no HEAD yet
    blobs = set()
    for entry in out.split(b"\0"):
        meta = entry.split(b"\t", 1)[0].split(b" ")
        if len(meta) == 3 and meta[1] == b"blob":
            blobs.add(meta[2].decode())
    return blobs


class _BlobReader:
    """One `git cat-file --batch` process: write an id, read `<id> <type> <size>` and the content."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(git_command(root, "cat-file", "--batch"), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_env(root))
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout

    def read(self, blob: str) -> tuple[int, bytes | None]:
        """(size, content); content None when the blob is over the size cap (not read, only skipped)."""
        self.stdin.write(blob.encode() + b"\n")
        self.stdin.flush()
        header = self.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            raise GitError("git cat-file did not return a blob")
        size = int(header[2])
        if size > MAX_BLOB_BYTES:
            left = size + 1
            while left:  # drain without keeping it
                left -= len(self.stdout.read(min(left, 1 << 20)))
            return size, None
        data = self.stdout.read(size)
        self.stdout.read(1)  # the newline after the content
        return size, data

    def close(self) -> None:
        self.stdin.close()
        self.proc.wait(timeout=60)


@dataclass
class _Seen:
    first: Change
    line: int
    column: int
    secret_type: str
    detector: str
    redacted: str
    blobs: set[str] = field(default_factory=set)


def collect_history(root: Path, since: str | None = None) -> tuple[Inventory, HistoryStats]:
    """SECRET_LITERAL assets (context "git-history") for every secret ever committed."""
    root = Path(root)
    stats = HistoryStats()
    inv = Inventory(phases={Phase.STATIC})
    head = _head_blobs(root)
    first_change: dict[str, Change] = {}  # blob -> where it first appeared
    commits: set[str] = set()
    for ch in _changes(root, since):
        stats.changes += 1
        commits.add(ch.commit)
        first_change.setdefault(ch.blob, ch)
    stats.commits = len(commits)
    seen: dict[tuple[str, str], _Seen] = {}  # (fingerprint, path) -> earliest sighting
    order = {c: i for i, c in enumerate(dict.fromkeys(ch.commit for ch in first_change.values()))}
    reader = _BlobReader(root)
    try:
        # Oldest blob first, so the first sighting of a value is its introduction.
        for blob, ch in sorted(first_change.items(), key=lambda kv: order[kv[1].commit]):
            _size, data = reader.read(blob)
            if data is None:
                stats.too_big += 1
                continue
            if b"\0" in data[:_SNIFF]:
                stats.binary += 1
                continue
            stats.blobs += 1
            text = data.decode("utf-8", "replace")
            for m in scan_text(text, ch.path):
                key = (m.fingerprint, ch.path)
                s = seen.get(key)
                if s is None:
                    s = seen[key] = _Seen(ch, m.line, m.column, m.secret_type, m.detector, m.redacted)
                s.blobs.add(blob)
    finally:
        reader.close()
    # A value is still in HEAD if any blob of HEAD's tree holds it (at any path).
    in_head = {fp for (fp, _p), s in seen.items() if s.blobs & head}
    for (fp, path), s in sorted(seen.items(), key=lambda kv: (order[kv[1].first.commit], kv[0][1])):
        stats.secrets += 1
        inv.add(Asset(
            kind=Kind.SECRET_LITERAL, store=Store.REPOSITORY,
            name=f"{path}:{s.secret_type}@{s.first.commit[:12]}", phase=Phase.STATIC,
            location=Location(path=path, line=s.line, column=s.column, object=f"commit {s.first.commit}"),
            props={"secret_type": s.secret_type, "detector": s.detector, "detectors": [s.detector],
                   "context": "git-history", "redacted": s.redacted, "commit": s.first.commit,
                   "author_date": s.first.date, "still_in_head": fp in in_head},
            fingerprint=fp))
    if stats.too_big:
        inv.incomplete.append(f"git-history: {stats.too_big} blob(s) larger than {MAX_BLOB_BYTES // 2**20} MiB "
                              "were not scanned")
    return inv, stats
