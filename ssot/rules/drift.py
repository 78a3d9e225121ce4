"""Drift: the declared platform against the live one (driftctl's vocabulary).

For schemas, roles, grants, default privileges, Vault secrets, pg_cron jobs and Edge Function
secrets, over an inventory holding both phases (`ssot audit` builds it; only the kinds a live
source actually read are compared, so "not read" never reads as "missing"):

- **missing**: declared, not live;
- **changed**: both, with properties that differ (from and to; a secret's value only as
  "fingerprint differs", and only when both sides have a fingerprint under the same key);
- **unmanaged**: live, not declared, inside what the platform owns: schemas and roles that are not
  Supabase's own, grants and default privileges on a declared schema or to a declared role, every
  Vault secret, pg_cron job and Edge Function secret (except Supabase's `SUPABASE_*` defaults).

The auditor's own access (`audits/postgres/auditor.sql`: schema `ssot_audit`, its USAGE on `vault`)
is the audit's, not drift. Findings are LIVE-phase; CrossGuard has no live data, so its policy for
this rule never fires there (the rule runs only when the inventory has the live phase).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Kind, Location, Phase
from ssot.model import GRANT_OBJECTS
from ssot.rules import Rule
from ssot.rules._common import PLATFORM_CONFIG, indent, safe_token, sql_ident, sql_literal, to_yaml

KINDS = (Kind.SCHEMA, Kind.ROLE, Kind.GRANT, Kind.DEFAULT_PRIVILEGE, Kind.VAULT_SECRET, Kind.CRON_JOB,
         Kind.EDGE_SECRET)
AUDIT_SCHEMA = "ssot_audit"
FINGERPRINT_KEY_SECRET = "ssot_fingerprint_key"
_LABEL = {Kind.SCHEMA: "schema", Kind.ROLE: "role", Kind.GRANT: "grant", Kind.DEFAULT_PRIVILEGE: "default privileges",
          Kind.VAULT_SECRET: "Vault secret", Kind.CRON_JOB: "pg_cron job", Kind.EDGE_SECRET: "Edge Function secret"}
# Per kind, the properties compared: (prop, how it is shown).
_PROPS: dict[Kind, tuple[str, ...]] = {
    Kind.SCHEMA: ("owner",),
    Kind.ROLE: ("login", "member_of"),
    Kind.GRANT: ("privileges",),
    Kind.DEFAULT_PRIVILEGE: ("privileges",),
    Kind.VAULT_SECRET: ("description", "fingerprint"),
    Kind.CRON_JOB: ("schedule", "command", "active", "database", "username"),
    Kind.EDGE_SECRET: ("fingerprint", "digest_fingerprint"),
}
_SET_PROPS = frozenset({"member_of", "privileges"})
# A value, as keyed fingerprints: of the value, or (Edge Function secrets, which Supabase reports only
# as a SHA-256) of its digest.
_VALUE_PROPS = frozenset({"fingerprint", "digest_fingerprint"})


def _key(a: Asset) -> tuple[Kind, str, str]:
    owner = str(a.props.get("owner") or "") if a.kind == Kind.DEFAULT_PRIVILEGE else ""
    return (a.kind, a.name, owner)


def _subject(verdict: str, a: Asset) -> str:
    owner = f"@{a.props.get('owner')}" if a.kind == Kind.DEFAULT_PRIVILEGE else ""
    return f"{verdict}:{a.store.value}:{a.kind.value}:{a.name}{owner}"


def _value(a: Asset, prop: str) -> Any:
    if prop == "fingerprint":
        return a.fingerprint
    v = a.props.get(prop)
    if prop == "digest_fingerprint":
        return v if isinstance(v, str) else None
    if prop in _SET_PROPS:
        return sorted(str(x) for x in v or [])
    return v


def _withheld(a: Asset) -> bool:
    return bool(a.props.get("command_secret_types")) or str(a.props.get("command") or "").startswith(
        "<command withheld")


def _changes(d: Asset, live: Asset) -> list[tuple[str, Any, Any]]:
    out = []
    for prop in _PROPS[d.kind]:
        want, got = _value(d, prop), _value(live, prop)
        if prop in _VALUE_PROPS and (want is None or got is None):
            continue  # not comparable (no value recorded, or a different key): never a silent "same"
        if prop in ("owner", "database", "username", "description") and want in (None, ""):
            continue  # not declared: whatever runs is fine
        if prop == "command":
            want, got = " ".join(str(want or "").split()), " ".join(str(got or "").split())
        if prop == "privileges" and "ALL" in want:
            # ALL is every privilege of the object type; the catalog lists them one by one (PostgreSQL
            # 17 adds MAINTAIN on tables, so "all of them" is checked as "at least the classic set").
            every = GRANT_OBJECTS.get(str(d.props.get("object_type")), frozenset())
            want = sorted(set(got) | every) if set(got) >= every else sorted(every)
        if prop == "active" and want is None:
            want = True
        if want != got:
            out.append((prop, want, got))
    return out


def _show(a: Asset, prop: str, v: Any) -> str:
    if prop in _VALUE_PROPS:
        return "<fingerprint>"
    if prop == "command" and _withheld(a):
        return "<withheld>"
    if prop == "description":
        return "<description>"  # free text a person typed: never rendered (it is where pastes land)
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return repr(v) if isinstance(v, str) else str(v)


def _change_text(d: Asset, live: Asset, changes: list[tuple[str, Any, Any]]) -> str:
    parts = []
    for prop, want, got in changes:
        if prop in _VALUE_PROPS:
            if "value: fingerprint differs" not in parts:
                parts.append("value: fingerprint differs")
        elif prop in ("command", "description"):
            parts.append(f"{prop}: differs")
        else:
            parts.append(f"{prop}: {_show(d, prop, want)} -> {_show(live, prop, got)}")
    return "; ".join(parts)


def _owned(a: Asset, declared_schemas: set[str], declared_roles: set[str], auditors: set[str]) -> bool:
    """Whether a live asset lies inside what the platform owns (so not being declared is drift)."""
    p = a.props
    if a.kind == Kind.SCHEMA:
        return not p.get("supabase_builtin")
    if a.kind == Kind.ROLE:
        return (not p.get("supabase_builtin") and not p.get("pseudo") and not a.name.startswith("pg_")
                and a.name not in auditors)
    if a.kind in (Kind.GRANT, Kind.DEFAULT_PRIVILEGE):
        schema, role = str(p.get("schema")), str(p.get("role"))
        if schema == AUDIT_SCHEMA or (role in auditors and schema in ("vault", "cron")):
            return False  # the auditor's own access (audits/postgres/auditor.sql)
        return schema in declared_schemas or role in declared_roles
    if a.kind == Kind.VAULT_SECRET:
        return not p.get("fingerprint_key") and a.name != FINGERPRINT_KEY_SECRET
    if a.kind == Kind.EDGE_SECRET:
        return not a.name.startswith("SUPABASE_")
    return a.kind == Kind.CRON_JOB


def _where(d: Asset) -> str:
    return d.location.describe()


def _adopt_snippet(a: Asset) -> str | None:
    p = a.props
    if a.kind == Kind.SCHEMA:
        frag: dict[str, Any] = {"schemas": [{"name": a.name, "domain": "<ops|ai|audit|analytics|shadow>"}]}
    elif a.kind == Kind.ROLE:
        frag = {"roles": [{"name": a.name, "kind": "<agent|automation|auditor|service>",
                           "login": bool(p.get("login"))}]}
    elif a.kind in (Kind.GRANT, Kind.DEFAULT_PRIVILEGE):
        item: dict[str, Any] = {"role": p.get("role"), "schema": p.get("schema"), "on": p.get("object_type"),
                                "privileges": list(p.get("privileges") or [])}
        if a.kind == Kind.DEFAULT_PRIVILEGE:
            item["owner"] = p.get("owner")
        elif p.get("objects") and p.get("objects") != ["*"]:
            item["objects"] = list(p.get("objects") or [])
        frag = {"grants" if a.kind == Kind.GRANT else "defaultPrivileges": [item]}
    elif a.kind == Kind.VAULT_SECRET:
        frag = {"vault": {"secrets": [{"name": a.name, "category": "<category>", "value": {"managedOutside": {
            "owner": "<who rotates it>", "reason": "<why it is managed outside the stack>"}}}]}}
    elif a.kind == Kind.CRON_JOB:
        # The live command is free text someone typed (where credentials land): never rendered.
        jobid = p.get("jobid")
        frag = {"cron": {"jobs": [{"name": a.name, "schedule": p.get("schedule"),
                                   "command": f"<its command: SELECT command FROM cron.job WHERE jobid = {jobid}>"
                                   if isinstance(jobid, int) else "<its command, from cron.job>"}]}}
    elif a.kind == Kind.EDGE_SECRET:
        frag = {"edgeFunctions": {"secrets": [{"name": a.name, "category": "<category>",
                                               "value": {"secret": "<configKey>"},
                                               "runtimeOnly": "<why only the function may read it>"}]}}
    else:
        return None
    return to_yaml(frag)


def _remove_sql(a: Asset) -> str | None:
    p = a.props
    if a.kind == Kind.SCHEMA:
        return f"DROP SCHEMA {sql_ident(a.name)};  -- RESTRICT: fails if it still holds objects"
    if a.kind == Kind.ROLE:
        return f"DROP ROLE {sql_ident(a.name)};"
    if a.kind in (Kind.GRANT, Kind.DEFAULT_PRIVILEGE):
        role = "PUBLIC" if p.get("role") == "PUBLIC" else sql_ident(str(p.get("role")))
        privs = ", ".join(safe_token(x, r"[A-Z ]{1,20}") or "ALL" for x in p.get("privileges") or []) or "ALL"
        obj_type, schema = str(p.get("object_type")), str(p.get("schema"))
        plural = {"table": "TABLES", "sequence": "SEQUENCES", "function": "FUNCTIONS"}.get(obj_type)
        if a.kind == Kind.DEFAULT_PRIVILEGE:
            if plural is None:
                return None
            in_schema = f" IN SCHEMA {sql_ident(schema)}" if schema else ""
            return (f"ALTER DEFAULT PRIVILEGES FOR ROLE {sql_ident(str(p.get('owner')))}{in_schema} "
                    f"REVOKE {privs} ON {plural} FROM {role};")
        objects = list(p.get("objects") or ["*"])
        if obj_type == "schema":
            return f"REVOKE {privs} ON SCHEMA {sql_ident(schema)} FROM {role};"
        if objects == ["*"] and plural:
            return f"REVOKE {privs} ON ALL {plural} IN SCHEMA {sql_ident(schema)} FROM {role};"
        if obj_type == "function":
            return None  # a signature is not an identifier; revoke it by hand from \\df output
        return f"REVOKE {privs} ON {obj_type.upper()} {sql_ident(schema, objects[0])} FROM {role};"
    if a.kind == Kind.VAULT_SECRET and p.get("id"):
        return f"DELETE FROM vault.secrets WHERE id = {sql_literal(str(p.get('id')))}::uuid;"
    if a.kind == Kind.CRON_JOB:
        return f"SELECT cron.unschedule({sql_literal(a.name)});"
    return None


def _base(obj: str) -> str:
    return obj.split("(", 1)[0]


def _live_grant_for(d: Asset, live: dict[tuple[Kind, str, str], Asset],
                    by_object: dict[tuple[str, str, str, str], Asset]) -> Asset | None:
    """A declared grant on named objects is live when that object's grant, or the grant on all
    objects of its type in the schema (the live side's normalisation), gives what it declares."""
    p = d.props
    objects = [str(o) for o in p.get("objects") or ["*"]]
    if objects == ["*"]:
        return None
    role, typ, schema = str(p.get("role")), str(p.get("object_type")), str(p.get("schema"))
    every = live.get((Kind.GRANT, f"{role}:{typ}:{schema}", ""))
    got: set[str] = set(every.props.get("privileges") or []) if every else set()
    found = every is not None
    for o in objects:
        one = by_object.get((role, typ, schema, _base(o)))
        if one is not None:
            got |= set(one.props.get("privileges") or [])
            found = True
    if not found:
        return None
    return Asset(Kind.GRANT, d.store, d.name, Phase.LIVE, (every or d).location, {**p, "privileges": sorted(got)})


def check(inv: Inventory) -> Iterator[Finding]:
    declared = {_key(a): a for a in inv.of(*KINDS) if a.phase == Phase.DECLARED
                # An empty privilege list declares a revocation: nothing to find live.
                and not (a.kind in (Kind.GRANT, Kind.DEFAULT_PRIVILEGE) and not a.props.get("privileges"))}
    live = {_key(a): a for a in inv.of(*KINDS) if a.phase == Phase.LIVE}
    by_object = {(str(a.props.get("role")), str(a.props.get("object_type")), str(a.props.get("schema")),
                  _base(str((a.props.get("objects") or ["*"])[0]))): a
                 for a in inv.of(Kind.GRANT) if a.phase == Phase.LIVE and a.props.get("objects") != ["*"]}
    matched: set[tuple[Kind, str, str]] = set()
    declared_schemas = {a.name for a in declared.values() if a.kind == Kind.SCHEMA}
    declared_roles = {a.name for a in declared.values() if a.kind == Kind.ROLE}
    auditors = {a.name for a in inv.of(Kind.ROLE) if a.props.get("role_kind") == "auditor"}
    empty_types = {(a.name, t) for a in inv.of(Kind.SCHEMA) if a.phase == Phase.LIVE
                   for t, n in (a.props.get("object_counts") or {}).items() if n == 0}
    for k, d in declared.items():
        got = live.get(k)
        if got is None and d.kind == Kind.GRANT:
            got = _live_grant_for(d, live, by_object)
            if got is not None:
                matched.add((Kind.GRANT, f"{d.props.get('role')}:{d.props.get('object_type')}:{d.props.get('schema')}",
                             ""))
                matched.update(_key(a) for a in by_object.values() if a.props.get("role") == d.props.get("role")
                               and a.props.get("schema") == d.props.get("schema")
                               and _base(str(a.props["objects"][0])) in {_base(str(o)) for o in d.props["objects"]})
        what = _LABEL[d.kind]
        if got is None:
            if d.kind == Kind.GRANT and d.props.get("objects") == ["*"] and \
                    (d.props.get("schema"), d.props.get("object_type")) in empty_types:
                continue  # a grant on all tables of a schema with none: nothing to see yet
            yield RULE.finding(
                subject=_subject("missing", d), phase=Phase.LIVE, location=d.location,
                explain=f"missing: {what} '{d.name}' is declared ({_where(d)}) but does not exist on the live "
                        "platform.",
                propose=("`pulumi refresh` (so the state knows it is gone), then `pulumi up` recreates it. If it "
                         f"was removed on purpose, delete its declaration in {PLATFORM_CONFIG} ({_where(d)})."),
                metadata={"drift": "missing", "drift_kind": "missing", "kind": d.kind.value, "name": d.name})
            continue
        changes = _changes(d, got)
        if not changes:
            continue
        secret_value = any(p in _VALUE_PROPS for p, _w, _g in changes)
        loc = Location(path=d.location.path, line=d.location.line, urn=d.location.urn, object=got.location.object)
        propose = ("`pulumi refresh` records what runs now; `pulumi up` then puts back what is declared "
                   f"({_where(d)}). If what runs is right, change the declaration to match and run `pulumi up`.")
        if secret_value:
            propose += (" For a value changed out of band: if it was a rotation, set the new value where the "
                        "stack reads it (`pulumi config set --secret <key>`, or the secret's owner) and run "
                        "`pulumi up`; otherwise `pulumi up` restores the declared value.")
        yield RULE.finding(
            subject=_subject("changed", d), phase=Phase.LIVE, location=loc,
            explain=f"changed: {what} '{d.name}' differs from its declaration: {_change_text(d, got, changes)}.",
            propose=propose,
            metadata={"drift": "changed", "drift_kind": "changed", "kind": d.kind.value, "name": d.name,
                      "changed": [p for p, _w, _g in changes]})
    for k, a in live.items():
        if k in declared or k in matched or not _owned(a, declared_schemas, declared_roles, auditors):
            continue
        what = _LABEL[a.kind]
        snippet, remove = _adopt_snippet(a), _remove_sql(a)
        options = []
        if snippet:
            options.append(f"To adopt it, declare it ({PLATFORM_CONFIG}) and run `pulumi up` (Vault and cron "
                           "resources adopt an existing object by name):\n" + indent(snippet))
        if remove:
            options.append("To remove it (after checking nothing depends on it):\n" + indent(remove))
        if not options:
            options.append(f"Declare it in {PLATFORM_CONFIG} or remove it from the live platform.")
        yield RULE.finding(
            subject=_subject("unmanaged", a), phase=Phase.LIVE, location=a.location, severity=Severity.MEDIUM,
            explain=f"unmanaged: {what} '{a.name}' exists on the live platform but no stack declares it.",
            propose="\n".join(options),
            metadata={"drift": "unmanaged", "drift_kind": "unmanaged", "kind": a.kind.value, "name": a.name})


def summary(inv: Inventory, findings: list[Finding]) -> dict[str, Any]:
    """driftctl's summary: counts per verdict and kind, and coverage (declared objects found unchanged)."""
    counts: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = {}
    for f in findings:
        if f.rule_id != RULE.id:
            continue
        verdict, kind = str(f.metadata.get("drift")), str(f.metadata.get("kind"))
        counts[verdict] += 1
        by_kind.setdefault(kind, Counter())[verdict] += 1
    declared = sum(1 for a in inv.of(*KINDS) if a.phase == Phase.DECLARED)
    in_sync = max(declared - counts["missing"] - counts["changed"], 0)
    managed_live = in_sync + counts["changed"]
    total_live = managed_live + counts["unmanaged"]
    return {"declared": declared, "in_sync": in_sync, "missing": counts["missing"], "changed": counts["changed"],
            "unmanaged": counts["unmanaged"],
            # None when nothing live was compared: no coverage to speak of, rather than a reassuring 100%.
            "coverage": round(100.0 * managed_live / total_live, 1) if total_live else None,
            "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())}}


RULE = Rule(
    id="drift",
    title="Live platform differs from its declaration",
    clause="§1 Single Source of Truth (SSOT) vs System of Record (SoR): Supabase is the Single Source of Truth "
           "(SSOT) for platform state",
    severity=Severity.HIGH,
    categories=("drift", "platform-state"),
    phases=frozenset({Phase.LIVE}),
    risk=("A platform changed by hand is no longer the one reviewed and declared: grants nobody approved, "
          "schedules nobody sees in the stack, secrets whose values nobody can trace."),
    remediation=("`pulumi refresh` then `pulumi up` to restore the declaration, adopt what should stay by "
                 "declaring it, or remove what should not exist."),
    check=check,
)
