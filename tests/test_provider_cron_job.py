"""CronJobProvider against real PostgreSQL + pg_cron, called as the Pulumi engine does."""

from __future__ import annotations

import base64
import secrets
import socket
import uuid
from typing import Any

import dill
import psycopg
import pytest
from psycopg import conninfo as pg_conninfo
from pulumi.runtime import rpc

from ssot import localdb
from ssot.errors import ProviderError
from ssot.providers._base import _serialized
from ssot.providers.cron_job import CronJobProvider, schedule_problem

CANARY_PASSWORD = "canary-pw-" + secrets.token_hex(12)
OUTPUT_KEYS = {"conninfo", "job_id", "name", "schedule", "command", "database", "username", "active"}


@pytest.fixture
def provider() -> CronJobProvider:
    return CronJobProvider()


def _name() -> str:
    return "ssot-t-" + uuid.uuid4().hex[:12]


def _inputs(provider: CronJobProvider, **news: Any) -> dict[str, Any]:
    result = provider.check({}, news)
    assert [(f.property, f.reason) for f in result.failures] == []
    return result.inputs


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _job(pg: psycopg.Connection, job_id: int) -> tuple[Any, ...] | None:
    return pg.execute("SELECT jobname, schedule, command, database, username, active FROM cron.job "
                      "WHERE jobid = %s", (job_id,)).fetchone()


def test_lifecycle(provider: CronJobProvider, db_conninfo: str, pg: psycopg.Connection) -> None:
    name = _name()
    inputs = _inputs(provider, conninfo=db_conninfo, name=name, schedule="*/5 * * * *",
                     command="SELECT 1")
    assert inputs["active"] is True
    created = provider.create(inputs)
    outs = created.outs
    assert outs is not None and set(outs) == OUTPUT_KEYS
    job_id = outs["job_id"]
    assert created.id == str(job_id)
    assert _job(pg, job_id) == (name, "*/5 * * * *", "SELECT 1", "postgres", "postgres", True)
    assert (outs["database"], outs["username"], outs["active"]) == ("postgres", "postgres", True)

    assert provider.diff(created.id, outs, inputs).changes is False  # second apply: nothing to do
    assert provider.read(created.id, outs).outs == outs

    # Out-of-band edits, through pg_cron and behind its back: refresh sees both.
    pg.execute("SELECT cron.alter_job(%s, schedule => '0 3 * * *')", (job_id,))
    pg.execute("UPDATE cron.job SET command = 'SELECT 2' WHERE jobid = %s", (job_id,))
    refreshed = provider.read(created.id, outs).outs
    assert refreshed is not None
    assert (refreshed["schedule"], refreshed["command"]) == ("0 3 * * *", "SELECT 2")
    diff = provider.diff(created.id, refreshed, inputs)
    assert (diff.changes, diff.replaces) == (True, [])
    restored = provider.update(created.id, refreshed, inputs).outs
    assert restored == outs
    assert _job(pg, job_id) == (name, "*/5 * * * *", "SELECT 1", "postgres", "postgres", True)

    paused = _inputs(provider, conninfo=db_conninfo, name=name, schedule="@hourly", command="SELECT 3",
                     active=False)
    assert provider.diff(created.id, restored, paused).changes is True
    updated = provider.update(created.id, restored, paused).outs
    assert updated is not None and updated["job_id"] == job_id
    assert _job(pg, job_id) == (name, "@hourly", "SELECT 3", "postgres", "postgres", False)
    assert provider.diff(created.id, updated, paused).changes is False

    provider.delete(created.id, updated)
    assert _job(pg, job_id) is None
    gone = provider.read(created.id, updated)
    assert gone.id == "" and gone.outs == {}
    provider.delete(created.id, updated)  # already gone: not an error


def test_rename_is_a_create_before_delete_replace(provider: CronJobProvider, db_conninfo: str,
                                                  pg: psycopg.Connection) -> None:
    base = {"conninfo": db_conninfo, "schedule": "0 * * * *", "command": "SELECT 1"}
    old = provider.create(_inputs(provider, **base, name=_name()))
    assert old.outs is not None
    new_inputs = _inputs(provider, **base, name=_name())
    diff = provider.diff(old.id, old.outs, new_inputs)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, ["name"], False)
    # The engine's order for a create-before-delete replace:
    new = provider.create(new_inputs)
    provider.delete(old.id, old.outs)
    assert new.outs is not None and new.id != old.id
    assert _job(pg, int(old.id)) is None
    assert _job(pg, int(new.id))[0] == new_inputs["name"]  # type: ignore[index]


def test_create_refuses_to_take_over_an_existing_job(provider: CronJobProvider, db_conninfo: str,
                                                     pg: psycopg.Connection) -> None:
    name = _name()
    theirs = pg.execute("SELECT cron.schedule(%s, '0 0 * * *', 'SELECT 42')", (name,)).fetchone()[0]  # type: ignore[index]
    with pytest.raises(ProviderError, match=f"a pg_cron job named '{name}' already exists \\(jobid {theirs}\\)"):
        provider.create(_inputs(provider, conninfo=db_conninfo, name=name, schedule="* * * * *",
                                command="SELECT 1"))
    assert _job(pg, theirs)[1:3] == ("0 0 * * *", "SELECT 42")  # type: ignore[index]


