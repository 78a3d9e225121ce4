"""Odoo, read once over its external API as a technical user with read-only access.

Two protocols, chosen by `audit.odoo.protocol`:
- `xmlrpc` (Odoo <= 18): `/xmlrpc/2/common` `authenticate(db, login, password, {})` for the uid, then
  `/xmlrpc/2/object` `execute_kw(db, uid, password, model, method, args, kwargs)`. Faults are Odoo's:
  code 3 AccessDenied (wrong login), 4 AccessError (a missing ACL), 2 UserError/warning, 1 anything else
  (older servers send the exception's name as a string code instead).
- `json2` (Odoo 19+): `POST /json/2/<model>/<method>` with the body's keys as the method's keyword
  arguments, `Authorization: bearer <API key>` and `X-Odoo-Database`; errors are HTTP statuses (401
  bad key, 403 AccessError, 404 no such model or method, 422 bad arguments).

What is read, each part on its own so one missing ACL leaves the others readable:
- `ir.cron` with `context.active_test = False` (an inactive scheduled action is still shipped and can
  be re-enabled), its field set asked first with `fields_get` (Odoo 18 dropped numbercall/doall and
  added failure_count), and the records' XML ids from `ir.model.data` so a live cron and the addon file
  that ships it are one subject;
- installed job-runner modules (`ir.module.module`: queue_job and kin) and `queue.job` rows, counted per
  model.method (Odoo as a job runner, §5);
- `ir.config_parameter` rows whose key looks like a credential: the value is fingerprinted on arrival
  and dropped; Odoo's own internal keys (`database.secret`) are excluded by the query itself, so their
  values never travel (`parameter_domain()`, also the auditor group's record rule);
- whether `ir.mail_server` passwords and payment provider keys are set: `search_count` with a domain,
  no value crosses the wire;
- custom fields and models that hold embeddings, agent memory or KPIs (`ir.model.fields`, advisory).

A cron's code is never kept: only the call it makes (`model._cron_sync()`), which is what the rule needs.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import xmlrpc.client
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from xml.parsers.expat import ExpatError

from ssot.deadline import (
    Deadline,
    DeadlineExceeded,
    DeadlineHTTPConnection,
    DeadlineHTTPSConnection,
    build_opener,
    read_capped,
)
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.sources.live import LiveSource, SourceContext, SourceResult
from ssot.sources.live._secrets import category_for, digest_fingerprint, fingerprint_now, key_from, plain_name

if TYPE_CHECKING:
    from ssot.model import Platform

NAME = "odoo"
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
MAX_RECORDS = 20_000  # per model read; more is reported as a gap, never silently cut
MAX_ATTEMPTS = 4
MAX_RETRY_WAIT = 30.0

# The models and methods this source calls: `audits/odoo/` grants read on exactly these models.
READS: dict[str, tuple[str, ...]] = {
    "ir.model": ("search_count", "search_read"),
    "ir.cron": ("fields_get", "search_read"),
    "ir.model.data": ("search_read",),
    "ir.module.module": ("search_read",),
    "queue.job": ("read_group", "formatted_read_group"),
    "ir.config_parameter": ("search_read",),
    "ir.mail_server": ("search_count",),
    "payment.provider": ("fields_get", "search_count"),
    "payment.acquirer": ("fields_get", "search_count"),
    "ir.model.fields": ("search_read",),
}
# Modules that turn Odoo into a job runner (OCA queue and its kin).
JOB_RUNNER_MODULES = ("queue_job", "queue_job_cron", "queue_job_cron_jobrunner", "queue_job_batch",
                      "queue_job_subscribe", "base_import_async", "connector", "job_queue")
CRON_FIELDS = ("cron_name", "name", "model_name", "model_id", "code", "state", "interval_number", "interval_type",
               "active", "numbercall", "doall", "failure_count", "nextcall")
SECRET_KEY = re.compile(r"(secret|token|passw|pwd|api[_.\-]?key|apikey|private[_.\-]?key|credential|"
                        r"access[_.\-]?key|signing[_.\-]?key|auth[_.\-]?key|client[_.\-]?secret)", re.IGNORECASE)
_KEY_WORDS = ("secret", "token", "passw", "pwd", "api_key", "apikey", "api.key", "private", "credential",
              "access_key", "signing", "auth_key")
# Supabase-owned data kept in Odoo (§2): what a field or model name says it holds.
DATA_HOLDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"embedding|vector", re.IGNORECASE), "embedding"),
    (re.compile(r"agent_?memory|ai_?memory|llm_?memory|conversation_?memory|memory_?store", re.IGNORECASE),
     "agent_memory"),
    (re.compile(r"(^|_)kpi(s)?(_|\Z)|metric", re.IGNORECASE), "kpi"),
)
_DATA_WORDS = ("embedding", "vector", "memory", "kpi", "metric")
# Odoo's own parameters that are named like credentials but are Odoo's internals, not a platform
# secret kept in Odoo (`database.secret` signs sessions and tokens in every database).
ODOO_INTERNAL_KEYS = frozenset({"database.secret"})
# A value this short and plain is a setting named like a credential (`token_ttl = 3600`), not one.
_NOT_A_SECRET_VALUE = re.compile(r"(\d{1,9}|true|false|True|False|0\.\d+)\Z")
_PAYMENT_MODELS = ("payment.provider", "payment.acquirer")
_TEXT_TYPES = frozenset({"char", "text", "binary"})
_SCALAR_TYPES = frozenset({"integer", "boolean", "date", "datetime", "selection", "many2one", "monetary"})
_MODEL_NAME = re.compile(r"[a-z][a-z0-9_.]{0,126}\Z")
_FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]{0,126}\Z")
_XMLID_PART = re.compile(r"[A-Za-z0-9_\-]{1,128}\Z")
_METHOD_CALL = re.compile(r"\bmodel\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")


class OdooCallError(Exception):
    """A call failed; no server text. `kind`: auth | denied | missing | unavailable | timeout | deadline |
    rate | bad."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


