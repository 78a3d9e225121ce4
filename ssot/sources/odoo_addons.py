"""Odoo addons in the repository: scheduled actions, system parameters and secret-holding fields.

Doctrine §4/§5: Odoo is never a scheduler nor a secret vault. An addon is a directory holding
`__manifest__.py` (or the legacy `__openerp__.py`). From it we read, without executing anything:

- the manifest, with `ast.literal_eval` (its `data` list says which data files are loaded);
- `ir.cron` records in XML data (`<record model="ir.cron">`, `<function model="ir.cron">`, in
  `noupdate` blocks or not) and CSV data (`ir_cron.csv` / `ir.cron.csv`) → ODOO_CRON;
- crons created or rewritten from Python (`env['ir.cron'].create(...)`, `env.ref('x.cron').write`,
  including in `_register_hook`) → ODOO_CRON (defined_in "python"), found in the AST;
- `ir.config_parameter` records / `set_param` calls / settings fields with `config_parameter=`
  whose key looks secret → ODOO_PARAMETER (fingerprint of the value, never the value);
- model fields named like a secret (`api_key = fields.Char()`) → ODOO_SECRET_FIELD;
- every text file of the addon through the detectors → SECRET_LITERAL (context "odoo-addon");
- Odoo as a job runner (§5): manifest `depends` on queue_job and kin, or an addon that is one of them
  → ODOO_MODULE (job_runner true); `.with_delay(`/`.delayable(` calls, `queue.job` model use and
  `queue.job.function` records, crons run as queue jobs (queue_job_cron's `run_as_queue_job`) →
  ODOO_JOB. Test code is skipped for jobs: what a test enqueues never runs in production.

Cron code is kept only after `scrub` replaced any secret literal in it by its redacted shape.
"""

from __future__ import annotations

import ast
import csv
import gc
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from xml.parsers import expat

from ssot.fingerprint import fingerprint
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.paths import is_test_path
from ssot.sources._repo import RepoFile, SecretNamer, read_text, scrub, secret_asset

MANIFESTS = ("__manifest__.py", "__openerp__.py")
SECRET_KEY = re.compile(
    r"(secret|token|passw|pwd|api[_.\-]?key|apikey|private[_.\-]?key|credential|access[_.\-]?key|"
    r"signing[_.\-]?key|auth[_.\-]?key|security[_.\-]?key|webhook[_.\-]?key|hmac[_.\-]?key|"
    r"encryption[_.\-]?key)", re.IGNORECASE)
# Field types that can hold a secret string; a Boolean named `use_token` or a Datetime named
# `token_expiry` cannot.
_TEXT_FIELDS = frozenset({"Char", "Text", "Binary", "Html"})
# OCA's queue (github.com/OCA/queue) and the modules built to run work through it: installing any of
# them makes Odoo a job runner. Modules that merely *use* jobs are found by their `depends` on these.
JOB_RUNNER_MODULES = frozenset({
    "queue_job", "queue_job_cron", "queue_job_cron_jobrunner", "queue_job_batch", "queue_job_subscribe",
    "queue_job_profiler", "queue_job_web_notify", "base_import_async", "connector",
})
_QUEUE_JOB_MODELS = frozenset({"queue.job", "queue.job.function", "queue.job.channel", "queue.job.lock"})


def is_job_runner_module(name: str) -> bool:
    return name in JOB_RUNNER_MODULES or name.startswith("queue_job_")


_CRON_WRITE_KEYS = frozenset({"interval_number", "interval_type", "nextcall", "numbercall", "cron_name",
                              "code", "active"})


# Python's parser, ast.literal_eval and our tree walks recurse: an expression of 20,000 terms or
# XML nested 10,000 deep exhausts the stack. That file is reported as not read, the scan goes on.
TOO_DEEP = "expected code or data nested shallowly enough to analyse (too deep: not read)"
_MODULE_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,80}")


class AddonError(ValueError):
    """An addon file could not be read; the message names the file, the line and what was expected."""


@dataclass
class Addon:
    name: str
    root: str  # relative dir
    manifest: str  # relative path of the manifest
    data: list[str] = field(default_factory=list)  # data files, relative to the addon root
    depends: list[str] = field(default_factory=list)  # manifest `depends` (module technical names)


# --- manifest -----------------------------------------------------------------------------------


def parse_manifest(text: str, rel: str) -> dict[str, Any]:
    try:
        tree = ast.parse(text, filename=rel)
    except SyntaxError as exc:
        raise AddonError(f"{rel}:{exc.lineno}: expected a Python dict literal (syntax error)") from None
    exprs = [n for n in tree.body if isinstance(n, ast.Expr)]
    dicts = [n.value for n in exprs if isinstance(n.value, ast.Dict)]
    if len(dicts) != 1:
        raise AddonError(f"{rel}: expected exactly one dict literal (the manifest), found {len(dicts)}")
    try:
        value = ast.literal_eval(dicts[0])
    except (ValueError, SyntaxError, TypeError):
        raise AddonError(f"{rel}:{dicts[0].lineno}: expected literal values only in the manifest "
                         "(no names or calls)") from None
    if not isinstance(value, dict):
        raise AddonError(f"{rel}: expected a dict")
    return value


