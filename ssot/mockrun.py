"""Run a Pulumi program under Pulumi's own mock runtime and record its resource graph.

This is how `ssot preview` and the tests evaluate the program with no Pulumi CLI, no engine, no
credentials and no network: `pulumi.runtime.set_mocks` replaces the engine's resource monitor, and
our monitor records, for every registration, what the real engine would record (type, name, URN,
parent, dependencies, inputs, which inputs are secret). URNs are computed as the engine does (the
mock monitor's own URNs prefix children of the stack with the stack's type, unlike the engine).
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from pulumi.runtime.proto import resource_pb2  # isort: skip

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Registered:
    """One resource as the engine would have seen it."""

    type: str
    name: str
    urn: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    secret_inputs: frozenset[str]
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    provider: str | None
    outputs: dict[str, Any] = field(default_factory=dict)
    protect: bool = False

    @property
    def props(self) -> dict[str, Any]:
        """What CrossGuard calls a resource's props: inputs, and for components their outputs too."""
        return {**self.inputs, **self.outputs}


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


# Outputs our dynamic providers compute at create time; the mocks answer with stand-ins of the
# right shape so that dependent values (the project's ref feeding the database host) resolve.
_DYNAMIC_OUTPUTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "pulumi-python:dynamic/ssot:SupabaseProject": lambda i: {"ref": "mockprojectrefabcdef", "status": "ACTIVE_HEALTHY"},
    "pulumi-python:dynamic/ssot:VaultSecret": lambda i: {"secret_id": f"00000000-0000-4000-8000-{abs(hash(i.get('name'))) % 10**12:012d}"},
    "pulumi-python:dynamic/ssot:CronJob": lambda i: {"job_id": 0},
}


class RecordingMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        extra = _DYNAMIC_OUTPUTS.get(args.typ)
        state = dict(args.inputs)
        state.pop("__provider", None)
        if extra:
            state.update(extra(state))
        return f"{args.name}-id", state

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
        _ensure_event_loop()
        raw = rpc.deserialize_properties(request.object, keep_unknowns=True)
        inputs: dict[str, Any] = {}
        secret: set[str] = set()
        for key, value in raw.items():
            inputs[key], is_secret = _unwrap(value)
            if is_secret:
                secret.add(key)
        inputs.pop("__provider", None)
        resource_args = pulumi.runtime.MockResourceArgs(
            typ=request.type, name=request.name, inputs=inputs, provider=request.provider,
            resource_id=request.importId, custom=request.custom or False)
        id_, state = self.mocks.new_resource(resource_args)
        # Secret inputs stay secret in the returned state, as the engine would keep them.
        wire_state = {k: (rpc.wrap_rpc_secret(v) if k in secret else v) for k, v in state.items()}
        obj = _sync_await(rpc.serialize_properties(wire_state, {}))
        parent = request.parent if request.parent and self._types.get(request.parent) != STACK_TYPE else None
        self.registered[urn] = Registered(
            type=request.type, name=request.name, urn=urn, parent=parent, custom=bool(request.custom),
            inputs=inputs, secret_inputs=frozenset(secret), dependencies=tuple(request.dependencies),
            property_dependencies={k: tuple(v.urns) for k, v in request.propertyDependencies.items()},
            provider=request.provider or None, protect=bool(request.protect),
        )
        self.resources[urn] = pmocks.MockMonitor.ResourceRegistration(urn, id_, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=obj)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        _ensure_event_loop()
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


def run_program(program: Callable[[], Any] | Path, *, project: str, stack: str,
                config: Mapping[str, str] | None = None, secret_keys: tuple[str, ...] = (),
                root: Path | None = None, env: Mapping[str, str] | None = None) -> ProgramRun:
    """Run `program` (a callable, or the path of a Pulumi `__main__.py`) under the mock runtime.

    `config` is the flat Pulumi config (`ns:key` -> string; structured values JSON-encoded), as the
    engine would pass it; `secret_keys` marks which of them are secrets.
    """
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks, project, stack)
    # Each run is its own deployment: a root stack left by an earlier run would parent this one.
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=True, monitor=monitor)
    set_all_config(dict(config or {}), list(secret_keys))
    exports: dict[str, Any] = {}

    if isinstance(program, Path):
        path = program

        def body() -> None:
            runpy.run_path(str(path), run_name="__main__")
    else:
        body = program  # type: ignore[assignment]

    with _environment(root or Path.cwd(), env or {}):
        _sync_await(run_pulumi_func(body))
        stack_resource = pulumi.runtime.settings.get_root_resource()
        if stack_resource is not None:
            outputs = getattr(stack_resource, "outputs", {}) or {}
            for k, v in outputs.items():
                exports[k] = _sync_await(v.future()) if isinstance(v, pulumi.Output) else v
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
