"""GitHub Actions workflows: scheduled triggers → SCHEDULE, literals → SECRET_LITERAL (workflow)."""

from __future__ import annotations

import pytest

from ssot.inventory import Kind, Store
from ssot.sources._repo import walk
from ssot.sources.workflows import scan_workflows, workflow_schedules

from .conftest import TreeMaker, synthetic_secret

SCHEDULED = """\
name: nightly
on:
  schedule:
    - cron: "0 4 * * *"
    - cron: '30 1 * * 1'
  workflow_dispatch: {}
jobs:
  export: {runs-on: ubuntu-latest, steps: [{run: echo}]}
  notify: {runs-on: ubuntu-latest, steps: [{run: echo}]}
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("name: x\njobs: {}\n", [], id="no-trigger"),
        pytest.param("on:\n  push:\n    branches: [main]\njobs: {}\n", [], id="near-miss-push"),
        pytest.param("on: [push, pull_request]\n", [], id="near-miss-list"),
        pytest.param(SCHEDULED, [("0 4 * * *", 4), ("30 1 * * 1", 5)], id="violation"),
        pytest.param("on: [push, schedule]\n", [(None, 1)], id="bare-schedule-event"),
    ],
)
def test_schedules(text: str, expected: list[tuple[str | None, int]]) -> None:
    got = workflow_schedules(text, ".github/workflows/w.yml")
    assert [(a.props["schedule"], a.location.line) for a in got] == expected
    for a in got:
        assert (a.kind, a.store, a.props["scheduler"], a.props["justified"]) == (
            Kind.SCHEDULE, Store.GITHUB_ACTIONS, "github-actions", False)


def test_schedule_props_and_justification() -> None:
    a, _ = workflow_schedules(SCHEDULED, ".github/workflows/n.yml")
    assert a.name == ".github/workflows/n.yml:0 4 * * *" and a.props["command"] == "export, notify"
    assert a.props["workflow"] == "nightly"
    [j] = workflow_schedules("# ssot: justified reason=mirror-upstream-releases\n"
                             "on:\n  schedule:\n    - cron: '0 0 * * 0'\n", ".github/workflows/m.yml")
    assert j.props["justified"] is True and j.props["justification"] == "mirror-upstream-releases"


def test_secrets_in_workflow(make_tree: TreeMaker) -> None:
    secret = synthetic_secret()
    root = make_tree({".github/workflows/a.yml": (
        "on: push\njobs:\n  a:\n    runs-on: x\n    env:\n"
        "      REF: ${{ secrets.SUPABASE_SECRET_KEY }}\n"
        f"      KEY: {secret}\n")})
    files, _ = walk(root)
    assets, problems = scan_workflows(files)
    assert problems == []
    [lit] = assets
    assert (lit.kind, lit.location.line, lit.props["context"]) == (Kind.SECRET_LITERAL, 7, "workflow")


def test_invalid_workflow_is_a_problem_naming_the_file_and_line(make_tree: TreeMaker) -> None:
    root = make_tree({".github/workflows/bad.yml": "on:\n  schedule: [\n"})
    files, _ = walk(root)
    assets, problems = scan_workflows(files)
    assert assets == []
    [p] = problems
    assert p.startswith("workflows: .github/workflows/bad.yml:") and "expected valid YAML" in p
