"""Property-based fuzzing of everything that parses hostile input (issue 7): the stack loader, the
Odoo addon parsers, the SQL, crontab and workflow scanners, the suppressions and baseline loaders.

The property: for any input, a parser returns or raises its documented error (ConfigError,
AddonError, WorkflowError; nothing else, so the CLI never ends in an internal error), within a time
bound (SIGALRM) and a memory bound (tracemalloc's peak), and no secret planted in the input
appears in an error message. Inputs are drawn from each format's own vocabulary (YAML anchors and
aliases, SQL quoting, XML, Python), so that the structures that used to hang or crash are reached.

Deterministic by default (`derandomize=True`, profile "ci" registered in tests/conftest.py, about ten
seconds in all); longer local runs:
`pytest tests/test_fuzz.py --hypothesis-profile=long` (or SSOT_HYPOTHESIS_PROFILE=long). A failure
found this way becomes an explicit `@example` below, so it stays a regression case.
"""

from __future__ import annotations

import json
import signal
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ssot.errors import ConfigError
from ssot.model import platform_from_document
from ssot.sources.files import crontab_schedules, justification, sql_cron_jobs, sql_tables
from ssot.sources.odoo_addons import AddonError, csv_assets, parse_manifest, python_assets, xml_assets
from ssot.sources.workflows import WorkflowError, workflow_schedules
from ssot.suppressions import load_baseline, load_suppressions
from ssot.yamlpos import load_yaml

TIME_BOUND_S = 5.0
MEMORY_BOUND_MB = 64
CANARY = "sb_secret_Fz9Qx8Wv7Ut6Sr5Qp4On3Ml2Kj1Ih0G"


class TooSlow(Exception):
    pass


@contextmanager
def bounded() -> Iterator[None]:
    """Fail the example when it runs longer than TIME_BOUND_S or allocates more than MEMORY_BOUND_MB."""

    def alarm(*_: object) -> None:
        raise TooSlow(f"over {TIME_BOUND_S}s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_BOUND_S)
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
        assert peak < MEMORY_BOUND_MB * 1e6, f"peak {peak / 1e6:.0f} MB"
    finally:
        tracemalloc.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def check(fn: Callable[[], Any], *allowed: type[BaseException]) -> None:
    with bounded():
        try:
            fn()
        except allowed as exc:
            assert CANARY not in str(exc)


def fragments(vocab: list[str], max_size: int = 120) -> st.SearchStrategy[str]:
    """Texts made of a format's significant pieces, with some free text between them."""
    piece = st.one_of(st.sampled_from(vocab), st.text(max_size=6))
    return st.lists(piece, max_size=max_size).map("".join)


YAML_VOCAB = ["\n", "  ", "- ", ": ", "&a ", "&b ", "*a", "*b", "[", "]", "{", "}", ", ", "<<: ", "!!python/name:x ",
              "config:", "ssot:platform:", "name: ", "schemas:", "roles:", "vaultSecrets:", "cronJobs:",
              "value: ", "{secret: k}", "{generate: {bytes: 32}}", "secure: ", "'", '"', "|", ">", "#", "---\n",
              "2025-02-30", "0x1f", "1e999", "~", "true", "on", CANARY, "suppressions:", "key: ", "rule: ",
              "expires: ", "reason: ", "owner: ", "jobs:", "schedule:", "cron: ", "'0 1 * * *'"]
SQL_VOCAB = ["select ", "cron.schedule(", "cron.schedule_in_database(", "create table ", "create temp table ",
             "if not exists ", "t", "s.t", '"q"', "(", ")", ", ", "'", "''", "$$", "$a$", "$b$", ";", "\n", " ",
             "-- ", "/*", "*/", "'* * * * *'", CANARY, "ssot: justified reason=x "]
XML_VOCAB = ["<odoo>", "</odoo>", "<data noupdate='1'>", "</data>", "<record id='c' model='ir.cron'>", "</record>",
             "<field name='code'>", "<field name='key'>", "</field>", "<function model='ir.cron' name='x'>",
             "</function>", "<value eval=\"{'name': 'n'}\"/>", "eval=\"", "\"", "&amp;", "&lt;", "<!DOCTYPE x>",
             "<!ENTITY e 'x'>", "&e;", "<![CDATA[", "]]>", CANARY, "<", ">", "/"]
PY_VOCAB = ["env['ir.cron'].create(", "env.ref('a.cron').write(", "{'code': ", "'name': ", "}", ")", "(", "[", "]",
            "class M(models.Model):\n", "    _name = 'x.y'\n", "    api_key = fields.Char()\n", "def f():\n",
            "    ", "set_param('k', ", "+1", "x.", "lambda: ", "\n", "'", '"', "\\", CANARY, "{'name': 'A', 'data': ["]
CSV_VOCAB = ["id,name,model_id:id,code,interval_number,interval_type\n", "key,value\n", ",", "\n", '"', '""', "c",
             "model_res_partner", "model._run()", CANARY, "\r\n", "\0"]


@given(fragments(YAML_VOCAB))
@example("config:\n  ssot:platform: &a [*a]\n")
@example("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
         "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n")
@example("config: " + "[" * 500 + "]" * 500)
def test_stack_loader(text: str) -> None:
    def run() -> None:
        platform_from_document(load_yaml("Pulumi.fuzz.yaml", text=text), stack="fuzz", strict=False)

    check(run, ConfigError)


@given(fragments(YAML_VOCAB))
@example("on: &a [*a]\n")
@example("on: {schedule: [{cron: '0 1 * * *'}]}\n# ssot: justified " + "ssot: justified " * 2000)
def test_workflow_scanner(text: str) -> None:
    check(lambda: workflow_schedules(text, ".github/workflows/w.yml"), WorkflowError)


@given(fragments(SQL_VOCAB, 300))
@example("select cron.schedule(" * 2000)
@example("create table t (" * 2000)
@example("* * * * * a" + " " * 20000 + "b")
def test_sql_and_crontab_scanners(text: str) -> None:
    def run() -> None:
        sql_cron_jobs(text, "m.sql")
        sql_tables(text, "m.sql")
        crontab_schedules(text, "ops/crontab")
        crontab_schedules(text, "etc/cron.d/x")
        justification(text)

    check(run)


@given(fragments(XML_VOCAB))
@example("<odoo>" + "<a>" * 3000 + "</a>" * 3000 + "</odoo>")
def test_odoo_xml(text: str) -> None:
    check(lambda: xml_assets(text, "addons/a/data/d.xml", None, True), AddonError, RecursionError)


@given(fragments(PY_VOCAB))
@example("x = " + "+".join(["1"] * 20000))
def test_odoo_python_and_manifest(text: str) -> None:
    def run() -> None:
        for fn in (lambda: python_assets(text, "addons/a/m.py", None), lambda: parse_manifest(text, "m.py")):
            try:
                fn()
            except (AddonError, RecursionError) as exc:
                # RecursionError is what scan_addons reports as "too deep"; nothing else may escape
                assert CANARY not in str(exc)

    check(run)


@given(fragments(CSV_VOCAB))
@example("id,name,model_id:id,code,interval_number,interval_type\n\r0")  # csv.Error escaped: exit 70
def test_odoo_csv(text: str) -> None:
    def run() -> None:
        for name in ("ir_cron.csv", "ir_config_parameter.csv"):
            try:
                csv_assets(text, f"addons/a/data/{name}", None, True)
            except AddonError as exc:
                assert CANARY not in str(exc)

    check(run)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@given(text=fragments(YAML_VOCAB))
def test_suppressions_loader(scratch: Path, text: str) -> None:
    p = scratch / "suppressions.yaml"
    p.write_text(text)
    check(lambda: load_suppressions(p), ConfigError)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30)


