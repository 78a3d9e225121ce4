"""The declared inventory: what a Pulumi program's resource graph says the platform is.

One adapter for both ways a resource graph reaches us: the resources recorded by `ssot preview`'s
mock runtime, and the resources CrossGuard hands a stack policy inside `pulumi preview/up`. Both are
reduced to `ResourceView`s. Leaf resources give names and properties; our components carry the
doctrine facts pulumi-postgresql has no place for (schema domains, role kinds, secret categories
and value sources, declaration file and line), so a graph from our program is fully described and
a foreign one still yields every asset it can.

CrossGuard hands policies secret values in the clear: values are only ever fingerprinted and
scanned here, never copied into an asset.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ssot.fingerprint import fingerprint
from ssot.inventory import Asset, Inventory, Kind, Location, Phase, Provenance, Store

T_SCHEMA = "postgresql:index/schema:Schema"
T_ROLE = "postgresql:index/role:Role"
T_GRANT = "postgresql:index/grant:Grant"
T_DEFPRIV = "postgresql:index/defaultPrivileges:DefaultPrivileges"
T_EXTENSION = "postgresql:index/extension:Extension"
T_VAULT = "pulumi-python:dynamic/ssot:VaultSecret"
T_CRON = "pulumi-python:dynamic/ssot:CronJob"
T_EDGE = "pulumi-python:dynamic/ssot:EdgeFunctionSecret"
T_PROJECT = "pulumi-python:dynamic/ssot:SupabaseProject"
C_PLATFORM = "ssot:platform:Platform"
C_SCHEMAS = "ssot:platform:DoctrineSchemas"
C_ROLES = "ssot:platform:Roles"
C_GRANTS = "ssot:platform:Grants"
C_VAULT = "ssot:platform:VaultSecrets"
C_CRON = "ssot:platform:CronJobs"
C_SUPABASE = "ssot:platform:SupabasePlatform"

# Inputs that carry a secret by design: whether its value came from a secret source is answered
# by the provenance our components record, not by scanning the value (which would flag every
# legitimate secret, since CrossGuard shows them in the clear).
_SECRET_INPUTS = frozenset({"value", "conninfo", "fingerprint_key", "access_token", "db_pass", "password",
                            "__provider"})
_PLACEHOLDER = re.compile(r"^<(secret|env) [^>]+>\Z|^<local database>\Z")

SOURCE_PROVENANCE = {"secret-config": "secret-config", "generated": "generated",
                     "managed-outside": "managed-outside", "env": "reference", "literal": "literal"}


@dataclass(frozen=True)
class ResourceView:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]


def _loc(meta: Mapping[str, Any] | None, urn: str) -> Location:
    meta = meta or {}
    line = meta.get("line")
    # Numbers cross Pulumi's wire as floats.
    return Location(path=meta.get("path"), line=int(line) if line is not None else None, urn=urn)


def _provenance(meta: Mapping[str, Any] | None) -> Provenance | None:
    if not meta or "source" not in meta:
        return None
    return Provenance(SOURCE_PROVENANCE.get(meta["source"], "unknown"), meta.get("ref"))


def _value_fingerprint(value: Any) -> str | None:
    if isinstance(value, str) and value and not _PLACEHOLDER.match(value):
        return fingerprint(value)
    return None


_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def _recorded_fingerprint(p: Mapping[str, Any]) -> str | None:
    """The keyed fingerprint a provider recorded in its outputs (a state export, after `pulumi up`)."""
    fp = p.get("fingerprint")
    return fp if isinstance(fp, str) and _HEX64.match(fp) else None


def _doctrine(resources: Iterable[ResourceView], type_: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for r in resources:
        if r.type == type_:
            d = r.props.get("doctrine")
            if isinstance(d, Mapping):
                for k, v in d.items():
                    if isinstance(v, Mapping) and isinstance(merged.get(k), dict):
                        merged[k].update(v)
                    else:
                        merged[k] = dict(v) if isinstance(v, Mapping) else v
    return merged


def inventory_from_resources(resources: Iterable[ResourceView]) -> Inventory:
    from ssot.detectors import scan_value

    res = list(resources)
    schemas_meta = _doctrine(res, C_SCHEMAS).get("schemas", {})
    ext_meta = _doctrine(res, C_SCHEMAS).get("extensions", {})
    roles_meta = _doctrine(res, C_ROLES).get("roles", {})
    grants_doc = _doctrine(res, C_GRANTS)
    vault_meta = _doctrine(res, C_VAULT).get("secrets", {})
    cron_meta = _doctrine(res, C_CRON).get("jobs", {})
    cron_meta.update(_doctrine(res, "ssot:platform:AuditSchedule").get("jobs", {}))
    supa = _doctrine(res, C_SUPABASE)
    edge_meta = supa.get("edge_secrets", {})
    platform = _doctrine(res, C_PLATFORM)
    inv = Inventory(phases={Phase.DECLARED})
    P = Phase.DECLARED

    schema_domain = {n: m.get("domain") for n, m in schemas_meta.items()}
    role_kind = {n: m.get("kind") for n, m in roles_meta.items()}

    for r in res:
        p = r.props
        if r.type == T_SCHEMA:
            name = str(p.get("name") or r.name)
            meta = schemas_meta.get(name, {})
            inv.add(Asset(Kind.SCHEMA, Store.POSTGRES, name, P, _loc(meta, r.urn),
                          {"domain": meta.get("domain"), "owner": p.get("owner")}))
        elif r.type == T_ROLE:
            name = str(p.get("name") or r.name)
            meta = roles_meta.get(name, {})
            inv.add(Asset(Kind.ROLE, Store.POSTGRES, name, P, _loc(meta, r.urn),
                          {"role_kind": meta.get("kind"), "login": bool(p.get("login")),
                           "odoo_raw_allowed": bool(meta.get("odoo_raw_allowed")),
                           "member_of": list(p.get("roles") or [])},
                          provenance=_provenance(meta)))
            if meta.get("source") == "literal":
                inv.add(_config_value(f"role:{name}.password", meta, r.urn))
        elif r.type in (T_GRANT, T_DEFPRIV):
            role, schema = str(p.get("role")), str(p.get("schema"))
            obj = str(p.get("object_type") or p.get("objectType"))
            objects = list(p.get("objects") or []) or ["*"]
            is_default = r.type == T_DEFPRIV
            key = (f"{role}-{obj}-{schema}-by-{p.get('owner')}" if is_default
                   else f"{role}-{obj}-{schema}-{'all' if objects == ['*'] else '-'.join(objects)}")
            meta = grants_doc.get("default_privileges" if is_default else "grants", {}).get(key, {})
            name = f"{role}:{obj}:{schema}" + ("" if objects == ["*"] else "." + ",".join(objects))
            props = {"role": role, "role_kind": role_kind.get(role), "schema": schema, "object_type": obj,
                     "objects": objects, "privileges": sorted(str(x).upper() for x in p.get("privileges") or []),
                     "schema_domain": schema_domain.get(schema)}
            if is_default:
                props["owner"] = p.get("owner")
            inv.add(Asset(Kind.DEFAULT_PRIVILEGE if is_default else Kind.GRANT, Store.POSTGRES, name, P,
                          _loc(meta, r.urn), props))
        elif r.type == T_EXTENSION:
            name = str(p.get("name") or r.name)
            inv.add(Asset(Kind.EXTENSION, Store.POSTGRES, name, P, _loc(ext_meta.get(name), r.urn),
                          {"schema": p.get("schema")}))
        elif r.type == T_VAULT:
            name = str(p.get("name") or r.name)
            meta = vault_meta.get(name, {})
            prov = _provenance(meta) or _provenance_from_inputs(p)
            inv.add(Asset(Kind.VAULT_SECRET, Store.VAULT, name, P, _loc(meta, r.urn),
                          {"category": meta.get("category"), "description": p.get("description") or ""},
                          fingerprint=_value_fingerprint(p.get("value")) or _recorded_fingerprint(p),
                          provenance=prov))
        elif r.type == T_EDGE:
            name = str(p.get("name") or r.name)
            meta = edge_meta.get(name, {})
            reason = p.get("runtime_only_reason") or meta.get("runtime_only") or None
            props_e = {"category": meta.get("category"), "runtime_only_reason": reason}
            digest = p.get("digest")
            if isinstance(digest, str) and _HEX64.match(digest.lower()):
                # The provider records Supabase's unkeyed SHA-256 of the value in state; only its keyed
                # fingerprint is kept, comparable with what the live Management API source keeps.
                props_e["digest_fingerprint"] = fingerprint(digest.lower())
            inv.add(Asset(Kind.EDGE_SECRET, Store.EDGE, name, P, _loc(meta, r.urn), props_e,
                          fingerprint=_value_fingerprint(p.get("value")) or _recorded_fingerprint(p),
                          provenance=_provenance(meta)))
        elif r.type == T_CRON:
            name = str(p.get("name") or r.name)
            command = str(p.get("command") or "")
            matches = scan_value(command, context="cron-command")
            inv.add(Asset(Kind.CRON_JOB, Store.POSTGRES, name, P, _loc(cron_meta.get(name), r.urn),
                          {"schedule": p.get("schedule"), "command": _safe_command(command, matches),
                           "database": p.get("database"), "username": p.get("username"),
                           "active": p.get("active", True), "scheduler": "pg_cron",
                           "command_secret_types": sorted({m.secret_type for m in matches})}))
        elif r.type == T_PROJECT:
            project = supa.get("project", {})
            inv.add(Asset(Kind.SUPABASE_PROJECT, Store.SUPABASE, str(p.get("name") or r.name), P,
                          _loc(project, r.urn), {"ref": p.get("ref"), "region": p.get("region"),
                                                 "organization": p.get("organization_id")}))
        if r.type not in (T_CRON,) and not r.type.startswith("ssot:platform:"):
            _scan_inputs(inv, r)
            _odoo_schedules(inv, r)
            _odoo_job_runner(inv, r)

    for j in platform.get("justifications") or []:
        try:
            expires = dt.date.fromisoformat(str(j.get("expires")))
        except ValueError:
            continue
        inv.justifications.append({**j, "expires": expires})
    platform_urn = next((r.urn for r in res if r.type == C_PLATFORM), None)
    for label, meta in _literal_sources(platform):
        # Fed to a resource's input (a provider, a project); the platform component declares it.
        inv.add(_config_value(label, meta, platform_urn))
    return inv


def _provenance_from_inputs(p: Mapping[str, Any]) -> Provenance | None:
    if p.get("generate_bytes"):
        return Provenance("generated")
    if p.get("managed_outside"):
        return Provenance("managed-outside")
    return None


def _safe_command(command: str, matches: list[Any]) -> str:
    # A command holding a secret must not carry it into findings; the shape is enough.
    return "<command withheld: it contains a secret-looking literal>" if matches else command


def _config_value(label: str, meta: Mapping[str, Any], urn: str | None) -> Asset:
    return Asset(Kind.CONFIG_VALUE, Store.STACK_CONFIG, label, Phase.DECLARED, _loc(meta, urn or "") if urn
                 else Location(path=meta.get("path"), line=int(meta["line"]) if meta.get("line") else None),
                 {"key": label, "expected": "a secret reference ({secret: <configKey>}, {env: VAR}, ...)",
                  "config_key": meta.get("ref")},
                 provenance=Provenance("literal", meta.get("ref")))


def _literal_sources(platform: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    yield from (platform.get("literal_sources") or {}).items()


_ODOO_CRON_MODEL = frozenset({"ir.cron", "ir_cron"})


def _odoo_schedules(inv: Inventory, r: ResourceView) -> None:
    """A declared resource that writes Odoo `ir.cron` records (an Odoo provider, a dynamic resource
    over XML-RPC, a command running Odoo's data loader on a cron file) schedules work in Odoo."""
    models = {v for v in _strings(r.props) if v in _ODOO_CRON_MODEL}
    if not models and not ("odoo" in r.type.lower() and "cron" in r.type.lower()):
        return
    p = r.props
    inv.add(Asset(Kind.ODOO_CRON, Store.ODOO, str(p.get("name") or r.name), Phase.DECLARED, Location(urn=r.urn),
                  {"model": p.get("model_name") or p.get("cron_model"), "code": p.get("code"),
                   "interval": _interval(p), "active": p.get("active", True), "defined_in": "declared"}))


_ODOO_MODULE_MODEL = frozenset({"ir.module.module", "ir_module_module"})
# only the model's dotted name: `queue_job` is also the module's name (a record installing it is not a job)
_QUEUE_JOB_MODEL = frozenset({"queue.job"})
# Odoo's command line installing or updating modules: `odoo -i queue_job,acme` / `--init=queue_job`.
_ODOO_INIT = re.compile(r"(?:^|\s)(?:-i|--init|-u|--update)(?:=|\s+)([a-z0-9_,]{1,2000})")


def _odoo_job_runner(inv: Inventory, r: ResourceView) -> None:
    """A declared resource that installs queue_job (or kin) in Odoo, or writes `queue.job` records
    (an Odoo provider, a dynamic resource over XML-RPC, a command running `odoo -i queue_job`),
    makes Odoo a job runner: the same assets the static and live sources give, from the program."""
    from ssot.sources.odoo_addons import is_job_runner_module

    strings = list(_strings(r.props))
    kind = r.type.lower()
    p = r.props
    modules: set[str] = set()
    if ("odoo" in kind and "module" in kind) or any(v in _ODOO_MODULE_MODEL for v in strings):
        modules.update(v for v in strings if is_job_runner_module(v))
    for text in strings:
        if "odoo" in text:
            for m in _ODOO_INIT.finditer(text):
                modules.update(n for n in m.group(1).split(",") if is_job_runner_module(n))
    for name in sorted(modules):
        inv.add(Asset(Kind.ODOO_MODULE, Store.ODOO, name, Phase.DECLARED, Location(urn=r.urn),
                      {"state": "declared", "job_runner": True, "depended_by": [], "defined_in": "declared",
                       "resource": r.name}))
    if any(v in _QUEUE_JOB_MODEL for v in strings) or ("odoo" in kind and "queuejob" in kind.replace("_", "")):
        # a queue.job record names the work it runs in its model_name and method_name fields
        inv.add(Asset(Kind.ODOO_JOB, Store.ODOO, r.name, Phase.DECLARED, Location(urn=r.urn),
                      {"via": "queue.job", "model": p.get("model_name"), "method": p.get("method_name"),
                       "defined_in": "declared"}))


def _interval(p: Mapping[str, Any]) -> str | None:
    number, unit = p.get("interval_number"), p.get("interval_type")
    return f"{number} {unit}" if number and unit else None


def _scan_inputs(inv: Inventory, r: ResourceView) -> None:
    from ssot.detectors import scan_value

    for key, value in r.props.items():
        if key in _SECRET_INPUTS or key == "doctrine":
            continue
        for text in _strings(value):
            for m in scan_value(text, context="resource-input"):
                inv.add(Asset(Kind.SECRET_LITERAL, Store.STACK_CONFIG, f"{r.name}.{key}:{m.secret_type}",
                              Phase.DECLARED, Location(urn=r.urn),
                              {"secret_type": m.secret_type, "detector": m.detector, "context": "resource-input",
                               "redacted": m.redacted, "input": key},
                              fingerprint=m.fingerprint))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
