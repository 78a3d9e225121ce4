"""The offline runner keeps its speed tricks to itself, on public APIs.

Components are plain Pulumi code: they must not know how `ssot preview` is made fast. The runner
(`ssot/mockrun.py`) must not drive asyncio's private internals, which change without notice
between Python versions.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pulumi

from ssot import mockrun
from ssot.mockrun import ProgramRun, run_program

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = ROOT / "ssot" / "components"
RUNNER = ROOT / "ssot" / "mockrun.py"


def test_components_know_nothing_of_the_runner() -> None:
    forbidden = re.compile(r"_flow|Throttle|\bmockrun\b|SSOT_OFFLINE|OFFLINE_ENV|\bloop\._|_sync_await|"
                           r"asyncio|run_until_complete|\bgc\b")
    files = sorted(COMPONENTS.glob("*.py"))
    assert files
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom)
                                                         and node.module else [])
                for name in names:
                    assert not forbidden.search(name), f"{path.name}:{node.lineno} imports {name}"
            if isinstance(node, ast.Name | ast.Attribute):
                text = ast.unparse(node)
                assert not forbidden.search(text), f"{path.name}:{node.lineno} uses {text}"
    assert not (COMPONENTS / "_flow.py").exists()


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_runner_uses_no_private_asyncio_attributes() -> None:
    """No `x._attr` on asyncio, its modules or an event loop, no private name imported from asyncio,
    and none of the SDK's private loop pumps (they are built on exactly those internals)."""
    tree = ast.parse(RUNNER.read_text(), filename=str(RUNNER))
    loopish = re.compile(r"(^|\.|_)(asyncio|loop|events|tasks|base_events)(\(\))?$")
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = ast.unparse(node.value)
            if loopish.search(owner) or "asyncio" in owner or "loop" in owner.lower():
                problems.append(f"{node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("asyncio"):
            problems += [f"{node.lineno}: from {node.module} import {a.name}" for a in node.names
                         if _private(a.name)]
        if isinstance(node, ast.ImportFrom) and node.module == "pulumi.runtime.sync_await":
            problems.append(f"{node.lineno}: imports the SDK's private loop pump")
        if isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in {"_sync_await", "_run_once", "_ready", "_enter_task", "_leave_task",
                        "_default_executor", "_ensure_event_loop"}:
                problems.append(f"{node.lineno}: {name}")
    assert problems == []


def test_sdk_internals_the_runner_replaces_still_exist() -> None:
    """The runner skips two per-resource costs by replacing SDK internals; it carries on without
    them if an upgrade renames them, so this test is what says the speed-up is gone."""
    from pulumi import _types
    from pulumi.runtime import resource as rt_resource

    assert callable(getattr(rt_resource, "_get_stack_trace", None))
    assert callable(getattr(_types, "resource_types", None))


def _program(n: int, seen: list[int], monitor_counts: list[int]) -> None:
    from ssot.providers.vault_secret import VaultSecret, VaultSecretArgs

    parent = pulumi.ComponentResource("test:index:Group", "group")
    for i in range(n):
        # How many registrations the (mock) engine has seen when the program declares resource i.
        monitor_counts.append(len(seen))
        VaultSecret(f"vault-{i}", VaultSecretArgs(conninfo="host=h", fingerprint_key="k" * 16, name=f"s{i}",
                                                   generate_bytes=32),
                    pulumi.ResourceOptions(parent=parent))
    parent.register_outputs({})


def _run(n: int, batch: int) -> tuple[list[int], int]:
    counts: list[int] = []
    seen: list[int] = []
    original = mockrun.RecordingMonitor.RegisterResource

    def counting(self: mockrun.RecordingMonitor, request: object) -> object:
        seen.append(1)
        return original(self, request)

    mockrun.RecordingMonitor.RegisterResource = counting  # type: ignore[method-assign]
    try:
        run = run_program(lambda: _program(n, seen, counts), project="p", stack="s", batch=batch)
    finally:
        mockrun.RecordingMonitor.RegisterResource = original  # type: ignore[method-assign]
    assert len([r for r in run.resources if r.custom]) == n
    return counts, len(run.resources)


def test_backpressure_bounds_pending_registrations() -> None:
    """With a batch of 50, no more than about 50 declarations ever wait for registration; with
    backpressure out of reach (a batch larger than the program), all of them wait until the end."""
    n = 300
    counts, total = _run(n, batch=50)
    assert total == n + 1  # the component
    # Declarations made minus registrations done, at every declaration (the stack and the group
    # are declarations too).
    backlog = [i + 2 - c for i, c in enumerate(counts)]
    assert max(backlog) <= 50 + 2, max(backlog)
    assert counts[-1] >= n - 50
    counts, _ = _run(n, batch=10_000)
    assert counts[-1] <= 2, "without backpressure nothing registers while the program declares"


def test_failure_in_a_batch_is_reported_by_the_run() -> None:
    """A registration that fails during a catch-up fails the run (as it would at the end), not the
    unrelated declaration that triggered the catch-up."""
    import pytest

    declared: list[int] = []

    def program() -> None:
        pulumi.ComponentResource("test:index:Bad", "bad", opts=pulumi.ResourceOptions(
            depends_on=[pulumi.Output.from_input(1).apply(lambda _: 1 / 0)]))  # type: ignore[arg-type,return-value]
        for i in range(10):
            pulumi.ComponentResource("test:index:Ok", f"ok-{i}")
            declared.append(i)

    with pytest.raises(ZeroDivisionError):
        run_program(program, project="p", stack="s", batch=2)
    assert declared == list(range(10)), "the program was interrupted by someone else's failure"
    # The next run is its own deployment: nothing of the failed one is awaited again.
    again = run_program(lambda: pulumi.ComponentResource("test:index:Ok", "after"), project="p", stack="s")
    assert [r.name for r in again.resources] == ["after"]


def test_a_registration_waiting_for_the_rest_of_the_program_does_not_stall_it() -> None:
    """An input from `pulumi.deferred_output()` is resolved further down the program: the catch-up
    must not wait for that registration (it would wait forever), and the run must still record it."""
    import threading

    from ssot.providers.cron_job import CronJob, CronJobArgs

    def program() -> None:
        deferred: tuple[pulumi.Output[str], Callable[[pulumi.Output[str]], None]] = pulumi.deferred_output()
        command, resolve = deferred
        CronJob("early", CronJobArgs(conninfo="host=h", name="early", schedule="* * * * *", command=command))
        for i in range(10):
            pulumi.ComponentResource("test:index:Ok", f"ok-{i}")
        resolve(pulumi.Output.from_input("select 1"))

    result: dict[str, ProgramRun] = {}
    # In a thread, so that a regression fails this test instead of hanging the suite.
    worker = threading.Thread(target=lambda: result.update(
        run=run_program(program, project="p", stack="s", batch=2)), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the program hung on a registration that waits for its own future"
    early = [r for r in result["run"].resources if r.name == "early"]
    assert len(early) == 1 and early[0].inputs["command"] == "select 1"
    assert len(result["run"].resources) == 11
