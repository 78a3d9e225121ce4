"""A stand-in Odoo for the example estate and the tests: Odoo's external API over real HTTP.

It is not Odoo. It speaks the same wire protocols over the records of a JSON data file:
- XML-RPC `/xmlrpc/2/common` (`version`, `login`, `authenticate`) and `/xmlrpc/2/object`
  (`execute_kw(db, uid, password, model, method, args, kwargs)`), with Odoo's fault codes: 1 application
  error, 2 UserError / warning (e.g. "Object x doesn't exist"), 3 AccessDenied (wrong login or
  password), 4 AccessError (no ACL on the model);
- JSON-2 (Odoo 19+) `POST /json/2/<model>/<method>`, the body's keys being the method's keyword
  arguments, `Authorization: bearer <API key>`, `X-Odoo-Database`; errors are HTTP statuses (401 bad
  key, 403 AccessError, 404 unknown model or method, 422 bad arguments, 500 anything else) with a JSON
  body {name, message, arguments, context, debug}.

Methods: `search_read`, `search_count`, `search`, `read`, `fields_get`. Domains in Odoo's prefix
notation (`|`, `&`, `!`; `=`, `!=`, `in`, `not in`, `like`, `ilike`, `=like`, `<`, `>`, `<=`, `>=`);
`active_test` as Odoo applies it (records with `active = False` are hidden unless the context says
`active_test: False` or the domain names `active`). The `ir.cron` field set is the one of the Odoo
version served (16.0, 17.0, 18.0 or 19.0): 18 dropped `numbercall`/`doall` and added `failure_count`;
asking for a field the version does not have is Odoo's "Invalid field" error.

Users have a password, an API key, the models they may read (their groups' ACLs) and, per model, a
record rule (`rules`: a domain ANDed into every read, as Odoo applies a group's `ir.rule`). Every
response body is kept in `wire`, so a test can prove what never crossed it.

Fault injection for tests (`fail_next`, `hang_next`, `revoke`) is on the server object.

Run: `python odoo_standin.py --data odoo-data.json --port 54380 [--version 17.0]`.
"""

from __future__ import annotations

import argparse
import hmac
import json
import re
import threading
import time
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

VERSIONS = ("16.0", "17.0", "18.0", "19.0")
FAULT_APPLICATION, FAULT_WARNING, FAULT_ACCESS_DENIED, FAULT_ACCESS_ERROR = 1, 2, 3, 4

_CRON_COMMON = {
    "id": "integer", "name": "char", "cron_name": "char", "model_id": "many2one", "model_name": "char",
    "code": "text", "state": "selection", "user_id": "many2one", "active": "boolean",
    "interval_number": "integer", "interval_type": "selection", "nextcall": "datetime",
    "lastcall": "datetime", "priority": "integer", "ir_actions_server_id": "many2one",
}
CRON_FIELDS = {
    "16.0": {**_CRON_COMMON, "numbercall": "integer", "doall": "boolean"},
    "17.0": {**_CRON_COMMON, "numbercall": "integer", "doall": "boolean"},
    "18.0": {**_CRON_COMMON, "failure_count": "integer", "first_failure_date": "datetime"},
    "19.0": {**_CRON_COMMON, "failure_count": "integer", "first_failure_date": "datetime"},
}
MODEL_FIELDS: dict[str, dict[str, str]] = {
    "ir.model": {"id": "integer", "model": "char", "name": "char", "state": "selection"},
    "ir.model.data": {"id": "integer", "module": "char", "name": "char", "model": "char", "res_id": "integer"},
    "ir.module.module": {"id": "integer", "name": "char", "state": "selection", "latest_version": "char", "author": "char"},
    "queue.job": {"id": "integer", "uuid": "char", "model_name": "char", "method_name": "char",
                  "state": "selection", "name": "char"},
    "ir.config_parameter": {"id": "integer", "key": "char", "value": "text"},
    "ir.mail_server": {"id": "integer", "name": "char", "smtp_host": "char", "smtp_user": "char",
                       "smtp_pass": "char", "active": "boolean"},
    "payment.provider": {"id": "integer", "name": "char", "code": "selection", "state": "selection",
                         "stripe_secret_key": "char", "stripe_publishable_key": "char",
                         "stripe_webhook_secret": "char", "active": "boolean"},
    "ir.model.fields": {"id": "integer", "model": "char", "name": "char", "ttype": "selection",
                        "state": "selection"},
}
# Odoo 15 and older called payment providers "acquirers".
MODEL_FIELDS["payment.acquirer"] = dict(MODEL_FIELDS["payment.provider"])


