"""The platform model: one typed, validated description of the declared platform.

It is loaded from a stack's structured Pulumi config (`stacks/Pulumi.<stack>.yaml`, key
`ssot:platform`) and carries the doctrine-relevant facts: each schema's owner domain, each secret's
category and value source, each Edge Function secret's runtime-only reason, and justifications.

Validation is total: every problem in a file is collected and reported at once, each naming the
file, the key path, the line and what was expected. Unknown keys are errors with a did-you-mean.
Names are validated here, before they can reach SQL (which quotes them again with sql.Identifier).

A secret value never lives in the model. A `SecretSource` says where the value comes from:
- `{secret: <key>}`: Pulumi secret config `ssot:<key>` (`pulumi config set --secret <key>`), which must
  be encrypted (`secure:`) in the stack file;
- `{generate: {bytes: N}}`: generated inside the database, never seen by Pulumi or by us;
- `{managedOutside: {owner: ..., reason: ...}}`: set by someone else; we only adopt it;
- `{env: VAR}`: read from the deploying process's environment (for CI-provided credentials).
A plain string where a secret is required is an error in strict mode (what `pulumi up` uses); in
lenient mode (previews and scans, which must report rather than stop) it becomes a `literal` source
whose presence the doctrine rules report as a finding.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ssot import names
from ssot.audit_schedule import AuditSchedule
from ssot.audit_schedule import parse as audit_schedule_parse
from ssot.errors import ConfigError, ConfigIssue, did_you_mean
from ssot.shape import describe
from ssot.yamlpos import KeyPath, Positioned, format_path, load_yaml

CONFIG_NAMESPACE = "ssot"
PLATFORM_KEY = f"{CONFIG_NAMESPACE}:platform"

DOMAINS = ("ops", "ai", "audit", "analytics", "shadow")
ROLE_KINDS = ("agent", "automation", "auditor", "service")
SECRET_CATEGORIES = ("github-app", "api-key", "webhook", "scheduler", "agent", "database", "other")
GRANT_OBJECTS: dict[str, frozenset[str]] = {
    "schema": frozenset({"USAGE", "CREATE"}),
    "table": frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}),
    "sequence": frozenset({"USAGE", "SELECT", "UPDATE"}),
    "function": frozenset({"EXECUTE"}),
}
DEFAULT_PRIVILEGE_OBJECTS = ("table", "sequence", "function")
_CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*\Z")
_CRON_SECONDS = re.compile(r"^([1-9]|[1-5][0-9]) seconds?\Z")
_CRON_NAMED = re.compile(r"^@(yearly|annually|monthly|weekly|daily|hourly|reboot)\Z")
_CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\Z")
_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_REGIONS = re.compile(r"^[a-z]{2}-[a-z]+-\d\Z")


# --------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class Where:
    """Position of a declaration, for findings and errors."""

    file: str
    line: int | None
    path: str
    keys: tuple[str | int, ...] = field(default=(), compare=False, repr=False)

    def describe(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


SourceKind = Literal["secret-config", "generated", "managed-outside", "env", "literal"]


@dataclass(frozen=True)
class SecretSource:
    kind: SourceKind
    where: Where
    ref: str | None = None  # config key or environment variable
    generate_bytes: int | None = None
    owner: str | None = None
    reason: str | None = None
    # Only for kind == "literal" in lenient mode: the plaintext that should not be there. It is kept
    # so the preview can fingerprint it and must never be rendered; repr hides it.
    literal: str | None = field(default=None, repr=False)

    @property
    def source_id(self) -> str | None:
        """Identifies the value's origin across stores: two stores fed by one id share a secret."""
        if self.kind == "secret-config":
            return f"config:{self.ref}"
        if self.kind == "env":
            return f"env:{self.ref}"
        return None


@dataclass(frozen=True)
class Database:
    where: Where
    local: bool = False
    from_project: bool = False  # host is db.<ref>.supabase.co of the declared project, password its dbPassword
    host: str | None = None
    port: int = 5432
    name: str = "postgres"
    user: str = "postgres"
    password: SecretSource | None = None
    # The auditor's and the deployment's password go over this connection: the server's certificate
    # is checked (a MITM with `require` would get them). Supabase's database certificate is issued by
    # Supabase's own CA, which `sslrootcert` names (else libpq reads ~/.postgresql/root.crt).
    sslmode: str = "verify-full"
    sslrootcert: str | None = None


@dataclass(frozen=True)
class Project:
    where: Where
    name: str
    organization_id: str
    region: str
    db_password: SecretSource
    access_token: SecretSource
    instance_size: str | None = None
    api_url: str = "https://api.supabase.com"


@dataclass(frozen=True)
class Schema:
    where: Where
    name: str
    domain: str | None
    owner: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Role:
    where: Where
    name: str
    kind: str | None
    login: bool = False
    password: SecretSource | None = None
    member_of: tuple[str, ...] = ()
    connection_limit: int = -1
    odoo_raw_allowed: bool = False
    description: str = ""


@dataclass(frozen=True)
class Grant:
    where: Where
    role: str
    schema: str
    on: str  # schema | table | sequence | function
    privileges: tuple[str, ...]
    objects: tuple[str, ...] = ()  # empty = all objects of that type

    @property
    def resource_name(self) -> str:
        objs = "all" if not self.objects else "-".join(self.objects)
        return f"{self.role}-{self.on}-{self.schema}-{objs}"


@dataclass(frozen=True)
class DefaultPrivilege:
    where: Where
    role: str
    schema: str
    owner: str
    on: str  # table | sequence | function
    privileges: tuple[str, ...]

    @property
    def resource_name(self) -> str:
        return f"{self.role}-{self.on}-{self.schema}-by-{self.owner}"


@dataclass(frozen=True)
class Extension:
    where: Where
    name: str
    schema: str = "extensions"


