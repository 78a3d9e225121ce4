"""§5: all scheduled jobs run from Supabase (pg_cron) or n8n.

Schedules found elsewhere (a GitHub Actions `schedule:` trigger, a crontab) are advisory: CI
schedules are often housekeeping of the repository itself. They stay quiet when the source marked
them `justified` or a valid justification names them. Schedules whose store is Odoo are left to
`odoo_cron`, which owns everything Odoo schedules, so each is reported once.
"""

from __future__ import annotations

from collections.abc import Iterator

from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Kind, Phase, Store
from ssot.rules import Rule
from ssot.rules._common import (
    PLATFORM_CONFIG,
    STORE_LABEL,
    check_justification,
    cron_expression,
    http_post_command,
    indent,
    job_name_for,
    justification_index,
    justification_yaml,
    pg_cron_job_proposal,
    pg_cron_target,
    safe_token,
)

_ALLOWED_STORES = frozenset({Store.POSTGRES, Store.N8N, Store.ODOO})
_ALLOWED_SCHEDULERS = frozenset({"pg_cron", "n8n"})
_ADVISORY_STORES = frozenset({Store.GITHUB_ACTIONS, Store.CRONTAB})


def subject_of(asset: Asset) -> str:
    return f"schedule:{asset.name}"


def check(inv: Inventory) -> Iterator[Finding]:
    target = pg_cron_target(inv)
    justified = justification_index(inv)
    for a in inv.of(Kind.SCHEDULE):
        scheduler = str(a.props.get("scheduler") or "").strip().lower()
        if a.store in _ALLOWED_STORES or scheduler in _ALLOWED_SCHEDULERS:
            continue
        if a.props.get("justified") is True:
            continue
        subject = subject_of(a)
        just = check_justification(inv, RULE.id, subject, index=justified)
        if just.silenced:
            continue
        schedule = cron_expression(a.props.get("schedule"))
        where = STORE_LABEL.get(a.store, a.store.value)
        by = safe_token(a.props.get("scheduler"))
        job = job_name_for(a.name.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        command = http_post_command(target.url(job), target.token, {"job": job})
        yield RULE.for_asset(
            a, subject=subject,
            severity=Severity.LOW if a.store in _ADVISORY_STORES else Severity.MEDIUM,
            explain=(f"'{a.name}' is scheduled in {where}" + (f" by {by}" if by and by != a.store.value else "")
                     + (f" ({schedule})" if schedule else "") + f" at {a.location.describe()}; scheduled "
                     "jobs run from Supabase (pg_cron) or n8n." + just.note()),
            propose=(
                "Run it from pg_cron, calling an Edge Function (or an n8n webhook) that does the work; "
                "pg_cron, like CI cron, runs in UTC.\n"
                + pg_cron_job_proposal(job, schedule or "<cron expression>", command) + "\n"
                + target.token_text
                + f"\nThen remove the schedule from {where}. If it must stay there (e.g. repository "
                  f"housekeeping), justify it ({PLATFORM_CONFIG}):\n"
                + indent(justification_yaml(RULE.id, subject))
            ),
            metadata={"store": a.store.value, "cron_schedule": schedule, **just.metadata()},
        )


RULE = Rule(
    id="scheduler_placement",
    title="Scheduled job outside pg_cron and n8n",
    clause="§5 Orchestration & Automation: All scheduled jobs run from Supabase or n8n, not Odoo",
    severity=Severity.LOW,
    categories=("orchestration",),
    phases=frozenset({Phase.DECLARED, Phase.STATIC, Phase.LIVE}),
    risk=("Jobs scheduled in CI or on a host's crontab are invisible to the orchestration plane: nobody "
          "sees them fail, and they carry their own copies of credentials."),
    remediation=("Move the job to pg_cron (or n8n) calling an Edge Function or webhook, or justify the "
                 "schedule with an owner and an expiry."),
    check=check,
)
