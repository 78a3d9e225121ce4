"""`ssot db auditor`: the audit's least-privilege access on the local database.

What a database administrator does once on a real project (`audits/postgres/auditor.sql`) and what
`pulumi up` declares (the Vault fingerprint function and its key, `ssot/components/audit.py`),
applied to the local cluster `ssot db start` runs, where no `pulumi up` reaches.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from ssot import localdb
from ssot.errors import SsotError
from ssot.names import pg_identifier_problem
from ssot.providers import audit_function as audit_component

# What the Pulumi program's key secret is described as (ssot/components/audit.py).
KEY_DESCRIPTION = "ssot: key of the Vault fingerprints the audit compares (HMAC-SHA256)"
AUDITOR_SQL = Path(__file__).resolve().parents[1] / "audits" / "postgres" / "auditor.sql"


def auditor_sql() -> str:
    try:
        return AUDITOR_SQL.read_text(encoding="utf-8")
    except OSError as exc:
        raise SsotError(f"{AUDITOR_SQL}: cannot read the auditor setup ({exc.strerror})") from None


def apply(conn: psycopg.Connection, role: str, fingerprint_key: str | None = None) -> None:
    """Apply auditor.sql for `role`, then the fingerprint function and, if Vault has none, its key
    (`fingerprint_key`, else 32 random bytes generated in the database). Idempotent."""
    problem = pg_identifier_problem(role)
    if problem:
        raise SsotError(f"--role: expected {problem}")
    key_name = audit_component.KEY_SECRET
    with conn.transaction():
        conn.execute(sql.SQL("SELECT set_config('ssot.auditor', {}, false)").format(sql.Literal(role)))
        conn.execute(auditor_sql().encode())
        conn.execute(audit_component.create_function_sql())
        conn.execute(audit_component.grant_sql(role))
        exists = conn.execute("SELECT 1 FROM vault.secrets WHERE name = %s", (key_name,)).fetchone()
        if exists is None:
            if fingerprint_key is not None:
                conn.execute("SELECT vault.create_secret(%s, %s, %s)",
                             (fingerprint_key, key_name, KEY_DESCRIPTION))
            else:
                conn.execute("SELECT vault.create_secret(translate(encode(extensions.gen_random_bytes(32), 'base64'),"
                             " E'\\n', ''), %s, %s)", (key_name, KEY_DESCRIPTION))


def local_stack_key() -> str | None:
    """The key the local database's fingerprints are under: SSOT_FINGERPRINT_KEY (a declared
    fingerprintKey, as the audit is given it), else None: the database generates a random one."""
    import os

    return os.environ.get("SSOT_FINGERPRINT_KEY") or None


def setup_local(datadir: Path | None, role: str, fingerprint_key: str | None = None) -> str:
    st = localdb.status(datadir)
    if not st.running or st.port is None or st.pid is None:
        raise SsotError(f"the local database in {st.datadir} is not running: start it with `ssot db start`")
    db = localdb.LocalDb(datadir=st.datadir, port=st.port, pid=st.pid)
    try:
        with psycopg.connect(db.conninfo(), autocommit=True, application_name="ssot-auditor-setup") as conn:
            apply(conn, role, fingerprint_key if fingerprint_key is not None else local_stack_key())
    except psycopg.Error as exc:
        raise SsotError(f"setting up the auditor on the local database failed: "
                        f"{exc.diag.message_primary or type(exc).__name__}") from None
    return role