# --- transports -----------------------------------------------------------------------------------


class _BoundedTransport(xmlrpc.client.Transport):
    """XML-RPC over http or https with a socket timeout and a cap on the response size."""

    def __init__(self, timeout: float, https: bool, deadline: Deadline | None = None) -> None:
        super().__init__(use_builtin_types=True)
        self._timeout = timeout
        self._https = https
        self._deadline = deadline

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        cached = self._connection[1]
        if cached is not None and host == self._connection[0]:
            return cached
        chost, self._extra_headers, _x509 = self.get_host_info(host)
        conn: http.client.HTTPConnection
        if self._deadline is not None:
            cls = DeadlineHTTPSConnection if self._https else DeadlineHTTPConnection
            conn = cls(chost, timeout=self._timeout, deadline=self._deadline)
        elif self._https:
            conn = http.client.HTTPSConnection(chost, timeout=self._timeout)
        else:
            conn = http.client.HTTPConnection(chost, timeout=self._timeout)
        self._connection = host, conn
        return conn

    def parse_response(self, response: Any) -> Any:
        p, u = self.getparser()
        total = 0
        while True:
            data = response.read(1024 * 64)
            if not data:
                break
            total += len(data)
            if total > MAX_RESPONSE_BYTES:
                raise OdooCallError("bad", f"response larger than {MAX_RESPONSE_BYTES} bytes")
            p.feed(data)
        p.close()
        return u.close()


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except (TypeError, ValueError):
        return None


