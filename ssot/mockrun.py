"""Run a Pulumi program under Pulumi's own mock runtime and record its resource graph.

This is how `ssot preview` and the tests evaluate the program with no Pulumi CLI, no engine, no
credentials and no network: `pulumi.runtime.set_mocks` replaces the engine's resource monitor, and
our monitor records, for every registration, what the real engine would record (type, name, URN,
parent, dependencies, inputs, which inputs are secret). URNs are computed as the engine does (the
mock monitor's own URNs prefix children of the stack with the stack's type, unlike the engine).

Whatever makes a large program fast and small offline lives here, on public APIs (the program's
components are plain Pulumi code and know nothing of it): the runner owns the event loop of the
run, lets it catch up every few hundred declarations (`_Backpressure`), answers monitor calls
inline and pauses the garbage collector for the bounded run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import hashlib
import os
import runpy
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func

from pulumi.runtime.proto import resource_pb2  # isort: skip

STACK_TYPE = "pulumi:pulumi:Stack"
# Declarations between two catch-ups of the event loop (see _Backpressure): small enough that the
# pending work of one batch is a few MB, large enough that the catch-ups cost nothing measurable.
BATCH = 200


class Registered:
    """One resource as the engine would have seen it.

    Inputs are kept as the wire form the SDK sent and decoded on first use: the monitor runs on the
    SDK's worker threads, where decoding thousands of property bags up front competes with the
    program for the GIL.
    """

    def __init__(self, *, type: str, name: str, urn: str, parent: str | None, custom: bool, raw: Any,
                 dependencies: tuple[str, ...], property_dependencies: dict[str, tuple[str, ...]],
                 provider: str | None, protect: bool) -> None:
        self.type = type
        self.name = name
        self.urn = urn
        self.parent = parent
        self.custom = custom
        self.dependencies = dependencies
        self.property_dependencies = property_dependencies
        self.provider = provider
        self.protect = protect
        self.outputs: dict[str, Any] = {}
        self._raw = raw
        self._inputs: dict[str, Any] | None = None
        self._secret: frozenset[str] = frozenset()

    def _decode(self) -> None:
        if self._inputs is not None:
            return
        _decoding_loop()
        inputs: dict[str, Any] = {}
        secret: set[str] = set()
        for key, value in rpc.deserialize_properties(self._raw, keep_unknowns=True).items():
            if key == "__provider":
                continue
            inputs[key], is_secret = _unwrap(value)
            if is_secret:
                secret.add(key)
        self._inputs, self._secret, self._raw = inputs, frozenset(secret), None

    @property
    def inputs(self) -> dict[str, Any]:
        self._decode()
        assert self._inputs is not None
        return self._inputs

    @property
    def secret_inputs(self) -> frozenset[str]:
        self._decode()
        return self._secret

    @property
    def props(self) -> dict[str, Any]:
        """What CrossGuard calls a resource's props: inputs, and for components their outputs too."""
        return {**self.inputs, **self.outputs}

    def __repr__(self) -> str:
        return f"Registered({self.type}, {self.urn})"


def _unwrap(value: Any) -> tuple[Any, bool]:
    """Strip Pulumi's secret wrappers; say whether anything inside was secret."""
    if rpc.is_rpc_secret(value):
        inner, _ = _unwrap(rpc.unwrap_rpc_secret(value))
        return inner, True
    if isinstance(value, dict):
        out, secret = {}, False
        for k, v in value.items():
            out[k], s = _unwrap(v)
            secret = secret or s
        return out, secret
    if isinstance(value, list):
        items = [_unwrap(v) for v in value]
        return [i for i, _ in items], any(s for _, s in items)
    return value, False


# Outputs our dynamic providers compute at create time; the monitor answers with stand-ins of the
# right shape so that dependent values (the project's ref feeding the database host) resolve.
# Everything else is left unanswered and resolves as unknown, as in a real preview: echoing every
# input back as state (what mocks usually do) makes the SDK decode and resolve each one twice.
_DYNAMIC_OUTPUTS: dict[str, Callable[[str], dict[str, Any]]] = {
    "pulumi-python:dynamic/ssot:SupabaseProject": lambda name: {"ref": "mockprojectrefabcdef",
                                                                 "status": "ACTIVE_HEALTHY"},
    "pulumi-python:dynamic/ssot:VaultSecret": lambda name: {
        "secret_id": "00000000-0000-4000-8000-" + hashlib.sha256(name.encode()).hexdigest()[:12]},
    "pulumi-python:dynamic/ssot:CronJob": lambda name: {"job_id": 0},
}
_EMPTY = struct_pb2.Struct()


