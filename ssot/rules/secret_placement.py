"""§4: Supabase Vault is the default store for automation secrets; Edge Function secrets are for
runtime-only values; secrets are never stored in Odoo models.

- A secret of a Vault category (github-app, api-key, webhook, scheduler, agent, database) held in AWS
  or declared outside Vault: finding, unless justified (Vault is the default, not the only store).
- An Edge Function secret without `runtime_only_reason`: finding, unless justified. With a reason it
  is the doctrine's allowed exception and stays quiet.
- An Odoo secret field or a secret-looking Odoo system parameter: finding, never justifiable. Fields
  whose source marks them `purpose: odoo-internal` (password hashes, per-record portal tokens Odoo
  keeps for itself) and parameters judged not secret by their value stay quiet.
"""

from __future__ import annotations

from collections.abc import Iterator

from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Kind, Phase, Store
from ssot.rules import Rule
from ssot.rules._common import (
    PLATFORM_CONFIG,
    STORE_LABEL,
    JustificationIndex,
    category,
    check_justification,
    config_key_for,
    existing_config_key,
    indent,
    justification_index,
    justification_yaml,
    label,
    project_ref,
    proposal_category,
    secret_name_for,
    to_yaml,
    vault_secret_proposal,
)

VAULT_CATEGORIES = frozenset({"github-app", "api-key", "webhook", "scheduler", "agent", "database"})


def _edge(inv: Inventory, a: Asset, ref: str, justified: JustificationIndex) -> Iterator[Finding]:
    reason = a.props.get("runtime_only_reason")
    if isinstance(reason, str) and reason.strip():
        return
    subject = label(a)
    just = check_justification(inv, RULE.id, subject, index=justified)
    if just.silenced:
        return
    cat = category(a)
    vault_cat = cat in VAULT_CATEGORIES
    name = secret_name_for(a.name)
    config_key = existing_config_key(a) or config_key_for(a.name)
    yield RULE.for_asset(
        a, subject=subject, severity=Severity.HIGH if vault_cat else Severity.MEDIUM,
        explain=(f"Edge Function secret '{a.name}'" + (f" (category {cat})" if cat else "")
                 + f" at {a.location.describe()} has no runtime_only_reason: Edge Function secrets are "
                 "allowed only for values a function needs at run time"
                 + (", and this category belongs in Supabase Vault." if vault_cat else ".") + just.note()),
        propose=(
            "Either move it to Supabase Vault. "
            + vault_secret_proposal(name, cat, existing_key=existing_config_key(a)) + "\n"
            + "and unset it from the functions once they read it from Vault:\n"
            + f"    supabase secrets unset {a.name} --project-ref {ref}\n"
            + f"or, if a function truly needs it at run time, say why in its declaration ({PLATFORM_CONFIG}):\n"
            + indent(to_yaml({"edgeFunctions": {"secrets": [
                {"name": a.name, "category": proposal_category(cat), "value": {"secret": config_key},
                 "runtimeOnly": "<what reads it at run time, and why not Vault>"}]}}))
        ),
        metadata={"category": cat, **just.metadata()},
    )


def _outside_vault(inv: Inventory, a: Asset, justified: JustificationIndex) -> Iterator[Finding]:
    cat = category(a)
    if cat not in VAULT_CATEGORIES or a.store is Store.VAULT:
        return
    subject = label(a)
    just = check_justification(inv, RULE.id, subject, index=justified)
    if just.silenced:
        return
    name = secret_name_for(a.name.rsplit("/", 1)[-1])
    if a.kind is Kind.AWS_SECRET:
        remove = f"    aws secretsmanager delete-secret --secret-id {a.name!r}\n"
    elif a.kind is Kind.AWS_PARAMETER:
        remove = f"    aws ssm delete-parameter --name {a.name!r}\n"
    else:
        remove = ""
    where = STORE_LABEL.get(a.store, a.store.value)
    yield RULE.for_asset(
        a, subject=subject,
        explain=(f"Secret '{a.name}' of category {cat} is kept in {where} at {a.location.describe()}; "
                 "Supabase Vault is the default store for this category." + just.note()),
        propose=(vault_secret_proposal(name, cat or "api-key")
                 + "\nPoint its consumers at Vault, then remove the copy"
                 + (":\n" + remove if remove else ".\n")
                 + f"If it must stay in {where}, justify it ({PLATFORM_CONFIG}):\n"
                 + indent(justification_yaml(RULE.id, subject))),
        metadata={"category": cat, **just.metadata()},
    )


def _odoo(inv: Inventory, a: Asset) -> Iterator[Finding]:
    if a.kind is Kind.ODOO_PARAMETER:
        if a.props.get("looks_secret") is not True:
            return
        what = f"Odoo system parameter '{a.name}' (ir.config_parameter) looks like a secret"
        remove = (f"    env['ir.config_parameter'].sudo().search([('key', '=', {a.name!r})]).unlink()  "
                  "# odoo shell")
        name = secret_name_for("odoo", a.name)
    else:
        if a.props.get("purpose") == "odoo-internal":
            # a password hash or per-record token Odoo keeps for itself, not another system's credential
            return
        what = f"Odoo field '{a.name}' stores a secret in an Odoo model"
        model = str(a.props.get("model") or a.name.rsplit(".", 1)[0])
        field = str(a.props.get("field") or a.name.rsplit(".", 1)[-1])
        remove = (f"    remove the field {field!r} from model {model!r} in the addon, and clear the stored "
                  "values with a migration")
        name = secret_name_for(model, field)
    yield RULE.for_asset(
        a, subject=label(a),
        explain=f"{what} at {a.location.describe()}: secrets MUST NOT be stored in Odoo models.",
        propose=(vault_secret_proposal(name, category(a) or "api-key")
                 + "\nWhatever used it moves to Supabase (Edge Function, pg_cron or n8n) and reads it from "
                   "Vault; Odoo keeps nothing secret:\n" + remove),
    )


def check(inv: Inventory) -> Iterator[Finding]:
    # Read once per run, not per finding (which is quadratic in secrets x projects or justifications).
    ref, justified = project_ref(inv), justification_index(inv)
    for a in inv.of(Kind.EDGE_SECRET):
        yield from _edge(inv, a, ref, justified)
    for a in inv.of(Kind.AWS_SECRET, Kind.AWS_PARAMETER, Kind.VAULT_SECRET):
        yield from _outside_vault(inv, a, justified)
    for a in inv.of(Kind.ODOO_SECRET_FIELD, Kind.ODOO_PARAMETER):
        yield from _odoo(inv, a)


RULE = Rule(
    id="secret_placement",
    title="Secret kept outside Supabase Vault",
    clause=("§4 Secret Management: Supabase Vault is the DEFAULT secret store; Edge Function secrets are "
            "allowed ONLY for runtime-only values; secrets MUST NOT be stored in Odoo models"),
    severity=Severity.HIGH,
    categories=("secrets",),
    phases=frozenset({Phase.DECLARED, Phase.STATIC, Phase.LIVE}),
    risk=("Secrets scattered over stores escape Vault's access control, rotation and audit; secrets in Odoo "
          "are readable by every Odoo administrator and ERP backup."),
    remediation=("Move the secret to Supabase Vault and have consumers read it at run time; keep Edge "
                 "Function secrets only with a runtime_only_reason; store nothing secret in Odoo."),
    check=check,
)
