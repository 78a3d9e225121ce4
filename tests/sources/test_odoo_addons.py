"""Odoo addons: ir.cron in XML/CSV/Python, system parameters, secret fields, addon literals."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssot.fingerprint import fingerprint
from ssot.inventory import Asset, Kind, Store
from ssot.sources._repo import walk
from ssot.sources.odoo_addons import find_addons, scan_addons

from .conftest import TreeMaker, synthetic_secret

MANIFEST = "{'name': 'Acme', 'depends': ['base'], 'data': ['data/schedule.xml']}\n"


def _scan(make_tree: TreeMaker, files: dict[str, str | bytes]) -> tuple[list[Asset], list[str]]:
    root: Path = make_tree({"addons/acme/__manifest__.py": MANIFEST, **files})
    found, _ = walk(root)
    addons, problems = find_addons(found)
    assets, more = scan_addons(found, addons)
    return assets, problems + more


def _kinds(assets: list[Asset], kind: Kind) -> list[Asset]:
    return [a for a in assets if a.kind is kind]


CRON_XML = """<?xml version="1.0"?>
<odoo>
  <data noupdate="1">
    <record id="cron_sync" model="ir.cron">
      <field name="name">Sync</field>
      <field name="model_id" ref="model_acme_job"/>
      <field name="state">code</field>
      <field name="code">model._sync()</field>
      <field name="interval_number">2</field>
      <field name="interval_type">hours</field>
      <field name="active" eval="False"/>
    </record>
  </data>
  <function model="ir.cron" name="create">
    <value eval="{'name': 'Made by function', 'model_id': ref('acme.model_acme_job'),
                  'code': 'model._other()', 'interval_number': 5, 'interval_type': 'minutes'}"/>
  </function>
  <record id="view_x" model="ir.ui.view"><field name="name">x</field></record>
</odoo>
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({}, [], id="nothing"),
        pytest.param({"addons/acme/data/views.xml": "<odoo><record id='v' model='ir.ui.view'/></odoo>"}, [],
                     id="near-miss-other-model"),
        pytest.param({"addons/acme/data/schedule.xml": CRON_XML}, [
            ("acme.cron_sync", "xml", "acme.job", "model._sync()", "2 hours", False, 4, True, True),
            ("acme:Made by function", "xml", "acme.job", "model._other()", "5 minutes", True, 14, False, True),
        ], id="xml"),
        pytest.param({"addons/acme/data/ir_cron.csv": (
            "id,name,model_id:id,state,code,interval_number,interval_type,active\n"
            "cron_csv,CSV cron,model_acme_job,code,model._csv(),1,days,True\n")},
            [("acme.cron_csv", "csv", "acme.job", "model._csv()", "1 days", True, 2, None, False)], id="csv"),
        pytest.param({"addons/acme/models/job.py": (
            "class Job(models.Model):\n    _name = 'acme.job'\n\n    def _register_hook(self):\n"
            "        self.env['ir.cron'].sudo().create({'name': 'Py cron', 'model_id': "
            "self.env.ref('acme.model_acme_job').id, 'code': 'model._py()', 'interval_number': 10, "
            "'interval_type': 'minutes'})\n"
            "        self.env.ref('acme.cron_sync').sudo().write({'active': True})\n")},
            [("acme:Py cron", "python", "acme.job", "model._py()", "10 minutes", True, 5, None, None),
             ("acme.cron_sync", "python", None, None, None, True, 6, None, None)], id="python"),
    ],
)
def test_odoo_crons(make_tree: TreeMaker, files: dict[str, str | bytes], expected: list[tuple[object, ...]]) -> None:
    assets, problems = _scan(make_tree, files)
    assert problems == []
    got = [(a.name, a.props["defined_in"], a.props["model"], a.props["code"], a.props["interval"],
            a.props["active"], a.location.line, a.props.get("noupdate"), a.props["loaded_by_manifest"])
           for a in _kinds(assets, Kind.ODOO_CRON)]
    assert got == expected
    assert all(a.store is Store.ODOO for a in _kinds(assets, Kind.ODOO_CRON))


def test_python_cron_in_register_hook_is_marked(make_tree: TreeMaker) -> None:
    assets, _ = _scan(make_tree, {"addons/acme/models/job.py": (
        "def _register_hook(self):\n    env['ir.cron'].create({'name': 'Hooked'})\n")})
    [cron] = _kinds(assets, Kind.ODOO_CRON)
    assert cron.props["register_hook"] is True and cron.props["method"] == "create"


def test_manifest_loading_a_missing_cron_file_declares_a_cron(make_tree: TreeMaker) -> None:
    assets, _ = _scan(make_tree, {})
    assert assets == []  # data/schedule.xml is missing, but nothing says it holds crons
    root = make_tree({"addons/b/__manifest__.py": "{'name': 'B', 'data': ['data/ir_cron_data.xml']}"})
    found, _ = walk(root)
    addons, _ = find_addons(found)
    got, _ = scan_addons(found, addons)
    assert [(a.name, a.props["defined_in"]) for a in got] == [("b:data/ir_cron_data.xml", "manifest")]