class RecordingMocks(pulumi.runtime.Mocks):
    """Only used for invokes; registrations are answered by RecordingMonitor directly."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        extra = _DYNAMIC_OUTPUTS.get(args.typ)
        return f"{args.name}-id", extra(args.name) if extra else {}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(pmocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks, project: str, stack: str) -> None:
        super().__init__(mocks)
        self.project = project
        self.stack = stack
        self.registered: dict[str, Registered] = {}
        self._types: dict[str, str] = {}  # urn -> qualified type chain

    def _urn(self, parent: str, type_: str, name: str) -> str:
        qualified = type_
        chain = self._types.get(parent)
        if chain and chain != STACK_TYPE:
            qualified = f"{chain}${type_}"
        urn = f"urn:pulumi:{self.stack}::{self.project}::{qualified}::{name}"
        self._types[urn] = qualified
        return urn

    def RegisterResource(self, request: Any) -> Any:
        urn = self._urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self._types[urn] = STACK_TYPE
            return resource_pb2.RegisterResourceResponse(urn=urn)
        id_ = f"{request.name}-id"
        extra = _DYNAMIC_OUTPUTS.get(request.type)
        obj = _EMPTY
        if extra:
            # Plain strings and numbers serialize to a Struct as Pulumi would serialize them; no need
            # for the SDK's async serializer (which would re-enter the event loop we may be on).
            obj = struct_pb2.Struct()
            obj.update(extra(request.name))
        parent = request.parent if request.parent and self._types.get(request.parent) != STACK_TYPE else None
        self.registered[urn] = Registered(
            type=request.type, name=request.name, urn=urn, parent=parent, custom=bool(request.custom),
            raw=request.object, dependencies=tuple(request.dependencies),
            property_dependencies={k: tuple(v.urns) for k, v in request.propertyDependencies.items()},
            provider=request.provider or None, protect=bool(request.protect),
        )
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn in self.registered:
            raw = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
            self.registered[request.urn].outputs = {k: _unwrap(v)[0] for k, v in raw.items()}
        return super().RegisterResourceOutputs(request)


@dataclass
class ProgramRun:
    resources: list[Registered]
    exports: dict[str, Any]

    def by_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self) -> dict[str, Registered]:
        return {r.urn: r for r in self.resources}


def _no_stack_trace() -> Any:
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


@contextmanager
def _without_source_positions() -> Iterator[None]:
    """Per-resource work the SDK does for the engine's benefit, skipped or done once offline.

    The SDK walks and formats the whole Python stack (traceback.extract_stack, reading source
    lines) for every resource, so the engine can show where it was declared. No engine consumes it
    under the mock runtime, and it was the SDK's largest single cost at thousands of resources."""
    from pulumi import _types
    from pulumi.runtime import resource as rt_resource

    # These two are the SDK's internals, not its API: if an SDK upgrade renames them, the run stays
    # correct and only gets slower (tests/program/test_runner_owns_tricks.py notices).
    if not all(callable(getattr(module, name, None)) for module, name in
               ((rt_resource, "_get_stack_trace"), (_types, "resource_types"))):
        yield
        return
    saved = rt_resource._get_stack_trace, _types.resource_types
    # The SDK also re-derives a resource class's output types from its annotations (typing's
    # get_type_hints, compiling forward references) for every instance; they are per class.
    per_class: dict[type, dict[str, type]] = {}

    def resource_types(resource_cls: type) -> dict[str, type]:
        if resource_cls not in per_class:
            per_class[resource_cls] = saved[1](resource_cls)
        return per_class[resource_cls]

    rt_resource._get_stack_trace = _no_stack_trace
    _types.resource_types = resource_types
    try:
        yield
    finally:
        rt_resource._get_stack_trace, _types.resource_types = saved


