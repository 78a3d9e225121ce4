"""The real checkov CLI: mapping of its results, merging with our detectors, and its failures."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ssot.inventory import Kind, Store
from ssot.sources import checkov as ck
from ssot.sources.static import collect_static

from .conftest import TreeMaker, synthetic_secret


def _tree(make_tree: TreeMaker, secret: str) -> Path:
    return make_tree({
        "app.py": f"import os\nSUPABASE_KEY = \"{secret}\"\n",
        "local.toml": ("# supabase start: published demo key\nservice_role_key = \"eyJhbGciOiJIUzI1NiIsInR5cCI6"
                       "IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMj"
                       "k5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU\"\n"),
        ".github/workflows/nightly.yml": ("name: nightly\non:\n  schedule:\n    - cron: '0 3 * * *'\n"
                                          "jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{run: echo}]\n"),
        "k8s/report.yaml": ("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: report\nspec:\n"
                            "  schedule: '30 2 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
                            "          containers:\n            - name: r\n              image: acme/report:1\n"),
    })


# checkov flags this by entropy (CKV_SECRET_6); a random key can fall under its threshold, so the
# value is fixed. It is synthetic: never issued by Supabase.
FIXED = "sb_secret_Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LmZxCv"


def test_checkov_results_are_mapped_and_merged(make_tree: TreeMaker, checkov_exe: str,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    secret = FIXED
    root = _tree(make_tree, secret)
    # checkov alone: its raw results mapped, the demo key dropped by our false-positive filters
    run = ck.CheckovRun.start(root, exe=checkov_exe)
    theirs = ck.map_reports(run.wait(), root.resolve())
    lits = [a for a in theirs if a.kind is Kind.SECRET_LITERAL]
    assert [(a.location.path, a.location.line) for a in lits] == [("app.py", 2)]
    assert lits[0].props["detectors"] == ["checkov"] and lits[0].props["check_id"].startswith("CKV_SECRET_")
    assert lits[0].props["located"] is True and lits[0].props["redacted"] == f"sb_secret_…({len(secret)} chars)"
    scheds = sorted((a.store, a.location.path, a.props["check_id"]) for a in theirs if a.kind is Kind.SCHEDULE)
    assert scheds == [(Store.CRONTAB, "k8s/report.yaml", "CKV_SSOT_2"),
                      (Store.GITHUB_ACTIONS, ".github/workflows/nightly.yml", "CKV_SSOT_1")]

    # the whole static source with checkov's secrets framework: one asset per secret, naming both detectors
    inv = collect_static(root, checkov_exe=checkov_exe, checkov_secrets=True)
    assert inv.incomplete == []
    [lit] = list(inv.of(Kind.SECRET_LITERAL))
    assert lit.props["detectors"] == ["SupabaseSecretKeyDetector", "checkov"]
    assert lit.fingerprint == lits[0].fingerprint
    assert lit.props["check_ids"] == [lits[0].props["check_id"]]
    by_store = {a.store: a for a in inv.of(Kind.SCHEDULE)}
    assert by_store[Store.GITHUB_ACTIONS].props["detectors"] == ["ssot", "checkov"]
    assert by_store[Store.CRONTAB].props["scheduler"] == "kubernetes-cronjob"
    assert by_store[Store.CRONTAB].props["schedule"] == "30 2 * * *"
    out, err = capfd.readouterr()
    assert secret not in out + err + repr(inv.assets)


def test_ssotignore_applies_to_checkov_results(make_tree: TreeMaker, checkov_exe: str) -> None:
    secret = FIXED
    root = make_tree({"vendor/lib.py": f"K = '{secret}'\n", ".ssotignore": "vendor/\n",
                      "app.py": "print('clean')\n"})
    inv = collect_static(root, checkov_exe=checkov_exe, checkov_secrets=True)
    assert inv.incomplete == [] and list(inv.of(Kind.SECRET_LITERAL)) == []


def test_checkov_timeout_makes_the_scan_incomplete(make_tree: TreeMaker, checkov_exe: str) -> None:
    inv = collect_static(make_tree({"a.py": "x = 1\n", **WORKFLOW}), checkov_exe=checkov_exe, checkov_timeout=0.05)
    assert inv.incomplete == ["checkov: checkov did not finish within 0s"]


# A tree with a workflow: checkov has a framework to run (github_actions) without its secrets one.
WORKFLOW = {".github/workflows/ci.yml": "on: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps: []\n"}


def _script(tmp_path: Path, body: str) -> str:
    p = tmp_path / "checkov"
    p.write_text("#!/bin/sh\n" + body)
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return str(p)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param("echo 'not json at all'\nexit 1\n", "checkov: checkov's output was not JSON", id="not-json"),
        pytest.param("echo 'Traceback (most recent call last):' >&2\necho 'KeyError: sb_secret_x' >&2\nexit 2\n",
                     "checkov: checkov exited with code 2 (KeyError)", id="crash"),
        pytest.param("echo '[1, 2]'\n", "checkov: checkov's JSON was not a report or a list of reports",
                     id="wrong-shape"),
    ],
)
def test_checkov_failures_are_incomplete_not_a_pass(make_tree: TreeMaker, tmp_path: Path,
                                                    body: str, reason: str) -> None:
    secret = synthetic_secret()
    root = make_tree({"a.py": f"K = '{secret}'\n", **WORKFLOW})
    inv = collect_static(root, checkov_exe=_script(tmp_path, body))
    assert inv.incomplete == [reason]
    # our own scanners still ran
    assert [a.location.path for a in inv.of(Kind.SECRET_LITERAL)] == ["a.py"]


def test_summary_only_output_is_a_clean_run() -> None:
    assert ck.parse_output('{"passed": 0, "failed": 0}', "", 0) == []


def test_missing_checkov_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SSOT_CHECKOV", str(tmp_path / "nope"))
    with pytest.raises(ck.CheckovNotFound) as info:
        ck.find_checkov(tmp_path)
    assert info.value.exit_code == 2 and "pip install checkov" in str(info.value)


def test_checkov_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    venv_bin = tmp_path / ".checkov-venv" / "bin"
    venv_bin.mkdir(parents=True)
    exe = _script(venv_bin.parent / "bin", "exit 0\n")
    monkeypatch.delenv("SSOT_CHECKOV", raising=False)
    assert ck.find_checkov(tmp_path) == exe
    other = _script(tmp_path, "exit 0\n")
    monkeypatch.setenv("SSOT_CHECKOV", other)
    assert ck.find_checkov(tmp_path) == other
    assert os.access(other, os.X_OK)


K8S_CRONJOB = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: r\n"
DOCKERFILE = "FROM debian:12\nRUN echo hi\n"
TF = 'resource "null_resource" "x" {}\n'


@pytest.mark.parametrize(("files", "secrets", "expected", "targets"), [
    pytest.param({"a.py": "x = 1\n", "stacks/Pulumi.dev.yaml": "config: {}\n"}, False, (), [],
                 id="nothing-for-checkov"),
    pytest.param(WORKFLOW, False, ("github_actions",), list(WORKFLOW), id="workflow"),
    pytest.param({"k8s/job.yaml": K8S_CRONJOB}, False, ("yaml", "kubernetes"), ["k8s/job.yaml"], id="manifest"),
    # a kind without an apiVersion is no Kubernetes object, but CKV_SSOT_2 (YAML framework) still looks
    pytest.param({"k8s/job.yaml": "kind: CronJob\n"}, False, ("yaml",), ["k8s/job.yaml"], id="kind-only"),
    pytest.param({"Dockerfile": DOCKERFILE, "svc/api.Dockerfile": DOCKERFILE, "svc/Dockerfile.prod": DOCKERFILE,
                  ".dockerignore": "*.pyc\n", "docs/dockerfiles.md": "x\n"}, False, ("dockerfile",),
                 ["Dockerfile", "svc/Dockerfile.prod", "svc/api.Dockerfile"], id="dockerfiles"),
    pytest.param({"infra/main.tf": TF, "infra/vars.tfvars": "a = 1\n", "notes.tf.md": "x\n"}, False,
                 ("terraform",), ["infra/main.tf"], id="terraform"),
    pytest.param({"k8s/job.yaml": K8S_CRONJOB, **WORKFLOW, "Dockerfile": DOCKERFILE, "main.tf": TF}, False,
                 ("github_actions", "yaml", "kubernetes", "dockerfile", "terraform"),
                 sorted(["k8s/job.yaml", *WORKFLOW, "Dockerfile", "main.tf"]), id="all-iac"),
    pytest.param({"k8s/job.yaml": K8S_CRONJOB, **WORKFLOW}, True, ("secrets", "github_actions", "yaml", "kubernetes"),
                 [], id="all-with-secrets"),
    pytest.param({".github/workflows/sub/x.yml": K8S_CRONJOB.replace("kind", "knd")}, False, (), [], id="near-miss"),
])
def test_frameworks_follow_the_files(make_tree: TreeMaker, files: dict[str, str | bytes], secrets: bool,
                                     expected: tuple[str, ...], targets: list[str]) -> None:
    root = make_tree(files)
    rels = [(str(p.relative_to(root)), p) for p in root.rglob("*") if p.is_file()]
    plan = ck.plan_for(rels, secrets=secrets)
    assert plan.frameworks == expected
    # the IaC frameworks get exactly the files they check; the secrets framework the whole tree
    assert sorted(plan.files) == targets


def test_checkov_iac_frameworks_run_for_real_and_feed_the_doctrine(make_tree: TreeMaker, checkov_exe: str,
                                                                   capfd: pytest.CaptureFixture[str]) -> None:
    # AWS's documentation key pair, changed in one character so that no filter treats it as a sample
    access, secret = "AKIAIOSFODNN7EXAMPLF", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ"
    root = make_tree({
        "Dockerfile": ("FROM debian:12\nUSER root\nCOPY jobs.cron /etc/cron.d/jobs\n"
                       "RUN apt-get update && apt-get install -y cron\nCMD [\"cron\", \"-f\"]\n"),
        "web.Dockerfile": "FROM nginx:latest\nEXPOSE 22\nRUN apt-get install -y cron\n",  # hardening only
        "infra/main.tf": (f'provider "aws" {{\n  region = "us-east-1"\n  access_key = "{access}"\n'
                          f'  secret_key = "{secret}"\n}}\nresource "aws_s3_bucket" "b" {{\n  bucket = "x"\n}}\n'),
        "k8s/db.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: pw-Qx7\n",
        "k8s/filled-by-operator.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ext\n",
    })
    plan = ck.plan_for((str(p.relative_to(root)), p) for p in root.rglob("*") if p.is_file())
    assert plan.frameworks == ("yaml", "kubernetes", "dockerfile", "terraform")
    run = ck.CheckovRun.start(root, exe=checkov_exe, frameworks=plan.frameworks, files=plan.files)
    reports = run.wait()
    assert {r["check_type"] for r in reports} == set(plan.frameworks)
    failed = sorted((c["check_id"], Path(c["file_abs_path"]).resolve().relative_to(root.resolve()).as_posix())
                    for r in reports for c in r["results"]["failed_checks"])
    # only the doctrine's checks ran: no CKV_DOCKER_* (root user, latest tag, port 22), no bucket hardening
    assert failed == [("CKV_AWS_41", "infra/main.tf"), ("CKV_SSOT_3", "Dockerfile"), ("CKV_SSOT_4", "k8s/db.yaml")]
    theirs = {(a.kind, a.location.path): a for a in ck.map_reports(reports, root.resolve())}
    cron = theirs[(Kind.SCHEDULE, "Dockerfile")]
    assert cron.store is Store.CRONTAB and cron.props["scheduler"] == "container-cron" and cron.location.line == 3
    tf = theirs[(Kind.SECRET_LITERAL, "infra/main.tf")]
    assert tf.props["check_id"] == "CKV_AWS_41" and tf.props["line_range"] == [1, 5] and tf.fingerprint is None
    assert theirs[(Kind.SECRET_LITERAL, "k8s/db.yaml")].props["secret_type"] == "Kubernetes Secret manifest"

    # the whole static source: checkov's Terraform finding folds into our detector's, in the same block
    inv = collect_static(root, checkov_exe=checkov_exe)
    assert inv.incomplete == []
    tf_lits = [a for a in inv.of(Kind.SECRET_LITERAL) if a.location.path == "infra/main.tf"]
    assert tf_lits and all(a.fingerprint for a in tf_lits)
    assert any("checkov" in a.props["detectors"] and "CKV_AWS_41" in a.props["check_ids"] for a in tf_lits)
    assert [a.props["check_id"] for a in inv.of(Kind.SECRET_LITERAL) if a.location.path == "k8s/db.yaml"
            and "checkov" in a.props["detectors"]] == ["CKV_SSOT_4"]
    assert [a.props["scheduler"] for a in inv.of(Kind.SCHEDULE)] == ["container-cron"]
    out, err = capfd.readouterr()
    for value in (access, secret, "pw-Qx7"):
        assert value not in out + err + repr(inv.assets)


def test_checkov_runs_only_the_iac_frameworks_unless_asked(make_tree: TreeMaker, tmp_path: Path) -> None:
    log = tmp_path / "argv"
    exe = _script(tmp_path, f'echo "$@" >> {log}\necho "[]"\n')
    collect_static(make_tree({"a.py": "x = 1\n"}), checkov_exe=exe)
    assert not log.exists()  # nothing for checkov in this tree: it is not started
    collect_static(make_tree({"b.py": "x = 1\n", **WORKFLOW}), checkov_exe=exe)
    collect_static(make_tree({"c.py": "x = 1\n", **WORKFLOW}), checkov_exe=exe, checkov_secrets=True)
    plain, with_secrets = log.read_text().splitlines()
    assert "--framework github_actions --external-checks-dir" in plain and "secrets" not in plain
    assert plain.startswith("-f ") and plain.count(" -f ") == 0 and "/.github/workflows/ci.yml" in plain
    assert with_secrets.startswith("-d ")
    assert "--check CKV_SSOT_*" in plain and "--enable-secret-scan-all-files" not in plain
    assert "--framework secrets github_actions" in with_secrets and "CKV_SECRET_*" in with_secrets
