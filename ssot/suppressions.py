"""Suppressions, inline ignores and the baseline: how a team accepts a finding, on the record.

Every phase shares these through the finding key (stable across runs and line moves, value-free).
Three ways, applied in this order by `apply` (the first that matches wins):

1. Inline, for one line of a file: a comment `ssot: ignore[<rule_id>] reason="..."` on the finding's
   line, or alone on the line above (`#`, `//`, `--`, `/* */` or `<!-- -->` comments). Without a
   reason it does not suppress, and the finding and the warnings say so.
2. The suppressions file (YAML, default `.ssot/suppressions.yaml`):

       suppressions:
         - key: no_hardcoded_secrets:0123456789abcdef   # one finding
           reason: test fixture, not a real credential
           owner: platform-team
           expires: 2025-06-30                           # last day it applies
         - rule: odoo_cron_jobs                          # or: a rule plus subject/path globs
           path: "addons/legacy_*/**"
           reason: legacy addon, removal tracked in PLAT-42
           owner: erp-team
           expires: 2025-03-31

   reason, owner and expires are required. An expired entry does not suppress: the finding stays,
   with a note that its suppression expired. An entry that matches nothing is stale: a warning.
3. The baseline (JSON, written by `write_baseline`): findings already known when it was written
   are marked `suppressed_by="baseline"`; only new ones count. A finding whose suppression entry
   expired is active even if the baseline lists it: the expiry wins.

Nothing here reads or writes a secret: a finding's key and subject are value-free by contract, an
inline ignore contributes only its reason text, and warnings never quote a file's line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

from ssot.errors import ConfigError, ConfigIssue, SsotError, did_you_mean
from ssot.findings import Finding
from ssot.shape import describe
from ssot.yamlpos import KeyPath, load_yaml

DEFAULT_SUPPRESSIONS = ".ssot/suppressions.yaml"
BASELINE_FORMAT = "ssot-baseline"
BASELINE_VERSION = 1

BY_INLINE = "inline"
BY_FILE = "suppressions"
BY_BASELINE = "baseline"

LineReader = Callable[[str], Sequence[str] | None]

_RULE_ID = re.compile(r"^[a-z][a-z0-9_]{2,40}\Z")
_KEY = re.compile(r"^[a-z][a-z0-9_]{2,40}:\S+\Z")
_FIELDS = ("key", "rule", "subject", "path", "reason", "owner", "expires")
# A finding key as ssot writes it (rule id and a digest of the subject): public by construction.
_PUBLIC_KEY = re.compile(r"[a-z][a-z0-9_]{2,40}:[0-9a-f]{16}\Z")


def _ident(key: object, rule: object) -> str:
    """How a message names an entry: its key or rule when they are ssot's own identifiers (a
    well-formed finding key, a known rule id), otherwise only the shape of what is there."""
    if key is not None:
        return f"key {key}" if isinstance(key, str) and _PUBLIC_KEY.match(key) else f"a key ({describe(key)})"
    if rule is not None:
        from ssot.rules import all_rules

        known = {r.id for r in all_rules()}
        return f"rule {rule}" if isinstance(rule, str) and rule in known else f"a rule ({describe(rule)})"
    return "entry"


@dataclass(frozen=True)
class Suppression:
    """One entry of a suppressions file."""

    file: str
    index: int
    line: int | None
    reason: str
    owner: str
    expires: date
    key: str | None = None
    rule: str | None = None
    subject: str | None = None
    path: str | None = None

    @property
    def where(self) -> str:
        at = f"{self.file}:{self.line}" if self.line else self.file
        return f"{at}: suppressions[{self.index}]"

    def describe(self) -> str:
        # Globs are described, not quoted: the file is outside input and a glob can hold anything.
        if self.key:
            return _ident(self.key, None)
        parts = [_ident(None, self.rule)]
        if self.subject:
            parts.append(f"a subject glob ({describe(self.subject)})")
        if self.path:
            parts.append(f"a path glob ({describe(self.path)})")
        return ", ".join(parts)

    def expired(self, today: date) -> bool:
        return today > self.expires

    def matches(self, f: Finding, root: Path | None = None) -> bool:
        if self.key:
            return f.key == self.key
        if f.rule_id != self.rule:
            return False
        if self.subject and not fnmatchcase(f.subject, self.subject):
            return False
        if self.path:
            if not f.location.path:
                return False
            return _glob(self.path).match(_rel(f.location.path, root)) is not None
        return True


# ---------------------------------------------------------------------------------------------
# The suppressions file


def _rel(path: str, root: Path | None) -> str:
    p = path.replace("\\", "/")
    if root is not None:
        r = str(root).replace("\\", "/").rstrip("/") + "/"
        if p.startswith(r):
            p = p[len(r):]
    while p.startswith("./"):
        p = p[2:]
    return p


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    """A path glob: `*` and `?` stay inside one directory, `**` crosses directories."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def load_suppressions(path: str | Path, *, display: str | None = None) -> list[Suppression]:
    """Read and validate a suppressions file; every problem is reported at once, with its line."""
    # An impossible date (2025-02-30) is reported by the loader itself, with its line.
    doc = load_yaml(path, display=display)
    file = doc.file
    data = doc.data
    base: KeyPath
    if data is None:
        return []
    if isinstance(data, dict):
        unknown = [k for k in data if k != "suppressions"]
        if unknown:
            hint = did_you_mean(unknown[0], ["suppressions"])
            raise ConfigError.single(file, unknown[0] if hint else "", "only a top-level 'suppressions:' list"
                                     + (hint or f"; got a key, {describe(unknown[0])}"), doc.line((unknown[0],)))
        data, base = data.get("suppressions") or [], ("suppressions",)
    else:
        base = ()
    if not isinstance(data, list):
        raise ConfigError.single(file, "suppressions",
                                 "a list of entries (key or rule, reason, owner, expires)", doc.line(base))

    issues: list[ConfigIssue] = []
    out: list[Suppression] = []
    for i, entry in enumerate(data):
        at = f"suppressions[{i}]"
        line = doc.line((*base, i))

        def issue(field: str, expected: str, *, _at: str = at, _i: int = i, _line: int | None = line) -> None:
            issues.append(ConfigIssue(file, f"{_at}.{field}" if field else _at, expected,
                                      doc.line((*base, _i, field)) if field else _line))

        if not isinstance(entry, dict):
            issue("", "a mapping with 'key' (or 'rule' + 'subject'/'path'), 'reason', 'owner', 'expires'")
            continue
        key, rule = entry.get("key"), entry.get("rule")
        ident = _ident(key, rule)
        n_before = len(issues)
        for name in entry:
            if name not in _FIELDS:
                hint = did_you_mean(name, _FIELDS)
                # Only a near miss of our own field names is named; any other key may be a secret.
                issue(name if hint else "", f"a known field ({', '.join(_FIELDS)}){hint}"
                      + ("" if hint else f"; got an unknown key, {describe(name)}"))
        if key is None and rule is None:
            issue("", "either 'key' (a finding key, e.g. rule_id:0123456789abcdef) or 'rule' with a "
                      "'subject' and/or 'path' glob")
        elif key is not None and rule is not None:
            issue("rule", "either 'key' or 'rule', not both")
        if key is not None and not (isinstance(key, str) and _KEY.match(key)):
            issue("key", f"a finding key like rule_id:0123456789abcdef; got {describe(key)}")
        if rule is not None:
            if not (isinstance(rule, str) and _RULE_ID.match(rule)):
                issue("rule", f"a rule id (lower case letters, digits, '_'); got {describe(rule)}")
            elif entry.get("subject") is None and entry.get("path") is None:
                issue("rule", f"with 'rule', a 'subject' and/or 'path' glob saying what is covered ({ident})")
        for name in ("subject", "path"):
            value = entry.get(name)
            if value is not None and not (isinstance(value, str) and value.strip()):
                issue(name, f"a non-empty glob string ({ident})")
        for name, what in (("reason", "a reason saying why this finding is acceptable"),
                           ("owner", "an owner (team or person) answerable for it")):
            value = entry.get(name)
            if not (isinstance(value, str) and value.strip()):
                issue(name, f"{what} (required, {ident})")
        raw_expiry = entry.get("expires")
        expires = _parse_date(raw_expiry)
        if expires is None:
            got = "missing" if raw_expiry is None else f"got {describe(raw_expiry)}"
            issue("expires", f"an expiry date YYYY-MM-DD, the last day it applies (required, {ident}; {got})")
        if len(issues) != n_before or expires is None:
            continue
        out.append(Suppression(
            file=file, index=i, line=line, reason=entry["reason"].strip(), owner=entry["owner"].strip(),
            expires=expires, key=key, rule=rule, subject=entry.get("subject"), path=entry.get("path"),
        ))
    if issues:
        raise ConfigError(issues)
    return out


