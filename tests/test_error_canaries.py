"""No value from a stack file, a suppressions or baseline file, the environment or the command line
ever reaches the output of `show`, `preview` or `scan`, wherever it was planted.

Two fresh canaries per run, both letters and digits, so both pass for a config key name (the
natural mistake `password: {secret: <the password>}`):
- a plain one, in no format any detector knows: where it is refused, the error messages alone must
  keep it out (the output guard, `ssot.outguard`, does not recognise it);
- a GitHub-token-shaped one, where the value is valid and the program runs: there the output guard
  is the last defence for a token hiding in a name.
Each is planted in every kind of string field of the production stack, one placement per test, and
each command's stdout and stderr are searched for any 12 characters of its secret part, in any case
(a name may be lowercased on its way into a resource name).
"""

from __future__ import annotations

import copy
import json
import secrets
import shutil
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ssot.cli import main
from ssot.errors import ConfigError
from ssot.model import platform_from_document
from ssot.yamlpos import KeyPath, Positioned, load_yaml

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "stacks" / "Pulumi.prod.yaml"
_ALNUM = string.ascii_letters + string.digits
FORMAT_CANARY = "ghp_" + "".join(secrets.SystemRandom().choice(_ALNUM) for _ in range(36))
CANARY = "Zq" + "".join(secrets.SystemRandom().choice(_ALNUM) for _ in range(38))  # the plain one


def _leaves(x: Any, path: KeyPath = ()) -> Iterator[KeyPath]:
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _leaves(v, (*path, i))
    elif isinstance(x, str):
        yield path


def _kind(path: KeyPath) -> tuple[str | int, ...]:
    # One placement per field kind: schemas[0].description stands for every schema's description.
    return tuple("*" if isinstance(p, int) else p for p in path)


def _placements() -> list[KeyPath]:
    doc = load_yaml(STACK).data
    seen: dict[tuple[str | int, ...], KeyPath] = {}
    for path in _leaves(doc["config"]):
        seen.setdefault(_kind(path), path)
    return list(seen.values())


def _set(doc: dict[str, Any], path: KeyPath, value: Any) -> None:
    target: Any = doc["config"]
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value


def _valid(doc: dict[str, Any]) -> bool:
    try:
        platform_from_document(Positioned("f.yaml", doc), stack="prod", strict=True)
    except ConfigError:
        return False
    return True


def _planted(paths: list[KeyPath], canary: str = CANARY) -> dict[str, Any]:
    doc = copy.deepcopy(SOURCE)
    for p in paths:
        _set(doc, p, canary)
    return doc


SOURCE = load_yaml(STACK).data
PLACEMENTS = _placements()
# Where the canary is a valid value the whole program runs; those placements share one run.
# (placement, canary): the plain canary wherever it is refused; the token where only the token is.
INVALID = [(p, CANARY) for p in PLACEMENTS if not _valid(_planted([p]))] + [
    (p, FORMAT_CANARY) for p in PLACEMENTS if _valid(_planted([p])) and not _valid(_planted([p], FORMAT_CANARY))]
VALID = [p for p in PLACEMENTS if _valid(_planted([p], FORMAT_CANARY))]
# Keys are outside text too: an unknown key in each kind of mapping.
KEY_PLACEMENTS: list[KeyPath] = [("ssot:platform",), ("ssot:platform", "roles", 0),
                                 ("ssot:platform", "vault", "secrets", 0, "value"), ("ssot:platform", "project")]


def _leaks(text: str, canary: str = CANARY) -> bool:
    low, secret = text.lower(), canary.removeprefix("ghp_").lower()
    return any(secret[i:i + 12] in low for i in range(len(secret) - 11))


def _run(*argv: str) -> int:
    try:
        return main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        return int(exc.code or 0)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("canary-project")
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, root / name)
    (root / "stacks").mkdir()
    return root


@pytest.fixture(scope="module")
def quiet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("canary-quiet")
    (root / "README.md").write_text("nothing to see\n", encoding="utf-8")
    return root


