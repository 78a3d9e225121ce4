"""Odoo addons, precision: system parameters judged by value, Odoo's own secrets told apart."""

from __future__ import annotations

import pytest

from ssot.sources.odoo_addons import odoo_internal_secret, param_looks_secret, python_assets


@pytest.mark.parametrize(("key", "value", "kind", "expected"), [
    # the value decides when it is known
    ("password_security.expiration_days", "90", "text", (False, "value")),
    ("password_security.history", None, "integer", (False, "type")),
    ("auth_signup.reset_password", None, "boolean", (False, "type")),
    ("acme.webhook_secret", "whsec_9fK2mQ7vL4xR8tN1pZ6wB3yD", "text", (True, "value")),
    ("acme.webhook_secret", "https://hooks.acme.test/in", "text", (False, "value")),
    ("acme.payment", "Qm9vX2xpdmVfN3hLcTJ2UjlwTDR3WjhtTjE", "text", (True, "value")),  # entropy, no word
    ("acme.color", "dark-blue", "text", (False, "value")),
    # nothing known of the value: the key, unless it names a setting
    ("acme.smtp_password", None, None, (True, "key")),
    ("password_security.minimum_hours", None, None, (False, "key")),
    ("auth_password_policy.minlength", None, None, (False, "key")),
    ("acme.token_lifetime", None, None, (False, "key")),
    ("web.base.url", None, None, (False, "key")),
])
def test_parameters_are_judged_by_value(key: str, value: str | None, kind: str | None,
                                        expected: tuple[bool, str]) -> None:
    assert param_looks_secret(key, value, kind) == expected


def test_int_use_of_a_parameter_says_it_is_a_number() -> None:
    py = ("def f(env, v):\n    env['ir.config_parameter'].set_param('acme.retry_token_count', v)\n"
          "    env['ir.config_parameter'].set_param('acme.api_token', v)\n"
          "def g(env):\n    return int(env['ir.config_parameter'].get_param('acme.retry_token_count', 3))\n")
    from ssot.sources.odoo_addons import judge_by_usage, python_scan

    assets, facts = python_scan(py, "addons/acme/models/x.py", None)
    assert facts.typed_params == {"acme.retry_token_count": "integer"}
    judge_by_usage(assets, facts)
    looks = {a.name: (a.props["looks_secret"], a.props["judged_by"]) for a in assets}
    assert looks == {"acme.retry_token_count": (False, "usage"), "acme.api_token": (True, "key")}


@pytest.mark.parametrize(("model", "field", "internal"), [
    ("res.users.pass.history", "password_crypt", True),
    ("acme.portal.order", "access_token", True),
    ("res.partner", "signup_token", True),
    ("res.users", "password", True),
    ("acme.sync", "secret_hash", True),
    ("acme.ftp", "password", False),  # another system's password
    ("res.users", "oauth_access_token", False),  # an OAuth provider's token
    ("mail.gateway", "whatsapp_security_key", False),
    ("auth.jwt.validator", "secret_key", False),
])
def test_odoo_own_secrets_are_told_apart(model: str, field: str, internal: bool) -> None:
    assert odoo_internal_secret(model, field) is internal


def test_secret_fields_carry_their_purpose() -> None:
    py = ('class G(models.Model):\n    _inherit = "mail.gateway"\n    whatsapp_security_key = fields.Char()\n'
          '    whatsapp_from_phone = fields.Char()\n'
          'class H(models.Model):\n    _name = "res.users.pass.history"\n    password_crypt = fields.Char()\n')
    got = {a.name: a.props["purpose"] for a in python_assets(py, "addons/g/models/g.py", None)}
    assert got == {"mail.gateway.whatsapp_security_key": "credential",
                   "res.users.pass.history.password_crypt": "odoo-internal"}
