from __future__ import annotations

from pathlib import Path

import pytest

from ssot.findings import Severity
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.model import Platform
from ssot.rules.odoo_job_runner import RULE

from ._cases import Case, Expect, justification, rows, run_case

MANIFEST = Location(path="addons/acme_import/__manifest__.py", line=1)
PY = Location(path="addons/acme_import/models/importer.py", line=65)
PY2 = Location(path="addons/acme_import/models/importer.py", line=90)
CRON_XML = Location(path="addons/acme_import/data/ir_cron.xml", line=4)
LIVE_MODULE = Location(object="ir.module.module,117")
LIVE_JOB = Location(object="queue.job:acme.import._split_file")
PROJECT_REF = "abcdefghijklmnopqrst"
DECLARED = Location(urn="urn:pulumi:prod::erp::pulumi-python:dynamic/odoo:Record::install-queue-job")


def module(phase: Phase, name: str = "queue_job", *, state: str = "depended", job_runner: bool = True,
           loc: Location = MANIFEST) -> Asset:
    static = state in ("depended", "shipped")
    return Asset(Kind.ODOO_MODULE, Store.ODOO, name, phase, loc,
                 props={"state": state, "job_runner": job_runner,
                        "depended_by": ["acme_import"] if state == "depended" else [],
                        "defined_in": "manifest" if static else "live"})


def job(phase: Phase, via: str = "with_delay", *, model: str | None = "acme.import",
        method: str | None = "_split_file", loc: Location = PY, **extra: object) -> Asset:
    name = f"{model}.{method}" if phase is Phase.LIVE else f"{loc.path}:{loc.line}"
    return Asset(Kind.ODOO_JOB, Store.ODOO, name, phase, loc,
                 props={"via": via, "model": model, "method": method, "addon": "acme_import",
                        "defined_in": "live" if phase is Phase.LIVE else "python", **extra})


def project(phase: Phase) -> Asset:
    return Asset(Kind.SUPABASE_PROJECT, Store.SUPABASE, "acme-prod", phase,
                 props={"ref": PROJECT_REF, "region": "eu-central-1", "organization": "acme"})


def pg_cron(phase: Phase) -> Asset:
    return Asset(Kind.CRON_JOB, Store.POSTGRES, "odoo-job-split_file", phase, Location(object="cron.job:1"),
                 props={"schedule": "* * * * *", "command": "select net.http_post(...)", "database": "postgres",
                        "username": "postgres", "active": True, "scheduler": "pg_cron"})


def job_declared(platform: Platform) -> None:
    assert [(j.name, j.schedule) for j in platform.cron_jobs] == [("odoo-job-split_file", "* * * * *")]
    assert [(v.name, v.category) for v in platform.vault_secrets] == [("scheduler_token", "scheduler")]


MODULE_SUBJECT = "odoo-module:queue_job"
JOB_SUBJECT = "odoo-job:acme.import._split_file"

