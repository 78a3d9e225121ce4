"""Which endpoints may carry credentials without verified TLS (ssot/transport.py)."""

from __future__ import annotations

import pytest

from ssot.transport import is_loopback_host, postgres_tls_defaults


@pytest.mark.parametrize(("host", "loopback"), [
    ("localhost", True), ("LOCALHOST", True), ("127.0.0.1", True), ("127.200.3.4", True), ("::1", True),
    ("[::1]", True), ("127.0.0.1.evil.test", False), ("localhost.evil.test", False), ("10.0.0.1", False),
    ("::2", False), ("db.example.test", False), ("", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(("params", "added"), [
    ({"host": "db.example.test"}, {"sslmode": "verify-full"}),
    ({"host": "127.0.0.1,db.example.test"}, {"sslmode": "verify-full"}),
    ({"host": "localhost", "hostaddr": "10.1.2.3"}, {"sslmode": "verify-full"}),
    ({"host": "db.example.test", "sslmode": "require"}, {}),
    ({"host": "127.0.0.1"}, {}), ({"host": "/run/postgresql"}, {}), ({}, {}),
    ({"host": "localhost", "hostaddr": "127.0.0.1"}, {}),
])
def test_postgres_tls_defaults(params: dict[str, str], added: dict[str, str]) -> None:
    assert postgres_tls_defaults(params, env={}) == added


def test_pgsslmode_is_an_explicit_choice() -> None:
    assert postgres_tls_defaults({"host": "db.example.test"}, env={"PGSSLMODE": "require"}) == {}
