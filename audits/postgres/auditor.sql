-- ssot audit: the auditor role's least-privilege access to a Supabase database.
--
-- Run as a privileged role (on Supabase: postgres, from the SQL editor or psql), once and after
-- every Supabase upgrade; it is idempotent:
--
--   psql "$ADMIN_DATABASE_URL" -c "SET ssot.auditor = 'ssot_auditor'" -f audits/postgres/auditor.sql
--
-- (locally, `ssot db auditor` applies it to the cluster `ssot db start` runs). The role name comes
-- from the setting ssot.auditor (default ssot_auditor: the stack's role of kind auditor); its
-- LOGIN and password are the stack's business (pulumi up), not this file's.
--
-- What the auditor gets, and nothing more:
--   * the system catalogs every role can read (schemas, tables and columns, roles, ACLs, default
--     privileges, extensions, functions): no grant needed;
--   * USAGE on schema vault and SELECT on the METADATA columns of vault.secrets (id, name,
--     description, key_id, created_at, updated_at): never the column `secret`, never the view
--     vault.decrypted_secrets;
--   * EXECUTE on three SECURITY DEFINER functions in schema ssot_audit, owned by the role running
--     this file (it must see every pg_cron job: superuser, BYPASSRLS, or owner of cron.job):
--       ssot_audit.cron_jobs()            every cron.job row (cron.job's row-level security shows a
--                                         role only its own jobs, username = current_user);
--       ssot_audit.cron_failures()        per job, how many runs failed and when last (no messages:
--                                         a failed command's message can quote its arguments);
--       ssot_audit.vault_fingerprints()  declared by the Pulumi program (ssot/components/audit.py);
--                                         this file only grants EXECUTE on it when it exists, and
--                                         drops the (text) variant earlier versions declared, which
--                                         fingerprinted any string the caller passed (a guess oracle).
--   Every SECURITY DEFINER function here pins search_path = '' and qualifies what it calls: otherwise
--   it resolves names through the caller's search_path, and a caller with CREATE on any schema runs
--   its own code as the owner.
--   * nothing else: no write, no CREATE, no role membership; EXECUTE revoked from PUBLIC.

SELECT set_config('ssot.auditor',
                  coalesce(nullif(current_setting('ssot.auditor', true), ''), 'ssot_auditor'), false);

DO $setup$
DECLARE
    auditor text := current_setting('ssot.auditor');
BEGIN
    IF auditor !~ '^[a-z_][a-z0-9_]{0,62}$' OR auditor ~ '^pg_' THEN
        RAISE EXCEPTION 'ssot.auditor: expected a PostgreSQL role name (lower case letters, digits, _)'
            USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = auditor) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', auditor);
    END IF;
    -- Whatever else it was given by hand, the auditor is never more than a reader.
    EXECUTE format('ALTER ROLE %I NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION', auditor);

    CREATE SCHEMA IF NOT EXISTS ssot_audit;
    COMMENT ON SCHEMA ssot_audit IS
        'ssot audit: SECURITY DEFINER readers for the least-privilege auditor role (audits/postgres/auditor.sql)';
    REVOKE ALL ON SCHEMA ssot_audit FROM PUBLIC;
    EXECUTE format('GRANT USAGE ON SCHEMA ssot_audit TO %I', auditor);

    IF to_regclass('vault.secrets') IS NOT NULL THEN
        EXECUTE format('GRANT USAGE ON SCHEMA vault TO %I', auditor);
        -- Table-level SELECT would include the ciphertext column: revoke it, grant the metadata columns.
        EXECUTE format('REVOKE ALL ON vault.secrets FROM %I', auditor);
        EXECUTE format('REVOKE ALL (secret, nonce) ON vault.secrets FROM %I', auditor);
        EXECUTE format('GRANT SELECT (id, name, description, key_id, created_at, updated_at) ON vault.secrets TO %I',
                       auditor);
        IF to_regclass('vault.decrypted_secrets') IS NOT NULL THEN
            EXECUTE format('REVOKE ALL ON vault.decrypted_secrets FROM %I', auditor);
        END IF;
    END IF;

    IF to_regclass('cron.job') IS NOT NULL THEN
        EXECUTE $f$
            CREATE OR REPLACE FUNCTION ssot_audit.cron_jobs()
            RETURNS TABLE (jobid bigint, jobname text, schedule text, command text, database text,
                           username text, active boolean)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
            AS 'SELECT j.jobid, j.jobname::text, j.schedule::text, j.command::text, j.database::text,
                       j.username::text, j.active FROM cron.job j ORDER BY j.jobid'
        $f$;
        EXECUTE $f$
            CREATE OR REPLACE FUNCTION ssot_audit.cron_failures()
            RETURNS TABLE (jobid bigint, failed bigint, last_failure timestamptz)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
            AS 'SELECT d.jobid, pg_catalog.count(*), pg_catalog.max(coalesce(d.end_time, d.start_time))
                FROM cron.job_run_details d WHERE d.status OPERATOR(pg_catalog.=) ''failed'' GROUP BY d.jobid'
        $f$;
        REVOKE ALL ON FUNCTION ssot_audit.cron_jobs() FROM PUBLIC;
        REVOKE ALL ON FUNCTION ssot_audit.cron_failures() FROM PUBLIC;
        EXECUTE format('GRANT EXECUTE ON FUNCTION ssot_audit.cron_jobs() TO %I', auditor);
        EXECUTE format('GRANT EXECUTE ON FUNCTION ssot_audit.cron_failures() TO %I', auditor);
    END IF;

    DROP FUNCTION IF EXISTS ssot_audit.vault_fingerprints(text);
    IF to_regprocedure('ssot_audit.vault_fingerprints()') IS NOT NULL THEN
        REVOKE ALL ON FUNCTION ssot_audit.vault_fingerprints() FROM PUBLIC;
        EXECUTE format('GRANT EXECUTE ON FUNCTION ssot_audit.vault_fingerprints() TO %I', auditor);
    END IF;
END
$setup$;
