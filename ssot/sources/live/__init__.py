"""Live sources: each module reads one running system once and fills an Inventory.

A live source module defines `SOURCE = LiveSource(...)`: a name (the system: `postgres`,
`supabase_api`, `odoo`, `aws`), a title for progress and reports, and `collect(platform, ctx)`.
Modules are found automatically, like rules. A source never judges the doctrine (rules do that,
over the inventory it fills) and never calls another source.

What a source returns is a `SourceResult`:
- `configured=False` when the stack does not declare that system (reported as "not configured",
  which is neither a failure nor a pass of that system);
- the assets it read (`Phase.LIVE`), following the conventions in `ssot.inventory`;
- `gaps`: everything it was asked to read and could not (down, wrong credentials, a permission
  missing half-way, rate limited past the retries, timed out). Any gap makes the audit incomplete
  (exit 3); a gap is never a finding and never a pass. A gap names the permission when one is
  known, so the operator can fix the auditor's access rather than guess;
- `read`: what it did read (object names, counts), for the report's coverage line.

Secrets: a source reads a secret's value only when it must, fingerprints it at once with
`ssot.fingerprint.fingerprint` (keyed HMAC) and drops it. No value, and no unkeyed digest, ever
reaches an Asset, a Gap, an exception message or a log line. Gap reasons are written by the source
(never an exception's text from a driver or server, which can quote connection strings or data).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from ssot.inventory import Inventory, Phase
from ssot.plugins import discover

if TYPE_CHECKING:
    from ssot.model import Platform

_NAME = re.compile(r"[a-z][a-z0-9_]{1,30}\Z")


@dataclass(frozen=True)
class Gap:
    """Something a source was asked to read and could not: never a pass, never a violation."""

    source: str
    object: str  # what was not read, e.g. "cron.job", "ir.cron", "secretsmanager:ListSecrets"
    reason: str  # why, in the source's own words (no driver or server text, no values)
    permission: str | None = None  # the permission that would have let it read, when known

    def describe(self) -> str:
        need = f" (needs {self.permission})" if self.permission else ""
        return f"{self.source}: {self.object}: {self.reason}{need}"


@dataclass
class SourceResult:
    source: str
    configured: bool
    inventory: Inventory = field(default_factory=lambda: Inventory(phases={Phase.LIVE}))
    gaps: list[Gap] = field(default_factory=list)
    read: dict[str, int] = field(default_factory=dict)  # object -> how many rows/items were read

    @property
    def complete(self) -> bool:
        return not self.gaps

    def gap(self, object: str, reason: str, permission: str | None = None) -> Gap:
        g = Gap(self.source, object, reason, permission)
        self.gaps.append(g)
        return g

    def unforeseen(self, object: str, exc: BaseException, rest: str = "the rest was not read") -> Gap:
        """An answer nobody foresaw: a gap naming the exception's type only (its text can quote what
        the source was handling), never a crash of the whole audit."""
        return self.gap(object, f"unexpected answer ({type(exc).__name__}); {rest}")

    def count(self, object: str, n: int) -> None:
        self.read[object] = self.read.get(object, 0) + n


Progress = Callable[[str, int | None], None]  # (what is being read now, how many items so far or None)


def _no_progress(what: str, n: int | None) -> None:
    return None


@dataclass(frozen=True)
class SourceContext:
    """What every source gets besides the platform: the environment credentials are read from (never
    the command line), a progress callback, a per-request timeout in seconds, and the project root
    (for the local database's data directory)."""

    env: Mapping[str, str]
    root: str = "."
    timeout: float = 30.0
    progress: Progress = _no_progress
    datadir: str | None = None  # `--datadir` for `--stack local`, as `ssot db` takes it
    # `--local-db`: audit the local cluster (`ssot db start`) instead of the database the stack
    # declares, e.g. the example estate's live side or a rehearsal of a deploy.
    local_db: bool = False
    # The longest one source may take in all, in seconds: `timeout` bounds one read, and a server
    # trickling bytes never trips it (ssot/deadline.py). Past it, the source stops with a gap.
    deadline: float = 600.0


@dataclass(frozen=True)
class LiveSource:
    name: str
    title: str
    collect: Callable[[Platform, SourceContext], SourceResult]

    def validate(self, module_name: str) -> None:
        if self.name != module_name or not _NAME.match(self.name):
            raise TypeError(f"live source module ssot.sources.live.{module_name}: name {self.name!r} must equal "
                            "its module name")


@cache
def all_sources() -> tuple[LiveSource, ...]:
    """Every live source module in this package, validated, in name order."""
    return tuple(sorted(discover(__name__, __path__, "SOURCE", LiveSource, "live source"), key=lambda s: s.name))
