"""Names are checked to the true end of the string.

`$` also matches just before a final newline, so `^[a-z]+$` accepts "x\\n": a Vault secret or a
pg_cron job named that way passed validation and broke every table that listed it. Every regex in
`ssot/` must anchor with `\\Z` (or use fullmatch); the lint below keeps it that way.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ssot import names
from ssot.errors import ConfigError
from ssot.model import platform_from_document
from ssot.yamlpos import Positioned

ROOT = Path(__file__).resolve().parent.parent
_RE_FUNCS = {"compile", "match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer"}


def _literal(node: ast.expr, consts: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        # Interpolated parts are other fragments (checked where they are defined); keep the literal text.
        return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "x"
                       for v in node.values)
    if isinstance(node, ast.Name):
        return consts.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        # `prefix + r"...$"`: the parts that are literals are what can end in `$`
        left, right = _literal(node.left, consts), _literal(node.right, consts)
        if left is not None or right is not None:
            return (left or "x") + (right or "x")
    return None


def _end_anchors(pattern: str) -> list[int]:
    """Offsets of unescaped `$` outside character classes."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif c == "$":
            out.append(i)
        i += 1
    return out


def _multiline(call: ast.Call) -> bool:
    return "MULTILINE" in ast.unparse(call) or "re.M" in ast.unparse(call)


def _dollar_regexes() -> list[str]:
    bad = []
    for path in sorted((ROOT / "ssot").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        consts = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                  for t in n.targets if isinstance(t, ast.Name)
                  and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                    and node.func.attr in _RE_FUNCS and node.args):
                continue
            pattern = _literal(node.args[0], consts)
            if pattern is not None and _end_anchors(pattern) and not _multiline(node):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {pattern!r}")
    return bad


def test_no_regex_in_ssot_anchors_with_dollar() -> None:
    bad = _dollar_regexes()
    assert not bad, "anchor with \\Z, not $ (which matches before a final newline):\n" + "\n".join(bad)


def test_the_lint_sees_dollar_anchors() -> None:
    assert _end_anchors(r"^[a-z]+$") == [7]
    assert _end_anchors(r"^[$a-z]+\$\Z") == []
    assert _end_anchors(r"(\s|$)") == [4]


@pytest.mark.parametrize("check", [
    names.pg_identifier_problem, names.pg_identifier_problem_allow_pg, names.secret_name_problem,
    names.cron_job_problem,
])
def test_a_trailing_newline_is_not_a_name(check: object) -> None:
    assert callable(check)
    assert check("abc") is None
    assert check("abc\n") is not None


def test_env_names_and_project_refs_refuse_a_trailing_newline() -> None:
    assert names.env_name_problem("GITHUB_TOKEN") is None
    assert names.env_name_problem("GITHUB_TOKEN\n") is not None
    assert names.project_ref_problem("a" * 20) is None
    assert names.project_ref_problem("a" * 20 + "\n") is not None


def _doc(platform: dict[str, object]) -> Positioned:
    return Positioned(file="Pulumi.t.yaml", data={"config": {"ssot:platform": platform}})


@pytest.mark.parametrize("where", ["vault", "cron"])
def test_a_declared_name_with_a_trailing_newline_is_refused(where: str) -> None:
    platform: dict[str, object] = {"name": "t", "database": {"local": True}}
    if where == "vault":
        platform["vault"] = {"secrets": [{"name": "x\n", "category": "other", "value": {"generate": {"bytes": 32}}}]}
        path = "vault.secrets[0].name"
    else:
        platform["cron"] = {"jobs": [{"name": "x\n", "schedule": "* * * * *", "command": "select 1"}]}
        path = "cron.jobs[0].name"
    with pytest.raises(ConfigError) as err:
        platform_from_document(_doc(platform), stack="t")
    assert any(i.path.endswith(path) for i in err.value.issues)
    assert re.search(r"\n\s*\Z", str(err.value)) is None
