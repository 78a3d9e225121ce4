-- What the data API (anon, authenticated, PUBLIC) may reach.

-- violation (exposed_role_grant): anyone holding the public key may rewrite the shadow copies of
-- Odoo's records.
grant select, insert, update on all tables in schema odoo_shadow to anon;

-- violation (exposed_role_grant): every signed-up user would read each new audit table.
alter default privileges in schema audit grant select on tables to authenticated;

-- near miss: signed-in users read a KPI view (row level security on the tables underneath).
grant usage on schema analytics to authenticated;
grant select on analytics.invoice_kpis to authenticated;

-- near miss: granted, then taken back in the same migration.
grant select on all tables in schema audit to anon;
revoke select on all tables in schema audit from anon;

-- near miss: commented out.
-- grant insert on all tables in schema ops to anon;
