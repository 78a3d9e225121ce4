# Synchronises invoices between Odoo and the Supabase analytics schema.
{
    "name": "ACME Sync",
    "version": "17.0.1.0.0",
    "summary": "Push posted invoices to Supabase analytics",
    "depends": ["account"],
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "data/ir_config_parameter.xml",
    ],
    "license": "LGPL-3",
    "installable": True,
}