def find_addons(files: Sequence[RepoFile]) -> tuple[list[Addon], list[str]]:
    addons: list[Addon] = []
    problems: list[str] = []
    by_rel = {f.rel: f for f in files}
    for f in files:
        p = PurePosixPath(f.rel)
        if p.name not in MANIFESTS:
            continue
        root = str(p.parent) if str(p.parent) != "." else ""
        if p.name == "__openerp__.py" and f"{root}/__manifest__.py".lstrip("/") in by_rel:
            continue
        addon = Addon(name=p.parent.name or "addon", root=root, manifest=f.rel)
        text = read_text(f)
        try:
            manifest = parse_manifest(text or "", f.rel)
            data = manifest.get("data", []) or []
            demo = manifest.get("demo", []) or []
            if not isinstance(data, list) or not all(isinstance(d, str) for d in data):
                raise AddonError(f"{f.rel}: data: expected a list of file paths")
            addon.data = [*data, *(d for d in demo if isinstance(d, str))]
            depends = manifest.get("depends", []) or []
            if isinstance(depends, list | tuple):
                addon.depends = [d for d in depends if isinstance(d, str) and _MODULE_NAME.fullmatch(d)]
        except AddonError as exc:
            problems.append(f"odoo-addons: {exc}")
        except RecursionError:
            problems.append(f"odoo-addons: {f.rel}: {TOO_DEEP}")
        addons.append(addon)
    return addons, problems


def addon_of(rel: str, addons: Sequence[Addon]) -> Addon | None:
    best = None
    for a in addons:
        if (not a.root or rel.startswith(a.root + "/")) and (best is None or len(a.root) > len(best.root)):
            best = a
    return best


# --- XML ----------------------------------------------------------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def find_all(self, tag: str) -> Iterable[Node]:
        for c in self.children:
            if c.tag == tag:
                yield c
            yield from c.find_all(tag)

    def fields(self) -> dict[str, Node]:
        return {c.attrs.get("name", ""): c for c in self.children if c.tag == "field"}

    def all_text(self) -> str:
        return self.text + "".join(c.all_text() for c in self.children)


