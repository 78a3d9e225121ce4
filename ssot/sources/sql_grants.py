"""GRANT, REVOKE and ALTER DEFAULT PRIVILEGES in SQL migrations, for the roles Supabase's data API serves.

`anon`, `authenticated` and `PUBLIC` are what PostgREST answers the internet as, so what a migration
grants them on the doctrine's schemas is checked by `exposed_role_grant` before the migration runs.
Statements are read in file order: a REVOKE later in the same file takes back what a GRANT gave, so
a migration that grants and revokes leaves nothing. Each surviving grant becomes one GRANT or
DEFAULT_PRIVILEGE asset, with the inventory's conventions (name `role:object_type:schema[.objects]`).

Linear time, whatever the input: statements are found by one forward search, each is cut at its
`;` (and at most `_MAX_STATEMENT` characters), and the search resumes after it, so no character is
read more than a bounded number of times; a statement is tokenised once by one regex without
nested quantifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ssot.inventory import Asset, Kind, Location, Phase, Store

EXPOSED_ROLES = frozenset({"anon", "authenticated", "public"})
_MAX_STATEMENT = 20_000
_LOOK_BACK = 200  # how far back on a line a `--` comment is looked for

_START = re.compile(r"\b(?:grant|revoke|alter\s+default\s+privileges)\b", re.IGNORECASE)
_TOKEN = re.compile(r"\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_$]*|[(),.;]")
_OBJECT_WORDS = {"tables": "table", "sequences": "sequence", "functions": "function", "routines": "function",
                 "procedures": "function"}


def _tokens(stmt: str) -> list[str]:
    out = []
    for t in _TOKEN.findall(stmt):
        if t.startswith("'"):
            continue  # a string literal is never a name here
        out.append(t[1:-1].replace('""', '"') if t.startswith('"') else t.lower())
    return out


def _split(tokens: list[str], stop: set[str]) -> tuple[list[str], list[str]]:
    """Tokens up to the first `stop` word outside parentheses, and the rest (starting with it)."""
    depth = 0
    for i, t in enumerate(tokens):
        if t == "(":
            depth += 1
        elif t == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and t in stop:
            return tokens[:i], tokens[i:]
    return tokens, []


def _names(tokens: list[str]) -> list[str]:
    """Comma-separated (possibly qualified) names, parenthesised parts dropped."""
    out, cur, depth = [], "", 0
    for t in tokens:
        if t == "(":
            depth += 1
        elif t == ")":
            depth = max(0, depth - 1)
        elif depth:
            continue
        elif t == ",":
            if cur:
                out.append(cur)
            cur = ""
        elif t == ".":
            cur += "."
        else:
            cur += t
    if cur:
        out.append(cur)
    return out


def _privileges(tokens: list[str]) -> set[str]:
    words = [t.upper() for t in _names(tokens)]
    return {"ALL" if w in ("ALL", "ALLPRIVILEGES") else w for w in words}


def _roles(tokens: list[str]) -> list[str]:
    return [r.lower() for r in _names([t for t in tokens if t != "group"]) if r.lower() in EXPOSED_ROLES]


def _target(tokens: list[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(object type, schema, objects) for each schema or object a GRANT's ON clause names."""
    if not tokens:
        return []
    head = tokens[0]
    if head == "all" and len(tokens) > 4 and tokens[1] in _OBJECT_WORDS and tokens[2:4] == ["in", "schema"]:
        return [(_OBJECT_WORDS[tokens[1]], s, ("*",)) for s in _names(tokens[4:])]
    if head == "schema":
        return [("schema", s, ()) for s in _names(tokens[1:])]
    if head in ("table", "sequence", "function", "procedure", "routine"):
        obj_type, rest = ("function" if head in ("procedure", "routine") else head), tokens[1:]
    elif head in ("database", "foreign", "language", "large", "tablespace", "type", "domain", "parameter"):
        return []
    else:
        obj_type, rest = "table", tokens
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for name in _names(rest):
        schema, _, obj = name.rpartition(".")
        out.append((obj_type, schema or "public", (obj,)))
    return out


