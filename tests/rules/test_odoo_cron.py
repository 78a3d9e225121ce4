from __future__ import annotations

from pathlib import Path

import pytest

from ssot.findings import Severity
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.model import Platform
from ssot.rules.odoo_cron import RULE

from ._cases import Case, Expect, justification, rows, run_case

XML = Location(path="addons/acme_sync/data/ir_cron.xml", line=21)
LIVE = Location(object="ir.cron,42")
SCHED = Location(path="addons/acme_sync/data/queue.xml", line=5)
JOB = Location(object="cron.job:odoo-sync-invoices")
PROJECT_REF = "abcdefghijklmnopqrst"


def odoo_cron(phase: Phase, name: str = "acme_sync.ir_cron_sync_invoices", *, active: bool = True,
              interval: object = None, loc: Location = XML) -> Asset:
    return Asset(Kind.ODOO_CRON, Store.ODOO, name, phase, loc,
                 props={"model": "account.move", "code": "model._cron_sync_invoices(batch=50)",
                        "interval": interval if interval is not None else {"number": 2, "type": "hours"},
                        "active": active, "defined_in": "xml"})


def project(phase: Phase) -> Asset:
    return Asset(Kind.SUPABASE_PROJECT, Store.SUPABASE, "acme-prod", phase,
                 props={"ref": PROJECT_REF, "region": "eu-central-1", "organization": "acme"})


def pg_cron(phase: Phase) -> Asset:
    return Asset(Kind.CRON_JOB, Store.POSTGRES, "odoo-sync-invoices", phase, JOB,
                 props={"schedule": "0 */2 * * *", "command": "select net.http_post(...)",
                        "database": "postgres", "username": "postgres", "active": True,
                        "scheduler": "pg_cron"})


SUBJECT = "odoo-cron:acme_sync.ir_cron_sync_invoices"


def job_declared(platform: Platform) -> None:
    assert [(j.name, j.schedule) for j in platform.cron_jobs] == [
        ("odoo-acme_sync-ir_cron_sync_invoices", "0 */2 * * *")]
    assert [(v.name, v.category) for v in platform.vault_secrets] == [("scheduler_token", "scheduler")]
JOB_YAML = {"cron": {"jobs": [{
    "name": "odoo-acme_sync-ir_cron_sync_invoices",
    "schedule": "0 */2 * * *",
    "command": (
        "select net.http_post(\n"
        f"  url := 'https://{PROJECT_REF}.supabase.co/functions/v1/sync_invoices',\n"
        "  headers := jsonb_build_object(\n"
        "    'Content-Type', 'application/json',\n"
        "    'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where "
        "name = 'scheduler_token')),\n"
        "  body := jsonb_build_object('job', 'odoo-acme_sync-ir_cron_sync_invoices', 'model', "
        "'account.move', 'method', '_cron_sync_invoices')\n"
        ");"),
}]}}

