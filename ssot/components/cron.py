"""pg_cron jobs: Supabase is the orchestration plane, Odoo never schedules anything."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ssot.components import TYPE_PREFIX, where
from ssot.model import CronJob as CronJobDecl
from ssot.providers.cron_job import CronJob, CronJobArgs


@dataclass
class CronJobsArgs:
    conninfo: pulumi.Output[str]
    jobs: tuple[CronJobDecl, ...]
    # Jobs read credentials from Vault and write into the doctrine schemas at run time: they are
    # scheduled only after both exist.
    depends_on: list[pulumi.Resource]


class CronJobs(pulumi.ComponentResource):
    jobs: dict[str, CronJob]

    def __init__(self, name: str, args: CronJobsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        doctrine = {"jobs": {j.name: where(j) for j in args.jobs}}
        super().__init__(f"{TYPE_PREFIX}:CronJobs", name, {"doctrine": doctrine}, opts)
        self.jobs = {
            j.name: CronJob(
                f"cron-{j.name}",
                CronJobArgs(conninfo=args.conninfo, name=j.name, schedule=j.schedule, command=j.command,
                            database=j.database, username=j.username, active=j.active),
                pulumi.ResourceOptions(parent=self, depends_on=args.depends_on),
            )
            for j in args.jobs
        }
        self.register_outputs({"doctrine": doctrine})