@given(doc=st.one_of(
    JSON_VALUES.map(json.dumps),
    st.fixed_dictionaries({"format": st.sampled_from(["ssot-baseline", "x"]), "version": st.sampled_from([1, 2]),
                           "findings": st.lists(st.one_of(JSON_VALUES, st.fixed_dictionaries(
                               {"key": st.sampled_from(["rule_a:0123", CANARY, "x"])})), max_size=5)}).map(json.dumps),
    fragments(["{", "}", "[", "]", '"', ":", ",", "9" * 50, "1e999", "-", "null", CANARY])))
@example(doc="[" * 100_000 + "]" * 100_000)
@example(doc='{"format": "ssot-baseline", "version": ' + "9" * 5000 + "}")
def test_baseline_loader(scratch: Path, doc: str) -> None:
    p = scratch / "baseline.json"
    p.write_text(doc)
    check(lambda: load_baseline(p), ConfigError)


# --- whole trees ----------------------------------------------------------------------------------

TREE_PATHS = ["a.py", "m.sql", "ops/crontab", "etc/cron.d/x", "stacks/Pulumi.dev.yaml", ".github/workflows/w.yml",
              "addons/a/__manifest__.py", "addons/a/data/cron.xml", "addons/a/data/ir_cron.csv",
              "addons/a/models/m.py", "k8s/job.yaml", ".ssotignore", "deep/" * 30 + "f.txt", "x\ny.txt"]
CONTENT = st.one_of(fragments(YAML_VOCAB, 60), fragments(SQL_VOCAB, 60), fragments(XML_VOCAB, 60),
                    fragments(PY_VOCAB, 60), fragments(CSV_VOCAB, 60))
KINDS = st.sampled_from(["text", "bytes", "utf16", "link-out", "link-in", "fifo", "dir"])


@given(tree=st.dictionaries(st.sampled_from(TREE_PATHS), st.tuples(KINDS, CONTENT), max_size=6))
def test_static_scan_of_hostile_trees(tree: dict[str, tuple[str, str]], tmp_path_factory: pytest.TempPathFactory
                                      ) -> None:
    """Any tree: the static scan (checkov off) returns an inventory or a ConfigError (a bad
    .ssotignore), never anything else, never reads outside the tree, never leaks the canary."""
    import os

    from ssot.sources.static import collect_static

    root = tmp_path_factory.mktemp("tree")
    outside = tmp_path_factory.mktemp("outside") / "secret.py"
    outside.write_text(f"KEY = '{CANARY}'\n")
    for rel, (kind, text) in tree.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists() or p.is_symlink():
            continue
        if kind == "text":
            p.write_text(text)
        elif kind == "bytes":
            p.write_bytes(text.encode("utf-8", "surrogatepass") + b"\0\xff")
        elif kind == "utf16":
            p.write_bytes(text.encode("utf-16", "surrogatepass"))
        elif kind == "link-out":
            p.symlink_to(outside)
        elif kind == "link-in":
            p.symlink_to(root)
        elif kind == "fifo":
            os.mkfifo(p)
        else:
            p.mkdir()

    links = {rel for rel in tree if (root / rel).is_symlink()}

    def run() -> None:
        inv = collect_static(root, use_checkov=False)
        for a in inv.assets:
            assert a.location.path not in links  # a link is never followed (the canary is behind one)
            assert a.location.path is None or not a.location.path.startswith("/")
            assert CANARY not in repr(a.props)

    check(run, ConfigError)