class OdooError(Exception):
    """An Odoo exception: `name` is its class (odoo.exceptions.AccessError, ...)."""

    def __init__(self, name: str, message: str, fault: int, status: int) -> None:
        super().__init__(message)
        self.name, self.message, self.fault, self.status = name, message, fault, status


def access_denied() -> OdooError:
    return OdooError("odoo.exceptions.AccessDenied", "Access Denied", FAULT_ACCESS_DENIED, 401)


def access_error(model: str) -> OdooError:
    return OdooError("odoo.exceptions.AccessError",
                     f"You are not allowed to access '{model}' records.", FAULT_ACCESS_ERROR, 403)


def no_model(model: str) -> OdooError:
    return OdooError("odoo.exceptions.UserError", f"Object {model} doesn't exist", FAULT_WARNING, 404)


def invalid_field(model: str, field: str) -> OdooError:
    return OdooError("builtins.ValueError", f"Invalid field {field!r} on model {model!r}", FAULT_APPLICATION, 500)


def _like(pattern: str, value: str, *, insensitive: bool, wrap: bool) -> bool:
    rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    if wrap:
        rx = f".*{rx}.*"
    return re.fullmatch(rx, value, re.IGNORECASE | re.DOTALL if insensitive else re.DOTALL) is not None


def _leaf(rec: dict[str, Any], leaf: list[Any]) -> bool:
    field, op, value = leaf
    v = rec.get(field, False)
    if isinstance(v, list) and len(v) == 2 and isinstance(v[0], int):
        v = v[0]  # many2one compares by id
    if op == "=":
        return bool(v == value or (value is False and v in (None, "", False)))
    if op == "!=":
        return not _leaf(rec, [field, "=", value])
    if op == "in":
        return v in value
    if op == "not in":
        return v not in value
    if op in ("like", "ilike", "=like", "=ilike"):
        return isinstance(v, str) and _like(str(value), v, insensitive="i" in op, wrap=not op.startswith("="))
    if op in ("<", ">", "<=", ">="):
        if v is False or v is None:
            return False
        return bool({"<": v < value, ">": v > value, "<=": v <= value, ">=": v >= value}[op])
    raise OdooError("builtins.ValueError", f"Invalid domain operator {op!r}", FAULT_APPLICATION, 422)


def evaluate(rec: dict[str, Any], domain: list[Any]) -> bool:
    """Odoo's prefix-notation domain over one record (implicit `&` between consecutive terms)."""
    def parse(i: int) -> tuple[bool, int]:
        term = domain[i]
        if term == "|":
            a, j = parse(i + 1)
            b, k = parse(j)
            return a or b, k
        if term == "&":
            a, j = parse(i + 1)
            b, k = parse(j)
            return a and b, k
        if term == "!":
            a, j = parse(i + 1)
            return not a, j
        if isinstance(term, (list, tuple)) and len(term) == 3:
            return _leaf(rec, list(term)), i + 1
        raise OdooError("builtins.ValueError", "Invalid domain term", FAULT_APPLICATION, 422)

    i, ok = 0, True
    while i < len(domain):
        r, i = parse(i)
        ok = ok and r
    return ok