CASES = [
    Case("nothing there", lambda p: []),
    Case("near miss", lambda p: [
        pg_cron(p),
        Asset(Kind.SCHEDULE, Store.GITHUB_ACTIONS, ".github/workflows/nightly.yml", p,
              props={"schedule": "0 3 * * *", "scheduler": "github-actions"}),
        Asset(Kind.ODOO_PARAMETER, Store.ODOO, "cron.interval", p, props={"looks_secret": False}),
        Asset(Kind.SCHEDULE, Store.N8N, "odoo-invoice-sync", p, props={"schedule": "*/5 * * * *"}),
    ]),
    Case("violation", lambda p: [project(p), odoo_cron(p)], expect=[
        Expect(SUBJECT, Severity.CRITICAL, XML,
               explain_has=["on model account.move", "calling _cron_sync_invoices()", "every 2 hours",
                            "addons/acme_sync/data/ir_cron.xml:21"],
               propose_has=["pulumi config set --secret schedulerToken", "delete the ir.cron record"],
               yaml_after=[("Declare the pg_cron job", JOB_YAML)],
               platform_after=["Declare the pg_cron job", "Declare it in Supabase Vault"],
               applied=job_declared),
    ]),
    Case("violation: scheduler token already in vault", lambda p: [
        odoo_cron(p),
        Asset(Kind.VAULT_SECRET, Store.VAULT, "n8n_scheduler_token", p, props={"category": "scheduler"})],
        expect=[Expect(SUBJECT, Severity.CRITICAL, XML,
                       propose_has=["where name = 'n8n_scheduler_token'",
                                    "the existing Vault secret 'n8n_scheduler_token'"],
                       platform_after=["Declare the pg_cron job"])]),
    Case("violation: intervals translated", lambda p: [
        odoo_cron(p, "a.daily", interval={"interval_number": 1, "interval_type": "days"}, loc=LIVE),
        odoo_cron(p, "a.quarter_hour", interval="15 minutes", loc=LIVE),
        odoo_cron(p, "a.weekly", interval=(1, "weeks"), loc=LIVE),
        odoo_cron(p, "a.odd", interval={"number": 7, "type": "minutes"}, loc=LIVE),
    ], expect=[
        Expect("odoo-cron:a.daily", Severity.CRITICAL, LIVE, propose_has=["schedule: 0 0 * * *"]),
        Expect("odoo-cron:a.quarter_hour", Severity.CRITICAL, LIVE, propose_has=["schedule: '*/15 * * * *'"]),
        Expect("odoo-cron:a.weekly", Severity.CRITICAL, LIVE, propose_has=["schedule: 0 0 * * 1"]),
        # 7 minutes has no exact cron equivalent: the proposal says so instead of guessing.
        Expect("odoo-cron:a.odd", Severity.CRITICAL, LIVE,
               propose_has=["schedule: <cron expression>", "no exact cron equivalent"]),
    ]),
    Case("violation: inactive cron still shipped", lambda p: [odoo_cron(p, active=False)], expect=[
        Expect(SUBJECT, Severity.HIGH, XML, explain_has=["inactive"]),
    ]),
    Case("violation: schedule in odoo, one finding per subject", lambda p: [
        odoo_cron(p),
        Asset(Kind.SCHEDULE, Store.ODOO, "acme_sync.ir_cron_sync_invoices", p, SCHED,
              props={"schedule": "0 */2 * * *", "scheduler": "odoo"}),
        Asset(Kind.SCHEDULE, Store.ODOO, "acme_queue.job_runner", p, SCHED,
              props={"schedule": "*/5 * * * *", "scheduler": "queue_job", "command": "x"}),
    ], expect=[
        Expect(SUBJECT, Severity.CRITICAL, XML),
        Expect("odoo-cron:acme_queue.job_runner", Severity.CRITICAL, SCHED,
               explain_has=["(*/5 * * * *)"], propose_has=["'*/5 * * * *'", "<project-ref>.supabase.co"]),
    ]),
    Case("fixed", lambda p: [project(p), pg_cron(p)]),
    # What the live Odoo source reads: an inactive cron of the platform's addon is still reported; Odoo's
    # own housekeeping (shipped by an Odoo S.A. module) stays quiet.
    Case("live: own crons reported, odoo's housekeeping quiet", lambda p: [
        Asset(Kind.ODOO_CRON, Store.ODOO, "acme_sync.ir_cron_legacy_export", p, LIVE,
              props={"model": "acme.sync.job", "code": "model._cron_export()", "active": False,
                     "interval": {"number": 1, "type": "days"}, "defined_in": "live", "odoo_standard": False}),
        Asset(Kind.ODOO_CRON, Store.ODOO, "base.autovacuum_job", p, LIVE,
              props={"model": "ir.autovacuum", "code": "model._run_vacuum_cleaner()", "active": True,
                     "interval": {"number": 1, "type": "days"}, "defined_in": "live", "odoo_standard": True}),
    ], expect=[
        Expect("odoo-cron:acme_sync.ir_cron_legacy_export", Severity.HIGH, LIVE,
               explain_has=["(defined in: live)", "inactive", "ir.cron,42"], propose_has=["schedule: 0 0 * * *"]),
    ]),
    # "Odoo is NEVER used as a scheduler": no justification silences it.
    Case("justification does not apply", lambda p: [odoo_cron(p)],
         justifications=[justification("odoo_cron", SUBJECT)],
         expect=[Expect(SUBJECT, Severity.CRITICAL, XML)]),
]


@pytest.mark.parametrize(("case", "phase"), rows(RULE, CASES))
def test_odoo_cron(case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_case(RULE, case, phase, monkeypatch, tmp_path)
