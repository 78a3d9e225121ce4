"""The periodic audit, scheduled the doctrine's way (§5): by the platform's own pg_cron, not by CI.

A stack declares

    auditSchedule:
      schedule: "0 */6 * * *"
      dispatch:                                  # a CI with a dispatch endpoint (GitHub Actions)
        repository: acme/platform
        workflow: ssot-audit.yml
        ref: main
        tokenSecret: github_actions_dispatch_token   # a declared Vault secret
    # or
      worker: true                               # no CI dispatch: `ssot audit --serve` picks it up

and the program turns it into one pg_cron job (`job_command`). With `dispatch`, the job calls pg_net's
`net.http_post` on GitHub's workflow-dispatch endpoint; the token is read from
`vault.decrypted_secrets` when the job runs, so it is never in the job's command, in Pulumi state or
in cron.job. With `worker`, the job inserts a row in `audit.requests`, whose trigger NOTIFYs the worker.

Every value that reaches the SQL is validated first (anchored with \\Z) and then quoted as a literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from ssot.shape import describe

JOB_NAME = "ssot-audit"
NOTIFY_CHANNEL = "ssot_audit_requests"
COMMANDS = ("audit", "preview")
GITHUB_API = "https://api.github.com"
DISPATCH_TIMEOUT_MS = 10_000
# The workflow_dispatch inputs the job sends: the dispatched workflow must declare exactly these
# (GitHub refuses a dispatch with undeclared inputs).
DISPATCH_INPUTS = ("stack", "command")

_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9_.-]{1,100}\Z")
_WORKFLOW = re.compile(r"(?:[A-Za-z0-9_.-]{1,200}\.ya?ml|[0-9]{1,20})\Z")
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}\Z")
_STACK = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")


@dataclass(frozen=True)
class Dispatch:
    repository: str
    workflow: str
    ref: str
    token_secret: str

    @property
    def url(self) -> str:
        return f"{GITHUB_API}/repos/{self.repository}/actions/workflows/{self.workflow}/dispatches"


@dataclass(frozen=True)
class AuditSchedule:
    where: Any  # ssot.model.Where (typed loosely: the model imports this module)
    schedule: str
    command: str = "audit"
    dispatch: Dispatch | None = None
    worker: bool = False
    job_name: str = JOB_NAME


def repository_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _REPOSITORY.match(value) or ".." in value:
        return f"a GitHub repository as owner/name; got {describe(value)}"
    return None


def workflow_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _WORKFLOW.match(value) or value.startswith("."):
        return f"a workflow file name (e.g. ssot-audit.yml) or numeric id; got {describe(value)}"
    return None


def ref_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _REF.match(value) or ".." in value or value.endswith(("/", ".lock")):
        return f"a git branch or tag name (e.g. main); got {describe(value)}"
    return None


def stack_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _STACK.match(value):
        return f"a stack name matching [A-Za-z0-9][A-Za-z0-9_.-]*; got {describe(value)}"
    return None


def _lit(value: str) -> str:
    return sql.Literal(value).as_string(None)


def job_command(schedule: AuditSchedule, stack: str) -> str:
    """The pg_cron job's SQL. Holds names only: the dispatch token is read when the job runs."""
    for problem in (stack_problem(stack),):
        if problem:
            raise ValueError("expected " + problem)
    if schedule.command not in COMMANDS:
        raise ValueError(f"expected a command, one of {', '.join(COMMANDS)}; got {describe(schedule.command)}")
    if schedule.dispatch is None:
        return (f"INSERT INTO audit.requests (command, stack, requested_by) "
                f"VALUES ({_lit(schedule.command)}, {_lit(stack)}, 'pg_cron')")
    d = schedule.dispatch
    for problem in (repository_problem(d.repository), workflow_problem(d.workflow), ref_problem(d.ref)):
        if problem:
            raise ValueError("expected " + problem)
    secret = _lit(d.token_secret)
    values = {"stack": stack, "command": schedule.command}
    inputs = ", ".join(f"{_lit(k)}, {_lit(values[k])}" for k in DISPATCH_INPUTS)
    missing = _lit(f"ssot audit schedule: Vault secret {d.token_secret} is missing or empty")
    # A DO block so that a missing token fails the job (visible in cron.job_run_details) instead of
    # sending an unauthenticated request.
    return f"""DO $ssot$
DECLARE token text;
BEGIN
  SELECT decrypted_secret INTO token FROM vault.decrypted_secrets WHERE name = {secret};
  IF token IS NULL OR token = '' THEN RAISE EXCEPTION {missing}; END IF;
  PERFORM net.http_post(
    url := {_lit(d.url)},
    body := jsonb_build_object('ref', {_lit(d.ref)}, 'inputs', jsonb_build_object({inputs})),
    params := '{{}}'::jsonb,
    headers := jsonb_build_object('Authorization', 'Bearer ' || token,
                                  'Accept', 'application/vnd.github+json',
                                  'X-GitHub-Api-Version', '2022-11-28',
                                  'Content-Type', 'application/json',
                                  'User-Agent', 'ssot-audit-schedule'),
    timeout_milliseconds := {DISPATCH_TIMEOUT_MS});
END
$ssot$"""


def parse(r: Any, value: Any, path: tuple[str | int, ...], vault_names: set[str],
          schedule_problem: Any) -> AuditSchedule | None:
    """Read `auditSchedule` with the model's reader `r` (every problem reported, none fatal here)."""
    m = r.mapping(value, path, {"schedule": True, "command": False, "dispatch": False, "worker": False,
                                "jobName": False})
    if m is None:
        return None
    sched = r.name(m.get("schedule"), (*path, "schedule"), schedule_problem)
    command = r.string(m.get("command", "audit"), (*path, "command"), "the command to run", choices=COMMANDS)
    worker = r.boolean(m.get("worker"), (*path, "worker"), False)
    from ssot import names

    job_name = r.name(m.get("jobName", JOB_NAME), (*path, "jobName"), names.cron_job_problem)
    dispatch = None
    if "dispatch" in m:
        dp = (*path, "dispatch")
        d = r.mapping(m["dispatch"], dp, {"repository": True, "workflow": True, "ref": False, "tokenSecret": True})
        if d is not None:
            repo = r.name(d.get("repository"), (*dp, "repository"), repository_problem)
            wf = r.name(d.get("workflow"), (*dp, "workflow"), workflow_problem)
            ref = r.name(d.get("ref", "main"), (*dp, "ref"), ref_problem)
            token = r.name(d.get("tokenSecret"), (*dp, "tokenSecret"), names.secret_name_problem)
            if token and token not in vault_names:
                r.issue((*dp, "tokenSecret"), f"the name of a Vault secret declared under vault.secrets (the "
                        f"token is read from Vault when the job runs); '{token}' is not declared")
                token = None
            if repo and wf and ref and token:
                dispatch = Dispatch(repo, wf, ref, token)
    if ("dispatch" in m) == worker:
        r.issue(path, "exactly one of 'dispatch' (a CI workflow-dispatch endpoint) or 'worker: true' (`ssot audit "
                "--serve` waiting on the database)")
        return None
    if not sched or not command or not job_name or ("dispatch" in m and dispatch is None):
        return None
    return AuditSchedule(r.where(path), sched.strip(), command, dispatch, worker, job_name)
