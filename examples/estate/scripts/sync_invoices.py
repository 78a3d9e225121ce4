"""Nightly pull of invoice KPIs into Supabase (legacy script, being replaced by pg_cron)."""

import os

import requests

SUPABASE_URL = os.environ.get("SUPABASE_URL", "https://ssotestatesynthetic0.supabase.co")
# VIOLATION (hardcoded_secret + duplicated_secret): a Supabase secret key in code; the same value
# is also in ops/n8n/supabase.env.
SUPABASE_SECRET_KEY = "sb_secret_SsotEstateSynthetic7Qw3Er9Ty2Ui"


def push(rows):
    headers = {"apikey": SUPABASE_SECRET_KEY, "Authorization": f"Bearer {SUPABASE_SECRET_KEY}"}
    return requests.post(f"{SUPABASE_URL}/rest/v1/invoice_kpis", json=rows, headers=headers, timeout=30)
