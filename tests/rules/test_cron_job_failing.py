from __future__ import annotations

from pathlib import Path

import pytest

from ssot.findings import Severity
from ssot.inventory import Asset, Inventory, Kind, Location, Phase, Store
from ssot.rules.cron_job_failing import RULE

from ._cases import TODAY, Case, Expect, rows, run_case

RECENT = f"{TODAY.isoformat()}T02:00:05+00:00"
LAST_MONTH = "2025-05-01T02:00:05+00:00"


def job(phase: Phase, name: str, failed: int, last: str | None, active: bool = True,
        jobid: int | None = 12) -> Asset:
    props: dict[str, object] = {"schedule": "0 2 * * *", "command": "select push_kpis('sk_live_x')",
                                "active": active, "database": "postgres", "username": "postgres",
                                "scheduler": "pg_cron", "failed_runs": failed, "last_failure": last}
    if jobid is not None:
        props["jobid"] = jobid
    return Asset(Kind.CRON_JOB, Store.POSTGRES, name, phase, Location(object=f"cron.job {jobid}"), props)


def loc(jobid: int | None) -> Location:
    return Location(object=f"cron.job {jobid}")


CASES = [
    Case("nothing there", lambda p: []),
    Case("near miss", lambda p: [
        job(p, "nightly-sync", 0, None),
        # fixed last month: pg_cron keeps the history until it is purged
        job(p, "old-failure", 4, LAST_MONTH, jobid=13),
    ]),
    Case("violation", lambda p: [
        job(p, "push-kpis", 1, RECENT),
        job(p, "retired", 3, RECENT, active=False, jobid=14),
        job(p, "it's-unknown", 2, None, jobid=None),
    ], expect=[
        Expect("cron:push-kpis", Severity.LOW, loc(12),
               explain_has=["1 failed run in cron.job_run_details, the last on 2025-06-01"],
               propose_has=["where jobid = 12 and status = 'failed' order by start_time desc limit 10;",
                            "select cron.unschedule('push-kpis');"],
               metadata_has={"failed_runs": 1, "last_failure": "2025-06-01", "active": True}),
        Expect("cron:retired", Severity.INFO, loc(14), explain_has=["3 failed runs", "inactive"]),
        # no jobid, a quote in the name, no date: still reported, the name quoted as a SQL literal
        Expect("cron:it's-unknown", Severity.LOW, loc(None),
               propose_has=["jobid = (select jobid from cron.job where jobname = 'it''s-unknown')",
                            "select cron.unschedule('it''s-unknown');"],
               metadata_has={"last_failure": None}),
    ]),
    Case("fixed", lambda p: [
        job(p, "push-kpis", 0, None),
        job(p, "retired", 3, LAST_MONTH, active=False, jobid=14),
    ]),
]


@pytest.mark.parametrize(("case", "phase"), rows(RULE, CASES))
def test_cron_job_failing(case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_case(RULE, case, phase, monkeypatch, tmp_path)
    # The command (free text, here with a key-looking argument) is never rendered.
    for a in case.assets(phase):
        for f in RULE.run(Inventory([a])):
            assert "sk_live_x" not in f.explain + f.propose
