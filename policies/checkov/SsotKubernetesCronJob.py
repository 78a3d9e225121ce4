"""checkov custom check CKV_SSOT_2: a Kubernetes CronJob manifest (YAML framework).

Doctrine §5: all scheduled jobs run from Supabase (pg_cron) or n8n. A CronJob in the repository
schedules work on a cluster instead; ssot maps each failure to a SCHEDULE asset (store crontab,
scheduler kubernetes-cronjob).
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.yaml_doc.base_yaml_check import BaseYamlCheck
from checkov.yaml_doc.enums import BlockType


class SsotKubernetesCronJob(BaseYamlCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Scheduled work must run from Supabase pg_cron or n8n, not a Kubernetes CronJob",
            id="CKV_SSOT_2",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_entities=("*",),
            block_type=BlockType.DOCUMENT,
        )

    def scan_entity_conf(self, conf: dict[str, Any], entity_type: str) -> tuple[CheckResult, dict[str, Any]]:
        self.entity_type = entity_type
        return self.scan_conf(conf)

    def scan_conf(self, conf: dict[str, Any]) -> tuple[CheckResult, dict[str, Any]]:
        docs = conf if isinstance(conf, list) else [conf]
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "CronJob":
                spec = doc.get("spec")
                if isinstance(spec, dict) and spec.get("schedule"):
                    return CheckResult.FAILED, doc
        return CheckResult.PASSED, conf if isinstance(conf, dict) else {}


check = SsotKubernetesCronJob()
