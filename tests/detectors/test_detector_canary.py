"""A canary secret never leaves the package: not in results, reprs, output, logs or errors."""

from __future__ import annotations

import dataclasses
import logging
import random

import detector_synth as synth
import pytest

from ssot.detectors import SecretMatch, explain_text, false_positive_reason, public_part, scan_text, scan_value
from ssot.fingerprint import redact


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
    # not even a long piece of it: redaction keeps at most the format's public marker
    marker = len(public_part(canary))
    for i in range(marker, len(canary) - 8, 7):
        assert canary[i : i + 8] not in haystack


# (synth kind, the format's public marker: the only characters a redaction may show)
PUBLIC_MARKERS = [
    ("supabase_secret_key", "sb_secret_"), ("supabase_pat", "sbp_"), ("anthropic_api", "sk-ant-api03-"),
    ("anthropic_admin", "sk-ant-admin01-"), ("aws_access_key_id", "AKIA"), ("aws_sts_key_id", "ASIA"),
    ("github_pat_classic", "ghp_"), ("github_oauth", "gho_"), ("github_pat_fine", "github_pat_"),
    ("slack_bot", "xoxb-"), ("slack_webhook", "https://hooks.slack.com/services/"), ("stripe_live", "sk_live_"),
    ("stripe_restricted", "rk_live_"), ("supabase_service_role_jwt", "eyJ"),
    # no public marker: nothing but the length
    ("aws_secret_access_key", ""), ("hex_key", ""), ("pem_rsa", ""),
]


@pytest.mark.parametrize(("kind", "marker"), PUBLIC_MARKERS, ids=[k for k, _ in PUBLIC_MARKERS])
def test_redaction_shows_only_the_formats_public_marker_and_the_length(kind: str, marker: str) -> None:
    canary = synth.secret(kind, "redaction")
    text = {"aws_secret_access_key": "aws_secret_access_key = {c}\n", "hex_key": "api_key = {c}\n"}.get(
        kind, "k={c}\n").format(c=canary)
    (m,) = scan_text(text)
    # not one character of the secret part: the marker, an ellipsis and the length of what was found
    # (for a PEM block, its body)
    secret = canary.split("-----")[2].strip() if kind == "pem_rsa" else canary
    assert m.redacted == f"{marker}…({len(secret)} chars)"


def test_a_random_password_shows_only_its_length() -> None:
    password = synth.secret("password", "redaction")
    (m,) = scan_value(password, context="db_password")
    assert m.redacted == f"…({len(password)} chars)"
    assert redact(password) == f"…({len(password)} chars)"
    # a claimed marker that is not the value's start, or is the whole value, is not shown
    assert redact("abcdef", public="xyz") == "…(6 chars)" and redact("ghp_", public="ghp_") == "…(4 chars)"
