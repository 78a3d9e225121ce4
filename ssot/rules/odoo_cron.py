"""§5: Odoo is never a scheduler. Every Odoo scheduled action (ir.cron), however it was found, and
every other schedule whose store is Odoo, is reported with the pg_cron job that replaces it.

This rule owns everything scheduled in Odoo; `scheduler_placement` covers schedules elsewhere (CI,
crontab) and leaves store ODOO to this rule, so one Odoo schedule is reported once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Kind, Phase, Store
from ssot.rules import Rule
from ssot.rules._common import (
    PgCronTarget,
    cron_expression,
    http_post_command,
    job_name_for,
    odoo_interval_text,
    odoo_interval_to_cron,
    odoo_method,
    pg_cron_job_proposal,
    pg_cron_target,
    safe_token,
)


def subject_of(asset: Asset) -> str:
    return f"odoo-cron:{asset.name}"


def _proposal(target: PgCronTarget, asset: Asset, schedule: str | None, model: str | None,
              method: str | None) -> str:
    job = job_name_for("odoo", asset.name)
    function = job_name_for(re.sub(r"^(ir_)?cron_", "", asset.name.rsplit(".", 1)[-1]))
    body = {"job": job}
    if model:
        body["model"] = model
    if method:
        body["method"] = method
    command = http_post_command(target.url(function), target.token, body)
    when = schedule or "<cron expression>"
    unknown = "" if schedule else (" The Odoo interval has no exact cron equivalent here: choose the "
                                   "expression (pg_cron runs in UTC by default).")
    work = (f"Move the work of `{model or 'the model'}.{method or '<method>'}` into the Edge Function "
            f"'{function}' (or an n8n workflow; then post to its webhook URL instead), calling Odoo's "
            "external API only for what Odoo owns.")
    return (
        "Replace the Odoo scheduled action by a pg_cron job.\n"
        + pg_cron_job_proposal(job, when, command) + "\n"
        + f"{work}{unknown}\n"
        + target.token_text
        + "\nThen deactivate and delete the ir.cron record in Odoo (remove it from the addon's data files)."
    )


def check(inv: Inventory) -> Iterator[Finding]:
    seen: set[str] = set()
    target = pg_cron_target(inv)
    for a in inv.of(Kind.ODOO_CRON):
        if a.props.get("odoo_standard") is True:
            continue  # Odoo's own housekeeping (a live source saw it shipped by an Odoo S.A. module)
        subject = subject_of(a)
        if subject in seen:
            continue
        seen.add(subject)
        model = safe_token(a.props.get("model"), r"[a-z][a-z0-9_.]{0,80}")
        method = odoo_method(a.props.get("code"))
        schedule = odoo_interval_to_cron(a.props.get("interval"))
        every = odoo_interval_text(a.props.get("interval"))
        active = a.props.get("active")
        inactive = active is False
        where = safe_token(a.props.get("defined_in")) or "unknown"
        explain = (f"Odoo scheduled action '{a.name}'"
                   + (f" on model {model}" if model else "") + (f" calling {method}()" if method else "")
                   + (f", {every}" if every else "")
                   + (f" (cron: {schedule})" if schedule else "")
                   + f" (defined in: {where}) at {a.location.describe()}: Odoo is used as a scheduler."
                   + (" It is inactive, but still shipped and can be re-enabled." if inactive else ""))
        yield RULE.for_asset(
            a, subject=subject, severity=Severity.HIGH if inactive else None, explain=explain,
            propose=_proposal(target, a, schedule, model, method),
            metadata={"defined_in": where, "active": not inactive, "cron_schedule": schedule},
        )
    for a in inv.of(Kind.SCHEDULE):
        if a.store is not Store.ODOO:
            continue
        subject = subject_of(a)
        if subject in seen:
            continue
        seen.add(subject)
        schedule = cron_expression(a.props.get("schedule"))
        yield RULE.for_asset(
            a, subject=subject,
            explain=(f"Work '{a.name}' is scheduled in Odoo"
                     + (f" ({schedule})" if schedule else "")
                     + f" at {a.location.describe()}: Odoo is used as a scheduler."),
            propose=_proposal(target, a, schedule, None, None),
            metadata={"cron_schedule": schedule},
        )


RULE = Rule(
    id="odoo_cron",
    title="Odoo used as a scheduler",
    clause="§5 Orchestration & Automation: Odoo is NEVER used as a scheduler, job runner, or secret vault",
    severity=Severity.CRITICAL,
    categories=("orchestration",),
    phases=frozenset({Phase.DECLARED, Phase.STATIC, Phase.LIVE}),
    risk=("Jobs run by Odoo are invisible to the orchestration plane: they escape the platform's "
          "scheduling, credentials and audit trail, and tie automation to the ERP's availability."),
    remediation=("Replace the ir.cron by a pg_cron job that calls an Edge Function or n8n webhook, with "
                 "its credential read from Vault, then delete the ir.cron record."),
    check=check,
)
