"""The pull-request workflow: it runs what the README says, uploads SARIF, posts one comment.

The workflow file is checked for the steps and permissions that matter; the comment script runs
for real against a stand-in `gh` that records the API calls it is given.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ssot.yamlpos import load_yaml

ROOT = Path(__file__).resolve().parents[1]
PR = ROOT / ".github" / "workflows" / "ssot-pr.yml"
PUBLISH = ROOT / ".github" / "workflows" / "ssot-pr-report.yml"


def _steps(path: Path) -> list[dict]:
    doc = load_yaml(path).data
    return [s for job in doc["jobs"].values() for s in job["steps"]]


def test_pr_workflow_runs_scan_and_preview_and_publishes() -> None:
    doc = load_yaml(PR).data
    assert set(doc["on"]) == {"pull_request"}, "never pull_request_target: fork code must not get secrets"
    steps = _steps(PR)
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "scripts/setup" in runs
    assert ".venv/bin/ssot scan ." in runs and "--also sarif=" in runs and "--also markdown=" in runs
    assert ".venv/bin/ssot preview --stack" in runs
    # only what the pull request changes, against the base branch, with history to find the merge base
    assert '--changed-since "origin/$BASE_REF"' in runs and "${{ github.base_ref }}" not in runs
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    assert "scripts/pr-comment reports" in runs
    job = next(iter(doc["jobs"].values()))
    assert job["permissions"] == {"contents": "read", "security-events": "write", "pull-requests": "write"}
    # Nothing needs a secret: previews and scans work on forks.
    assert "secrets." not in PR.read_text()


def test_fork_reports_are_published_without_checking_out_fork_code() -> None:
    doc = load_yaml(PUBLISH).data
    assert set(doc["on"]) == {"workflow_run"}
    checkout = next(s for s in _steps(PUBLISH) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"


def _fake_gh(tmp_path: Path, existing: str) -> Path:
    log = tmp_path / "gh.log"
    gh = tmp_path / "bin" / "gh"
    gh.parent.mkdir()
    gh.write_text(f"""#!/usr/bin/env bash
printf '%s\\n' "$*" >> {log}
for a in "$@"; do case "$a" in body=@*) cp "${{a#body=@}}" {tmp_path}/body.md;; esac; done
if [ "$2" = "repos/acme/platform/issues/7/comments" ] && [ "$1" = "api" ] && [ "$3" = "--paginate" ]; then
  printf '%s' "{existing}"
fi
""")
    gh.chmod(0o755)
    return log


def _comment(tmp_path: Path, existing: str) -> tuple[str, str]:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "scan.md").write_text("<!-- ssot-report:scan -->\n## ssot scan: 2 blocking findings\n")
    (reports / "preview-prod.md").write_text("<!-- ssot-report:preview -->\n## ssot preview: passed\n")
    log = _fake_gh(tmp_path, existing)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "GITHUB_REPOSITORY": "acme/platform",
           "GH_TOKEN": "test"}
    subprocess.run([str(ROOT / "scripts" / "pr-comment"), str(reports), "7"], check=True, env=env)
    return log.read_text(), (tmp_path / "body.md").read_text()


def test_comment_is_created_once(tmp_path: Path) -> None:
    calls, body = _comment(tmp_path, existing="")
    assert "-X POST repos/acme/platform/issues/7/comments" in calls
    assert body.startswith("<!-- ssot-pr-comment -->")
    assert "ssot scan: 2 blocking findings" in body and "ssot preview: passed" in body


def test_comment_is_updated_in_place(tmp_path: Path) -> None:
    calls, _ = _comment(tmp_path, existing="4242")
    assert "-X PATCH repos/acme/platform/issues/comments/4242" in calls
    assert "-X POST" not in calls
