"""The inventory: the doctrine-relevant assets of a platform, whatever phase they were read in.

Three adapters fill it (declared: the Pulumi program; static: repository files; live: the running
systems). Rules only ever read an Inventory, so one rule runs in every phase that has its data.
A secret is represented by a fingerprint (keyed HMAC), never by its value.

Asset conventions (sources must fill these; rules rely on nothing else). `name` is unique per
(store, kind). Props, by kind:

- SCHEMA       name=schema; props: domain ("ops"|"ai"|"audit"|"analytics"|"shadow"|None), owner
- TABLE        name="schema.table"; props: schema, table, domain (of the schema), columns (list[str])
- ROLE         name=role; props: role_kind ("agent"|"automation"|"auditor"|"service"|None), login (bool),
               odoo_raw_allowed (bool: an explicit allowance to read raw Odoo data)
- GRANT        name="role:object_type:schema[.object]"; props: role, role_kind, schema,
               object_type ("schema"|"table"|"sequence"|"function"), objects (list[str], ["*"] = all),
               privileges (list[str], upper case)
- DEFAULT_PRIVILEGE  as GRANT, plus owner (the role whose future objects it covers)
- EXTENSION    name=extension; props: schema
- VAULT_SECRET name=secret name; props: category, description; fingerprint; provenance
- EDGE_SECRET  name=env var; props: category, runtime_only_reason (str|None); fingerprint; provenance
- AWS_SECRET / AWS_PARAMETER  name=secret id / parameter name; props: category, secure (bool); fingerprint
- CRON_JOB     name=jobname; props: schedule, command, database, username, active, scheduler="pg_cron"
- ODOO_CRON    name=xml id or cron name; props: model, code, interval, active,
               defined_in ("xml"|"csv"|"python"|"manifest"|"declared"|"live")
- ODOO_MODULE    an Odoo module an addon depends on or a database has installed; name=technical name;
               props: state ("depended"|"installed"|"to install"|...), job_runner (bool: queue_job and
               kin, which make Odoo a job runner), depended_by (list[str], static), defined_in
- ODOO_JOB     work Odoo runs as a job runner (§5); name=where ("path:line" statically, "model.method"
               live); props: via ("with_delay"|"delayable"|"queue.job"|"cron_to_job"), model, method,
               count (live: jobs seen), defined_in ("python"|"xml"|"live")
- ODOO_DATA_FIELD  an Odoo model or field holding what belongs in Supabase (§2: embeddings, agent memory,
               KPIs); name="model.field" (or "model" for a whole model); props: model, field, holds
               ("embedding"|"agent_memory"|"kpi"), defined_in
- ODOO_PARAMETER  name=ir.config_parameter key; props: looks_secret (bool); fingerprint
- ODOO_SECRET_FIELD  a secret meant to be stored in an Odoo model; name="model.field"; props: model, field
- SECRET_LITERAL   a secret-looking literal; name="<where>:<secret_type>"; props: secret_type, detector,
               context ("file"|"stack-config"|"cron-command"|"odoo-addon"|"resource-input"|"workflow"),
               redacted (see fingerprint.redact); fingerprint (of the literal)
- SCHEDULE     work scheduled outside pg_cron/n8n; store says where (GITHUB_ACTIONS, CRONTAB, ODOO);
               props: schedule, scheduler, command (may be None), justified (bool)
- SECRET_FUNCTION  a SECURITY DEFINER function whose body reads vault.decrypted_secrets (whoever may
               execute it may read plaintext); name="schema.function(args)"; props: schema, owner,
               executable_by (list[str], "PUBLIC" included), exposes, vault_own (bool), ssot_fingerprints (bool)
- SUPABASE_PROJECT  name=project name; props: ref, region, organization
- CONFIG_VALUE a plaintext config value where a secret reference is required; props: key, expected

Live assets (`ssot.sources.live`) carry the same props, the doctrine facts a catalog cannot know (a
role's kind, a schema's domain, a secret's category) filled in from the stack by name, plus what only a
live read sees: `location.object` names the live object (e.g. "cron.job 12", "vault.secrets <id>");
SCHEMA/ROLE `supabase_builtin` (Supabase's own), ROLE `pseudo` (PUBLIC), `superuser`, `bypassrls`;
SCHEMA `object_counts` ({"table"|"sequence"|"function": n}); VAULT_SECRET `id`, `named`, `updated_at`,
`fingerprint_key` (the audit's own key secret), `fingerprint_key_differs` (the database's key is not
this process's: its fingerprint is withheld); CRON_JOB `jobid`, `failed_runs`, `last_failure`. Live
grants are per-object ACLs normalised to the declared names: privileges every object of a type in a
schema grants become `role:type:schema` (objects ["*"]), the rest stay `role:type:schema.object`.

Secrets additionally carry `provenance` (Provenance: where the value comes from: secret config key,
generated, managed outside, literal). Duplicates are found by equal fingerprints or equal provenance
refs across stores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    DECLARED = "declared"
    STATIC = "static"
    LIVE = "live"


class Kind(StrEnum):
    """What an asset is. Rules select assets by kind."""

    SCHEMA = "schema"
    TABLE = "table"
    ROLE = "role"
    GRANT = "grant"
    DEFAULT_PRIVILEGE = "default_privilege"
    EXTENSION = "extension"
    VAULT_SECRET = "vault_secret"
    CRON_JOB = "cron_job"
    EDGE_SECRET = "edge_secret"
    AWS_SECRET = "aws_secret"
    AWS_PARAMETER = "aws_parameter"
    ODOO_CRON = "odoo_cron"
    ODOO_PARAMETER = "odoo_parameter"
    ODOO_SECRET_FIELD = "odoo_secret_field"
    ODOO_MODULE = "odoo_module"
    ODOO_JOB = "odoo_job"
    ODOO_DATA_FIELD = "odoo_data_field"
    SECRET_FUNCTION = "secret_function"
    SUPABASE_PROJECT = "supabase_project"
    CONFIG_VALUE = "config_value"
    SECRET_LITERAL = "secret_literal"
    SCHEDULE = "schedule"
    JUSTIFICATION = "justification"


class Store(StrEnum):
    """Where an asset lives. For secrets this is what the placement rules judge."""

    POSTGRES = "supabase-postgres"
    VAULT = "supabase-vault"
    EDGE = "supabase-edge-functions"
    SUPABASE = "supabase-management"
    AWS_SECRETS_MANAGER = "aws-secrets-manager"
    AWS_SSM = "aws-ssm"
    ODOO = "odoo"
    REPOSITORY = "repository"
    STACK_CONFIG = "stack-config"
    GITHUB_ACTIONS = "github-actions"
    CRONTAB = "crontab"
    N8N = "n8n"


@dataclass(frozen=True, slots=True)
class Location:
    """Where an asset was seen: a file position, a Pulumi URN, or a live object id (any may be set)."""

    path: str | None = None
    line: int | None = None
    urn: str | None = None
    object: str | None = None
    column: int | None = None

    def describe(self) -> str:
        parts = []
        if self.path:
            parts.append(f"{self.path}:{self.line}" if self.line else self.path)
        if self.urn:
            parts.append(self.urn)
        if self.object:
            parts.append(self.object)
        return " / ".join(parts) or "<unknown>"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("path", self.path), ("line", self.line), ("column", self.column),
                                  ("urn", self.urn), ("object", self.object)) if v is not None}


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a secret's value comes from, as far as the declaration says."""

    source: str  # "secret-config" | "generated" | "managed-outside" | "literal" | "reference" | "unknown"
    ref: str | None = None  # config key, environment variable or Vault name it is read from

    @property
    def is_secret_source(self) -> bool:
        return self.source in ("secret-config", "generated", "managed-outside", "reference")


