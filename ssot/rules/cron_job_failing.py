"""§5: Supabase is the orchestration plane; a pg_cron job that fails is platform state to make visible.

The live Postgres source counts each job's failed runs in `cron.job_run_details` and when the last
one ended (never the messages: a failed command's message can quote its arguments). A job whose
last failure is recent (within `RECENT_DAYS` of today, or of unknown date) is reported: low while
the job is active, info once it is inactive (it no longer runs; the failures are history).

Failures older than that stay quiet: pg_cron keeps its run history until someone purges it, so a
job fixed last month would otherwise be reported for ever.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Kind, Phase
from ssot.rules import Rule
from ssot.rules._common import label, sql_literal, today

RECENT_DAYS = 7


def _last_failure(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value).date()
        except ValueError:
            return None
    return None


def _failing(a: Asset) -> Iterator[Finding]:
    failed = a.props.get("failed_runs")
    if not isinstance(failed, int) or isinstance(failed, bool) or failed <= 0:
        return
    last = _last_failure(a.props.get("last_failure"))
    if last is not None and last < today() - dt.timedelta(days=RECENT_DAYS):
        return
    active = a.props.get("active") is not False
    jobid = a.props.get("jobid")
    where = (f"jobid = {jobid}" if isinstance(jobid, int) and not isinstance(jobid, bool)
             else f"jobid = (select jobid from cron.job where jobname = {sql_literal(a.name)})")
    when = f", the last on {last.isoformat()}" if last else ""
    yield RULE.for_asset(
        a, subject=label(a), severity=Severity.LOW if active else Severity.INFO,
        explain=(f"pg_cron job '{a.name}' at {a.location.describe()} has {failed} failed run"
                 f"{'s' if failed != 1 else ''} in cron.job_run_details{when}"
                 + ("" if active else " (the job is inactive now)")
                 + ": orchestration state Supabase holds says this work is not being done."),
        propose=("Read why it fails, as the job's owner (the messages are not copied into this report: they "
                 "can quote the command's arguments):\n"
                 f"    select runid, status, return_message, start_time from cron.job_run_details where {where} "
                 "and status = 'failed' order by start_time desc limit 10;\n"
                 "fix the command or what it calls, then check the next run succeeds:\n"
                 f"    select status, start_time from cron.job_run_details where {where} "
                 "order by start_time desc limit 1;\n"
                 "or, if the job is obsolete, remove it from the stack and unschedule it:\n"
                 f"    select cron.unschedule({sql_literal(a.name)});"),
        metadata={"failed_runs": failed, "last_failure": last.isoformat() if last else None, "active": active},
    )


def check(inv: Inventory) -> Iterator[Finding]:
    for a in inv.of(Kind.CRON_JOB):
        yield from _failing(a)


RULE = Rule(
    id="cron_job_failing",
    title="pg_cron job failing",
    clause="§5 Orchestration & Automation: Supabase is the orchestration plane (pg_cron, Edge Functions, webhooks)",
    severity=Severity.LOW,
    categories=("orchestration",),
    phases=frozenset({Phase.LIVE}),
    risk=("A scheduled job that keeps failing silently leaves syncs, pushes and cleanups undone while the "
          "platform looks healthy."),
    remediation=("Read the failed runs in cron.job_run_details, fix the command or what it calls, or "
                 "unschedule the job if it is obsolete."),
    check=check,
)
