"""Helpers shared by the doctrine rules: justifications, value-free labels and PROPOSE snippets.

What a rule may render. Rules only ever put into a finding: asset names, kinds, stores, categories,
secret types, schedules, privileges, column names, the `redacted` shape of a literal, locations, and
text built here. They never render free text a source copied from the outside world (a cron job's
`command`, an Odoo cron's `code`, a secret's `description`, anything under `props["raw"]`): such
text is exactly where a careless author pastes a credential.

Today's date. Justifications expire; the only clock a rule reads is `today()`, which honours the
environment variable `SSOT_TODAY` (ISO date, e.g. `SSOT_TODAY=2025-01-31`) so that tests and replays
of an old audit are deterministic. A justification is valid up to and including its `expires` day.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from psycopg import sql

from ssot.inventory import Asset, Inventory, Kind, Store
from ssot.model import CONFIG_NAMESPACE, PLATFORM_KEY, SECRET_CATEGORIES
from ssot.shape import describe

# Proposals are fragments of the platform declaration (ssot.model): this says where they go.
PLATFORM_CONFIG = f"stacks/Pulumi.<stack>.yaml, under config: {PLATFORM_KEY}"
# Doctrine §6: the only schemas AI outputs (and so agent writes) belong in.
AGENT_WRITABLE_DOMAINS = frozenset({"ops", "ai", "audit", "analytics"})
SHADOW_DOMAIN = "shadow"


# --- today and justifications ---------------------------------------------------------------------


def today() -> datetime.date:
    """The date justifications are judged against: `SSOT_TODAY` if set (ISO date), else the real date."""
    override = os.environ.get("SSOT_TODAY", "").strip()
    if override:
        try:
            return datetime.date.fromisoformat(override)
        except ValueError:
            raise ValueError(f"SSOT_TODAY: expected an ISO date like 2025-01-31, got {describe(override)}") from None
    return datetime.date.today()


def _as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class JustificationCheck:
    """The outcome of looking a subject up in `inv.justifications` for one rule."""

    valid: Mapping[str, Any] | None = None
    expired: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    @property
    def silenced(self) -> bool:
        return self.valid is not None

    def note(self) -> str:
        """A sentence for EXPLAIN when a justification existed but no longer holds ("" otherwise)."""
        if not self.expired or self.silenced:
            return ""
        latest = max(self.expired, key=lambda j: _as_date(j.get("expires")) or datetime.date.min)
        when = _as_date(latest.get("expires"))
        owner = str(latest.get("owner") or "no owner")
        if when is None:
            return f" A justification exists ({owner}) but has no valid expiry date, so it does not apply."
        return f" A justification existed but expired on {when.isoformat()} ({owner})."

    def metadata(self) -> dict[str, Any]:
        if not self.expired or self.silenced:
            return {}
        return {"justification_expired": [
            {"owner": str(j.get("owner") or ""),
             "expires": (d.isoformat() if (d := _as_date(j.get("expires"))) else None)}
            for j in self.expired
        ]}


JustificationIndex = Mapping[tuple[str, str], Sequence[Mapping[str, Any]]]


def justification_index(inv: Inventory) -> JustificationIndex:
    """`inv.justifications` by (rule, subject), in declaration order. A rule that checks one subject
    per finding builds it once: rereading every justification per finding is quadratic when a stack
    file declares many of them."""
    out: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for j in inv.justifications:
        if isinstance(j, Mapping) and isinstance(j.get("rule"), str) and isinstance(j.get("subject"), str):
            out.setdefault((j["rule"], j["subject"]), []).append(j)
    return out


def check_justification(inv: Inventory, rule_id: str, subject: str,
                        on: datetime.date | None = None, *,
                        index: JustificationIndex | None = None) -> JustificationCheck:
    """Find the justifications for exactly (`rule_id`, `subject`), in `index` when given (built by
    `justification_index` from the same inventory).

    A justification applies when its `rule` and `subject` equal the finding's (exact match: subjects
    are stable and documented per rule) and `expires` is today or later. One without a usable
    `expires` never applies: an exception to the doctrine must end.
    """
    day = on or today()
    valid: Mapping[str, Any] | None = None
    expired: list[Mapping[str, Any]] = []
    for j in inv.justifications if index is None else index.get((rule_id, subject), ()):
        if not isinstance(j, Mapping) or j.get("rule") != rule_id or j.get("subject") != subject:
            continue
        until = _as_date(j.get("expires"))
        if until is not None and until >= day:
            valid = valid or j
        else:
            expired.append(j)
    return JustificationCheck(valid=valid, expired=tuple(expired))


def justification_yaml(rule_id: str, subject: str, reason: str = "<why this exception is needed>") -> str:
    """The platform-config entry that would justify `subject` (for rules whose clause allows it)."""
    until = (today() + datetime.timedelta(days=90)).isoformat()
    return to_yaml({"justifications": [
        {"rule": rule_id, "subject": subject, "reason": reason, "owner": "<team or person>",
         "expires": until},
    ]})


# --- value-free labels ----------------------------------------------------------------------------

_KIND_LABEL = {
    Kind.VAULT_SECRET: "vault",
    Kind.EDGE_SECRET: "edge",
    Kind.AWS_SECRET: "aws-secret",
    Kind.AWS_PARAMETER: "aws-parameter",
    Kind.ODOO_PARAMETER: "odoo-parameter",
    Kind.ODOO_SECRET_FIELD: "odoo-field",
    Kind.CRON_JOB: "cron",
    Kind.ODOO_CRON: "odoo-cron",
    Kind.SCHEDULE: "schedule",
    Kind.TABLE: "table",
    Kind.ROLE: "role",
    Kind.GRANT: "grant",
    Kind.DEFAULT_PRIVILEGE: "default-privilege",
}


def label(asset: Asset) -> str:
    """A short, stable, value-free name for an asset, used in subjects: e.g. `vault:github_webhook_secret`.

    A literal is labelled by where it was found: `<context>:<name>` (e.g.
    `file:scripts/sync.py:Supabase secret key`); a plaintext config value by its key: `config:<key>`.
    """
    if asset.kind is Kind.SECRET_LITERAL:
        return f"{literal_context(asset)}:{asset.name}"
    if asset.kind is Kind.CONFIG_VALUE:
        return f"config:{asset.props.get('key') or asset.name}"
    return f"{_KIND_LABEL.get(asset.kind, asset.kind.value)}:{asset.name}"


def literal_context(asset: Asset) -> str:
    ctx = asset.props.get("context")
    return ctx if isinstance(ctx, str) and ctx else "file"


def category(asset: Asset) -> str | None:
    """A secret's category, normalised (`API_KEY`, `api key` and `api-key` are one category)."""
    raw = asset.props.get("category")
    if not isinstance(raw, str) or not raw.strip():
        return None
    norm = re.sub(r"[\s_]+", "-", raw.strip().lower())
    return _CATEGORY_ALIASES.get(norm, norm)


