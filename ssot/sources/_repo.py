"""Shared plumbing of the static sources: the repository walk, `.ssotignore`, text reading, and
turning detector matches into value-free SECRET_LITERAL assets.

Nothing here keeps a secret's value: matches arrive from `ssot.detectors` already fingerprinted and
redacted, and `scrub` rewrites any text we do keep (cron commands, Odoo cron code) so that a secret
literal inside it is replaced by its redacted shape.
"""

from __future__ import annotations

import codecs
import dataclasses
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssot.detectors import SecretMatch, replace_matches, scan_text
from ssot.errors import ConfigError
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.safefile import BOMS, NotRead, decode, display_name, open_regular, os_reason, read_bytes

log = logging.getLogger("ssot.sources.static")

# Files above this size are not parsed (SQL, XML, YAML...) but streamed through the detectors in
# overlapping windows, so memory stays bounded; the scan says which ones were only partly read.
MAX_FILE_BYTES = 5 * 1024 * 1024
_SNIFF_BYTES = 8192
# Windows of the streamed scan, and how much consecutive windows share: longer than any secret
# format the detectors know, so a secret cut by one window is whole in the next.
WINDOW_BYTES = 1024 * 1024
WINDOW_OVERLAP = 8192
# Directories no repository scan should descend into: VCS data, dependency trees, virtualenvs,
# local database clusters and tool caches. They are large and never hold the repository's own files.
_SKIP_DIR_NAMES = frozenset({".git", ".hg", ".svn", "node_modules", ".pgdata", "__pycache__", ".hypothesis",
                             ".mypy_cache", ".ruff_cache", ".pytest_cache", ".tox", ".checkov-venv"})


def skip_dir(name: str) -> bool:
    return name in _SKIP_DIR_NAMES or name.startswith(".venv") or name == "venv"


@dataclass(frozen=True, slots=True)
class RepoFile:
    rel: str  # POSIX path relative to the scanned root
    path: Path
    size: int

    @property
    def large(self) -> bool:
        return self.size > MAX_FILE_BYTES


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


def parse_ignore(text: str, file: str = ".ssotignore") -> list[IgnoreRule]:
    """gitignore-style patterns: `#` comments, `!` negation, trailing `/` for directories, a leading
    or inner `/` anchors at the root, otherwise the pattern matches at any depth. A pattern that is
    not a valid glob (a reversed range like `[z-a]`) is a ConfigError naming its line."""
    rules = []
    for lineno, raw in enumerate(text.splitlines(), 1):
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
        try:
            regex = re.compile(f"{prefix}{body}\\Z")
        except re.error as exc:
            raise ConfigError.single(file, f"line {lineno}", f"a valid glob pattern ({exc.msg})", lineno) from None
        rules.append(IgnoreRule(regex, negate, dir_only, body))
    return rules


def is_ignored(rel: str, rules: Sequence[IgnoreRule], *, is_dir: bool = False) -> bool:
    ignored = False
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.regex.match(rel):
            ignored = not rule.negate
    return ignored


MAX_IGNORE_BYTES = 1024 * 1024


def load_ignore(root: Path, ignore_file: Path | None = None) -> list[IgnoreRule]:
    """The root's `.ssotignore`, or `ignore_file` instead of it (`ssot scan --ignore-file`: on a pull
    request, the base branch's, so that a change cannot exempt its own files from the scan). It
    decides what is scanned, so one that exists but cannot be read (not a regular file, unreadable,
    over 1 MiB) is a ConfigError (exit 2), never ignored; a given `ignore_file` must exist."""
    path, shown = (root / ".ssotignore", ".ssotignore") if ignore_file is None else (ignore_file, str(ignore_file))
    try:
        data = read_bytes(path, limit=MAX_IGNORE_BYTES, rel=shown)
    except NotRead as exc:
        if ignore_file is None and not os.path.lexists(path):
            return []
        raise ConfigError.single(shown, "", f"a readable regular file of ignore globs ({exc.reason})") from None
    return parse_ignore(decode(data), shown)


@dataclass
class Walk:
    """What a walk found: the files to scan, and what it could not read (each a value-free line for
    `Inventory.incomplete`)."""

    files: list[RepoFile] = field(default_factory=list)
    not_read: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Any]:  # `files, not_read = walk(...)`
        return iter((self.files, self.not_read))