def parse_xml(text: str, rel: str) -> Node:
    """A small line-aware XML tree. DTDs and entity declarations are refused (no entity expansion
    attacks); Odoo data files never need them."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    root = Node("#document", {}, 1)
    stack = [root]
    # Text arrives in many pieces; joined once per element (`+=` on each was quadratic).
    texts: list[list[str]] = [[]]

    def refuse(*_: Any) -> None:
        raise AddonError(f"{rel}:{parser.CurrentLineNumber}: expected no DTD or entity declarations")

    def start(tag: str, attrs: dict[str, str]) -> None:
        n = Node(tag, attrs, parser.CurrentLineNumber)
        stack[-1].children.append(n)
        stack.append(n)
        texts.append([])

    def end(_tag: str) -> None:
        stack.pop().text = "".join(texts.pop())

    def chars(data: str) -> None:
        texts[-1].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(text.encode("utf-8"), True)
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code)
        raise AddonError(f"{rel}:{exc.lineno}: expected well-formed XML ({reason})") from None
    return root


def _field_value(n: Node | None) -> str | None:
    if n is None:
        return None
    for attr in ("eval", "ref"):
        if attr in n.attrs:
            return n.attrs[attr]
    return n.all_text().strip()


def _model_from_ref(ref: str | None) -> str | None:
    if not ref:
        return None
    tail = ref.split(".")[-1]
    return tail[len("model_"):].replace("_", ".") if tail.startswith("model_") else tail


def _bool(value: Any, default: bool = True) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("false", "0", "none", "f", "no", ""):
        return False
    return True


def _xmlid(addon: Addon | None, xid: str | None) -> str | None:
    if not xid:
        return None
    return xid if "." in xid or addon is None else f"{addon.name}.{xid}"


def _cron_asset(*, name: str, addon: Addon | None, rel: str, line: int, defined_in: str, model: str | None,
                code: str | None, interval: str | None, active: bool, loaded: bool | None,
                extra: dict[str, Any] | None = None) -> Asset:
    props: dict[str, Any] = {"model": model, "code": scrub(code, rel), "interval": interval,
                             "active": active, "defined_in": defined_in,
                             "addon": addon.name if addon else None, "loaded_by_manifest": loaded}
    props.update(extra or {})
    return Asset(kind=Kind.ODOO_CRON, store=Store.ODOO, name=name, phase=Phase.STATIC,
                 location=Location(path=rel, line=line), props=props)


# Settings named after what they govern, not what they hold: `password_security.expiration_days`,
# `auth_password_policy.minlength`, `auth_signup.reset_password` (a switch), `x.token_lifetime`.
_SETTING_WORD = re.compile(
    r"(?:^|[_.\-])(?:days?|hours?|minutes?|seconds?|min|max|minimum|maximum|minlength|maxlength|length|"
    r"count|history|lower|upper|numeric|special|expir\w*|policy|enabled?|required|allowed|lifetime|"
    r"timeout|ttl|attempts|size|strength|delay|interval|mode|type|url|uri|endpoint|host|port|"
    r"reset_password|uninvited|template|ids?)\Z", re.IGNORECASE)
_SCALAR = re.compile(r"[+-]?\d+(?:\.\d+)?|true|false|none|null", re.IGNORECASE)
# Python types and Odoo field types whose values are never a secret string.
_NON_TEXT_KINDS = frozenset({"integer", "float", "boolean", "selection", "many2one", "date", "datetime",
                             "monetary"})


def _entropy(s: str) -> float:
    counts = {c: s.count(c) for c in set(s)}
    return -sum(n / len(s) * math.log2(n / len(s)) for n in counts.values())


def param_looks_secret(key: str, value: str | None, value_kind: str | None = None) -> tuple[bool, str]:
    """Whether an ir.config_parameter holds a secret, and what decided it ("type", "value", "key").

    The value decides when it is known: its type (an integer is no secret, whatever the key says),
    then its shape (a detector's format, or a secret-shaped value under a secret-naming key, or a
    long high-entropy token). Only when nothing is known of the value does the key decide, and a key
    naming a setting (`…_days`, `…minlength`, `…_enabled`) is not a secret's.
    """
    if value_kind in _NON_TEXT_KINDS:
        return False, "type"
    v = value.strip() if isinstance(value, str) else ""
    if v:
        if _SCALAR.fullmatch(v):
            return False, "value"
        from ssot.detectors import scan_value

        if scan_value(v, key):
            return True, "value"
        looks = (len(v) >= 24 and not any(c.isspace() for c in v) and "/" not in v and _entropy(v) >= 4.2)
        return looks, "value"
    last = key.rsplit(".", 1)[-1]
    return bool(SECRET_KEY.search(last)) and not _SETTING_WORD.search(last), "key"


def _param_asset(key: str, value: str | None, rel: str, line: int, via: str,
                 value_kind: str | None = None, extra: dict[str, Any] | None = None) -> Asset:
    looks, judged_by = param_looks_secret(key, value, value_kind)
    return Asset(kind=Kind.ODOO_PARAMETER, store=Store.ODOO, name=key, phase=Phase.STATIC,
                 location=Location(path=rel, line=line),
                 props={"looks_secret": looks, "defined_in": via, "has_value": bool(value),
                        "value_kind": value_kind or ("text" if value else "unknown"), "judged_by": judged_by,
                        **(extra or {})},
                 fingerprint=fingerprint(value) if value and looks else None)


def _value_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    return "text" if isinstance(value, str) else None


def _job_asset(rel: str, line: int, via: str, addon: Addon | None, *, model: str | None = None,
               method: str | None = None, defined_in: str = "python", cron: str | None = None) -> Asset:
    props: dict[str, Any] = {"via": via, "model": model, "method": method, "defined_in": defined_in,
                             "addon": addon.name if addon else None}
    if cron:
        props["cron"] = cron
    return Asset(kind=Kind.ODOO_JOB, store=Store.ODOO, name=f"{rel}:{line}", phase=Phase.STATIC,
                 location=Location(path=rel, line=line), props=props)


def _interval(number: Any, unit: Any) -> str | None:
    if number is None and unit is None:
        return None
    return f"{number if number is not None else 1} {unit or 'months'}"


def _eval_dict(src: str) -> dict[str, Any] | None:
    """A dict from an Odoo `eval` attribute, literals kept and anything else as its source text."""
    try:
        tree = ast.parse(src.strip(), mode="eval")
    except SyntaxError:
        return None
    node = tree.body
    if isinstance(node, ast.List | ast.Tuple) and node.elts and isinstance(node.elts[0], ast.Dict):
        node = node.elts[0]
    return _ast_dict(node, src.strip()) if isinstance(node, ast.Dict) else None


def _ast_value(node: ast.AST, src: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        # `ref('x.model_y')`, `env.ref('x.model_y').id`: the xml id is what identifies the target.
        for sub in ast.walk(node):
            if (isinstance(sub, ast.Call) and sub.args and isinstance(sub.args[0], ast.Constant)
                    and isinstance(sub.args[0].value, str)
                    and ((isinstance(sub.func, ast.Name) and sub.func.id == "ref")
                         or (isinstance(sub.func, ast.Attribute) and sub.func.attr == "ref"))):
                return sub.args[0].value
        return _source_segment(src, node)


_LINES_OF: dict[str, list[str]] = {}


def _source_segment(src: str, node: ast.AST) -> str | None:
    """`ast.get_source_segment`, with the source split into lines once per file: the stdlib splits
    the whole source on every call, which made 4,000 cron calls in one file take 115 s."""
    lines = _LINES_OF.get(src)
    if lines is None:
        _LINES_OF.clear()
        lines = _LINES_OF[src] = io.StringIO(src, newline="").readlines()
    first, last = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    col, end_col = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
    if first is None or last is None or col is None or end_col is None or not 0 < first <= last <= len(lines):
        return None
    first, last = first - 1, last - 1
    if first == last:
        return lines[first].encode()[col:end_col].decode(errors="replace")
    head = lines[first].encode()[col:].decode(errors="replace")
    tail = lines[last].encode()[:end_col].decode(errors="replace")
    return head + "".join(lines[first + 1:last]) + tail


def _ast_dict(node: ast.Dict, src: str) -> dict[str, Any]:
    out = {}
    for k, v in zip(node.keys, node.values, strict=True):
        if isinstance(k, ast.Constant) and isinstance(k.value, str):
            out[k.value] = _ast_value(v, src)
    return out


def _cron_from_values(values: dict[str, Any], *, name: str, addon: Addon | None, rel: str, line: int,
                      defined_in: str, loaded: bool | None, extra: dict[str, Any] | None = None) -> Asset:
    model_ref = values.get("model_id")
    model = values.get("model") or _model_from_ref(model_ref if isinstance(model_ref, str) else None)
    code = values.get("code")
    if code is None and values.get("function"):
        code = f"model.{values['function']}({values.get('args') or ''})"
    return _cron_asset(name=name, addon=addon, rel=rel, line=line, defined_in=defined_in, model=model,
                       code=code if isinstance(code, str) else None,
                       interval=_interval(values.get("interval_number"), values.get("interval_type")),
                       active=_bool(values.get("active")), loaded=loaded, extra=extra)


def xml_assets(text: str, rel: str, addon: Addon | None, loaded: bool | None) -> list[Asset]:
    root = parse_xml(text, rel)
    out: list[Asset] = []
    noupdate_nodes: set[int] = set()
    for tag in ("data", "odoo", "openerp"):
        for n in root.find_all(tag):
            if _bool(n.attrs.get("noupdate"), default=False):
                noupdate_nodes.update(id(r) for r in n.find_all("record"))
                noupdate_nodes.update(id(r) for r in n.find_all("function"))
    for rec in root.find_all("record"):
        model = rec.attrs.get("model")
        fields = rec.fields()
        if model == "ir.cron":
            values: dict[str, Any] = {}
            for key, fnode in fields.items():
                values[key] = _field_value(fnode)
                if key == "model_id" and "ref" in fnode.attrs:
                    values[key] = fnode.attrs["ref"]
            name = _xmlid(addon, rec.attrs.get("id")) or f"{rel}:{rec.line}"
            as_job = _bool(values.get("run_as_queue_job"), default=False)
            out.append(_cron_from_values(values, name=name, addon=addon, rel=rel, line=rec.line,
                                         defined_in="xml", loaded=loaded,
                                         extra={"noupdate": id(rec) in noupdate_nodes,
                                                "label": values.get("name"), "run_as_queue_job": as_job}))
            if as_job:
                cron = out[-1]
                out.append(_job_asset(rel, rec.line, "cron_to_job", addon, model=cron.props.get("model"),
                                      method=_code_method(cron.props.get("code")), defined_in="xml",
                                      cron=name))
        elif model in _QUEUE_JOB_MODELS:
            # queue.job.function records declare which methods run as jobs (model_id + method).
            ref = _field_value(fields.get("model_id"))
            target = _model_from_ref(ref)
            method = _field_value(fields.get("method"))
            job = _job_asset(rel, rec.line, "queue.job", addon, model=target or model,
                             method=method if method and _METHOD.fullmatch(method) else None, defined_in="xml")
            if target and ref:
                job.props["model_ref"] = ref.split(".")[-1]
            out.append(job)
        elif model == "ir.config_parameter":
            pkey = _field_value(fields.get("key"))
            if pkey:
                out.append(_param_asset(pkey, _field_value(fields.get("value")), rel, rec.line, "xml"))
    for fn in root.find_all("function"):
        model = fn.attrs.get("model")
        if model == "ir.cron":
            values = {}
            for child in fn.find_all("value"):
                if "eval" in child.attrs:
                    values.update(_eval_dict(child.attrs["eval"]) or {})
            if "eval" in fn.attrs:
                values.update(_eval_dict(fn.attrs["eval"]) or {})
            label = values.get("name") if isinstance(values.get("name"), str) else None
            name = f"{addon.name if addon else rel}:{label or 'function@' + str(fn.line)}"
            out.append(_cron_from_values(values, name=name, addon=addon, rel=rel, line=fn.line,
                                         defined_in="xml", loaded=loaded,
                                         extra={"noupdate": id(fn) in noupdate_nodes, "label": label,
                                                "method": fn.attrs.get("name")}))
        elif model == "ir.config_parameter" and fn.attrs.get("name") == "set_param":
            args = _eval_args(fn)
            if args and isinstance(args[0], str):
                value = args[1] if len(args) > 1 and isinstance(args[1], str) else None
                kind = _value_kind(args[1]) if len(args) > 1 else None
                out.append(_param_asset(args[0], value, rel, fn.line, "xml", kind))
    return out


_METHOD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,80}")
_CODE_CALL = re.compile(r"\bmodel\.([A-Za-z_][A-Za-z0-9_]{0,80})\(")


def _code_method(code: Any) -> str | None:
    m = _CODE_CALL.search(code) if isinstance(code, str) else None
    return m.group(1) if m else None


def _eval_args(fn: Node) -> list[Any]:
    srcs = [fn.attrs["eval"]] if "eval" in fn.attrs else []
    srcs += [v.attrs["eval"] for v in fn.find_all("value") if "eval" in v.attrs]
    args: list[Any] = []
    for src in srcs:
        try:
            v = ast.literal_eval(src.strip())
        except (ValueError, SyntaxError, TypeError):
            continue
        args.extend(v if isinstance(v, list | tuple) else [v])
    return args


# --- CSV ----------------------------------------------------------------------------------------


_CRON_CSV = ("ir_cron.csv", "ir.cron.csv")
_PARAM_CSV = ("ir_config_parameter.csv", "ir.config_parameter.csv")


def csv_assets(text: str, rel: str, addon: Addon | None, loaded: bool | None) -> list[Asset]:
    base = PurePosixPath(rel).name.lower()
    out: list[Asset] = []
    if base not in _CRON_CSV + _PARAM_CSV:
        return out
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return out
    except csv.Error:
        raise AddonError(f"{rel}:{reader.line_num}: expected well-formed CSV") from None
    cols = [h.strip() for h in header]
    # A malformed row must not end the scan nor silently drop the rows after it.
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error:
            raise AddonError(f"{rel}:{reader.line_num}: expected well-formed CSV") from None
        values = {c: (row[i] if i < len(row) else None) for i, c in enumerate(cols)}
        line = reader.line_num
        if base in _CRON_CSV:
            model_ref = values.get("model_id:id") or values.get("model_id/id") or values.get("model_id")
            vals: dict[str, Any] = {**values, "model_id": model_ref}
            out.append(_cron_from_values(vals, name=_xmlid(addon, values.get("id")) or f"{rel}:{line}",
                                         addon=addon, rel=rel, line=line, defined_in="csv", loaded=loaded,
                                         extra={"label": values.get("name")}))
        elif base in _PARAM_CSV and values.get("key"):
            out.append(_param_asset(str(values["key"]), values.get("value"), rel, line, "csv"))
    return out


# --- Python -------------------------------------------------------------------------------------


def _is_cron_model(node: ast.AST) -> bool:
    """`env['ir.cron']`, possibly behind .sudo() / .with_context(...) / .with_user(...)."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
            "sudo", "with_context", "with_user", "with_company", "with_env"):
        node = node.func.value
    return (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
            and node.slice.value == "ir.cron")


