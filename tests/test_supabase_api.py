"""ssot.supabase_api against the local Management API server, over real HTTP."""

from __future__ import annotations

import hashlib
import logging
import pickle
from collections.abc import Iterator

import pytest
from mgmt_api_server import FakeClock, MgmtApiServer, free_port_url, running_server

from ssot.errors import ProviderError, SourceUnavailable
from ssot.supabase_api import (
    ManagementApi,
    ManagementApiError,
    ManagementApiUnavailable,
    NotFound,
    RetryPolicy,
    Unauthorized,
    _parse_seconds,
)

TOKEN = "sbp_CANARY_TOKEN_7f3a9c2e41d8b6"
DB_PASS = "CANARY-dbpass-5e1b7d9a3c"
SECRET = "CANARY-secret-value-2b8e4f6a1d"


@pytest.fixture
def server() -> Iterator[MgmtApiServer]:
    with running_server(polls_until_healthy=2) as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def client(server: MgmtApiServer | str, clock: FakeClock, **kw: object) -> ManagementApi:
    url = server if isinstance(server, str) else server.url
    return ManagementApi(TOKEN, url, **clock.client_kwargs(), **kw)  # type: ignore[arg-type]


def new_project(api: ManagementApi) -> str:
    return api.create_project(name="acme-prod", organization_slug="acme-org", db_pass=DB_PASS,
                              region="eu-central-1").ref


def test_project_lifecycle_and_wait_for_healthy(server: MgmtApiServer, clock: FakeClock) -> None:
    api = client(server, clock)
    created = api.create_project(name="acme-prod", organization_slug="acme-org", db_pass=DB_PASS,
                                 region="eu-central-1", desired_instance_size="micro")
    assert created.status == "COMING_UP"
    assert (created.name, created.region, created.organization_slug) == ("acme-prod", "eu-central-1",
                                                                         "acme-org")
    project = api.wait_for_healthy(created.ref, timeout=60)
    assert project.status == "ACTIVE_HEALTHY"
    # Two COMING_UP polls, each followed by a growing wait.
    assert clock.sleeps == [2.0, 4.0]
    assert server.operations().count("v1-get-services-health") == 1

    api.update_project_name(created.ref, "acme-renamed")
    assert api.get_project(created.ref).name == "acme-renamed"  # type: ignore[union-attr]
    api.update_database_password(created.ref, DB_PASS + "-2")
    assert server.projects[created.ref].db_pass_sha256 == hashlib.sha256(
        (DB_PASS + "-2").encode()).hexdigest()

    assert api.delete_project(created.ref) is True
    assert api.get_project(created.ref) is None
    assert api.delete_project(created.ref) is False


def test_wait_for_healthy_times_out_with_last_status(clock: FakeClock) -> None:
    with running_server(polls_until_healthy=1000) as server:
        api = client(server, clock)
        ref = new_project(api)
        with pytest.raises(ProviderError) as err:
            api.wait_for_healthy(ref, timeout=30)
    assert "within 30s" in str(err.value) and "COMING_UP" in str(err.value)
    assert sum(clock.sleeps) <= 30


def test_wait_for_healthy_stops_at_a_terminal_status(clock: FakeClock) -> None:
    with running_server(polls_until_healthy=1, boot_outcome="INIT_FAILED") as server:
        api = client(server, clock)
        ref = new_project(api)
        with pytest.raises(ProviderError, match=r"INIT_FAILED.*will not help"):
            api.wait_for_healthy(ref, timeout=600)
    assert clock.sleeps == [2.0]


def test_edge_function_secrets_are_listed_as_sha256_digests(server: MgmtApiServer,
                                                            clock: FakeClock) -> None:
    api = client(server, clock)
    ref = server.add_project("p")
    api.create_secrets(ref, {"OPENAI_API_KEY": SECRET, "OTHER": "x"})
    listed = {s.name: s.digest for s in api.list_secrets(ref)}
    assert listed == {"OPENAI_API_KEY": hashlib.sha256(SECRET.encode()).hexdigest(),
                      "OTHER": hashlib.sha256(b"x").hexdigest()}
    assert api.get_secret_digest(ref, "MISSING") is None
    api.delete_secrets(ref, ["OTHER", "NEVER_EXISTED"])
    assert [s.name for s in api.list_secrets(ref)] == ["OPENAI_API_KEY"]
    with pytest.raises(NotFound):
        api.list_secrets("zzzzzzzzzzzzzzzzzzzz")


