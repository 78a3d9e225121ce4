"""Opening files that an attacker may have planted: regular files only, never through a symlink,
never blocking, with bounded reads. Every error is a `NotRead` whose reason is value-free (an OS
error's description, never the file's content), for messages and `Inventory.incomplete`.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

# Only regular files are opened, never through a symlink, and never blocking (a FIFO would hang).
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
# (the UTF-32 LE mark starts like the UTF-16 LE one, so it is tested first; the codecs drop the mark)
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


class NotRead(Exception):
    """A path the scan was asked to cover but could not read; `reason` is value-free."""

    def __init__(self, rel: str, reason: str) -> None:
        super().__init__(f"{rel}: {reason}")
        self.rel = rel
        self.reason = reason


def display_name(name: str) -> str:
    """A path as it can be shown: undecodable bytes (kept by surrogateescape) as \\xNN escapes."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def os_reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else type(exc).__name__


def open_regular(path: str | Path, *, dir_fd: int | None = None, rel: str | None = None) -> int:
    """A read-only descriptor on a regular file, never through a symlink and never blocking: a FIFO,
    a device or a socket is refused after fstat, before anything is read from it. Raises NotRead."""
    rel = rel or display_name(str(path))
    try:
        fd = os.open(path, _OPEN_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRead(rel, "a symbolic link (not followed)") from None
        raise NotRead(rel, f"not readable ({os_reason(exc)})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRead(rel, f"not a regular file ({_file_type(st.st_mode)})")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "named pipe"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISLNK, "symbolic link")):
        if test(mode):
            return name
    return "special file"


def read_bytes(path: str | Path, *, limit: int, rel: str | None = None) -> bytes:
    """At most `limit` bytes of a regular file (see open_regular); more is refused, never truncated."""
    rel = rel or display_name(str(path))
    fd = open_regular(path, rel=rel)
    try:
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            except OSError as exc:
                raise NotRead(rel, f"not readable ({os_reason(exc)})") from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise NotRead(rel, f"larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def decode(data: bytes) -> str:
    """Bytes as text, whatever they are: a BOM selects UTF-8/16/32; otherwise UTF-8 with the invalid
    bytes replaced. NUL bytes become spaces, so that a text with an early NUL is still scanned with
    its lines and columns intact (and a binary file's printable runs too)."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            text = data.decode(codec, errors="replace")
            break
    else:
        text = data.decode("utf-8", errors="replace")
    return text.replace("\0", " ") if "\0" in text else text


def remove_tree(top: str | Path) -> None:
    """Delete a directory tree without recursion and without following links: Python 3.11's
    `shutil.rmtree` recurses once per level, so a tree 1,000 directories deep (hostile input, or
    our private copy of it) raised RecursionError instead of being removed."""
    stack: list[tuple[str, bool]] = [(str(top), False)]
    while stack:
        path, emptied = stack.pop()
        if emptied:
            os.rmdir(path)
            continue
        stack.append((path, True))
        with os.scandir(path) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append((e.path, False))
                else:
                    os.unlink(e.path)
