from odoo.tests.common import TransactionCase


class TestStatementImport(TransactionCase):
    def test_import_is_delayed(self):
        statement = self.env["account.bank.statement"].create({"name": "test"})
        # near miss: what a test enqueues runs in the test database only
        statement.with_delay()._import_lines()
        self.assertTrue(self.env["queue.job"].search([]))