@dataclass(frozen=True)
class VaultSecret:
    where: Where
    name: str
    category: str
    value: SecretSource
    description: str = ""


@dataclass(frozen=True)
class CronJob:
    where: Where
    name: str
    schedule: str
    command: str
    database: str | None = None
    username: str | None = None
    active: bool = True


@dataclass(frozen=True)
class EdgeSecret:
    where: Where
    name: str
    category: str
    value: SecretSource
    runtime_only: str | None  # the reason it is runtime-only; None is a doctrine finding, not an error


@dataclass(frozen=True)
class Odoo:
    where: Where
    url: str
    database: str
    username: str
    password: SecretSource


@dataclass(frozen=True)
class Aws:
    where: Where
    region: str
    endpoint_url: str | None = None
    secrets_prefix: str = ""
    parameters_path: str = "/"


@dataclass(frozen=True)
class Audit:
    """How `ssot audit` reaches the live systems: which role and which environment variables hold
    the auditor's credentials. The systems themselves (database, project, Odoo, AWS) are the ones
    declared above; credentials are only ever named here, never given (nor on the command line)."""

    where: Where
    db_user: str | None = None  # default: the declared role of kind auditor
    db_password_env: str | None = None
    project_ref: str | None = None  # default: looked up by the declared project's name
    supabase_token_env: str | None = None
    odoo_protocol: str = "xmlrpc"  # "xmlrpc" (Odoo <= 18) or "json2" (Odoo 19+, bearer API key)
    odoo_credential_env: str | None = None  # the Odoo auditor's password (xmlrpc) or API key (json2)
    timeout_seconds: int = 30  # one request or statement
    deadline_seconds: int = 600  # one source as a whole: past it, what is left is a gap


@dataclass(frozen=True)
class Justification:
    where: Where
    rule: str
    subject: str
    reason: str
    owner: str
    expires: dt.date

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "subject": self.subject, "reason": self.reason,
                "owner": self.owner, "expires": self.expires, "path": self.where.file,
                "line": self.where.line}


@dataclass(frozen=True)
class Platform:
    """The declared platform of one stack."""

    file: str
    stack: str
    name: str
    database: Database
    project: Project | None
    schemas: tuple[Schema, ...]
    roles: tuple[Role, ...]
    grants: tuple[Grant, ...]
    default_privileges: tuple[DefaultPrivilege, ...]
    extensions: tuple[Extension, ...]
    vault_secrets: tuple[VaultSecret, ...]
    cron_jobs: tuple[CronJob, ...]
    edge_secrets: tuple[EdgeSecret, ...]
    odoo: Odoo | None
    aws: Aws | None
    justifications: tuple[Justification, ...]
    fingerprint_key: SecretSource | None
    audit: Audit | None = None
    # The periodic audit as a pg_cron job (ssot.audit_schedule): pg_net dispatch or the worker.
    audit_schedule: AuditSchedule | None = None
    # Top-level `ssot:<key>` config entries that are encrypted (`secure:`), and those in plaintext.
    secret_config_keys: frozenset[str] = frozenset()
    plain_config_keys: frozenset[str] = frozenset()

    def secret_sources(self) -> Iterable[tuple[str, SecretSource]]:
        """Every place a secret enters the platform, labelled by what it feeds."""
        if self.database.password:
            yield "database.password", self.database.password
        if self.project:
            yield "project.dbPassword", self.project.db_password
            yield "project.accessToken", self.project.access_token
        for r in self.roles:
            if r.password:
                yield f"role:{r.name}", r.password
        for v in self.vault_secrets:
            yield f"vault:{v.name}", v.value
        for e in self.edge_secrets:
            yield f"edge:{e.name}", e.value
        if self.odoo:
            yield "odoo.password", self.odoo.password
        if self.fingerprint_key:
            yield "fingerprintKey", self.fingerprint_key

    @property
    def resource_count(self) -> int:
        return (len(self.schemas) + len(self.roles) + len(self.grants) + len(self.default_privileges)
                + len(self.extensions) + len(self.vault_secrets) + len(self.cron_jobs)
                + len(self.edge_secrets) + (1 if self.project else 0))


# --------------------------------------------------------------------------------------------
# Loading and validation


