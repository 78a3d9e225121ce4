"""A small typed client for the Supabase Management API (https://api.supabase.com).

It covers what the dynamic providers and the live audit need: projects (create, get, rename, delete,
database password, service health) and Edge Function secrets (list, bulk create, bulk delete).
Shapes follow Supabase's published OpenAPI document; `OPERATIONS` names every operation used, by
operationId, so a test can check each one against the document.

Safety:
- The access token is held privately, never shown by repr, never logged and never put in an exception
  message; the object refuses to be pickled, so it cannot end up in Pulumi state by accident.
- Request bodies that carry secrets (db_pass, Edge Function secret values) are never logged, and any
  text the server sends back is scrubbed of every secret this request carried before it is quoted.
- Redirects are not followed: urllib would resend the Authorization header to wherever the redirect
  points.

Retries are bounded by attempts and by elapsed time. 429 waits what the server asks (Retry-After,
else X-RateLimit-Reset, which Supabase documents as seconds until the window resets); 5xx and
connection errors back off exponentially with jitter, but only for requests that are safe to repeat:
creating a project is not retried after the request may have reached the server, since a retry could
create a second project.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import os
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from ssot.deadline import Deadline, DeadlineExceeded, build_opener, read_capped
from ssot.errors import ProviderError, SourceUnavailable
from ssot.names import project_ref_problem
from ssot.shape import describe
from ssot.transport import is_loopback_host

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.supabase.com"
ACCESS_TOKEN_ENV = "SUPABASE_ACCESS_TOKEN"

# operationId -> (method, path template), exactly as in Supabase's OpenAPI document.
OPERATIONS: dict[str, tuple[str, str]] = {
    "v1-create-a-project": ("POST", "/v1/projects"),
    "v1-list-all-projects": ("GET", "/v1/projects"),
    "v1-get-project": ("GET", "/v1/projects/{ref}"),
    "v1-update-a-project": ("PATCH", "/v1/projects/{ref}"),
    "v1-delete-a-project": ("DELETE", "/v1/projects/{ref}"),
    "v1-update-database-password": ("PATCH", "/v1/projects/{ref}/database/password"),
    "v1-get-services-health": ("GET", "/v1/projects/{ref}/health"),
    "v1-list-all-secrets": ("GET", "/v1/projects/{ref}/secrets"),
    "v1-bulk-create-secrets": ("POST", "/v1/projects/{ref}/secrets"),
    "v1-bulk-delete-secrets": ("DELETE", "/v1/projects/{ref}/secrets"),
}
# Query parameters the client sends, per operation (checked against the document by a test).
QUERY_PARAMS: dict[str, tuple[str, ...]] = {"v1-get-services-health": ("services",)}

HEALTHY = "ACTIVE_HEALTHY"
# The largest response body read (the biggest real one, a project list, is a few hundred kB).
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
# Statuses from which waiting cannot lead to ACTIVE_HEALTHY without someone acting.
TERMINAL_STATUSES = frozenset(
    {"INACTIVE", "INIT_FAILED", "REMOVED", "GOING_DOWN", "PAUSING", "RESTORE_FAILED", "PAUSE_FAILED"}
)
HEALTH_SERVICES = ("auth", "db", "db_postgres_user", "pooler", "realtime", "rest", "storage", "pg_bouncer")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying one request. Times are seconds."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    # Total time one call may take across its attempts and waits; a Retry-After that would overrun it
    # fails at once instead of sleeping for nothing.
    max_elapsed: float = 180.0
    request_timeout: float = 30.0
    # Longest pause taken before a request because the previous response said the window is spent.
    max_pacing_delay: float = 60.0


@dataclass(frozen=True)
class Project:
    ref: str
    name: str
    region: str
    organization_slug: str
    status: str
    created_at: str


@dataclass(frozen=True)
class SecretDigest:
    """An Edge Function secret as the API lists it: the value is a SHA-256 hex digest, never plaintext."""

    name: str
    digest: str
    updated_at: str | None = None


class ManagementApiError(ProviderError):
    """A Management API call failed. The message names the operation, the status and the attempts."""

    def __init__(self, message: str, *, operation: str, status: int | None, attempts: int) -> None:
        super().__init__(message)
        self.operation = operation
        self.status = status
        self.attempts = attempts


class ManagementApiUnavailable(ManagementApiError, SourceUnavailable):
    """The API could not be reached or kept failing (5xx, 429) past the retry budget."""


class ResponseTooLarge(ManagementApiError):
    """A body past MAX_RESPONSE_BYTES: not read further, never parsed."""


class Unauthorized(ManagementApiError):
    """401/403: the token is missing, wrong, expired or lacks the scope."""


class NotFound(ManagementApiError):
    """404: the project (or the object in it) does not exist."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None


