"""The pull-request workflow: it runs what the README says, uploads SARIF, posts one comment.

The workflow file is checked for the steps and permissions that matter; the comment script runs
for real against a stand-in `gh` that records the API calls it is given.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
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
    # inline `ssot: ignore[...]` comments are in the change itself
    assert "--no-inline-ignores" in scan and "--no-inline-ignores" in preview
    # the verdict reads the steps' exit codes through the environment, checked for shape
    verdict = next(s for s in _steps(PR) if s.get("name") == "Verdict")
    assert "${{" not in verdict["run"] and set(verdict["env"]) == {"SCAN_EXIT", "PREVIEW_EXIT"}


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


# ---------------------------------------------------------------------------------------------
# Fork reports: the pull request comes from the API, the comment updated is the bot's own

def _json_gh(tmp_path: Path, pages: dict[str, object]) -> Path:
    """A stand-in `gh` that serves canned JSON per API path and applies `--jq` with the real jq,
    as gh does with its built-in one; it records every call."""
    if not shutil.which("jq"):
        missing_dependency("jq is not installed: run scripts/setup")
    log = tmp_path / "gh.log"
    (tmp_path / "pages").mkdir()
    for i, (path, data) in enumerate(pages.items()):
        (tmp_path / "pages" / str(i)).write_text(json.dumps(data))
        (tmp_path / "pages" / f"{i}.path").write_text(path)
    gh = tmp_path / "bin" / "gh"
    gh.parent.mkdir()
    gh.write_text(f"""#!/usr/bin/env bash