class _Rpc:
    """One protocol's call: (model, method, args, kwargs) -> result, with bounded retries."""

    protocol = "xmlrpc"

    def __init__(self, sleep: Callable[[float], None], deadline: Deadline | None = None) -> None:
        self._sleep = sleep
        self._deadline = deadline

    def call(self, model: str, method: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None
             ) -> Any:
        return self._retrying(lambda: self._once(model, method, list(args), dict(kwargs or {})))

    def _retrying(self, fn: Callable[[], Any]) -> Any:
        """fn, retried on 429/5xx; a Retry-After longer than MAX_RETRY_WAIT fails at once (the server
        decides how long we would wait, so it must never decide how long the audit takes)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except OdooCallError as exc:
                wait = getattr(exc, "wait", None)
                if exc.kind not in ("rate", "unavailable") or attempt >= MAX_ATTEMPTS:
                    raise
                delay = wait if wait is not None else min(MAX_RETRY_WAIT, 0.1 * 2 ** attempt)
                if delay > MAX_RETRY_WAIT or (self._deadline is not None and delay >= self._deadline.remaining()):
                    raise
                self._sleep(delay)

    def _once(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    def login(self) -> None:
        return None


def _network_error(exc: BaseException) -> OdooCallError:
    reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, DeadlineExceeded):
        return OdooCallError("deadline", "deadline passed")
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return OdooCallError("timeout", "timed out")
    if isinstance(reason, ConnectionRefusedError):
        return OdooCallError("down", "connection refused")
    return OdooCallError("down", f"network error ({type(reason).__name__})")


def _fault(exc: xmlrpc.client.Fault) -> OdooCallError:
    code = exc.faultCode
    # The fault string is Odoo's message or traceback: it may quote data, so it is never kept.
    if code == 3 or (isinstance(code, str) and "AccessDenied" in code):
        return OdooCallError("auth", "access denied (wrong login or password)")
    if code == 4 or (isinstance(code, str) and "AccessError" in code):
        return OdooCallError("denied", "access error")
    if code == 2 or (isinstance(code, str) and ("UserError" in code or "warning" in code.lower())):
        return OdooCallError("missing", "refused by Odoo (user error)")
    return OdooCallError("bad", "Odoo raised an error")


class XmlRpc(_Rpc):
    def __init__(self, url: str, db: str, login: str, password: str, timeout: float,
                 sleep: Callable[[float], None] = time.sleep, deadline: Deadline | None = None) -> None:
        super().__init__(sleep, deadline)
        self._db, self._login, self._password = db, login, password
        self._uid: int | None = None
        https = url.startswith("https:")
        base = url.rstrip("/")
        self._common = xmlrpc.client.ServerProxy(f"{base}/xmlrpc/2/common", transport=_BoundedTransport(
            timeout, https, deadline), allow_none=True)
        self._object = xmlrpc.client.ServerProxy(f"{base}/xmlrpc/2/object", transport=_BoundedTransport(
            timeout, https, deadline), allow_none=True)

    def __repr__(self) -> str:
        return "XmlRpc(...)"

    def _guard(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except xmlrpc.client.Fault as exc:
            raise _fault(exc) from None
        except xmlrpc.client.ProtocolError as exc:
            err = OdooCallError("rate" if exc.errcode == 429 else
                                "unavailable" if exc.errcode >= 500 else
                                "auth" if exc.errcode == 401 else "denied" if exc.errcode == 403 else "bad",
                                f"HTTP {exc.errcode}")
            err.wait = _retry_after(exc.headers)  # type: ignore[attr-defined]
            raise err from None
        except (xmlrpc.client.ResponseError, ValueError, ExpatError) as exc:
            raise OdooCallError("bad", f"malformed XML-RPC response ({type(exc).__name__})") from None
        except (OSError, http.client.HTTPException) as exc:
            raise _network_error(exc) from None

    def login(self) -> None:
        def auth() -> Any:
            return self._common.authenticate(self._db, self._login, self._password, {})

        uid = self._retrying(lambda: self._guard(auth))
        if not isinstance(uid, int) or isinstance(uid, bool) or uid <= 0:
            raise OdooCallError("auth", "authentication refused (wrong database, login or password)")
        self._uid = uid

    def _once(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return self._guard(lambda: self._object.execute_kw(self._db, self._uid, self._password, model, method,
                                                           args, kwargs))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None  # a redirect would carry the bearer key elsewhere


class Json2(_Rpc):
    protocol = "json2"
    # The positional arguments of the methods used, as JSON-2 takes them: by name.
    _ARG_NAMES: Mapping[str, tuple[str, ...]] = {
        "search_read": ("domain", "fields"), "search_count": ("domain",), "fields_get": ("allfields",),
    }

    def __init__(self, url: str, db: str, api_key: str, timeout: float,
                 sleep: Callable[[float], None] = time.sleep, deadline: Deadline | None = None) -> None:
        super().__init__(sleep, deadline)
        self._base = url.rstrip("/")
        self._db = db
        self._key = api_key
        self._timeout = timeout
        self._opener = build_opener(deadline, _NoRedirect)

    def __repr__(self) -> str:
        return "Json2(...)"

    def login(self) -> None:
        # JSON-2 has no login call: the cheapest authenticated read proves the key and the database.
        self.call("ir.model", "search_count", [[["model", "=", "ir.model"]]])

    def _once(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        body = dict(zip(self._ARG_NAMES.get(method, ()), args, strict=False))
        body.update(kwargs)
        url = f"{self._base}/json/2/{urllib.parse.quote(model)}/{urllib.parse.quote(method)}"
        req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={  # noqa: S310
            "Authorization": f"bearer {self._key}", "Content-Type": "application/json",
            "X-Odoo-Database": self._db, "User-Agent": "ssot-audit"})
        try:
            with self._opener.open(req, timeout=self._timeout) as resp:
                payload = read_capped(resp, MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as exc:
            status = exc.code
            wait = _retry_after(exc.headers)
            exc.close()
            kind = {401: "auth", 403: "denied", 404: "missing", 429: "rate"}.get(
                status, "unavailable" if status >= 500 else "bad")
            err = OdooCallError(kind, f"HTTP {status}")
            err.wait = wait  # type: ignore[attr-defined]
            raise err from None
        except (OSError, http.client.HTTPException) as exc:
            raise _network_error(exc) from None
        if payload is None:
            raise OdooCallError("bad", f"response larger than {MAX_RESPONSE_BYTES} bytes")
        try:
            return json.loads(payload)
        except ValueError:
            raise OdooCallError("bad", "malformed JSON response") from None


# --- reading --------------------------------------------------------------------------------------

_REASONS = {
    "auth": "the credentials were refused",
    "denied": "access error: the auditor's group lacks read access",
    "missing": "not found (the model or method does not exist here)",
    "unavailable": "the server kept failing (HTTP 5xx) past the retries",
    "rate": "rate limited past the retries",
    "timeout": "timed out",
    "deadline": "the source's overall deadline passed (the server answers too slowly); the rest was not read",
    "down": "Odoo unreachable",
    "bad": "unexpected response",
}


class _Stop(Exception):
    pass


class _Reader:
    def __init__(self, rpc: _Rpc, result: SourceResult, ctx: SourceContext, key: bytes, location: str) -> None:
        self.rpc, self.result, self.ctx, self.key, self.where = rpc, result, ctx, key, location
        self.models: set[str] = set()

    def call(self, obj: str, model: str, method: str, args: Sequence[Any] = (),
             kwargs: Mapping[str, Any] | None = None) -> Any:
        try:
            return self.rpc.call(model, method, args, kwargs)
        except OdooCallError as exc:
            reason = _REASONS.get(exc.kind, "unexpected response")
            if exc.kind in ("bad", "unavailable") and exc.detail.startswith(("HTTP", "response", "malformed")):
                reason += f" ({exc.detail})"
            permission = f"read access to {model} ({method})" if exc.kind == "denied" else None
            self.result.gap(obj, reason, permission)
            if exc.kind in ("auth", "down", "timeout", "deadline"):
                raise _Stop from None  # the server as a whole cannot be read: no point asking the rest
            raise _Skip from None

    def records(self, obj: str, model: str, domain: list[Any], fields: Sequence[str],
                context: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"limit": MAX_RECORDS + 1}
        if context:
            kwargs["context"] = dict(context)
        rows = self.call(obj, model, "search_read", [domain, list(fields)], kwargs)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            self.result.gap(obj, "unexpected response (expected a list of records)")
            raise _Skip
        if len(rows) > MAX_RECORDS:
            self.result.gap(obj, f"more than {MAX_RECORDS} records; the rest were not read")
            rows = rows[:MAX_RECORDS]
        self.result.count(model, len(rows))
        return rows

    def count(self, obj: str, model: str, domain: list[Any]) -> int:
        n = self.call(obj, model, "search_count", [domain])
        if not isinstance(n, int) or isinstance(n, bool):
            self.result.gap(obj, "unexpected response (expected a count)")
            raise _Skip
        return n

    def add(self, kind: Kind, name: str, obj: str, props: dict[str, Any], fingerprint: str | None = None) -> None:
        self.result.inventory.add(Asset(kind=kind, store=Store.ODOO, name=name, phase=Phase.LIVE,
                                        location=Location(path=None, object=f"{self.where} {obj}"), props=props,
                                        fingerprint=fingerprint))


class _Skip(Exception):
    pass


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _many2one_id(v: Any) -> int | None:
    return v[0] if isinstance(v, list) and v and isinstance(v[0], int) else (v if isinstance(v, int) else None)


def _existing_models(r: _Reader) -> None:
    wanted = sorted(m for m in READS if m not in ("ir.model",))
    rows = r.records("ir.model", "ir.model", [["model", "in", wanted]], ["model"])
    r.models = {m for row in rows if (m := _str(row.get("model")))}


def _crons(r: _Reader) -> None:
    if "ir.cron" not in r.models:
        return
    spec = r.call("ir.cron (fields_get)", "ir.cron", "fields_get", [], {"attributes": ["type"]})
    available = set(spec) if isinstance(spec, dict) else set()
    fields = [f for f in CRON_FIELDS if f in available] or ["name"]
    rows = r.records("ir.cron", "ir.cron", [], fields, {"active_test": False})
    ids = [row["id"] for row in rows if isinstance(row.get("id"), int)]
    xmlids: dict[int, str] = {}
    if ids:
        for d in r.records("ir.model.data (ir.cron xml ids)", "ir.model.data",
                           [["model", "=", "ir.cron"], ["res_id", "in", ids]], ["module", "name", "res_id"]):
            mod, nm, rid = _str(d.get("module")), _str(d.get("name")), d.get("res_id")
            if mod and nm and _XMLID_PART.match(mod) and _XMLID_PART.match(nm) and isinstance(rid, int) \
                    and "__export__" not in mod:
                xmlids.setdefault(rid, f"{mod}.{nm}")
    standard = _standard_modules(r, {x.split(".", 1)[0] for x in xmlids.values()})
    version = "18+" if "failure_count" in available else ("<=17" if "numbercall" in available else None)
    for row in rows:
        rid = row.get("id")
        if not isinstance(rid, int):
            continue
        label = plain_name(row.get("cron_name")) or plain_name(row.get("name")) or f"ir.cron {rid}"
        name = xmlids.get(rid) or label
        model = _str(row.get("model_name"))
        if model is None and isinstance(row.get("model_id"), list) and len(row["model_id"]) == 2:
            model = None  # only the display name came back: no technical name to report
        code = _str(row.get("code"))
        m = _METHOD_CALL.search(code) if code else None
        props: dict[str, Any] = {
            "model": model if model and _MODEL_NAME.match(model) else None,
            # Only the call, never the code: code can hold literals, URLs and credentials.
            "code": f"model.{m.group(1)}()" if m else None,
            "interval": {"number": row.get("interval_number"), "type": row.get("interval_type")},
            "active": row.get("active") is not False,
            "defined_in": "live", "odoo_id": rid, "label": label, "field_set": version,
            # Shipped by an Odoo S.A. module (autovacuum, mail queue): Odoo's housekeeping, not the
            # platform scheduling its work in Odoo.
            "odoo_standard": name in xmlids.values() and name.split(".", 1)[0] in standard,
        }
        for extra in ("numbercall", "doall", "failure_count"):
            if extra in row and isinstance(row[extra], (int, bool)):
                props[extra] = row[extra]
        r.add(Kind.ODOO_CRON, name, f"ir.cron,{rid}", props)
    r.ctx.progress("Odoo: ir.cron", len(rows))


def _standard_modules(r: _Reader, modules: set[str]) -> set[str]:
    if not modules:
        return set()
    rows = r.records("ir.module.module (authors)", "ir.module.module", [["name", "in", sorted(modules)]],
                     ["name", "author"])
    return {n for row in rows if (n := _str(row.get("name"))) and "Odoo S.A." in (_str(row.get("author")) or "")}


def _job_runner(r: _Reader) -> None:
    rows = r.records("ir.module.module (job runners)", "ir.module.module",
                     [["name", "in", list(JOB_RUNNER_MODULES)], ["state", "=", "installed"]], ["name", "state"])
    for row in rows:
        name = _str(row.get("name"))
        if name and name in JOB_RUNNER_MODULES:
            r.add(Kind.ODOO_MODULE, name, f"ir.module.module {name}",
                  {"state": "installed", "job_runner": True, "depended_by": [], "defined_in": "live"})
    if "queue.job" not in r.models:
        return
    # Counted by the server, grouped by model and method: a busy queue holds millions of rows.
    groupby = ["model_name", "method_name"]
    if r.rpc.protocol == "json2":  # Odoo 19 replaced read_group by formatted_read_group
        groups = r.call("queue.job", "queue.job", "formatted_read_group", [],
                        {"domain": [], "groupby": groupby, "aggregates": ["__count"]})
    else:
        groups = r.call("queue.job", "queue.job", "read_group", [[], groupby, groupby], {"lazy": False})
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        r.result.gap("queue.job", "unexpected response (expected a list of groups)")
        raise _Skip
    total = 0
    for g in groups:
        model, method, n = _str(g.get("model_name")), _str(g.get("method_name")), g.get("__count")
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            continue
        total += n
        if model and method and _MODEL_NAME.match(model) and _FIELD_NAME.match(method):
            r.add(Kind.ODOO_JOB, f"{model}.{method}", "queue.job",
                  {"via": "queue.job", "model": model, "method": method, "count": n, "defined_in": "live"})
    r.result.count("queue.job", total)


def parameter_domain() -> list[Any]:
    """The parameters the audit reads: credential-like keys, never Odoo's own internals, whose values
    must not even travel. audits/odoo/ssot_auditor.xml's record rule on ir.config_parameter is this
    same domain, so a user with the auditor's group cannot read more by asking differently."""
    return [["key", "not in", sorted(ODOO_INTERNAL_KEYS)],
            *(["|"] * (len(_KEY_WORDS) - 1)), *(["key", "ilike", w] for w in _KEY_WORDS)]