@dataclass
class _Grant:
    kind: Kind
    role: str
    object_type: str
    schema: str
    objects: tuple[str, ...]
    owner: str | None
    line: int
    privileges: set[str]


def _statements(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    pos, line, counted = 0, 1, 0
    while True:
        m = _START.search(text, pos)
        if not m:
            return out
        start = m.start()
        back = text.rfind("\n", max(0, start - _LOOK_BACK), start) + 1 or max(0, start - _LOOK_BACK)
        if "--" in text[back:start]:
            pos = m.end()
            continue
        end = text.find(";", m.end(), m.start() + _MAX_STATEMENT)
        end = end if end != -1 else min(len(text), m.start() + _MAX_STATEMENT)
        line += text.count("\n", counted, start)
        counted = start
        out.append((line, text[start:end]))
        pos = max(end, m.end())


def sql_grants(text: str, rel: str) -> list[Asset]:
    """GRANT and DEFAULT_PRIVILEGE assets for what a migration leaves granted to anon, authenticated or
    PUBLIC on a schema or its objects."""
    if not _START.search(text):
        return []
    state: dict[tuple[Kind, str, str, str, tuple[str, ...], str | None], _Grant] = {}
    for line, stmt in _statements(text):
        tokens = _tokens(stmt)
        kind, owner, schemas = Kind.GRANT, None, None
        if tokens[:3] == ["alter", "default", "privileges"]:
            kind, tokens = Kind.DEFAULT_PRIVILEGE, tokens[3:]
            if tokens[:2] in (["for", "role"], ["for", "user"]):
                names, tokens = _split(tokens[2:], {"in", "grant", "revoke"})
                owners = _names(names)
                owner = owners[0] if owners else None
            if tokens[:2] == ["in", "schema"]:
                names, tokens = _split(tokens[2:], {"grant", "revoke"})
                schemas = _names(names)
            if not schemas:
                continue  # without IN SCHEMA it covers every schema: no doctrine schema in particular
        if not tokens or tokens[0] not in ("grant", "revoke"):
            continue
        revoke = tokens[0] == "revoke"
        body = tokens[1:]
        if revoke and body[:3] == ["grant", "option", "for"]:
            continue  # takes back the right to re-grant, not the privilege
        privs, rest = _split(body, {"on"})
        if not rest:
            continue  # role membership (`grant role_a to role_b`), not a privilege
        target, rest = _split(rest[1:], {"from" if revoke else "to"})
        roles = _roles(_split(rest[1:], {"with", "granted", "cascade", "restrict"})[0]) if rest else []
        if not roles:
            continue
        targets: list[tuple[str, str, tuple[str, ...]]]
        if kind is Kind.DEFAULT_PRIVILEGE:
            word = target[0] if target else ""
            targets = [(_OBJECT_WORDS[word], s, ("*",)) for s in schemas or []] if word in _OBJECT_WORDS else []
        else:
            targets = _target(target)
        privileges = _privileges(privs)
        for role in roles:
            for obj_type, schema, objects in targets:
                key = (kind, role, obj_type, schema.lower(), objects, owner)
                if revoke:
                    if key in state:
                        held = state[key].privileges
                        held -= privileges if "ALL" not in privileges else set(held)
                    continue
                g = state.setdefault(key, _Grant(kind, role, obj_type, schema.lower(), objects, owner, line, set()))
                g.privileges |= privileges
    out = []
    for g in state.values():
        if not g.privileges:
            continue
        suffix = "" if g.objects in ((), ("*",)) else "." + ",".join(g.objects)
        props = {"role": g.role, "role_kind": None, "schema": g.schema, "object_type": g.object_type,
                 "objects": list(g.objects) or ["*"], "privileges": sorted(g.privileges), "domain": None}
        if g.kind is Kind.DEFAULT_PRIVILEGE:
            props["owner"] = g.owner
        out.append(Asset(g.kind, Store.POSTGRES, f"{g.role}:{g.object_type}:{g.schema}{suffix}", Phase.STATIC,
                         Location(path=rel, line=g.line), props=props))
    return out