printf '%s\\n' "$*" >> {log}
jq_filter=. path=
for ((i = 1; i <= $#; i++)); do
  a=${{!i}}
  case "$a" in --jq) j=$((i + 1)); jq_filter=${{!j}};; repos/*) [ -z "$path" ] && path=$a;; esac
done
for f in {tmp_path}/pages/*.path; do
  if [ "$(cat "$f")" = "$path" ]; then jq -r "$jq_filter" "${{f%.path}}"; exit; fi
done
[ "$1" = api ] && [ "$2" != -X ] && {{ echo "gh: 404 $path" >&2; exit 1; }}
exit 0
""")
    gh.chmod(0o755)
    return log


def _gh_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "GITHUB_REPOSITORY": "acme/platform",
            "GH_TOKEN": "test"}


SHA = "a" * 40
OPEN_PRS = "repos/acme/platform/pulls?state=open&per_page=100"


def _pull(number: int, sha: str, repo: str) -> dict[str, object]:
    return {"number": number, "head": {"sha": sha, "repo": {"full_name": repo}}}


def _pr_for_commit(tmp_path: Path, pulls: list[dict[str, object]], head_repo: str = "fork/platform",
                   sha: str = SHA) -> subprocess.CompletedProcess[str]:
    _json_gh(tmp_path, {OPEN_PRS: pulls})
    return subprocess.run([str(ROOT / "scripts" / "pr-for-commit"), head_repo, sha], env=_gh_env(tmp_path),
                          capture_output=True, text=True, check=False)


def test_the_pull_request_is_the_open_one_whose_head_is_the_run_head(tmp_path: Path) -> None:
    pulls = [_pull(3, SHA, "other/platform"),  # same commit pushed from another fork
             _pull(5, "b" * 40, "fork/platform"),  # the fork's other pull request
             _pull(9, SHA, "fork/platform")]
    done = _pr_for_commit(tmp_path, pulls)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "9\n"


@pytest.mark.parametrize("pulls", [[], [_pull(5, "b" * 40, "fork/platform")],
                                   [_pull(9, SHA, "fork/platform"), _pull(10, SHA, "fork/platform")]])
def test_no_single_matching_pull_request_publishes_nothing(tmp_path: Path, pulls: list[dict[str, object]]) -> None:
    done = _pr_for_commit(tmp_path, pulls)
    assert done.returncode == 1 and done.stdout == ""


@pytest.mark.parametrize(("head_repo", "sha"), [("fork/platform", 'a" or true or "'), ('x/y" or true or "', SHA),
                                                ("fork/platform", SHA.upper())])
def test_head_repo_and_sha_cannot_inject_into_the_filter(tmp_path: Path, head_repo: str, sha: str) -> None:
    done = _pr_for_commit(tmp_path, [_pull(9, SHA, "fork/platform")], head_repo=head_repo, sha=sha)
    assert done.returncode == 1 and done.stdout == ""
    assert not (tmp_path / "gh.log").exists(), "gh is never called with an unchecked value"


def test_publish_takes_the_pull_request_from_the_api_never_from_the_artifact() -> None:
    text = PUBLISH.read_text()
    assert "pr-number" not in text and "pull_requests[" not in text
    assert "pr-number" not in PR.read_text()
    steps = _steps(PUBLISH)
    find = next(s for s in steps if "scripts/pr-for-commit" in s.get("run", ""))
    assert find["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    assert find["env"]["HEAD_REPO"] == "${{ github.event.workflow_run.head_repository.full_name }}"
    sarif = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert sarif["with"]["ref"] == f"refs/pull/${{{{ steps.{find['id']}.outputs.number }}}}/merge"
    comment = next(s for s in steps if "scripts/pr-comment" in s.get("run", ""))
    assert comment["env"]["PR"] == f"${{{{ steps.{find['id']}.outputs.number }}}}"
    assert comment["run"] == 'scripts/pr-comment reports "$PR"'
    for step in (sarif, comment):
        assert step["if"] == f"steps.{find['id']}.outputs.number != ''"


MARKER = "<!-- ssot-pr-comment -->"
BOT = {"login": "github-actions[bot]", "type": "Bot"}


def _comment_on(tmp_path: Path, comments: list[dict[str, object]]) -> str:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "scan.md").write_text("## ssot scan: passed\n")
    log = _json_gh(tmp_path, {"repos/acme/platform/issues/7/comments": comments})
    subprocess.run([str(ROOT / "scripts" / "pr-comment"), str(reports), "7"], check=True, env=_gh_env(tmp_path))
    return log.read_text()


def test_the_comment_updated_is_the_bots_not_a_strangers_with_the_marker(tmp_path: Path) -> None:
    calls = _comment_on(tmp_path, [
        {"id": 11, "user": {"login": "mallory", "type": "User"}, "body": f"{MARKER}\nfake all-clear"},
        {"id": 12, "user": BOT, "body": "some other bot comment"},
        {"id": 13, "user": BOT, "body": f"{MARKER}\n## ssot scan: 1 blocking finding"},
    ])
    assert "-X PATCH repos/acme/platform/issues/comments/13" in calls
    assert "comments/11" not in calls and "-X POST" not in calls


def test_only_a_strangers_marker_comment_means_a_new_comment(tmp_path: Path) -> None:
    calls = _comment_on(tmp_path, [{"id": 11, "user": {"login": "mallory", "type": "User"}, "body": MARKER}])
    assert "-X POST repos/acme/platform/issues/7/comments" in calls and "PATCH" not in calls


def test_the_comment_script_rejects_a_pr_number_that_is_not_a_number(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    log = _json_gh(tmp_path, {})
    done = subprocess.run([str(ROOT / "scripts" / "pr-comment"), str(tmp_path / "reports"), "7/../../x"],
                          env=_gh_env(tmp_path), capture_output=True, text=True, check=False)
    assert done.returncode != 0 and not log.exists()


# ---------------------------------------------------------------------------------------------
# Every job is bounded in time; every third-party action is pinned to a commit

_PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(?:\.\d+)*\s*$")


def test_every_job_has_a_timeout() -> None:
    for path in WORKFLOWS:
        for name, job in load_yaml(path).data["jobs"].items():
            minutes = job.get("timeout-minutes")
            assert isinstance(minutes, int) and 1 <= minutes <= 90, f"{path.name}: job {name}: timeout-minutes"


def test_every_action_is_pinned_by_commit_with_its_tag_in_a_comment() -> None:
    for path in WORKFLOWS:
        uses = [line for line in path.read_text().splitlines() if re.match(r"^\s*(?:-\s+)?uses:", line)]
        assert uses, path.name
        for line in uses:
            if line.split("uses:", 1)[1].strip().startswith("./"):
                continue  # the repository's own action, pinned by the checkout itself
            assert _PINNED.match(line), f"{path.name}: {line.strip()!r} is not pinned to a commit SHA"


def test_the_pin_check_catches_a_tag_or_branch() -> None:
    for line in ("      - uses: actions/checkout@v4", "        uses: pulumi/actions@main",
                 "      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262",
                 "      - uses: actions/checkout@11d5960a # v4.4.0"):
        assert not _PINNED.match(line), line


def test_state_export_never_holds_the_passphrase_or_shows_secrets() -> None:
    exports = [s for path in WORKFLOWS for s in _all_steps(path) if "pulumi stack export" in s.get("run", "")]
    assert len(exports) == 2  # after the apply, and for the requested audit
    for step in exports:
        assert "PULUMI_CONFIG_PASSPHRASE" not in step.get("env", {}) and "--show-secrets" not in step["run"]


def test_many_marker_comments_update_the_first_without_a_broken_pipe(tmp_path: Path) -> None:
    # more ids than a pipe holds: a reader that stops after the first line would kill gh (SIGPIPE)
    # and, under pipefail, the script
    comments = [{"id": 100000 + i, "user": BOT, "body": f"{MARKER}\nold"} for i in range(20000)]
    calls = _comment_on(tmp_path, comments)
    assert "-X PATCH repos/acme/platform/issues/comments/100000" in calls


def test_no_checkout_leaves_the_token_in_git_config() -> None:
    """The previews run the repository's program in the same job: `.git/config` must not hold the
    job's token for it to read (the steps that need the token get it through env: GH_TOKEN)."""
    for path in WORKFLOWS:
        for step in _all_steps(path):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, path.name
