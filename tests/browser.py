"""A real headless Chromium driven over the DevTools protocol (imported by name: tests/ is on sys.path).

`open_page(path)` loads a local file in Debian's `chromium` and returns what a person would care
about: console messages and uncaught exceptions, browser log entries (CSP violations land there),
every network request the page made, and a way to evaluate script and take a screenshot. Host name
resolution is disabled (`MAP * ~NOTFOUND`) as a second fence: the tests still assert that no request
was even attempted.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket
from needs import missing_dependency

_LISTENING = re.compile(r"DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)")
_TIMEOUT_S = 60


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    missing_dependency("Debian's chromium is needed for the browser tests: run scripts/setup "
                       "(apt-get install chromium)")


@dataclass
class Page:
    ws: websocket.WebSocket
    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    _next_id: int = 0

    def _record(self, msg: dict[str, Any]) -> None:
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled":
            self.console.append(params)
        elif method == "Runtime.exceptionThrown":
            self.exceptions.append(params)
        elif method == "Log.entryAdded":
            self.log.append(params["entry"])
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        mid = self._next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        deadline = time.monotonic() + _TIMEOUT_S
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))
            self._record(msg)
        raise TimeoutError(method)

    def wait_for(self, event: str) -> None:
        deadline = time.monotonic() + _TIMEOUT_S
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            self._record(msg)
            if msg.get("method") == event:
                return
        raise TimeoutError(event)

    def settle(self, seconds: float = 0.5) -> None:
        """Drain events for a moment (late console messages, lazy requests)."""
        self.ws.settimeout(seconds)
        try:
            while True:
                self._record(json.loads(self.ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self.ws.settimeout(_TIMEOUT_S)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"evaluate({expression!r}): {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"])
        path.write_bytes(data)
        return data

    def errors(self) -> list[str]:
        out = [f"console.{c.get('type')}: {c.get('args')}" for c in self.console if c.get("type") in
               ("error", "assert", "warning")]
        out += [f"exception: {e.get('exceptionDetails', {}).get('text')}" for e in self.exceptions]
        out += [f"log {e.get('level')}: {e.get('text')}" for e in self.log if e.get("level") in ("error", "warning")]
        return out


@contextmanager
def open_page(path: Path, *, width: int = 1280, height: int = 900) -> Iterator[Page]:
    exe = chromium()
    profile = Path(tempfile.mkdtemp(prefix="ssot-chromium-"))
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-extensions",
           "--disable-default-apps", "--no-default-browser-check", f"--user-data-dir={profile}",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
           f"--window-size={width},{height}", "about:blank"]
    # stderr goes to a file: a pipe nobody drains would fill up and stall the browser.
    log_path = profile / "chromium.stderr"
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log_file,
                                env={**os.environ, "HOME": str(profile)})
    try:
        deadline = time.monotonic() + _TIMEOUT_S
        port = None
        while time.monotonic() < deadline and port is None:
            m = _LISTENING.search(log_path.read_text(errors="replace"))
            if m:
                port = int(m.group(2))
            elif proc.poll() is not None:
                raise AssertionError(f"chromium exited with {proc.returncode} before DevTools was up")
            else:
                time.sleep(0.1)
        assert port, "chromium did not announce its DevTools endpoint"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.loads(resp.read())
        target = next(t for t in targets if t.get("type") == "page")
        ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=_TIMEOUT_S, suppress_origin=True)
        page = Page(ws)
        try:
            for domain in ("Runtime", "Log", "Network", "Page"):
                page.call(f"{domain}.enable")
            page.call("Page.navigate", url=path.resolve().as_uri())
            page.wait_for("Page.loadEventFired")
            page.settle()
            yield page
        finally:
            ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
