"""The periodic audit as one pg_cron job (doctrine §5: scheduled by the platform, not by CI).

See ssot.audit_schedule for the job's SQL; this component only declares it, waiting for what the
command reads (the token's Vault secret, the audit schema) and for pg_cron itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from ssot.audit_schedule import AuditSchedule as AuditScheduleDecl
from ssot.audit_schedule import job_command
from ssot.components import TYPE_PREFIX, where
from ssot.components.cron import referenced
from ssot.providers.cron_job import CronJob, CronJobArgs


@dataclass
class AuditScheduleArgs:
    conninfo: pulumi.Output[str]
    schedule: AuditScheduleDecl
    stack: str
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    schemas: dict[str, pulumi.Resource] = field(default_factory=dict)
    vault_secrets: dict[str, pulumi.Resource] = field(default_factory=dict)


class AuditSchedule(pulumi.ComponentResource):
    job: CronJob

    def __init__(self, name: str, args: AuditScheduleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        decl = args.schedule
        command = job_command(decl, args.stack)
        doctrine: dict[str, object] = {
            "jobs": {decl.job_name: where(decl)}, "job": decl.job_name, "schedule": decl.schedule,
            "command": decl.command, "mode": "dispatch" if decl.dispatch else "worker", **where(decl)}
        if decl.dispatch:
            doctrine.update(repository=decl.dispatch.repository, workflow=decl.dispatch.workflow,
                            ref=decl.dispatch.ref, token_secret=decl.dispatch.token_secret)
        super().__init__(f"{TYPE_PREFIX}:AuditSchedule", name, {"doctrine": doctrine}, opts)
        self.job = CronJob(
            f"cron-{decl.job_name}",
            CronJobArgs(conninfo=args.conninfo, name=decl.job_name, schedule=decl.schedule, command=command,
                        active=True),
            pulumi.ResourceOptions(parent=self, depends_on=[
                *args.depends_on, *referenced(command, args.schemas, args.vault_secrets)]),
        )
        self.register_outputs({"doctrine": doctrine})