def _parameters(r: _Reader) -> None:
    rows = r.records("ir.config_parameter", "ir.config_parameter", parameter_domain(), ["key", "value"])
    for row in rows:
        raw_key = _str(row.get("key"))
        value = row.pop("value", None)
        if not raw_key or not SECRET_KEY.search(raw_key) or raw_key in ODOO_INTERNAL_KEYS:
            continue
        key = plain_name(raw_key) or f"ir.config_parameter {row.get('id')}"
        if isinstance(value, str) and _NOT_A_SECRET_VALUE.match(value.strip()):
            continue
        if not isinstance(value, str) or not value:
            continue  # an empty parameter holds no secret
        fp, dfp = fingerprint_now(value, r.key), digest_fingerprint(value, r.key)
        del value
        r.add(Kind.ODOO_PARAMETER, key, f"ir.config_parameter {key}",
              {"looks_secret": True, "defined_in": "live", "has_value": True, "category": category_for(key),
               "digest_fingerprint": dfp},
              fingerprint=fp)
    rows.clear()


def _secret_fields(r: _Reader) -> None:
    if "ir.mail_server" in r.models:
        n = r.count("ir.mail_server.smtp_pass", "ir.mail_server", [["smtp_pass", "!=", False]])
        if n:
            r.add(Kind.ODOO_SECRET_FIELD, "ir.mail_server.smtp_pass", "ir.mail_server",
                  {"model": "ir.mail_server", "field": "smtp_pass", "records_set": n, "defined_in": "live"})
    for model in _PAYMENT_MODELS:
        if model not in r.models:
            continue
        spec = r.call(f"{model} (fields_get)", model, "fields_get", [], {"attributes": ["type"]})
        if not isinstance(spec, dict):
            continue
        keys = sorted(f for f, d in spec.items() if isinstance(f, str) and _FIELD_NAME.match(f)
                      and SECRET_KEY.search(f) and "publishable" not in f
                      and isinstance(d, dict) and d.get("type") in _TEXT_TYPES)
        for f in keys:
            try:
                n = r.count(f"{model}.{f}", model, [[f, "!=", False]])
            except _Skip:
                continue
            if n:
                r.add(Kind.ODOO_SECRET_FIELD, f"{model}.{f}", model,
                      {"model": model, "field": f, "records_set": n, "defined_in": "live",
                       "category": category_for(f) or "api-key"})