# ---------------------------------------------------------------------------------------------
# Inline ignores

# The directive's start only: its rules run to the first `]` after it, found with str.find. As one
# pattern (`[^\]]*\]`), a line of many `ssot: ignore[` and no `]` was rescanned to its end from
# each of them, which is quadratic in the line.
_INLINE = re.compile(r"ssot:\s*ignore\[")
_REASON = re.compile(r"""\A\s*reason\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""")
_COMMENT_MARKERS = ("#", "//", "--", "<!--", "/*")


@dataclass(frozen=True)
class InlineIgnore:
    line: int  # 1-based line of the comment
    rules: frozenset[str]
    reason: str | None


def parse_inline(text: str, line: int) -> InlineIgnore | None:
    """The `ssot: ignore[...]` directive in this line's comment, if any."""
    m = _INLINE.search(text)
    if not m:
        return None
    end = text.find("]", m.end())
    if end < 0 or not any(marker in text[:m.start()] for marker in _COMMENT_MARKERS):
        return None
    rules = frozenset(r.strip() for r in text[m.end():end].split(",") if r.strip())
    r = _REASON.match(text[end + 1:])
    reason = None
    if r:
        reason = (r.group("dq") if r.group("dq") is not None else r.group("sq")).strip() or None
    return InlineIgnore(line=line, rules=rules, reason=reason)


