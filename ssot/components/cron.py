"""pg_cron jobs: Supabase is the orchestration plane, Odoo never schedules anything."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi

from ssot.components import TYPE_PREFIX, where
from ssot.model import CronJob as CronJobDecl
from ssot.providers.cron_job import CronJob, CronJobArgs


@dataclass
class CronJobsArgs:
    conninfo: pulumi.Output[str]
    jobs: tuple[CronJobDecl, ...]
    base_depends_on: list[pulumi.Resource]
    schemas: dict[str, pulumi.Resource] = field(default_factory=dict)
    vault_secrets: dict[str, pulumi.Resource] = field(default_factory=dict)


_VAULT_NAME = re.compile(r"decrypted_secrets\b[^;]*?\bname\s*=\s*'([a-z][a-z0-9_]*)'", re.IGNORECASE | re.DOTALL)
_QUALIFIED = re.compile(r"\b([a-z_][a-z0-9_]*)\s*\.\s*[a-z_]", re.IGNORECASE)


def referenced(command: str, schemas: dict[str, pulumi.Resource],
               secrets: dict[str, pulumi.Resource]) -> list[pulumi.Resource]:
    """The declared schemas and Vault secrets a job's command uses.

    A job must be scheduled only after what it reads exists. Depending on exactly those (rather
    than on every schema and secret) keeps the graph linear: 1,000 jobs times 5,000 secrets would
    otherwise be five million edges for the engine to carry.
    """
    found: dict[str, pulumi.Resource] = {}
    for name in _VAULT_NAME.findall(command):
        if name in secrets:
            found[f"vault:{name}"] = secrets[name]
    for name in _QUALIFIED.findall(command):
        if name.lower() in schemas:
            found[f"schema:{name.lower()}"] = schemas[name.lower()]
    return list(found.values())


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
                pulumi.ResourceOptions(parent=self, depends_on=[
                    *args.base_depends_on, *referenced(j.command, args.schemas, args.vault_secrets)]),
            )
            for j in args.jobs
        }
        self.register_outputs({"doctrine": doctrine})