def _ref_id(node: ast.AST) -> str | None:
    """The xml id in `env.ref('x.y')`, possibly behind .sudo()."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
            "sudo", "with_context", "with_user", "with_company"):
        node = node.func.value
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "ref"
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        return node.args[0].value
    return None


# Secrets Odoo keeps for its own purposes: password hashes, per-record portal/signup tokens, its own
# users' passwords and 2FA seeds. The doctrine forbids Odoo as the vault of *other systems'*
# credentials (API keys, webhook secrets, SMTP and payment credentials); these are not that.
_HASH_FIELD = re.compile(r"(?:^|_)(?:crypt|hash|hashed|digest|salt|fingerprint)(?:_|\Z)")
_PER_RECORD_TOKENS = frozenset({"access_token", "signup_token", "reset_password_token", "session_token",
                                "signup_type", "access_url", "share_token"})
_ODOO_AUTH_MODELS = frozenset({"res.users", "res.users.apikeys", "res.users.identitycheck",
                               "auth_totp.device", "res.users.deletion", "change.password.user",
                               "change.password.own", "res.users.pass.history"})


def odoo_internal_secret(model: str, field_name: str) -> bool:
    if _HASH_FIELD.search(field_name) or field_name in _PER_RECORD_TOKENS:
        return True
    return model in _ODOO_AUTH_MODELS and field_name in {"password", "new_password", "totp_secret", "key"}


_CASTS = {"int": "integer", "float": "float", "bool": "boolean"}
_DELAY_CALLS = frozenset({"with_delay", "delayable"})
_ODOO_MODEL = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")


class _PyVisitor(ast.NodeVisitor):
    def __init__(self, src: str, rel: str, addon: Addon | None) -> None:
        self.src, self.rel, self.addon = src, rel, addon
        self.out: list[Asset] = []
        self.func: list[str] = []
        self.model: list[str | None] = []
        self.delays_seen: set[int] = set()
        self.cast_params: dict[int, str] = {}
        self.typed_params: dict[str, str] = {}  # parameter key -> the type its value is used as
        self.models_seen: set[str] = set()
        self.jobs_skipped = is_test_path(rel)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.func.append(node.name)
        self.generic_visit(node)
        self.func.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        model = None
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id in ("_name", "_inherit")
                                                    for t in stmt.targets):
                target = next(t.id for t in stmt.targets if isinstance(t, ast.Name))
                v = stmt.value
                if isinstance(v, ast.List) and v.elts:
                    v = v.elts[0]
                val = v.value if isinstance(v, ast.Constant) else None
                if isinstance(val, str) and (target == "_name" or model is None):
                    model = val
        self.model.append(model)
        if model:
            self.models_seen.add(model)
        if model in _QUEUE_JOB_MODELS:
            self._job(node, "queue.job", model, None)
        if model:
            for stmt in node.body:
                self._field(stmt, model)
        self.generic_visit(node)
        self.model.pop()

    def _field(self, stmt: ast.stmt, model: str) -> None:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            return
        call = stmt.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name) and call.func.value.id == "fields"):
            return
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        fname = stmt.targets[0].id
        param = kw.get("config_parameter")
        if isinstance(param, ast.Constant) and isinstance(param.value, str):
            if SECRET_KEY.search(param.value) or SECRET_KEY.search(fname):
                # The settings field's type is the parameter's: an Integer of days holds no secret.
                kind = "text" if call.func.attr in _TEXT_FIELDS else call.func.attr.lower()
                asset = _param_asset(param.value, None, self.rel, stmt.lineno, "settings-field", kind,
                                     {"field": f"{model}.{fname}"})
                if kind == "text" and not asset.props["looks_secret"] and SECRET_KEY.search(fname):
                    # `smtp_password = fields.Char(config_parameter="acme.smtp")`: the field names it
                    asset.props.update(looks_secret=True, judged_by="field")
                self.out.append(asset)
            return
        if call.func.attr not in _TEXT_FIELDS or not SECRET_KEY.search(fname):
            return
        store = kw.get("store")
        explicit = store.value if isinstance(store, ast.Constant) else None
        # computed and related fields are not stored unless they say so
        stored = bool(explicit) if explicit is not None else not ("compute" in kw or "related" in kw)
        if not stored:
            return
        self.out.append(Asset(
            kind=Kind.ODOO_SECRET_FIELD, store=Store.ODOO, name=f"{model}.{fname}", phase=Phase.STATIC,
            location=Location(path=self.rel, line=stmt.lineno),
            props={"model": model, "field": fname, "field_type": call.func.attr,
                   "addon": self.addon.name if self.addon else None,
                   "purpose": "odoo-internal" if odoo_internal_secret(model, fname) else "credential"}))

    def _job(self, node: ast.AST, via: str, model: str | None, method: str | None) -> None:
        if self.jobs_skipped:
            return
        self.out.append(_job_asset(self.rel, getattr(node, "lineno", 1), via, self.addon, model=model,
                                   method=method))

    def _receiver_model(self, node: ast.AST) -> str | None:
        """`env['x.y']...` names its model; `self` (and `self.sudo()`, `self.browse(...)`…) is the
        enclosing class's; any other receiver (`orders.with_delay()`) is of a model we do not know."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Constant) \
                    and isinstance(sub.slice.value, str) and _ODOO_MODEL.fullmatch(sub.slice.value):
                return sub.slice.value
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        if isinstance(node, ast.Name) and node.id == "self":
            return self.model[-1] if self.model else None
        return None

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.slice, ast.Constant) and node.slice.value in _QUEUE_JOB_MODELS:
            self._job(node, "queue.job", str(node.slice.value), None)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        if isinstance(f, ast.Name) and f.id in _CASTS and node.args and isinstance(node.args[0], ast.Call):
            # `int(params.get_param("x.history", 0))`: how the value is used says what it is.
            self.cast_params[id(node.args[0])] = _CASTS[f.id]
        if isinstance(f, ast.Attribute):
            # `x.with_delay(...).method(...)`: the job is `method`; the inner call is then handled.
            inner = f.value
            if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                    and inner.func.attr in _DELAY_CALLS and id(inner) not in self.delays_seen):
                self.delays_seen.add(id(inner))
                self._job(node, inner.func.attr, self._receiver_model(inner.func.value),
                          f.attr if f.attr not in ("delay", "set") else None)
            elif f.attr in _DELAY_CALLS and id(node) not in self.delays_seen:
                self.delays_seen.add(id(node))
                self._job(node, f.attr, self._receiver_model(f.value), None)
        if isinstance(f, ast.Attribute):
            if f.attr == "create" and _is_cron_model(f.value):
                self._cron(node, "create", None)
            elif f.attr == "write":
                xid = _ref_id(f.value)
                vals = self._dict_arg(node)
                if _is_cron_model(f.value) or (xid and ("cron" in xid or set(vals) & _CRON_WRITE_KEYS)):
                    self._cron(node, "write", xid)
            elif f.attr == "set_param" and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                val = node.args[1] if len(node.args) > 1 else None
                const = isinstance(val, ast.Constant)
                value = val.value if const and isinstance(val.value, str) else None  # type: ignore[union-attr]
                kind = _value_kind(val.value) if const else None  # type: ignore[union-attr]
                self.out.append(_param_asset(node.args[0].value, value, self.rel, node.lineno, "python", kind))
            elif f.attr == "get_param" and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) and id(node) in self.cast_params:
                self.typed_params[node.args[0].value] = self.cast_params[id(node)]
        self.generic_visit(node)

    def _dict_arg(self, node: ast.Call) -> dict[str, Any]:
        arg = node.args[0] if node.args else None
        if isinstance(arg, ast.List | ast.Tuple) and arg.elts:
            arg = arg.elts[0]
        return _ast_dict(arg, self.src) if isinstance(arg, ast.Dict) else {}

    def _cron(self, node: ast.Call, method: str, xid: str | None) -> None:
        vals = self._dict_arg(node)
        label = vals.get("name") if isinstance(vals.get("name"), str) else None
        where = self.func[-1] if self.func else "<module>"
        name = (_xmlid(self.addon, xid) if xid else None) or \
            f"{self.addon.name if self.addon else self.rel}:{label or f'{where}@{node.lineno}'}"
        extra = {"method": method, "label": label, "in_function": where,
                 "register_hook": "_register_hook" in self.func}
        if method == "write" and "active" not in vals:
            vals["active"] = None
        as_job = _bool(vals.get("run_as_queue_job"), default=False)
        extra["run_as_queue_job"] = as_job
        cron = _cron_from_values(vals, name=name, addon=self.addon, rel=self.rel, line=node.lineno,
                                 defined_in="python", loaded=None, extra=extra)
        self.out.append(cron)
        if as_job and not self.jobs_skipped:
            self.out.append(_job_asset(self.rel, node.lineno, "cron_to_job", self.addon,
                                       model=cron.props.get("model"),
                                       method=_code_method(cron.props.get("code")), cron=name))