@dataclass
class _Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


def resolve_access_token(props: Mapping[str, Any]) -> str:
    """The token from the resource's inputs, else from SUPABASE_ACCESS_TOKEN.

    Outputs never hold the token, and Pulumi hands read (refresh) and delete only the outputs, so
    those two operations take it from the environment, as the Supabase CLI does.
    """
    token = props.get("access_token") or os.environ.get(ACCESS_TOKEN_ENV)
    if not isinstance(token, str) or not token:
        raise ProviderError(
            f"no Supabase access token: the resource's access_token input is not available here and "
            f"{ACCESS_TOKEN_ENV} is not set (the token is deliberately not kept in Pulumi state)"
        )
    return token


def _parse_seconds(value: str | None, now_epoch: float) -> float | None:
    """A header holding delta-seconds or an HTTP-date (RFC 9110 Retry-After), as seconds from now."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_epoch)


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    text = " ".join(text.split())
    return text[:300] + ("…" if len(text) > 300 else "")


class ManagementApi:
    """Calls to the Management API with one bearer token. Not thread-safe across pacing state only."""

    __slots__ = ("_base_url", "_clock", "_deadline", "_not_before", "_opener", "_rand", "_retry", "_sleep",
                 "_token", "_wall", "rate_limit")

    def __init__(
        self,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        deadline: Deadline | None = None,
    ) -> None:
        if not isinstance(access_token, str) or not access_token:
            raise ProviderError("a Supabase access token (non-empty string) is required")
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ProviderError(f"api_url: expected an http(s) URL such as {DEFAULT_BASE_URL}, "
                                f"got {describe(base_url)}")
        if parsed.scheme == "http" and not is_loopback_host(parsed.hostname or ""):
            # A bearer token over plain HTTP to another machine would be readable on the wire.
            raise ProviderError(f"api_url: plain http is only accepted for loopback, got {describe(base_url)}")
        self._token = access_token
        self._base_url = base_url.rstrip("/")
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._wall = time.time
        self._not_before: float | None = None
        # A deadline bounds every call in all (the audit's source deadline); without one, each read
        # is bounded by request_timeout only (what `pulumi up` has always had).
        self._deadline = deadline
        self._opener = build_opener(deadline, _NoRedirect)
        # The last rate-limit headers seen: X-RateLimit-Limit / -Remaining / -Reset, for callers
        # that want to report or pace themselves.
        self.rate_limit: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"ManagementApi(base_url={self._base_url!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("ManagementApi holds an access token and must not be pickled")

    @property
    def base_url(self) -> str:
        return self._base_url

    # ---------------------------------------------------------------- projects

    def create_project(self, *, name: str, organization_slug: str, db_pass: str, region: str,
                       desired_instance_size: str | None = None) -> Project:
        body: dict[str, Any] = {
            "name": name,
            "organization_slug": organization_slug,
            "db_pass": db_pass,
            # `region` is deprecated in favour of region_selection; only one of them may be sent.
            "region_selection": {"type": "specific", "code": region},
        }
        if desired_instance_size:
            body["desired_instance_size"] = desired_instance_size
        resp = self._call("v1-create-a-project", body=body, secrets=(db_pass,), idempotent=False,
                          expect=(201,))
        return _project(resp.json())

    def get_project(self, ref: str) -> Project | None:
        """The project, or None if it does not exist (any more)."""
        try:
            resp = self._call("v1-get-project", ref=ref, expect=(200,))
        except NotFound:
            return None
        project = _project(resp.json())
        return None if project.status == "REMOVED" else project

    def list_projects(self) -> list[Project]:
        """Every project the token can see (to find a project's ref by its name and organization)."""
        resp = self._call("v1-list-all-projects", expect=(200,))
        data = resp.json()
        if not isinstance(data, list):
            raise self._bad_shape("v1-list-all-projects", "a JSON array")
        return [_project(d) for d in data if isinstance(d, dict)]

    def update_project_name(self, ref: str, name: str) -> None:
        self._call("v1-update-a-project", ref=ref, body={"name": name}, expect=(200,))

    def update_database_password(self, ref: str, password: str) -> None:
        self._call("v1-update-database-password", ref=ref, body={"password": password},
                   secrets=(password,), expect=(200,))

    def delete_project(self, ref: str) -> bool:
        """Delete; False if it was already gone (a retried delete may find its own earlier success)."""
        try:
            self._call("v1-delete-a-project", ref=ref, expect=(200,))
        except NotFound:
            return False
        return True

    def get_services_health(self, ref: str, services: Sequence[str] = ("db",)) -> list[dict[str, Any]]:
        unknown = [s for s in services if s not in HEALTH_SERVICES]
        if unknown or not services:
            raise ProviderError(f"health services: expected some of {', '.join(HEALTH_SERVICES)}, "
                                f"got {list(services)!r}")
        resp = self._call("v1-get-services-health", ref=ref,
                          query=[("services", s) for s in services], expect=(200,))
        data = resp.json()
        if not isinstance(data, list):
            raise self._bad_shape("v1-get-services-health", "a JSON array")
        return [d for d in data if isinstance(d, dict)]

    def wait_for_healthy(self, ref: str, timeout: float = 600.0, *,
                         services: Sequence[str] = ("db",), first_delay: float = 2.0,
                         max_delay: float = 15.0) -> Project:
        """Poll until the project is ACTIVE_HEALTHY and `services` report ACTIVE_HEALTHY.

        Raises ProviderError on timeout, on a status waiting cannot fix, or if the project vanishes.
        """
        start = self._clock()
        delay = first_delay
        last = "unknown"
        while True:
            project = self.get_project(ref)
            if project is None:
                raise ProviderError(f"project {ref} disappeared while waiting for it to become {HEALTHY}")
            last = project.status
            if project.status in TERMINAL_STATUSES:
                raise ProviderError(f"project {ref} reached status {project.status} while waiting for "
                                    f"{HEALTHY}; waiting longer will not help")
            if project.status == HEALTHY:
                health = self.get_services_health(ref, services) if services else []
                sick = [f"{h.get('name')}={h.get('status')}" for h in health if h.get("status") != HEALTHY]
                if not sick:
                    return project
                last = f"{HEALTHY}, services {', '.join(sick)}"
            elapsed = self._clock() - start
            if elapsed + delay > timeout:
                raise ProviderError(f"project {ref} did not become {HEALTHY} within {timeout:g}s "
                                    f"(last status: {last})")
            log.info("project %s is %s; checking again in %.1fs", ref, last, delay)
            self._sleep(delay)
            delay = min(max_delay, delay * 2)

    # ---------------------------------------------------------------- Edge Function secrets

    def list_secrets(self, ref: str) -> list[SecretDigest]:
        resp = self._call("v1-list-all-secrets", ref=ref, expect=(200,))
        data = resp.json()
        if not isinstance(data, list):
            raise self._bad_shape("v1-list-all-secrets", "a JSON array")
        out = []
        for item in data:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) \
                    or not isinstance(item.get("value"), str):
                raise self._bad_shape("v1-list-all-secrets", "items with string name and value")
            updated = item.get("updated_at")
            out.append(SecretDigest(item["name"], item["value"].lower(),
                                    updated if isinstance(updated, str) else None))
        return out

    def get_secret_digest(self, ref: str, name: str) -> str | None:
        for s in self.list_secrets(ref):
            if s.name == name:
                return s.digest
        return None

    def create_secrets(self, ref: str, values: Mapping[str, str]) -> None:
        """Create or overwrite secrets (the API upserts by name, so repeating it is harmless)."""
        body = [{"name": k, "value": v} for k, v in values.items()]
        self._call("v1-bulk-create-secrets", ref=ref, body=body, secrets=tuple(values.values()),
                   expect=(200, 201))

    def delete_secrets(self, ref: str, names: Sequence[str]) -> None:
        self._call("v1-bulk-delete-secrets", ref=ref, body=list(names), expect=(200,))

    # ---------------------------------------------------------------- transport

    def _bad_shape(self, operation: str, expected: str) -> ManagementApiError:
        return ManagementApiError(f"Supabase Management API {operation}: unexpected response, "
                                  f"expected {expected}", operation=operation, status=None, attempts=1)

    def _call(self, operation: str, *, ref: str | None = None, body: Any = None,
              query: Sequence[tuple[str, str]] = (), secrets: Sequence[str] = (),
              idempotent: bool = True, expect: Sequence[int] = (200,)) -> _Response:
        method, template = OPERATIONS[operation]
        if "{ref}" in template:
            problem = project_ref_problem(ref)
            if problem:
                raise ProviderError(f"Supabase Management API {operation}: expected {problem}")
            path = template.replace("{ref}", str(ref))
        else:
            path = template
        url = self._base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(list(query))
        data = json.dumps(body).encode("utf-8") if body is not None else None
        all_secrets = (self._token, *secrets)
        label = f"{operation} ({method} {path})"
        start = self._clock()
        attempt = 0
        while True:
            attempt += 1
            self._pace()
            try:
                resp = self._send(method, url, data)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                reason = _describe_network_error(exc)
                # A refused connection never carried the request, so even a create is safe to repeat.
                sent = not _refused(exc)
                if sent and not idempotent:
                    raise ManagementApiUnavailable(
                        f"Supabase Management API {label} failed: {reason}; not retried because the "
                        f"request may have been applied", operation=operation, status=None,
                        attempts=attempt) from None
                wait = self._backoff(attempt)
                if not self._can_retry(attempt, start, wait):
                    raise ManagementApiUnavailable(
                        f"Supabase Management API {label} unreachable at {self._base_url}: {reason} "
                        f"(gave up after {attempt} attempt(s))", operation=operation, status=None,
                        attempts=attempt) from None
                log.warning("%s: %s; retrying in %.1fs (attempt %d)", label, reason, wait, attempt)
                self._sleep(wait)
                continue

            self._note_rate_limit(resp.headers)
            log.debug("%s -> HTTP %d (attempt %d)", label, resp.status, attempt)
            if resp.status in expect:
                return resp
            detail = _server_message(resp.body, all_secrets)
            if resp.status == 429:
                wait = self._rate_limit_wait(resp.headers, attempt)
                self._not_before = None  # the wait below already covers the spent window
                if not self._can_retry(attempt, start, wait):
                    raise ManagementApiUnavailable(
                        f"Supabase Management API {label} rate limited: HTTP 429 after {attempt} "
                        f"attempt(s) (server asked to wait {wait:g}s){detail}", operation=operation,
                        status=429, attempts=attempt)
                log.warning("%s: HTTP 429; waiting %.1fs as the server asked (attempt %d)",
                            label, wait, attempt)
                self._sleep(wait)
                continue
            if resp.status >= 500:
                if not idempotent:
                    raise ManagementApiUnavailable(
                        f"Supabase Management API {label} failed: HTTP {resp.status}{detail}; not "
                        f"retried because the request may have been applied (look for it before "
                        f"trying again)", operation=operation, status=resp.status, attempts=attempt)
                wait = self._backoff(attempt)
                if not self._can_retry(attempt, start, wait):
                    raise ManagementApiUnavailable(
                        f"Supabase Management API {label} failed: HTTP {resp.status} after {attempt} "
                        f"attempt(s){detail}", operation=operation, status=resp.status,
                        attempts=attempt)
                log.warning("%s: HTTP %d; retrying in %.1fs (attempt %d)", label, resp.status, wait,
                            attempt)
                self._sleep(wait)
                continue
            cls: type[ManagementApiError] = ManagementApiError
            hint = ""
            if resp.status in (401, 403):
                cls = Unauthorized
                hint = " (check the access token and its scopes)"
            elif resp.status == 404:
                cls = NotFound
            raise cls(f"Supabase Management API {label} failed: HTTP {resp.status}{hint}{detail}",
                      operation=operation, status=resp.status, attempts=attempt)

    def _send(self, method: str, url: str, data: bytes | None) -> _Response:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json",
                   "User-Agent": "ssot-supabase-api/0.1"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with self._opener.open(req, timeout=self._retry.request_timeout) as r:
                status, got, payload = r.status, dict(r.headers.items()), read_capped(r, MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as e:
            try:
                status, got = e.code, dict((e.headers or {}).items())
                payload = read_capped(e, MAX_RESPONSE_BYTES)
            finally:
                e.close()
        if payload is None:
            raise ResponseTooLarge(f"Supabase Management API {method} {urllib.parse.urlsplit(url).path}: "
                                   f"response larger than {MAX_RESPONSE_BYTES} bytes", operation=method,
                                   status=status, attempts=1)
        return _Response(status, {k.lower(): v for k, v in got.items()}, payload)

    def _backoff(self, attempt: int) -> float:
        p = self._retry
        ceiling = min(p.max_delay, p.base_delay * (2 ** (attempt - 1)))
        # "Equal jitter": at least half the ceiling, so retries stay spread yet never hammer.
        return ceiling / 2 + self._rand() * ceiling / 2

    def _rate_limit_wait(self, headers: Mapping[str, str], attempt: int) -> float:
        now = self._wall()
        wait = _parse_seconds(headers.get("retry-after"), now)
        if wait is None:
            wait = _parse_seconds(headers.get("x-ratelimit-reset"), now)
        return wait if wait is not None else self._backoff(attempt)

    def _can_retry(self, attempt: int, start: float, wait: float) -> bool:
        p = self._retry
        return (attempt < p.max_attempts and (self._clock() - start) + wait <= p.max_elapsed
                and (self._deadline is None or wait < self._deadline.remaining()))

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        info = {k: headers[k] for k in ("x-ratelimit-limit", "x-ratelimit-remaining",
                                        "x-ratelimit-reset") if k in headers}
        if not info:
            return
        self.rate_limit = info
        remaining = info.get("x-ratelimit-remaining", "").strip()
        reset = _parse_seconds(info.get("x-ratelimit-reset"), self._wall())
        if remaining == "0" and reset:
            # The window is spent: the next request would be a certain 429, so wait it out first.
            self._not_before = self._clock() + min(reset, self._retry.max_pacing_delay)

    def _pace(self) -> None:
        if self._not_before is None:
            return
        wait = self._not_before - self._clock()
        self._not_before = None
        if wait > 0:
            log.info("rate-limit window spent; waiting %.1fs before the next request", wait)
            self._sleep(wait)


def _project(data: Any) -> Project:
    if not isinstance(data, dict):
        raise ManagementApiError("Supabase Management API: unexpected project response, expected an "
                                 "object", operation="project", status=None, attempts=1)
    def s(key: str) -> str:
        v = data.get(key)
        return v if isinstance(v, str) else ""
    return Project(ref=s("ref"), name=s("name"), region=s("region"),
                   organization_slug=s("organization_slug") or s("organization_id"),
                   status=s("status"), created_at=s("created_at"))


def _server_message(body: bytes, secrets: Sequence[str]) -> str:
    if not body:
        return ""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ""
    msg = data.get("message") if isinstance(data, dict) else None
    if not isinstance(msg, str) or not msg.strip():
        return ""
    return ": " + _scrub(msg, secrets)


def _refused(exc: BaseException) -> bool:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError)


def _describe_network_error(exc: BaseException) -> str:
    reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, DeadlineExceeded):
        return f"stopped at the overall deadline ({reason})"
    if isinstance(reason, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return f"{type(reason).__name__}: {reason.strerror}"
    return type(reason).__name__ if not isinstance(reason, str) else reason
