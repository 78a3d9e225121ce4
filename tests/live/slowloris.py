"""A server that answers HTTP one byte at a time, forever: a per-read timeout never trips on it.

`phase="headers"` trickles an endless header; `phase="body"` sends the headers and then trickles a
body that never ends. Each connection stops when the client goes away or after `max_seconds`.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


class Slowloris:
    def __init__(self, phase: str = "body", interval: float = 0.02, max_seconds: float = 20.0) -> None:
        self.phase = phase
        self.interval = interval
        self.max_seconds = max_seconds
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def start(self) -> Slowloris:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()

    def __enter__(self) -> Slowloris:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        end = time.monotonic() + self.max_seconds
        with conn:
            try:
                conn.settimeout(2)
                conn.recv(65536)  # the request (its size does not matter here)
                if self.phase == "body":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: 100000000\r\n\r\n[")
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not self._stop.is_set() and time.monotonic() < end:
                    conn.sendall(b"1" if self.phase == "body" else b"a")
                    time.sleep(self.interval)
            except OSError:
                return
