"""Backpressure for large stacks under the offline runtime.

A Pulumi program declares every resource before the event loop runs any registration, so with
thousands of resources all of their pending serialisations, futures and outputs are alive at
once: that, not the resources themselves, is what peak memory measures. Offline (`ssot preview`,
the mock runtime) nothing waits on an engine, so after each batch we let the loop finish the
batch's registrations before declaring more. Under the real engine this is left alone: there a
registration completes only when the resource is created, and the engine schedules that itself.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, TypeVar

import pulumi
from pulumi.runtime.sync_await import _sync_await

BATCH = 200
# Set by ssot.mockrun just before it runs the program: how many ready handles the event loop's
# current iteration may still pop after the program's callback returns (see `_pump`).
outer_ready: int | None = None
R = TypeVar("R", bound=pulumi.Resource)


class Throttle:
    def __init__(self, batch: int = BATCH) -> None:
        self.batch = batch
        self.pending: list[pulumi.Resource] = []
        self.enabled = os.environ.get("SSOT_OFFLINE") == "1"

    def add(self, resource: R) -> R:
        if self.enabled:
            self.pending.append(resource)
            if len(self.pending) >= self.batch:
                self.drain()
        return resource

    def drain(self) -> None:
        if not self.pending:
            return
        urns = [r.urn.future() for r in self.pending]
        self.pending = []
        done = asyncio.gather(*(u for u in urns if u is not None))
        if outer_ready is None:
            _sync_await(done)
        else:
            _pump(done, outer_ready)


def _pump(fut: asyncio.Future[Any], keep: int) -> None:
    """Run the event loop from inside a callback until `fut` is done (what pulumi's _sync_await
    does), then leave at least `keep` handles ready for the iteration we interrupted.

    _sync_await pads the ready queue back to its length at entry, which is safe but, called from
    one long callback many times, re-pads its own earlier padding every time: quadratic in the
    number of batches (1.5 million dummy handles at 5,000 resources). The interrupted iteration
    only needs the handles it had counted before the program started, which mockrun records.
    """
    loop = asyncio.get_event_loop()
    task = asyncio.current_task(loop)
    if task is not None:
        asyncio.tasks._leave_task(loop, task)
    try:
        while not fut.done():
            loop._run_once()  # type: ignore[attr-defined]
    finally:
        ready = loop._ready  # type: ignore[attr-defined]
        while len(ready) < keep:
            handle = asyncio.Handle(lambda: None, (), loop)
            handle.cancel()
            ready.append(handle)
        if task is not None:
            asyncio.tasks._enter_task(loop, task)
    fut.result()
