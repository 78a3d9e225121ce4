"""The Odoo live source against the example's Odoo stand-in over real HTTP (XML-RPC and JSON-2).

The stand-in's own contract is checked first with plain clients (xmlrpc.client as Odoo's external API
documentation uses it, urllib for JSON-2): Odoo's fault codes, HTTP statuses and field sets per version.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ssot.fingerprint import fingerprint
from ssot.inventory import Inventory, Kind, Phase
from ssot.rules.odoo_cron import RULE as ODOO_CRON
from ssot.rules.secret_placement import RULE as SECRET_PLACEMENT
from ssot.sources.live import SourceContext, all_sources
from ssot.sources.live.odoo import READS, SOURCE

from .conftest import LIVE_EXAMPLE, all_text, example_module, make_platform

KEY = "test-fingerprint-key-odoo"
DATA = json.loads((LIVE_EXAMPLE / "odoo-data.json").read_text())
PASSWORD = "estate-odoo-auditor-password-not-a-secret"
API_KEY = "estate-odoo-auditor-apikey-not-a-secret"
CANARIES = ("ESTATE-FAKE-odoo-webhook-secret-0001", "ESTATE-FAKE-odoo-smtp-password-0001",
            "ESTATE-FAKE-odoo-cron-inline-token-0001", "ESTATE-FAKE-odoo-database-secret-0001", PASSWORD, API_KEY)


@pytest.fixture
def standin() -> Iterator[Any]:
    servers: list[Any] = []

    def start(version: str = "17.0") -> Any:
        s = example_module("odoo_standin").OdooStandIn(json.loads(json.dumps(DATA)), version).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def _platform(tmp_path: Path, url: str, protocol: str = "xmlrpc") -> Any:
    return make_platform(tmp_path, odoo={"url": url, "database": "acme-dev", "username": "ssot-auditor",
                                         "password": {"secret": "odooPassword"}},
                         audit={"odoo": {"protocol": protocol, "credentialEnv": "ODOO_AUDITOR_CREDENTIAL"}})


def _ctx(credential: str | None = PASSWORD, timeout: float = 5.0) -> SourceContext:
    env = {"SSOT_FINGERPRINT_KEY": KEY}
    if credential is not None:
        env["ODOO_AUDITOR_CREDENTIAL"] = credential
    return SourceContext(env=env, timeout=timeout)


# --- the stand-in's contract ------------------------------------------------------------------------


def test_standin_speaks_odoo_xmlrpc(standin: Any) -> None:
    s = standin("18.0")
    common: Any = xmlrpc.client.ServerProxy(f"{s.url}/xmlrpc/2/common")
    assert common.version()["server_version"] == "18.0"
    assert common.authenticate("acme-dev", "ssot-auditor", "wrong", {}) is False
    uid = common.authenticate("acme-dev", "ssot-auditor", PASSWORD, {})
    assert uid == 7
    models: Any = xmlrpc.client.ServerProxy(f"{s.url}/xmlrpc/2/object")
    crons = models.execute_kw("acme-dev", uid, PASSWORD, "ir.cron", "search_read", [[]], {"fields": ["name"]})
    assert [c["id"] for c in crons] == [1, 41]  # active_test hides the inactive one by default
    crons = models.execute_kw("acme-dev", uid, PASSWORD, "ir.cron", "search_read", [[]],
                              {"fields": ["name"], "context": {"active_test": False}})
    assert [c["id"] for c in crons] == [1, 41, 42]
    fields = models.execute_kw("acme-dev", uid, PASSWORD, "ir.cron", "fields_get", [], {"attributes": ["type"]})
    assert "failure_count" in fields and "numbercall" not in fields and "doall" not in fields

    def fault(*args: Any) -> int:
        with pytest.raises(xmlrpc.client.Fault) as e:
            models.execute_kw(*args)
        return int(e.value.faultCode)

    assert fault("acme-dev", uid, "wrong", "ir.cron", "search_read", [[]], {}) == 3  # AccessDenied
    assert fault("acme-dev", uid, PASSWORD, "res.partner.nope", "search_read", [[]], {}) == 2  # no such model
    assert fault("acme-dev", uid, PASSWORD, "ir.cron", "search_read", [[]], {"fields": ["numbercall"]}) == 1
    s.revoke("ir.cron")
    assert fault("acme-dev", uid, PASSWORD, "ir.cron", "search_read", [[]], {}) == 4  # AccessError


def _post(url: str, body: Any, key: str | None = API_KEY) -> tuple[int, Any, dict[str, str]]:
    headers = {"Content-Type": "application/json", "X-Odoo-Database": "acme-dev"}
    if key:
        headers["Authorization"] = f"bearer {key}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        payload = e.read()
        is_json = "json" in (e.headers.get("Content-Type") or "")
        return e.code, json.loads(payload) if is_json else payload, dict(e.headers)


def test_standin_speaks_json2(standin: Any) -> None:
    s = standin("19.0")
    status, body, _ = _post(f"{s.url}/json/2/ir.cron/search_read",
                            {"domain": [["active", "in", [True, False]]], "fields": ["name", "failure_count"]})
    assert status == 200 and [r["id"] for r in body] == [1, 41, 42]
    status, body, headers = _post(f"{s.url}/json/2/ir.cron/search_read", {}, key="wrong")
    assert status == 401 and body["name"] == "odoo.exceptions.AccessDenied" and "WWW-Authenticate" in headers
    assert _post(f"{s.url}/json/2/no.such.model/search_read", {})[0] == 404
    assert _post(f"{s.url}/json/2/ir.cron/search_read", {"bogus": 1})[0] == 422
    s.revoke("ir.cron")
    status, body, _ = _post(f"{s.url}/json/2/ir.cron/search_read", {})
    assert status == 403 and body["name"] == "odoo.exceptions.AccessError"
    old = standin("17.0")
    assert _post(f"{old.url}/json/2/ir.cron/search_read", {})[0] == 404  # JSON-2 is Odoo 19+


# --- the source -------------------------------------------------------------------------------------


def test_registered_and_not_configured(tmp_path: Path) -> None:
    assert SOURCE in all_sources()
    result = SOURCE.collect(make_platform(tmp_path), _ctx())
    assert not result.configured and result.complete and not result.inventory.assets


CASES = [("16.0", "xmlrpc", PASSWORD), ("17.0", "xmlrpc", PASSWORD), ("18.0", "xmlrpc", PASSWORD),
         ("19.0", "json2", API_KEY)]


@pytest.mark.parametrize(("version", "protocol", "credential"), CASES)
def test_reads_the_estate(tmp_path: Path, standin: Any, version: str, protocol: str, credential: str) -> None:
    s = standin(version)
    result = SOURCE.collect(_platform(tmp_path, s.url, protocol), _ctx(credential))
    assert result.configured and result.complete, [g.describe() for g in result.gaps]
    assert {(p, m) for p, m, _ in s.calls} <= {(protocol, m) for m in READS}
    assert {(m, c) for _, m, c in s.calls} <= {(m, c) for m, cs in READS.items() for c in cs}
    inv = result.inventory
    crons = {a.name: a for a in inv.of(Kind.ODOO_CRON)}
    assert sorted(crons) == ["acme_sync.ir_cron_legacy_export", "acme_sync.ir_cron_push_invoices",
                             "base.autovacuum_job"]
    legacy = crons["acme_sync.ir_cron_legacy_export"]
    assert legacy.phase is Phase.LIVE and legacy.props["active"] is False  # inactive crons are read too
    assert legacy.props["code"] == "model._cron_legacy_export()"  # the call, never the code
    assert legacy.props["model"] == "acme.sync.job" and legacy.props["defined_in"] == "live"
    assert legacy.props["interval"] == {"number": 1, "type": "days"}
    assert crons["base.autovacuum_job"].props["odoo_standard"] is True
    assert crons["acme_sync.ir_cron_push_invoices"].props["odoo_standard"] is False
    push = crons["acme_sync.ir_cron_push_invoices"].props
    if version in ("16.0", "17.0"):
        assert push["field_set"] == "<=17" and push["numbercall"] == -1 and "failure_count" not in push
    else:
        assert push["field_set"] == "18+" and push["failure_count"] == 2 and "numbercall" not in push
    assert [a.name for a in inv.of(Kind.ODOO_MODULE)] == ["queue_job"]
    assert {a.name: a.props["count"] for a in inv.of(Kind.ODOO_JOB)} == {
        "acme.sync.job._push_invoice": 3, "res.partner._geo_localize": 1}
    params = {a.name: a for a in inv.of(Kind.ODOO_PARAMETER)}
    assert list(params) == ["acme_sync.webhook_secret"]  # not database.secret, a TTL, an empty key
    assert params["acme_sync.webhook_secret"].fingerprint == fingerprint(CANARIES[0], KEY.encode())
    assert {a.name: a.props["records_set"] for a in inv.of(Kind.ODOO_SECRET_FIELD)} == {
        "ir.mail_server.smtp_pass": 1}
    assert {a.name: a.props["holds"] for a in inv.of(Kind.ODOO_DATA_FIELD)} == {
        "acme.customer.insight.x_embedding": "embedding", "acme.sync.job.x_agent_memory": "agent_memory",
        "account.move.x_kpi_margin": "kpi"}
    text = all_text(inv.assets, result.gaps, result.read)
    for canary in CANARIES:
        assert canary not in text


def test_rules_on_the_live_inventory(tmp_path: Path, standin: Any) -> None:
    s = standin("17.0")
    result = SOURCE.collect(_platform(tmp_path, s.url), _ctx())
    inv = Inventory(phases={Phase.LIVE}).merge(result.inventory)
    crons = {f.subject: f.severity.name.lower() for f in ODOO_CRON.check(inv)}
    assert crons == {"odoo-cron:acme_sync.ir_cron_push_invoices": "critical",
                     "odoo-cron:acme_sync.ir_cron_legacy_export": "high"}
    placement = sorted(f.subject for f in SECRET_PLACEMENT.check(inv))
    assert placement == ["odoo-field:ir.mail_server.smtp_pass", "odoo-parameter:acme_sync.webhook_secret"]
    findings = [*ODOO_CRON.check(inv), *SECRET_PLACEMENT.check(inv)]
    text = all_text([(f.explain, f.propose, f.metadata) for f in findings])
    for canary in CANARIES:
        assert canary not in text


def test_payment_provider_key_set_is_found_without_reading_it(tmp_path: Path, standin: Any) -> None:
    s = standin("17.0")
    s.records["payment.provider"][0]["stripe_secret_key"] = "sk_test_ESTATE_FAKE_payment_key_0001"
    result = SOURCE.collect(_platform(tmp_path, s.url), _ctx())
    assert result.complete
    fields = {a.name for a in result.inventory.of(Kind.ODOO_SECRET_FIELD)}
    assert fields == {"ir.mail_server.smtp_pass", "payment.provider.stripe_secret_key"}
    assert ("xmlrpc", "payment.provider", "search_read") not in s.calls  # counted, never read
    assert "sk_test_ESTATE_FAKE" not in all_text(result.inventory.assets)


@pytest.mark.parametrize(("protocol", "version", "credential"), [("xmlrpc", "17.0", "wrong-password"),
                                                                 ("json2", "19.0", "wrong-key")])
def test_wrong_credentials_is_one_gap(tmp_path: Path, standin: Any, protocol: str, version: str,
                                      credential: str) -> None:
    s = standin(version)
    result = SOURCE.collect(_platform(tmp_path, s.url, protocol), _ctx(credential))
    assert [(g.source, g.object, g.reason) for g in result.gaps] == [
        ("odoo", "login", "the credentials were refused")]
    assert not result.inventory.assets and credential not in all_text(result.gaps)


def test_no_credential_in_the_environment(tmp_path: Path, standin: Any) -> None:
    s = standin()
    result = SOURCE.collect(_platform(tmp_path, s.url), _ctx(None))
    assert [g.object for g in result.gaps] == ["login"] and "ODOO_AUDITOR_CREDENTIAL" in result.gaps[0].reason
    assert not s.calls


@pytest.mark.parametrize("protocol", ["xmlrpc", "json2"])
def test_permission_denied_half_way(tmp_path: Path, standin: Any, protocol: str) -> None:
    s = standin("19.0" if protocol == "json2" else "17.0")
    s.revoke("ir.config_parameter")
    result = SOURCE.collect(_platform(tmp_path, s.url, protocol), _ctx(API_KEY if protocol == "json2" else PASSWORD))
    assert [(g.object, g.permission) for g in result.gaps] == [
        ("ir.config_parameter", "read access to ir.config_parameter (search_read)")]
    assert len(list(result.inventory.of(Kind.ODOO_CRON))) == 3  # the rest is still read
    assert not list(result.inventory.of(Kind.ODOO_PARAMETER))


@pytest.mark.parametrize("protocol", ["xmlrpc", "json2"])
def test_rate_limited_then_success(tmp_path: Path, standin: Any, protocol: str) -> None:
    s = standin("19.0" if protocol == "json2" else "17.0")
    s.fail_next(2, 429, {"Retry-After": "0"})
    result = SOURCE.collect(_platform(tmp_path, s.url, protocol), _ctx(API_KEY if protocol == "json2" else PASSWORD))
    assert result.complete and len(list(result.inventory.of(Kind.ODOO_CRON))) == 3


def test_failing_past_the_retries_is_a_gap(tmp_path: Path, standin: Any) -> None:
    s = standin("17.0")
    s.fail_next(4, 503)
    result = SOURCE.collect(_platform(tmp_path, s.url), _ctx())
    assert [(g.object, g.reason) for g in result.gaps] == [
        ("login", "the server kept failing (HTTP 5xx) past the retries")]


def test_timeout_is_a_gap(tmp_path: Path, standin: Any) -> None:
    s = standin("17.0")
    s.hang_next(1, 1.0)
    result = SOURCE.collect(_platform(tmp_path, s.url), _ctx(timeout=0.3))
    assert [(g.object, g.reason) for g in result.gaps] == [("login", "timed out")]


def test_down_is_a_gap(tmp_path: Path) -> None:
    from pgtools import free_port

    result = SOURCE.collect(_platform(tmp_path, f"http://127.0.0.1:{free_port()}"), _ctx())
    assert [(g.object, g.reason) for g in result.gaps] == [("login", "Odoo unreachable")]


def test_hostile_names_and_answers(tmp_path: Path, standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    s = standin("17.0")
    crons = s.records["ir.cron"]
    crons[1]["cron_name"] = crons[1]["name"] = "evil\u202e name\n" + "x" * 10_000
    s.records["ir.model.data"][1]["name"] = "bad id\n<script>"
    s.records["ir.config_parameter"].append({"id": 99, "key": "evil\ntoken\u202e" + "k" * 500,
                                              "value": "ESTATE-FAKE-hostile-param-value"})
    result = SOURCE.collect(_platform(tmp_path, s.url), _ctx())
    assert result.complete
    names = {a.name for a in result.inventory.assets}
    assert "ir.cron 41" in names and "ir.config_parameter 99" in names  # labelled by id, not by the text
    assert all(len(n) <= 512 and n.isprintable() for n in names)
    assert "ESTATE-FAKE-hostile" not in all_text(result.inventory.assets)

    original = s.execute

    def garbage(user: Any, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if model == "ir.cron" and method == "search_read":
            return "not a list of records"
        if model == "ir.config_parameter":
            return [{"id": 1, "key": ["not", "a", "string"], "value": {"nested": True}}]
        return original(user, model, method, args, kwargs)

    s.execute = garbage
    result = SOURCE.collect(_platform(tmp_path, s.url), _ctx())
    assert [(g.object, g.reason) for g in result.gaps] == [
        ("ir.cron", "unexpected response (expected a list of records)")]
    assert not list(result.inventory.of(Kind.ODOO_CRON)) and list(result.inventory.of(Kind.ODOO_MODULE))

    s.execute = original
    monkeypatch.setattr("ssot.sources.live.odoo.MAX_RESPONSE_BYTES", 2_000)
    result = SOURCE.collect(_platform(tmp_path, s.url), _ctx())
    assert ("ir.cron (fields_get)", "unexpected response (response larger than 2000 bytes)") in [
        (g.object, g.reason) for g in result.gaps]


def test_json2_against_an_older_odoo_says_which_protocol(tmp_path: Path, standin: Any) -> None:
    s = standin("17.0")
    result = SOURCE.collect(_platform(tmp_path, s.url, "json2"), _ctx(API_KEY))
    assert [g.object for g in result.gaps] == ["login"]
    assert "audit.odoo.protocol: xmlrpc" in result.gaps[0].reason and not result.inventory.assets


def test_not_xml_rpc_at_all_is_a_gap(tmp_path: Path) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Junk(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<html><body>502 from a proxy that is not Odoo</body"  # not even well-formed
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Junk)
    Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        result = SOURCE.collect(_platform(tmp_path, f"http://127.0.0.1:{httpd.server_address[1]}"), _ctx())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert [(g.object, g.reason) for g in result.gaps] == [("login", "unexpected response")]


@pytest.mark.parametrize("protocol", ["xmlrpc", "json2"])
def test_a_retry_after_past_the_cap_fails_the_login_at_once(tmp_path: Path, standin: Any, protocol: str) -> None:
    """The server must not decide how long the audit sleeps: Retry-After: 86400 on login is a gap, not a day."""
    import threading

    s = standin("19.0" if protocol == "json2" else "17.0")
    s.fail_next(1, 429, {"Retry-After": "86400"})
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(SOURCE.collect(
        _platform(tmp_path, s.url, protocol), _ctx(API_KEY if protocol == "json2" else PASSWORD))), daemon=True)
    t.start()
    t.join(10)
    assert out, "the source slept what Retry-After asked"
    assert [(g.object, g.reason) for g in out[0].gaps] == [("login", "rate limited past the retries")]


@pytest.mark.parametrize("protocol", ["xmlrpc", "json2"])
@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_server_trickling_bytes_is_stopped_by_the_sources_deadline(tmp_path: Path, protocol: str,
                                                                     phase: str) -> None:
    """One byte every 20 ms never trips a 0.5 s read timeout; the 1 s deadline for the whole source does."""
    import time

    from .slowloris import Slowloris

    with Slowloris(phase) as s:
        ctx = SourceContext(env={"SSOT_FINGERPRINT_KEY": KEY, "ODOO_AUDITOR_CREDENTIAL": PASSWORD}, timeout=0.5,
                            deadline=1.0)
        start = time.monotonic()
        result = SOURCE.collect(_platform(tmp_path, s.url, protocol), ctx)
        took = time.monotonic() - start
    assert took < 3.0
    assert [g.object for g in result.gaps] == ["login"] and "deadline passed" in result.gaps[0].reason
    assert not result.complete


def test_a_huge_json2_answer_is_cut_at_the_cap(tmp_path: Path, standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    s = standin("19.0")
    monkeypatch.setattr("ssot.sources.live.odoo.MAX_RESPONSE_BYTES", 300)
    result = SOURCE.collect(_platform(tmp_path, s.url, "json2"), _ctx(API_KEY))
    assert result.gaps and not result.complete
    assert any(g.reason == "unexpected response (response larger than 300 bytes)" for g in result.gaps)


ODOO_SESSION_SECRET = "ESTATE-FAKE-odoo-database-secret-0001"  # database.secret in odoo-data.json


@pytest.mark.parametrize("protocol", ["xmlrpc", "json2"])
def test_odoos_own_secret_never_crosses_the_wire(tmp_path: Path, standin: Any, protocol: str) -> None:
    """Not read and dropped on arrival: never sent. The record rule is taken away here, so this is the
    source's own domain at work."""
    s = standin("19.0" if protocol == "json2" else "17.0")
    auditor = next(u for u in s.users if u["login"] == "ssot-auditor")
    auditor.pop("rules")
    result = SOURCE.collect(_platform(tmp_path, s.url, protocol), _ctx(API_KEY if protocol == "json2" else PASSWORD))
    assert result.complete and ("xmlrpc" if protocol == "xmlrpc" else "json2", "ir.config_parameter",
                                "search_read") in s.calls
    wire = b"".join(s.wire)
    # the credential-like parameters did travel (to be fingerprinted on arrival): the wire log is live
    assert b"ESTATE-FAKE-odoo-webhook-secret-0001" in wire
    assert ODOO_SESSION_SECRET.encode() not in wire


def test_the_auditor_groups_record_rule_hides_every_other_parameter(standin: Any) -> None:
    """What a user in the auditor group can read by asking for everything: credential-like keys only."""
    s = standin("17.0")
    models: Any = xmlrpc.client.ServerProxy(f"{s.url}/xmlrpc/2/object")

    def keys(uid: int, password: str) -> set[str]:
        rows = models.execute_kw("acme-dev", uid, password, "ir.config_parameter", "search_read", [[]],
                                 {"fields": ["key"]})
        return {r["key"] for r in rows}

    everything = keys(2, "estate-odoo-admin-password-not-a-secret")
    assert {"database.secret", "database.uuid", "web.base.url"} <= everything  # the control: they exist
    visible = keys(7, PASSWORD)
    assert visible and visible < everything
    assert not visible & {"database.secret", "database.uuid", "web.base.url"}
    assert ODOO_SESSION_SECRET.encode() not in b"".join(s.wire[-1:])
