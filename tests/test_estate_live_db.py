"""`ssot audit` end to end on the example estate's live side, against a real PostgreSQL + pg_cron cluster
of its own: the README's "Live side" table is the oracle; the fixed state is quiet; the report says
what each source read; canaries (the Vault values the seeder generated) never appear anywhere; a
database that cannot be read makes the audit incomplete (exit 3), never a pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import psycopg
import pytest
import yaml
from estate_readme import ESTATE, table
from pgtools import cluster_base, free_port

from ssot import localdb
from ssot.cli import main
from ssot.reporters.json_report import load_schema

SEED = ESTATE / "live" / "seed.py"
ROOT = ESTATE.parents[1]


@pytest.fixture(scope="module")
def estate_db() -> Iterator[localdb.LocalDb]:
    with cluster_base() as base:
        yield localdb.start(base / "pgdata", port=free_port())


@pytest.fixture(autouse=True)
def estate_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The estate stack declares no fingerprintKey: like CD, the seeder and the audit are given one key
    (live/credentials.env); without it the program's key is random and the audit cannot compare."""
    line = next(x for x in (ESTATE / "live" / "credentials.env").read_text().splitlines()
                if x.startswith("SSOT_FINGERPRINT_KEY="))
    key = line.split("=", 1)[1]
    monkeypatch.setenv("SSOT_FINGERPRINT_KEY", key)
    return key


def seed(db: localdb.LocalDb, state: Path, *extra: str) -> None:
    done = subprocess.run([sys.executable, str(SEED), "--datadir", str(db.datadir), "--state-out", str(state), *extra],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def audit(db: localdb.LocalDb, state: Path, tmp_path: Path, *extra: str,
          capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], dict[str, str]]:
    out = {fmt: tmp_path / f"audit.{fmt}" for fmt in ("sarif", "markdown", "text", "html")}
    # The database's part of the estate: the other systems (Odoo, AWS, the Management API) have
    # stand-ins and tests of their own.
    code = main(["audit", "--root", str(ESTATE), "--stack", "dev", "--local-db", "--datadir", str(db.datadir),
                 "--state", str(state), "--format", "json", "--source", "postgres",
                 *[a for fmt, p in out.items() for a in ("--also", f"{fmt}={p}")], *extra])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    jsonschema.validate(doc, load_schema())
    texts = {fmt: p.read_text() for fmt, p in out.items()}
    texts["json"], texts["stderr"] = captured.out, captured.err
    return code, doc, texts


def vault_values(db: localdb.LocalDb) -> list[str]:
    with psycopg.connect(db.conninfo(), autocommit=True) as conn:
        return [str(r[0]) for r in conn.execute("SELECT decrypted_secret FROM vault.decrypted_secrets")]