def _write_stack(project: Path, doc: dict[str, Any]) -> None:
    (project / "stacks" / "Pulumi.prod.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _every_command(project: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[str, int, str]]:
    out = []
    for argv in (["show", "--root", str(project), "--stack", "prod"],
                 ["preview", "--root", str(project), "--stack", "prod"],
                 ["scan", str(project), "--no-checkov"]):
        code = _run(*argv)
        o, e = capsys.readouterr()
        out.append((argv[0], code, o + e))
    return out


def test_the_canary_is_a_config_key_name_and_a_detected_secret() -> None:
    from ssot.detectors import scan_value
    from ssot.outguard import withhold

    assert CANARY.isascii() and CANARY.isalnum() and FORMAT_CANARY[4:].isalnum()
    assert [m.secret_type for m in scan_value(FORMAT_CANARY)] == ["GitHub token"]
    assert withhold(f"x {CANARY} y") == f"x {CANARY} y"  # the guard does not hide the plain one
    assert _leaks(f"x {FORMAT_CANARY.lower()} y", FORMAT_CANARY) and not _leaks("ghp_ and nothing else")
    assert _leaks(CANARY.upper())
    assert len(INVALID) > 40 and len(VALID) > 10  # the placements cover the stack


@pytest.mark.parametrize(("path", "canary"), INVALID,
                         ids=[".".join(map(str, p)) + ("" if c == CANARY else "-token") for p, c in INVALID])
def test_a_canary_where_it_is_invalid_is_never_printed(path: KeyPath, canary: str, project: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    _write_stack(project, _planted([path], canary))
    results = _every_command(project, capsys)
    for command, code, text in results:
        assert code in (0, 1, 2, 3), (command, code)
        assert "Traceback" not in text
        assert not _leaks(text, canary), (command, text[-2000:])
    # The canary was refused somewhere (strict `show` at least), so a message was written about it.
    assert any(code == 2 for _, code, _ in results)


@pytest.mark.parametrize("path", KEY_PLACEMENTS, ids=[".".join(map(str, p)) for p in KEY_PLACEMENTS])
def test_a_canary_as_an_unknown_key_is_never_printed(path: KeyPath, project: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    doc = copy.deepcopy(SOURCE)
    target: Any = doc["config"]
    for k in path:
        target = target[k]
    target[CANARY] = "x"
    _write_stack(project, doc)
    for command, code, text in _every_command(project, capsys):
        assert code in (0, 1, 2, 3)
        assert not _leaks(text), (command, text[-2000:])


def test_canaries_where_they_are_valid_are_never_printed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_stack(project, _planted(VALID, FORMAT_CANARY))
    results = {command: (code, text) for command, code, text in _every_command(project, capsys)}
    for command, (_code, text) in results.items():
        assert not _leaks(text, FORMAT_CANARY), (command, text[-3000:])
    # ...and they were seen: the preview and the scan report the planted token as hardcoded.
    assert results["preview"][0] == 1 and "GitHub token" in results["preview"][1]
    assert results["scan"][0] == 1 and "ghp_…(40 chars)" in results["scan"][1]


ENV = ["SSOT_TODAY", "SSOT_LOCAL_DB_PORT", "SSOT_FINGERPRINT_KEY", "SSOT_CHECKOV", "SUPABASE_ACCESS_TOKEN",
       "SSOT_AUDITOR_DB_PASSWORD"]


@pytest.mark.parametrize("var", ENV)
def test_a_canary_in_the_environment_is_never_printed(var: str, project: Path, quiet_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _write_stack(project, copy.deepcopy(SOURCE))
    monkeypatch.setenv(var, CANARY)
    texts = []
    # checkov runs only where its own variable is the canary: it is slow, and reads no other.
    scan = ["scan", str(quiet_dir)] + ([] if var == "SSOT_CHECKOV" else ["--no-checkov"])
    for argv in (["preview", "--root", str(project), "--stack", "prod"], scan,
                 ["db", "status", "--datadir", str(quiet_dir / "nodb")]):
        code = _run(*argv)
        o, e = capsys.readouterr()
        assert code in (0, 1, 2, 3), argv
        texts.append(o + e)
    assert not _leaks("\n".join(texts)), texts


SUPPRESSION = {"key": "hardcoded_secret:0123456789abcdef", "reason": "r", "owner": "o", "expires": "2999-01-01"}
SUPPRESSION_CASES: list[tuple[str, Any]] = [
    *[(f"field {f}", {**SUPPRESSION, f: CANARY}) for f in ("key", "reason", "owner", "expires")],
    ("rule", {**{k: v for k, v in SUPPRESSION.items() if k != "key"}, "rule": CANARY, "subject": "x"}),
    ("subject", {**{k: v for k, v in SUPPRESSION.items() if k != "key"}, "rule": "odoo_cron", "subject": CANARY}),
    ("path", {**{k: v for k, v in SUPPRESSION.items() if k != "key"}, "rule": "odoo_cron", "path": CANARY}),
    ("unknown field", {**SUPPRESSION, CANARY: "x"}),
    ("top-level key", None),
]


@pytest.mark.parametrize(("case", "entry"), SUPPRESSION_CASES, ids=[c for c, _ in SUPPRESSION_CASES])
def test_a_canary_in_a_suppressions_file_is_never_printed(case: str, entry: Any, quiet_dir: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    doc = {CANARY: []} if entry is None else {"suppressions": [entry]}
    file = tmp_path / "suppressions.yaml"
    file.write_text(yaml.safe_dump(doc), encoding="utf-8")
    code = _run("scan", str(quiet_dir), "--no-checkov", "--suppressions", str(file))
    o, e = capsys.readouterr()
    assert code in (0, 2)
    assert not _leaks(o + e), o + e


BASELINE: dict[str, Any] = {"format": "ssot-baseline", "version": 1,
            "findings": [{"key": "hardcoded_secret:0123456789abcdef", "rule_id": "hardcoded_secret", "subject": "s"}]}
BASELINE_CASES: list[tuple[str, Any]] = [
    ("format", {**BASELINE, "format": CANARY}), ("version", {**BASELINE, "version": CANARY}),
    ("key", {**BASELINE, "findings": [{**BASELINE["findings"][0], "key": CANARY}]}),
    ("key with rule", {**BASELINE, "findings": [{**BASELINE["findings"][0], "key": f"x{CANARY}"}]}),
    ("rule_id", {**BASELINE, "findings": [{**BASELINE["findings"][0], "rule_id": CANARY}]}),
    ("subject", {**BASELINE, "findings": [{**BASELINE["findings"][0], "subject": CANARY}]}),
    ("findings", {**BASELINE, "findings": CANARY}),
]


@pytest.mark.parametrize(("case", "doc"), BASELINE_CASES, ids=[c for c, _ in BASELINE_CASES])
def test_a_canary_in_a_baseline_is_never_printed(case: str, doc: Any, quiet_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "baseline.json"
    file.write_text(json.dumps(doc), encoding="utf-8")
    code = _run("scan", str(quiet_dir), "--no-checkov", "--baseline", str(file))
    o, e = capsys.readouterr()
    assert code in (0, 2)
    assert not _leaks(o + e), o + e


ARGV_CASES = [
    ["scan", "--format", CANARY], ["scan", "--fail-on", CANARY], ["scan", "--color", CANARY],
    ["scan", "--no-checkov", "--also", CANARY], ["scan", "--no-checkov", "--also", f"{CANARY}=x.out"],
    ["db", CANARY], ["db", "status", "--port", CANARY], ["scan", "--no-checkov", CANARY, CANARY],
    [CANARY],
]


@pytest.mark.parametrize("argv", ARGV_CASES, ids=[" ".join(a[:2]).replace(CANARY, "CANARY") for a in ARGV_CASES])
def test_a_canary_on_the_command_line_is_never_printed(argv: list[str], quiet_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(quiet_dir)
    code = _run(*argv)
    o, e = capsys.readouterr()
    assert code == 2, (code, o + e)
    assert not _leaks(o + e), o + e


def test_the_output_guard_withholds_detected_secrets_and_keeps_the_rest() -> None:
    from ssot.outguard import withhold

    text = json.dumps({"urn": f"urn:pulumi:prod::ssot::ssot:SupabaseProject::project-{FORMAT_CANARY.lower()}",
                       "note": "nothing secret here"}, indent=2)
    out = withhold(text)
    assert not _leaks(out, FORMAT_CANARY) and "[withheld: GitHub token, ghp_…(40 chars)]" in out
    assert json.loads(out)["note"] == "nothing secret here"  # still the same JSON document
    assert withhold("plain text, no secret\n") == "plain text, no secret\n"
