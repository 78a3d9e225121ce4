"""The static source as a whole: walk, .ssotignore, orchestration, and the canary."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from ssot.errors import ConfigError
from ssot.inventory import Kind, Phase
from ssot.sources._repo import MAX_FILE_BYTES, is_ignored, parse_ignore, scrub, walk
from ssot.sources.static import collect_static

from .conftest import TreeMaker, synthetic_secret


@pytest.mark.parametrize(
    ("patterns", "path", "is_dir", "ignored"),
    [
        ("vendor/", "vendor", True, True),
        ("vendor/", "vendor", False, False),
        ("*.min.js", "web/app.min.js", False, True),
        ("/build", "build", True, True),
        ("/build", "src/build", True, False),
        ("docs/**/*.md", "docs/a/b/c.md", False, True),
        ("*.md\n!README.md", "README.md", False, False),
        ("# comment\n\n", "x.py", False, False),
    ],
)
def test_ignore_patterns(patterns: str, path: str, is_dir: bool, ignored: bool) -> None:
    assert is_ignored(path, parse_ignore(patterns), is_dir=is_dir) is ignored


def test_walk_skips_vcs_venvs_and_ignored_and_keeps_big_files(make_tree: TreeMaker) -> None:
    root = make_tree({
        "a.py": "x", ".git/config": "x", "node_modules/m.js": "x", ".venv-x/lib.py": "x", ".pgdata/pg": "x",
        "big.sql": "-- " + "x" * (MAX_FILE_BYTES + 1), "skip/me.py": "x", ".ssotignore": "skip/\n",
    })
    files, not_read = walk(root, parse_ignore("skip/\n"))
    assert sorted((f.rel, f.large) for f in files) == [(".ssotignore", False), ("a.py", False), ("big.sql", True)]
    assert not_read == []


def test_collect_static_without_checkov(make_tree: TreeMaker) -> None:
    secret = synthetic_secret()
    root = make_tree({
        "odoo/addons/a/__manifest__.py": "{'name': 'A', 'data': []}",
        "odoo/addons/a/models/m.py": f"KEY = '{secret}'\n",
        ".github/workflows/w.yml": f"on:\n  schedule:\n    - cron: '0 1 * * *'\nenv:\n  K: {secret}\n",
        "scripts/s.py": f"KEY = '{secret}'\n",
        "ignored/s.py": f"KEY = '{secret}'\n",
        ".ssotignore": "ignored/\n",
    })
    inv = collect_static(root, use_checkov=False)
    assert inv.phases == {Phase.STATIC} and inv.incomplete == []
    lits = sorted((a.location.path, a.props["context"]) for a in inv.of(Kind.SECRET_LITERAL))
    assert lits == [(".github/workflows/w.yml", "workflow"), ("odoo/addons/a/models/m.py", "odoo-addon"),
                    ("scripts/s.py", "file")]
    assert len({a.fingerprint for a in inv.of(Kind.SECRET_LITERAL)}) == 1
    assert [a.location.path for a in inv.of(Kind.SCHEDULE)] == [".github/workflows/w.yml"]
    names = [(a.store, a.kind, a.name) for a in inv.assets]
    assert len(names) == len(set(names))


def test_problems_make_the_inventory_incomplete(make_tree: TreeMaker) -> None:
    root = make_tree({"addons/a/__manifest__.py": "{'name': 'A'", ".github/workflows/w.yml": "on: [\n"})
    inv = collect_static(root, use_checkov=False)
    assert len(inv.incomplete) == 2
    assert inv.incomplete[0].startswith("odoo-addons: addons/a/__manifest__.py:1: expected a Python dict")
    assert inv.incomplete[1].startswith("workflows: .github/workflows/w.yml:")


def test_not_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="an existing directory to scan"):
        collect_static(tmp_path / "missing", use_checkov=False)


def test_scrub_replaces_only_the_secret() -> None:
    a, b = synthetic_secret(), synthetic_secret()
    text = f"curl -H 'apikey: {a}' https://x.test\nsecond line {b} end\nclean"
    out = scrub(text, "cmd") or ""
    assert a not in out and b not in out
    assert out.splitlines()[0].startswith("curl -H 'apikey: <secret Supabase secret key sb_secret_…(")
    assert out.endswith(" end\nclean")


def test_canary_never_leaves_the_scanners(make_tree: TreeMaker, capfd: pytest.CaptureFixture[str],
                                          caplog: pytest.LogCaptureFixture, checkov_exe: str) -> None:
    # Fixed so that checkov's entropy check also fires on it (a random key can fall under it).
    canary = "sb_secret_CanaryQz8Wx3Ev5Rt7Yu9Io1Pa2Sd4Fg"
    root = make_tree({
        "scripts/s.py": f"KEY = '{canary}'\n",
        "ops/crontab": f"0 1 * * * curl -H 'apikey: {canary}' https://x.test\n",
        "db/m.sql": f"select cron.schedule('j', '* * * * *', $$select '{canary}'$$);\n",
        ".github/workflows/w.yml": f"on:\n  schedule:\n    - cron: '0 1 * * *'\nenv:\n  K: {canary}\n",
        "stacks/Pulumi.dev.yaml": f"config:\n  acme:key: {canary}\n",
        "addons/a/__manifest__.py": "{'name': 'A', 'data': ['data/c.xml']}",
        "addons/a/data/c.xml": (
            "<odoo><record id='c' model='ir.cron'><field name='code'>"
            f"model._x('{canary}')</field></record>"
            "<record id='p' model='ir.config_parameter'><field name='key'>a.api_token</field>"
            f"<field name='value'>{canary}</field></record></odoo>\n"),
        "addons/a/models/m.py": (f"def f(env):\n    env['ir.cron'].create({{'name': 'n', 'code': \"x('{canary}')\"}})\n"
                                 f"    env['ir.config_parameter'].set_param('a.secret', '{canary}')\n"),
    })
    with caplog.at_level(logging.DEBUG):
        inv = collect_static(root, checkov_exe=checkov_exe, checkov_secrets=True)
    assert inv.incomplete == []
    assert "checkov" in {d for a in inv.of(Kind.SECRET_LITERAL) for d in a.props["detectors"]}
    kinds = {a.kind for a in inv.assets}
    assert {Kind.SECRET_LITERAL, Kind.SCHEDULE, Kind.CRON_JOB, Kind.ODOO_CRON, Kind.ODOO_PARAMETER} <= kinds
    dumped = [repr(a) + repr(dataclasses.asdict(a)) + a.location.describe() for a in inv.assets]
    out, err = capfd.readouterr()
    haystack = "\n".join([*dumped, repr(inv), *inv.incomplete, out, err, caplog.text])
    assert canary not in haystack
    assert canary[10:30] not in haystack  # nor a recognisable part of it


def test_an_ignore_file_given_replaces_the_trees_own(make_tree: TreeMaker, tmp_path: Path) -> None:
    """`--ignore-file`: on a pull request, the base branch's globs decide; a `.ssotignore` the change
    adds to hide its own files is not read."""
    secret = synthetic_secret()
    root = make_tree({"vendor/lib.py": f"K = '{secret}'\n", ".ssotignore": "vendor/\n*.py\n"})
    assert not [a for a in collect_static(root, use_checkov=False).of(Kind.SECRET_LITERAL)]
    base = tmp_path / "base-ssotignore"
    base.write_text("# the base branch ignores nothing\n")
    found = list(collect_static(root, use_checkov=False, ignore_file=base).of(Kind.SECRET_LITERAL))
    assert [a.location.path for a in found] == ["vendor/lib.py"]
    with pytest.raises(ConfigError, match="a readable regular file of ignore globs"):
        collect_static(root, use_checkov=False, ignore_file=tmp_path / "absent")


def test_a_change_cannot_excuse_itself_with_an_inline_ignore(make_tree: TreeMaker, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The review's reproduction: the pull request path (`--no-inline-ignores`) keeps the finding."""
    import json

    from ssot.cli import main

    secret = synthetic_secret()
    root = make_tree({"app.py": f'K = "{secret}"  # ssot: ignore[hardcoded_secret] reason="fixture"\n'})
    assert main(["scan", str(root), "--no-checkov", "--format", "json"]) == 0
    honoured = json.loads(capsys.readouterr().out)
    assert [f["suppressed_by"] for f in honoured["suppressed"]] == ["inline"]
    assert main(["scan", str(root), "--no-checkov", "--format", "json", "--no-inline-ignores"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["suppressed"] == [] and [f["rule_id"] for f in report["findings"]] == ["hardcoded_secret"]
    assert secret not in json.dumps(report)
