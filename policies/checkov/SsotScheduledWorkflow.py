"""checkov custom check CKV_SSOT_1: a GitHub Actions workflow that runs on a schedule.

Doctrine §5: all scheduled jobs run from Supabase (pg_cron) or n8n. A scheduled workflow is
scheduling outside the orchestration plane; ssot maps each failure to a SCHEDULE asset.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckResult
from checkov.github_actions.checks.base_github_action_check import BaseGithubActionsCheck
from checkov.yaml_doc.enums import BlockType


class SsotScheduledWorkflow(BaseGithubActionsCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Scheduled work must run from Supabase pg_cron or n8n, not a GitHub Actions schedule",
            id="CKV_SSOT_1",
            block_type=BlockType.OBJECT,
            supported_entities=("on",),
        )

    def scan_conf(self, conf: dict[str, Any]) -> tuple[CheckResult, dict[str, Any]]:
        # `on:` may be a string, a list of event names or a mapping; only the mapping form can
        # carry cron expressions, but a bare `schedule` event name is scheduling too.
        if isinstance(conf, str):
            return (CheckResult.FAILED if conf == "schedule" else CheckResult.PASSED), {}
        if isinstance(conf, list):
            return (CheckResult.FAILED if "schedule" in conf else CheckResult.PASSED), {}
        if isinstance(conf, dict) and conf.get("schedule"):
            return CheckResult.FAILED, conf
        return CheckResult.PASSED, conf if isinstance(conf, dict) else {}


check = SsotScheduledWorkflow()
