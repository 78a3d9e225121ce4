-- ssot store, migration 0002: audit requests, for platforms without CI dispatch (doctrine §5).
--
-- The platform's pg_cron job inserts a request; the trigger NOTIFYs `ssot_audit_requests`;
-- `ssot audit --serve` (the worker) claims it with FOR UPDATE SKIP LOCKED, runs the audit, stores the
-- run with its request id, and marks the request done. Several workers never run one request twice.

CREATE TABLE IF NOT EXISTS audit.requests (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    command text NOT NULL DEFAULT 'audit' CHECK (command IN ('audit', 'preview')),
    stack text NOT NULL CHECK (stack ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$' AND stack !~ '\n'),
    requested_by text NOT NULL DEFAULT current_user,
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
    claimed_at timestamptz,
    claimed_by text,
    finished_at timestamptz,
    exit_code integer,
    error text
);
CREATE INDEX IF NOT EXISTS requests_pending_idx ON audit.requests (id) WHERE state = 'pending';

ALTER TABLE audit.runs ADD COLUMN IF NOT EXISTS request_id bigint REFERENCES audit.requests (id);

CREATE OR REPLACE FUNCTION audit.notify_request() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    PERFORM pg_notify('ssot_audit_requests', NEW.id::text);
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS requests_notify ON audit.requests;
CREATE TRIGGER requests_notify AFTER INSERT ON audit.requests
    FOR EACH ROW EXECUTE FUNCTION audit.notify_request();

REVOKE ALL ON audit.requests FROM PUBLIC;
REVOKE ALL ON FUNCTION audit.notify_request() FROM PUBLIC;

CREATE OR REPLACE VIEW audit.request_history AS
SELECT q.id, q.command, q.stack, q.requested_by, q.requested_at, q.state, q.finished_at, q.exit_code,
       r.id AS run_id, r.verdict
FROM audit.requests q
LEFT JOIN audit.runs r ON r.request_id = q.id;
COMMENT ON VIEW audit.request_history IS 'ssot: audit requests and the runs that answered them.';
REVOKE ALL ON audit.request_history FROM PUBLIC;
