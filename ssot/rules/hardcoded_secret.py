"""§4: secrets MUST NOT be hardcoded (in files, stack config, cron commands, Odoo addons, resource
inputs, workflows) nor declared with a literal value. No justification applies: the doctrine has no
exception, and a false positive is handled by a suppression of the finding key, not by a justification.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Kind, Phase
from ssot.paths import is_test_path
from ssot.rules import Rule
from ssot.rules._common import (
    PLATFORM_CONFIG,
    category,
    config_key_for,
    indent,
    label,
    literal_context,
    proposal_category,
    safe_token,
    secret_name_for,
    set_secret_command,
    str_list,
    to_yaml,
    vault_read_sql,
    vault_secret_proposal,
)

# Secret types found by a key name or by entropy alone, not by a credential's own format (ours and
# checkov's). In test code these are fixtures unless proven otherwise; a format (`sk_live_`, `ghp_`,
# a PEM key, a service_role JWT) is a real credential wherever it is.
FORMATLESS_TYPES = frozenset({
    "Generic secret", "Postgres password", "n8n basic auth password", "Odoo master password",
    "Odoo system parameter secret", "Base64 High Entropy String", "Hex High Entropy String",
    "Secret Keyword", "Basic Auth Credentials",
})

_ROTATE = ("Rotate the credential first: a value that was ever committed or stored in the clear must be "
           "considered leaked (Git history and backups keep it).")

_CONTEXT_WHERE = {
    "file": "a repository file",
    "stack-config": "the stack config in plaintext",
    "cron-command": "a scheduled job's command",
    "odoo-addon": "an Odoo addon",
    "resource-input": "a Pulumi resource input",
    "workflow": "a CI workflow",
    "git-history": "the Git history",
}


def _history(asset: Asset) -> tuple[str, str]:
    """EXPLAIN's tail and PROPOSE for a secret found in a commit (context git-history)."""
    commit = safe_token(asset.props.get("commit"), r"[0-9a-f]{40}") or "<commit>"
    date = safe_token(asset.props.get("author_date"), r"[0-9T:+\-Z.]{10,40}") or "an unknown date"
    path = asset.location.path or "<path>"
    still = asset.props.get("still_in_head") is True
    explain = (f" It was introduced in commit {commit[:12]} (authored {date}) and is "
               + ("still in HEAD." if still else "no longer in HEAD, but every clone still has it."))
    propose = (
        "1. Rotate the credential now: it is public to anyone with a clone, a fork or a CI cache of this "
        "repository, whether or not the file still holds it.\n"
        + (f"2. Remove it from {path} and read it at run time instead (Supabase Vault, or the environment "
           "provisioned from Vault).\n" if still
           else "2. Nothing to change in the work tree: HEAD no longer holds it.\n")
        + "3. If the repository's policy requires the history to be clean, rewrite it with git filter-repo "
          "once the value is rotated, listing the old value in a file kept outside the repository:\n"
          "    git filter-repo --replace-text <file outside the repository: old-value==>***REMOVED***>\n"
          f"(or `git filter-repo --invert-paths --path {shlex.quote(path)}` if the file should never have been "
          "committed), then force-push every branch and tag, have collaborators re-clone, and ask the "
          "hosting service to drop cached views and pull-request refs of the old commits.\n"
          + vault_secret_proposal(secret_name_for(_secret_type(asset)), category(asset)))
    return explain, propose


def _secret_type(asset: Asset) -> str:
    return safe_token(asset.props.get("secret_type")) or "secret"


