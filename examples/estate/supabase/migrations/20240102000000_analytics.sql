-- near miss (ownership_boundary): an aggregate projection named after invoices, not invoice records.
create schema if not exists analytics;

create or replace view analytics.invoice_kpis as
select date_trunc('month', invoice_date) as month,
       count(*) as invoices,
       sum(amount_total) as revenue
from shadow.odoo_account_move
group by 1;