_CATEGORY_ALIASES = {
    "apikey": "api-key", "api-token": "api-key", "github": "github-app", "githubapp": "github-app",
    "webhook-secret": "webhook", "webhooks": "webhook", "scheduler-credential": "scheduler",
    "agent-credential": "agent", "db": "database", "database-credential": "database",
    "postgres": "database",
}



def schema_domains(inv: Inventory) -> dict[str, str | None]:
    """Schema name -> doctrine domain, from SCHEMA assets (a declared domain wins over an unknown one)."""
    out: dict[str, str | None] = {}
    for a in inv.of(Kind.SCHEMA):
        dom = a.props.get("domain")
        if out.get(a.name) is None:
            out[a.name] = dom if isinstance(dom, str) and dom else None
    return out


def first_schema_with_domain(inv: Inventory, domain: str, default: str) -> str:
    names = sorted(n for n, d in schema_domains(inv).items() if d == domain)
    return names[0] if names else default


# --- names for proposed objects -------------------------------------------------------------------


def secret_name_for(*parts: str) -> str:
    """A Vault secret name (matches ssot.names: [a-z][a-z0-9_]{0,62}) derived from readable parts."""
    text = "_".join(p for p in parts if p)
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = "secret_" + slug
    return slug[:63].rstrip("_")