def _literal_proposal(asset: Asset, secret_name: str) -> str:
    ctx = literal_context(asset)
    vault = vault_secret_proposal(secret_name, category(asset))
    key = config_key_for(secret_name)
    env = secret_name.upper()
    path = asset.location.path or "the file"
    if ctx == "stack-config":
        how = (f"Replace the plaintext value in {path} by an encrypted config value: run\n"
               f"    {set_secret_command(key)}\n"
               f"(it prompts for the value and stores it as `secure:`), then refer to it as "
               f"`{{secret: {key}}}` wherever the platform declaration needs it.\n" + vault)
    elif ctx == "cron-command":
        how = (f"Remove the literal from the job's command and read it from Vault when the job runs:\n"
               f"    ({vault_read_sql(secret_name)})\n" + vault)
    elif ctx == "odoo-addon":
        how = ("Remove the literal from the addon. Odoo stores and reads nothing secret (§4, §5): the "
               "integration that needs this credential runs from Supabase (pg_cron, an Edge Function or "
               "n8n) and reads it from Vault.\n" + vault)
    elif ctx == "resource-input":
        how = ("Remove the literal from the Pulumi program; read the value from encrypted config instead:\n"
               f"    value = pulumi.Config().require_secret({key!r})\n"
               f"    {set_secret_command(key)}\n" + vault)
    elif ctx == "workflow":
        how = (f"Remove the literal from {path}; reference an encrypted CI secret instead, e.g. "
               f"`${{{{ secrets.{env} }}}}`, whose value is provisioned from Vault, or have the job read it "
               "from Vault at run time.\n" + vault)
    else:
        how = (f"Remove the literal from {path}; read the value at run time from the environment "
               f"(e.g. `os.environ[{env!r}]`), provisioned from Supabase Vault, or query Vault directly.\n"
               + vault)
    return f"{how}\n{_ROTATE}"