@dataclass(slots=True)
class Asset:
    """One thing the doctrine cares about.

    `props` holds kind-specific facts (e.g. a grant's privileges, a secret's category, a cron
    job's schedule and command). `fingerprint` is a keyed digest of a secret's value so that
    duplicates can be found without anyone holding two plaintexts. `source_id` says which
    value-source fed it (e.g. the config key) for duplicates that share a source, not a value.
    """

    kind: Kind
    store: Store
    name: str
    phase: Phase
    location: Location = field(default_factory=Location)
    props: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    provenance: Provenance | None = None

    @property
    def ident(self) -> str:
        """Stable identity used in finding keys: does not include file lines, which move."""
        return f"{self.store.value}:{self.kind.value}:{self.name}"


@dataclass
class Inventory:
    """Assets of one or more phases, plus what the collecting sources could not read."""

    assets: list[Asset] = field(default_factory=list)
    phases: set[Phase] = field(default_factory=set)
    # Names of sources that failed to read; an audit with any of these is incomplete, never a pass.
    incomplete: list[str] = field(default_factory=list)
    # Justifications (rule id, subject, reason, owner, expiry) declared in the platform config.
    justifications: list[dict[str, Any]] = field(default_factory=list)
    _by_kind: dict[Kind, list[Asset]] = field(default_factory=lambda: defaultdict(list), repr=False)

    def __post_init__(self) -> None:
        assets, self.assets = self.assets, []
        self.extend(assets)

    def add(self, asset: Asset) -> Asset:
        self.assets.append(asset)
        self._by_kind[asset.kind].append(asset)
        self.phases.add(asset.phase)
        return asset

    def extend(self, assets: Iterable[Asset]) -> None:
        for a in assets:
            self.add(a)

    def discard(self, predicate: Callable[[Asset], bool]) -> int:
        """Drop the assets `predicate` selects (e.g. one source's view of what another explains better)."""
        kept = [a for a in self.assets if not predicate(a)]
        dropped = len(self.assets) - len(kept)
        if dropped:
            self.assets, self._by_kind = [], defaultdict(list)
            for a in kept:
                self.assets.append(a)
                self._by_kind[a.kind].append(a)
        return dropped

    def of(self, *kinds: Kind) -> Iterator[Asset]:
        for k in kinds:
            yield from self._by_kind.get(k, ())

    def merge(self, other: Inventory) -> Inventory:
        self.extend(other.assets)
        self.phases |= other.phases
        self.incomplete.extend(other.incomplete)
        self.justifications.extend(other.justifications)
        return self

    def __len__(self) -> int:
        return len(self.assets)