def _thread_loop() -> asyncio.AbstractEventLoop | None:
    """The calling thread's event loop, if it has one (without the deprecation warning newer
    Pythons give when asked outside a running loop)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return asyncio.get_event_loop()
        except RuntimeError:
            return None


def _decoding_loop() -> None:
    """Output values inside a property bag decode to futures, which need a current event loop;
    the run's own loop is closed by the time a caller reads inputs."""
    loop = _thread_loop()
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs the SDK's monitor calls where they are made.

    The SDK hands every monitor RPC to a thread pool, because a real engine answers over gRPC. Our
    monitor answers in microseconds from memory, so the hand-off (and the GIL contention between
    the pool threads and the program) cost more than the calls themselves.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the awaiting coroutine, as a pool would
            future.set_exception(exc)
        return future


class _Backpressure:
    """Lets the event loop finish the registrations declared so far, every `batch` declarations.

    A Pulumi program declares every resource before the event loop runs any registration, so with
    thousands of resources all of their pending serialisations, futures and outputs would be alive
    at once: that, not the resources themselves, is what peak memory measures. The runner runs the
    program's body outside the loop, so from this stack transformation (called by the SDK at every
    declaration) it can run the loop with the public `run_until_complete`. A declaration made
    while the loop runs (inside an `apply`) is only counted: a loop cannot be run from inside itself.

    A registration may wait for something only the rest of the program provides (an input from
    `pulumi.deferred_output()`, resolved further down): waiting for it here would never end. So
    the catch-up stops once the loop has sat idle (under `IDLE_CPU_S` of CPU time in `STALL_S`)
    with registrations still pending, and leaves them to the end of the run, where the SDK waits for
    everything anyway.
    """

    STALL_S = 0.25
    IDLE_CPU_S = 0.005

    def __init__(self, loop: asyncio.AbstractEventLoop, batch: int) -> None:
        self.loop = loop
        self.batch = batch
        self.pending: list[pulumi.Resource] = []
        self.stalled: set[asyncio.Future[Any]] = set()

    def __call__(self, args: pulumi.ResourceTransformationArgs) -> None:
        if len(self.pending) >= self.batch and not self.loop.is_running():
            self.drain()
        # The declaration being made is not registered yet: it waits for the next batch.
        self.pending.append(args.resource)
        return None

    def drain(self) -> None:
        # A failed registration is not this declaration's failure: the SDK records it and the run
        # reports it when the program ends, as it would without backpressure.
        waiting = {asyncio.ensure_future(u, loop=self.loop) for r in self.pending
                   if (u := r.urn.future()) is not None}
        self.pending = []
        if not waiting:
            return
        while waiting:
            cpu = time.thread_time()
            _, waiting = self.loop.run_until_complete(asyncio.wait(waiting, timeout=self.STALL_S))
            # Stalled is the loop sitting idle, not the batch being slow: the registrations advance
            # together, so on a loaded machine none may complete for a while, yet the loop is busy.
            if waiting and time.thread_time() - cpu < self.IDLE_CPU_S:
                break
        self.stalled |= waiting

    def finish(self, completed: bool) -> None:
        """Collect what stalled: once the run has completed every registration, it is done or about
        to be; after a failed run some never will be, and are cancelled."""
        if not self.stalled:
            return
        if not completed:
            for future in self.stalled:
                future.cancel()
        self.loop.run_until_complete(asyncio.gather(*self.stalled, return_exceptions=True))
        self.stalled = set()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The SDK allocates millions of short-lived futures and handles; with thousands of live
    resources every generation-2 collection walks them all, which made the run superlinear.
    A program run is bounded, so collection waits until it ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Re-enabling with millions of young objects pending would make the very next allocation
        # walk them all (a second, measured). What survives the run is mostly the run's result and
        # the SDK's module state; it is moved out of the collector's way instead.
        gc.freeze()
        if was_enabled:
            gc.enable()