@dataclass
class PyFacts:
    """What one Python file says beyond its assets, for judging the others'."""

    typed_params: dict[str, str] = field(default_factory=dict)  # parameter key -> type its value is used as
    models: set[str] = field(default_factory=set)  # models its classes define or inherit

    def update(self, other: PyFacts) -> None:
        self.typed_params.update(other.typed_params)
        self.models |= other.models


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A 2 MB module parses into millions of AST nodes, and each generation-2 collection during the
    parse and walk visits every one of them again (50,000 crons created from code: 2.6 s of 13 s,
    growing faster than the input). The tree has no cycles, so reference counting frees it and
    pausing the cycle collector for this bounded stretch loses nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def python_scan(text: str, rel: str, addon: Addon | None) -> tuple[list[Asset], PyFacts]:
    """Assets of one Python file, and the facts (typed parameters, models) the scanner needs later."""
    with _gc_paused():
        try:
            tree = ast.parse(text, filename=rel)
        except SyntaxError as exc:
            raise AddonError(f"{rel}:{exc.lineno}: expected valid Python (syntax error)") from None
        v = _PyVisitor(text, rel, addon)
        v.visit(tree)
        return v.out, PyFacts(v.typed_params, v.models_seen)


def python_assets(text: str, rel: str, addon: Addon | None) -> list[Asset]:
    return python_scan(text, rel, addon)[0]