def _is_comment_only(text: str) -> bool:
    return text.lstrip().startswith(_COMMENT_MARKERS)


def inline_ignore_for(f: Finding, read_lines: LineReader,
                      memo: dict[tuple[str, int], tuple[InlineIgnore, ...]] | None = None) -> InlineIgnore | None:
    """The directive that covers this finding's line: on that line, or alone on the line above.

    `memo` keeps each line's directives: thousands of findings on one long line (a minified file)
    would otherwise each parse it again, which is quadratic in the line."""
    loc = f.location
    if not loc.path or not loc.line:
        return None
    found = memo.get((loc.path, loc.line)) if memo is not None else None
    if found is None:
        found = _directives(read_lines(loc.path), loc.line)
        if memo is not None:
            memo[(loc.path, loc.line)] = found
    return next((d for d in found if f.rule_id in d.rules), None)


def _directives(lines: Sequence[str] | None, line: int) -> tuple[InlineIgnore, ...]:
    if not lines or line > len(lines):
        return ()
    candidates = [(line, lines[line - 1])]
    if line >= 2 and _is_comment_only(lines[line - 2]):
        candidates.append((line - 1, lines[line - 2]))
    return tuple(d for n, text in candidates if (d := parse_inline(text, n)) is not None)


MAX_INLINE_READ_BYTES = 64 * 1024 * 1024


def file_reader(root: str | Path = ".") -> LineReader:
    """Lines of a file relative to `root`, read once and cached; None when it cannot be read.

    Read as the scan reads (ssot.safefile): a regular file, not through a symlink, bounded in size,
    decoded by its BOM; a file it cannot read that way simply has no inline ignores."""
    from ssot.safefile import NotRead, decode, read_bytes

    base = Path(root)
    cached: dict[str, Sequence[str] | None] = {}

    def read(path: str) -> Sequence[str] | None:
        if path not in cached:
            p = Path(path)
            try:
                data = read_bytes(p if p.is_absolute() else base / p, limit=MAX_INLINE_READ_BYTES)
                cached[path] = decode(data).splitlines()
            except NotRead:
                cached[path] = None
        return cached[path]

    return read


# ---------------------------------------------------------------------------------------------
# Baseline


