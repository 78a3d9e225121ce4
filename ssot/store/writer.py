"""Write one run and its findings; read the trend back.

Concurrency: every run takes a transaction-scoped advisory lock on its scope, so two runs of the same
scope write one after the other, and findings are upserted on (scope, key), so nothing is lost or
duplicated whichever commits first. Lifecycle decisions compare the run's *start* time with the
finding's last sighting, so a slow run that stores late cannot resolve what a later run saw, and a
sighting reopens a finding only if it happened after the resolution.

An incomplete run resolves nothing: it did not look everywhere, so absence proves nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from ssot.findings import Finding
from ssot.names import RESERVED_ROLES
from ssot.reporters._report import Report, finding_dict, suppression_of
from ssot.shape import describe
from ssot.store.errors import StoreConfigError

AGENT_VIEWS = ("open_findings", "suppressed_findings", "finding_lifecycle", "run_history", "run_finding_history",
               "request_history")
_TABLES = ("runs", "findings", "run_findings", "schema_migrations", "requests")
_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")


@dataclass(frozen=True)
class RunRecord:
    """What the report does not know about the run itself."""

    command: str
    scope: str
    target: str
    started_at: datetime
    finished_at: datetime
    stack: str | None = None
    commit_sha: str | None = None
    sources_read: Sequence[str] = field(default_factory=tuple)
    request_id: int | None = None  # the audit.requests row this run answers (the worker's runs)


def _row(f: Finding, suppressed: bool) -> dict[str, Any]:
    d = finding_dict(f)
    sup = suppression_of(f) if suppressed else {}
    expires = sup.get("expires")
    return {
        "key": f.key, "rule_id": f.rule_id, "title": f.title, "severity": f.severity.label,
        "severity_rank": int(f.severity), "clause": f.clause, "subject": f.subject, "explain": f.explain,
        "propose": f.propose, "phase": f.phase.value, "location": d["location"],
        "metadata": {k: v for k, v in d["metadata"].items() if k != "suppression"},
        "blocking": bool(f.blocking) and not suppressed, "suppressed": suppressed,
        "suppressed_by": f.suppressed_by if suppressed else None,
        "suppression_reason": sup.get("reason"), "suppression_owner": sup.get("owner"),
        "suppression_expires": expires if isinstance(expires, str) else None,
    }


def _rows(report: Report) -> list[dict[str, Any]]:
    # One row per key: the same subject reported twice (two locations) is one finding to track.
    rows: dict[str, dict[str, Any]] = {}
    for f, suppressed in [*((f, False) for f in report.findings), *((f, True) for f in report.suppressed)]:
        rows.setdefault(f.key, _row(f, suppressed))
    return list(rows.values())


_UPSERT = """
WITH x AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS x(
        key text, rule_id text, title text, severity text, severity_rank integer, clause text, subject text,
        explain text, propose text, phase text, location jsonb, metadata jsonb, blocking boolean,
        suppressed boolean, suppressed_by text, suppression_reason text, suppression_owner text,
        suppression_expires date)
), up AS (
    INSERT INTO audit.findings AS f (
        scope, key, rule_id, title, severity, severity_rank, clause, subject, explain, propose, phase, location,
        metadata, first_seen_at, first_seen_run, last_seen_at, last_seen_run, suppressed, suppressed_by,
        suppression_reason, suppression_owner, suppression_expires)
    SELECT %(scope)s, x.key, x.rule_id, x.title, x.severity, x.severity_rank, x.clause, x.subject, x.explain,
           x.propose, x.phase, x.location, x.metadata, %(seen)s, %(run)s, %(seen)s, %(run)s, x.suppressed,
           x.suppressed_by, x.suppression_reason, x.suppression_owner, x.suppression_expires
    FROM x
    ON CONFLICT (scope, key) DO UPDATE SET
        -- The description follows the latest sighting; an older run storing late changes nothing.
        rule_id = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.rule_id ELSE f.rule_id END,
        title = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.title ELSE f.title END,
        severity = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.severity ELSE f.severity END,
        severity_rank = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.severity_rank
                             ELSE f.severity_rank END,
        clause = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.clause ELSE f.clause END,
        subject = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.subject ELSE f.subject END,
        explain = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.explain ELSE f.explain END,
        propose = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.propose ELSE f.propose END,
        phase = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.phase ELSE f.phase END,
        location = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.location ELSE f.location END,
        metadata = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.metadata ELSE f.metadata END,
        suppressed = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.suppressed
                          ELSE f.suppressed END,
        suppressed_by = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.suppressed_by
                             ELSE f.suppressed_by END,
        suppression_reason = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.suppression_reason
                                  ELSE f.suppression_reason END,
        suppression_owner = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.suppression_owner
                                 ELSE f.suppression_owner END,
        suppression_expires = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at
                                   THEN EXCLUDED.suppression_expires ELSE f.suppression_expires END,
        last_seen_run = CASE WHEN EXCLUDED.last_seen_at >= f.last_seen_at THEN EXCLUDED.last_seen_run
                             ELSE f.last_seen_run END,
        last_seen_at = greatest(f.last_seen_at, EXCLUDED.last_seen_at),
        first_seen_run = CASE WHEN EXCLUDED.first_seen_at < f.first_seen_at THEN EXCLUDED.first_seen_run
                              ELSE f.first_seen_run END,
        first_seen_at = least(f.first_seen_at, EXCLUDED.first_seen_at),
        -- Seen after it was resolved: it is back.
        reopened_at = CASE WHEN f.resolved_at IS NOT NULL AND f.resolved_at <= EXCLUDED.last_seen_at
                           THEN EXCLUDED.last_seen_at ELSE f.reopened_at END,
        reopen_count = f.reopen_count + CASE WHEN f.resolved_at IS NOT NULL
                                              AND f.resolved_at <= EXCLUDED.last_seen_at THEN 1 ELSE 0 END,
        resolved_by_run = CASE WHEN f.resolved_at IS NOT NULL AND f.resolved_at <= EXCLUDED.last_seen_at
                               THEN NULL ELSE f.resolved_by_run END,
        resolved_at = CASE WHEN f.resolved_at IS NOT NULL AND f.resolved_at <= EXCLUDED.last_seen_at
                           THEN NULL ELSE f.resolved_at END
    RETURNING f.id, f.key
)
INSERT INTO audit.run_findings (run_id, finding_id, severity, blocking, suppressed)
SELECT %(run)s, up.id, x.severity, x.blocking, x.suppressed FROM up JOIN x ON x.key = up.key
"""

_RESOLVE = """
UPDATE audit.findings f
   SET resolved_at = %(seen)s, resolved_by_run = %(run)s
 WHERE f.scope = %(scope)s AND f.resolved_at IS NULL AND f.last_seen_at < %(seen)s
   AND NOT EXISTS (SELECT 1 FROM audit.run_findings rf WHERE rf.run_id = %(run)s AND rf.finding_id = f.id)
