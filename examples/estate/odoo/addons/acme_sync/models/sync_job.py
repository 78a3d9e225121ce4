import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class AcmeSyncJob(models.Model):
    _name = "acme.sync.job"
    _description = "Invoice push to Supabase"

    name = fields.Char(required=True)
    endpoint_url = fields.Char()
    # VIOLATION (secret_placement): a credential stored in an Odoo model.
    api_token = fields.Char(groups="base.group_system")
    # near misses: not secret-holding field types
    token_expiry = fields.Datetime()
    use_token = fields.Boolean(default=True)
    last_push = fields.Datetime()

    @api.model
    def _cron_push_invoices(self):
        for job in self.search([]):
            _logger.info("pushing invoices for %s", job.name)

    def _register_hook(self):
        # VIOLATION (odoo_cron): a scheduled action created from Python at registry load.
        super()._register_hook()
        cron = self.env["ir.cron"].sudo()
        if not cron.search([("cron_name", "=", "ACME: retry failed pushes")]):
            self.env["ir.cron"].sudo().create({
                "name": "ACME: retry failed pushes",
                "model_id": self.env.ref("acme_sync.model_acme_sync_job").id,
                "state": "code",
                "code": "model._cron_push_invoices()",
                "interval_number": 30,
                "interval_type": "minutes",
                "active": True,
            })
