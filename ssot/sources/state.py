"""The declared inventory from a `pulumi stack export` file (`ssot audit --state FILE`).

What CD already has after `pulumi up`: the deployment's resources with their inputs and outputs,
which is what was last applied (and what `pulumi refresh` compares with). Each resource becomes a
`ResourceView` for the declared adapter, exactly as the mock runtime's resources do.

The file is input like any other: bounded in size and depth, shapes checked, and every secret the
export carries (`{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
"ciphertext"|"plaintext": ...}`; `plaintext` appears with `--show-secrets`) is replaced by a labelled
stand-in before anything else sees it: no secret, encrypted or not, is ever copied out of the file.
One exception: a provider's `fingerprint` output (a keyed HMAC, 64 hex digits, secret in state so
that the state alone never lets anyone test guesses) is kept when the export shows it (`pulumi stack
export --show-secrets`, which CD writes to a file it never prints): drift compares it with the live
fingerprint. Encrypted, it is a stand-in like any other, and the value is not compared.
Errors name the file and the key path, never a value.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ssot.errors import ConfigError
from ssot.sources.declared import ResourceView

MAX_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64
MAX_RESOURCES = 500_000
_MARK_FIELD = "4dabf18193072939515e22adb298388d"
_MARK_VALUE = "1b47061264138c4ac30d75fd1eb44270"
STAND_IN = "<secret state>"  # the declared adapter's placeholder shape: never fingerprinted
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def _bad(display: str, path: str, expected: str) -> ConfigError:
    return ConfigError.single(display, path, expected)


def _strip(value: Any, depth: int, display: str, path: str) -> Any:
    if depth > MAX_DEPTH:
        raise _bad(display, path, f"at most {MAX_DEPTH} levels of nesting")
    if isinstance(value, dict):
        if value.get(_MARK_FIELD) == _MARK_VALUE:
            return _shown_fingerprint(value) if path.endswith(".fingerprint") else STAND_IN
        return {str(k): _strip(v, depth + 1, display, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_strip(v, depth + 1, display, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _shown_fingerprint(wrapper: dict[str, Any]) -> str:
    plain = wrapper.get("plaintext")
    try:
        fp = json.loads(plain) if isinstance(plain, str) and len(plain) <= 66 else None
    except ValueError:
        fp = None
    return fp if isinstance(fp, str) and _HEX64.match(fp) else STAND_IN


def load_state(path: Path, display: str | None = None) -> list[ResourceView]:
    shown = display or str(path)
    try:
        if not path.is_file():
            raise _bad(shown, "", "a `pulumi stack export` JSON file")
        if path.stat().st_size > MAX_BYTES:
            raise _bad(shown, "", f"a state export of at most {MAX_BYTES // (1024 * 1024)} MB")
        raw = path.read_bytes()
    except OSError as exc:
        raise _bad(shown, "", f"a readable file ({exc.strerror})") from None
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise _bad(shown, "", f"JSON from `pulumi stack export`{where}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("deployment"), dict):
        raise _bad(shown, "deployment", "an object (the export's deployment)")
    resources = doc["deployment"].get("resources") or []
    if not isinstance(resources, list):
        raise _bad(shown, "deployment.resources", "a list of resources")
    if len(resources) > MAX_RESOURCES:
        raise _bad(shown, "deployment.resources", f"at most {MAX_RESOURCES} resources")
    out = []
    for i, r in enumerate(resources):
        where = f"deployment.resources[{i}]"
        if not isinstance(r, dict):
            raise _bad(shown, where, "an object with urn, type, inputs and outputs")
        urn, type_ = r.get("urn"), r.get("type")
        if not isinstance(urn, str) or not isinstance(type_, str) or "::" not in urn:
            raise _bad(shown, f"{where}.urn", "a Pulumi URN (urn:pulumi:<stack>::<project>::<type>::<name>) and "
                       "a type")
        if r.get("delete") is True or type_.startswith("pulumi:"):
            # Pending deletions and the stack/provider resources declare nothing of the platform.
            continue
        props: dict[str, Any] = {}
        for part in ("outputs", "inputs"):
            bag = r.get(part)
            if bag is None:
                continue
            if not isinstance(bag, dict):
                raise _bad(shown, f"{where}.{part}", "an object")
            props.update(_strip(bag, 0, shown, f"{where}.{part}"))
        out.append(ResourceView(type_, urn.rsplit("::", 1)[-1], urn, props))
    return out
