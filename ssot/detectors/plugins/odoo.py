"""Odoo: the master password in odoo.conf or on the command line, and secret-looking system parameters.

The doctrine keeps secrets out of Odoo; a system parameter (`ir.config_parameter`) whose key names a
secret and whose value looks like one is a secret stored in Odoo.
"""

from __future__ import annotations

import re

from ssot.detectors.base import Detector, char_classes, shannon_entropy

_FALSY = frozenset({"false", "none", "null", "true", "0", "''", '""'})


class OdooMasterPasswordDetector(Detector):
    secret_type = "Odoo master password"
    gate = "pass"
    keywords = ("passwd",)
    regexes = (
        # odoo.conf `admin_passwd = …`, or config['admin_passwd'] = '…' in Python
        re.compile(
            r"admin_passwd(?<![A-Za-z0-9_]admin_passwd)(?:[\"']\])?[\"']?[ \t]{0,5}[=:][ \t]{0,5}[\"']?"
            r"(?P<secret>[^\s#;\"'][^\s\"']{0,199})"
        ),
        re.compile(r"--admin-passwd(?:=|[ \t]+)[\"']?(?P<secret>[^\s\"']{1,200})"),
    )

    def verify_shape(self, value: str) -> bool:
        return value.lower() not in _FALSY


_SECRET_KEY = (
    r"[a-z0-9_.-]{0,60}(?:secret|token|password|passwd|api_?key|apikey|private_?key|access_?key)[a-z0-9_.-]{0,60}"
)


class OdooConfigParameterSecretDetector(Detector):
    secret_type = "Odoo system parameter secret"
    priority = 40
    keywords = ("config_parameter",)
    regexes = (
        # env['ir.config_parameter'].set_param('x.api_key', '…')
        re.compile(
            r"set_param\(\s*[\"'](?P<key>" + _SECRET_KEY + r")[\"']\s*,\s*[\"'](?P<secret>[^\"'\n]{8,500})[\"']"
        ),
        # <record model="ir.config_parameter"> … <field name="key">…</field> <field name="value">…</field>
        re.compile(
            r"<field name=[\"']key[\"']>\s*(?P<key>" + _SECRET_KEY + r")\s*</field>\s*"
            r"<field name=[\"']value[\"']>\s*(?P<secret>[^<\s][^<]{7,499}?)\s*</field>"
        ),
    )

    def verify_shape(self, value: str) -> bool:
        if value.lower() in _FALSY or value.isdigit() or " " in value.strip() or "://" in value:
            return False
        return shannon_entropy(value) >= 2.8 and char_classes(value) >= 2