@contextmanager
def _environment(root: Path, env: Mapping[str, str]) -> Iterator[None]:
    saved_env = {k: os.environ.get(k) for k in env}
    saved_cwd = Path.cwd()
    saved_path = list(sys.path)
    os.environ.update(env)
    os.chdir(root)
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _discard_pending(loop: asyncio.AbstractEventLoop) -> None:
    """A failed run leaves work behind (outputs still resolving, registrations in flight) that the
    SDK keeps in its process-wide settings; the next run in this process would await it on this
    loop once it is closed. Cancel it here, with the loop that owns it, and forget it."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    settings = pulumi.runtime.settings.SETTINGS
    with settings.lock:
        settings.outputs.clear()


def run_program(program: Callable[[], Any] | Path, *, project: str, stack: str,
                config: Mapping[str, str] | None = None, secret_keys: tuple[str, ...] = (),
                root: Path | None = None, env: Mapping[str, str] | None = None,
                batch: int = BATCH) -> ProgramRun:
    """Run `program` (a callable, or the path of a Pulumi `__main__.py`) under the mock runtime.

    `config` is the flat Pulumi config (`ns:key` -> string; structured values JSON-encoded), as the
    engine would pass it; `secret_keys` marks which of them are secrets.
    """
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks, project, stack)
    if isinstance(program, Path):
        path = program

        def body() -> None:
            runpy.run_path(str(path), run_name="__main__")
    else:
        body = program

    previous = _thread_loop()
    # The run's own loop: nothing the caller scheduled runs inside the program, and the runner is
    # free to run it between declarations (it is never running while the program's body is).
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.set_default_executor(_InlineExecutor(max_workers=1))
    exports: dict[str, Any] = {}
    try:
        with (_environment(root or Path.cwd(), env or {}), _without_source_positions(), _gc_paused()):
            # Each run is its own deployment: a root stack left by an earlier run would parent this one.
            # (What a failed run leaves in the SDK's settings is discarded by _discard_pending; the
            # SDK's reset_options would do it too, but with it the catch-ups found nothing to
            # catch up on: every registration waited for the end of the run, measured 3.3 -> 11 s.)
            pulumi.runtime.settings.ROOT.set(None)
            pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=True, monitor=monitor)
            set_all_config(dict(config or {}), list(secret_keys))
            backpressure = _Backpressure(loop, batch)
            pulumi.runtime.register_stack_transformation(backpressure)
            failure: BaseException | None = None
            try:
                body()
            except BaseException as exc:  # re-raised by run_pulumi_func once the registrations end
                failure = exc

            def rest() -> None:
                if failure is not None:
                    raise failure

            completed = False
            try:
                loop.run_until_complete(run_pulumi_func(rest))
                completed = True
            finally:
                backpressure.finish(completed)
            stack_resource = pulumi.runtime.settings.get_root_resource()
            if stack_resource is not None:
                outputs = getattr(stack_resource, "outputs", {}) or {}
                for k, v in outputs.items():
                    exports[k] = loop.run_until_complete(v.future()) if isinstance(v, pulumi.Output) else v
    finally:
        _discard_pending(loop)
        loop.close()
        asyncio.set_event_loop(previous if previous is not None and not previous.is_closed() else None)
    return ProgramRun(resources=list(monitor.registered.values()), exports=exports)


def stack_config(stack_file: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    """The flat config the engine would give the program for this stack file, offline.

    Encrypted values cannot be decrypted without the stack's secrets provider; they become labelled
    stand-ins, still marked secret, which is all an offline evaluation needs.
    """
    import json

    from ssot.yamlpos import load_yaml

    data = load_yaml(stack_file).data or {}
    config: dict[str, str] = {}
    secret: list[str] = []
    for key, value in (data.get("config") or {}).items():
        full = key if ":" in key else f"{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = f"<secret {full}>"
            secret.append(full)
        elif isinstance(value, str):
            config[full] = value
        else:
            config[full] = json.dumps(value, default=str)
    return config, tuple(secret)


def run_stack(root: Path, stack: str, *, project: str | None = None,
              env: Mapping[str, str] | None = None) -> ProgramRun:
    """Run the project's own `__main__.py` for `stack`, offline (SSOT_OFFLINE=1)."""
    from ssot.model import stack_file
    from ssot.program import OFFLINE_ENV
    from ssot.yamlpos import load_yaml

    if project is None:
        project = str((load_yaml(root / "Pulumi.yaml").data or {}).get("name", "project"))
    config, secret_keys = stack_config(stack_file(stack, root))
    return run_program(root / "__main__.py", project=project, stack=stack, config=config,
                       secret_keys=secret_keys, root=root, env={OFFLINE_ENV: "1", **(env or {})})
