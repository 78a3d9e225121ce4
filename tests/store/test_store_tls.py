"""A store DSN that names a remote host and no sslmode gets a verified TLS connection, not libpq's
`prefer` (which falls back to plain text). Against the real local cluster, which has no TLS: a
remote-looking name refuses to connect rather than send the password in clear."""

from __future__ import annotations

import pytest
from psycopg import conninfo as pg_conninfo

from ssot.store import DSN_ENV, StoreError, connect


def test_a_remote_store_without_sslmode_must_verify_tls(store_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGSSLMODE", raising=False)
    password = pg_conninfo.conninfo_to_dict(store_dsn)["password"]
    # the name is remote; the address is the local cluster, which speaks no TLS
    remote = pg_conninfo.make_conninfo(store_dsn, host="store.example.test", hostaddr="127.0.0.1")
    with pytest.raises(StoreError) as info:
        connect({DSN_ENV: remote})
    assert str(password) not in str(info.value)
    # an explicit choice is kept, and a local DSN is left alone
    with connect({DSN_ENV: pg_conninfo.make_conninfo(remote, sslmode="disable")}) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with connect({DSN_ENV: store_dsn}) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