def job_name_for(*parts: str) -> str:
    """A pg_cron job name (matches ssot.names: [a-z][a-z0-9_-]{0,62}) derived from readable parts."""
    text = "-".join(p for p in parts if p)
    slug = re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-_")
    if not slug or not slug[0].isalpha():
        slug = "job-" + slug
    return slug[:63].rstrip("-_")


# --- SQL and YAML rendering -----------------------------------------------------------------------


def sql_ident(*parts: str) -> str:
    return ".".join(sql.Identifier(p).as_string(None) for p in parts)


def sql_literal(text: str) -> str:
    return sql.Literal(text).as_string(None)


class _BlockDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Renders multi-line strings as `|` blocks so a proposed SQL command reads as SQL.

    libyaml's emitter when present: every finding renders proposals, and PyYAML's pure-Python
    emitter made 45,000 Odoo crons in one addon take 90 s (4x faster; the same text)."""


def _str_block(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_BlockDumper.add_representer(str, _str_block)


def to_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=100)


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.rstrip("\n").splitlines())


def config_key_for(*parts: str) -> str:
    """A Pulumi config key (`ssot:<key>`, [A-Za-z][A-Za-z0-9_]*) in the camelCase the stacks use."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", "_".join(parts).lower()) if w]
    key = "".join([words[0], *(w.capitalize() for w in words[1:])]) if words else "secretValue"
    return key if key[0].isalpha() else "secret" + key[0].upper() + key[1:]


def proposal_category(value: str | None, default: str = "api-key") -> str:
    """A category the platform declaration accepts (ssot.model.SECRET_CATEGORIES)."""
    if value in SECRET_CATEGORIES:
        return value
    return default if value is None else "other"


def set_secret_command(config_key: str) -> str:
    return f"pulumi config set --secret {config_key}"


def vault_read_sql(secret_name: str) -> str:
    return f"select decrypted_secret from vault.decrypted_secrets where name = {sql_literal(secret_name)}"


def existing_config_key(asset: Asset) -> str | None:
    """The stack config key a declared secret already takes its value from, if any."""
    p = asset.provenance
    if p is not None and p.source == "secret-config" and p.ref and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", p.ref):
        return p.ref
    return None


def vault_secret_proposal(secret_name: str, secret_category: str | None, *,
                          description: str | None = None, existing_key: str | None = None) -> str:
    """Declare a Vault secret whose value comes from encrypted stack config, and how to read it."""
    key = existing_key or config_key_for(secret_name)
    entry: dict[str, Any] = {"name": secret_name, "category": proposal_category(secret_category)}
    if description:
        entry["description"] = description
    entry["value"] = {"secret": key}
    return (
        f"Declare it in Supabase Vault ({PLATFORM_CONFIG}):\n"
        + indent(to_yaml({"vault": {"secrets": [entry]}}))
        + (f"\nIts value is already encrypted stack config ({CONFIG_NAMESPACE}:{key}).\n" if existing_key else
           f"\nStore the value as encrypted stack config ({CONFIG_NAMESPACE}:{key}; the CLI prompts for it, "
           "never pass it as an argument):\n"
           + f"    {set_secret_command(key)}\n")
        + "Read it at run time (SQL, e.g. in a pg_cron command or a SECURITY DEFINER function):\n"
        + f"    {vault_read_sql(secret_name)};"
    )


def scheduler_token(inv: Inventory) -> tuple[str, bool]:
    """The Vault secret pg_cron jobs present as bearer token: an existing scheduler secret if one is
    declared (True), else the name to declare (False)."""
    names = sorted({a.name for a in inv.of(Kind.VAULT_SECRET)
                    if a.store is Store.VAULT and category(a) == "scheduler"})
    return (names[0], True) if names else ("scheduler_token", False)


def scheduler_token_proposal(inv: Inventory) -> tuple[str, str]:
    """(token secret name, the text that declares it or says it exists)."""
    name, exists = scheduler_token(inv)
    if exists:
        return name, f"The job's bearer token is the existing Vault secret '{name}'."
    return name, ("The job's bearer token lives in Vault. "
                  + vault_secret_proposal(name, "scheduler", description="Bearer token pg_cron jobs present"))


