"""`ssot scan` and `ssot preview` end to end through the CLI, on the example estate.

The real checkov CLI, the real program under the mock runtime, every report format validated, the
exit codes DESIGN.md promises, suppressions and baselines, and canary secrets that must not leak.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
from estate_readme import ESTATE, table
from needs import missing_dependency

from ssot.cli import main

ROOT = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = ROOT.parent / "shared" / "sarif-schema-2.1.0.json"
REPORT_SCHEMA = ROOT / "ssot" / "schemas" / "report.schema.json"



def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def estate_scan_json(tmp_path_factory: pytest.TempPathFactory, checkov_exe: str) -> dict:
    out = tmp_path_factory.mktemp("scan") / "scan.json"
    assert main(["scan", str(ESTATE), "--format", "json", "--output", str(out)]) == 1
    return json.loads(out.read_text())


def test_scan_reports_every_planted_violation_once(estate_scan_json: dict) -> None:
    fired = {(f["rule_id"], f["location"]["path"]) for f in estate_scan_json["findings"]}
    for r in table("Planted violations"):
        assert (r["rule"], r["path"]) in fired, r["what"]
    # The plaintext stack value is reported once, by the model, not again as a generic literal.
    stack = [f for f in estate_scan_json["findings"] if f["location"]["path"] == "stacks/Pulumi.dev.yaml"]
    assert sorted(f["subject"] for f in stack) == ["config:odoo.password",
                                                   "stack-config:stacks/Pulumi.dev.yaml:Supabase secret key"]
    assert estate_scan_json["summary"]["exit_code"] == 1
    jsonschema.validate(estate_scan_json, json.loads(REPORT_SCHEMA.read_text()))
    keys = [f["key"] for f in estate_scan_json["findings"]]
    assert len(keys) == len(set(keys))


def test_preview_reports_exactly_the_declared_violations(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "preview", "--root", str(ESTATE), "--stack", "dev", "--format", "json")
    assert code == 1
    report = json.loads(out)
    got = {(f["rule_id"], f["subject"], f["location"].get("line")) for f in report["findings"]}
    want = {(r["rule"], r["subject"], int(r["line"])) for r in table("Declared side")}
    assert got == want
    for f in report["findings"]:
        assert f["location"]["path"] == "stacks/Pulumi.dev.yaml"
        assert f["location"]["urn"].startswith("urn:pulumi:dev::acme-estate::")


def test_scan_and_preview_share_keys_for_the_same_problem(estate_scan_json: dict,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "preview", "--root", str(ESTATE), "--stack", "dev", "--format", "json")
    preview_keys = {f["subject"]: f["key"] for f in json.loads(out)["findings"]}
    scan_keys = {f["subject"]: f["key"] for f in estate_scan_json["findings"]}
    assert preview_keys["config:odoo.password"] == scan_keys["config:odoo.password"]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "markdown"])
def test_every_format_for_preview(fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / f"report.{fmt}"
    code, _, _ = run(capsys, "preview", "--root", str(ESTATE), "--stack", "dev", "--format", fmt,
                     "--output", str(target))
    assert code == 1
    text = target.read_text()
    if fmt == "sarif":
        if not SARIF_SCHEMA.is_file():
            missing_dependency(f"SARIF schema not found at {SARIF_SCHEMA} (../shared is absent)")
        sarif = json.loads(text)
        jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
        results = sarif["runs"][0]["results"]
        assert results and all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                               == "stacks/Pulumi.dev.yaml" for r in results)
    elif fmt == "markdown":
        assert text.startswith("<!-- ssot-report:preview -->")
    elif fmt == "text":
        assert "STOP" in text and "EXPLAIN" in text and "PROPOSE" in text


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "preview", "--root", str(ROOT), "--stack", "local")[0] == 0
    # Only criticals block: the preview's single critical finding still fails it.
    assert run(capsys, "preview", "--root", str(ESTATE), "--stack", "dev", "--fail-on", "critical")[0] == 1
    code, _, err = run(capsys, "preview", "--root", str(ESTATE), "--stack", "nope")
    assert code == 2 and "stacks/Pulumi.nope.yaml" in err and "not found" in err
    with pytest.raises(SystemExit) as info:
        main(["scan", "--format", "pdf"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["scan", "--fail-on", "severe"])
    assert info.value.code == 2
    # A scan whose checkov cannot run is incomplete, never a pass.
    broken = tmp_path / "checkov"
    broken.write_text("#!/bin/sh\necho 'not json'\nexit 0\n")
    broken.chmod(0o755)
    import os
    os.environ["SSOT_CHECKOV"] = str(broken)
    try:
        clean = tmp_path / "clean"
        clean.mkdir()
        (clean / "README.md").write_text("nothing here\n")
        # a workflow, so that checkov has a framework to run (it is not started for nothing)
        (clean / ".github" / "workflows").mkdir(parents=True)
        (clean / ".github" / "workflows" / "ci.yml").write_text("on: [push]\njobs: {}\n")
        code, out, _ = run(capsys, "scan", str(clean))
    finally:
        del os.environ["SSOT_CHECKOV"]
    assert code == 3 and "INCOMPLETE" in out.upper()


def test_bad_stack_config_is_exit_2_with_file_key_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "estate"
    shutil.copytree(ESTATE, root)
    stack = root / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text().replace("{name: ai, domain: ai}", "{name: ai, domain: finance}"))
    code, out, err = run(capsys, "preview", "--root", str(root), "--stack", "dev")
    assert code == 2
    assert re.search(r"stacks/Pulumi\.dev\.yaml:\d+: config\.ssot:platform\.schemas\[1\]\.domain: one of", err)
    assert "Traceback" not in out + err


def test_baseline_and_suppressions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.json"
    args = ["preview", "--root", str(ESTATE), "--stack", "dev"]
    assert run(capsys, *args, "--write-baseline", str(baseline))[0] == 0
    assert run(capsys, *args, "--baseline", str(baseline))[0] == 0
    _, out, _ = run(capsys, *args, "--format", "json")
    key = next(f["key"] for f in json.loads(out)["findings"] if f["rule_id"] == "hardcoded_secret"
               and f["subject"] == "cron:push-kpis")
    sup = tmp_path / "suppressions.yaml"
    sup.write_text(f"suppressions:\n  - key: {key}\n    reason: Key is rotated weekly by the n8n team\n"
                   f"    owner: data-platform@acme.example\n    expires: 2999-12-31\n")
    _, out, _ = run(capsys, *args, "--format", "json", "--suppressions", str(sup))
    report = json.loads(out)
    assert key not in {f["key"] for f in report["findings"]}
    assert key in {f["key"] for f in report["suppressed"]}
    sup.write_text(sup.read_text().replace("2999-12-31", "2001-01-01"))
    _, out, _ = run(capsys, *args, "--format", "json", "--suppressions", str(sup))
    assert key in {f["key"] for f in json.loads(out)["findings"]}
    sup.write_text(f"suppressions:\n  - key: {key}\n    owner: x\n    expires: 2999-12-31\n")
    code, _, err = run(capsys, *args, "--suppressions", str(sup))
    assert code == 2 and "reason" in err


def test_canaries_never_reach_any_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], checkov_exe: str) -> None:
    canary_key = "sb_secret_CanaryE2eZq8Wm4Xt6Rv1Yb"
    canary_pw = "Canary-Plain-Odoo-Pw-7f3c91ab"
    root = tmp_path / "estate"
    shutil.copytree(ESTATE, root)
    (root / "scripts" / "canary.py").write_text(f'KEY = "{canary_key}"\n')
    stack = root / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text().replace("Acme-Odoo-Adm1n-Pass-2024", canary_pw)
                     .replace("sb_secret_SsotEstateDevCron4Zx8Cv6Bn1Mq", canary_key))
    seen = []
    for fmt in ("text", "json", "sarif", "markdown"):
        for argv in (["scan", str(root)], ["preview", "--root", str(root), "--stack", "dev"]):
            code, out, err = run(capsys, *argv, "--format", fmt)
            assert code == 1
            seen.append(out + err)
    blob = "\n".join(seen)
    assert "canary.py" in blob  # the planted key was found...
    assert canary_key not in blob and canary_key[14:] not in blob  # ...and never printed
    assert canary_pw not in blob and canary_pw[8:] not in blob


def test_this_repository_scans_clean(capsys: pytest.CaptureFixture[str], checkov_exe: str) -> None:
    """ssot's own code names secrets everywhere without holding one: no false positive may fire.
    (tests/ and examples/ are excluded by .ssotignore: they hold synthetic secrets on purpose.)"""
    code, out, _ = run(capsys, "scan", str(ROOT), "--format", "json")
    report = json.loads(out)
    assert [(f["rule_id"], f["location"]) for f in report["findings"]] == []
    assert code == 0