def test_the_readme_live_table_is_what_the_audit_finds(estate_db: localdb.LocalDb, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.json"
    seed(estate_db, state)
    code, doc, texts = audit(estate_db, state, tmp_path, capsys=capsys)
    expected = sorted((r["rule"], r["subject"]) for r in table("Live side") if r["source"] == "postgres")
    got = sorted((f["rule_id"], f["subject"]) for f in doc["findings"])
    assert got == expected
    assert code == 1 and doc["summary"]["verdict"] == "fail"
    assert {s["status"] for s in doc["audit"]["sources"] if s["source"] != "postgres"} <= {"skipped"}
    postgres = next(s for s in doc["audit"]["sources"] if s["source"] == "postgres")
    assert postgres["status"] == "read" and postgres["read"]["vault.secrets"] == 4 and postgres["gaps"] == []
    drift = doc["audit"]["drift"]
    assert (drift["missing"], drift["changed"], drift["unmanaged"]) == (4, 2, 2)
    assert "edge_secret" in drift["not_compared"]
    sarif_schema = ROOT.parent / "shared" / "sarif-schema-2.1.0.json"
    if sarif_schema.is_file():  # ../shared (the OASIS schema) is outside the repository
        sarif = json.loads(texts["sarif"])
        jsonschema.validate(sarif, json.loads(sarif_schema.read_text()))
        assert len(sarif["runs"][0]["results"]) == len(expected)
    elif os.environ.get("CI"):
        pytest.fail(f"the OASIS SARIF 2.1.0 schema is not at {sarif_schema} (../shared is absent; CI is set)")
    assert texts["markdown"].startswith("<!-- ssot-report:audit -->")
    assert "drift: unmanaged" in texts["html"] and "drift: missing" in texts["html"]
    # every format says what was read, and no Vault value (the seeder's fresh random canaries) appears
    assert "postgres (Supabase Postgres): read" in texts["text"] and "postgres" in texts["markdown"]
    values = vault_values(estate_db)
    assert len(values) == 4  # the two declared (stripe's edited in place), the unmanaged one, the fingerprint key
    for fmt, text in texts.items():
        for v in values:
            assert v not in text, f"a Vault value reached the {fmt} output"
    assert all(v not in state.read_text() for v in values)


def test_the_fixed_state_is_quiet(estate_db: localdb.LocalDb, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.json"
    seed(estate_db, state, "--no-drift")
    code, doc, _ = audit(estate_db, state, tmp_path, capsys=capsys)
    # no drift; what remains is the declaration's own doctrine violations, now seen live
    assert sorted((f["rule_id"], f["subject"]) for f in doc["findings"]) == [
        ("exposed_role_grant", "grant:anon:table:odoo_shadow"),
        ("hardcoded_secret", "cron:push-kpis"), ("ownership_boundary", "grant:acme_agent:table:odoo_shadow"),
        ("ownership_boundary", "role:acme_agent")]
    assert code == 1
    assert doc["audit"]["drift"]["missing"] == doc["audit"]["drift"]["changed"] == 0
    assert doc["audit"]["drift"]["unmanaged"] == 0 and doc["audit"]["drift"]["coverage"] == 100.0


def test_accepted_drift_is_silenced_by_its_key(estate_db: localdb.LocalDb, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.json"
    seed(estate_db, state)
    _, doc, _ = audit(estate_db, state, tmp_path, capsys=capsys)
    legacy = next(f for f in doc["findings"] if f["subject"].endswith("legacy_erp_token"))
    supp = tmp_path / "suppressions.yaml"
    supp.write_text(yaml.safe_dump({"suppressions": [{
        "key": legacy["key"], "reason": "kept until the ERP migration ends", "owner": "erp-team",
        "expires": "2099-01-01"}]}))
    code = main(["audit", "--root", str(ESTATE), "--stack", "dev", "--local-db", "--datadir", str(estate_db.datadir),
                 "--state", str(state), "--format", "json", "--suppressions", str(supp), "--source", "postgres"])
    doc2 = json.loads(capsys.readouterr().out)
    assert legacy["key"] in {f["key"] for f in doc2["suppressed"]}
    assert legacy["key"] not in {f["key"] for f in doc2["findings"]} and code == 1


def test_permission_missing_half_way_makes_the_audit_incomplete(estate_db: localdb.LocalDb, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.json"
    seed(estate_db, state)
    with psycopg.connect(estate_db.conninfo(), autocommit=True) as conn:
        conn.execute("REVOKE EXECUTE ON FUNCTION ssot_audit.cron_jobs() FROM acme_auditor")
    code, doc, texts = audit(estate_db, state, tmp_path, capsys=capsys)
    assert code == 3 and doc["summary"]["verdict"] == "incomplete"
    assert any(s.startswith("postgres: cron.job: permission denied (needs USAGE on schema ssot_audit and EXECUTE")
               for s in doc["incomplete"])
    # the cron jobs were not read, so they are not compared: never reported as missing
    assert not any("cron_job" in f["subject"] for f in doc["findings"])
    assert "cron_job" in doc["audit"]["drift"]["not_compared"]
    assert "INCOMPLETE" in texts["text"] and "not a pass" in texts["markdown"]


def test_database_down_is_incomplete_naming_the_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"deployment": {"resources": []}}))
    code = main(["audit", "--root", str(ESTATE), "--stack", "dev", "--local-db", "--datadir",
                 str(tmp_path / "nothing"), "--state", str(state), "--format", "json", "--source", "postgres"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 3 and doc["incomplete"][0].startswith("postgres: connection: the local database")
    assert doc["summary"]["verdict"] == "incomplete"
    # nothing compared: no coverage figure at all, rather than a reassuring 100%
    assert doc["audit"]["drift"]["coverage"] is None and doc["audit"]["drift"]["declared"] == 0


@pytest.mark.parametrize(("content", "expected"), [
    ("{not json", "JSON from `pulumi stack export`"),
    (json.dumps({"deployment": {"resources": [{"urn": 3}]}}), "deployment.resources[0].urn"),
    (json.dumps({"deployment": {"resources": "x"}}), "deployment.resources: a list"),
    ("[" * 5_000 + "]" * 5_000, "JSON from"),
])
def test_a_hostile_state_file_is_a_config_error(content: str, expected: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    code = main(["audit", "--root", str(ESTATE), "--stack", "dev", "--local-db", "--datadir", str(tmp_path),
                 "--state", str(state)])
    err = capsys.readouterr().err
    assert code == 2 and expected in err


def test_secrets_in_a_state_export_are_never_copied(tmp_path: Path) -> None:
    from ssot.sources.state import load_state

    canary = "sk_live_STATECANARY9f8e7d6c5b4a"
    state = tmp_path / "state.json"
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": json.dumps(canary)}
    state.write_text(json.dumps({"deployment": {"resources": [{
        "urn": "urn:pulumi:dev::p::pulumi-python:dynamic/ssot:VaultSecret::vault-x",
        "type": "pulumi-python:dynamic/ssot:VaultSecret", "custom": True,
        "inputs": {"name": "x", "value": secret, "nested": [{"deep": secret}]},
        "outputs": {"fingerprint": "c" * 64, "value": secret}}]}}))
    views = load_state(state)
    assert canary not in repr(views)
    from ssot.sources.declared import inventory_from_resources

    inv = inventory_from_resources(views)
    (asset,) = list(inv.assets)
    assert asset.fingerprint == "c" * 64 and canary not in repr(inv.assets)


def test_a_fingerprint_key_other_than_the_databases_is_incomplete_not_equal(
        estate_db: localdb.LocalDb, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state.json"
    seed(estate_db, state, "--no-drift")
    monkeypatch.setenv("SSOT_FINGERPRINT_KEY", "not-the-estate-key-0123456789")
    try:
        code, doc, _ = audit(estate_db, state, tmp_path, capsys=capsys)
    finally:
        from ssot.fingerprint import use_key

        use_key(None)
    assert code == 3
    assert any("vault fingerprints" in s and "SSOT_FINGERPRINT_KEY" in s for s in doc["incomplete"])
    assert not any(f["subject"].startswith("changed:supabase-vault") for f in doc["findings"])


def test_source_selection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"deployment": {"resources": []}}))
    base = ["audit", "--root", str(ESTATE), "--stack", "dev", "--local-db", "--datadir", str(tmp_path / "none"),
            "--state", str(state), "--format", "json"]
    assert main([*base, "--source", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "--source: one of" in err and "postgres" in err and "nosuch" in err
    main([*base, "--source", "postgres"])
    doc = json.loads(capsys.readouterr().out)
    statuses = {s["source"]: s["status"] for s in doc["audit"]["sources"]}
    assert statuses.pop("postgres") == "incomplete" and set(statuses.values()) <= {"skipped"}
