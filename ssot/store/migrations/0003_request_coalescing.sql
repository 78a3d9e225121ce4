-- ssot store, migration 0003: requests that queued up while no worker ran are answered once.
--
-- When the worker claims the newest pending request of a (command, stack), the older pending ones of
-- the same pair are marked `superseded` and point at it: one audit answers them all, instead of a
-- backlog of identical audits after the worker was down.

ALTER TABLE audit.requests DROP CONSTRAINT IF EXISTS requests_state_check;
ALTER TABLE audit.requests ADD CONSTRAINT requests_state_check
    CHECK (state IN ('pending', 'running', 'done', 'failed', 'superseded'));
ALTER TABLE audit.requests ADD COLUMN IF NOT EXISTS superseded_by bigint REFERENCES audit.requests (id);
