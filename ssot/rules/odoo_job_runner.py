"""§5: Odoo is never a job runner. An Odoo module that runs deferred work (OCA's queue_job and the
modules built on it) installed or depended on, and every piece of work handed to it (`with_delay()`,
`delayable()`, `queue.job` records, crons run as queue jobs), is reported with the pg_cron job and
Edge Function (or n8n workflow) that take the work over.

Schedules are `odoo_cron`'s: a cron run as a queue job is reported there as a cron and here as the
job it enqueues, since removing one does not remove the other.
"""

from __future__ import annotations

from collections.abc import Iterator

from ssot.detectors import scan_text
from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Kind, Phase
from ssot.rules import Rule
from ssot.rules._common import (
    PgCronTarget,
    http_post_command,
    job_name_for,
    pg_cron_job_proposal,
    pg_cron_target,
    safe_token,
    str_list,
)

# Module states in which the module's code runs, or will after the next update. "depended" and
# "shipped" are static: a manifest depends on it, or the repository ships it; "declared": a Pulumi
# resource installs it on the next apply.
_ACTIVE_STATES = frozenset({"installed", "to install", "to upgrade", "depended", "shipped", "declared"})
_MODEL = r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*"
# Odoo method names are snake_case; anything else (or anything a detector recognises) is not rendered.
_METHOD = r"[a-z_][a-z0-9_]{0,80}"
_VIA_TEXT = {
    "with_delay": "enqueues work with with_delay()",
    "delayable": "enqueues work with delayable()",
    "queue.job": "uses the queue.job machinery",
    "cron_to_job": "runs a scheduled action as a queue job",
}


def _method(asset: Asset) -> str | None:
    method = safe_token(asset.props.get("method"), _METHOD)
    return method if method and not scan_text(method) else None


def module_subject(asset: Asset) -> str:
    return f"odoo-module:{asset.name}"


def job_subject(asset: Asset) -> str:
    via = safe_token(asset.props.get("via"), r"[a-z_.]{1,20}") or "job"
    if via == "cron_to_job":
        cron = safe_token(asset.props.get("cron"), r"[A-Za-z0-9_.:@ \-]{1,120}") or asset.name
        return f"odoo-job:cron:{cron}"
    model = safe_token(asset.props.get("model"), _MODEL)
    method = _method(asset)
    if model and method:
        return f"odoo-job:{model}.{method}"
    # Without a model and method the addon (or file) is the stable part: lines move.
    owner = (safe_token(asset.props.get("addon"), r"[a-z0-9_]{1,80}") or asset.location.path
             or asset.location.object or asset.name)
    return f"odoo-job:{owner}:{method or via}"


def _uninstall(name: str) -> str:
    return ("    env['ir.module.module'].search([('name', '=', "
            f"{name!r})]).button_immediate_uninstall()  # odoo shell")


def _module(a: Asset) -> Iterator[Finding]:
    if a.props.get("job_runner") is not True:
        return
    state = safe_token(a.props.get("state"), r"[a-z ]{1,20}") or "unknown"
    if state not in _ACTIVE_STATES:
        return
    name = a.name
    users = sorted({u for u in str_list(a.props.get("depended_by")) if safe_token(u, r"[a-z0-9_]{1,80}")})
    how = (f"depended on by {', '.join(users)}" if users
           else "shipped in this repository" if state == "shipped"
           else "installed by a resource the program declares" if state == "declared" else f"state: {state}")
    yield RULE.for_asset(
        a, subject=module_subject(a),
        explain=(f"Odoo module '{name}' makes Odoo a job runner ({how}) at {a.location.describe()}: "
                 "work is queued and executed by Odoo's own job runner."),
        propose=(
            "Move the work the job runner executes to Supabase: each kind of job becomes an Edge Function "
            "(or an n8n workflow) started by a pg_cron job for deferred or batch work, or by a database "
            "webhook / n8n trigger for event-driven work, its credentials read from Vault; Odoo is only "
            "called through its external API for what it owns (each job site has its own finding with "
            "the pg_cron job).\n"
            + (f"Remove '{name}' from the `depends` of {', '.join(users)} in their __manifest__.py, "
               if users else f"Remove the '{name}' addon from the repository, " if state == "shipped"
               else f"Remove the resource that installs '{name}' from the Pulumi program, " if state == "declared"
               else "")
            + f"{'r' if users or state in ('shipped', 'declared') else 'R'}emove '{name}' from "
              "`server_wide_modules` in "
              "odoo.conf (where the job runner starts), then uninstall it:\n"
            + _uninstall(name)
        ),
        metadata={"state": state, "depended_by": users},
    )


