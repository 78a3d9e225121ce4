"""The corpus: every planted secret is found with the right type; no trap is flagged."""

from __future__ import annotations

from typing import Any

import pytest
from detector_corpus import PlantedSecret, Trap, load_secrets, load_traps

from ssot.detectors import all_filters, explain_text, false_positive_reason, scan_text
from ssot.fingerprint import fingerprint

SECRETS = load_secrets()
TRAPS = load_traps()


def _position(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def test_corpus_is_big_enough() -> None:
    assert len(SECRETS) >= 40
    assert len(TRAPS) >= 25
    assert len({s.id for s in SECRETS}) == len(SECRETS)
    assert len({t.id for t in TRAPS}) == len(TRAPS)
    # every filter has at least one trap that exercises it
    assert {f.__name__ for f in all_filters()} <= {t.reason for t in TRAPS}


@pytest.mark.parametrize("planted", SECRETS, ids=lambda s: s.id)
def test_planted_secret_is_found(planted: PlantedSecret) -> None:
    matches = scan_text(planted.text, planted.path)
    assert [m.secret_type for m in matches] == [planted.expect_type], (planted.id, matches)
    (match,) = matches
    index = planted.text.index(planted.secret)
    line, column = _position(planted.text, index)
    if planted.body_only:
        # a PEM key is reported at its body, the line after the BEGIN line
        body_line = planted.text.count("\n", 0, index + planted.secret.index("PRIVATE KEY-----")) + 1
        assert match.line in (body_line, body_line + 1)
    else:
        assert (match.line, match.column) == (line, column)
        assert match.fingerprint == fingerprint(planted.secret)


@pytest.mark.parametrize("trap", TRAPS, ids=lambda t: t.id)
def test_trap_is_not_flagged(trap: Trap) -> None:
    assert scan_text(trap.text) == []
    explained = explain_text(trap.text)
    if trap.reason == "no-candidate":
        assert explained == []
        return
    if trap.secret is not None:
        line = next(ln for ln in trap.text.splitlines() if trap.secret in ln)
        assert false_positive_reason(trap.secret, line, "<trap>") == trap.reason
    else:
        reasons = [why for _, why in explained]
        assert reasons and all(why == trap.reason for why in reasons), reasons


def test_recall_and_precision(detector_stats: dict[str, Any]) -> None:
    true_pos = false_pos = 0
    for planted in SECRETS:
        matches = scan_text(planted.text, planted.path)
        hit = [m for m in matches if m.secret_type == planted.expect_type]
        true_pos += bool(hit)
        false_pos += len(matches) - min(len(hit), 1)
    false_pos += sum(len(scan_text(trap.text)) for trap in TRAPS)
    recall = true_pos / len(SECRETS)
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 0.0
    detector_stats.update(
        planted=len(SECRETS),
        true_positives=true_pos,
        traps=len(TRAPS),
        false_positives=false_pos,
        recall=recall,
        precision=precision,
    )
    print(f"detector corpus: recall {recall:.3f}, precision {precision:.3f}")
    assert recall == 1.0
    assert precision == 1.0
