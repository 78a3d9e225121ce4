"""Plain repository files: secret literals in any text file, crontab-style schedules, and pg_cron
jobs scheduled from SQL migrations.

- every text file goes through the detectors → SECRET_LITERAL (context "file"; "stack-config" for
  Pulumi stack files, stored as STACK_CONFIG; "cron-command" for a literal inside `cron.schedule(...)`);
- `crontab`, `*.crontab`, `*.cron`, files in a `cron.d/` directory and systemd `.timer` units
  → SCHEDULE (store CRONTAB): work scheduled outside pg_cron/n8n;
- `cron.schedule('name', 'schedule', $$command$$)` in `.sql` files → CRON_JOB (scheduler pg_cron),
  with the command scrubbed of secret literals;
- what `.sql` files grant to the data API's roles (anon, authenticated, PUBLIC) → GRANT and
  DEFAULT_PRIVILEGE (see `sql_grants`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from ssot.detectors import scan_text
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.sources._repo import RepoFile, SecretNamer, read_text, scrub, secret_asset
from ssot.sources.sql_grants import sql_grants

_STACK_FILE = re.compile(r"(^|/)Pulumi\.[^/]+\.ya?ml\Z")
_JUSTIFIED = re.compile(r"ssot:\s*justified\b")
_REASON_KEY = re.compile(r"\breason=")
_REASON_VALUE = re.compile(r"(\"[^\"]+\"|'[^']+'|\S+)")
_CRON_FIELD = r"[\d*/,\-A-Za-z?LW#]+"
# The command is matched greedily and stripped after: a lazy `(.+?)\s*` before the end retried the end of the
# line at every character, quadratic in a line of spaces.
_CRON_LINE = re.compile(rf"^\s*((?:{_CRON_FIELD}\s+){{4}}{_CRON_FIELD})\s+(\S.*)")
_CRON_MACRO = re.compile(
    r"^\s*(@(?:reboot|yearly|annually|monthly|weekly|daily|midnight|hourly))\s+(\S.*)")
_ENV_ASSIGN = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*=")


def is_stack_file(rel: str) -> bool:
    return bool(_STACK_FILE.search(rel))


def is_crontab(rel: str) -> bool:
    p = PurePosixPath(rel)
    return (p.name == "crontab" or p.suffix in (".cron", ".crontab") or p.parent.name == "cron.d"
            or p.suffix == ".timer")


def justification(text: str) -> str | None:
    """The reason of the first `ssot: justified ... reason=...` comment (the reason on its line).

    Only the first marker of a line is tried: a later one on the same line cannot have a reason
    the first lacks, and trying each (a lazy `.*?` per marker) was quadratic in a long line.
    """
    pos = 0
    while m := _JUSTIFIED.search(text, pos):
        eol = text.find("\n", m.end())
        eol = len(text) if eol == -1 else eol
        key = _REASON_KEY.search(text, m.end(), eol)
        while key:
            value = _REASON_VALUE.match(text, key.end())
            if value:
                return value.group(1).strip("\"'")
            key = _REASON_KEY.search(text, key.end(), eol)
        pos = eol
    return None


def crontab_schedules(text: str, rel: str) -> list[Asset]:
    """One SCHEDULE per crontab entry; `cron.d` files carry a user field before the command."""
    p = PurePosixPath(rel)
    has_user = p.parent.name == "cron.d"
    reason = justification(text)
    out: list[Asset] = []
    if p.suffix == ".timer":
        return _timer_schedules(text, rel, reason)
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or _ENV_ASSIGN.match(stripped):
            continue
        m = _CRON_MACRO.match(line) or _CRON_LINE.match(line)
        if not m:
            continue
        schedule, rest = m.group(1), m.group(2).rstrip()
        user = None
        if has_user:
            user, _, rest = rest.partition(" ")
            rest = rest.strip()
        base = f"{rel}:{schedule}"
        seen[base] = seen.get(base, 0) + 1
        out.append(Asset(
            kind=Kind.SCHEDULE, store=Store.CRONTAB,
            name=base if seen[base] == 1 else f"{base}#{seen[base]}", phase=Phase.STATIC,
            location=Location(path=rel, line=lineno),
            props={"schedule": schedule, "scheduler": "cron", "command": scrub(rest, rel),
                   "user": user, "justified": reason is not None, "justification": reason},
        ))
    return out


def _timer_schedules(text: str, rel: str, reason: str | None) -> list[Asset]:
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        key, sep, value = line.partition("=")
        if sep and key.strip() in ("OnCalendar", "OnBootSec", "OnUnitActiveSec", "OnActiveSec"):
            unit = PurePosixPath(rel).stem + ".service"
            out.append(Asset(
                kind=Kind.SCHEDULE, store=Store.CRONTAB, name=f"{rel}:{key.strip()}={value.strip()}",
                phase=Phase.STATIC, location=Location(path=rel, line=lineno),
                props={"schedule": value.strip(), "scheduler": "systemd-timer", "command": unit,
                       "user": None, "justified": reason is not None, "justification": reason},
            ))
    return out


# --- pg_cron jobs scheduled from SQL ------------------------------------------------------------

_CRON_CALL = re.compile(r"\bcron\s*\.\s*schedule(?:_in_database)?\s*\(", re.IGNORECASE)


_TOKEN = re.compile(r"[()']|\$[A-Za-z_]*\$")


def _scan_call(text: str, start: int, limit: int) -> tuple[int, list[str]]:
    """From just after a call's `(`: the offset just past its closing `)`, and its first three SQL
    string literals ('...' with '' escapes, $tag$...$tag$).

    Never past `limit` (the next call's start): a call that has not closed by then ends there, and a
    string still open there ends there too. Each scan covers only the text up to the next call, so
    parsing a file is linear however its calls are nested or left open (scanning every call to the
    end of the file made 84 KB of `select cron.schedule(` take 50 s).
    """
    depth = 1
    pos = start
    strings: list[str] = []
    while True:
        t = _TOKEN.search(text, pos, limit)
        if t is None:
            return limit, strings
        tok = t.group()
        if tok == "(":
            depth += 1
            pos = t.end()
            continue
        if tok == ")":
            depth -= 1
            pos = t.end()
            if depth == 0:
                return pos, strings
            continue
        if tok == "'":
            close = t.end()
            while True:
                close = text.find("'", close, limit)
                if close == -1 or text[close + 1:close + 2] != "'" or close + 1 >= limit:
                    break
                close += 2
            value = text[t.end():limit if close == -1 else close].replace("''", "'")
            end = limit if close == -1 else close + 1
        else:
            close = text.find(tok, t.end(), limit)
            value = text[t.end():limit if close == -1 else close]
            end = limit if close == -1 else close + len(tok)
        if len(strings) < 3:
            strings.append(value)
        if close == -1:
            return limit, strings
        pos = end


class _Lines:
    """1-based line of an offset, by binary search over the line breaks: linear overall, where
    counting from the start of the text at every match was quadratic."""

    def __init__(self, text: str) -> None:
        self.breaks = [m.start() for m in re.finditer("\n", text)]

    def __call__(self, offset: int) -> int:
        return bisect.bisect_left(self.breaks, offset) + 1


def sql_cron_jobs(text: str, rel: str) -> tuple[list[Asset], set[int]]:
    """CRON_JOB assets for `cron.schedule(...)` calls, and the lines those calls span."""
    jobs: list[Asset] = []
    lines: set[int] = set()
    line_of = _Lines(text)
    calls = list(_CRON_CALL.finditer(text))
    for i, call in enumerate(calls):
        limit = calls[i + 1].start() if i + 1 < len(calls) else len(text)
        end, args = _scan_call(text, call.end(), limit)
        first = line_of(call.start())
        last = line_of(end)
        lines.update(range(first, last + 1))
        if len(args) >= 3:
            name, schedule, command = args[0], args[1], args[2]
        elif len(args) == 2:
            name, schedule, command = f"{rel}:{first}", args[0], args[1]
        else:
            continue
        secret_types = sorted({m.secret_type for m in scan_text(command, rel)})
        jobs.append(Asset(
            kind=Kind.CRON_JOB, store=Store.POSTGRES, name=name, phase=Phase.STATIC,
            location=Location(path=rel, line=first),
            props={"schedule": schedule, "command": scrub(command, rel), "database": None,
                   "username": None, "active": True, "scheduler": "pg_cron",
                   "command_secret_types": secret_types},
        ))
    return jobs, lines


_CREATE_TABLE = re.compile(
    r"\bcreate\s+(?:(?:global\s+|local\s+)?(?:temporary|temp|unlogged)\s+)?table\s+(?:if\s+not\s+exists\s+)?"
    r"(?:\"?([A-Za-z_][A-Za-z0-9_]*)\"?\s*\.\s*)?\"?([A-Za-z_][A-Za-z0-9_]*)\"?\s*\(",
    re.IGNORECASE)
_COLUMN = re.compile(r"^\s*\"?([A-Za-z_][A-Za-z0-9_]*)\"?\s+[A-Za-z]", re.MULTILINE)
_CONSTRAINT_WORDS = frozenset({"constraint", "primary", "foreign", "unique", "check", "exclude", "like"})


def sql_tables(text: str, rel: str) -> list[Asset]:
    """TABLE assets for `create table` statements in SQL migrations (the ownership rule reads them).

    The schema's doctrine domain is not known from SQL alone; the scan fills it in from the stack
    files' schema declarations.
    """
    out: list[Asset] = []
    line_of = _Lines(text)
    tables = list(_CREATE_TABLE.finditer(text))
    for i, m in enumerate(tables):
        schema = (m.group(1) or "public").lower()
        table = m.group(2).lower()
        limit = tables[i + 1].start() if i + 1 < len(tables) else len(text)
        end, _ = _scan_call(text, m.end(), limit)
        body = text[m.end():end]
        columns = [c.lower() for c in _COLUMN.findall(body.replace(",", ",\n"))
                   if c.lower() not in _CONSTRAINT_WORDS]
        out.append(Asset(
            kind=Kind.TABLE, store=Store.POSTGRES, name=f"{schema}.{table}", phase=Phase.STATIC,
            location=Location(path=rel, line=line_of(m.start())),
            props={"schema": schema, "table": table, "domain": None, "columns": columns},
        ))
    return out


# --- the scanner --------------------------------------------------------------------------------


def scan_files(files: Iterable[RepoFile], namer: SecretNamer | None = None) -> list[Asset]:
    """Secret literals, crontab schedules and SQL cron jobs in the given (plain) files."""
    namer = namer or SecretNamer()
    out: list[Asset] = []
    for f in files:
        text = read_text(f)
        if text is None:
            continue
        context, store = "file", Store.REPOSITORY
        if is_stack_file(f.rel):
            context, store = "stack-config", Store.STACK_CONFIG
        cron_lines: set[int] = set()
        if f.rel.lower().endswith(".sql"):
            jobs, cron_lines = sql_cron_jobs(text, f.rel)
            out.extend(jobs)
            out.extend(sql_tables(text, f.rel))
            out.extend(sql_grants(text, f.rel))
        if is_crontab(f.rel):
            out.extend(crontab_schedules(text, f.rel))
            cron_lines = set(range(1, text.count("\n") + 2))
        for m in scan_text(text, f.rel):
            ctx = "cron-command" if m.line in cron_lines else context
            out.append(secret_asset(m, f.rel, ctx, store, namer.name(store, f.rel, m.secret_type)))
    return out