def resolve_model_refs(assets: Sequence[Asset], models: set[str]) -> None:
    """`ref="base_import.model_base_import_import"` cannot be read back (`_` or `.`?); a model the
    addons define or inherit with that xml id spelling is the one meant."""
    known = {"model_" + m.replace(".", "_"): m for m in models}
    for a in assets:
        ref = a.props.pop("model_ref", None)
        if ref in known:
            a.props["model"] = known[ref]
    # A job whose receiver's model the code does not say takes it from the addon's queue.job.function
    # record for the same method, when there is exactly one.
    declared: dict[tuple[Any, Any], set[str]] = {}
    for a in assets:
        if a.kind is Kind.ODOO_JOB and a.props.get("defined_in") == "xml" and a.props.get("method") \
                and a.props.get("model"):
            declared.setdefault((a.props.get("addon"), a.props["method"]), set()).add(a.props["model"])
    for a in assets:
        if a.kind is Kind.ODOO_JOB and a.props.get("model") is None and a.props.get("method"):
            candidates = declared.get((a.props.get("addon"), a.props["method"]), set())
            if len(candidates) == 1:
                a.props["model"] = next(iter(candidates))


def judge_by_usage(assets: Sequence[Asset], facts: PyFacts) -> None:
    """A parameter whose value nothing states but whose code reads it as `int(...)` holds a number."""
    for a in assets:
        kind = facts.typed_params.get(a.name)
        if a.kind is Kind.ODOO_PARAMETER and kind and a.props.get("judged_by") == "key":
            a.props.update(looks_secret=False, value_kind=kind, judged_by="usage")
            a.fingerprint = None


