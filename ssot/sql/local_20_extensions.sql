-- ssot local database bootstrap, step 2: the extensions schema, pgcrypto, uuid-ossp and pg_cron,
-- where a Supabase project has them. Idempotent.

CREATE SCHEMA IF NOT EXISTS extensions;
GRANT USAGE ON SCHEMA extensions TO anon, authenticated, service_role;

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA extensions;

-- pg_cron must live in the database named by cron.database_name (postgres); it creates schema cron.
-- `WITH SCHEMA pg_catalog` as Supabase's own instructions install it.
CREATE EXTENSION IF NOT EXISTS pg_cron WITH SCHEMA pg_catalog;
