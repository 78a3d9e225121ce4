"""The pull-request workflow: it runs what the README says, uploads SARIF, posts one comment.

The workflow file is checked for the steps and permissions that matter; the comment script runs
for real against a stand-in `gh` that records the API calls it is given.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from needs import missing_dependency

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
    # the scan-only set-up: the runner's apt may not offer PostgreSQL 15, and neither job needs it
    assert "scripts/setup --scan-only" in runs
    assert not re.search(r"scripts/setup\s*$", runs, re.M), "the full set-up installs a database and a browser"
    assert ".venv/bin/ssot scan ." in runs and "--also sarif=" in runs and "--also markdown=" in runs
    assert ".venv/bin/ssot preview --stack" in runs
    # the HTML reports travel in the artifact, for a person to open
    assert "--also html=reports/scan.html" in runs and '--also html="reports/preview-$stack.html"' in runs
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


SETUP = ROOT / "scripts" / "setup"


def _setup(*args: str) -> subprocess.CompletedProcess[str]:
    # --dry-run stops before apt, pip or any download: this checks the argument parsing and the plan
    return subprocess.run(["bash", str(SETUP), *args], capture_output=True, text=True, timeout=30, check=False)


def test_setup_parses_and_scan_only_installs_no_database_or_browser() -> None:
    assert subprocess.run(["bash", "-n", str(SETUP)], capture_output=True, check=False).returncode == 0
    full = _setup("--dry-run")
    assert full.returncode == 0, full.stderr
    assert "postgresql-15 postgresql-15-cron" in full.stderr and "chromium" in full.stderr
    assert "real-world test corpus" in full.stderr
    scan = _setup("--scan-only", "--dry-run")
    assert scan.returncode == 0, scan.stderr
    assert "apt packages: none" in scan.stderr and ".venv, .checkov-venv" in scan.stderr
    assert "postgresql" not in scan.stderr and "chromium" not in scan.stderr and "corpus" not in scan.stderr
    assert _setup("--dry-run", "--scan-only").stderr == scan.stderr
    bad = _setup("--scan-only", "--bogus", "--dry-run")
    assert bad.returncode == 2 and "unknown argument" in bad.stderr and "--bogus" not in bad.stderr


def test_a_pull_request_cannot_exempt_its_own_changes() -> None:
    """.ssotignore and the suppressions file are read from the base branch, never from the change."""
    runs = "\n".join(s.get("run", "") for s in _steps(PR))
    assert 'git show --end-of-options "origin/$BASE_REF:.ssotignore"' in runs
    assert 'git show --end-of-options "origin/$BASE_REF:.ssot/suppressions.yaml"' in runs
    scan = next(s["run"] for s in _steps(PR) if "ssot scan ." in s.get("run", ""))
    assert '--ignore-file "$RUNNER_TEMP/base/ssotignore"' in scan
    assert '--suppressions "$RUNNER_TEMP/base/suppressions.yaml"' in scan
    preview = next(s["run"] for s in _steps(PR) if "ssot preview --stack" in s.get("run", ""))
    assert '--suppressions "$RUNNER_TEMP/base/suppressions.yaml"' in preview


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


# ---------------------------------------------------------------------------------------------
# Every workflow: valid, and none schedules anything (doctrine §5: schedules live in Supabase)

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
DEPLOY = ROOT / ".github" / "workflows" / "ssot-deploy.yml"


def _check_jsonschema() -> Path:
    exe = Path(sys.executable).parent / "check-jsonschema"
    if not exe.exists():
        missing_dependency("check-jsonschema is not installed in this virtualenv: run scripts/setup")
    return exe


def _validate(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(_check_jsonschema()), "--builtin-schema", "vendor.github-workflows",
                           *map(str, files)], capture_output=True, text=True, timeout=120, check=False)


def test_every_workflow_is_valid_against_the_github_workflow_schema() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ssot-pr.yml", "ssot-pr-report.yml", "ssot-deploy.yml", "ssot-audit.yml"}
    done = _validate(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz:\n      - run: echo\n")
    assert _validate(broken).returncode != 0


def _triggers(path: Path) -> set[str]:
    on = load_yaml(path).data["on"]
    return {on} if isinstance(on, str) else set(on)


def test_no_workflow_schedules_anything() -> None:
    for path in WORKFLOWS:
        assert "schedule" not in _triggers(path), f"{path.name}: the audit is scheduled by pg_cron, not CI"


def _all_steps(path: Path) -> list[dict]:
    return [s for job in load_yaml(path).data["jobs"].values() for s in job["steps"]]


def test_no_workflow_interpolates_or_prints_a_secret() -> None:
    for path in WORKFLOWS:
        for step in _all_steps(path):
            run = step.get("run", "")
            assert "secrets." not in run, f"{path.name}: secrets go through env:, never into a script"
            assert "set -x" not in run and "printenv" not in run and not re.search(r"\benv\s*$", run, re.M)


def test_deploy_previews_applies_then_audits_each_stack() -> None:
    from ssot.model import load_platform

    doc = load_yaml(DEPLOY).data
    assert doc["on"] == {"push": {"branches": ["main"]}}
    job = doc["jobs"]["deploy"]
    deployed = {p.name[len("Pulumi."):-len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")} - {"local"}
    assert set(job["strategy"]["matrix"]["stack"]) == deployed
    assert job["concurrency"] == {"group": "ssot-deploy-${{ matrix.stack }}", "cancel-in-progress": False}
    assert job["environment"] == "${{ matrix.stack }}"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    steps = job["steps"]
    runs = [s.get("run", "") for s in steps]
    preview = next(i for i, r in enumerate(runs) if r.startswith("pulumi preview"))
    up = next(i for i, r in enumerate(runs) if r.startswith("pulumi up"))
    export = next(i for i, r in enumerate(runs) if r.startswith("pulumi stack export"))
    audit = next(i for i, r in enumerate(runs) if "ssot audit" in r)
    assert preview < up < export < audit == up + 2, "the audit runs right after the apply, on its state"
    assert '--file "$RUNNER_TEMP/state.json"' in runs[export]  # outside reports/, never uploaded
    assert "--policy-pack policies" in runs[preview] and '--stack "$STACK"' in runs[preview]
    assert "--policy-pack policies" in runs[up] and "--yes" in runs[up] and "--suppress-outputs" in runs[up]
    audit_cmd = '.venv/bin/ssot audit --stack "$STACK" --state "$RUNNER_TEMP/state.json" --store --fail-on high'
    assert audit_cmd in runs[audit]
    aws = next(s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
    assert "role-to-assume" in aws["with"] and not {"aws-access-key-id", "aws-secret-access-key"} & set(aws["with"])
    # The audit gets every credential the stacks' audit sections name, from the environment's secrets.
    env = steps[audit]["env"]
    assert env["SSOT_STORE_DSN"] == "${{ secrets.SSOT_STORE_DSN }}"
    for stack in deployed:
        declared = load_platform(ROOT / "stacks" / f"Pulumi.{stack}.yaml").audit
        assert declared is not None
        for var in (declared.db_password_env, declared.supabase_token_env, declared.odoo_credential_env):
            assert var is None or env.get(var) == f"${{{{ secrets.{var} }}}}", var


def test_deploy_gives_pulumi_what_the_stacks_read_from_the_environment() -> None:
    from ssot.model import load_platform

    steps = load_yaml(DEPLOY).data["jobs"]["deploy"]["steps"]
    pulumi_steps = [s for s in steps if s.get("run", "").startswith(("pulumi preview", "pulumi up"))]
    assert len(pulumi_steps) == 2
    for stack_path in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        if stack_path.name == "Pulumi.local.yaml":
            continue
        wanted = {src.ref for _, src in load_platform(stack_path).secret_sources() if src.kind == "env"}
        if "encryptionsalt:" in stack_path.read_text():  # passphrase secrets provider
            wanted.add("PULUMI_CONFIG_PASSPHRASE")
        assert wanted
        for step in pulumi_steps:
            for var in wanted:
                assert step["env"].get(var) == f"${{{{ secrets.{var} }}}}", (step["name"], var)


def test_the_dispatched_audit_workflow_accepts_what_the_schedule_sends() -> None:
    from ssot.audit_schedule import DISPATCH_INPUTS
    from ssot.model import load_platform

    schedule = load_platform(ROOT / "stacks" / "Pulumi.prod.yaml").audit_schedule
    assert schedule is not None and schedule.dispatch is not None
    path = ROOT / ".github" / "workflows" / schedule.dispatch.workflow
    doc = load_yaml(path).data
    assert set(doc["on"]) == {"workflow_dispatch"}
    inputs = doc["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == set(DISPATCH_INPUTS)
    assert "prod" in inputs["stack"]["options"] and schedule.command in inputs["command"]["options"]
    job = next(iter(doc["jobs"].values()))
    assert job["concurrency"]["group"] == "ssot-deploy-${{ inputs.stack }}"  # never during an apply
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert '.venv/bin/ssot audit --stack "$STACK" --state "$RUNNER_TEMP/state.json" --store' in runs
