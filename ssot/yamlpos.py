"""YAML loading that remembers where each value came from.

Errors and findings must name the file and the line; PyYAML's plain loaders drop positions, so this
loader builds plain Python values from the node tree and keeps a side table: key path -> line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ssot.errors import ConfigError, ConfigIssue
from ssot.shape import describe

KeyPath = tuple[str | int, ...]


_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser: 5-10x faster on big stacks


class _UniqueKeyLoader(_Base):
    """A SafeLoader whose only job is to compose nodes; construction is done by `_build`.

    Pulumi reads stack files with a YAML 1.2 parser, where `on`, `yes` and `no` are strings, not
    booleans as in PyYAML's YAML 1.1 default. Resolving them as 1.1 would silently turn a key like
    `on: table` into `True: table`, so only true/false are booleans here, as for Pulumi.
    """


_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF"))


def _fmt_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


format_path = _fmt_path


@dataclass
class Positioned:
    """A loaded document: the plain value and the 1-based line of every key path in it."""

    file: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int | None:
        # Fall back to the nearest enclosing key so that an error on a missing key still points
        # at the mapping that lacks it.
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


def _build(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], file: str,
           issues: list[ConfigIssue], ctor: yaml.constructor.SafeConstructor) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            if knode.tag == "tag:yaml.org,2002:merge":
                issues.append(ConfigIssue(file, _fmt_path(path), "no YAML merge keys ('<<'); write keys out",
                                          knode.start_mark.line + 1))
                continue
            try:
                key = ctor.construct_object(knode, deep=True)
            except (ValueError, yaml.constructor.ConstructorError):
                key = None
            if not isinstance(key, str):
                issues.append(ConfigIssue(file, _fmt_path(path), f"string keys, got {describe(key)}",
                                          knode.start_mark.line + 1))
                continue
            if key in out:
                # The key is described, not quoted: a key may be a value pasted in the wrong place.
                issues.append(ConfigIssue(file, _fmt_path(path), f"each key once; got a duplicate key, "
                                          f"{describe(key)}", knode.start_mark.line + 1))
                continue
            lines[(*path, key)] = knode.start_mark.line + 1
            out[key] = _build(vnode, (*path, key), lines, file, issues, ctor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, (*path, i), lines, file, issues, ctor) for i, child in enumerate(node.value)]
    try:
        return ctor.construct_object(node, deep=True)
    except (ValueError, yaml.constructor.ConstructorError) as exc:
        # e.g. an impossible date (2025-02-30) that the YAML resolver took for a timestamp. The
        # reason is kept only when it does not quote the value.
        raw = node.value if isinstance(node.value, str) else ""
        why = str(exc)
        why = why if raw and raw not in why and len(why) <= 200 else describe(raw)
        issues.append(ConfigIssue(file, _fmt_path(path), f"a valid value ({why})", node.start_mark.line + 1))
        return None


_QUOTED = re.compile(r"'([^'\s][^'\n]+[^'\s])'|\"([^\"\s][^\"\n]+[^\"\s])\"")


def _unquoted(problem: str) -> str:
    """A parser's complaint without the text it quotes (PyYAML's pure-Python parser quotes e.g. an
    undefined alias, and `password: *<the password>` is one); single characters stay."""
    return _QUOTED.sub(lambda m: describe(m.group(1) or m.group(2)), problem)


_CACHE: dict[tuple[str, int, int], Positioned] = {}


def _check_single(loader: yaml.SafeLoader) -> None:
    # libyaml's get_single_node, unlike PyYAML's, does not refuse a second document.
    if loader.check_node():
        raise yaml.composer.ComposerError("expected a single document in the stream", None,
                                          "but found another document", None)


def load_yaml(path: str | Path, text: str | None = None, display: str | None = None) -> Positioned:
    """Load one YAML document with positions. Syntax errors become a ConfigError naming the line."""
    file = display or str(path)
    key: tuple[str, int, int] | None = None
    if text is None:
        try:
            st = Path(path).stat()
            key = (str(Path(path).resolve()), st.st_mtime_ns, st.st_size)
            if key in _CACHE:
                # One stack file is read by the model, by the offline config and by the scan: parse once.
                cached = _CACHE[key]
                return Positioned(file=file, data=cached.data, lines=cached.lines)
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError.single(file, "", "an existing file (not found)") from None
        except UnicodeDecodeError:
            raise ConfigError.single(file, "", "UTF-8 text") from None
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_single(loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise ConfigError.single(file, "", f"valid YAML ({_unquoted(str(exc.problem))})", line) from None
    except yaml.YAMLError as exc:
        raise ConfigError.single(file, "", f"valid YAML ({_unquoted(str(exc))})") from None
    finally:
        loader.dispose()
    issues: list[ConfigIssue] = []
    lines: dict[KeyPath, int] = {}
    data = None if node is None else _build(node, (), lines, file, issues, yaml.constructor.SafeConstructor())
    if issues:
        raise ConfigError(issues)
    doc = Positioned(file=file, data=data, lines=lines)
    if key is not None:
        if len(_CACHE) >= 16:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = doc
    return doc
