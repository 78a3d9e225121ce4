"""Shared plumbing for dynamic resources."""

from __future__ import annotations

import weakref
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider

_SERIALIZED: dict[type[ResourceProvider], str] = {}
_SECRET: weakref.WeakKeyDictionary[pulumi.Output[Any], pulumi.Output[Any]] = weakref.WeakKeyDictionary()


def secret(value: Any) -> Any:
    """pulumi.Output.secret, shared for a shared input.

    Thousands of resources take the same connection string and fingerprint key; wrapping that one
    Output once instead of once per resource saves a chain of futures per resource.
    """
    if isinstance(value, pulumi.Output):
        wrapped = _SECRET.get(value)
        if wrapped is None:
            wrapped = _SECRET[value] = pulumi.Output.secret(value)
        return wrapped
    return pulumi.Output.secret(value)


def _serialized(provider_type: type[ResourceProvider]) -> str:
    # pulumi.dynamic.Resource pickles the provider with dill for every resource; our providers are
    # stateless, so one pickle per class is identical and saves most of the program's run time at
    # thousands of resources (see bench/).
    if provider_type not in _SERIALIZED:
        _SERIALIZED[provider_type] = str(serialize_provider(provider_type()))
    return _SERIALIZED[provider_type]


def _declared_outputs(cls: type) -> frozenset[str]:
    """The outputs a resource class declares: its own public, non-ClassVar annotations.

    Only classes below DynamicResource count. pulumi.Resource annotates its private state (`_name`,
    `_protect`, `_providers`...); requested as outputs, each became an Output the SDK wrote over
    that state, and the SDK then formatted the resource's name, an Output, on every registration.
    """
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is DynamicResource or not issubclass(klass, DynamicResource):
            continue
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if not name.startswith("_") and "ClassVar" not in str(annotation):
                names.add(name)
    return frozenset(names)


class DynamicResource(pulumi.CustomResource):
    """pulumi.dynamic.Resource, with the provider serialized once per provider class.

    The type token and the `__provider` property are exactly what pulumi.dynamic.Resource produces,
    so the engine's dynamic-provider host runs these resources unchanged.
    """

    _resource_type_name: ClassVar[str] = "dynamic:Resource"
    provider_class: ClassVar[type[ResourceProvider]]
    # Inputs echoed in the outputs that the engine must keep encrypted in the state.
    secret_outputs: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, module: str = "", name: str = "Resource", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._resource_type_name = f"dynamic{'/' + module if module else ''}:{name}"

    def __init__(self, name: str, props: dict[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if PROVIDER_KEY in props:
            raise ValueError("a dynamic resource must not define the __provider key")
        outputs = _declared_outputs(type(self))
        # An absent optional input costs the SDK as much as a present one (futures, resolvers,
        # serialization); providers read inputs with defaults, so None inputs are left out. The
        # outputs the class declares are requested by naming them.
        props = {k: v for k, v in props.items() if v is not None}
        for output in outputs:
            props.setdefault(output, None)
        props[PROVIDER_KEY] = _serialized(self.provider_class)
        if self.secret_outputs:
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=list(self.secret_outputs)))
        super().__init__(f"pulumi-python:{self._resource_type_name}", name, props, opts)