# --- the scanner --------------------------------------------------------------------------------


def job_runner_modules(addons: Sequence[Addon]) -> list[Asset]:
    """One ODOO_MODULE per job-runner module the addons depend on or ship, located at the first
    manifest that names it."""
    found: dict[str, Asset] = {}
    for addon in addons:
        names = [d for d in addon.depends if is_job_runner_module(d)]
        if is_job_runner_module(addon.name):
            names.append(addon.name)
        for name in names:
            a = found.get(name)
            if a is None:
                a = found[name] = Asset(
                    kind=Kind.ODOO_MODULE, store=Store.ODOO, name=name, phase=Phase.STATIC,
                    location=Location(path=addon.manifest, line=1),
                    props={"state": "depended", "job_runner": True, "depended_by": [],
                           "shipped": False, "defined_in": "manifest"})
            if name == addon.name:
                a.props["shipped"] = True
                if not a.props["depended_by"]:
                    a.props["state"] = "shipped"
            else:
                a.props["depended_by"].append(addon.name)
                a.props["state"] = "depended"
    return list(found.values())


def scan_addons(files: Sequence[RepoFile], addons: Sequence[Addon], namer: SecretNamer | None = None
                ) -> tuple[list[Asset], list[str]]:
    """Assets from the files that belong to the given addons, and the problems met reading them."""
    from ssot.detectors import scan_text

    namer = namer or SecretNamer()
    out: list[Asset] = []
    problems: list[str] = []
    xml_crons: dict[str, int] = {}
    facts = PyFacts()
    for f in files:
        addon = addon_of(f.rel, addons)
        if addon is None:
            continue
        text = read_text(f)
        if text is None:
            continue
        in_addon = f.rel[len(addon.root) + 1:] if addon.root else f.rel
        loaded = in_addon in addon.data
        suffix = PurePosixPath(f.rel).suffix.lower()
        try:
            if suffix == ".xml":
                found = xml_assets(text, f.rel, addon, loaded)
                xml_crons[f.rel] = sum(a.kind is Kind.ODOO_CRON for a in found)
                out.extend(found)
            elif suffix == ".csv":
                out.extend(csv_assets(text, f.rel, addon, loaded))
            elif suffix == ".py" and PurePosixPath(f.rel).name not in MANIFESTS:
                found, py_facts = python_scan(text, f.rel, addon)
                out.extend(found)
                facts.update(py_facts)
        except AddonError as exc:
            problems.append(f"odoo-addons: {exc}")
        except RecursionError:
            problems.append(f"odoo-addons: {f.rel}: {TOO_DEEP}")
        for m in scan_text(text, f.rel):
            out.append(secret_asset(m, f.rel, "odoo-addon", Store.REPOSITORY,
                                    namer.name(Store.REPOSITORY, f.rel, m.secret_type)))
    judge_by_usage(out, facts)
    resolve_model_refs(out, facts.models)
    out.extend(job_runner_modules(addons))
    # A manifest that loads a cron data file we could not see (absent from the repository) still
    # declares a scheduled action.
    present = {f.rel for f in files}
    for addon in addons:
        for entry in addon.data:
            rel = f"{addon.root}/{entry}" if addon.root else entry
            if "cron" in PurePosixPath(entry).name.lower() and rel not in present:
                out.append(_cron_asset(name=f"{addon.name}:{entry}", addon=addon, rel=addon.manifest,
                                       line=1, defined_in="manifest", model=None, code=None, interval=None,
                                       active=True, loaded=True, extra={"data_file": entry}))
    return out, problems
