-- The estate's data tables, as its migrations and applications left them after the last deploy
-- (the schemas, roles, grants, Vault secrets and pg_cron jobs come from stacks/Pulumi.dev.yaml: see
-- seed.py). Applied by seed.py after the schemas exist and before the grants.

CREATE TABLE ai.summaries (id bigint PRIMARY KEY, body text NOT NULL);
CREATE TABLE ai.embeddings (id bigint PRIMARY KEY, embedding real[] NOT NULL);
CREATE TABLE analytics.invoice_kpis (day date PRIMARY KEY, invoices integer NOT NULL, total numeric NOT NULL);
CREATE TABLE ops.sync_status (id bigint PRIMARY KEY, state text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE odoo_shadow.account_move (id bigint PRIMARY KEY, name text NOT NULL, amount_total numeric);