CASES = [
    Case("nothing there", lambda p: []),
    Case("near miss", lambda p: [
        # a module that is no job runner, a job runner that is not installed, and Supabase's own queue
        module(p, "mail", job_runner=False),
        module(p, "queue_job_cron", state="uninstalled", loc=LIVE_MODULE),
        module(p, "queue_job_batch", state="uninstallable", loc=LIVE_MODULE),
        pg_cron(p),
        Asset(Kind.SCHEDULE, Store.N8N, "odoo-import", p, props={"schedule": "*/5 * * * *"}),
        Asset(Kind.ODOO_PARAMETER, Store.ODOO, "queue_job.channels", p, props={"looks_secret": False}),
    ]),
    Case("violation: depends on queue_job", lambda p: [project(p), module(p)], expect=[
        Expect(MODULE_SUBJECT, Severity.CRITICAL, MANIFEST,
               explain_has=["Odoo module 'queue_job' makes Odoo a job runner (depended on by acme_import)"],
               propose_has=["Remove 'queue_job' from the `depends` of acme_import", "server_wide_modules",
                            "button_immediate_uninstall()", "pg_cron"]),
    ]),
    Case("violation: installed (live) or shipped in the repository", lambda p: [
        module(p, state="installed", loc=LIVE_MODULE),
        module(p, "queue_job_cron", state="shipped", loc=CRON_XML),
        module(p, "connector", state="to upgrade", loc=LIVE_MODULE),
    ], expect=[
        Expect(MODULE_SUBJECT, Severity.CRITICAL, LIVE_MODULE, explain_has=["(state: installed)"],
               propose_has=["Remove 'queue_job' from `server_wide_modules`"]),
        Expect("odoo-module:queue_job_cron", Severity.CRITICAL, CRON_XML,
               explain_has=["shipped in this repository"],
               propose_has=["Remove the 'queue_job_cron' addon from the repository"]),
        Expect("odoo-module:connector", Severity.CRITICAL, LIVE_MODULE, explain_has=["(state: to upgrade)"]),
    ]),
    Case("violation: with_delay", lambda p: [project(p), job(p)], expect=[
        Expect(JOB_SUBJECT, Severity.HIGH, PY,
               explain_has=["enqueues work with with_delay(): acme.import._split_file",
                            "Odoo is used as a job runner"],
               propose_has=[f"https://{PROJECT_REF}.supabase.co/functions/v1/split_file",
                            "pgmq.send('odoo_jobs'", "Remove the `.with_delay()` call",
                            "pulumi config set --secret schedulerToken"],
               platform_after=["Declare the pg_cron job", "Declare it in Supabase Vault"],
               applied=job_declared, metadata_has={"via": "with_delay", "method": "_split_file"}),
    ]),
    Case("violation: one finding per job, whatever the line", lambda p: [
        job(p), job(p, loc=PY2),
        job(p, "delayable", model="acme.import", method="_import_chunk", loc=PY2),
        # queue.job machinery without a method: one finding per addon
        job(p, "queue.job", model="queue.job", method=None, loc=PY),
        job(p, "queue.job", model="queue.job.channel", method=None, loc=PY2),
        # a receiver of unknown model: the addon and the method
        job(p, model=None, method="create_invoices_job", loc=PY2),
    ], expect=[
        Expect("odoo-job:acme_import:create_invoices_job", Severity.HIGH, PY2,
               explain_has=["the model.create_invoices_job"]),
        Expect(JOB_SUBJECT, Severity.HIGH, PY),
        Expect("odoo-job:acme.import._import_chunk", Severity.HIGH, PY2,
               explain_has=["delayable()"], propose_has=["Remove the `.delayable()` call", "<project-ref>"]),
        Expect("odoo-job:acme_import:queue.job", Severity.HIGH, PY,
               explain_has=["uses the queue.job machinery"], propose_has=["`the model.<method>`"]),
    ]),
    Case("violation: cron run as a queue job", lambda p: [
        job(p, "cron_to_job", model="account.move", method="_cron_post", loc=CRON_XML,
            cron="acme_import.ir_cron_post")], expect=[
        Expect("odoo-job:cron:acme_import.ir_cron_post", Severity.HIGH, CRON_XML,
               explain_has=["runs a scheduled action as a queue job", "(scheduled action acme_import.ir_cron_post)"],
               propose_has=["Remove the scheduled action 'acme_import.ir_cron_post'", "odoo_cron finding",
                            "name: odoo-job-cron_post"]),
    ]),
    Case("violation: jobs counted live", lambda p: [job(p, loc=LIVE_JOB, count=1287)], expect=[
        Expect(JOB_SUBJECT, Severity.HIGH, LIVE_JOB, explain_has=["(1287 jobs seen)"]),
    ]),
    # a Pulumi resource (any provider's) that installs queue_job or writes queue.job records
    Case("violation: installed or enqueued by a declared resource", lambda p: [
        module(p, state="declared", loc=DECLARED), job(p, "queue.job", loc=DECLARED)], expect=[
        Expect(MODULE_SUBJECT, Severity.CRITICAL, DECLARED,
               explain_has=["installed by a resource the program declares"],
               propose_has=["Remove the resource that installs 'queue_job' from the Pulumi program",
                            "button_immediate_uninstall()"]),
        Expect(JOB_SUBJECT, Severity.HIGH, DECLARED, explain_has=["uses the queue.job machinery"]),
    ]),
    Case("fixed", lambda p: [project(p), pg_cron(p), module(p, state="uninstalled", loc=LIVE_MODULE)]),
    # "Odoo is NEVER used as a ... job runner": no justification silences it.
    Case("justification does not apply", lambda p: [module(p)],
         justifications=[justification("odoo_job_runner", MODULE_SUBJECT)],
         expect=[Expect(MODULE_SUBJECT, Severity.CRITICAL, MANIFEST)]),
]


@pytest.mark.parametrize(("case", "phase"), rows(RULE, CASES))
def test_odoo_job_runner(case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_case(RULE, case, phase, monkeypatch, tmp_path)
