"""Fixtures of the external live sources' tests: moto in server mode over HTTP, a fault proxy, stacks.

- `moto_url` (session): moto's server on a free loopback port; `moto` (function) resets its state
  (and IAM enforcement) before each test and returns the URL.
- `FaultProxy`: a real HTTP forwarder in front of any server; the next N requests can be answered with
  a status (e.g. 429 with Retry-After) or held past the client's timeout, the rest are forwarded.
- `make_platform(tmp_path, **sections)`: a Platform loaded from a minimal stack file plus `sections`.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pgtools import free_port

from ssot.model import Platform, load_platform

AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def moto_post(url: str, path: str, body: bytes = b"") -> None:
    req = urllib.request.Request(url + path, data=body, method="POST",  # noqa: S310
                                 headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310
        r.read()


@pytest.fixture
def moto(moto_url: str) -> Iterator[str]:
    moto_post(moto_url, "/moto-api/reset")
    yield moto_url
    moto_post(moto_url, "/moto-api/reset-auth", b"inf")  # back to "no IAM enforcement"
    moto_post(moto_url, "/moto-api/reset")


class FaultProxy:
    """Forwards HTTP to `upstream`; `fail_next(n, status, headers)` and `hang_next(n, seconds)` inject faults."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.faults: list[tuple[str, Any]] = []
        self.seen = 0
        self.rules: list[tuple[bytes, Any]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def fail_next(self, n: int, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        with self.lock:
            self.faults.extend(("fail", (status, headers or {}, body)) for _ in range(n))

    def fail_when(self, marker: bytes, status: int, headers: dict[str, str] | None = None,
                  body: bytes = b"") -> None:
        """Every request whose body contains `marker` is answered `status` (e.g. denied for one object)."""
        with self.lock:
            self.rules.append((marker, (status, headers or {}, body)))

    def hang_next(self, n: int, seconds: float) -> None:
        with self.lock:
            self.faults.extend(("hang", seconds) for _ in range(n))

    def slow_next(self, n: int, seconds: float) -> None:
        """The next n answers come late, but come (each within a client's read timeout)."""
        with self.lock:
            self.faults.extend(("slow", seconds) for _ in range(n))

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        with self.lock:
            self.seen += 1
            fault = self.faults.pop(0) if self.faults else None
            if fault is None:
                fault = next((("fail", f) for m, f in self.rules if m in body), None)
        if fault and fault[0] == "hang":
            time.sleep(fault[1])
            return  # the client gave up long ago; answer nothing
        if fault and fault[0] == "slow":
            time.sleep(fault[1])
        if fault and fault[0] == "fail":
            status, headers, payload = fault[1]
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            return
        conn = http.client.HTTPConnection(self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn.request(h.command, h.path, body=body, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        h.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)
        conn.close()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fault_proxy() -> Iterator[type[FaultProxy]]:
    made: list[FaultProxy] = []

    class Made(FaultProxy):
        def __init__(self, upstream: str) -> None:
            super().__init__(upstream)
            made.append(self)

    yield Made
    for p in made:
        p.close()


LIVE_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "estate" / "live"


def example_module(name: str) -> Any:
    """A module of the example estate's live side (the stand-ins), imported from its file: the example
    does not depend on tests/, and tests use the very code the example runs."""
    import importlib.util
    import sys

    full = f"ssot_estate_live_{name}"
    if full in sys.modules:
        return sys.modules[full]
    spec = importlib.util.spec_from_file_location(full, LIVE_EXAMPLE / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    spec.loader.exec_module(module)
    return module


def make_platform(tmp_path: Path, **sections: Any) -> Platform:
    doc: dict[str, Any] = {"config": {"ssot:platform": {
        "name": "acme",
        "database": {"host": "db.example.internal", "port": 5432, "password": {"secret": "dbPassword"}},
        **sections,
    }, "ssot:dbPassword": {"secure": "v1:AAAA:BBBB"}}}
    for key in ("odooPassword", "projectDbPassword"):
        doc["config"][f"ssot:{key}"] = {"secure": "v1:CCCC:DDDD"}
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_platform(path)


def all_text(*objects: Any) -> str:
    """Everything a result could show: reprs of assets, gaps, counts (for canary checks)."""
    return "\n".join(repr(o) for o in objects)
