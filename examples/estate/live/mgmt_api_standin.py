"""A local Supabase Management API (the example estate's stand-in, and the tests'): real HTTP on
127.0.0.1, checked against the OpenAPI document.

Every request is validated against Supabase's published OpenAPI document (path, path and query
parameters, JSON body against the operation's requestBody schema) before it is served, and every
response is validated against the schema the document gives for that operation and status. A
violation in either direction is recorded in `violations` (and an invalid request is answered 400, as
Supabase does), and the `running_server` helper fails the test at teardown if any was recorded.

Behaviour follows the real service where the tests depend on it: projects are COMING_UP for a few
status polls and then ACTIVE_HEALTHY; Edge Function secrets are stored by name and listed with
`value` = SHA-256 hex of the plaintext (the plaintext itself is not kept); every response carries
X-RateLimit-Limit/-Remaining/-Reset. Fault injection: the next N requests answer 429 with Retry-After,
or every request answers 500, or only one bearer token is accepted.

Run for the example estate: `python mgmt_api_standin.py --data mgmt-api-data.json --port 54381`
(projects and Edge Function secrets from the data file; only the data file's token is accepted). The
OpenAPI document is read from `$SSOT_SHARED_DIR` or `../shared` next to the repository.

Two deliberate readings of the document, both explained where they are applied:
- `discriminator` is dropped where its oneOf members are inline schemas (OAS 3.0 only defines it over
  schema references; the document's `region_selection` would otherwise be unvalidatable), the oneOf
  itself still applies;
- 400 and 404 (and injected 5xx) are answered with Supabase's `{"message": ...}` error body even
  where an operation does not list them: the service returns them, the document just omits them.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema

SPEC_NAME = "supabase-management-api.openapi.json"
# examples/estate/live/ -> the repository root is three levels up; the reference data sits beside it.
SPEC_PATH = Path(os.environ.get("SSOT_SHARED_DIR") or Path(__file__).resolve().parents[3].parent / "shared") / SPEC_NAME

ERROR_BODY_SCHEMA = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}
# Statuses the real service answers without the document listing them for every operation.
UNDOCUMENTED_ERROR_STATUSES = frozenset({400, 404, 500, 502, 503})
RATE_LIMIT = 120  # Supabase's documented standard limit: 120 requests per minute per user and project.


@cache
def load_spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return data


def _drop_inline_discriminators(node: Any) -> Any:
    if isinstance(node, dict):
        one_of = node.get("oneOf") or node.get("anyOf")
        if "discriminator" in node and isinstance(one_of, list) and \
                not all(isinstance(m, dict) and "$ref" in m for m in one_of):
            node = {k: v for k, v in node.items() if k != "discriminator"}
        return {k: _drop_inline_discriminators(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_drop_inline_discriminators(v) for v in node]
    return node


@cache
def openapi_validator() -> Any:
    from openapi_core import Config, OpenAPI

    spec = _drop_inline_discriminators(copy.deepcopy(load_spec()))
    # The document does not pass openapi-spec-validator as published (vendor keywords such as
    # `hideDefinitions` without the x- prefix); the schemas themselves are what we validate against.
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def describe_validation_errors(errors: list[Exception]) -> str:
    """Where and which rule failed, never the offending value (it may be a secret)."""
    parts = []
    for err in errors:
        cause = err.__cause__
        schema_errors = getattr(cause, "schema_errors", None) or getattr(err, "schema_errors", None)
        name = getattr(err, "name", None)
        label = type(err).__name__ + (f"({name})" if name else "")
        if schema_errors:
            for se in schema_errors:
                where = "/".join(str(p) for p in se.absolute_path) or "<root>"
                parts.append(f"{label} at {where}: fails '{se.validator}'")
        else:
            parts.append(label)
    return "; ".join(parts) or "invalid"


@dataclass
class RequestRecord:
    method: str
    path: str
    operation: str | None
    status: int
    query: list[tuple[str, str]] = field(default_factory=list)
    authorization: bool = False


@dataclass
class _Project:
    ref: str
    id: int
    name: str
    region: str
    organization_slug: str
    created_at: str
    status: str = "COMING_UP"
    polls: int = 0
    db_pass_sha256: str = ""


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/v1/projects$"), "v1-create-a-project"),
    ("GET", re.compile(r"^/v1/projects$"), "v1-list-all-projects"),
    ("GET", re.compile(r"^/v1/projects/(?P<ref>[^/]+)$"), "v1-get-project"),
    ("PATCH", re.compile(r"^/v1/projects/(?P<ref>[^/]+)$"), "v1-update-a-project"),
    ("DELETE", re.compile(r"^/v1/projects/(?P<ref>[^/]+)$"), "v1-delete-a-project"),
    ("PATCH", re.compile(r"^/v1/projects/(?P<ref>[^/]+)/database/password$"),
     "v1-update-database-password"),
    ("GET", re.compile(r"^/v1/projects/(?P<ref>[^/]+)/health$"), "v1-get-services-health"),
    ("GET", re.compile(r"^/v1/projects/(?P<ref>[^/]+)/secrets$"), "v1-list-all-secrets"),
    ("POST", re.compile(r"^/v1/projects/(?P<ref>[^/]+)/secrets$"), "v1-bulk-create-secrets"),
    ("DELETE", re.compile(r"^/v1/projects/(?P<ref>[^/]+)/secrets$"), "v1-bulk-delete-secrets"),
]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class MgmtApiServer:
    """In-memory Management API. Use `running_server()` in tests; state is public for out-of-band edits."""

    def __init__(self, *, polls_until_healthy: int = 2, organizations: tuple[str, ...] = ("acme-org",),
                 boot_outcome: str = "ACTIVE_HEALTHY") -> None:
        self.polls_until_healthy = polls_until_healthy
        self.boot_outcome = boot_outcome
        self.organizations = set(organizations)
        self.projects: dict[str, _Project] = {}
        self.secrets: dict[str, dict[str, dict[str, str]]] = {}
        self.violations: list[str] = []
        self.requests: list[RequestRecord] = []
        self.lock = threading.RLock()
        self._ids = 0
        # fault injection
        self._fail_next: list[tuple[int, dict[str, str]]] = []
        self._fail_always: int | None = None
        self._required_token: str | None = None
        self._exhaust_window: float | None = None
        self._refused: dict[str, int] = {}
        self._corrupt_next = False
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._api = openapi_validator()

    # ---------------------------------------------------------------- lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> MgmtApiServer:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                app._handle(self)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _any

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="mgmt-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # ---------------------------------------------------------------- fault injection

    def fail_next(self, n: int, status: int = 429, *, retry_after: str | None = "1",
                  reset: str | None = None, message: str = "injected failure") -> None:
        """The next `n` requests answer `status` (429: with Retry-After and/or X-RateLimit-Reset)."""
        headers: dict[str, str] = {"X-Injected-Message": message}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        if reset is not None:
            headers["X-RateLimit-Reset"] = reset
        with self.lock:
            self._fail_next.extend((status, headers) for _ in range(n))

    def fail_always(self, status: int | None = 500) -> None:
        with self.lock:
            self._fail_always = status

    def require_token(self, token: str | None) -> None:
        with self.lock:
            self._required_token = token

    def exhaust_window(self, reset_seconds: float) -> None:
        """The next response reports X-RateLimit-Remaining: 0 with this many seconds to the reset."""
        with self.lock:
            self._exhaust_window = reset_seconds

    def refuse(self, operation: str, status: int = 403) -> None:
        """Every request for this operation (an OpenAPI operationId) is refused, the others served: a
        token that lacks one scope, a permission missing half-way."""
        with self.lock:
            self._refused[operation] = status

    def corrupt_next_response(self) -> None:
        """Make the next successful response break its schema, to prove response validation bites."""
        with self.lock:
            self._corrupt_next = True

    # ---------------------------------------------------------------- out-of-band state changes

    def add_project(self, name: str, organization_slug: str = "acme-org", region: str = "us-east-1",
                    status: str = "ACTIVE_HEALTHY") -> str:
        with self.lock:
            ref = self._new_ref()
            self._ids += 1
            self.projects[ref] = _Project(ref, self._ids, name, region, organization_slug, _now(), status,
                                          polls=self.polls_until_healthy)
            self.secrets[ref] = {}
            return ref

    def set_secret(self, ref: str, name: str, value: str) -> None:
        with self.lock:
            self.secrets[ref][name] = {"digest": sha256_hex(value), "updated_at": _now()}

    def operations(self) -> list[str]:
        with self.lock:
            return [r.operation for r in self.requests if r.operation]

    # ---------------------------------------------------------------- request handling

    def _new_ref(self) -> str:
        while True:
            ref = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(20))
            if ref not in self.projects:
                return ref

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        from openapi_core.testing import MockRequest
        from werkzeug.datastructures import ImmutableMultiDict

        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        split = urlsplit(h.path)
        path = split.path
        query = parse_qsl(split.query, keep_blank_values=True)
        method = h.command.upper()
        auth = h.headers.get("Authorization")
        operation = next((op for m, rx, op in _ROUTES if m == method and rx.match(path)), None)
        oc_request = MockRequest(self.url, method.lower(), path, args=ImmutableMultiDict(query),
                                 headers=dict(h.headers.items()), data=raw,
                                 content_type=h.headers.get("Content-Type") or "application/json")

        status, body, extra = self._respond(method, path, query, raw, auth, operation, oc_request)

        with self.lock:
            corrupt = self._corrupt_next and 200 <= status < 300 and isinstance(body, dict)
            if corrupt:
                self._corrupt_next = False
        if corrupt and isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "name"}  # every project schema requires name
        payload = json.dumps(body).encode() if body is not None else b""
        headers = {"X-RateLimit-Limit": str(RATE_LIMIT), "X-RateLimit-Remaining": str(RATE_LIMIT - 1),
                   "X-RateLimit-Reset": "60"}
        with self.lock:
            if self._exhaust_window is not None and status != 429:
                headers["X-RateLimit-Remaining"] = "0"
                headers["X-RateLimit-Reset"] = f"{self._exhaust_window:g}"
                self._exhaust_window = None
        headers.update(extra)
        self._check_response(oc_request, method, path, status, payload, operation)
        with self.lock:
            self.requests.append(RequestRecord(method, path, operation, status, query, bool(auth)))
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        if payload:
            h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        if payload:
            h.wfile.write(payload)

    def _respond(self, method: str, path: str, query: list[tuple[str, str]], raw: bytes,
                 auth: str | None, operation: str | None,
                 oc_request: Any) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            if self._fail_next:
                status, headers = self._fail_next.pop(0)
                headers = dict(headers)
                message = headers.pop("X-Injected-Message")
                if status == 429:
                    headers["X-RateLimit-Remaining"] = "0"
                    headers.setdefault("X-RateLimit-Reset", headers.get("Retry-After", "60"))
                return status, {"message": message}, headers
            if self._fail_always is not None:
                return self._fail_always, {"message": "injected failure"}, {}
            required = self._required_token
        token = auth[7:] if auth and auth.startswith("Bearer ") else None
        if token is None or (required is not None and not hmac.compare_digest(token, required)):
            return 401, {"message": "Unauthorized"}, {}

        result = self._api.unmarshal_request(oc_request)
        if result.errors:
            kinds = {type(e).__name__ for e in result.errors}
            problem = describe_validation_errors(list(result.errors))
            with self.lock:
                self.violations.append(f"request {method} {path}: {problem}")
            if kinds & {"PathNotFound", "OperationNotFound"}:
                return 404, {"message": "Cannot " + method + " " + path}, {}
            return 400, {"message": f"invalid request: {problem}"}, {}
        if operation is None:
            with self.lock:
                self.violations.append(f"request {method} {path}: operation exists in the document "
                                       f"but the test server does not implement it")
            return 501, {"message": "not implemented by the test server"}, {}
        body = json.loads(raw) if raw else None
        ref = (result.parameters.path or {}).get("ref")
        with self.lock:
            return self._serve(operation, ref, body, dict(result.parameters.query or {}))

    def _serve(self, operation: str, ref: str | None, body: Any,
               query: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if operation in self._refused:
            return self._refused[operation], {"message": "Forbidden resource"}, {}
        if operation == "v1-create-a-project":
            return self._create_project(body)
        if operation == "v1-list-all-projects":
            return 200, [{**self._project_body(p), "database": self._database(p)}
                         for p in sorted(self.projects.values(), key=lambda p: p.id)], {}
        project = self.projects.get(ref or "")
        if project is None:
            return 404, {"message": "Project not found"}, {}
        if operation == "v1-get-project":
            project.polls += 1
            if project.status == "COMING_UP" and project.polls > self.polls_until_healthy:
                project.status = self.boot_outcome
            return 200, {**self._project_body(project), "database": self._database(project)}, {}
        if operation == "v1-update-a-project":
            project.name = body["name"]
            return 200, {"id": project.id, "ref": project.ref, "name": project.name}, {}
        if operation == "v1-delete-a-project":
            del self.projects[project.ref]
            self.secrets.pop(project.ref, None)
            return 200, {"id": project.id, "ref": project.ref, "name": project.name}, {}
        if operation == "v1-update-database-password":
            project.db_pass_sha256 = sha256_hex(body["password"])
            return 200, {"message": "Password updated"}, {}
        if operation == "v1-get-services-health":
            state = {"COMING_UP": "COMING_UP", "ACTIVE_HEALTHY": "ACTIVE_HEALTHY"}.get(project.status,
                                                                                       "UNHEALTHY")
            return 200, [{"name": s, "healthy": state == "ACTIVE_HEALTHY", "status": state}
                         for s in query.get("services", [])], {}
        store = self.secrets.setdefault(project.ref, {})
        if operation == "v1-list-all-secrets":
            return 200, [{"name": n, "value": s["digest"], "updated_at": s["updated_at"]}
                         for n, s in sorted(store.items())], {}
        if operation == "v1-bulk-create-secrets":
            for item in body:
                store[item["name"]] = {"digest": sha256_hex(item["value"]), "updated_at": _now()}
            return 201, None, {}
        if operation == "v1-bulk-delete-secrets":
            for name in body:
                store.pop(name, None)
            return 200, None, {}
        raise AssertionError(operation)

    def _create_project(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if "region" in body and "region_selection" in body:
            return 400, {"message": "Only one of region or region_selection can be specified"}, {}
        slug = body["organization_slug"]
        if slug not in self.organizations:
            return 404, {"message": "Organization not found"}, {}
        selection = body.get("region_selection")
        if isinstance(selection, dict) and selection.get("type") == "specific":
            region = selection["code"]
        elif isinstance(selection, dict):
            region = {"americas": "us-east-1", "emea": "eu-central-1", "apac": "ap-southeast-1"}[
                selection["code"]]
        else:
            region = body.get("region", "us-east-1")
        ref = self._new_ref()
        self._ids += 1
        project = _Project(ref, self._ids, body["name"], region, slug, _now(),
                           "COMING_UP" if self.polls_until_healthy > 0 else self.boot_outcome,
                           db_pass_sha256=sha256_hex(body["db_pass"]))
        self.projects[ref] = project
        self.secrets[ref] = {}
        return 201, self._project_body(project), {}

    @staticmethod
    def _database(p: _Project) -> dict[str, Any]:
        return {"host": f"db.{p.ref}.supabase.co", "version": "15.8.1.085", "postgres_engine": "15",
                "release_channel": "ga"}

    @staticmethod
    def _project_body(p: _Project) -> dict[str, Any]:
        return {"id": p.ref, "ref": p.ref, "organization_id": p.organization_slug,
                "organization_slug": p.organization_slug, "name": p.name, "region": p.region,
                "created_at": p.created_at, "status": p.status}

    def _check_response(self, oc_request: Any, method: str, path: str, status: int, payload: bytes,
                        operation: str | None) -> None:
        from openapi_core.testing import MockResponse

        if operation is None and status == 404:
            return  # already recorded as a request violation
        response = MockResponse(payload, status_code=status,
                                content_type="application/json")
        result = self._api.unmarshal_response(oc_request, response)
        errors = list(result.errors)
        if errors and all(type(e).__name__ == "ResponseNotFound" for e in errors):
            if status in UNDOCUMENTED_ERROR_STATUSES:
                try:
                    jsonschema.validate(json.loads(payload or b"null"), ERROR_BODY_SCHEMA)
                    return
                except (jsonschema.ValidationError, ValueError):
                    pass
        if errors:
            with self.lock:
                self.violations.append(f"response {status} to {method} {path}: "
                                       f"{describe_validation_errors(errors)}")


@contextmanager
def running_server(**kwargs: Any) -> Iterator[MgmtApiServer]:
    """Start a server; at exit, stop it and fail if any request or response broke the document."""
    server = MgmtApiServer(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.violations, "OpenAPI contract violations:\n" + "\n".join(server.violations)


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps: waits are recorded, not taken."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def client_kwargs(self) -> dict[str, Any]:
        return {"sleep": self.sleep, "clock": self.clock, "rand": lambda: 1.0}


def free_port_url() -> str:
    """The URL of a loopback port nothing listens on (bound, then closed)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def seed(server: MgmtApiServer, data: dict[str, Any]) -> None:
    """Projects and Edge Function secrets from the example's data file (only digests are kept)."""
    server.organizations |= {str(p["organization"]) for p in data.get("projects", [])}
    for p in data.get("projects", []):
        with server.lock:
            server._ids += 1
            ref = str(p["ref"])
            server.projects[ref] = _Project(ref, server._ids, str(p["name"]), str(p.get("region", "eu-central-1")),
                                            str(p["organization"]), _now(), str(p.get("status", "ACTIVE_HEALTHY")),
                                            polls=server.polls_until_healthy)
            server.secrets[ref] = {}
        for name, value in (p.get("secrets") or {}).items():
            server.set_secret(ref, str(name), str(value))
    if data.get("token"):
        server.require_token(str(data["token"]))


def main() -> None:
    ap = argparse.ArgumentParser(description="Supabase Management API stand-in (checked against the OpenAPI document)")
    ap.add_argument("--data", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=54381)
    ns = ap.parse_args()
    if not SPEC_PATH.is_file():
        raise SystemExit(f"the Supabase Management API OpenAPI document is not at {SPEC_PATH} (set SSOT_SHARED_DIR)")
    server = MgmtApiServer(polls_until_healthy=0)
    seed(server, json.loads(Path(ns.data).read_text(encoding="utf-8")))
    server.start(ns.host, ns.port)
    print(f"management API stand-in on {server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