def walk(root: Path, rules: Sequence[IgnoreRule] = ()) -> Walk:
    """Every regular file under root that is not ignored, and what could not be read and why.

    Iterative (a tree 1,000 directories deep is fine), never following a symlink (a link is not
    scanned: its target is scanned where it lives if it is inside the tree, and nothing outside the
    tree is ever read). Unreadable directories and files, special files (FIFOs, devices, sockets)
    and names that are not valid UTF-8 are listed in `not_read`, so the scan is incomplete, not a
    pass. Each file is opened here (see `open_regular`) so that what is listed is what can be read.
    """
    out = Walk()
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        dirpath, reldir = stack.pop()
        try:
            with os.scandir(dirpath) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            out.not_read.append(f"{reldir or '.'}/: directory not readable ({os_reason(exc)})")
            continue
        subdirs: list[tuple[str, str]] = []
        for e in entries:
            rel = f"{reldir}/{e.name}" if reldir else e.name
            shown = display_name(rel)
            try:
                is_link = e.is_symlink()
                is_dir = not is_link and e.is_dir(follow_symlinks=False)
            except OSError as exc:
                out.not_read.append(f"{shown}: not readable ({os_reason(exc)})")
                continue
            if is_link:
                continue  # never followed; see the docstring
            if is_dir:
                if skip_dir(e.name) or is_ignored(rel, rules, is_dir=True):
                    continue
            elif is_ignored(rel, rules):
                continue
            if shown != rel:
                out.not_read.append(f"{shown}: name is not valid UTF-8 (not scanned)")
                continue
            if is_dir:
                subdirs.append((e.path, rel))
                continue
            try:
                fd = open_regular(e.path, rel=rel)
            except NotRead as exc:
                out.not_read.append(str(exc))
                continue
            try:
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            out.files.append(RepoFile(rel, Path(e.path), size))
        stack.extend(reversed(subdirs))
    return out


def read_text(f: RepoFile) -> str | None:
    """A (not large) file as text, decoded as `decode` says; None when it is large (see `scan_large`)
    or when it stopped being readable since the walk (logged)."""
    if f.large:
        return None
    try:
        data = read_bytes(f.path, limit=MAX_FILE_BYTES, rel=f.rel)
    except NotRead as exc:
        log.warning("%s", exc)
        return None
    return decode(data)


def scan_large(f: RepoFile) -> list[SecretMatch]:
    """The detectors over a large file in overlapping windows: bounded memory whatever its size.

    Windows end at a line break when there is one, so lines (and the filters that read them) stay
    whole. Each window keeps only the matches that start before the point where the next window
    begins (at least WINDOW_OVERLAP before its end), so a secret cut by a window's end is found
    whole in the next and nothing is reported twice. Raises NotRead.
    """
    fd = open_regular(f.path, rel=f.rel)
    out: list[SecretMatch] = []
    try:
        first = os.read(fd, 4)
        codec = next((c for bom, c in BOMS if first.startswith(bom)), "utf-8")
        decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        carry = decoder.decode(first)
        line0 = 1  # line of carry's first character
        col0 = 0  # columns to add on that first line (a window that starts mid-line)
        eof = False
        while not eof:
            try:
                chunk = os.read(fd, WINDOW_BYTES)
            except OSError as exc:
                raise NotRead(f.rel, f"not readable ({os_reason(exc)})") from None
            eof = not chunk
            text = (carry + decoder.decode(chunk, final=eof)).replace("\0", " ")
            if eof:
                cut = len(text)
            else:
                cut = text.rfind("\n", 0, max(0, len(text) - WINDOW_OVERLAP)) + 1
                if cut == 0 or len(text) - cut > 4 * WINDOW_OVERLAP:
                    cut = max(0, len(text) - WINDOW_OVERLAP)
            head = text[:cut]
            breaks = head.count("\n")
            limit = (breaks + 1, cut - head.rfind("\n"))  # (line, column) where the next window begins
            for m in scan_text(text, f.rel):
                if not eof and (m.line, m.column) >= limit:
                    continue
                out.append(dataclasses.replace(m, line=line0 + m.line - 1,
                                               column=m.column + (col0 if m.line == 1 else 0)))
            col0 = cut - (head.rfind("\n") + 1) if breaks else col0 + cut
            line0 += breaks
            carry = text[cut:]
    finally:
        os.close(fd)
    return out


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


def scrub(text: str | None, path: str) -> str | None:
    """`text` with every secret literal the detectors find replaced by its redacted shape. A match
    that cannot be located exactly withholds its whole line rather than risk keeping the value."""
    if not text:
        return text
    return replace_matches(text, scan_text(text, path), mark=lambda m: f"<secret {m.secret_type} {m.redacted}>",
                           line_withheld="<line withheld: holds a secret literal>",
                           all_withheld="<withheld: holds a secret literal>")


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def first_line_matching(lines: Iterable[str], pattern: re.Pattern[str]) -> int | None:
    for i, line in enumerate(lines, 1):
        if pattern.search(line):
            return i
    return None
