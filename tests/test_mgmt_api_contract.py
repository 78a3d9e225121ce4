"""The client and the test server, each held to Supabase's published Management API document."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

import pytest
from mgmt_api_server import FakeClock, MgmtApiServer, require_spec, running_server

from ssot.providers.edge_secret import MAX_VALUE_LENGTH
from ssot.providers.supabase_project import INSTANCE_SIZES
from ssot.supabase_api import OPERATIONS, QUERY_PARAMS, ManagementApi, ManagementApiError

TOKEN = "sbp_contract_token"


def _operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    op = spec["paths"].get(path, {}).get(method.lower())
    assert op is not None, f"{method} {path} is not in the OpenAPI document"
    return dict(op)


def _params(spec: dict[str, Any], op: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op.get("parameters", []) if p.get("in") == where}


def _schema(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return dict(node)


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_each_client_operation_is_in_the_document(operation_id: str) -> None:
    spec = require_spec()
    method, path = OPERATIONS[operation_id]
    op = _operation(spec, method, path)
    assert op["operationId"] == operation_id
    declared_path = set(_params(spec, op, "path"))
    assert declared_path == set(re.findall(r"{(\w+)}", path))
    declared_query = _params(spec, op, "query")
    sent = set(QUERY_PARAMS.get(operation_id, ()))
    assert sent <= set(declared_query), f"client sends undeclared query params {sent - set(declared_query)}"
    required = {n for n, p in declared_query.items() if p.get("required")}
    assert required <= sent, f"client omits required query params {required - sent}"


def test_client_body_choices_follow_the_document() -> None:
    spec = require_spec()
    create = _schema(spec, "#/components/schemas/V1CreateProjectBody")
    assert {"db_pass", "name", "organization_slug"} <= set(create["required"])
    assert not create["properties"]["organization_slug"].get("deprecated")
    assert create["properties"]["region"].get("deprecated"), "client uses region_selection instead"
    assert tuple(create["properties"]["desired_instance_size"]["enum"]) == INSTANCE_SIZES
    secret_item = _schema(spec, "#/components/schemas/CreateSecretBody")["items"]
    assert secret_item["properties"]["value"]["maxLength"] == MAX_VALUE_LENGTH
    listed = _schema(spec, "#/components/schemas/SecretResponse")
    assert {"name", "value"} <= set(listed["required"])


def test_every_client_operation_round_trips_through_the_validating_server() -> None:
    clock = FakeClock()
    with running_server(polls_until_healthy=1) as server:
        api = ManagementApi(TOKEN, server.url, **clock.client_kwargs())
        project = api.create_project(name="contract", organization_slug="acme-org", db_pass="pw-1234",
                                     region="us-east-1", desired_instance_size="small")
        api.wait_for_healthy(project.ref, 60, services=("db", "rest", "auth"))
        assert [p.ref for p in api.list_projects()] == [project.ref]
        api.update_project_name(project.ref, "contract-2")
        api.update_database_password(project.ref, "pw-5678")
        api.create_secrets(project.ref, {"A_KEY": "a", "B_KEY": "b"})
        api.list_secrets(project.ref)
        api.delete_secrets(project.ref, ["A_KEY"])
        api.delete_project(project.ref)
        seen = set(server.operations())
        assert seen == set(OPERATIONS)
        assert all(r.authorization for r in server.requests)
    # running_server asserted at exit that no request or response broke the document.


def _raw(server: MgmtApiServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.url + path, data=data, method=method,  # noqa: S310
                                 headers={"Authorization": "Bearer x", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_server_rejects_requests_that_break_the_document() -> None:
    with running_server() as server:
        ref = server.add_project("p")
        cases = [
            ("POST", "/v1/projects", {"name": "x", "organization_slug": "acme-org"}, 400),  # no db_pass
            ("POST", "/v1/projects", {"name": "x", "organization_slug": "acme-org", "db_pass": "CANARYpw",
                                      "unexpected": 1}, 400),
            ("POST", f"/v1/projects/{ref}/secrets", [{"name": "SUPABASE_URL", "value": "CANARYsv"}], 400),
            ("DELETE", f"/v1/projects/{ref}/secrets", {"name": "A"}, 400),
            ("GET", "/v1/projects/NOT-A-REF", None, 400),
            ("GET", f"/v1/projects/{ref}/health", None, 400),  # services is required
            ("GET", "/v1/no-such-endpoint", None, 404),
        ]
        for method, path, body, status in cases:
            got, payload = _raw(server, method, path, body)
            assert got == status, (method, path, payload)
            assert "CANARY" not in json.dumps(payload)
        assert len(server.violations) == len(cases)
        assert not any("CANARY" in v for v in server.violations)
        server.violations.clear()


def test_server_notices_its_own_responses_breaking_the_document() -> None:
    with running_server() as server:
        ref = server.add_project("p")
        server.corrupt_next_response()
        assert _raw(server, "GET", f"/v1/projects/{ref}")[0] == 200
        assert len(server.violations) == 1 and "response 200" in server.violations[0]
        server.violations.clear()


def test_client_surfaces_a_400_for_a_reserved_secret_name() -> None:
    with running_server() as server:
        api = ManagementApi(TOKEN, server.url)
        ref = server.add_project("p")
        with pytest.raises(ManagementApiError) as err:
            api.create_secrets(ref, {"SUPABASE_URL": "CANARY-value"})
        assert err.value.status == 400 and err.value.attempts == 1
        assert "CANARY" not in str(err.value)
        server.violations.clear()


def test_injected_faults_still_answer_with_documented_shapes() -> None:
    with running_server() as server:
        ref = server.add_project("p")
        for status in (429, 500, 401):
            server.fail_next(1, status)
            assert _raw(server, "GET", f"/v1/projects/{ref}/secrets")[0] == status
            server.fail_next(1, status)
            assert _raw(server, "POST", "/v1/projects",
                        {"name": "x", "organization_slug": "acme-org", "db_pass": "pw"})[0] == status
