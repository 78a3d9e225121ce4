"""An overall deadline for HTTP reads from a system that may be hostile or broken.

A socket timeout bounds one read, not a request: a server that sends one byte every few seconds
never trips it and keeps a read (of the headers, or of the body) going for as long as it likes.
So every connection made here wraps its socket: each receive first checks the deadline (monotonic
clock) and then waits at most what is left of it, so a whole request, headers and body, ends by the
deadline whatever the server does. Bodies are read with a size cap (`read_capped`).
"""

from __future__ import annotations

import functools
import http.client
import io
import socket
import time
import urllib.request
from typing import Any


class DeadlineExceeded(TimeoutError):
    """The overall deadline passed (a TimeoutError, so callers treating timeouts keep working)."""


class Deadline:
    def __init__(self, seconds: float, clock: Any = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def check(self) -> None:
        if self.expired():
            raise DeadlineExceeded(f"deadline of {self.seconds:g}s passed")

    def wait(self, per_read: float | None) -> float:
        """How long the next socket operation may block: the per-read timeout, cut to what is left."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceeded(f"deadline of {self.seconds:g}s passed")
        return left if per_read is None else min(per_read, left)


class _DeadlineSocket:
    """A socket whose every receive is bounded by the deadline; everything else is the socket's."""

    def __init__(self, sock: socket.socket, deadline: Deadline, per_read: float | None) -> None:
        self._sock = sock
        self._deadline = deadline
        self._per_read = per_read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def _bounded(self, fn: Any, *args: Any) -> Any:
        self._sock.settimeout(self._deadline.wait(self._per_read))
        try:
            return fn(*args)
        except TimeoutError:
            self._deadline.check()  # the wait was cut to the deadline: say which limit it was
            raise

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        return int(self._bounded(self._sock.recv_into, buffer, nbytes, flags))

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        return bytes(self._bounded(self._sock.recv, bufsize, flags))

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._bounded(self._sock.sendall, data, flags)

    def makefile(self, mode: str = "r", buffering: int | None = None, **_kw: Any) -> io.BufferedReader:
        # http.client reads the status line, headers and body through this file: SocketIO calls our
        # recv_into, so each of those reads is bounded too. Counted as socket.makefile counts its
        # files, so that closing the connection (urllib does, right after the headers) leaves the
        # socket open until the response is closed as well.
        self._sock._io_refs += 1  # type: ignore[attr-defined]
        return io.BufferedReader(socket.SocketIO(self, "rb"), io.DEFAULT_BUFFER_SIZE)  # type: ignore[arg-type]


class _DeadlineConnect:
    """Connects within the deadline, then bounds every socket operation by it (for HTTPS, the TLS
    socket the base class made: the mixin runs after the base's whole `connect`)."""

    timeout: Any
    sock: Any

    def __init__(self, *args: Any, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        self.timeout = self._deadline.wait(self.timeout if isinstance(self.timeout, (int, float)) else None)
        per_read = self.timeout
        super().connect()  # type: ignore[misc]
        self.sock = _DeadlineSocket(self.sock, self._deadline, per_read)


class DeadlineHTTPConnection(_DeadlineConnect, http.client.HTTPConnection):
    pass


class DeadlineHTTPSConnection(_DeadlineConnect, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: Any) -> Any:
        return self.do_open(functools.partial(DeadlineHTTPConnection, deadline=self._deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: Any) -> Any:
        return self.do_open(functools.partial(DeadlineHTTPSConnection, deadline=self._deadline), req,
                            context=self._context)  # type: ignore[attr-defined]


def build_opener(deadline: Deadline | None, *handlers: Any) -> urllib.request.OpenerDirector:
    """urllib's opener, its HTTP(S) connections bounded by `deadline` (None: per-read timeouts only).
    TLS uses the default context (certificates and host names verified); an HTTPSHandler passed in
    `handlers` would not be used, since ours answers https first."""
    if deadline is None:
        return urllib.request.build_opener(*handlers)
    return urllib.request.build_opener(_HTTPHandler(deadline), _HTTPSHandler(deadline), *handlers)


def read_capped(resp: Any, limit: int) -> bytes | None:
    """At most `limit` bytes of a response body, or None when it is longer (never more in memory)."""
    data = resp.read(limit + 1)
    return None if len(data) > limit else data
