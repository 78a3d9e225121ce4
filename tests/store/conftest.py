"""A fresh database per test for the store (roles are cluster-wide: tests name theirs uniquely)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import conninfo as pg_conninfo
from psycopg import sql


@pytest.fixture
def store_dsn(db_conninfo: str) -> Iterator[str]:
    name = f"store_{secrets.token_hex(4)}"
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield pg_conninfo.make_conninfo(db_conninfo, dbname=name)
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def store(store_dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(store_dsn, autocommit=True) as conn:
        yield conn