def _data_fields(r: _Reader) -> None:
    domain: list[Any] = ["|"] * (len(_DATA_WORDS) - 1) + [["name", "ilike", w] for w in _DATA_WORDS]
    rows = r.records("ir.model.fields (Supabase-owned data)", "ir.model.fields", domain,
                     ["model", "name", "ttype", "state"])
    for row in rows:
        model, field = _str(row.get("model")), _str(row.get("name"))
        if not model or not field or not _MODEL_NAME.match(model) or not _FIELD_NAME.match(field):
            continue
        if field.startswith("x_") or row.get("state") == "manual":
            custom = True
        else:
            custom = not model.startswith(("ir.", "res.", "base.", "mail.", "bus."))
        holds = next((h for p, h in DATA_HOLDS if p.search(field)), None)
        if holds is None or not custom:
            continue
        if holds != "kpi" and row.get("ttype") in _SCALAR_TYPES:
            continue  # an integer `x_vector_clock` cannot hold an embedding

        r.add(Kind.ODOO_DATA_FIELD, f"{model}.{field}", f"ir.model.fields {model}.{field}",
              {"model": model, "field": field, "holds": holds, "defined_in": "live",
               "ttype": _str(row.get("ttype"))})


_PART_OBJECT = {"_crons": "ir.cron", "_job_runner": "ir.module.module / queue.job",
                "_parameters": "ir.config_parameter", "_secret_fields": "ir.mail_server / payment.provider",
                "_data_fields": "ir.model.fields"}