def test_schedule_in_database_options(provider: CronJobProvider, db_conninfo: str,
                                      pg: psycopg.Connection) -> None:
    inputs = _inputs(provider, conninfo=db_conninfo, name=_name(), schedule="30 2 * * sun",
                     command="SELECT 1", database="postgres", username="postgres", active=False)
    created = provider.create(inputs)
    assert created.outs is not None
    assert _job(pg, int(created.id))[3:] == ("postgres", "postgres", False)  # type: ignore[index]
    assert provider.diff(created.id, created.outs, inputs).changes is False
    pg.execute("UPDATE cron.job SET username = 'someone_else' WHERE jobid = %s", (int(created.id),))
    refreshed = provider.read(created.id, created.outs).outs
    assert refreshed is not None and refreshed["username"] == "someone_else"
    assert provider.diff(created.id, refreshed, inputs).changes is True  # username was declared


def test_seconds_schedule(provider: CronJobProvider, db_conninfo: str, pg: psycopg.Connection) -> None:
    inputs = _inputs(provider, conninfo=db_conninfo, name=_name(), schedule="30 seconds", command="SELECT 1")
    version = pg.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'").fetchone()[0]  # type: ignore[index]
    major_minor = tuple(int(p) for p in version.split("-")[0].split(".")[:2])
    if major_minor >= (1, 5):
        created = provider.create(inputs)
        assert created.outs is not None and created.outs["schedule"] == "30 seconds"
    else:
        with pytest.raises(ProviderError, match=r"needs pg_cron 1\.5 or later") as err:
            provider.create(inputs)
        assert f"creating pg_cron job '{inputs['name']}' failed" in str(err.value)
        assert "invalid schedule" in str(err.value)


def test_update_of_a_vanished_job_fails_clearly(provider: CronJobProvider, db_conninfo: str,
                                                pg: psycopg.Connection) -> None:
    inputs = _inputs(provider, conninfo=db_conninfo, name=_name(), schedule="0 * * * *", command="SELECT 1")
    created = provider.create(inputs)
    assert created.outs is not None
    pg.execute("SELECT cron.unschedule(%s::bigint)", (int(created.id),))
    with pytest.raises(ProviderError, match=r"no longer exists .*`pulumi refresh`"):
        provider.update(created.id, created.outs, {**inputs, "schedule": "5 * * * *"})


@pytest.mark.parametrize("schedule", ["* * * * *", "*/5 1-3,5 * * 1-5", "0 0 1 jan *", "0 12 * * mon-fri",
                                      "@daily", "@reboot", "59 23 31 12 7", "1 second", "59 seconds",
                                      " 0  0  *  *  * "])
def test_valid_schedules(schedule: str) -> None:
    assert schedule_problem(schedule) is None


@pytest.mark.parametrize("schedule", ["", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                                      "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "0 seconds",
                                      "60 seconds", "@every", "; DROP TABLE x", 5])
def test_invalid_schedules(schedule: object) -> None:
    problem = schedule_problem(schedule)
    assert problem is not None and "cron schedule" in problem


def test_check_reports_every_problem(provider: CronJobProvider) -> None:
    result = provider.check({}, {"conninfo": f"password={CANARY_PASSWORD} garbage", "name": "Bad Name",
                                 "schedule": "every minute", "command": "", "database": "x;y",
                                 "active": "yes", "shedule": "typo"})
    reasons = {f.property: f.reason for f in result.failures}
    assert set(reasons) == {"conninfo", "name", "schedule", "command", "database", "active", "shedule"}
    assert "pg_cron job name" in reasons["name"]
    assert "did you mean 'schedule'" in reasons["shedule"]
    assert all(CANARY_PASSWORD not in r for r in reasons.values())
    preview = provider.check({}, {"conninfo": rpc.UNKNOWN, "name": "ok", "schedule": rpc.UNKNOWN,
                                  "command": rpc.UNKNOWN, "__provider": "x"})
    assert preview.failures == []


def test_database_down_and_wrong_password(provider: CronJobProvider, local_db: localdb.LocalDb) -> None:
    closed = pg_conninfo.make_conninfo(host="127.0.0.1", port=str(_free_port()), user="postgres",
                                       password=CANARY_PASSWORD, dbname="postgres")
    wrong = pg_conninfo.make_conninfo(local_db.conninfo(), password=CANARY_PASSWORD)
    cases = [(closed, "cannot reach database 'postgres'"), (wrong, "authentication failed for database")]
    for conninfo, expected in cases:
        inputs = _inputs(provider, conninfo=conninfo, name="ssot-t-down", schedule="* * * * *",
                         command="SELECT 1")
        for call in (lambda i=inputs: provider.create(i), lambda i=inputs: provider.read("1", i),
                     lambda i=inputs: provider.delete("1", i)):
            with pytest.raises(ProviderError, match=expected) as err:
                call()
            message = str(err.value)
            assert "pg_cron job 'ssot-t-down'" in message
            assert CANARY_PASSWORD not in message and conninfo not in message
            assert err.value.__cause__ is None


def test_serialized_provider_holds_no_secret(provider: CronJobProvider, db_conninfo: str) -> None:
    provider.create(_inputs(provider, conninfo=db_conninfo, name=_name(), schedule="0 * * * *",
                            command="SELECT 1"))
    pickled = base64.b64decode(_serialized(CronJobProvider))
    password = str(pg_conninfo.conninfo_to_dict(db_conninfo)["password"])
    assert password.encode() not in pickled and db_conninfo.encode() not in pickled
    assert isinstance(dill.loads(pickled), CronJobProvider)  # noqa: S301 (our own pickle)