"""

# Runs of a scope may commit out of order: a complete run that started after this sighting and was
# stored earlier did not see the finding, so it stands resolved by the first such run.
_RESOLVE_BY_LATER = """
WITH later AS (
    SELECT f.id AS fid, r.id AS rid, r.started_at,
           row_number() OVER (PARTITION BY f.id ORDER BY r.started_at, r.id) AS n
      FROM audit.findings f
      JOIN audit.run_findings mine ON mine.finding_id = f.id AND mine.run_id = %(run)s
      JOIN audit.runs r ON r.scope = f.scope AND r.complete AND r.started_at > f.last_seen_at
     WHERE f.resolved_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM audit.run_findings o WHERE o.run_id = r.id AND o.finding_id = f.id)
)
UPDATE audit.findings f SET resolved_at = later.started_at, resolved_by_run = later.rid
  FROM later WHERE later.fid = f.id AND later.n = 1
"""


def _scope_lock(scope: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(f"ssot-store\x00{scope}".encode()).digest()[:8], "big", signed=True)


def store_run(conn: psycopg.Connection, report: Report, run: RunRecord) -> int:
    """Record `report` as one run of `run.scope`; returns the run's id."""
    counts = report.counts()
    rows = _rows(report)
    complete = not report.incomplete
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_scope_lock(run.scope),))
        cur = conn.execute(
            "INSERT INTO audit.runs (command, scope, stack, target, commit_sha, tool_version, started_at,"
            " finished_at, sources_read, sources_not_read, complete, verdict, exit_code, fail_on, critical, high,"
            " medium, low, info, blocking, suppressed, request_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (run.command, run.scope, run.stack, run.target, run.commit_sha, report.tool_version, run.started_at,
             run.finished_at, list(run.sources_read), list(report.incomplete), complete, report.verdict,
             report.exit_code, report.fail_on.label, counts["critical"], counts["high"], counts["medium"],
             counts["low"], counts["info"], len(report.blocking), len(report.suppressed), run.request_id))
        row = cur.fetchone()
        assert row is not None
        run_id = int(row[0])
        params = {"scope": run.scope, "run": run_id, "seen": run.started_at}
        if rows:
            conn.execute(_UPSERT, {**params, "rows": json.dumps(rows)})
            conn.execute(_RESOLVE_BY_LATER, params)
        if complete:
            conn.execute(_RESOLVE, params)
    return run_id


