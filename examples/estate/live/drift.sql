-- What happened to the estate's database after the deploy, out of band (the SQL editor, a script):
-- the planted drift that `ssot audit` must find, and near misses that must stay quiet. Applied by
-- seed.py after the state export was recorded. No value is written here: new values are generated
-- inside the database.

-- Planted: a grant made by hand (the agent may now delete AI summaries).
GRANT DELETE ON ai.summaries TO acme_agent;

-- Planted: a pg_cron schedule changed (cron.schedule upserts by name and keeps the command).
SELECT cron.schedule('nightly-sync', '0 3 * * *', command) FROM cron.job WHERE jobname = 'nightly-sync';

-- Planted: a Vault secret edited out of band (a new value nobody set in the stack).
SELECT vault.update_secret(id, translate(encode(extensions.gen_random_bytes(24), 'base64'), E'\n', ''))
FROM vault.secrets WHERE name = 'n8n_webhook_token';

-- Planted: an unmanaged Vault secret, created by hand.
SELECT vault.create_secret(translate(encode(extensions.gen_random_bytes(24), 'base64'), E'\n', ''),
                           'legacy_erp_token', 'created by hand during the ERP migration');

-- Planted: a schema dropped (and with it, the grants declared on it).
DROP SCHEMA odoo_shadow CASCADE;

-- Near miss: re-scheduling a job with the same schedule and command changes nothing.
SELECT cron.schedule('push-kpis', schedule, command) FROM cron.job WHERE jobname = 'push-kpis';

-- Near miss: touching a Vault secret's metadata without a new value (updated_at moves, the value does not).
SELECT vault.update_secret(id) FROM vault.secrets WHERE name = 'stripe_api_key';

-- Near miss: Supabase's own roles granted on a table in public (Supabase's schema, not the platform's).
CREATE TABLE public.feature_flags (name text PRIMARY KEY, enabled boolean NOT NULL);
GRANT SELECT ON public.feature_flags TO anon, authenticated;

-- Planted: a failed run of a declared job, recorded by pg_cron: not drift, but a job failing now is
-- orchestration state to make visible (cron_job_failing, low).
INSERT INTO cron.job_run_details (jobid, runid, database, username, command, status, return_message,
                                  start_time, end_time)
SELECT jobid, 1, 'postgres', 'postgres', 'select 1', 'failed', 'connection refused', now(), now()
FROM cron.job WHERE jobname = 'push-kpis';

-- Planted: a "helper" written so an Edge Function could fetch the Stripe key. SECURITY DEFINER runs it
-- as its owner, and PostgreSQL's default EXECUTE for PUBLIC lets anon call it over the data API
-- (/rest/v1/rpc/get_stripe_key): Vault's plaintext for anyone with the public key.
CREATE FUNCTION public.get_stripe_key() RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = 'stripe_api_key' $$;

-- Near miss: the same kind of helper, executable only by service_role (the server-side key's role).
CREATE FUNCTION public.get_n8n_webhook_token() RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = 'n8n_webhook_token' $$;
REVOKE EXECUTE ON FUNCTION public.get_n8n_webhook_token() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.get_n8n_webhook_token() TO service_role;
