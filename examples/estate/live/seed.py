"""The estate's live database: what production looks like after a deploy, then out-of-band changes.

    .venv/bin/python examples/estate/live/seed.py --datadir DIR --state-out FILE

On the local cluster in DIR (`ssot db start --datadir DIR`; a cluster of its own, not the project's):

1. deploy: what `pulumi up` of stacks/Pulumi.dev.yaml creates, read from the declaration itself
   (schemas, roles, grants, default privileges, Vault secrets with fresh random values, pg_cron jobs)
   plus the data tables of deploy.sql;
2. the audit's access: audits/postgres/auditor.sql for the stack's auditor (audit.database.user) and
   the Vault fingerprint function with its key (SSOT_FINGERPRINT_KEY, else a random one);
3. the state export CD would keep (`pulumi stack export`): the program's resources, with each Vault
   secret's fingerprint as the provider records it, computed in the database; secrets as ciphertext;
4. drift.sql: the out-of-band changes and near misses.

Idempotent: every run starts from a clean estate. No value is printed or written anywhere but Vault.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ssot import auditor_setup, localdb
from ssot.mockrun import run_stack
from ssot.model import Platform, load_platform, stack_file
from ssot.sources.state import _MARK_FIELD, _MARK_VALUE

HERE = Path(__file__).resolve().parent
ESTATE = HERE.parent
STACK = "dev"
PLURAL = {"table": "TABLES", "sequence": "SEQUENCES", "function": "FUNCTIONS"}


def _reset(conn: psycopg.Connection, decl: Platform, auditor: str) -> None:
    for s in [*(s.name for s in decl.schemas), "ssot_audit"]:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(s)))
    conn.execute("DROP TABLE IF EXISTS public.feature_flags")
    conn.execute("DROP FUNCTION IF EXISTS public.get_stripe_key(), public.get_n8n_webhook_token()")
    for r in [*(r.name for r in decl.roles), auditor]:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (r,)).fetchone():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(r)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(r)))
    conn.execute("DELETE FROM vault.secrets")
    conn.execute("SELECT cron.unschedule(jobid) FROM cron.job")
    conn.execute("DELETE FROM cron.job_run_details")


def _deploy(conn: psycopg.Connection, decl: Platform) -> dict[str, str]:
    """Deploy; return each secret-config key's deployed value (in memory only: for the state's digests)."""
    ident = sql.Identifier
    for s in decl.schemas:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(ident(s.name)))
    conn.execute((HERE / "deploy.sql").read_text().encode())
    for r in decl.roles:
        conn.execute(sql.SQL("CREATE ROLE {} " + ("LOGIN PASSWORD {}" if r.login else "NOLOGIN")).format(
            ident(r.name), sql.Literal(secrets.token_urlsafe(24))))
    for g in decl.grants:
        privs = sql.SQL(", ").join(sql.SQL(p) for p in g.privileges)
        on = (sql.SQL("SCHEMA {}").format(ident(g.schema)) if g.on == "schema"
              else sql.SQL("ALL {} IN SCHEMA {}").format(sql.SQL(PLURAL[g.on]), ident(g.schema)))
        conn.execute(sql.SQL("GRANT {} ON {} TO {}").format(privs, on, ident(g.role)))
    for d in decl.default_privileges:
        conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT {} ON {} TO {}").format(
            ident(d.owner), ident(d.schema), sql.SQL(", ").join(sql.SQL(p) for p in d.privileges),
            sql.SQL(PLURAL[d.on]), ident(d.role)))
    shared = _shared_values()
    by_ref: dict[str, str] = {}
    for v in decl.vault_secrets:
        # A fresh random value per run (the estate holds no secret, and none is ever shown), except the
        # published fake value the estate's other stores also hold (live/README.md, "The shared canary").
        value = shared.get(v.name) or secrets.token_urlsafe(32)
        conn.execute("SELECT vault.create_secret(%s, %s, %s)", (value, v.name, v.description))
        if v.value.kind == "secret-config" and v.value.ref:
            by_ref[v.value.ref] = value
    for j in decl.cron_jobs:
        conn.execute("SELECT cron.schedule(%s, %s, %s)", (j.name, j.schedule, j.command))
    return by_ref


def _shared_values() -> dict[str, str]:
    """Vault name -> the synthetic value AWS (aws-data.json) also holds under `acme/<name>`."""
    path = HERE / "aws-data.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {str(x["name"]).removeprefix("acme/"): str(x["value"]) for x in data.get("secrets", [])
            if str(x.get("name", "")).startswith("acme/") and x.get("name") == "acme/stripe_api_key"}


def _secret(_value: Any) -> dict[str, str]:
    return {_MARK_FIELD: _MARK_VALUE, "ciphertext": "v1:" + secrets.token_urlsafe(24)}


def _shown(value: str) -> dict[str, str]:
    return {_MARK_FIELD: _MARK_VALUE, "plaintext": json.dumps(value)}


def _state(conn: psycopg.Connection, decl: Platform, by_ref: dict[str, str]) -> dict[str, Any]:
    fingerprints = {n: fp for n, fp, probe in conn.execute(
        "SELECT name, fingerprint, is_probe FROM ssot_audit.vault_fingerprints()") if not probe}
    with contextlib.redirect_stderr(io.StringIO()):  # the SDK's chatter about mock outputs
        run = run_stack(ESTATE, STACK, env={"PULUMI_SKIP_UPDATE_CHECK": "1"})
    resources = []
    for r in run.resources:
        inputs = {k: (_secret(v) if k in r.secret_inputs else v) for k, v in r.inputs.items()}
        outputs = dict(r.outputs) if not r.custom else dict(inputs)
        if r.type == "pulumi-python:dynamic/ssot:VaultSecret":
            # A secret output, as `pulumi stack export --show-secrets` writes it.
            fp = fingerprints.get(str(r.inputs.get("name")))
            outputs["fingerprint"] = _shown(fp) if fp is not None else None
        if r.type == "pulumi-python:dynamic/ssot:EdgeFunctionSecret":
            # What the Edge provider records after `pulumi up`: the digest Supabase reports (SHA-256)
            # of the value it set, here the value the same config key gave Vault.
            ref = next((e.value.ref for e in decl.edge_secrets if e.name == r.inputs.get("name")), None)
            if ref in by_ref:
                outputs["digest"] = hashlib.sha256(by_ref[ref].encode()).hexdigest()
        resources.append({"urn": r.urn, "custom": r.custom, "type": r.type, "inputs": inputs,
                          "outputs": outputs, **({"parent": r.parent} if r.parent else {})})
    return {"version": 3, "deployment": {"manifest": {"time": "2026-01-01T00:00:00Z", "version": "v3"},
                                         "resources": resources}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--datadir", type=Path, required=True, help="the estate's local cluster (ssot db start --datadir)")
    p.add_argument("--state-out", type=Path, required=True, help="where to write the state export")
    p.add_argument("--no-drift", action="store_true", help="deploy only: the fixed state, which must audit clean")
    args = p.parse_args(argv)
    path = stack_file(STACK, ESTATE)
    decl = load_platform(path, stack=STACK, strict=False)
    auditor = decl.audit.db_user if decl.audit and decl.audit.db_user else "ssot_auditor"
    st = localdb.status(args.datadir)
    if not st.running or st.port is None or st.pid is None:
        print(f"seed: the local database in {st.datadir} is not running (ssot db start --datadir ...)",
              file=sys.stderr)
        return 2
    db = localdb.LocalDb(datadir=st.datadir, port=st.port, pid=st.pid)
    with psycopg.connect(db.conninfo(), autocommit=True, application_name="ssot-estate-seed") as conn:
        _reset(conn, decl, auditor)
        with conn.transaction():
            by_ref = _deploy(conn, decl)
        # The key the program fingerprints under: SSOT_FINGERPRINT_KEY when set (the estate's
        # credentials.env gives it, as CD gives the audit a declared fingerprintKey), else a random one
        # as the program generates for a stack without fingerprintKey (the audit then cannot compare).
        key = os.environ.get("SSOT_FINGERPRINT_KEY") or secrets.token_urlsafe(32)
        auditor_setup.apply(conn, auditor, key)
        state = _state(conn, decl, by_ref)
        if not args.no_drift:
            with conn.transaction():
                conn.execute((HERE / "drift.sql").read_text().encode())
    args.state_out.parent.mkdir(parents=True, exist_ok=True)
    args.state_out.write_text(json.dumps(state, indent=1, default=str))
    print(f"estate live side seeded: {len(state['deployment']['resources'])} resources in the state export "
          f"{args.state_out}; " + ("no drift planted (the fixed state)" if args.no_drift
                                   else "drift planted (see examples/estate/README.md, 'Live side')"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