def test_config_parameters(make_tree: TreeMaker) -> None:
    value = synthetic_secret("whsec", 30)
    xml = ("<odoo><record id='p1' model='ir.config_parameter'>"
           "<field name='key'>acme.webhook_secret</field>"
           f"<field name='value'>{value}</field></record>\n"
           "<record id='p2' model='ir.config_parameter'><field name='key'>acme.base_url</field>"
           "<field name='value'>https://acme.test</field></record></odoo>\n")
    py = ("class S(models.TransientModel):\n    _inherit = 'res.config.settings'\n"
          "    acme_api_key = fields.Char(config_parameter='acme.api_key')\n"
          "    acme_color = fields.Char(config_parameter='acme.color')\n"
          "def f(env):\n    env['ir.config_parameter'].set_param('acme.sync_token', 'literal-Tok3n-9f8e7d6c')\n")
    assets, _ = _scan(make_tree, {"addons/acme/data/params.xml": xml, "addons/acme/models/s.py": py})
    params = {a.name: a for a in _kinds(assets, Kind.ODOO_PARAMETER)}
    assert set(params) == {"acme.webhook_secret", "acme.base_url", "acme.api_key", "acme.sync_token"}
    assert params["acme.webhook_secret"].props["looks_secret"] is True
    assert params["acme.webhook_secret"].fingerprint == fingerprint(value)
    assert params["acme.base_url"].props["looks_secret"] is False and params["acme.base_url"].fingerprint is None
    assert params["acme.api_key"].props["defined_in"] == "settings-field"
    assert params["acme.sync_token"].fingerprint == fingerprint("literal-Tok3n-9f8e7d6c")
    assert all(value not in repr(a) for a in assets)


@pytest.mark.parametrize(
    ("field_src", "expected"),
    [
        pytest.param("name = fields.Char()", [], id="plain-field"),
        pytest.param("token_expiry = fields.Datetime()", [], id="near-miss-datetime"),
        pytest.param("use_token = fields.Boolean()", [], id="near-miss-boolean"),
        pytest.param("api_key = fields.Char(compute='_k')", [], id="near-miss-computed"),
        pytest.param("api_key = fields.Char(groups='base.group_system')", ["acme.job.api_key"], id="char"),
        pytest.param("client_secret = fields.Text(store=True, compute='_c')", ["acme.job.client_secret"],
                     id="stored-computed"),
    ],
)
def test_secret_fields(make_tree: TreeMaker, field_src: str, expected: list[str]) -> None:
    assets, _ = _scan(make_tree, {"addons/acme/models/job.py": (
        f"class Job(models.Model):\n    _name = 'acme.job'\n    {field_src}\n")})
    got = _kinds(assets, Kind.ODOO_SECRET_FIELD)
    assert [a.name for a in got] == expected
    for a in got:
        assert (a.props["model"], a.location.line) == ("acme.job", 3)


def test_addon_literals_and_scrubbed_cron_code(make_tree: TreeMaker) -> None:
    secret = synthetic_secret()
    xml = ("<odoo><record id='c' model='ir.cron'><field name='code'>"
           f"model._push(key='{secret}')</field></record></odoo>\n")
    assets, _ = _scan(make_tree, {"addons/acme/data/cron.xml": xml})
    [cron] = _kinds(assets, Kind.ODOO_CRON)
    [lit] = _kinds(assets, Kind.SECRET_LITERAL)
    assert lit.props["context"] == "odoo-addon" and lit.store is Store.REPOSITORY
    assert secret not in cron.props["code"] and cron.props["code"].startswith("model._push(key='<secret")


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        pytest.param({"addons/acme/__manifest__.py": "{'name': os.environ['X']}"},
                     "__manifest__.py:1: expected literal", id="manifest-not-literal"),
        pytest.param({"addons/acme/data/cron.xml": "<odoo><record></odoo>"}, "cron.xml:1: expected well-formed XML",
                     id="bad-xml"),
        pytest.param({"addons/acme/data/cron.xml": (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><odoo>&a;</odoo>')},
            "expected no DTD", id="dtd-refused"),
        pytest.param({"addons/acme/models/x.py": "def broken(:\n"}, "x.py:1: expected valid Python", id="bad-python"),
    ],
)
def test_unreadable_addon_files_are_problems(make_tree: TreeMaker, files: dict[str, str | bytes],
                                             needle: str) -> None:
    _, problems = _scan(make_tree, files)
    assert len(problems) == 1 and needle in problems[0] and problems[0].startswith("odoo-addons: addons/acme/")



@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("src", ["env['ir.cron'].create({'code': f(x)})\n" * 20, "def (:\n", "x = " + "(" * 300_000])
def test_python_parse_runs_without_the_cycle_collector(src: str, enabled: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Collections during a big module's parse and walk each visit every AST node again
    # (superlinear, see bench_pathological.py); the collector's own state is restored whatever the
    # input does.
    import ast
    import gc

    from ssot.sources import odoo_addons

    states: list[bool] = []
    parse, visit = ast.parse, odoo_addons._PyVisitor.visit

    def parse_spy(text: str, filename: str) -> ast.AST:
        states.append(gc.isenabled())
        return parse(text, filename=filename)

    def visit_spy(self: ast.NodeVisitor, node: ast.AST) -> object:
        states.append(gc.isenabled())
        return visit(self, node)

    monkeypatch.setattr(odoo_addons.ast, "parse", parse_spy)
    monkeypatch.setattr(odoo_addons._PyVisitor, "visit", visit_spy)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        try:
            odoo_addons.python_scan(src, "addons/acme/models/m.py", None)
        except (odoo_addons.AddonError, RecursionError, MemoryError):
            pass
        assert states and not any(states)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