class OdooStandIn:
    def __init__(self, data: dict[str, Any], version: str | None = None) -> None:
        self.version = version or str(data.get("version", "17.0"))
        if self.version not in VERSIONS:
            raise ValueError(f"version: expected one of {', '.join(VERSIONS)}")
        self.database = str(data["database"])
        self.users: list[dict[str, Any]] = list(data.get("users", []))
        self.records: dict[str, list[dict[str, Any]]] = {m: [dict(r) for r in rs]
                                                         for m, rs in data.get("models", {}).items()}
        self.records.setdefault("ir.model", [
            {"id": i + 1, "model": m, "name": m, "state": "base"} for i, m in enumerate(sorted(self.records))])
        known = {r["model"] for r in self.records["ir.model"]}
        for m in ("ir.model.data", "ir.module.module", "ir.config_parameter", "ir.model.fields", "ir.cron"):
            self.records.setdefault(m, [])
            if m not in known:
                self.records["ir.model"].append({"id": len(self.records["ir.model"]) + 1, "model": m, "name": m,
                                                 "state": "base"})
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str, str]] = []  # (protocol, model, method)
        self.wire: list[bytes] = []  # every response body sent
        self._faults: list[tuple[str, Any]] = []
        self._revoked: set[str] = set()
        self._httpd: ThreadingHTTPServer | None = None

    # ---------------------------------------------------------------- fault injection
    def fail_next(self, n: int, status: int, headers: dict[str, str] | None = None) -> None:
        with self.lock:
            self._faults.extend(("fail", (status, headers or {})) for _ in range(n))

    def hang_next(self, n: int, seconds: float) -> None:
        with self.lock:
            self._faults.extend(("hang", seconds) for _ in range(n))

    def revoke(self, model: str) -> None:
        """From now on nobody may read `model` (a missing ACL, half-way through an audit)."""
        with self.lock:
            self._revoked.add(model)

    # ---------------------------------------------------------------- model layer
    def fields(self, model: str) -> dict[str, str]:
        if model == "ir.cron":
            return CRON_FIELDS[self.version]
        if model in MODEL_FIELDS:
            return MODEL_FIELDS[model]
        keys: dict[str, str] = {"id": "integer"}
        for r in self.records.get(model, []):
            for k, v in r.items():
                keys.setdefault(k, "boolean" if isinstance(v, bool) else "integer" if isinstance(v, int)
                                else "float" if isinstance(v, float) else "char")
        return keys

    def _user(self, login: str | None = None, password: str | None = None, api_key: str | None = None
              ) -> dict[str, Any] | None:
        for u in self.users:
            if api_key is not None and isinstance(u.get("api_key"), str) and \
                    hmac.compare_digest(u["api_key"], api_key):
                return u
            if login is not None and u.get("login") == login and isinstance(u.get("password"), str) and \
                    password is not None and hmac.compare_digest(u["password"], password):
                return u
        return None

    def execute(self, user: dict[str, Any], model: str, method: str, args: list[Any],
                kwargs: dict[str, Any]) -> Any:
        if model not in self.records:
            raise no_model(model)
        readable = user.get("read", [])
        if (readable != "*" and model not in readable) or model in self._revoked:
            raise access_error(model)
        context = kwargs.pop("context", None) or {}
        rule = list((user.get("rules") or {}).get(model) or [])
        fields = self.fields(model)
        if method == "fields_get":
            allfields = args[0] if args else kwargs.get("allfields")
            return {f: {"type": t, "string": f.replace("_", " ").title()} for f, t in fields.items()
                    if not allfields or f in allfields}
        if method in ("read_group", "formatted_read_group"):
            return self._group(model, method, args, kwargs, context, rule)
        if method not in ("search_read", "search_count", "search", "read"):
            raise OdooError("builtins.AttributeError", f"The method '{model}.{method}' does not exist",
                            FAULT_APPLICATION, 404)
        if method == "read":
            ids = args[0] if args else kwargs.get("ids", [])
            wanted = (args[1] if len(args) > 1 else kwargs.get("fields")) or list(fields)
            rows = [r for r in self.records[model] if r.get("id") in ids and evaluate(r, rule)]
            return [self._project(model, r, wanted) for r in rows]
        domain = list(args[0]) if args else list(kwargs.get("domain") or [])
        # Consecutive terms are ANDed: the rule, then what the caller asked.
        rows = self._search(model, rule + domain, context)
        if method == "search_count":
            return len(rows)
        offset = int(kwargs.get("offset") or 0)
        limit = kwargs.get("limit")
        rows = rows[offset:offset + limit] if isinstance(limit, int) and limit > 0 else rows[offset:]
        if method == "search":
            return [r["id"] for r in rows]
        wanted = (args[1] if len(args) > 1 else kwargs.get("fields")) or list(fields)
        return [self._project(model, r, wanted) for r in rows]

    def _group(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any],
               context: dict[str, Any], rule: list[Any]) -> list[dict[str, Any]]:
        if method == "formatted_read_group" and self.version != "19.0":
            raise OdooError("builtins.AttributeError", f"The method '{model}.{method}' does not exist",
                            FAULT_APPLICATION, 404)
        domain = list(args[0]) if args else list(kwargs.get("domain") or [])
        groupby = (args[2] if len(args) > 2 else kwargs.get("groupby")) or []
        groupby = [groupby] if isinstance(groupby, str) else list(groupby)
        for g in groupby:
            if g not in self.fields(model):
                raise invalid_field(model, g)
        groups: dict[tuple[Any, ...], int] = {}
        for r in self._search(model, rule + domain, context):
            k = tuple(r.get(g, False) for g in groupby)
            groups[k] = groups.get(k, 0) + 1
        # read_group(lazy=False) and formatted_read_group both answer "__count" per group.
        return [{**dict(zip(groupby, k, strict=True)), "__count": n} for k, n in sorted(groups.items(), key=str)]

    def _search(self, model: str, domain: list[Any], context: dict[str, Any]) -> list[dict[str, Any]]:
        names_active = any(isinstance(t, (list, tuple)) and t and t[0] == "active" for t in domain)
        hide_inactive = "active" in self.fields(model) and context.get("active_test", True) and not names_active
        for t in domain:
            if isinstance(t, (list, tuple)) and len(t) == 3 and t[0] not in self.fields(model):
                raise invalid_field(model, str(t[0]))
        out = [r for r in self.records[model]
               if not (hide_inactive and r.get("active", True) is False) and evaluate(r, domain)]
        return sorted(out, key=lambda r: r.get("id", 0))

    def _project(self, model: str, rec: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
        fields = self.fields(model)
        out: dict[str, Any] = {"id": rec.get("id")}
        for f in wanted:
            if f not in fields:
                raise invalid_field(model, f)
            v = rec.get(f, False)
            out[f] = False if v is None else v
        return out

    # ---------------------------------------------------------------- HTTP
    def start(self, host: str = "127.0.0.1", port: int = 0) -> OdooStandIn:
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                app._handle(self)

            def do_GET(self) -> None:
                app._send(self, 404, b"Not Found", "text/plain")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str,
              headers: dict[str, str] | None = None) -> None:
        with self.lock:
            self.wire.append(body)
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        if length > 8 * 1024 * 1024:
            self._send(h, 413, b"Request Entity Too Large", "text/plain")
            return
        raw = h.rfile.read(length) if length else b""
        with self.lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault and fault[0] == "hang":
            time.sleep(fault[1])
            h.close_connection = True
            return
        if fault:
            status, headers = fault[1]
            self._send(h, status, json.dumps({"message": "injected"}).encode(), "application/json", headers)
            return
        path = h.path.split("?", 1)[0]
        if path in ("/xmlrpc/2/common", "/xmlrpc/2/object"):
            self._xmlrpc(h, path.rsplit("/", 1)[1], raw)
        elif path.startswith("/json/2/"):
            self._json2(h, path, raw)
        else:
            self._send(h, 404, b"Not Found", "text/plain")

    def _xmlrpc(self, h: BaseHTTPRequestHandler, service: str, raw: bytes) -> None:
        try:
            params, method = xmlrpc.client.loads(raw, use_builtin_types=True)
        except Exception:  # noqa: BLE001 - a malformed request is Odoo's application error too
            body = xmlrpc.client.dumps(xmlrpc.client.Fault(FAULT_APPLICATION, "malformed request"),
                                       methodresponse=True, allow_none=False)
            self._send(h, 200, body.encode(), "text/xml")
            return
        try:
            result = self._dispatch_xmlrpc(service, method or "", list(params))
            body = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
        except OdooError as exc:
            body = xmlrpc.client.dumps(xmlrpc.client.Fault(exc.fault, exc.message), methodresponse=True)
        self._send(h, 200, body.encode(), "text/xml")

    def _dispatch_xmlrpc(self, service: str, method: str, params: list[Any]) -> Any:
        if service == "common":
            if method == "version":
                return {"server_version": self.version, "server_version_info": [int(self.version[:2]), 0, 0,
                                                                                 "final", 0, ""],
                        "server_serie": self.version, "protocol_version": 1}
            if method in ("login", "authenticate"):
                db, login, password = params[0], params[1], params[2]
                user = self._user(login=login, password=password) if db == self.database else None
                return user["uid"] if user else False
            raise OdooError("builtins.NameError", f"Method not available {method}", FAULT_APPLICATION, 404)
        if method not in ("execute_kw", "execute"):
            raise OdooError("builtins.NameError", f"Method not available {method}", FAULT_APPLICATION, 404)
        db, uid, password, model, call = params[:5]
        args = list(params[5]) if len(params) > 5 else []
        kwargs = dict(params[6]) if method == "execute_kw" and len(params) > 6 and params[6] else {}
        user = self._user(login=next((u.get("login") for u in self.users if u.get("uid") == uid), None),
                          password=password) if db == self.database else None
        if user is None or user.get("uid") != uid:
            raise access_denied()
        with self.lock:
            self.calls.append(("xmlrpc", model, call))
        return self.execute(user, model, call, args, kwargs)

    def _json2(self, h: BaseHTTPRequestHandler, path: str, raw: bytes) -> None:
        def error(exc: OdooError) -> None:
            body = {"name": exc.name, "message": exc.message, "arguments": [exc.message], "context": {},
                    "debug": ""}
            headers = {"WWW-Authenticate": 'Bearer realm="odoo"'} if exc.status == 401 else None
            self._send(h, exc.status, json.dumps(body).encode(), "application/json", headers)

        if self.version != "19.0":
            self._send(h, 404, b"Not Found", "text/plain")  # JSON-2 appeared in Odoo 19
            return
        parts = path.split("/")
        if len(parts) != 5 or not parts[3] or not parts[4]:
            error(OdooError("werkzeug.exceptions.NotFound", "Did you mean POST /json/2/<model>/<method>?",
                            FAULT_APPLICATION, 404))
            return
        model, method = parts[3], parts[4]
        auth = h.headers.get("Authorization") or ""
        scheme, _, key = auth.partition(" ")
        user = self._user(api_key=key.strip()) if scheme.lower() == "bearer" and key.strip() else None
        db = h.headers.get("X-Odoo-Database")
        if user is None or (db is not None and db != self.database):
            error(OdooError("odoo.exceptions.AccessDenied", "Invalid apikey", FAULT_ACCESS_DENIED, 401))
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            error(OdooError("werkzeug.exceptions.BadRequest", "could not parse the body, expecting a json object",
                            FAULT_APPLICATION, 400))
            return
        ids = body.pop("ids", None)
        args: list[Any] = []
        if method in ("search_read", "search_count", "search", "formatted_read_group"):
            args = [body.pop("domain", [])]
        elif method == "read":
            args = [ids or []]
        unknown = set(body) - {"fields", "limit", "offset", "order", "context", "allfields", "attributes",
                               "groupby", "aggregates"}
        if unknown:
            error(OdooError("werkzeug.exceptions.UnprocessableEntity",
                            f"got an unexpected keyword argument {sorted(unknown)[0]!r}", FAULT_APPLICATION, 422))
            return
        with self.lock:
            self.calls.append(("json2", model, method))
        try:
            result = self.execute(user, model, method, args, body)
        except OdooError as exc:
            error(exc)
            return
        self._send(h, 200, json.dumps(result).encode(), "application/json")


def load(path: str | Path, version: str | None = None) -> OdooStandIn:
    return OdooStandIn(json.loads(Path(path).read_text(encoding="utf-8")), version)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=54380)
    ap.add_argument("--version", choices=VERSIONS)
    ns = ap.parse_args()
    server = load(ns.data, ns.version).start(ns.host, ns.port)
    print(f"odoo stand-in {server.version} on {server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
