"""§4, §6: a SECURITY DEFINER function that reads `vault.decrypted_secrets` hands Vault's plaintext to
whoever may execute it.

Vault keeps secrets readable only by the roles granted on `vault.decrypted_secrets`. A function
declared SECURITY DEFINER runs with its owner's rights, so EXECUTE on it is, in effect, SELECT on
the plaintext. The live Postgres source reads every such function with the roles that may execute
it (the owner excluded; PostgreSQL's default grants EXECUTE to PUBLIC):

- PUBLIC, `anon` or `authenticated` (the roles Supabase's data API runs requests as; PostgREST
  serves a function in an exposed schema as `/rpc/<name>`): critical, never justifiable;
- any other role that is not trusted with plaintext anyway: high, unless justified. Trusted are
  superusers, Supabase's `service_role`, `postgres` and `supabase_admin`, and roles the stack
  declares as `auditor`, `automation` or `service`.

Vault's own functions (schema `vault`) and ssot's `ssot_audit.vault_fingerprints` (it returns keyed
HMACs, never a value) stay quiet. The function's body is never rendered: it is free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Kind, Phase
from ssot.rules import Rule
from ssot.rules._common import (
    PLATFORM_CONFIG,
    JustificationIndex,
    check_justification,
    indent,
    justification_index,
    justification_yaml,
    sql_ident,
    str_list,
    vault_read_sql,
)

API_ROLES = frozenset({"PUBLIC", "anon", "authenticated"})
TRUSTED_ROLES = frozenset({"service_role", "postgres", "supabase_admin"})
TRUSTED_KINDS = frozenset({"auditor", "automation", "service"})
# pg_get_function_identity_arguments output: argument names and types, as PostgreSQL spells them.
_ARGS = re.compile(r'[A-Za-z0-9_ ,."\[\]()]{0,300}')
# ssot's own fingerprint function, by its exact signature (no argument: it fingerprints a constant
# probe itself). An overload beside it, the old `(probe text)` form included, which returned the HMAC
# of any guess under the fingerprint key, is not ssot's and is judged like any other function.
_FINGERPRINTS = re.compile(r"ssot_audit\.vault_fingerprints\(\)\Z")


def _role_facts(inv: Inventory) -> tuple[dict[str, str], set[str]]:
    kinds: dict[str, str] = {}
    superusers: set[str] = set()
    for r in inv.of(Kind.ROLE):
        kind = r.props.get("role_kind")
        if isinstance(kind, str) and kind:
            kinds.setdefault(r.name, kind)
        if r.props.get("superuser") is True:
            superusers.add(r.name)
    return kinds, superusers


def function_sql(a: Asset) -> str:
    """`"schema"."name"(args)`, identifiers quoted with psycopg.sql; arguments only when plain."""
    schema = str(a.props.get("schema") or a.name.split(".", 1)[0])
    signature = a.name[len(schema) + 1:] if a.name.startswith(schema + ".") else a.name
    proname, _, rest = signature.partition("(")
    args = rest[:-1] if rest.endswith(")") else rest
    shown = args if _ARGS.fullmatch(args) else "<argument types>"
    return f"{sql_ident(schema, proname)}({shown})"


def _role_sql(role: str) -> str:
    # PUBLIC is a keyword, not a role: quoted, it would name a role that does not exist.
    return "PUBLIC" if role == "PUBLIC" else sql_ident(role)


def _check(inv: Inventory, a: Asset, kinds: dict[str, str], superusers: set[str],
           justified: JustificationIndex) -> Iterator[Finding]:
    if a.props.get("vault_own") is True:
        return
    # ssot's fingerprint function returns names and keyed HMACs, never a value: any role may be granted
    # it, but not the data API's, which would publish every secret's name and fingerprint.
    fingerprints = a.props.get("ssot_fingerprints") is True and bool(_FINGERPRINTS.match(a.name))
    owner = str(a.props.get("owner") or "")
    exposed = sorted(r for r in str_list(a.props.get("executable_by")) if r in API_ROLES)
    others = [] if fingerprints else sorted(
        r for r in str_list(a.props.get("executable_by"))
        if r not in API_ROLES and r != owner and r not in TRUSTED_ROLES and r not in superusers
        and kinds.get(r) not in TRUSTED_KINDS)
    if not exposed and not others:
        return
    subject = f"function:{a.name}"
    just = check_justification(inv, RULE.id, subject, index=justified)
    if just.silenced and not exposed:
        return
    roles = exposed + others
    fn = function_sql(a)
    who = ", ".join(f"{r} ({kinds[r]})" if r in kinds else r for r in roles)
    revoke = "\n".join(f"    REVOKE EXECUTE ON FUNCTION {fn} FROM {_role_sql(r)};" for r in roles)
    if exposed and "PUBLIC" not in exposed:
        # Supabase's default privileges grant functions to anon and authenticated AND PUBLIC keeps
        # PostgreSQL's default EXECUTE: revoking only the named roles would leave PUBLIC's.
        revoke += f"\n    REVOKE EXECUTE ON FUNCTION {fn} FROM PUBLIC;"
    explain = (f"SECURITY DEFINER function {a.name} (owner {owner or 'unknown'}) at {a.location.describe()} reads "
               f"vault.decrypted_secrets and may be executed by {who}: " + (
                   "it returns every Vault secret's name and keyed fingerprint (not the values), which only "
                   "the auditor needs" if fingerprints else
                   "whoever may call it reads Vault's plaintext with its owner's rights"))
    explain += (", and PUBLIC/anon/authenticated are the roles Supabase's data API serves to the internet."
                if exposed else ". Secrets are read by what needs them, not handed to other roles.")
    propose = ("Revoke EXECUTE from every role that is not the consumer:\n" + revoke + "\n"
               "and have the pg_cron job or Edge Function that needs the secret read it from Vault itself "
               "(a service or automation role granted SELECT on vault.decrypted_secrets):\n"
               f"    {vault_read_sql('<secret name>')};\n"
               "or drop the function once nothing calls it.")
    if not exposed:
        propose += (f"\nIf this role truly needs the plaintext, justify it ({PLATFORM_CONFIG}):\n"
                    + indent(justification_yaml(RULE.id, subject)))
    yield RULE.for_asset(
        a, subject=subject, severity=Severity.CRITICAL if exposed and not fingerprints else Severity.HIGH,
        explain=explain + ("" if exposed else just.note()), propose=propose,
        metadata={"executable_by": roles, "api_roles": exposed, **({} if exposed else just.metadata())},
    )


def check(inv: Inventory) -> Iterator[Finding]:
    kinds, superusers = _role_facts(inv)
    justified = justification_index(inv)  # once: per function is quadratic in justifications
    for a in inv.of(Kind.SECRET_FUNCTION):
        yield from _check(inv, a, kinds, superusers, justified)


RULE = Rule(
    id="vault_exposure",
    title="Vault plaintext exposed through a SECURITY DEFINER function",
    clause=("§4 Secret Management: Supabase Vault is the DEFAULT secret store for API keys, webhook secrets, "
            "scheduler and agent credentials"),
    severity=Severity.CRITICAL,
    categories=("secrets", "access"),
    phases=frozenset({Phase.LIVE}),
    risk=("A SECURITY DEFINER function returning vault.decrypted_secrets turns EXECUTE into reading every "
          "secret it returns; granted to PUBLIC, anon or authenticated it serves them over the data API."),
    remediation=("Revoke EXECUTE from every role but the consumer, and read vault.decrypted_secrets in the "
                 "pg_cron job or Edge Function that needs the secret."),
    check=check,
)
