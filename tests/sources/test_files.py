"""Plain files: secret literals, crontab schedules, pg_cron jobs in SQL, stack config."""

from __future__ import annotations

import pytest

from ssot.inventory import Asset, Kind, Store
from ssot.sources._repo import walk
from ssot.sources.files import crontab_schedules, scan_files, sql_cron_jobs

from .conftest import TreeMaker, synthetic_secret


def _scan(make_tree: TreeMaker, files: dict[str, str | bytes]) -> list[Asset]:
    root = make_tree(files)
    found, _ = walk(root)
    return scan_files(found)


SECRET = synthetic_secret()


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({}, [], id="nothing"),
        pytest.param({"app.py": "KEY = os.environ['SUPABASE_SECRET_KEY']\n"}, [], id="near-miss-env-read"),
        pytest.param({".env.example": "SUPABASE_SECRET_KEY=<your-secret-key>\n"}, [], id="near-miss-placeholder"),
        pytest.param({"app.py": f"KEY = '{SECRET}'\n"},
                     [("app.py", 1, "file", Store.REPOSITORY)], id="violation"),
        pytest.param({"stacks/Pulumi.prod.yaml": f"config:\n  acme:key: {SECRET}\n"},
                     [("stacks/Pulumi.prod.yaml", 2, "stack-config", Store.STACK_CONFIG)], id="stack-config"),
        pytest.param({"stacks/Pulumi.prod.yaml": "config:\n  acme:key:\n    secure: v1:AAAAbbbbCCCCdddd1234==\n"},
                     [], id="stack-secure-ciphertext"),
        pytest.param({"bin.dat": b"\0\0" + SECRET.encode()}, [("bin.dat", 1, "file", Store.REPOSITORY)],
                     id="early-nul-still-scanned"),
        pytest.param({"u16.py": f"KEY = '{SECRET}'\n".encode("utf-16")}, [("u16.py", 1, "file", Store.REPOSITORY)],
                     id="utf-16-decoded-by-bom"),
    ],
)
def test_secret_literals(make_tree: TreeMaker, files: dict[str, str | bytes],
                         expected: list[tuple[str, int, str, Store]]) -> None:
    assets = [a for a in _scan(make_tree, files) if a.kind is Kind.SECRET_LITERAL]
    got = [(a.location.path, a.location.line, a.props["context"], a.store) for a in assets]
    assert got == expected
    for a in assets:
        assert a.fingerprint and SECRET not in repr(a)
        assert a.props["secret_type"] == "Supabase secret key"


def test_two_literals_of_one_type_in_one_file_get_distinct_names(make_tree: TreeMaker) -> None:
    other = synthetic_secret()
    assets = _scan(make_tree, {"a.py": f"A = '{SECRET}'\nB = '{other}'\n"})
    assert [a.name for a in assets] == ["a.py:Supabase secret key", "a.py:Supabase secret key#2"]
    assert assets[0].fingerprint != assets[1].fingerprint


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        pytest.param("ops/crontab", "# only a comment\nMAILTO=ops@acme.test\n", [], id="nothing"),
        pytest.param("ops/crontab", "15 2 * * * /opt/run.sh\n", [("15 2 * * *", "/opt/run.sh", None, 1)],
                     id="crontab"),
        pytest.param("ops/backup.cron", "@daily /opt/backup.sh\n", [("@daily", "/opt/backup.sh", None, 1)],
                     id="macro"),
        pytest.param("etc/cron.d/acme", "\n*/5 * * * * root /opt/poll.sh --fast\n",
                     [("*/5 * * * *", "/opt/poll.sh --fast", "root", 2)], id="cron.d-user-field"),
    ],
)
def test_crontab_schedules(rel: str, text: str, expected: list[tuple[str, str, str | None, int]]) -> None:
    got = [(a.props["schedule"], a.props["command"], a.props["user"], a.location.line)
           for a in crontab_schedules(text, rel)]
    assert got == expected
    for a in crontab_schedules(text, rel):
        assert a.store is Store.CRONTAB and a.kind is Kind.SCHEDULE and a.props["justified"] is False


def test_crontab_justified_and_timer() -> None:
    text = "# ssot: justified reason=\"host-level log rotation\"\n0 0 * * * /usr/sbin/logrotate\n"
    [a] = crontab_schedules(text, "ops/crontab")
    assert a.props["justified"] is True and a.props["justification"] == "host-level log rotation"
    [t] = crontab_schedules("[Timer]\nOnCalendar=daily\n", "deploy/sync.timer")
    assert (t.props["scheduler"], t.props["schedule"], t.props["command"]) == ("systemd-timer", "daily", "sync.service")


def test_crontab_command_is_scrubbed(make_tree: TreeMaker) -> None:
    assets = _scan(make_tree, {"ops/crontab": f"0 1 * * * curl -H 'apikey: {SECRET}' https://x.test\n"})
    [sched] = [a for a in assets if a.kind is Kind.SCHEDULE]
    [lit] = [a for a in assets if a.kind is Kind.SECRET_LITERAL]
    assert SECRET not in sched.props["command"] and "curl -H 'apikey: <secret" in sched.props["command"]
    assert lit.props["context"] == "cron-command"


def test_sql_cron_jobs() -> None:
    sql = (
        "select cron.schedule('vacuum', '0 3 * * *', 'VACUUM');\n"
        "select cron.schedule(\n  'push',\n  '*/5 * * * *',\n  $$select net.http_post(headers := "
        f"'{{\"apikey\": \"{SECRET}\"}}'::jsonb)$$\n);\n"
        "select cron.schedule('*/10 * * * *', $job$select 1$job$);\n"
    )
    jobs, lines = sql_cron_jobs(sql, "m.sql")
    assert [(j.name, j.props["schedule"], j.location.line) for j in jobs] == [
        ("vacuum", "0 3 * * *", 1), ("push", "*/5 * * * *", 2), ("m.sql:7", "*/10 * * * *", 7)]
    assert jobs[0].props["command"] == "VACUUM" and jobs[0].props["command_secret_types"] == []
    assert jobs[1].props["command_secret_types"] == ["Supabase secret key"]
    assert SECRET not in jobs[1].props["command"]
    assert {2, 3, 4, 5, 6} <= lines and all(j.store is Store.POSTGRES for j in jobs)


def test_sql_cron_literal_has_cron_command_context(make_tree: TreeMaker) -> None:
    assets = _scan(make_tree, {
        "m.sql": f"-- {SECRET}\nselect cron.schedule('j', '* * * * *', $$select '{SECRET}'$$);\n"})
    ctx = sorted((a.location.line, a.props["context"]) for a in assets if a.kind is Kind.SECRET_LITERAL)
    assert ctx == [(1, "file"), (2, "cron-command")]
