"""checkov custom check CKV_SSOT_4: a Kubernetes Secret manifest with its data (Kubernetes framework).

Doctrine §4: secrets MUST NOT be committed to Git; Supabase Vault is the default store. A Secret's
`data` is only base64, and `stringData` is plaintext, so a manifest carrying either is a committed
secret; ssot maps each failure to a SECRET_LITERAL asset (hardcoded_secret). A Secret without data
(filled in by an operator or an external-secrets controller) passes.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check


class SsotKubernetesSecret(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name="Secrets must not be committed in a Kubernetes Secret manifest",
            id="CKV_SSOT_4",
            categories=(CheckCategories.SECRETS,),
            supported_entities=("Secret",),
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        for key in ("data", "stringData"):
            value = conf.get(key)
            if isinstance(value, dict) and any(v not in (None, "") for v in value.values()):
                return CheckResult.FAILED
        return CheckResult.PASSED


check = SsotKubernetesSecret()
