"""The example estate's README tables, which state what each phase must find there."""

from __future__ import annotations

import re
from pathlib import Path

ESTATE = Path(__file__).resolve().parents[1] / "examples" / "estate"
_ROW = re.compile(r"^\|(.+)\|\s*$")


def table(section: str) -> list[dict[str, str]]:
    """The rows of the Markdown table under `## <section>`, as dicts keyed by the header."""
    text = (ESTATE / "README.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in m.group(1).split("|")] for line in body.splitlines() if (m := _ROW.match(line))]
    header, _sep, *data = rows
    return [dict(zip(header, r, strict=True)) for r in data]