def pg_cron_job_proposal(name: str, schedule: str, command: str) -> str:
    return (f"Declare the pg_cron job ({PLATFORM_CONFIG}):\n"
            + indent(to_yaml({"cron": {"jobs": [{"name": name, "schedule": schedule, "command": command}]}})))



def project_ref(inv: Inventory) -> str:
    refs = sorted({str(a.props["ref"]) for a in inv.of(Kind.SUPABASE_PROJECT)
                   if isinstance(a.props.get("ref"), str) and re.fullmatch(r"[a-z]{20}", a.props["ref"])})
    return refs[0] if refs else "<project-ref>"


def edge_function_url(inv: Inventory, function: str) -> str:
    return function_url(project_ref(inv), function)


def function_url(ref: str, function: str) -> str:
    return f"https://{ref}.supabase.co/functions/v1/{function}"


@dataclass(frozen=True)
class PgCronTarget:
    """What every pg_cron job proposed from one inventory shares: the project its Edge Functions run
    in and the Vault secret the jobs present as bearer token (with the text that declares it or says
    it exists). A rule reads it once per run: read per finding, it rescans the inventory's projects
    and secrets for each one, which is quadratic."""

    ref: str
    token: str
    token_text: str

    def url(self, function: str) -> str:
        return function_url(self.ref, function)


def pg_cron_target(inv: Inventory) -> PgCronTarget:
    token, token_text = scheduler_token_proposal(inv)
    return PgCronTarget(project_ref(inv), token, token_text)


def http_post_command(url: str, token_secret: str, body: Mapping[str, str]) -> str:
    """A pg_cron command that calls an Edge Function or n8n webhook, its bearer token read from Vault."""
    pairs = ", ".join(f"{sql_literal(k)}, {sql_literal(v)}" for k, v in body.items())
    return (
        "select net.http_post(\n"
        f"  url := {sql_literal(url)},\n"
        "  headers := jsonb_build_object(\n"
        "    'Content-Type', 'application/json',\n"
        f"    'Authorization', 'Bearer ' || ({vault_read_sql(token_secret)})),\n"
        f"  body := jsonb_build_object({pairs})\n"
        ");"
    )


# --- schedules ------------------------------------------------------------------------------------

_ODOO_UNITS = {
    "minute": "minutes", "minutes": "minutes", "min": "minutes",
    "hour": "hours", "hours": "hours", "h": "hours",
    "day": "days", "days": "days", "d": "days", "work_days": "days",
    "week": "weeks", "weeks": "weeks", "w": "weeks",
    "month": "months", "months": "months",
}


def _interval_parts(interval: Any) -> tuple[int, str] | None:
    number: Any
    unit: Any
    if isinstance(interval, Mapping):
        number = interval.get("number", interval.get("interval_number"))
        unit = interval.get("type", interval.get("interval_type", interval.get("unit")))
    elif isinstance(interval, (list, tuple)) and len(interval) == 2:
        number, unit = interval
    elif isinstance(interval, str):
        m = re.fullmatch(r"\s*(\d+)\s*([a-z_]+)\s*", interval.lower())
        if not m:
            return None
        number, unit = m.group(1), m.group(2)
    else:
        return None
    try:
        n = int(number)
    except (TypeError, ValueError):
        return None
    u = _ODOO_UNITS.get(str(unit).strip().lower()) if unit is not None else None
    if u is None or n < 1:
        return None
    return n, u


def odoo_interval_text(interval: Any) -> str | None:
    """A readable Odoo interval ("every 2 hours"), or None when it is not a known number + unit."""
    parts = _interval_parts(interval)
    if parts is None:
        return None
    n, unit = parts
    return f"every {unit[:-1]}" if n == 1 else f"every {n} {unit}"


