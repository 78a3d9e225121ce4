-- ssot local database bootstrap, step 4: a STAND-IN for Supabase's pg_net.
--
-- THIS IS NOT pg_net. The real extension (supabase/pg_net) sends HTTP requests asynchronously from
-- a background worker and is not packaged for Debian. This file gives the local database the one
-- function ssot's pg_cron jobs call, with pg_net's signature:
--   net.http_post(url text, body jsonb, params jsonb, headers jsonb, timeout_milliseconds int) returns bigint
-- It sends nothing: it records each request in net.stand_in_requests and returns the request id, so
-- tests can check what a job would have sent (including a token read from Vault) without a network.
-- Like pg_net's own request queue, the recorded headers hold what the job put there: the table is
-- readable by its owner only. Idempotent: applied on every `ssot db start`.

CREATE SCHEMA IF NOT EXISTS net;
COMMENT ON SCHEMA net IS
    'STAND-IN for Supabase pg_net, created by ssot for the local database only: net.http_post records '
    'requests in net.stand_in_requests and sends nothing. Not the real extension.';
REVOKE ALL ON SCHEMA net FROM PUBLIC;
GRANT USAGE ON SCHEMA net TO service_role;

CREATE TABLE IF NOT EXISTS net.stand_in_requests (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    method text NOT NULL DEFAULT 'POST',
    url text NOT NULL,
    body jsonb,
    params jsonb,
    headers jsonb,
    timeout_milliseconds integer,
    requested_by name NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE net.stand_in_requests IS
    'ssot pg_net stand-in: what net.http_post was asked to send (nothing is sent). Owner-only.';
REVOKE ALL ON net.stand_in_requests FROM PUBLIC, anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION net.http_post(
    url text,
    body jsonb DEFAULT '{}'::jsonb,
    params jsonb DEFAULT '{}'::jsonb,
    headers jsonb DEFAULT '{"Content-Type": "application/json"}'::jsonb,
    timeout_milliseconds integer DEFAULT 5000
) RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    created bigint;
BEGIN
    IF url IS NULL OR url !~ '^https?://' THEN
        RAISE EXCEPTION 'pg_net stand-in: url must be http(s)' USING ERRCODE = '22023';
    END IF;
    INSERT INTO net.stand_in_requests (url, body, params, headers, timeout_milliseconds, requested_by)
    VALUES (url, body, params, headers, timeout_milliseconds, session_user)
    RETURNING id INTO created;
    RETURN created;
END
$$;
COMMENT ON FUNCTION net.http_post(text, jsonb, jsonb, jsonb, integer) IS
    'ssot pg_net stand-in: records the request in net.stand_in_requests; sends nothing.';
REVOKE ALL ON FUNCTION net.http_post(text, jsonb, jsonb, jsonb, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION net.http_post(text, jsonb, jsonb, jsonb, integer) TO service_role;