def write_baseline(findings: Iterable[Finding], path: str | Path) -> int:
    """Write the keys (with rule id and subject, never a value) of these findings; returns the count.

    Sorted and without a timestamp, so the file is stable and diffs show only real changes.
    """
    entries = {f.key: {"key": f.key, "rule_id": f.rule_id, "subject": f.subject} for f in findings}
    doc = {"format": BASELINE_FORMAT, "version": BASELINE_VERSION,
           "findings": [entries[k] for k in sorted(entries)]}
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SsotError(f"{target}: cannot write the baseline ({exc.strerror or type(exc).__name__}); "
                        "expected a writable file path") from None
    return len(entries)


MAX_BASELINE_BYTES = 64 * 1024 * 1024


def load_baseline(path: str | Path) -> set[str]:
    from ssot.safefile import NotRead, read_bytes

    file = str(path)
    try:
        data = read_bytes(path, limit=MAX_BASELINE_BYTES, rel=file)
    except NotRead as exc:
        if not Path(path).exists():
            raise ConfigError.single(file, "", "an existing baseline file (not found; write one first)") from None
        raise ConfigError.single(file, "", f"a readable baseline file ({exc.reason})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError.single(file, "", "a UTF-8 baseline file") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError.single(file, "", f"valid JSON ({exc.msg})", exc.lineno) from None
    except RecursionError:
        raise ConfigError.single(file, "", "JSON nested as a baseline is (too deep)") from None
    except ValueError:
        # e.g. an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise ConfigError.single(file, "", "valid JSON as written by ssot (a number too long to read)") from None
    if not isinstance(doc, dict) or doc.get("format") != BASELINE_FORMAT:
        raise ConfigError.single(file, "format", f"a baseline written by ssot (format: {BASELINE_FORMAT!r})")
    if doc.get("version") != BASELINE_VERSION:
        got = doc.get("version")
        raise ConfigError.single(file, "version", f"baseline version {BASELINE_VERSION}; got {describe(got)}")
    items = doc.get("findings")
    if not isinstance(items, list):
        raise ConfigError.single(file, "findings", "a list of {key, rule_id, subject}")
    keys: set[str] = set()
    issues = []
    for i, item in enumerate(items):
        key = item.get("key") if isinstance(item, dict) else None
        if not (isinstance(key, str) and _KEY.match(key)):
            issues.append(ConfigIssue(file, f"findings[{i}].key",
                                      "a finding key like rule_id:0123456789abcdef"))
        else:
            keys.add(key)
    if issues:
        raise ConfigError(issues)
    return keys


def _suppress(f: Finding, by: str, info: dict[str, Any]) -> Finding:
    metadata = {**f.metadata, "suppression": {"by": by, **info}}
    return replace(f, suppressed_by=by, blocking=False, metadata=metadata)


def apply_baseline(findings: Iterable[Finding], path: str | Path) -> tuple[list[Finding], list[Finding]]:
    """(new findings, findings already in the baseline, marked suppressed_by="baseline")."""
    keys = load_baseline(path)
    new: list[Finding] = []
    known: list[Finding] = []
    for f in findings:
        if f.key in keys:
            known.append(_suppress(f, BY_BASELINE, {"reason": "in the baseline", "file": str(path)}))
        else:
            new.append(f)
    return new, known


# ---------------------------------------------------------------------------------------------
# Everything together


def apply(
    findings: Iterable[Finding],
    *,
    suppressions_file: str | Path | None = None,
    baseline_file: str | Path | None = None,
    root: str | Path = ".",
    today: date | None = None,
    read_lines: LineReader | None = None,
    inline: bool = True,
) -> tuple[list[Finding], list[Finding], list[str]]:
    """Split findings into (active, suppressed, warnings).

    `inline=False` (`--no-inline-ignores`): `ssot: ignore[...]` comments in the scanned files are not
    honoured. On a pull request the files are the change under review, and a change must not excuse
    itself; a directive found is noted on its finding, which stays active.

    `suppressions_file` None means the default `.ssot/suppressions.yaml` under `root`, if present;
    an explicit path must exist. `read_lines(path)` gives a file's lines (default: read under
    `root`, once per file).
    """
    root_path = Path(root)
    today = today or date.today()
    reader = read_lines or file_reader(root_path)
    warnings: list[str] = []
    all_findings = list(findings)

    entries: list[Suppression] = []
    if suppressions_file is not None:
        entries = load_suppressions(suppressions_file)
    elif (root_path / DEFAULT_SUPPRESSIONS).is_file():
        entries = load_suppressions(root_path / DEFAULT_SUPPRESSIONS, display=DEFAULT_SUPPRESSIONS)
    baseline = load_baseline(baseline_file) if baseline_file is not None else None

    active: list[Finding] = []
    suppressed: list[Finding] = []
    used: set[int] = set()
    seen_warnings: set[str] = set()

    def warn(text: str) -> None:
        if text not in seen_warnings:
            seen_warnings.add(text)
            warnings.append(text)

    # An entry by key can only match that key and one by rule only that rule's findings: looking
    # each finding up there, not in every entry, keeps a long file from being read once per finding.
    by_key: dict[str, list[Suppression]] = {}
    by_rule: dict[str | None, list[Suppression]] = {}
    for e in entries:
        if e.key:
            by_key.setdefault(e.key, []).append(e)
        else:
            by_rule.setdefault(e.rule, []).append(e)
    order = {id(e): n for n, e in enumerate(entries)}
    directives: dict[tuple[str, int], tuple[InlineIgnore, ...]] = {}
    for f in all_findings:
        candidates = by_key.get(f.key, []) + by_rule.get(f.rule_id, [])
        matching = sorted((e for e in candidates if e.matches(f, root_path)), key=lambda e: order[id(e)])
        used.update(e.index for e in matching)

        ignore = inline_ignore_for(f, reader, directives)
        if ignore and not inline:
            where = f"{f.location.path}:{ignore.line}"
            f = replace(f, explain=f.explain + f"\n\nNote: the inline ignore at {where} was not honoured: inline "
                        "ignores are off for this run (--no-inline-ignores; on a pull request, exceptions come "
                        "from the base branch's suppressions file).",
                        metadata={**f.metadata, "inline_ignore_not_honoured": where})
            ignore = None
        if ignore and ignore.reason:
            suppressed.append(_suppress(f, BY_INLINE, {"reason": ignore.reason, "path": f.location.path,
                                                        "line": ignore.line}))
            continue
        if ignore:
            where = f"{f.location.path}:{ignore.line}"
            warn(f"{where}: 'ssot: ignore[{f.rule_id}]' has no reason=\"...\", so it does not suppress "
                 f"{f.rule_id}; add a reason")
            note = f"\n\nNote: the inline ignore at {where} has no reason=\"...\" and does not suppress it."
            f = replace(f, explain=f.explain + note,
                        metadata={**f.metadata, "inline_ignore_without_reason": where})

        valid = [e for e in matching if not e.expired(today)]
        if valid:
            e = valid[0]
            suppressed.append(_suppress(f, BY_FILE, {
                "reason": e.reason, "owner": e.owner, "expires": e.expires.isoformat(),
                "file": e.file, "entry": e.index, "line": e.line}))
            continue
        if matching:
            e = matching[0]
            also = (" The baseline also lists it, but an expired exception wins over the baseline."
                    if baseline is not None and f.key in baseline else "")
            f = replace(f, explain=f.explain + f"\n\nNote: its suppression ({e.where}) expired on "
                        f"{e.expires.isoformat()} (owner: {e.owner}); fix the finding or renew the entry.{also}",
                        metadata={**f.metadata, "suppression_expired": {
                            "expires": e.expires.isoformat(), "owner": e.owner, "reason": e.reason,
                            "file": e.file, "entry": e.index}})
            # An expired exception is a decision that ran out; a baseline must not silently renew it.
            active.append(f)
            continue

        if baseline is not None and f.key in baseline:
            info = {"reason": "in the baseline", "file": str(baseline_file)}
            suppressed.append(_suppress(f, BY_BASELINE, info))
            continue
        active.append(f)

    for e in entries:
        if e.index not in used:
            also = f"; it also expired on {e.expires.isoformat()}" if e.expired(today) else ""
            warn(f"{e.where} ({e.describe()}) matches no finding (stale){also}; remove it")
    if baseline is not None:
        gone = baseline - {f.key for f in all_findings}
        if gone:
            warn(f"{baseline_file}: {len(gone)} baseline entr{'y' if len(gone) == 1 else 'ies'} no longer "
                 "match any finding (fixed?); rewrite the baseline to lock the improvement in")
    return active, suppressed, warnings
