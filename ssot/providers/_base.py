"""Shared plumbing for dynamic resources."""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider


_SERIALIZED: dict[type[ResourceProvider], str] = {}


def _serialized(provider_type: type[ResourceProvider]) -> str:
    # pulumi.dynamic.Resource pickles the provider with dill for every resource; our providers are
    # stateless, so one pickle per class is identical and saves most of the program's run time at
    # thousands of resources (see bench/).
    if provider_type not in _SERIALIZED:
        _SERIALIZED[provider_type] = str(serialize_provider(provider_type()))
    return _SERIALIZED[provider_type]


class DynamicResource(pulumi.CustomResource):
    """pulumi.dynamic.Resource, with the provider serialized once per provider class.

    The type token and the `__provider` property are exactly what pulumi.dynamic.Resource produces,
    so the engine's dynamic-provider host runs these resources unchanged.
    """

    _resource_type_name: ClassVar[str] = "dynamic:Resource"
    provider_class: ClassVar[type[ResourceProvider]]

    def __init_subclass__(cls, module: str = "", name: str = "Resource", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._resource_type_name = f"dynamic{'/' + module if module else ''}:{name}"

    def __init__(self, name: str, props: dict[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if PROVIDER_KEY in props:
            raise ValueError("a dynamic resource must not define the __provider key")
        props = {**props, PROVIDER_KEY: _serialized(self.provider_class)}
        super().__init__(f"pulumi-python:{self._resource_type_name}", name, props, opts)