def grant_agent_read(conn: psycopg.Connection, roles: Iterable[str]) -> list[str]:
    """Let each existing agent role read the views and nothing else in `audit`; returns the roles granted.

    A role that is a superuser, owns the audit tables or is the session's own role is skipped: revoking
    its table rights would break the writer, and a superuser reads everything anyway.
    """
    granted = []
    with conn.transaction():
        for role in sorted(set(roles)):
            if not _ROLE.match(role) or role in RESERVED_ROLES:
                raise StoreConfigError(f"agent role: expected a lowercase role name matching [a-z_][a-z0-9_]* (at "
                                       "most 63 characters), not one of Supabase's own roles; got "
                                       f"{role if role in RESERVED_ROLES else describe(role)}")
            found = conn.execute(
                "SELECT r.rolsuper, r.rolname = current_user"
                " OR EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname = 'audit' AND t.tableowner = r.rolname)"
                " FROM pg_roles r WHERE r.rolname = %s", (role,)).fetchone()
            if found is None or found[0] or found[1]:
                continue
            ident = sql.Identifier(role)
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA audit TO {}").format(ident))
            conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(
                sql.SQL(", ").join(sql.Identifier("audit", t) for t in _TABLES), ident))
            # The identity sequences behind them too (default privileges may have granted them).
            sequences = conn.execute(
                "SELECT sn.nspname, s.relname FROM pg_class s JOIN pg_namespace sn ON sn.oid = s.relnamespace"
                " JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass"
                "  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
                " JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace"
                " WHERE s.relkind = 'S' AND tn.nspname = 'audit' AND t.relname = ANY(%s)", (list(_TABLES),)).fetchall()
            for nsp, rel in sequences:
                conn.execute(sql.SQL("REVOKE ALL ON SEQUENCE {} FROM {}").format(sql.Identifier(nsp, rel), ident))
            conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(
                sql.SQL(", ").join(sql.Identifier("audit", v) for v in AGENT_VIEWS), ident))
            granted.append(role)
    return granted


def recent_runs(conn: psycopg.Connection, scope: str, limit: int = 30) -> list[dict[str, Any]]:
    """The last `limit` runs of a scope, oldest first: what the report's trend chart draws."""
    cur = conn.execute(
        "SELECT id, command, started_at, complete, verdict, critical, high, medium, low, info, blocking, suppressed"
        " FROM audit.runs WHERE scope = %s ORDER BY started_at DESC, id DESC LIMIT %s", (scope, limit))
    names = [c.name for c in cur.description or ()]
    out = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    for r in out:
        r["started_at"] = r["started_at"].isoformat(timespec="seconds")
    return list(reversed(out))
