-- ssot store, migration 0001: runs, findings with their lifecycle, the run -> finding link, and
-- read-only views for agents (doctrine §6: audit findings live in Supabase's audit schema).
--
-- The `audit` schema itself is declared by the stacks (Pulumi); everything here is created only if
-- absent so the two coexist, and is owned by the role that applies the migration.

CREATE TABLE IF NOT EXISTS audit.runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    command text NOT NULL CHECK (command IN ('scan', 'preview', 'audit')),
    -- Resolution is per scope: a complete scan never resolves what only an audit of a stack saw.
    scope text NOT NULL,
    stack text,
    target text NOT NULL,
    commit_sha text,
    tool_version text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(),
    sources_read text[] NOT NULL DEFAULT '{}',
    sources_not_read text[] NOT NULL DEFAULT '{}',
    complete boolean NOT NULL,
    verdict text NOT NULL CHECK (verdict IN ('pass', 'fail', 'incomplete')),
    exit_code integer NOT NULL CHECK (exit_code IN (0, 1, 3)),
    fail_on text NOT NULL,
    critical integer NOT NULL DEFAULT 0,
    high integer NOT NULL DEFAULT 0,
    medium integer NOT NULL DEFAULT 0,
    low integer NOT NULL DEFAULT 0,
    info integer NOT NULL DEFAULT 0,
    blocking integer NOT NULL DEFAULT 0,
    suppressed integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_scope_started_idx ON audit.runs (scope, started_at DESC);

CREATE TABLE IF NOT EXISTS audit.findings (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope text NOT NULL,
    key text NOT NULL,
    rule_id text NOT NULL,
    title text NOT NULL,
    severity text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    severity_rank integer NOT NULL,
    clause text NOT NULL,
    subject text NOT NULL,
    explain text NOT NULL,
    propose text NOT NULL,
    phase text NOT NULL,
    location jsonb NOT NULL DEFAULT '{}',
    metadata jsonb NOT NULL DEFAULT '{}',
    first_seen_at timestamptz NOT NULL,
    first_seen_run bigint NOT NULL REFERENCES audit.runs (id),
    last_seen_at timestamptz NOT NULL,
    last_seen_run bigint NOT NULL REFERENCES audit.runs (id),
    -- Set only by a complete run of the same scope that started after the last sighting.
    resolved_at timestamptz,
    resolved_by_run bigint REFERENCES audit.runs (id),
    reopened_at timestamptz,
    reopen_count integer NOT NULL DEFAULT 0,
    suppressed boolean NOT NULL DEFAULT false,
    suppressed_by text,
    suppression_reason text,
    suppression_owner text,
    suppression_expires date,
    UNIQUE (scope, key)
);
CREATE INDEX IF NOT EXISTS findings_open_idx ON audit.findings (scope) WHERE resolved_at IS NULL;

CREATE TABLE IF NOT EXISTS audit.run_findings (
    run_id bigint NOT NULL REFERENCES audit.runs (id) ON DELETE CASCADE,
    finding_id bigint NOT NULL REFERENCES audit.findings (id) ON DELETE CASCADE,
    severity text NOT NULL,
    blocking boolean NOT NULL,
    suppressed boolean NOT NULL,
    PRIMARY KEY (run_id, finding_id)
);
CREATE INDEX IF NOT EXISTS run_findings_finding_idx ON audit.run_findings (finding_id);

-- Agents read these views (they run with their owner's rights) and nothing else in the schema.
CREATE OR REPLACE VIEW audit.open_findings AS
SELECT f.scope, f.key, f.rule_id, f.title,
       f.severity AS stop_severity,
       rf.blocking AS stop_blocking,
       f.clause, f.explain, f.propose, f.subject, f.location, f.phase,
       f.first_seen_at, f.last_seen_at, f.reopened_at, f.reopen_count
FROM audit.findings f
LEFT JOIN audit.run_findings rf ON rf.run_id = f.last_seen_run AND rf.finding_id = f.id
WHERE f.resolved_at IS NULL AND NOT f.suppressed;
COMMENT ON VIEW audit.open_findings IS
    'ssot: findings not resolved and not suppressed, with the doctrine''s STOP, EXPLAIN and PROPOSE.';

CREATE OR REPLACE VIEW audit.suppressed_findings AS
SELECT f.scope, f.key, f.rule_id, f.title, f.severity, f.subject, f.suppressed_by,
       f.suppression_reason, f.suppression_owner, f.suppression_expires, f.last_seen_at
FROM audit.findings f
WHERE f.resolved_at IS NULL AND f.suppressed;
COMMENT ON VIEW audit.suppressed_findings IS 'ssot: findings silenced by a suppression, with reason, owner, expiry.';

CREATE OR REPLACE VIEW audit.finding_lifecycle AS
SELECT f.scope, f.key, f.rule_id, f.title, f.severity, f.subject,
       f.first_seen_at, f.last_seen_at, f.resolved_at, f.reopened_at, f.reopen_count, f.suppressed,
       CASE WHEN f.resolved_at IS NOT NULL THEN 'resolved'
            WHEN f.suppressed THEN 'suppressed'
            WHEN f.reopened_at IS NOT NULL THEN 'reopened'
            ELSE 'open' END AS state
FROM audit.findings f;
COMMENT ON VIEW audit.finding_lifecycle IS 'ssot: every finding ever stored and where it stands.';

CREATE OR REPLACE VIEW audit.run_history AS
SELECT r.id AS run_id, r.command, r.scope, r.stack, r.commit_sha, r.tool_version, r.started_at,
       r.finished_at, r.complete, r.verdict, r.sources_read, r.sources_not_read,
       r.critical, r.high, r.medium, r.low, r.info, r.blocking, r.suppressed
FROM audit.runs r;
COMMENT ON VIEW audit.run_history IS 'ssot: one row per stored run.';

CREATE OR REPLACE VIEW audit.run_finding_history AS
SELECT rf.run_id, r.scope, r.started_at, f.key, f.rule_id, rf.severity, rf.blocking, rf.suppressed
FROM audit.run_findings rf
JOIN audit.runs r ON r.id = rf.run_id
JOIN audit.findings f ON f.id = rf.finding_id;
COMMENT ON VIEW audit.run_finding_history IS 'ssot: which run saw which finding (history).';

REVOKE ALL ON audit.runs, audit.findings, audit.run_findings FROM PUBLIC;
REVOKE ALL ON audit.open_findings, audit.suppressed_findings, audit.finding_lifecycle, audit.run_history,
    audit.run_finding_history FROM PUBLIC;
