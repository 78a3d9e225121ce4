"""One shape for every finding, in every phase, following the doctrine's violation protocol.

STOP: `severity` (and, against a threshold, `blocking`). EXPLAIN: `clause`, `explain`, `location`.
PROPOSE: `propose`, a concrete compliant alternative. `key` is stable across runs and line moves:
suppressions and baselines use it, and it never contains or derives from a secret in the clear.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any

from ssot.inventory import Location, Phase
from ssot.shape import describe

FINDING_SCHEMA_VERSION = "1.0"


class Severity(IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"a severity, one of {names}; got {describe(text)}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


def finding_key(rule_id: str, subject: str) -> str:
    """Stable key: rule id plus a digest of the subject (which is already value-free)."""
    digest = hashlib.sha256(f"{rule_id}\x00{subject}".encode()).hexdigest()[:16]
    return f"{rule_id}:{digest}"


@dataclass(frozen=True)
class Finding:
    rule_id: str
    title: str
    severity: Severity
    clause: str
    explain: str
    propose: str
    location: Location
    subject: str
    phase: Phase
    metadata: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    blocking: bool = False
    suppressed_by: str | None = None

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", finding_key(self.rule_id, self.subject))

    def with_threshold(self, fail_on: Severity) -> Finding:
        return replace(self, blocking=self.suppressed_by is None and self.severity >= fail_on)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity.label,
            "blocking": self.blocking,
            "key": self.key,
            "phase": self.phase.value,
            "clause": self.clause,
            "explain": self.explain,
            "propose": self.propose,
            "location": self.location.to_dict(),
            "subject": self.subject,
            "metadata": self.metadata,
            **({"suppressed_by": self.suppressed_by} if self.suppressed_by else {}),
        }
