from __future__ import annotations

from pathlib import Path

import pytest

from ssot.findings import Severity
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.rules.scheduler_placement import RULE

from ._cases import YESTERDAY, Case, Expect, justification, rows, run_case

NIGHTLY = Location(path=".github/workflows/nightly.yml", line=4)
CRONTAB = Location(path="deploy/crontab", line=2)
TIMER = Location(path="deploy/systemd/report.timer", line=3)


def gh(p: Phase, justified: bool = False) -> Asset:
    # named as the workflow source names it: path and cron expression
    return Asset(Kind.SCHEDULE, Store.GITHUB_ACTIONS, ".github/workflows/nightly.yml:0 3 * * *", p, NIGHTLY,
                 props={"schedule": "0 3 * * *", "scheduler": "github-actions", "command": None,
                        "justified": justified})


def crontab(p: Phase) -> Asset:
    return Asset(Kind.SCHEDULE, Store.CRONTAB, "deploy/crontab:sync_invoices", p, CRONTAB,
                 props={"schedule": "*/10 * * * *", "scheduler": "cron",
                        "command": "curl -H 'Authorization: Bearer x' https://example.invalid",
                        "justified": False})


GH_SUBJECT = "schedule:.github/workflows/nightly.yml:0 3 * * *"

CASES = [
    Case("nothing there", lambda p: []),
    Case("near miss", lambda p: [
        gh(p, justified=True),
        Asset(Kind.SCHEDULE, Store.N8N, "invoice-digest", p, props={"schedule": "0 8 * * 1"}),
        Asset(Kind.SCHEDULE, Store.POSTGRES, "refresh-kpis", p, props={"schedule": "0 * * * *",
                                                                       "scheduler": "pg_cron"}),
        Asset(Kind.SCHEDULE, Store.REPOSITORY, "n8n/workflows/digest.json", p,
              props={"schedule": "0 8 * * 1", "scheduler": "n8n"}),
        # Odoo schedules are odoo_cron's (reported once, there)
        Asset(Kind.SCHEDULE, Store.ODOO, "acme.ir_cron_sync", p, props={"schedule": "0 * * * *"}),
    ]),
    Case("violation", lambda p: [
        gh(p), crontab(p),
        Asset(Kind.SCHEDULE, Store.REPOSITORY, "deploy/systemd/report.timer", p, TIMER,
              props={"schedule": "OnCalendar=daily", "scheduler": "systemd"}),
    ], expect=[
        Expect(GH_SUBJECT, Severity.LOW, NIGHTLY,
               explain_has=["GitHub Actions (0 3 * * *)", ".github/workflows/nightly.yml:4"],
               platform_after=["Declare the pg_cron job", "Declare it in Supabase Vault", "justify it"],
               yaml_after=[("Declare the pg_cron job", {"cron": {"jobs": [{
                   "name": "nightly", "schedule": "0 3 * * *",
                   "command": (
                       "select net.http_post(\n"
                       "  url := 'https://<project-ref>.supabase.co/functions/v1/nightly',\n"
                       "  headers := jsonb_build_object(\n"
                       "    'Content-Type', 'application/json',\n"
                       "    'Authorization', 'Bearer ' || (select decrypted_secret from "
                       "vault.decrypted_secrets where name = 'scheduler_token')),\n"
                       "  body := jsonb_build_object('job', 'nightly')\n"
                       ");")}]}})],
               propose_has=["pulumi config set --secret schedulerToken",
                            "subject: schedule:.github/workflows/nightly.yml:0 3 * * *"]),
        Expect("schedule:deploy/crontab:sync_invoices", Severity.LOW, CRONTAB,
               explain_has=["a crontab by cron (*/10 * * * *)"], propose_has=["schedule: '*/10 * * * *'"]),
        # not a cron expression: not rendered, the proposal asks for one
        Expect("schedule:deploy/systemd/report.timer", Severity.MEDIUM, TIMER,
               propose_has=["schedule: <cron expression>"]),
    ]),
    Case("fixed", lambda p: [
        Asset(Kind.CRON_JOB, Store.POSTGRES, "nightly", p,
              props={"schedule": "0 3 * * *", "command": "select 1", "scheduler": "pg_cron"})]),
    Case("justified", lambda p: [gh(p)], justifications=[justification("scheduler_placement", GH_SUBJECT)]),
    Case("justification expired", lambda p: [gh(p)],
         justifications=[justification("scheduler_placement", GH_SUBJECT, expires=YESTERDAY, owner="ci")],
         expect=[Expect(GH_SUBJECT, Severity.LOW, NIGHTLY, explain_has=["expired on 2025-05-31 (ci)"])]),
]


@pytest.mark.parametrize(("case", "phase"), rows(RULE, CASES))
def test_scheduler_placement(case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_case(RULE, case, phase, monkeypatch, tmp_path)
