"""The detector corpus (tests/detectors/corpus/*.yaml) rendered into texts, and the run's statistics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import detector_synth as synth
import yaml

CORPUS = Path(__file__).parent / "corpus"


# Filled by test_detector_corpus.py's summary test; printed at the end of the run.
STATS: dict[str, Any] = {}


@dataclass(frozen=True)
class PlantedSecret:
    id: str
    kind: str
    path: str
    text: str
    secret: str  # as written into text (after any transform)
    expect_type: str
    body_only: bool


@dataclass(frozen=True)
class Trap:
    id: str
    text: str
    reason: str
    secret: str | None


def _render_secret(entry: dict[str, Any]) -> str:
    value = synth.secret(entry["kind"], entry["id"])
    if entry.get("transform") == "json_escape":
        value = json.dumps(value)[1:-1]
    indent = entry.get("indent_secret")
    if indent:
        value = value.replace("\n", "\n" + " " * int(indent))
    return value


def load_secrets() -> list[PlantedSecret]:
    out = []
    for entry in yaml.safe_load((CORPUS / "secrets.yaml").read_text()):
        secret = _render_secret(entry)
        out.append(
            PlantedSecret(
                id=entry["id"],
                kind=entry["kind"],
                path=entry.get("path", "<text>"),
                text=entry["template"].replace("{secret}", secret),
                secret=secret,
                expect_type=entry["expect_type"],
                body_only=bool(entry.get("body_only", False)),
            )
        )
    return out


def _fill(text: str) -> str:
    for name in synth.TRAP_VALUES:
        marker = "{trap:" + name + "}"
        if marker in text:
            text = text.replace(marker, synth.trap_value(name))
    if "{trap:" in text:
        raise ValueError(f"traps.yaml: unknown {{trap:…}} value in {text!r}")
    return text


def load_traps() -> list[Trap]:
    return [
        Trap(
            id=e["id"], text=_fill(e["text"]), reason=e["reason"], secret=_fill(e["secret"]) if "secret" in e else None
        )
        for e in yaml.safe_load((CORPUS / "traps.yaml").read_text())
    ]