def odoo_interval_to_cron(interval: Any) -> str | None:
    """Translate an Odoo `ir.cron` interval (number + type) into a 5-field cron expression.

    Accepts {"number": 1, "type": "days"}, {"interval_number": .., "interval_type": ..}, (1, "days")
    or "1 days". Returns None when the interval is unknown or has no exact cron equivalent.
    """
    parts = _interval_parts(interval)
    if parts is None:
        return None
    n, unit = parts
    if unit == "minutes":
        if n < 60 and 60 % n == 0:
            return "* * * * *" if n == 1 else f"*/{n} * * * *"
        if n % 60 == 0:
            return odoo_interval_to_cron((n // 60, "hours"))
        return None
    if unit == "hours":
        if n < 24 and 24 % n == 0:
            return "0 * * * *" if n == 1 else f"0 */{n} * * *"
        if n % 24 == 0:
            return odoo_interval_to_cron((n // 24, "days"))
        return None
    if unit == "days":
        return "0 0 * * *" if n == 1 else (f"0 0 */{n} * *" if n <= 31 else None)
    if unit == "weeks":
        return "0 0 * * 1" if n == 1 else None
    if unit == "months":
        return "0 0 1 * *" if n == 1 else (f"0 0 1 */{n} *" if n <= 12 else None)
    return None


_CRON_FIELD = r"[0-9*/,\-A-Za-z?LW#]+"
_CRON_EXPR = re.compile(
    rf"^\s*(?:@(?:yearly|annually|monthly|weekly|daily|hourly)|{_CRON_FIELD}(?:\s+{_CRON_FIELD}){{4}})\s*\Z"
)


def cron_expression(value: Any) -> str | None:
    """`value` if it is a cron expression (5 fields or an @macro), else None (then it is not rendered)."""
    if isinstance(value, str) and _CRON_EXPR.match(value):
        return " ".join(value.split())
    return None


def odoo_method(code: Any) -> str | None:
    """The method an Odoo cron calls (`model._cron_sync()` -> `_cron_sync`), without rendering its code."""
    if not isinstance(code, str):
        return None
    m = re.search(r"\bmodel\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(", code)
    return m.group(1) if m else None


def safe_token(value: Any, pattern: str = r"[A-Za-z0-9_.:\-/ ]{1,120}") -> str | None:
    """`value` if it is a short plain token (a model name, a type); otherwise None, so it is not rendered."""
    if isinstance(value, str) and re.fullmatch(pattern, value):
        return value
    return None


def str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        return [str(v) for v in value if v is not None and str(v)]
    return []


STORE_LABEL = {
    Store.VAULT: "Supabase Vault", Store.EDGE: "Edge Function secrets",
    Store.AWS_SECRETS_MANAGER: "AWS Secrets Manager", Store.AWS_SSM: "AWS SSM Parameter Store",
    Store.ODOO: "Odoo", Store.REPOSITORY: "the repository", Store.STACK_CONFIG: "the stack config",
    Store.GITHUB_ACTIONS: "GitHub Actions", Store.CRONTAB: "a crontab", Store.N8N: "n8n",
    Store.POSTGRES: "Supabase Postgres", Store.SUPABASE: "the Supabase Management API",
}


def grantee_sql(role: str) -> str:
    # PUBLIC is a keyword, not a role: quoted, "public" would name a role that does not exist.
    return "public" if role == "public" else sql_ident(role)


def revoke_sql(a: Asset, role: str, schema: str, privs: list[str]) -> str:
    """The REVOKE that undoes (part of) a GRANT or DEFAULT_PRIVILEGE asset, identifiers quoted."""
    obj_type = str(a.props.get("object_type") or "table").lower()
    objects = str_list(a.props.get("objects")) or ["*"]
    plist = ", ".join(p.lower() for p in privs)
    who = grantee_sql(role)
    if a.kind is Kind.DEFAULT_PRIVILEGE:
        owner = a.props.get("owner")
        on = {"table": "tables", "sequence": "sequences", "function": "functions"}.get(obj_type, "tables")
        for_role = f"for role {sql_ident(str(owner))} " if owner else ""
        return f"alter default privileges {for_role}in schema {sql_ident(schema)} revoke {plist} on {on} from {who};"
    if obj_type == "schema":
        return f"revoke {plist} on schema {sql_ident(schema)} from {who};"
    kind = "sequence" if obj_type == "sequence" else "table"
    if "*" in objects:
        return f"revoke {plist} on all {kind}s in schema {sql_ident(schema)} from {who};"
    targets = ", ".join(sql_ident(*(o.split(".", 1) if "." in o else (schema, o))) for o in objects)
    return f"revoke {plist} on {kind} {targets} from {who};"