def _job(pg: PgCronTarget, a: Asset, subject: str) -> Finding:
    via = safe_token(a.props.get("via"), r"[a-z_.]{1,20}") or "job"
    model = safe_token(a.props.get("model"), _MODEL)
    if model and model.startswith("queue.job"):
        model = None  # the queue's own models, not where the work is
    method = _method(a)
    cron = safe_token(a.props.get("cron"), r"[A-Za-z0-9_.:@ \-]{1,120}")
    count = a.props.get("count")
    seen = f" ({count} jobs seen)" if isinstance(count, int) and not isinstance(count, bool) else ""
    job = job_name_for("odoo-job", (method or (cron or "").rsplit(".", 1)[-1] or via).strip("_"))
    function = job_name_for(method or "odoo-jobs").replace("-", "_")
    body = {"job": job}
    if model:
        body["model"] = model
    if method:
        body["method"] = method
    command = http_post_command(pg.url(function), pg.token, body)
    target = f"{model or 'the model'}.{method or '<method>'}"
    undo = {
        "with_delay": f"Remove the `.with_delay()` call at {a.location.describe()}",
        "delayable": f"Remove the `.delayable()` call at {a.location.describe()}",
        "queue.job": f"Remove the queue.job use at {a.location.describe()}",
        "cron_to_job": (f"Remove the scheduled action '{cron or a.name}' (its pg_cron replacement is "
                        "in the odoo_cron finding for the same cron)"),
    }.get(via, f"Remove the job at {a.location.describe()}")
    explain = (f"Odoo {_VIA_TEXT.get(via, 'runs work as a job')}"
               + (f": {target}" if model or method else "")
               + (f" (scheduled action {cron})" if cron else "")
               + f"{seen} at {a.location.describe()}: Odoo is used as a job runner.")
    return RULE.for_asset(
        a, subject=subject, severity=Severity.HIGH, explain=explain,
        propose=(
            f"Run the work of `{target}` from Supabase: move it into the Edge Function '{function}' "
            "(or an n8n workflow; then post to its webhook URL instead), which calls Odoo's external API "
            "only for what Odoo owns. Requests that arrive as events are queued in Supabase (e.g. "
            "`select pgmq.send('odoo_jobs', ...)` from a database webhook or the Edge Function "
            "receiving the event), and a pg_cron job drains them:\n"
            + pg_cron_job_proposal(job, "* * * * *", command) + "\n"
            + pg.token_text + "\n"
            + f"{undo}, and the queue_job dependency with it."
        ),
        metadata={"via": via, "model": model, "method": method},
    )


def check(inv: Inventory) -> Iterator[Finding]:
    for a in inv.of(Kind.ODOO_MODULE):
        yield from _module(a)
    seen: set[str] = set()
    pg = pg_cron_target(inv)
    for a in inv.of(Kind.ODOO_JOB):
        subject = job_subject(a)
        if subject in seen:
            continue
        seen.add(subject)
        yield _job(pg, a, subject)


RULE = Rule(
    id="odoo_job_runner",
    title="Odoo used as a job runner",
    clause="§5 Orchestration & Automation: Odoo is NEVER used as a scheduler, job runner, or secret vault",
    severity=Severity.CRITICAL,
    categories=("orchestration",),
    phases=frozenset({Phase.STATIC, Phase.DECLARED, Phase.LIVE}),
    risk=("Work queued and run inside Odoo escapes the orchestration plane: its retries, credentials and "
          "audit trail live in the ERP, and it competes with business transactions for Odoo's workers."),
    remediation=("Move each job to an Edge Function or n8n workflow started by pg_cron (or a webhook), "
                 "credentials from Vault, then drop the queue_job dependency and uninstall it."),
    check=check,
)
