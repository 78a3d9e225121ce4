"""Shared plumbing of the static sources: the repository walk, `.ssotignore`, text reading, and
turning detector matches into value-free SECRET_LITERAL assets.

Nothing here keeps a secret's value: matches arrive from `ssot.detectors` already fingerprinted and
redacted, and `scrub` rewrites any text we do keep (cron commands, Odoo cron code) so that a secret
literal inside it is replaced by its redacted shape.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ssot.detectors import SecretMatch, scan_text
from ssot.fingerprint import fingerprint
from ssot.inventory import Asset, Kind, Location, Phase, Store

log = logging.getLogger("ssot.sources.static")

# Files above this size are not read by our scanners (checkov still sees them); the walk logs it.
MAX_FILE_BYTES = 5 * 1024 * 1024
_SNIFF_BYTES = 8192

# Directories no repository scan should descend into: VCS data, dependency trees, virtualenvs,
# local database clusters and tool caches. They are large and never hold the repository's own files.
_SKIP_DIR_NAMES = frozenset({".git", ".hg", ".svn", "node_modules", ".pgdata", "__pycache__",
                             ".mypy_cache", ".ruff_cache", ".pytest_cache", ".tox", ".checkov-venv"})


def skip_dir(name: str) -> bool:
    return name in _SKIP_DIR_NAMES or name.startswith(".venv") or name == "venv"


@dataclass(frozen=True, slots=True)
class RepoFile:
    rel: str  # POSIX path relative to the scanned root
    path: Path
    size: int


# --- .ssotignore -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool
    body: str = ""  # the glob as a regex, without anchors


def _glob_to_regex(glob: str) -> str:
    out = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            if glob[i:i + 3] == "**/":
                out.append("(?:.*/)?")
                i += 3
                continue
            if glob[i:i + 2] == "**":
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = glob.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = glob[i + 1:j].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def parse_ignore(text: str) -> list[IgnoreRule]:
    """gitignore-style patterns: `#` comments, `!` negation, trailing `/` for directories, a leading
    or inner `/` anchors at the root, otherwise the pattern matches at any depth."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        body = _glob_to_regex(line)
        prefix = "" if anchored else "(?:.*/)?"
        rules.append(IgnoreRule(re.compile(f"^{prefix}{body}\\Z"), negate, dir_only, body))
    return rules


def is_ignored(rel: str, rules: Sequence[IgnoreRule], *, is_dir: bool = False) -> bool:
    ignored = False
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.regex.match(rel):
            ignored = not rule.negate
    return ignored


def load_ignore(root: Path) -> list[IgnoreRule]:
    p = root / ".ssotignore"
    try:
        return parse_ignore(p.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        return []


def walk(root: Path, rules: Sequence[IgnoreRule] = ()) -> tuple[list[RepoFile], list[str]]:
    """Every regular file under root that is not ignored; plus the relative paths skipped as too big."""
    files: list[RepoFile] = []
    too_big: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        reldir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        reldir = "" if reldir == "." else reldir
        keep = []
        for d in sorted(dirnames):
            rel = f"{reldir}/{d}" if reldir else d
            if skip_dir(d) or is_ignored(rel, rules, is_dir=True):
                continue
            if os.path.islink(os.path.join(dirpath, d)):
                continue  # a symlinked directory can loop or leave the repository
            keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            rel = f"{reldir}/{f}" if reldir else f
            if is_ignored(rel, rules):
                continue
            full = Path(dirpath) / f
            try:
                st = full.lstat()
            except OSError:
                continue
            if not full.is_file() or full.is_symlink():
                continue
            if st.st_size > MAX_FILE_BYTES:
                too_big.append(rel)
                log.warning("not scanning %s: larger than %d bytes", rel, MAX_FILE_BYTES)
                continue
            files.append(RepoFile(rel, full, st.st_size))
    return files, too_big


def read_text(f: RepoFile) -> str | None:
    """The file as text, or None for a binary file (a NUL byte in its first 8 KiB)."""
    try:
        data = f.path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:_SNIFF_BYTES]:
        return None
    return data.decode("utf-8", errors="replace")


# --- secret literals ---------------------------------------------------------------------------


class SecretNamer:
    """Asset names for secret literals: `<path>:<secret_type>`, with `#n` for the n-th repeat in one
    file, so that names stay unique and do not change when lines move."""

    def __init__(self) -> None:
        self._seen: dict[tuple[Store, str], int] = {}

    def name(self, store: Store, rel: str, secret_type: str) -> str:
        base = f"{rel}:{secret_type}"
        n = self._seen.get((store, base), 0) + 1
        self._seen[(store, base)] = n
        return base if n == 1 else f"{base}#{n}"


def secret_asset(m: SecretMatch, rel: str, context: str, store: Store = Store.REPOSITORY,
                 name: str | None = None) -> Asset:
    return Asset(
        kind=Kind.SECRET_LITERAL, store=store, name=name or f"{rel}:{m.secret_type}", phase=Phase.STATIC,
        location=Location(path=rel, line=m.line, column=m.column),
        props={"secret_type": m.secret_type, "detector": m.detector, "detectors": [m.detector],
               "context": context, "redacted": m.redacted},
        fingerprint=m.fingerprint,
    )


def secret_assets(text: str, rel: str, context: str, store: Store = Store.REPOSITORY,
                  context_for_line: dict[int, str] | None = None) -> list[Asset]:
    out = []
    for m in scan_text(text, rel):
        ctx = (context_for_line or {}).get(m.line, context)
        out.append(secret_asset(m, rel, ctx, store))
    return out


_REDACTED_LEN = re.compile(r"\((\d+) chars\)")


def _span(line: str, m: SecretMatch) -> tuple[int, int] | None:
    """Where the match sits in its line, proved by recomputing the (keyed) fingerprint."""
    lm = _REDACTED_LEN.search(m.redacted or "")
    if not lm:
        return None
    n = int(lm.group(1))
    col = m.column or 0
    for start in (col - 1, col, col - 2):
        if 0 <= start and start + n <= len(line) and fingerprint(line[start:start + n]) == m.fingerprint:
            return start, start + n
    return None


def scrub(text: str | None, path: str) -> str | None:
    """`text` with every secret literal the detectors find replaced by its redacted shape. A match
    that cannot be located exactly withholds its whole line rather than risk keeping the value."""
    if not text:
        return text
    matches = scan_text(text, path)
    if not matches:
        return text
    lines = text.split("\n")
    by_line: dict[int, list[SecretMatch]] = {}
    for m in matches:
        by_line.setdefault(m.line, []).append(m)
    for lineno, ms in by_line.items():
        idx = lineno - 1
        if not 0 <= idx < len(lines):
            return "<withheld: holds a secret literal>"
        line = lines[idx]
        spans = [(_span(line, m), m) for m in ms]
        located = [(s, m) for s, m in spans if s is not None]
        if len(located) != len(spans):
            lines[idx] = "<line withheld: holds a secret literal>"
            continue
        for (start, end), m in sorted(located, key=lambda p: -p[0][0]):
            line = f"{line[:start]}<secret {m.secret_type} {m.redacted}>{line[end:]}"
        lines[idx] = line
    return "\n".join(lines)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def first_line_matching(lines: Iterable[str], pattern: re.Pattern[str]) -> int | None:
    for i, line in enumerate(lines, 1):
        if pattern.search(line):
            return i
    return None
