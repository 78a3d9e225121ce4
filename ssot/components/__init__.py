"""Pulumi components of the platform: one module per component, `FooArgs` beside `Foo`.

Every child resource is parented to its component and every component calls `register_outputs`,
so `pulumi preview` shows one tree per concern and dependencies stay explicit.
"""

from typing import Any

TYPE_PREFIX = "ssot:platform"


def where(decl: Any) -> dict[str, Any]:
    """The declaration's file and line, carried in component props so that CrossGuard policies and
    `ssot preview` can point findings at the stack file line, not only at a URN."""
    return {"path": decl.where.file, "line": decl.where.line}


def source_meta(src: Any) -> dict[str, Any]:
    """A secret source described without its value: kind and config key or variable name."""
    return {"source": src.kind, "ref": src.ref}