def test_services_health(server: MgmtApiServer, clock: FakeClock) -> None:
    api = client(server, clock)
    ref = server.add_project("p")
    health = api.get_services_health(ref, ["db", "rest"])
    assert [(h["name"], h["status"]) for h in health] == [("db", "ACTIVE_HEALTHY"),
                                                          ("rest", "ACTIVE_HEALTHY")]
    with pytest.raises(ProviderError, match="health services"):
        api.get_services_health(ref, ["nope"])


def test_429_is_retried_honouring_retry_after(server: MgmtApiServer, clock: FakeClock) -> None:
    api = client(server, clock)
    ref = server.add_project("p")
    server.fail_next(2, 429, retry_after="3")
    assert api.get_project(ref) is not None
    assert clock.sleeps == [3.0, 3.0]
    assert [r.status for r in server.requests] == [429, 429, 200]


def test_429_without_retry_after_uses_rate_limit_reset(server: MgmtApiServer, clock: FakeClock) -> None:
    api = client(server, clock)
    ref = server.add_project("p")
    server.fail_next(1, 429, retry_after=None, reset="7")
    api.list_secrets(ref)
    assert clock.sleeps == [7.0]


def test_retry_after_as_http_date() -> None:
    assert _parse_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now_epoch=1445412480.0) == 10.0
    assert _parse_seconds("12", now_epoch=0) == 12.0
    assert _parse_seconds("soon", now_epoch=0) is None


def test_429_past_the_budget_fails_with_operation_status_and_attempts(server: MgmtApiServer,
                                                                      clock: FakeClock) -> None:
    api = client(server, clock, retry=RetryPolicy(max_attempts=4))
    ref = server.add_project("p")
    server.fail_next(100, 429, retry_after="2")
    with pytest.raises(ManagementApiUnavailable) as err:
        api.get_project(ref)
    msg = str(err.value)
    assert "v1-get-project" in msg and "429" in msg and "4 attempt(s)" in msg
    assert (err.value.status, err.value.attempts) == (429, 4)
    assert len(server.requests) == 4 and clock.sleeps == [2.0, 2.0, 2.0]


def test_retry_after_longer_than_the_time_budget_fails_at_once(server: MgmtApiServer,
                                                               clock: FakeClock) -> None:
    api = client(server, clock, retry=RetryPolicy(max_elapsed=60))
    ref = server.add_project("p")
    server.fail_next(1, 429, retry_after="3600")
    with pytest.raises(ManagementApiUnavailable, match="1 attempt"):
        api.get_project(ref)
    assert clock.sleeps == []


def test_spent_rate_limit_window_paces_the_next_request(server: MgmtApiServer, clock: FakeClock) -> None:
    api = client(server, clock)
    ref = server.add_project("p")
    server.exhaust_window(7)
    api.get_project(ref)
    assert api.rate_limit["x-ratelimit-remaining"] == "0"
    assert clock.sleeps == []
    api.get_project(ref)
    assert clock.sleeps == [7.0]
    assert all(r.status == 200 for r in server.requests)


def test_5xx_forever_is_bounded_with_capped_backoff(server: MgmtApiServer, clock: FakeClock) -> None:
    api = client(server, clock, retry=RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=3))
    ref = server.add_project("p")
    server.fail_always(500)
    with pytest.raises(ManagementApiUnavailable) as err:
        api.list_secrets(ref)
    assert (err.value.status, err.value.attempts) == (500, 6)
    assert "v1-list-all-secrets" in str(err.value) and "HTTP 500 after 6 attempt(s)" in str(err.value)
    assert clock.sleeps == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert len(server.requests) == 6