def _plain_config_key(asset: Asset) -> str | None:
    """The `ssot:<key>` a declaration reads that is plaintext in the stack file, when the source says so."""
    for ref in (asset.props.get("config_key"), asset.provenance.ref if asset.provenance else None):
        if isinstance(ref, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", ref):
            return ref
    return None


def _reset(config_key: str, what: str) -> str:
    return (f"{what} reads stack config key ssot:{config_key}, which is plaintext in the stack file. Re-set "
            "it encrypted (the CLI prompts for the value and writes it as `secure:`; the declaration stays "
            "as it is):\n"
            f"    {set_secret_command(config_key)}")


def is_test_fixture(asset: Asset) -> bool:
    """A literal in test code whose only reason to be reported is a key name or entropy: a fixture
    password, not a production secret (the test-path policy; see docs/rules/hardcoded_secret.md)."""
    return (asset.kind is Kind.SECRET_LITERAL and is_test_path(asset.location.path)
            and str(asset.props.get("secret_type")) in FORMATLESS_TYPES)


def check(inv: Inventory) -> Iterator[Finding]:
    for a in inv.of(Kind.SECRET_LITERAL):
        ctx = literal_context(a)
        stype = _secret_type(a)
        shape = safe_token(a.props.get("redacted"), r"[^\s]{0,40}…\(\d+ chars\)") or "redacted"
        detector = safe_token(a.props.get("detector"))
        secret_name = secret_name_for(stype)
        fixture = is_test_fixture(a)
        history_explain, history_propose = _history(a) if ctx == "git-history" else ("", "")
        yield RULE.for_asset(
            a, subject=label(a), severity=Severity.LOW if fixture else None,
            explain=(f"A {stype} ({shape}) is hardcoded in {_CONTEXT_WHERE.get(ctx, ctx)} at "
                     f"{a.location.describe()}" + (f", found by {detector}" if detector else "") + "."
                     + history_explain
                     + (" It is in test code and matches no credential format: most likely a fixture, "
                        "reported at low severity (if it is a real credential, it is leaked all the same)."
                        if fixture else "")),
            propose=(("If it is only a fixture, generate it in the test (e.g. `secrets.token_urlsafe()`) or "
                      "mark it `ssot: ignore[hardcoded_secret]` with the reason. Otherwise:\n" if fixture else "")
                     + (history_propose or _literal_proposal(a, secret_name))),
            metadata={"context": ctx, "secret_type": stype, "proposed_vault_secret": secret_name,
                      "test_fixture": fixture,
                      **({"commit": safe_token(a.props.get("commit"), r"[0-9a-f]{40}"),
                          "still_in_head": a.props.get("still_in_head") is True} if ctx == "git-history" else {})},
        )

    for a in inv.of(Kind.CONFIG_VALUE):
        key = str(a.props.get("key") or a.name)
        expected = safe_token(a.props.get("expected"), r"[\w .:/{}<>,'()\[\]-]{1,120}") or "a secret reference"
        top = re.fullmatch(r"ssot:([A-Za-z][A-Za-z0-9_]*)", key)
        plain = _plain_config_key(a) or (top.group(1) if top else None)
        if plain:
            fix = _reset(plain, key)
        else:
            config_key = config_key_for(re.split(r"[.\[\]]+", key.strip(".[]"))[-1] or key)
            fix = (f"Store the value as encrypted stack config and reference it from the declaration:\n"
                   f"    {set_secret_command(config_key)}\n"
                   f"then set '{key}' ({PLATFORM_CONFIG}) to:\n" + indent(to_yaml({"secret": config_key})))
        yield RULE.for_asset(
            a, subject=label(a), severity=Severity.HIGH,
            explain=(f"Config key '{key}' holds a plaintext value at {a.location.describe()} where "
                     f"{expected} is required."),
            propose=f"{fix}\n{_ROTATE}",
            metadata={"key": key},
        )

    for a in inv.of(Kind.VAULT_SECRET, Kind.EDGE_SECRET):
        if a.provenance is None or a.provenance.source != "literal":
            continue
        cat = proposal_category(category(a))
        plain = _plain_config_key(a)
        if plain:
            propose = _reset(plain, label(a))
        elif a.kind is Kind.VAULT_SECRET:
            propose = vault_secret_proposal(a.name, cat)  # a literal has no config key yet
        else:
            key = config_key_for(a.name)
            entry = {"name": a.name, "category": cat, "value": {"secret": key},
                     "runtimeOnly": "<why the function needs it at run time>"}
            propose = (f"Give the Edge Function secret its value from encrypted config ({PLATFORM_CONFIG}):\n"
                       + indent(to_yaml({"edgeFunctions": {"secrets": [entry]}}))
                       + "\nStore the value as encrypted stack config (the CLI prompts for it):\n"
                       + f"    {set_secret_command(key)}")
        yield RULE.for_asset(
            a, subject=label(a),
            explain=(f"{'Vault' if a.kind is Kind.VAULT_SECRET else 'Edge Function'} secret '{a.name}' "
                     f"is declared with a literal value at {a.location.describe()}: the value is in the "
                     "program or its config in the clear."),
            propose=f"{propose}\n{_ROTATE}",
        )

    for a in inv.of(Kind.CRON_JOB):
        types = sorted({t for t in str_list(a.props.get("command_secret_types")) if safe_token(t)})
        if not types:
            continue
        names = [secret_name_for(a.name, t) for t in types]
        reads = "\n".join(f"    ({vault_read_sql(n)})" for n in names)
        decls = "\n".join(vault_secret_proposal(n, "scheduler") for n in names)
        yield RULE.for_asset(
            a, subject=label(a),
            explain=(f"pg_cron job '{a.name}' embeds a credential in its command ({', '.join(types)}) at "
                     f"{a.location.describe()}: anyone who can read cron.job can read it."),
            propose=(f"Rewrite the job's command so the credential is read from Vault when it runs, "
                     f"replacing the literal by:\n{reads}\n{decls}\n{_ROTATE}"),
            metadata={"secret_types": types, "proposed_vault_secrets": names},
        )


RULE = Rule(
    id="hardcoded_secret",
    title="Secret hardcoded instead of read from a secret store",
    clause="§4 Secret Management: secrets MUST NOT be hardcoded or committed to Git",
    severity=Severity.CRITICAL,
    categories=("secrets",),
    phases=frozenset({Phase.DECLARED, Phase.STATIC, Phase.LIVE}),
    risk=("A hardcoded credential is readable by everyone with access to the repository, its history, "
          "CI logs, Pulumi state or the cron table, and cannot be rotated without a code change."),
    remediation=("Rotate the credential, move it into Supabase Vault (value from `pulumi config set "
                 "--secret`), and read it at run time from vault.decrypted_secrets or the environment."),
    check=check,
)
