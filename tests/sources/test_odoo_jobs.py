"""Odoo as a job runner, statically: job-runner modules in manifests, jobs in Python and XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssot.inventory import Asset, Kind
from ssot.sources._repo import walk
from ssot.sources.odoo_addons import find_addons, is_job_runner_module, scan_addons

from .conftest import TreeMaker


def _scan(make_tree: TreeMaker, files: dict[str, str | bytes]) -> list[Asset]:
    root: Path = make_tree(files)
    found, _ = walk(root)
    addons, problems = find_addons(found)
    assets, more = scan_addons(found, addons)
    assert problems + more == []
    return assets


def _jobs(assets: list[Asset]) -> list[tuple[str, ...]]:
    return sorted(tuple(str(v) for v in (a.location.path, a.props["via"], a.props["model"], a.props["method"]))
                  for a in assets if a.kind is Kind.ODOO_JOB)


MANIFEST = "{'name': 'Imp', 'depends': ['account', 'queue_job', 'mail', 'queue_job_cron', 42]}\n"


def test_job_runner_modules_from_manifests(make_tree: TreeMaker) -> None:
    assets = _scan(make_tree, {
        "addons/imp/__manifest__.py": MANIFEST,
        "addons/other/__manifest__.py": "{'name': 'O', 'depends': ['queue_job']}\n",
        "addons/plain/__manifest__.py": "{'name': 'P', 'depends': ['account', 'mail']}\n",
        "addons/queue_job_batch/__manifest__.py": "{'name': 'Batch', 'depends': ['queue_job']}\n",
    })
    mods = {a.name: a for a in assets if a.kind is Kind.ODOO_MODULE}
    assert set(mods) == {"queue_job", "queue_job_cron", "queue_job_batch"}
    assert sorted(mods["queue_job"].props["depended_by"]) == ["imp", "other", "queue_job_batch"]
    assert mods["queue_job"].props["state"] == "depended" and mods["queue_job"].props["job_runner"] is True
    assert mods["queue_job_cron"].location.path == "addons/imp/__manifest__.py"
    # an addon that *is* a job-runner module is shipped in the repository
    assert mods["queue_job_batch"].props["state"] == "shipped"
    assert mods["queue_job_batch"].location.path == "addons/queue_job_batch/__manifest__.py"


@pytest.mark.parametrize(("name", "runner"), [
    ("queue_job", True), ("queue_job_cron_jobrunner", True), ("queue_job_anything", True),
    ("base_import_async", True), ("connector", True),
    ("queue", False), ("mail", False), ("job_queue", False), ("account_queue_job_x", False),
])
def test_which_modules_are_job_runners(name: str, runner: bool) -> None:
    assert is_job_runner_module(name) is runner


PY = '''
class Statement(models.Model):
    _inherit = "account.bank.statement"

    def a(self):
        self.with_delay(priority=5)._import_lines(batch=1)

    def b(self):
        delayed = self.with_delay()
        delayed._other()

    def c(self):
        self.env["res.partner"].delayable()._geo_localize().delay()

    def d(self):
        return self.env["queue.job"].search([])

    def e(self):
        self.with_delay
'''

QUEUE_MODEL = '''
class QueueJob(models.Model):
    _inherit = "queue.job"
'''

CRON_XML = '''<odoo>
  <record id="cron_a" model="ir.cron">
    <field name="name">A</field>
    <field name="model_id" ref="account.model_account_move"/>
    <field name="code">model._cron_a()</field>
    <field name="run_as_queue_job" eval="True"/>
  </record>
  <record id="cron_b" model="ir.cron">
    <field name="name">B</field>
    <field name="model_id" ref="account.model_account_move"/>
    <field name="code">model._cron_b()</field>
    <field name="run_as_queue_job" eval="False"/>
  </record>
  <record id="fn" model="queue.job.function">
    <field name="model_id" ref="account.model_account_move"/>
    <field name="method">_post_async</field>
  </record>
</odoo>
'''

CRON_PY = '''
def hook(env):
    env["ir.cron"].create({"name": "C", "model_id": 1, "code": "model._cron_c()", "run_as_queue_job": True})
'''


def test_jobs_in_python_and_xml(make_tree: TreeMaker) -> None:
    assets = _scan(make_tree, {
        "addons/imp/__manifest__.py": MANIFEST,
        "addons/imp/models/statement.py": PY,
        "addons/imp/models/queue_job.py": QUEUE_MODEL,
        "addons/imp/data/cron.xml": CRON_XML,
        "addons/imp/hooks.py": CRON_PY,
        # test code is not collected: what a test enqueues never runs in production
        "addons/imp/tests/test_statement.py": PY,
        "addons/imp/tests/common.py": PY,
    })
    s, x = "addons/imp/models/statement.py", "addons/imp/data/cron.xml"
    assert _jobs(assets) == sorted(tuple(str(v) for v in row) for row in [
        (s, "with_delay", "account.bank.statement", "_import_lines"),
        (s, "with_delay", "account.bank.statement", None),
        (s, "delayable", "res.partner", "_geo_localize"),
        (s, "queue.job", "queue.job", None),
        ("addons/imp/models/queue_job.py", "queue.job", "queue.job", None),
        (x, "cron_to_job", "account.move", "_cron_a"),
        (x, "queue.job", "account.move", "_post_async"),
        ("addons/imp/hooks.py", "cron_to_job", None, "_cron_c"),
    ])
    crons = {a.name: a.props for a in assets if a.kind is Kind.ODOO_CRON}
    assert crons["imp.cron_a"]["run_as_queue_job"] is True and crons["imp.cron_b"]["run_as_queue_job"] is False
    job = next(a for a in assets if a.kind is Kind.ODOO_JOB and a.props["via"] == "cron_to_job"
               and a.location.path == x)
    assert job.props["cron"] == "imp.cron_a" and job.name == f"{x}:2"


def test_xml_model_refs_resolve_to_the_addons_models(make_tree: TreeMaker) -> None:
    assets = _scan(make_tree, {
        "addons/imp/__manifest__.py": MANIFEST,
        "addons/imp/models/imp.py": 'class I(models.Model):\n    _inherit = "base_import.import"\n',
        "addons/imp/data/jobs.xml": ('<odoo><record id="f" model="queue.job.function">'
                                     '<field name="model_id" ref="base_import.model_base_import_import"/>'
                                     '<field name="method">_split_file</field></record></odoo>'),
    })
    [job] = [a for a in assets if a.kind is Kind.ODOO_JOB]
    # the xml id alone would read as base.import.import
    assert (job.props["model"], job.props["method"]) == ("base_import.import", "_split_file")
    assert "model_ref" not in job.props


def test_a_jobs_model_comes_from_its_receiver_or_the_job_function_record(make_tree: TreeMaker) -> None:
    wizard = ('class W(models.TransientModel):\n    _name = "acme.invoice.wizard"\n'
              '    def go(self, orders, other):\n'
              '        orders.with_delay().create_invoices_job(True)\n'
              '        other.with_delay()._unknown_job()\n')
    xml = ('<odoo><record id="f" model="queue.job.function"><field name="model_id" ref="sale.model_sale_order"/>'
           '<field name="method">create_invoices_job</field></record></odoo>')
    assets = _scan(make_tree, {"addons/imp/__manifest__.py": MANIFEST, "addons/imp/wizards/w.py": wizard,
                               "addons/imp/data/jobs.xml": xml})
    got = {(a.props["model"], a.props["method"]) for a in assets
           if a.kind is Kind.ODOO_JOB and a.props["via"] == "with_delay"}
    # `orders` is not `self`: not the wizard's model; the job function record names sale.order
    assert got == {("sale.order", "create_invoices_job"), (None, "_unknown_job")}