class _Reader:
    """Walks the positioned document, collecting issues instead of stopping at the first."""

    def __init__(self, doc: Positioned, strict: bool, base: KeyPath) -> None:
        self.doc = doc
        self.strict = strict
        self.base = base
        self.issues: list[ConfigIssue] = []
        self.secret_keys: set[str] = set()
        self.plain_keys: set[str] = set()

    # -- reporting
    def issue(self, path: KeyPath, expected: str, line_of: KeyPath | None = None) -> None:
        line = self.doc.line(path if line_of is None else line_of)
        self.issues.append(ConfigIssue(self.doc.file, format_path(path), expected, line))

    def where(self, path: KeyPath) -> Where:
        return Where(self.doc.file, self.doc.line(path), format_path(path), path)

    # -- shapes
    def mapping(self, value: Any, path: KeyPath, allowed: Mapping[str, bool]) -> dict[str, Any] | None:
        """Check a mapping: `allowed` maps each key to whether it is required."""
        if not isinstance(value, dict):
            self.issue(path, f"a mapping with keys {', '.join(allowed)}; got {_type(value)}")
            return None
        for key in value:
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                # A key close to one of ours is a typo of our vocabulary and may be named; any other
                # key may be a pasted secret: the path stops at its mapping and the key is described.
                at = (*path, key) if hint else path
                self.issue(at, f"a known key, one of {', '.join(allowed)}" + hint
                           + (" (unknown key)" if hint else f"; got an unknown key, {describe(key)}"),
                           line_of=(*path, key))
        for key, required in allowed.items():
            if required and key not in value:
                self.issue(path, f"required key '{key}' (missing)")
        return value

    def seq(self, value: Any, path: KeyPath) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.issue(path, f"a list; got {_type(value)}")
            return []
        return value

    def string(self, value: Any, path: KeyPath, what: str = "a non-empty string",
               choices: Iterable[str] | None = None, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            self.issue(path, f"{what}; got {_type(value)}")
            return None
        if choices is not None:
            choices = tuple(choices)
            if value not in choices:
                self.issue(path, f"one of {', '.join(choices)}; got {_type(value)}" + did_you_mean(value, choices))
                return None
        return value

    def boolean(self, value: Any, path: KeyPath, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.issue(path, f"true or false; got {_type(value)}")
            return default
        return value

    def integer(self, value: Any, path: KeyPath, default: int, lo: int, hi: int) -> int:
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            self.issue(path, f"an integer from {lo} to {hi}; got {_type(value)}")
            return default
        return value

    def name(self, value: Any, path: KeyPath, check: Callable[[object], str | None]) -> str | None:
        problem = check(value)
        if problem:
            self.issue(path, problem)
            return None
        return value if isinstance(value, str) else None

    def secret(self, value: Any, path: KeyPath, config: Mapping[str, Any]) -> SecretSource | None:
        where = self.where(path)
        if isinstance(value, str):
            if self.strict:
                self.issue(path, "a secret reference ({secret: <configKey>}, {generate: {bytes: N}}, "
                           "{managedOutside: {owner, reason}} or {env: VAR}), not a plaintext value; store "
                           "it with `pulumi config set --secret <configKey>`")
                return None
            return SecretSource("literal", where, literal=value)
        m = self.mapping(value, path, {"secret": False, "generate": False, "managedOutside": False,
                                       "env": False})
        if m is None:
            return None
        if len(m) != 1:
            self.issue(path, "exactly one of secret, generate, managedOutside, env")
            return None
        (kind, arg), = m.items()
        if kind == "secret":
            key = self.string(arg, (*path, "secret"), "a config key name")
            if key is None:
                return None
            if not _CONFIG_KEY.match(key):
                self.issue((*path, "secret"), f"a config key name matching [A-Za-z][A-Za-z0-9_]*; got {_type(key)}")
                return None
            entry = config.get(f"{CONFIG_NAMESPACE}:{key}")
            if entry is None:
                # The reference names no existing key, so it may be the secret itself rather than a
                # key name: neither quoted nor suggested for a command line.
                self.issue((*path, "secret"), f"the name of a secret config key of this stack; got {_type(key)}, "
                           "which is not a config key in the stack file (if it is a key name, set it with "
                           "`pulumi config set --secret <configKey>`, which prompts for the value; if it is "
                           "the secret itself, remove it from the file and rotate it)")
            elif not (isinstance(entry, dict) and set(entry) == {"secure"}):
                if self.strict:
                    self.issue((*path, "secret"), f"config key 'ssot:{key}' to be a secret (`secure:`), but "
                               "it is plaintext in the stack file; re-set it with "
                               f"`pulumi config set --secret {key}`")
                    return None
                # Point at the plaintext itself, not at the reference to it.
                cfg = ("config", f"{CONFIG_NAMESPACE}:{key}")
                return SecretSource("literal", Where(self.doc.file, self.doc.line(cfg), format_path(cfg), cfg),
                                    ref=key, literal=entry if isinstance(entry, str) else None)
            return SecretSource("secret-config", where, ref=key)
        if kind == "generate":
            g = self.mapping(arg, (*path, "generate"), {"bytes": False})
            if g is None:
                return None
            n = self.integer(g.get("bytes"), (*path, "generate", "bytes"), 32, 16, 512)
            return SecretSource("generated", where, generate_bytes=n)
        if kind == "managedOutside":
            g = self.mapping(arg, (*path, "managedOutside"), {"owner": True, "reason": True})
            if g is None:
                return None
            owner = self.string(g.get("owner"), (*path, "managedOutside", "owner"), "who manages it")
            reason = self.string(g.get("reason"), (*path, "managedOutside", "reason"), "why it is managed outside")
            return SecretSource("managed-outside", where, owner=owner, reason=reason)
        var = self.string(arg, (*path, "env"), "an environment variable name")
        if var is not None and not re.match(r"^[A-Z_][A-Z0-9_]*\Z", var):
            self.issue((*path, "env"), f"an environment variable name matching [A-Z_][A-Z0-9_]*; got {_type(var)}")
            return None
        return SecretSource("env", where, ref=var)


def _type(value: Any) -> str:
    # Never the text: a value in the wrong place may be the secret itself (see ssot.shape).
    return describe(value)


_TOP = {"name": True, "database": True, "project": False, "schemas": False, "roles": False,
        "grants": False, "defaultPrivileges": False, "extensions": False, "vault": False, "cron": False,
        "edgeFunctions": False, "odoo": False, "aws": False, "justifications": False,
        "fingerprintKey": False, "audit": False, "auditSchedule": False}


def load_platform(path: str | Path, *, stack: str | None = None, strict: bool = True,
                  display: str | None = None) -> Platform:
    """Load and validate a stack file. Raises ConfigError listing every problem found."""
    doc = load_yaml(path, display=display)
    if stack is None:
        stem = Path(path).name
        stack = stem[len("Pulumi."):-len(".yaml")] if stem.startswith("Pulumi.") else stem
    return platform_from_document(doc, stack=stack, strict=strict)


def platform_from_document(doc: Positioned, *, stack: str, strict: bool = True) -> Platform:
    root = doc.data
    if not isinstance(root, dict) or not isinstance(root.get("config"), dict):
        raise ConfigError.single(doc.file, "config", "a Pulumi stack file with a 'config' mapping",
                                 doc.line(()))
    config: dict[str, Any] = root["config"]
    base: KeyPath = ("config", PLATFORM_KEY)
    r = _Reader(doc, strict, base)
    for key, value in config.items():
        if not key.startswith(f"{CONFIG_NAMESPACE}:") or key == PLATFORM_KEY:
            continue
        if isinstance(value, dict) and set(value) == {"secure"}:
            r.secret_keys.add(key.split(":", 1)[1])
        else:
            r.plain_keys.add(key.split(":", 1)[1])
    if PLATFORM_KEY not in config:
        raise ConfigError.single(doc.file, "config", f"key '{PLATFORM_KEY}' holding the platform declaration",
                                 doc.line(("config",)))
    top = r.mapping(config[PLATFORM_KEY], base, _TOP)
    if top is None:
        raise ConfigError(r.issues)

    platform_name = r.name(top.get("name"), (*base, "name"), _platform_name_problem) or "invalid"
    database = _database(r, top.get("database"), (*base, "database"), config)
    project = _project(r, top["project"], (*base, "project"), config) if "project" in top else None
    if database.from_project and "project" not in top:
        r.issue((*base, "database", "fromProject"), "a 'project' declaration to take the database from")
    if database.from_project and project is not None:
        database = Database(database.where, from_project=True, host=None, port=database.port,
                            user="postgres", password=project.db_password, sslmode=database.sslmode,
                            sslrootcert=database.sslrootcert)
    extensions = _extensions(r, top.get("extensions"), (*base, "extensions"))
    schemas = _schemas(r, top.get("schemas"), (*base, "schemas"))
    roles = _roles(r, top.get("roles"), (*base, "roles"), config)
    schema_names = {s.name for s in schemas}
    role_names = {x.name for x in roles}
    grants = _grants(r, top.get("grants"), (*base, "grants"), schema_names, role_names)
    defprivs = _default_privileges(r, top.get("defaultPrivileges"), (*base, "defaultPrivileges"),
                                   schema_names, role_names)
    vault = _vault(r, top.get("vault"), (*base, "vault"), config)
    cron = _cron(r, top.get("cron"), (*base, "cron"), role_names)
    edge = _edge(r, top.get("edgeFunctions"), (*base, "edgeFunctions"), config, project is not None)
    odoo = _odoo(r, top["odoo"], (*base, "odoo"), config) if "odoo" in top else None
    aws = _aws(r, top["aws"], (*base, "aws")) if "aws" in top else None
    justifications = _justifications(r, top.get("justifications"), (*base, "justifications"))
    fkey = r.secret(top["fingerprintKey"], (*base, "fingerprintKey"), config) if "fingerprintKey" in top else None
    audit = _audit(r, top["audit"], (*base, "audit")) if "audit" in top else None
    audit_schedule = (audit_schedule_parse(r, top["auditSchedule"], (*base, "auditSchedule"),
                                           {v.name for v in vault}, cron_schedule_problem)
                      if "auditSchedule" in top else None)
    if audit_schedule and audit_schedule.job_name in {c.name for c in cron}:
        r.issue((*base, "auditSchedule", "jobName"), f"a pg_cron job name not used under cron.jobs; "
                f"'{audit_schedule.job_name}' is (set auditSchedule.jobName)")

    for s in schemas:
        if s.owner and s.owner not in role_names and s.owner not in names.RESERVED_ROLES:
            r.issue(_path_of(s.where), "owner to be a declared role or a Supabase role; the role named is "
                    "neither" + did_you_mean(s.owner, role_names))

    if r.issues:
        raise ConfigError(r.issues)
    return Platform(
        file=doc.file, stack=stack, name=platform_name, database=database, project=project,
        schemas=schemas, roles=roles, grants=grants, default_privileges=defprivs, extensions=extensions,
        vault_secrets=vault, cron_jobs=cron, edge_secrets=edge, odoo=odoo, aws=aws,
        justifications=justifications, fingerprint_key=fkey, audit=audit, audit_schedule=audit_schedule,
        secret_config_keys=frozenset(r.secret_keys), plain_config_keys=frozenset(r.plain_keys),
    )


def _path_of(where: Where) -> KeyPath:
    return where.keys


def _platform_name_problem(value: object) -> str | None:
    if not isinstance(value, str) or not re.match(r"^[a-z][a-z0-9-]{1,40}\Z", value):
        return f"a platform name matching [a-z][a-z0-9-]* (2 to 41 characters); got {_type(value)}"
    return None


def _unique(r: _Reader, items: list[Any], path: KeyPath, what: str, key: Callable[[Any], str]) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        k = key(item)
        if k in seen:
            r.issue((*path, i, "name"), f"a unique {what}; the same name is already declared at index {seen[k]}")
        else:
            seen[k] = i


def _database(r: _Reader, value: Any, path: KeyPath, config: Mapping[str, Any]) -> Database:
    m = r.mapping(value, path, {"local": False, "fromProject": False, "host": False, "port": False,
                                "name": False, "user": False, "password": False, "sslmode": False,
                                "sslrootcert": False})
    if m is None:
        return Database(r.where(path), local=True)
    local = r.boolean(m.get("local"), (*path, "local"), False)
    if r.boolean(m.get("fromProject"), (*path, "fromProject"), False):
        extra = sorted(set(m) - {"fromProject", "sslmode", "sslrootcert", "port"})
        if extra:
            r.issue((*path, extra[0]), "nothing but sslmode, sslrootcert and port with 'fromProject: true' (host, "
                    "user and password come from the declared project)")
        if local:
            r.issue((*path, "local"), "either 'local: true' or 'fromProject: true', not both")
        port = r.integer(m.get("port"), (*path, "port"), 5432, 1, 65535)
        sslmode = r.string(m.get("sslmode", "verify-full"), (*path, "sslmode"), choices=_SSLMODES) or "verify-full"
        return Database(r.where(path), from_project=True, port=port, sslmode=sslmode,
                        sslrootcert=_sslrootcert(r, m, path))
    if local:
        extra = sorted(set(m) - {"local"})
        if extra:
            r.issue((*path, extra[0]), "nothing besides 'local: true' (the local cluster's connection "
                    "is managed by `ssot db start`)")
        return Database(r.where(path), local=True, sslmode="disable")
    host = r.string(m.get("host"), (*path, "host"), "a host name")
    if host and not re.match(r"^[A-Za-z0-9.-]+\Z", host):
        r.issue((*path, "host"), f"a host name; got {_type(host)}")
    port = r.integer(m.get("port"), (*path, "port"), 5432, 1, 65535)
    dbname = r.name(m.get("name", "postgres"), (*path, "name"), names.pg_identifier_problem_allow_pg) or "postgres"
    user = r.name(m.get("user", "postgres"), (*path, "user"), names.pg_identifier_problem_allow_pg) or "postgres"
    if "password" not in m:
        r.issue(path, "required key 'password' (missing) when 'local' is not true")
        password = None
    else:
        password = r.secret(m["password"], (*path, "password"), config)
    sslmode = r.string(m.get("sslmode", "verify-full"), (*path, "sslmode"), choices=_SSLMODES) or "verify-full"
    return Database(r.where(path), local=False, host=host, port=port, name=dbname, user=user,
                    password=password, sslmode=sslmode, sslrootcert=_sslrootcert(r, m, path))


def _sslrootcert(r: _Reader, m: Mapping[str, Any], path: KeyPath) -> str | None:
    """libpq's sslrootcert: a CA file path (relative to where ssot and pulumi run: the project root)
    or `system` (the system's CA store, libpq 16+)."""
    if "sslrootcert" not in m:
        return None
    value = r.string(m["sslrootcert"], (*path, "sslrootcert"), "a CA certificate file path or 'system'")
    if value is not None and not re.match(r"[A-Za-z0-9_./][A-Za-z0-9_./@+-]{0,1023}\Z", value):
        r.issue((*path, "sslrootcert"), "a CA certificate file path (letters, digits, _ . / @ + -) or 'system'")
        return None
    return value


def _project(r: _Reader, value: Any, path: KeyPath, config: Mapping[str, Any]) -> Project | None:
    m = r.mapping(value, path, {"name": True, "organizationId": True, "region": True, "dbPassword": True,
                                "accessToken": True, "instanceSize": False, "apiUrl": False})
    if m is None:
        return None
    name = r.string(m.get("name"), (*path, "name"), "a project name")
    if name and not re.match(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}\Z", name):
        r.issue((*path, "name"), f"a project name of letters, digits, spaces, '-' and '_'; got {_type(name)}")
    org = r.string(m.get("organizationId"), (*path, "organizationId"), "an organization slug")
    region = r.string(m.get("region"), (*path, "region"), "a region such as eu-central-1")
    if region and not _REGIONS.match(region):
        r.issue((*path, "region"), f"a region such as eu-central-1; got {_type(region)}")
    dbpass = r.secret(m.get("dbPassword"), (*path, "dbPassword"), config) if "dbPassword" in m else None
    token = r.secret(m.get("accessToken"), (*path, "accessToken"), config) if "accessToken" in m else None
    size = r.string(m.get("instanceSize"), (*path, "instanceSize"), optional=True)
    api = r.string(m.get("apiUrl", "https://api.supabase.com"), (*path, "apiUrl"), "an https URL")
    if api and not re.match(r"^https?://[A-Za-z0-9.:\[\]-]+(/.*)?\Z", api):
        r.issue((*path, "apiUrl"), f"an http(s) URL; got {_type(api)}")
    if not (name and org and region and dbpass and token and api):
        return None
    return Project(r.where(path), name=name, organization_id=org, region=region, db_password=dbpass,
                   access_token=token, instance_size=size, api_url=api)


def _extensions(r: _Reader, value: Any, path: KeyPath) -> tuple[Extension, ...]:
    out = []
    for i, item in enumerate(r.seq(value, path)):
        p = (*path, i)
        if isinstance(item, str):
            item = {"name": item}
        m = r.mapping(item, p, {"name": True, "schema": False})
        if m is None:
            continue
        name = r.name(m.get("name"), (*p, "name"), _extension_problem)
        schema = r.name(m.get("schema", "extensions"), (*p, "schema"), names.pg_identifier_problem)
        if name and schema:
            out.append(Extension(r.where(p), name, schema))
    _unique(r, out, path, "extension", lambda e: e.name)
    return tuple(out)


def _extension_problem(value: object) -> str | None:
    if not isinstance(value, str) or not re.match(r"^[a-z][a-z0-9_-]{0,62}\Z", value):
        return f"an extension name such as pg_cron or vector; got {_type(value)}"
    return None


def _schemas(r: _Reader, value: Any, path: KeyPath) -> tuple[Schema, ...]:
    out = []
    for i, item in enumerate(r.seq(value, path)):
        p = (*path, i)
        m = r.mapping(item, p, {"name": True, "domain": True, "owner": False, "description": False})
        if m is None:
            continue
        name = r.name(m.get("name"), (*p, "name"), names.pg_identifier_problem)
        if name in names.RESERVED_SCHEMAS:
            r.issue((*p, "name"), f"a schema not managed by Supabase itself; '{name}' is reserved")
            name = None
        domain = r.string(m.get("domain"), (*p, "domain"), "the schema's owner domain", choices=DOMAINS)
        owner = r.name(m["owner"], (*p, "owner"), names.pg_identifier_problem_allow_pg) if "owner" in m else None
        desc = r.string(m.get("description"), (*p, "description"), optional=True) or ""
        if name:
            # Kept even when another key is wrong, so references to it don't cascade into more errors.
            out.append(Schema(r.where(p), name, domain, owner, desc))
    _unique(r, out, path, "schema name", lambda s: s.name)
    return tuple(out)


def _roles(r: _Reader, value: Any, path: KeyPath, config: Mapping[str, Any]) -> tuple[Role, ...]:
    out = []
    for i, item in enumerate(r.seq(value, path)):
        p = (*path, i)
        m = r.mapping(item, p, {"name": True, "kind": True, "login": False, "password": False,
                                "memberOf": False, "connectionLimit": False, "odooRawAllowed": False,
                                "description": False})
        if m is None:
            continue
        name = r.name(m.get("name"), (*p, "name"), names.pg_identifier_problem)
        if name in names.RESERVED_ROLES:
            r.issue((*p, "name"), f"a role not managed by Supabase itself; '{name}' is reserved")
            name = None
        kind = r.string(m.get("kind"), (*p, "kind"), "the role's kind", choices=ROLE_KINDS)
        login = r.boolean(m.get("login"), (*p, "login"), False)
        password = r.secret(m["password"], (*p, "password"), config) if "password" in m else None
        if login and password is None and "password" not in m:
            r.issue(p, "required key 'password' (missing) for a role with login: true")
        if password is not None and password.kind == "generated":
            r.issue((*p, "password"), "{secret: <configKey>}, {env: VAR} or {managedOutside: ...}: a role "
                    "password must be known to the roles that log in with it, so it cannot be generated "
                    "inside the database")
            password = None
        if password is not None and not login:
            r.issue((*p, "password"), "no password for a role without login (set login: true or drop it)")
        member_of = []
        for j, parent in enumerate(r.seq(m.get("memberOf"), (*p, "memberOf"))):
            pn = r.name(parent, (*p, "memberOf", j), names.pg_identifier_problem_allow_pg)
            if pn:
                member_of.append(pn)
        limit = r.integer(m.get("connectionLimit"), (*p, "connectionLimit"), -1, -1, 10_000)
        raw = r.boolean(m.get("odooRawAllowed"), (*p, "odooRawAllowed"), False)
        desc = r.string(m.get("description"), (*p, "description"), optional=True) or ""
        if name:
            out.append(Role(r.where(p), name, kind, login, password, tuple(member_of), limit, raw, desc))
    _unique(r, out, path, "role name", lambda x: x.name)
    declared = {x.name for x in out}
    for role in out:
        for j, parent in enumerate(role.member_of):
            if parent not in declared and parent not in names.RESERVED_ROLES:
                r.issue((*_path_of(role.where), "memberOf", j), "a declared or Supabase role; the role named is "
                        "neither" + did_you_mean(parent, declared | names.RESERVED_ROLES))
            if parent == role.name:
                r.issue((*_path_of(role.where), "memberOf", j), "a role other than the role itself")
    return tuple(out)


def _privileges(r: _Reader, value: Any, path: KeyPath, on: str | None) -> tuple[str, ...]:
    privs = []
    allowed = GRANT_OBJECTS.get(on or "", frozenset())
    items = r.seq(value, path)
    if not items and isinstance(value, list):
        r.issue(path, "at least one privilege")
    for j, pv in enumerate(items):
        s = r.string(pv, (*path, j), "a privilege name")
        if s is None:
            continue
        up = s.upper()
        if on and up not in allowed:
            r.issue((*path, j), f"a privilege valid on {on} objects, one of {', '.join(sorted(allowed))}; "
                    f"got {_type(s)}")
            continue
        privs.append(up)
    if len(set(privs)) != len(privs):
        r.issue(path, "each privilege once")
    return tuple(sorted(set(privs)))


def _check_refs(r: _Reader, p: KeyPath, role: str | None, schema: str | None, schemas: set[str],
                roles: set[str]) -> None:
    if role and role not in roles and role not in names.RESERVED_ROLES:
        r.issue((*p, "role"), "a declared or Supabase role; the role named is neither" + did_you_mean(role, roles))
    if schema and schema not in schemas:
        r.issue((*p, "schema"), "a declared schema; the schema named is not declared" + did_you_mean(schema, schemas))


def _grants(r: _Reader, value: Any, path: KeyPath, schemas: set[str], roles: set[str]) -> tuple[Grant, ...]:
    out = []
    for i, item in enumerate(r.seq(value, path)):
        p = (*path, i)
        m = r.mapping(item, p, {"role": True, "schema": True, "on": True, "privileges": True, "objects": False})
        if m is None:
            continue
        role = r.name(m.get("role"), (*p, "role"), names.pg_identifier_problem_allow_pg)
        schema = r.name(m.get("schema"), (*p, "schema"), names.pg_identifier_problem)
        on = r.string(m.get("on"), (*p, "on"), "an object type", choices=GRANT_OBJECTS)
        privs = _privileges(r, m.get("privileges"), (*p, "privileges"), on)
        objects = []
        for j, o in enumerate(r.seq(m.get("objects"), (*p, "objects"))):
            on_ = r.name(o, (*p, "objects", j), names.pg_identifier_problem)
            if on_:
                objects.append(on_)
        if on == "schema" and objects:
            r.issue((*p, "objects"), "no objects for a grant on a schema")
        _check_refs(r, p, role, schema, schemas, roles)
        if role and schema and on and privs:
            out.append(Grant(r.where(p), role, schema, on, privs, tuple(objects)))
    seen: dict[str, int] = {}
    for i, g in enumerate(out):
        if g.resource_name in seen:
            r.issue((*path, i), f"one grant per role, schema, object type and objects; duplicate of index "
                    f"{seen[g.resource_name]}")
        seen.setdefault(g.resource_name, i)
    return tuple(out)


def _default_privileges(r: _Reader, value: Any, path: KeyPath, schemas: set[str],
                        roles: set[str]) -> tuple[DefaultPrivilege, ...]:
    out = []
    for i, item in enumerate(r.seq(value, path)):
        p = (*path, i)
        m = r.mapping(item, p, {"role": True, "schema": True, "owner": True, "on": True, "privileges": True})
        if m is None:
            continue
        role = r.name(m.get("role"), (*p, "role"), names.pg_identifier_problem_allow_pg)
        schema = r.name(m.get("schema"), (*p, "schema"), names.pg_identifier_problem)
        owner = r.name(m.get("owner"), (*p, "owner"), names.pg_identifier_problem_allow_pg)
        on = r.string(m.get("on"), (*p, "on"), "an object type", choices=DEFAULT_PRIVILEGE_OBJECTS)
        privs = _privileges(r, m.get("privileges"), (*p, "privileges"), on)
        _check_refs(r, p, role, schema, schemas, roles)
        if owner and owner not in roles and owner not in names.RESERVED_ROLES:
            r.issue((*p, "owner"), "a declared or Supabase role; the role named is neither"
                    + did_you_mean(owner, roles))
        if role and schema and owner and on and privs:
            out.append(DefaultPrivilege(r.where(p), role, schema, owner, on, privs))
    return tuple(out)


def _vault(r: _Reader, value: Any, path: KeyPath, config: Mapping[str, Any]) -> tuple[VaultSecret, ...]:
    if value is None:
        return ()
    m = r.mapping(value, path, {"secrets": False})
    if m is None:
        return ()
    out = []
    sp = (*path, "secrets")
    for i, item in enumerate(r.seq(m.get("secrets"), sp)):
        p = (*sp, i)
        s = r.mapping(item, p, {"name": True, "category": True, "value": True, "description": False})
        if s is None:
            continue
        name = r.name(s.get("name"), (*p, "name"), names.secret_name_problem)
        cat = r.string(s.get("category"), (*p, "category"), "a secret category", choices=SECRET_CATEGORIES)
        src = r.secret(s.get("value"), (*p, "value"), config) if "value" in s else None
        desc = r.string(s.get("description"), (*p, "description"), optional=True) or ""
        if name and cat and src:
            out.append(VaultSecret(r.where(p), name, cat, src, desc))
    _unique(r, out, sp, "Vault secret name", lambda v: v.name)
    return tuple(out)


def cron_schedule_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"a cron schedule; got {_type(value)}"
    v = value.strip()
    if _CRON_SECONDS.match(v) or _CRON_NAMED.match(v):
        return None
    fields = v.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        return ("a cron schedule of 5 fields (minute hour day-of-month month day-of-week, e.g. '*/15 * * * *') "
                f"or 'N seconds'; got {_type(value)}")
    return None


def _cron(r: _Reader, value: Any, path: KeyPath, roles: set[str]) -> tuple[CronJob, ...]:
    if value is None:
        return ()
    m = r.mapping(value, path, {"jobs": False})
    if m is None:
        return ()
    out = []
    jp = (*path, "jobs")
    for i, item in enumerate(r.seq(m.get("jobs"), jp)):
        p = (*jp, i)
        j = r.mapping(item, p, {"name": True, "schedule": True, "command": True, "database": False,
                                "username": False, "active": False})
        if j is None:
            continue
        name = r.name(j.get("name"), (*p, "name"), names.cron_job_problem)
        sched = r.name(j.get("schedule"), (*p, "schedule"), cron_schedule_problem)
        cmd = r.string(j.get("command"), (*p, "command"), "an SQL command")
        ident = names.pg_identifier_problem_allow_pg
        db = r.name(j["database"], (*p, "database"), ident) if "database" in j else None
        user = r.name(j["username"], (*p, "username"), ident) if "username" in j else None
        if user and user not in roles and user not in names.RESERVED_ROLES:
            r.issue((*p, "username"), "a declared or Supabase role; the role named is neither"
                    + did_you_mean(user, roles))
        active = r.boolean(j.get("active"), (*p, "active"), True)
        if name and sched and cmd:
            out.append(CronJob(r.where(p), name, sched.strip(), cmd, db, user, active))
    _unique(r, out, jp, "cron job name", lambda c: c.name)
    return tuple(out)


def _edge(r: _Reader, value: Any, path: KeyPath, config: Mapping[str, Any],
          has_project: bool) -> tuple[EdgeSecret, ...]:
    if value is None:
        return ()
    m = r.mapping(value, path, {"secrets": False})
    if m is None:
        return ()
    out = []
    sp = (*path, "secrets")
    items = r.seq(m.get("secrets"), sp)
    if items and not has_project:
        r.issue(sp, "a 'project' declaration: Edge Function secrets belong to a Supabase project")
    for i, item in enumerate(items):
        p = (*sp, i)
        s = r.mapping(item, p, {"name": True, "category": True, "value": True, "runtimeOnly": False})
        if s is None:
            continue
        name = r.name(s.get("name"), (*p, "name"), names.env_name_problem)
        cat = r.string(s.get("category"), (*p, "category"), "a secret category", choices=SECRET_CATEGORIES)
        src = r.secret(s.get("value"), (*p, "value"), config) if "value" in s else None
        if src is not None and src.kind in ("generated", "managed-outside"):
            r.issue((*p, "value"), "{secret: <configKey>} or {env: VAR}: Supabase cannot generate or adopt "
                    "Edge Function secrets")
            src = None
        reason = r.string(s.get("runtimeOnly"), (*p, "runtimeOnly"), "why the value is runtime-only",
                          optional=True)
        if name and cat and src:
            out.append(EdgeSecret(r.where(p), name, cat, src, reason))
    _unique(r, out, sp, "Edge Function secret name", lambda e: e.name)
    return tuple(out)


def _odoo(r: _Reader, value: Any, path: KeyPath, config: Mapping[str, Any]) -> Odoo | None:
    m = r.mapping(value, path, {"url": True, "database": True, "username": True, "password": True})
    if m is None:
        return None
    url = r.string(m.get("url"), (*path, "url"), "the Odoo server URL")
    if url and not re.match(r"^https?://[^\s/$.?#].[^\s]*\Z", url):
        r.issue((*path, "url"), f"an http(s) URL; got {_type(url)}")
    elif url and not _https_or_loopback(url):
        # The auditor's Odoo password travels with every XML-RPC call.
        r.issue((*path, "url"), "an https URL (plain http only for loopback: 127.0.0.0/8, ::1, localhost)")
    db = r.string(m.get("database"), (*path, "database"), "the Odoo database name")
    user = r.string(m.get("username"), (*path, "username"), "the Odoo login")
    pw = r.secret(m.get("password"), (*path, "password"), config) if "password" in m else None
    if url and db and user and pw:
        return Odoo(r.where(path), url, db, user, pw)
    return None


def _https_or_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    from ssot.transport import is_loopback_host

    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and bool(host) and is_loopback_host(str(host)))


def _aws(r: _Reader, value: Any, path: KeyPath) -> Aws | None:
    m = r.mapping(value, path, {"region": True, "endpointUrl": False, "secretsPrefix": False,
                                "parametersPath": False})
    if m is None:
        return None
    region = r.string(m.get("region"), (*path, "region"), "an AWS region such as eu-central-1")
    if region and not _REGIONS.match(region):
        r.issue((*path, "region"), f"an AWS region such as eu-central-1; got {_type(region)}")
    endpoint = r.string(m.get("endpointUrl"), (*path, "endpointUrl"), "an http(s) URL", optional=True)
    if endpoint and not _https_or_loopback(endpoint):
        # Secret values come back in the responses (and a session token goes with every request).
        r.issue((*path, "endpointUrl"), "an https URL (plain http only for loopback: 127.0.0.0/8, ::1, localhost)")
    prefix = r.string(m.get("secretsPrefix"), (*path, "secretsPrefix"), optional=True) or ""
    ppath = r.string(m.get("parametersPath"), (*path, "parametersPath"), optional=True) or "/"
    if not ppath.startswith("/"):
        r.issue((*path, "parametersPath"), f"a parameter path starting with '/'; got {_type(ppath)}")
    return Aws(r.where(path), region, endpoint, prefix, ppath) if region else None


_ENV_VAR = re.compile(r"[A-Z_][A-Z0-9_]{0,127}\Z")


def _env_name(r: _Reader, value: Any, path: KeyPath) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _ENV_VAR.match(value):
        r.issue(path, f"an environment variable name matching [A-Z_][A-Z0-9_]* (the credential itself is never "
                f"written in the stack); got {_type(value)}")
        return None
    return value


def _audit(r: _Reader, value: Any, path: KeyPath) -> Audit | None:
    m = r.mapping(value, path, {"database": False, "supabase": False, "odoo": False, "timeoutSeconds": False,
                                 "deadlineSeconds": False})
    if m is None:
        return None
    db = r.mapping(m.get("database") or {}, (*path, "database"), {"user": False, "passwordEnv": False}) or {}
    user = r.name(db["user"], (*path, "database", "user"), names.pg_identifier_problem_allow_pg) \
        if "user" in db else None
    sb = r.mapping(m.get("supabase") or {}, (*path, "supabase"), {"projectRef": False, "tokenEnv": False}) or {}
    ref = sb.get("projectRef")
    if ref is not None and (not isinstance(ref, str) or not re.match(r"[a-z]{20}\Z", ref)):
        r.issue((*path, "supabase", "projectRef"), f"a Supabase project ref (20 lowercase letters); got {_type(ref)}")
        ref = None
    od = r.mapping(m.get("odoo") or {}, (*path, "odoo"), {"protocol": False, "credentialEnv": False}) or {}
    protocol = r.string(od.get("protocol", "xmlrpc"), (*path, "odoo", "protocol"), choices=("xmlrpc", "json2"))
    return Audit(
        r.where(path), db_user=user, db_password_env=_env_name(r, db.get("passwordEnv"), (*path, "database",
                                                                                          "passwordEnv")),
        project_ref=ref, supabase_token_env=_env_name(r, sb.get("tokenEnv"), (*path, "supabase", "tokenEnv")),
        odoo_protocol=protocol or "xmlrpc",
        odoo_credential_env=_env_name(r, od.get("credentialEnv"), (*path, "odoo", "credentialEnv")),
        timeout_seconds=r.integer(m.get("timeoutSeconds"), (*path, "timeoutSeconds"), 30, 1, 600),
        deadline_seconds=r.integer(m.get("deadlineSeconds"), (*path, "deadlineSeconds"), 600, 1, 7200),
    )


def _justifications(r: _Reader, value: Any, path: KeyPath) -> tuple[Justification, ...]:
    out = []
    for i, item in enumerate(r.seq(value, path)):
        p = (*path, i)
        m = r.mapping(item, p, {"rule": True, "subject": True, "reason": True, "owner": True, "expires": True})
        if m is None:
            continue
        rule = r.string(m.get("rule"), (*p, "rule"), "a rule id")
        subject = r.string(m.get("subject"), (*p, "subject"), "the finding subject it covers")
        reason = r.string(m.get("reason"), (*p, "reason"), "a reason")
        owner = r.string(m.get("owner"), (*p, "owner"), "an owner (who answers for it)")
        exp = m.get("expires")
        if isinstance(exp, str):
            try:
                exp = dt.date.fromisoformat(exp)
            except ValueError:
                pass
        if not isinstance(exp, dt.date) or isinstance(exp, dt.datetime):
            r.issue((*p, "expires"), f"an expiry date (YYYY-MM-DD); got {_type(exp)}")
            exp = None
        if rule and subject and reason and owner and exp:
            out.append(Justification(r.where(p), rule, subject, reason, owner, exp))
    return tuple(out)


def stack_file(stack: str, root: str | Path = ".") -> Path:
    return Path(root) / "stacks" / f"Pulumi.{stack}.yaml"
