-- Scheduled refreshes of the analytics projections.
create extension if not exists pg_cron;

-- VIOLATION (hardcoded_secret): a service_role JWT pasted into a pg_cron command.
select cron.schedule(
  'refresh-kpis',
  '*/15 * * * *',
  $$
  select net.http_post(
    url := 'https://ssotestatesynthetic0.supabase.co/functions/v1/kpi-refresh',
    headers := '{"Content-Type": "application/json", "Authorization": "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6InNzb3Rlc3RhdGVzeW50aGV0aWMwIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoyMDAwMDAwMDAwfQ.rOTth3UZGrr_zQrypkYTnCu312LQD7h22as09BL6TK8"}'::jsonb
  );
  $$
);

-- near miss: the token is read from Vault when the job runs.
select cron.schedule(
  'nightly-export',
  '0 3 * * *',
  $$
  select net.http_post(
    url := 'https://ssotestatesynthetic0.supabase.co/functions/v1/nightly-export',
    headers := jsonb_build_object(
      'Content-Type', 'application/json',
      'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where name = 'scheduler_token')
    )
  );
  $$
);