def test_5xx_then_recovery(server: MgmtApiServer, clock: FakeClock) -> None:
    api = client(server, clock)
    ref = server.add_project("p")
    server.fail_next(2, 503, retry_after=None)
    assert api.get_project(ref) is not None
    assert len(clock.sleeps) == 2


def test_create_project_is_not_retried_after_a_5xx(server: MgmtApiServer, clock: FakeClock) -> None:
    api = client(server, clock)
    server.fail_always(500)
    with pytest.raises(ManagementApiUnavailable, match="not retried"):
        new_project(api)
    assert len(server.requests) == 1 and clock.sleeps == []


def test_401_is_not_retried_and_names_no_token(server: MgmtApiServer, clock: FakeClock) -> None:
    server.require_token("sbp_the_right_one")
    api = client(server, clock)
    with pytest.raises(Unauthorized) as err:
        api.get_project(server.add_project("p"))
    assert err.value.status == 401 and "401" in str(err.value) and TOKEN not in str(err.value)
    assert len(server.requests) == 1
    ok = ManagementApi("sbp_the_right_one", server.url, **clock.client_kwargs())
    assert ok.list_secrets(next(iter(server.projects))) == []


def test_server_down_is_source_unavailable(clock: FakeClock) -> None:
    api = client(free_port_url(), clock, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(ManagementApiUnavailable) as err:
        api.get_project("abcdefghijklmnopqrst")
    assert isinstance(err.value, SourceUnavailable) and isinstance(err.value, ProviderError)
    assert err.value.exit_code == 3 and err.value.attempts == 3
    assert "unreachable" in str(err.value) and "3 attempt(s)" in str(err.value)
    # A refused connection never carried the request, so even create may retry it.
    with pytest.raises(ManagementApiUnavailable, match="3 attempt"):
        new_project(api)


def test_bad_ref_and_bad_url_are_rejected_before_any_request(server: MgmtApiServer,
                                                             clock: FakeClock) -> None:
    api = client(server, clock)
    with pytest.raises(ProviderError, match="20 lowercase letters"):
        api.get_project("../../v1/organizations")
    assert server.requests == []
    with pytest.raises(ProviderError, match="loopback"):
        ManagementApi(TOKEN, "http://api.example.com")
    with pytest.raises(ProviderError, match="http"):
        ManagementApi(TOKEN, "ftp://127.0.0.1")
    with pytest.raises(ProviderError, match="token"):
        ManagementApi("", server.url)


def test_server_text_is_scrubbed_of_secrets_the_request_carried(server: MgmtApiServer,
                                                                clock: FakeClock) -> None:
    api = client(server, clock)
    server.fail_next(1, 400, retry_after=None,
                     message=f"db_pass {DB_PASS} rejected for token {TOKEN}")
    with pytest.raises(ManagementApiError) as err:
        new_project(api)
    assert DB_PASS not in str(err.value) and TOKEN not in str(err.value)
    assert "rejected" in str(err.value) and err.value.status == 400


def test_no_secret_reaches_repr_pickle_logs_or_output(server: MgmtApiServer, clock: FakeClock,
                                                      caplog: pytest.LogCaptureFixture,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    api = client(server, clock)
    assert TOKEN not in repr(api)
    with pytest.raises(TypeError):
        pickle.dumps(api)
    errors: list[str] = []
    server.fail_next(1, 429)
    ref = new_project(api)
    api.wait_for_healthy(ref, 60)
    server.fail_next(1, 500)
    api.create_secrets(ref, {"OPENAI_API_KEY": SECRET})
    api.list_secrets(ref)
    api.update_database_password(ref, DB_PASS + "x")
    server.fail_always(500)
    for call in (lambda: api.create_secrets(ref, {"K": SECRET}),
                 lambda: api.update_database_password(ref, DB_PASS)):
        with pytest.raises(ProviderError) as err:
            call()
        errors.append(str(err.value) + repr(err.value))
    out = capsys.readouterr()
    haystack = caplog.text + out.out + out.err + "".join(errors) + repr(api.rate_limit)
    assert "HTTP 429" in caplog.text  # the logs do describe the retries
    for canary in (TOKEN, DB_PASS, SECRET):
        assert canary not in haystack
