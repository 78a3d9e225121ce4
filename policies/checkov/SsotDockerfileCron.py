"""checkov custom check CKV_SSOT_3: a container image that runs a cron daemon (Dockerfile framework).

Doctrine §5: all scheduled jobs run from Supabase (pg_cron) or n8n. An image that installs a crontab
or starts cron schedules work inside a container instead; ssot maps each failure to a SCHEDULE asset
(store crontab, scheduler container-cron).
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.dockerfile.base_dockerfile_check import BaseDockerfileCheck

# `crontab FILE`, `cron -f`, `crond`, `supercronic`, or a file written into /etc/cron.d: each makes
# the container a scheduler. Installing the package alone (`apt-get install cron`) is not enough.
_CRON = re.compile(r"(^|[\s;&|/\"'\[,])(crontab\s+\S|cron\s+-f|crond\b|supercronic\b)|/etc/cron\.d/|/etc/crontab\b")


class SsotDockerfileCron(BaseDockerfileCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Scheduled work must run from Supabase pg_cron or n8n, not cron inside a container image",
            id="CKV_SSOT_3",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_instructions=("RUN", "CMD", "ENTRYPOINT", "COPY", "ADD"),
        )

    def scan_resource_conf(self, conf: list[dict[str, Any]]) -> tuple[CheckResult, list[dict[str, Any]] | None]:
        for instruction in conf:
            if _CRON.search(str(instruction.get("value") or "")):
                return CheckResult.FAILED, [instruction]
        return CheckResult.PASSED, None


check = SsotDockerfileCron()
