"""`ssot scan --changed-since REF`: what changed in git, hostile refs, and what a change affects."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ssot.errors import ConfigError
from ssot.inventory import Kind
from ssot.pipeline import scan
from ssot.sources.git import changed_files, validate_ref

from .conftest import TreeMaker, synthetic_secret

ESTATE = Path(__file__).resolve().parents[2] / "examples" / "estate"


def git(root: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.test", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.test", "PATH": "/usr/bin:/bin", "HOME": str(root)}
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
                          env=env).stdout


def repo(make_tree: TreeMaker, files: dict[str, str | bytes]) -> Path:
    root = make_tree(files)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def test_changed_files_are_committed_staged_modified_and_untracked(make_tree: TreeMaker) -> None:
    root = repo(make_tree, {"a.py": "a\n", "b.py": "b\n", "c.py": "c\n", "d.py": "d\n", ".gitignore": "*.log\n"})
    git(root, "checkout", "-q", "-b", "feature")
    (root / "a.py").write_text("a2\n")
    git(root, "commit", "-qam", "change a")
    (root / "b.py").write_text("b2\n")
    git(root, "add", "b.py")  # staged
    (root / "c.py").write_text("c2\n")  # modified
    (root / "new\nline.py").write_text("n\n")  # untracked, with a newline in its name
    (root / "x.log").write_text("ignored\n")
    (root / "d.py").unlink()  # deleted: listed, but there is nothing to read
    assert changed_files(root, "main") == {"a.py", "b.py", "c.py", "d.py", "new\nline.py"}
    assert changed_files(root, "HEAD") == {"b.py", "c.py", "d.py", "new\nline.py"}


@pytest.mark.parametrize("ref", ["--output=/tmp/x", "-h", "main..HEAD", "$(touch x)", "a b", "", "/etc/passwd",
                                 "main;rm", "x" * 300, "refs/heads/.lock"])
def test_hostile_refs_are_refused(ref: str) -> None:
    with pytest.raises(ConfigError):
        validate_ref(ref)


@pytest.mark.parametrize("ref", ["main", "origin/main", "HEAD~3", "v1.2.0", "a1b2c3d4", "feature/x-y_z", "HEAD^"])
def test_ref_names_are_accepted(ref: str) -> None:
    assert validate_ref(ref) == ref


def test_an_unknown_ref_is_a_usage_error(make_tree: TreeMaker) -> None:
    root = repo(make_tree, {"a.py": "a\n"})
    with pytest.raises(ConfigError) as info:
        changed_files(root, "origin/nope")
    assert "fetch-depth: 0" in str(info.value)


def test_scan_reads_only_changed_files_in_their_addon(make_tree: TreeMaker) -> None:
    old, new = synthetic_secret(), synthetic_secret()
    root = repo(make_tree, {
        "scripts/old.py": f"KEY = '{old}'\n",
        "addons/acme/__manifest__.py": "{'name': 'Acme', 'depends': ['queue_job']}\n",
        "addons/acme/models/a.py": "x = 1\n",
        "addons/other/__manifest__.py": "{'name': 'Other', 'depends': ['queue_job_cron']}\n",
    })
    (root / "scripts" / "new.py").write_text(f"KEY = '{new}'\n")
    (root / "addons" / "acme" / "models" / "a.py").write_text(
        "class A(models.Model):\n    _name = 'acme.a'\n    def f(self):\n        self.with_delay()._go()\n")
    full = scan(root, use_checkov=False)
    only = scan(root, use_checkov=False, changed_since="HEAD")
    assert {f.location.path for f in full.findings} >= {"scripts/old.py", "scripts/new.py"}
    paths = {f.location.path for f in only.findings}
    assert "scripts/old.py" not in paths and "scripts/new.py" in paths
    # the changed file is read as part of its addon (a job, not a plain file), and its addon's
    # job-runner dependency comes with it; the untouched addon does not
    jobs = [a for a in only.inventory.of(Kind.ODOO_JOB)]
    assert [(a.props["model"], a.props["method"]) for a in jobs] == [("acme.a", "_go")]
    assert {a.name for a in only.inventory.of(Kind.ODOO_MODULE)} == {"queue_job"}


def test_a_changed_stack_file_reruns_the_preview(tmp_path: Path) -> None:
    root = tmp_path / "estate"
    shutil.copytree(ESTATE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    untouched = scan(root, use_checkov=False, changed_since="HEAD")
    assert untouched.findings == []
    stack = root / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text() + "\n# reviewed\n")
    result = scan(root, use_checkov=False, changed_since="HEAD", with_preview=True)
    by_phase = {f.phase.value for f in result.findings}
    assert by_phase == {"static", "declared"}
    # the preview's findings (located by URN) are reported with the scan's, once per key
    urns = [f for f in result.findings if f.location.urn]
    assert {f.subject for f in urns} >= {"cron:push-kpis", "role:acme_agent"}
    assert len({f.key for f in result.findings}) == len(result.findings)


def test_the_repositorys_config_cannot_make_git_run_commands(make_tree: TreeMaker, tmp_path: Path) -> None:
    root = repo(make_tree, {"a.py": "a\n"})
    marker = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    for key in ("core.fsmonitor", "diff.external", "core.pager"):
        git(root, "config", key, str(hook))
    (root / "a.py").write_text("a2\n")
    assert changed_files(root, "HEAD") == {"a.py"}
    from ssot.sources.history import collect_history

    collect_history(root)
    assert not marker.exists()


def test_a_scan_never_runs_the_repositorys_program_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A hostile pull request changes the program so that it writes the environment out: the scan
    reports that it did not preview, and the program never ran; `--with-preview` runs it, in a child
    process that never sees ssot's environment (the plant does run: it writes what it sees)."""
    from ssot.cli import main

    canary = "ssot-canary-" + synthetic_secret()[:12]
    monkeypatch.setenv("SSOT_TEST_CI_TOKEN", canary)
    root = tmp_path / "estate"
    shutil.copytree(ESTATE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    leak = tmp_path / "leaked-env"
    with (root / "__main__.py").open("a") as f:
        f.write(f"\nimport os\nopen({str(leak)!r}, 'w').write(repr(dict(os.environ)))\n")

    code = main(["scan", str(root), "--changed-since", "HEAD", "--no-checkov", "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0 and not leak.exists()
    import json

    assert any("preview was not run" in w and "--with-preview" in w for w in json.loads(out)["warnings"])

    assert main(["scan", str(root), "--changed-since", "HEAD", "--no-checkov", "--with-preview"]) in (0, 1)
    capsys.readouterr()
    seen = leak.read_text()
    assert "'SSOT_OFFLINE': '1'" in seen and canary not in seen and "SSOT_TEST_CI_TOKEN" not in seen
    assert f"'HOME': {str(Path.home())!r}" not in seen


def test_with_preview_needs_changed_since(tmp_path: Path) -> None:
    from ssot.cli import main

    assert main(["scan", str(tmp_path), "--with-preview", "--no-checkov"]) == 2
