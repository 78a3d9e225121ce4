# Imports bank statements in the background.
{
    "name": "ACME Statement Import",
    "version": "17.0.1.0.0",
    "summary": "Import bank statements in the background",
    # VIOLATION (odoo_job_runner): queue_job and queue_job_cron make Odoo a job runner.
    "depends": ["account", "mail", "queue_job", "queue_job_cron"],
    "data": [
        "data/ir_cron.xml",
    ],
    "license": "LGPL-3",
    "installable": True,
}
