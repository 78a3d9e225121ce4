"""A canary secret never leaves the package: not in results, reprs, output, logs or errors."""

from __future__ import annotations

import dataclasses
import logging
import random

import detector_synth as synth
import pytest

from ssot.detectors import SecretMatch, explain_text, false_positive_reason, scan_text, scan_value


def _canaries() -> list[str]:
    # one per detector family; random per run so nothing could have been hard-coded anywhere
    seed = str(random.SystemRandom().getrandbits(64))
    kinds = [
        "supabase_secret_key",
        "supabase_pat",
        "supabase_service_role_jwt",
        "n8n_api_jwt",
        "anthropic_api",
        "aws_secret_access_key",
        "github_pat_fine",
        "stripe_live",
        "slack_bot",
    ]
    return [synth.secret(kind, seed) for kind in kinds]


CANARY_TEXT_TEMPLATES = [
    "KEY={c}\n",
    "aws_secret_access_key = {c}\n",
    "url: postgres://app:{c}@db.internal/app\n",
    "password: '{c}'\n",
]


def _all_strings(obj: object) -> str:
    parts = [repr(obj), str(obj)]
    if isinstance(obj, SecretMatch):
        parts += [str(v) for v in dataclasses.asdict(obj).values()]
    if isinstance(obj, (list, tuple)):
        parts += [_all_strings(o) for o in obj]
    return "\n".join(parts)


def test_secret_match_has_no_place_for_plaintext() -> None:
    assert [f.name for f in dataclasses.fields(SecretMatch)] == [
        "secret_type",
        "detector",
        "line",
        "column",
        "fingerprint",
        "redacted",
    ]
    (m,) = scan_text("k=" + synth.secret("supabase_pat", "slots"))
    assert not hasattr(m, "__dict__")  # slots: nothing can be attached to a match later
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(m, "redacted", "x")  # noqa: B010 (the point is that assignment fails)


@pytest.mark.parametrize("canary", _canaries(), ids=lambda c: c[:3])
def test_canary_never_appears(
    canary: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    produced: list[object] = []
    found = 0
    for template in CANARY_TEXT_TEMPLATES:
        text = template.format(c=canary)
        matches = scan_text(text, "canary.txt")
        found += len(matches)
        produced += [matches, explain_text(text, "canary.txt")]
        produced.append(scan_value(canary, context="api_key"))
        produced.append(scan_value(text, context="cron-command"))
        produced.append(false_positive_reason(canary, text, "canary.txt"))
    assert found > 0  # the canary was seen, so its absence below means something
    out, err = capsys.readouterr()
    haystack = "\n".join([_all_strings(p) for p in produced] + [out, err, caplog.text])
    assert canary not in haystack
    # not even a long piece of it: redaction keeps at most the first four characters
    for i in range(4, len(canary) - 8, 7):
        assert canary[i : i + 8] not in haystack


def test_redaction_keeps_only_a_prefix_and_the_length() -> None:
    canary = synth.secret("supabase_secret_key", "redaction")
    (m,) = scan_text(f"k={canary}")
    assert m.redacted == f"{canary[:4]}…({len(canary)} chars)"
