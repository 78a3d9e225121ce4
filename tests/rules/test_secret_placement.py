from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ssot.findings import Severity
from ssot.inventory import Asset, Kind, Location, Phase, Provenance, Store
from ssot.rules.secret_placement import RULE
from ssot.sources.odoo_addons import PyFacts, judge_by_usage, python_scan, xml_assets

from ._cases import YESTERDAY, Case, Expect, justification, rows, run_case

EDGE_LOC = Location(urn="urn:pulumi:dev::ssot::ssot:EdgeSecret::GITHUB_WEBHOOK_SECRET")
AWS_LOC = Location(object="arn:aws:secretsmanager:eu-central-1:123:secret:prod/github-app")
SSM_LOC = Location(object="/prod/n8n/webhook")
ODOO_PARAM_LOC = Location(object="ir.config_parameter,12")
FIELD_LOC = Location(path="addons/acme_sync/models/res_company.py", line=14)
VAULT_LOC = Location(urn="urn:pulumi:dev::ssot::ssot:VaultSecret::github_webhook_secret")
STACK_LOC = Location(path="stacks/Pulumi.dev.yaml", line=33)


def edge(p: Phase, name: str = "GITHUB_WEBHOOK_SECRET", category: str | None = "webhook",
         reason: str | None = None, config_key: str = "githubWebhookSecret") -> Asset:
    return Asset(Kind.EDGE_SECRET, Store.EDGE, name, p, EDGE_LOC,
                 props={"category": category, "runtime_only_reason": reason},
                 provenance=Provenance("secret-config", config_key), fingerprint="e" * 64)


def aws(p: Phase, category: str = "github-app") -> Asset:
    return Asset(Kind.AWS_SECRET, Store.AWS_SECRETS_MANAGER, "prod/github-app", p, AWS_LOC,
                 props={"category": category, "secure": True}, fingerprint="a" * 64)


def vault(p: Phase) -> Asset:
    return Asset(Kind.VAULT_SECRET, Store.VAULT, "github_webhook_secret", p, VAULT_LOC,
                 props={"category": "webhook"}, provenance=Provenance("secret-config", "secrets.gh"))


def addon(phase: Phase, files: dict[str, str]) -> list[Asset]:
    """What the addon scanner makes of these files (Python and XML), in the given phase."""
    out: list[Asset] = []
    facts = PyFacts()
    for rel, text in files.items():
        if rel.endswith(".py"):
            found, py_facts = python_scan(text, rel, None)
            out += found
            facts.update(py_facts)
        else:
            out += xml_assets(text, rel, None, True)
    judge_by_usage(out, facts)
    return [dataclasses.replace(a, phase=phase) for a in out]


# OCA password_security's shape: integer settings whose keys contain "password", read with int().
POLICY_PY = """
class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"
    password_expiration = fields.Integer(config_parameter="password_security.expiration_days")
    password_history = fields.Integer(config_parameter="password_security.history")

class ResUsers(models.Model):
    _inherit = "res.users"
    def _policy(self):
        params = self.env["ir.config_parameter"].sudo()
        return int(params.get_param("password_security.minimum_hours", default=0))

class PassHistory(models.Model):
    _name = "res.users.pass.history"
    password_crypt = fields.Char(string="Encrypted Password")

class SaleOrder(models.Model):
    _name = "acme.portal.order"
    access_token = fields.Char(copy=False)

def post_init(env, value):
    env["ir.config_parameter"].set_param("password_security.minimum_hours", value)
    env["ir.config_parameter"].set_param("password_security.lower", 1)
"""
POLICY_XML = """<odoo>
  <record id="p1" model="ir.config_parameter">
    <field name="key">auth_password_policy.minlength</field><field name="value">12</field>
  </record>
</odoo>
"""
# Credentials of other systems kept in Odoo: the same scanner must still report them.
CREDENTIALS_PY = """
class MailServer(models.Model):
    _name = "acme.mail.server"
    smtp_password = fields.Char()

def setup(env, secret):
    env["ir.config_parameter"].set_param("acme.webhook_secret", secret)
"""
CREDENTIALS_XML = """<odoo>
  <record id="p2" model="ir.config_parameter">
    <field name="key">acme.payment</field><field name="value">Qm9vX2xpdmVfN3hLcTJ2UjlwTDR3WjhtTjE</field>
  </record>
</odoo>
"""


EDGE_SUBJECT = "edge:GITHUB_WEBHOOK_SECRET"
AWS_SUBJECT = "aws-secret:prod/github-app"

