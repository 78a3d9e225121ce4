"""Report formats: one module per format, each `render(report) -> str`, found through `FORMATS`.

`Report` lives in `ssot.reporters._report` (so that format modules can import it without a cycle)
and is re-exported here. Reporters render only a finding's declared fields and its public metadata
(keys not starting with "_"); see `_report` for why.
"""

from __future__ import annotations

from collections.abc import Callable

from ssot.errors import SsotError, did_you_mean
from ssot.reporters import html, json_report, markdown, sarif, text
from ssot.reporters._report import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCOMPLETE, Report
from ssot.shape import describe

FORMATS: dict[str, Callable[[Report], str]] = {
    "text": text.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "markdown": markdown.render,
    "html": html.render,
}


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    """Render in a named format; `color` only affects "text" (never set it for a file)."""
    if fmt not in FORMATS:
        raise SsotError(f"--format: one of {', '.join(FORMATS)}; got {describe(fmt)}{did_you_mean(fmt, FORMATS)}")
    if fmt == "text":
        return text.render(report, color=color)
    return FORMATS[fmt](report)


__all__ = ["EXIT_CLEAN", "EXIT_FINDINGS", "EXIT_INCOMPLETE", "FORMATS", "Report", "render"]
