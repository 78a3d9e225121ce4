"""Versioned migrations of the `audit` store, applied by ssot itself.

Files `migrations/NNNN_name.sql` apply in version order, each once, recorded in
`audit.schema_migrations` with a checksum (an edited, already-applied migration is an error, not a
silent skip). Everything runs in one transaction behind a transaction-scoped advisory lock, so two
runs that migrate at the same moment apply each migration exactly once: the second waits, then
finds the work done.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from ssot.store.errors import StoreError

# An arbitrary constant shared by every ssot version: the lock is what serializes migrators.
MIGRATION_LOCK = 0x55_50_54_AD_17_00_00_01
_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql\Z")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations() -> list[Migration]:
    folder = resources.files("ssot.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        m = _FILE.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise StoreError("two store migrations share a version number (a packaging error in ssot)")
    return found


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply the missing migrations; returns the versions applied by this call (often none)."""
    applied_now: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        # Checked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema
        # exists, and a store role may only have USAGE, CREATE on the stacks' `audit` schema.
        if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'audit'").fetchone() is None:
            conn.execute("CREATE SCHEMA audit")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS audit.schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now(), tool_version text NOT NULL)")
        done = {int(v): str(c) for v, c in conn.execute("SELECT version, checksum FROM audit.schema_migrations")}
        known = migrations()
        for mig in known:
            if mig.version in done:
                if done[mig.version] != mig.checksum:
                    raise StoreError(f"store migration {mig.version:04d}_{mig.name} was applied with different "
                                     "contents: the audit schema was migrated by another ssot build")
                continue
            conn.execute(mig.sql.encode())
            from ssot import __version__

            conn.execute("INSERT INTO audit.schema_migrations (version, name, checksum, tool_version) "
                         "VALUES (%s, %s, %s, %s)", (mig.version, mig.name, mig.checksum, __version__))
            applied_now.append(mig.version)
        newer = sorted(set(done) - {m.version for m in known})
        if newer:
            raise StoreError(f"the audit schema has migration {newer[-1]:04d}, newer than this ssot knows: "
                             "upgrade ssot before storing runs")
    return applied_now
