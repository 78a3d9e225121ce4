"""audits/: the least-privilege setup per external system grants exactly what the sources use."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from mgmt_api_server import require_spec

from ssot.sources.live.odoo import READS
from ssot.sources.live.supabase_api import OPERATIONS_USED
from ssot.supabase_api import OPERATIONS

AUDITS = Path(__file__).resolve().parents[2] / "audits"


def _fields(record: ElementTree.Element) -> dict[str, ElementTree.Element]:
    return {f.get("name", ""): f for f in record.findall("field")}


def test_odoo_group_reads_exactly_the_models_the_source_reads() -> None:
    models: dict[str, str] = {}
    for name in ("ssot_auditor.xml", "ssot_auditor_optional.xml"):
        root = ElementTree.parse(AUDITS / "odoo" / name).getroot()  # noqa: S314 - our own file
        for rec in root.iter("record"):
            if rec.get("model") != "ir.model.access":
                continue
            f = _fields(rec)
            found = re.match(r"ssot auditor: ([a-z_.]+)", f["name"].text or "")
            assert found, rec.get("id")
            assert f["group_id"].get("ref") == "group_ssot_auditor"
            assert f["perm_read"].get("eval") == "True"
            for perm in ("perm_write", "perm_create", "perm_unlink"):
                assert f[perm].get("eval") == "False", (rec.get("id"), perm)
            models[found.group(1)] = f["model_id"].get("ref") or ""
    assert set(models) == set(READS)
    for model, ref in models.items():  # the access right is on that model, not on a neighbour
        assert ref.split(".", 1)[1] == "model_" + model.replace(".", "_")


def test_odoo_user_is_in_the_auditor_group_only_besides_portal() -> None:
    root = ElementTree.parse(AUDITS / "odoo" / "ssot_auditor.xml").getroot()  # noqa: S314
    (user,) = [r for r in root.iter("record") if r.get("model") == "res.users"]
    groups = _fields(user)["groups_id"].get("eval") or ""
    assert sorted(re.findall(r"ref\('([^']+)'\)", groups)) == ["base.group_portal", "group_ssot_auditor"]
    assert "password" not in _fields(user)


def test_odoo_record_rule_is_the_sources_own_parameter_domain() -> None:
    """The group reads no parameter the source would not ask for (database.secret above all); the
    estate's stand-in applies the same rule to its auditor user."""
    import ast
    import json

    from ssot.sources.live.odoo import ODOO_INTERNAL_KEYS, parameter_domain

    def plain(domain: object) -> object:
        return json.loads(json.dumps(domain))  # tuples as lists, as the wire has them

    root = ElementTree.parse(AUDITS / "odoo" / "ssot_auditor.xml").getroot()  # noqa: S314
    (rule,) = [r for r in root.iter("record") if r.get("model") == "ir.rule"]
    f = _fields(rule)
    assert f["model_id"].get("ref") == "base.model_ir_config_parameter"
    assert f["groups"].get("eval") == "[(4, ref('group_ssot_auditor'))]"
    assert plain(ast.literal_eval(f["domain_force"].text or "")) == parameter_domain()
    assert ["key", "not in", ["database.secret"]] in parameter_domain() and "database.secret" in ODOO_INTERNAL_KEYS
    data = json.loads((AUDITS.parent / "examples" / "estate" / "live" / "odoo-data.json").read_text())
    auditor = next(u for u in data["users"] if u["login"] == "ssot-auditor")
    assert auditor["rules"] == {"ir.config_parameter": parameter_domain()}


def test_supabase_token_scope_matches_the_document() -> None:
    spec = require_spec()
    text = (AUDITS / "supabase" / "README.md").read_text()
    rows = re.findall(r"^\| `(v1-[a-z0-9-]+)` \| .*? \| `([a-z:]+)` \| `([a-z_]+)` \|$", text, re.M)
    assert [r[0] for r in rows] == list(OPERATIONS_USED)
    for operation, scope, fga in rows:
        method, path = OPERATIONS[operation]
        op = spec["paths"][path][method.lower()]
        assert op["operationId"] == operation
        assert op["x-oauth-scope"] == scope
        assert {"fga_permissions": [fga]} in op["security"]
        assert method == "GET"  # the auditor only reads
