-- Billing data on the Supabase side.

-- violation (ownership_boundary): invoices are business truth; Odoo is their system of record.
create table if not exists public.invoices (
  id bigint generated always as identity primary key,
  partner_id bigint not null,
  invoice_date date not null,
  amount_total numeric(14, 2) not null,
  state text not null default 'draft'
);

-- near miss: a shadow copy of Odoo's account.move, in the shadow schema the sync owns.
create table if not exists odoo_shadow.account_move (
  id bigint primary key,
  name text,
  partner_id bigint,
  amount_total numeric(14, 2),
  synced_at timestamptz not null default now()
);

-- near miss: sync bookkeeping is platform state.
create table if not exists ops.sync_status (
  model text primary key,
  last_synced_at timestamptz,
  last_error text
);