def collect(platform: Platform, ctx: SourceContext) -> SourceResult:
    result = SourceResult(NAME, configured=platform.odoo is not None)
    try:
        return _collect(platform, ctx, result)
    except Exception as exc:
        result.unforeseen("odoo", exc)
        return result


def _collect(platform: Platform, ctx: SourceContext, result: SourceResult) -> SourceResult:
    odoo = platform.odoo
    if odoo is None:
        return result
    audit = platform.audit
    protocol = audit.odoo_protocol if audit else "xmlrpc"
    env_name = audit.odoo_credential_env if audit and audit.odoo_credential_env else None
    credential = ctx.env.get(env_name) if env_name else None
    if not env_name or not credential:
        result.gap("login", "no credential: set audit.odoo.credentialEnv in the stack and export that variable"
                   + (f" ({env_name} is not set)" if env_name else ""))
        return result
    deadline = Deadline(ctx.deadline)
    rpc: _Rpc = (Json2(odoo.url, odoo.database, credential, ctx.timeout, deadline=deadline) if protocol == "json2"
                 else XmlRpc(odoo.url, odoo.database, odoo.username, credential, ctx.timeout, deadline=deadline))
    del credential
    reader = _Reader(rpc, result, ctx, key_from(ctx.env), f"{odoo.database}@odoo")
    try:
        try:
            rpc.login()
        except OdooCallError as exc:
            reason = _REASONS.get(exc.kind, "unexpected response")
            if exc.kind == "missing" and protocol == "json2":
                reason = "no JSON-2 API at this URL (Odoo 19 and later); for older Odoo set audit.odoo.protocol: xmlrpc"
            result.gap("login", reason,
                       "an active Odoo user with this login and password (or API key)" if exc.kind == "auth"
                       else None)
            return result
        try:
            _existing_models(reader)
        except _Skip:
            return result
        for part in (_crons, _job_runner, _parameters, _secret_fields, _data_fields):
            try:
                part(reader)
            except _Skip:
                continue
            except (_Stop, KeyboardInterrupt):
                raise
            except Exception as exc:
                result.unforeseen(_PART_OBJECT[part.__name__], exc, "this part was not read")
    except _Stop:
        pass
    return result


SOURCE = LiveSource(NAME, "Odoo (external API)", collect)
