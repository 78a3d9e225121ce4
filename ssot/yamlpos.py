"""YAML loading that remembers where each value came from.

Errors and findings must name the file and the line; PyYAML's plain loaders drop positions, so this
loader builds plain Python values from the node tree and keeps a side table: key path -> line.
"""

from __future__ import annotations

import os
import re
import stat
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


# Bounds on what one YAML document may make us build. Aliases share nodes, so composing is cheap;
# walking or constructing them expands every alias: nine anchors of nine aliases ("billion laughs")
# become 387 million nodes, and an anchor used inside itself never ends. Documents without aliases
# are unaffected whatever their size; nesting deeper than any real config is refused too.
MAX_ALIAS_EXPANSION = 100_000  # nodes added by expanding aliases, over the document's own
MAX_DEPTH = 200
MAX_YAML_BYTES = 16 * 1024 * 1024


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_bounds(node: yaml.Node, file: str) -> None:
    """Refuse (ConfigError naming the line) a document whose aliases expand past MAX_ALIAS_EXPANSION
    nodes, that uses an anchor inside itself, or nests deeper than MAX_DEPTH. Linear in the number
    of distinct nodes: expanded sizes are computed once per node, bottom-up, without recursion."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    active: set[int] = set()
    reached: dict[int, int] = {}
    shared_line: int | None = None
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        n, done = stack.pop()
        nid = id(n)
        if done:
            kids = _children(n)
            size[nid] = min(1 + sum(size[id(c)] for c in kids), 1 << 62)
            depth[nid] = 1 + max((depth[id(c)] for c in kids), default=0)
            active.discard(nid)
            if depth[nid] > MAX_DEPTH:
                raise ConfigError.single(file, "", f"YAML nested at most {MAX_DEPTH} levels deep",
                                         n.start_mark.line + 1)
            continue
        reached[nid] = reached.get(nid, 0) + 1
        if reached[nid] > 1 and shared_line is None:
            shared_line = n.start_mark.line + 1
        if nid in size:
            continue
        if nid in active:
            raise ConfigError.single(file, "", "no recursive YAML aliases (an anchor used inside itself)",
                                     n.start_mark.line + 1)
        active.add(nid)
        stack.append((n, True))
        stack.extend((c, False) for c in reversed(_children(n)))
    extra = size[id(node)] - len(size)
    if extra > MAX_ALIAS_EXPANSION:
        raise ConfigError.single(file, "", f"YAML aliases that expand to at most {MAX_ALIAS_EXPANSION:,} more "
                                 "nodes (these expand to more: an alias bomb)", shared_line)


def compose_all(text: str, file: str) -> list[yaml.Node]:
    """Every document of a YAML stream as nodes, each within `check_bounds`; a syntax error or a
    refused document is a ConfigError naming the line."""
    loader = _UniqueKeyLoader(text)
    docs: list[yaml.Node] = []
    try:
        while loader.check_node():
            doc = loader.get_node()
            if doc is not None:
                check_bounds(doc, file)
                docs.append(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ConfigError.single(file, "", f"valid YAML ({_unquoted(str(exc.problem))})",
                                 mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ConfigError.single(file, "", f"valid YAML ({type(exc).__name__})") from None
    finally:
        loader.dispose()
    return docs


def read_config_text(path: str | Path, file: str, limit: int = MAX_YAML_BYTES) -> str:
    """A config file's text: a regular file (not a directory, FIFO or device; not through a
    symlink), readable, at most `limit` bytes, UTF-8. Anything else is a ConfigError naming it."""
    from ssot.safefile import NotRead, read_bytes

    try:
        data = read_bytes(path, limit=limit, rel=file)
    except NotRead as exc:
        if not os.path.lexists(path):
            raise ConfigError.single(file, "", "an existing file (not found)") from None
        raise ConfigError.single(file, "", f"a readable regular file ({exc.reason})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError.single(file, "", "UTF-8 text", line) from None


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
            st = os.lstat(path)
            key = (str(Path(path).resolve()), st.st_mtime_ns, st.st_size) if stat.S_ISREG(st.st_mode) else None
            if key is not None and key in _CACHE:
                # One stack file is read by the model, by the offline config and by the scan: parse once.
                cached = _CACHE[key]
                return Positioned(file=file, data=cached.data, lines=cached.lines)
        except OSError:
            pass  # read_config_text says why, naming the file
        text = read_config_text(path, file)
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_single(loader)
            check_bounds(node, file)
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
