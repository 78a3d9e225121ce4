"""pg_cron jobs as a Pulumi dynamic resource.

The job's id is pg_cron's jobid. pg_cron 1.4 (Debian bookworm) and 1.6 (Supabase) both have
cron.schedule(job_name, schedule, command), cron.schedule_in_database(...), cron.alter_job(...) and
cron.unschedule(job_id); only those are used.

Identity and renames: cron.schedule upserts by (jobname, username), so creating a job whose name is
taken would silently take over someone else's job. create therefore refuses an existing name, and
a rename is a replace: pg_cron 1.4 cannot rename in place (alter_job has no name argument). The
replace runs create-before-delete: the old and new names differ, so they never collide, and the
schedule has no gap; the worst case is one run of each job in the same minute.

read goes by jobid, so `pulumi refresh` sees edits made with cron.alter_job or direct UPDATEs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg
import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from ssot import pg
from ssot.errors import ProviderError
from ssot.names import cron_job_problem, pg_identifier_problem
from ssot.providers._base import DynamicResource, secret
from ssot.providers._props import get, is_unknown, require_str, unknown_key_failures
from ssot.shape import describe

INPUTS = frozenset({"conninfo", "name", "schedule", "command", "database", "username", "active"})
APP = "ssot-cron-job"

_MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
                     "@reboot"})
_SECONDS = re.compile(r"^\s*([1-9]|[1-5][0-9])\s+seconds?\s*\Z", re.IGNORECASE)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (field, lowest, highest, names whose index + offset is the value)
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...], int], ...] = (
    ("minute", 0, 59, (), 0),
    ("hour", 0, 23, (), 0),
    ("day of month", 1, 31, (), 0),
    ("month", 1, 12, _MONTHS, 1),
    ("day of week", 0, 7, _DAYS, 0),
)
_SCHEDULE_FORMS = ("a cron schedule: 5 fields (minute hour day-of-month month day-of-week, e.g. "
                   "'*/5 * * * *'), a macro (@hourly, @daily, @weekly, @monthly, @yearly, @reboot) or "
                   "'[1-59] seconds' (pg_cron 1.5+)")


def _field_value(token: str, field: tuple[str, int, int, tuple[str, ...], int]) -> int | None:
    _, lo, hi, names, offset = field
    if token.isdigit():
        number = int(token)
        return number if lo <= number <= hi else None
    if token.lower() in names:
        return names.index(token.lower()) + offset
    return None


def _field_problem(part: str, field: tuple[str, int, int, tuple[str, ...], int]) -> str | None:
    name, lo, hi, _, _ = field
    for item in part.split(","):
        base, slash, step = item.partition("/")
        if slash and (not step.isdigit() or int(step) == 0):
            return f"{name} field ({describe(part)}): the step is not a positive number"
        if base == "*":
            continue
        first, dash, last = base.partition("-")
        bounds = [_field_value(first, field)] + ([_field_value(last, field)] if dash else [])
        if any(b is None for b in bounds):
            return f"{name} field ({describe(part)}): expected values {lo}-{hi}, '*', ranges, lists and steps"
        if dash and bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
            return f"{name} field ({describe(part)}): range runs backwards"
    return None


def schedule_problem(schedule: object) -> str | None:
    """Why `schedule` is not a pg_cron schedule, or None if it is."""
    if not isinstance(schedule, str) or not schedule.strip():
        return f"{_SCHEDULE_FORMS}, got {describe(schedule)}"
    text = schedule.strip()
    if text.lower() in _MACROS or _SECONDS.match(text):
        return None
    parts = text.split()
    if len(parts) != 5:
        return f"{_SCHEDULE_FORMS}, got {describe(schedule)} ({len(parts)} fields)"
    for part, field in zip(parts, _FIELDS, strict=True):
        problem = _field_problem(part, field)
        if problem:
            return f"{_SCHEDULE_FORMS}; {problem}"
    return None


def _check(news: dict[str, Any]) -> tuple[dict[str, Any], list[CheckFailure]]:
    failures = unknown_key_failures(news, INPUTS)
    inputs = dict(news)
    conninfo = get(news, "conninfo")
    if not is_unknown(conninfo) and not pg.valid_conninfo(conninfo):
        failures.append(CheckFailure("conninfo", "expected a libpq connection string (postgresql://... or "
                                                 "key=value pairs); the value is not shown as it may hold a "
                                                 "password"))
    name = get(news, "name")
    if not is_unknown(name):
        problem = cron_job_problem(name)
        if problem:
            failures.append(CheckFailure("name", "expected " + problem))
    schedule = get(news, "schedule")
    if not is_unknown(schedule):
        problem = schedule_problem(schedule)
        if problem:
            failures.append(CheckFailure("schedule", "expected " + problem))
    command = get(news, "command")
    if not is_unknown(command) and (not isinstance(command, str) or not command.strip()):
        failures.append(CheckFailure("command", "expected the SQL the job runs (a non-empty string)"))
    for key in ("database", "username"):
        value = get(news, key)
        if value is not None and not is_unknown(value):
            problem = pg_identifier_problem(value)
            if problem:
                failures.append(CheckFailure(key, "expected " + problem))
    active = get(news, "active")
    if active is None:
        inputs["active"] = True
    elif not is_unknown(active) and not isinstance(active, bool):
        failures.append(CheckFailure("active", f"expected true or false, got {describe(active)}"))
    return inputs, failures


def _job_id(id_: str, name: object) -> int:
    try:
        return int(id_)
    except (TypeError, ValueError):
        raise ProviderError(f"pg_cron job '{name}': id {id_!r} is not a pg_cron jobid (a number)") from None


def _read_job(conn: psycopg.Connection, job_id: int, conninfo: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT jobid, jobname, schedule, command, database, username, active FROM cron.job WHERE jobid = %s",
        (job_id,),
    ).fetchone()
    if row is None:
        return None
    return {"conninfo": conninfo, "job_id": int(row[0]), "name": row[1], "schedule": row[2],
            "command": row[3], "database": row[4], "username": row[5], "active": bool(row[6])}


def _schedule_hint(schedule: object) -> str:
    if isinstance(schedule, str) and _SECONDS.match(schedule):
        return " (the '[1-59] seconds' form needs pg_cron 1.5 or later; check `SELECT extversion FROM " \
               "pg_extension WHERE extname = 'pg_cron'`)"
    return ""


class CronJobProvider(ResourceProvider):
    """CRUD for one pg_cron job. Stateless: everything arrives in the property bags."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = _check(news)
        return CheckResult(inputs, failures)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        olds, news = _olds, _news
        replaces = ["name"] if get(news, "name") != get(olds, "name") else []
        changed = [k for k in ("schedule", "command", "conninfo") if get(news, k) != get(olds, k)]
        if get(news, "active", True) != get(olds, "active", True):
            changed.append("active")
        # Omitted database/username mean "pg_cron's default": whatever the job has is accepted.
        changed += [k for k in ("database", "username")
                    if get(news, k) is not None and get(news, k) != get(olds, k)]
        return DiffResult(changes=bool(replaces or changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        conninfo = require_str(props, "conninfo", "creating a pg_cron job")
        name = require_str(props, "name", "creating a pg_cron job")
        schedule = get(props, "schedule")
        database, username = get(props, "database"), get(props, "username")
        active = get(props, "active", True)
        action = f"creating pg_cron job '{name}'"
        with pg.provider_errors(action, conninfo):
            with pg.connect(conninfo, app=APP) as conn, conn.transaction():
                taken = conn.execute(
                    "SELECT jobid FROM cron.job WHERE jobname = %s AND username = coalesce(%s, current_user)",
                    (name, username),
                ).fetchone()
                if taken is not None:
                    raise ProviderError(
                        f"a pg_cron job named '{name}' already exists (jobid {taken[0]}): unschedule it, "
                        "import it into the stack, or choose another name")
                params = {"name": name, "schedule": schedule, "command": get(props, "command"),
                          "database": database, "username": username, "active": active}
                try:
                    if database is None and username is None and active is True:
                        row = conn.execute("SELECT cron.schedule(%(name)s, %(schedule)s, %(command)s)",
                                           params).fetchone()
                    else:
                        row = conn.execute(
                            "SELECT cron.schedule_in_database(%(name)s, %(schedule)s, %(command)s,"
                            " coalesce(%(database)s, current_database()), %(username)s, %(active)s)",
                            params).fetchone()
                except psycopg.Error as exc:
                    reason, _ = pg.explain(exc, conninfo)
                    raise ProviderError(reason + _schedule_hint(schedule)) from None
                assert row is not None
                outs = _read_job(conn, int(row[0]), conninfo)
        if outs is None:
            raise ProviderError(f"{action} failed: the job is not visible in cron.job after scheduling it "
                                "(is the role allowed to see its own jobs?)")
        return CreateResult(str(outs["job_id"]), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        conninfo = require_str(props, "conninfo", "reading a pg_cron job")
        name = get(props, "name", id_)
        with pg.provider_errors(f"reading pg_cron job '{name}' ({id_})", conninfo):
            job_id = _job_id(id_, name)
            with pg.connect(conninfo, app=APP) as conn:
                outs = _read_job(conn, job_id, conninfo)
        if outs is None:
            return ReadResult("", {})  # gone: the engine drops it from state
        return ReadResult(id_, outs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        olds, news = _olds, _news
        conninfo = require_str(news, "conninfo", "updating a pg_cron job")
        name = require_str(news, "name", "updating a pg_cron job")
        action = f"updating pg_cron job '{name}' ({_id})"

        def changed(key: str, default: Any = None) -> Any:
            new = get(news, key, default)
            return new if new is not None and new != get(olds, key, default) else None

        params = {"id": None, "schedule": changed("schedule"), "command": changed("command"),
                  "database": changed("database"), "username": changed("username"),
                  "active": changed("active", True)}
        with pg.provider_errors(action, conninfo):
            params["id"] = _job_id(_id, name)
            with pg.connect(conninfo, app=APP) as conn, conn.transaction():
                if _read_job(conn, params["id"], conninfo) is None:
                    raise ProviderError("the job no longer exists (unscheduled outside Pulumi?); run "
                                        "`pulumi refresh` and then `pulumi up` to re-create it")
                if any(params[k] is not None for k in ("schedule", "command", "database", "username",
                                                       "active")):
                    try:
                        conn.execute("SELECT cron.alter_job(%(id)s, %(schedule)s, %(command)s, %(database)s,"
                                     " %(username)s, %(active)s)", params)
                    except psycopg.Error as exc:
                        reason, _ = pg.explain(exc, conninfo)
                        raise ProviderError(reason + _schedule_hint(params["schedule"])) from None
                outs = _read_job(conn, params["id"], conninfo)
        assert outs is not None
        return UpdateResult(outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        props = _props
        conninfo = require_str(props, "conninfo", "deleting a pg_cron job")
        name = get(props, "name", _id)
        with pg.provider_errors(f"deleting pg_cron job '{name}' ({_id})", conninfo):
            job_id = _job_id(_id, name)
            with pg.connect(conninfo, app=APP) as conn, conn.transaction():
                if _read_job(conn, job_id, conninfo) is not None:
                    conn.execute("SELECT cron.unschedule(%s::bigint)", (job_id,))


@dataclass
class CronJobArgs:
    """Inputs of a CronJob. database/username default to pg_cron's (the connection's); active to true."""

    conninfo: pulumi.Input[str]
    name: pulumi.Input[str]
    schedule: pulumi.Input[str]
    command: pulumi.Input[str]
    database: pulumi.Input[str] | None = None
    username: pulumi.Input[str] | None = None
    active: pulumi.Input[bool] | None = None


class CronJob(DynamicResource, module="ssot", name="CronJob"):
    """A pg_cron job, identified by its jobid."""

    provider_class = CronJobProvider
    secret_outputs = ("conninfo",)

    job_id: pulumi.Output[int]
    name: pulumi.Output[str]
    schedule: pulumi.Output[str]
    command: pulumi.Output[str]
    database: pulumi.Output[str]
    username: pulumi.Output[str]
    active: pulumi.Output[bool]

    def __init__(self, resource_name: str, args: CronJobArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "conninfo": secret(args.conninfo),
            "name": args.name,
            "schedule": args.schedule,
            "command": args.command,
            "database": args.database,
            "username": args.username,
            "active": args.active,
        }
        super().__init__(resource_name, props, opts)


__all__ = ["CronJob", "CronJobArgs", "CronJobProvider", "schedule_problem"]
