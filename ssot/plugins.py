"""Modules found by being there: every public module of a package defines one object (a rule's
`RULE`, a live source's `SOURCE`) that is validated against the module's name, so the same name
identifies the module, its test, its doc and everything it produces."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import Protocol, TypeVar


class Validated(Protocol):
    def validate(self, module_name: str) -> None: ...


T = TypeVar("T", bound=Validated)


def discover(package: str, path: Iterable[str], attr: str, kind: type[T], what: str) -> list[T]:
    """The `attr` of every module of `package` (those not starting with `_`), each an instance of
    `kind` that `validate`s against its module's name; anything else is a TypeError naming it."""
    out: list[T] = []
    for info in pkgutil.iter_modules(path):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        obj = getattr(module, attr, None)
        if not isinstance(obj, kind):
            raise TypeError(f"{what} module {package}.{info.name} must define {attr} = {kind.__name__}(...)")
        obj.validate(info.name)
        out.append(obj)
    return out