CASES = [
    Case("nothing there", lambda p: []),
    Case("near miss", lambda p: [
        vault(p),
        # runtime-only, said so: the doctrine's allowed exception
        edge(p, "STRIPE_WEBHOOK_SECRET", "webhook", reason="verifies Stripe signatures in stripe-webhook"),
        # AWS keeps its own infrastructure secrets: not a Vault category
        aws(p, category="aws-internal"),
        Asset(Kind.AWS_PARAMETER, Store.AWS_SSM, "/prod/region", p, SSM_LOC, props={"secure": False}),
        Asset(Kind.ODOO_PARAMETER, Store.ODOO, "web.base.url", p, ODOO_PARAM_LOC,
              props={"looks_secret": False}),
    ]),
    Case("violation", lambda p: [
        edge(p),
        edge(p, "FEATURE_FLAGS_TOKEN", None, config_key="featureFlags"),
        aws(p),
        Asset(Kind.AWS_PARAMETER, Store.AWS_SSM, "/prod/n8n/webhook", p, SSM_LOC,
              props={"secure": True, "category": "Webhook_Secret"}, fingerprint="b" * 64),
        Asset(Kind.VAULT_SECRET, Store.STACK_CONFIG, "agent_token", p, STACK_LOC, props={"category": "agent"}),
        Asset(Kind.ODOO_PARAMETER, Store.ODOO, "acme.stripe_api_key", p, ODOO_PARAM_LOC,
              props={"looks_secret": True}, fingerprint="c" * 64),
        Asset(Kind.ODOO_SECRET_FIELD, Store.ODOO, "res.company.stripe_api_key", p, FIELD_LOC,
              props={"model": "res.company", "field": "stripe_api_key"}),
    ], expect=[
        Expect(EDGE_SUBJECT, Severity.HIGH, EDGE_LOC,
               explain_has=["no runtime_only_reason", "belongs in Supabase Vault"],
               propose_has=["supabase secrets unset GITHUB_WEBHOOK_SECRET --project-ref <project-ref>",
                            "already encrypted stack config (ssot:githubWebhookSecret)",
                            "select decrypted_secret from vault.decrypted_secrets where name = "
                            "'github_webhook_secret'"],
               yaml_after=[("say why in its declaration", {"edgeFunctions": {"secrets": [{
                   "name": "GITHUB_WEBHOOK_SECRET", "category": "webhook",
                   "value": {"secret": "githubWebhookSecret"},
                   "runtimeOnly": "<what reads it at run time, and why not Vault>"}]}})],
               platform_after=["Declare it in Supabase Vault"]),
        Expect("edge:FEATURE_FLAGS_TOKEN", Severity.MEDIUM, EDGE_LOC,
               propose_has=["secret: featureFlags"],
               platform_after=["say why in its declaration"]),
        Expect(AWS_SUBJECT, Severity.HIGH, AWS_LOC,
               explain_has=["category github-app", "AWS Secrets Manager"],
               propose_has=["aws secretsmanager delete-secret --secret-id 'prod/github-app'",
                            "name: github_app", "subject: aws-secret:prod/github-app"],
               platform_after=["Declare it in Supabase Vault", "justify it"]),
        Expect("aws-parameter:/prod/n8n/webhook", Severity.HIGH, SSM_LOC,
               explain_has=["category webhook"],
               propose_has=["aws ssm delete-parameter --name '/prod/n8n/webhook'", "category: webhook"]),
        Expect("vault:agent_token", Severity.HIGH, STACK_LOC, explain_has=["the stack config"]),
        Expect("odoo-parameter:acme.stripe_api_key", Severity.HIGH, ODOO_PARAM_LOC,
               explain_has=["MUST NOT be stored in Odoo models"],
               propose_has=["env['ir.config_parameter'].sudo().search([('key', '=', "
                            "'acme.stripe_api_key')]).unlink()",
                            "name: odoo_acme_stripe_api_key"]),
        Expect("odoo-field:res.company.stripe_api_key", Severity.HIGH, FIELD_LOC,
               propose_has=["remove the field 'stripe_api_key' from model 'res.company'",
                            "pulumi config set --secret resCompanyStripeApiKey"],
               platform_after=["Declare it in Supabase Vault"]),
    ]),
    Case("near miss: password-policy settings, password hashes and per-record tokens", lambda p: addon(p, {
        "addons/password_security/models/settings.py": POLICY_PY,
        "addons/password_security/data/params.xml": POLICY_XML})),
    Case("violation: other systems' credentials in Odoo, judged by value, type and use", lambda p: addon(p, {
        "addons/password_security/models/settings.py": POLICY_PY,
        "addons/acme/models/mail.py": CREDENTIALS_PY, "addons/acme/data/params.xml": CREDENTIALS_XML}),
        expect=[
            Expect("odoo-field:acme.mail.server.smtp_password", Severity.HIGH,
                   Location(path="addons/acme/models/mail.py", line=4)),
            Expect("odoo-parameter:acme.webhook_secret", Severity.HIGH,
                   Location(path="addons/acme/models/mail.py", line=7)),
            # no secret word in the key: the value's entropy says it
            Expect("odoo-parameter:acme.payment", Severity.HIGH, Location(path="addons/acme/data/params.xml", line=2)),
        ]),
    Case("fixed", lambda p: [vault(p), edge(p, reason="verified per request by github-webhook function")]),
    Case("justified", lambda p: [edge(p), aws(p)], justifications=[
        justification("secret_placement", EDGE_SUBJECT), justification("secret_placement", AWS_SUBJECT)]),
    Case("justification expired", lambda p: [edge(p)],
         justifications=[justification("secret_placement", EDGE_SUBJECT, expires=YESTERDAY, owner="infra")],
         expect=[Expect(EDGE_SUBJECT, Severity.HIGH, EDGE_LOC,
                        explain_has=["expired on 2025-05-31 (infra)"])]),
    # Secrets MUST NOT be stored in Odoo models: no justification silences that.
    Case("justification does not apply to odoo", lambda p: [
        Asset(Kind.ODOO_SECRET_FIELD, Store.ODOO, "res.company.stripe_api_key", p, FIELD_LOC,
              props={"model": "res.company", "field": "stripe_api_key"})],
         justifications=[justification("secret_placement", "odoo-field:res.company.stripe_api_key")],
         expect=[Expect("odoo-field:res.company.stripe_api_key", Severity.HIGH, FIELD_LOC)]),
    Case("justification for another rule does not apply", lambda p: [aws(p)],
         justifications=[justification("duplicated_secret", AWS_SUBJECT)],
         expect=[Expect(AWS_SUBJECT, Severity.HIGH, AWS_LOC)]),
]


@pytest.mark.parametrize(("case", "phase"), rows(RULE, CASES))
def test_secret_placement(case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_case(RULE, case, phase, monkeypatch, tmp_path)
