"""A stack without fingerprintKey: its key is random, stable once made, and never derived from its names."""

from __future__ import annotations

import json
from pathlib import Path

from ssot.providers.fingerprint_key import FingerprintKeyProvider
from ssot.sources.declared import inventory_from_resources
from ssot.sources.state import STAND_IN, load_state

MARK = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def test_the_generated_key_is_random_and_never_replaced() -> None:
    p = FingerprintKeyProvider()
    a, b = p.create({}), p.create({})
    assert a.outs["key"] != b.outs["key"] and len(a.outs["key"]) >= 43  # type: ignore[index]
    assert p.diff(a.id, dict(a.outs or {}), {}).changes is False
    assert p.read(a.id, dict(a.outs or {})).outs == a.outs
    assert p.check({}, {"key": "chosen"}).failures  # not an input: nobody picks it


def _vault_state(tmp_path: Path, fingerprint: object) -> Path:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"deployment": {"resources": [{
        "urn": "urn:pulumi:dev::p::pulumi-python:dynamic/ssot:VaultSecret::vault-x",
        "type": "pulumi-python:dynamic/ssot:VaultSecret", "custom": True,
        "inputs": {"name": "x", "value": {**MARK, "ciphertext": "v1:abc"}},
        "outputs": {"name": "x", "fingerprint": fingerprint}}]}}))
    return state


def test_a_secret_fingerprint_is_compared_only_when_the_export_shows_it(tmp_path: Path) -> None:
    fp = "d" * 64
    shown_state = _vault_state(tmp_path, {**MARK, "plaintext": json.dumps(fp)})
    (shown,) = list(inventory_from_resources(load_state(shown_state)).assets)
    assert shown.fingerprint == fp
    hidden_state = _vault_state(tmp_path, {**MARK, "ciphertext": "v1:xyz"})
    (hidden,) = list(inventory_from_resources(load_state(hidden_state)).assets)
    assert hidden.fingerprint is None
    # a secret that is not a fingerprint's shape stays a stand-in, even under the name `fingerprint`
    canary = "sk_live_NOTAFINGERPRINT0123456789"
    (view,) = load_state(_vault_state(tmp_path, {**MARK, "plaintext": json.dumps(canary)}))
    assert view.props["fingerprint"] == STAND_IN and canary not in repr(view)
