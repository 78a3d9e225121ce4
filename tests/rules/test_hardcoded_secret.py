from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ssot.findings import Severity
from ssot.inventory import Asset, Kind, Location, Phase, Provenance, Store
from ssot.model import Platform
from ssot.rules.hardcoded_secret import RULE
from ssot.sources._repo import secret_assets

from ._cases import Case, Expect, justification, rows, run_case

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "detectors"))
import detector_synth as synth

SYNC_PY = Location(path="scripts/sync.py", line=12, column=9)
STACK = Location(path="stacks/Pulumi.dev.yaml", line=7)
CRON_XML = Location(path="addons/acme_sync/data/ir_cron.xml", line=21)
PROGRAM = Location(path="__main__.py", line=30, urn="urn:pulumi:dev::ssot::postgresql:index/role:Role::agent")
WORKFLOW = Location(path=".github/workflows/deploy.yml", line=18)
JOB = Location(object="cron.job:nightly-sync", urn="urn:pulumi:dev::ssot::ssot:CronJob::nightly-sync")
VAULT_URN = Location(urn="urn:pulumi:dev::ssot::ssot:VaultSecret::stripe_api_key", path="stacks/Pulumi.dev.yaml",
                     line=40)
EDGE_URN = Location(urn="urn:pulumi:dev::ssot::ssot:EdgeSecret::STRIPE_KEY")

VAULT_YAML = {"vault": {"secrets": [{"name": "supabase_secret_key", "category": "api-key",
                                     "value": {"secret": "supabaseSecretKey"}}]}}


def vault_from_config(name: str, key: str) -> Callable[[Platform], None]:
    def check(platform: Platform) -> None:
        declared = {v.name: v for v in platform.vault_secrets}
        assert declared[name].value.kind == "secret-config"
        assert declared[name].value.ref == key
    return check


def edge_from_config(name: str, key: str) -> Callable[[Platform], None]:
    def check(platform: Platform) -> None:
        assert [(e.name, e.value.kind, e.value.ref) for e in platform.edge_secrets] == [
            (name, "secret-config", key)]
    return check


def literal(phase: Phase, where: str, context: str, loc: Location, stype: str = "Supabase secret key",
            store: Store = Store.REPOSITORY) -> Asset:
    return Asset(Kind.SECRET_LITERAL, store, f"{where}:{stype}", phase, loc,
                 props={"secret_type": stype, "detector": "CKV_SECRET_6", "context": context,
                        "redacted": "sb_secret_…(41 chars)"}, fingerprint="f" * 64)


TEST_PY = Location(path="addons/acme/tests/test_login.py", line=18, column=20)
CONFTEST = Location(path="tests/conftest.py", line=5)


COMMIT = "0123456789ab" + "c" * 28
HISTORY_LOC = Location(path="scripts/old.py", line=3, column=7, object=f"commit {COMMIT}")


def history(phase: Phase, path: str = "scripts/old.py", still: bool = True) -> Asset:
    return Asset(Kind.SECRET_LITERAL, Store.REPOSITORY, f"{path}:Stripe live secret key@{COMMIT[:12]}", phase,
                 dataclasses.replace(HISTORY_LOC, path=path),
                 props={"secret_type": "Stripe live secret key", "detector": "StripeSecretKeyDetector",
                        "context": "git-history", "redacted": "sk_l…(32 chars)", "commit": COMMIT,
                        "author_date": "2024-03-01T10:00:00+01:00", "still_in_head": still}, fingerprint="f" * 64)


def scanned(phase: Phase, *files: tuple[str, str]) -> list[Asset]:
    """What the static source makes of these texts: detectors, then false-positive filters."""
    return [dataclasses.replace(a, phase=phase) for rel, text in files for a in secret_assets(text, rel, "file")]


PLAIN_CONF = "[options]\nadmin_passwd = Zq7vN2kLp9xWm4Rt\n"
HASHED_CONF = f"[options]\nadmin_passwd = {synth.trap_value('odoo_pbkdf2_hash')}\n"
NOT_SECRETS = [
    ("odoo/odoo.hashed.conf", HASHED_CONF),
    ("ops/users.yml", f"root_password: \"{synth.trap_value('sha512_crypt')}\"\n"
                      f"password_hash: \"{synth.trap_value('bcrypt_hash')}\"\n"),
    ("docs/stripe.md", f"stripe.api_key = \"{synth.trap_value('stripe_docs_key')}\"\n"
                       f"GITHUB_TOKEN={synth.trap_value('github_docs_token')}\n"),
    ("ops/secrets.enc.yaml", f"stripe:\n    password: {synth.trap_value('sops_value')}\n"),
    ("ops/vault.yml", "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n"),
    ("addons/sale/i18n/de.po", 'msgid "password = ${object.signup_token}"\n'
                               'msgstr "Passwort = ${object.signup_token}"\n'),
    ("addons/sale/i18n/fr.po", 'msgid "password = ${object.signup_token}"\n'
                               'msgstr "mot de passe = ${object.signup_token}"\n'),
]


def cron(phase: Phase, types: list[str]) -> Asset:
    return Asset(Kind.CRON_JOB, Store.POSTGRES, "nightly-sync", phase, JOB,
                 props={"schedule": "0 3 * * *", "command": "select 1", "database": "postgres",
                        "username": "postgres", "active": True, "scheduler": "pg_cron",
                        "command_secret_types": types})


def vault(phase: Phase, source: str) -> Asset:
    return Asset(Kind.VAULT_SECRET, Store.VAULT, "stripe_api_key", phase, VAULT_URN,
                 props={"category": "api-key", "description": "Stripe"},
                 provenance=Provenance(source, "secrets.stripe_api_key" if source != "literal" else None))


def edge(phase: Phase, source: str) -> Asset:
    return Asset(Kind.EDGE_SECRET, Store.EDGE, "STRIPE_KEY", phase, EDGE_URN,
                 props={"category": "api-key", "runtime_only_reason": "webhook signature check"},
                 provenance=Provenance(source))


ROTATE = "Rotate the credential"

CASES = [
    Case("nothing there", lambda p: []),
    Case("near miss", lambda p: [
        vault(p, "secret-config"), edge(p, "generated"), cron(p, []),
        Asset(Kind.VAULT_SECRET, Store.VAULT, "no_provenance", p, VAULT_URN),
        Asset(Kind.ODOO_PARAMETER, Store.ODOO, "database.secret", p, props={"looks_secret": True}),
    ]),
    Case("violation: file", lambda p: [literal(p, "scripts/sync.py", "file", SYNC_PY)], expect=[
        Expect("file:scripts/sync.py:Supabase secret key", Severity.CRITICAL, SYNC_PY,
               propose_has=["os.environ['SUPABASE_SECRET_KEY']",
                            "pulumi config set --secret supabaseSecretKey",
                            "select decrypted_secret from vault.decrypted_secrets where name = "
                            "'supabase_secret_key'", ROTATE],
               explain_has=["sb_secret_…(41 chars)", "scripts/sync.py:12", "CKV_SECRET_6"],
               yaml_after=[("Declare it in Supabase Vault", VAULT_YAML)],
               platform_after=["Declare it in Supabase Vault"],
               applied=vault_from_config("supabase_secret_key", "supabaseSecretKey")),
    ]),
    Case("violation: stack config", lambda p: [
        literal(p, "stacks/Pulumi.dev.yaml", "stack-config", STACK, store=Store.STACK_CONFIG)], expect=[
        Expect("stack-config:stacks/Pulumi.dev.yaml:Supabase secret key", Severity.CRITICAL, STACK,
               propose_has=["pulumi config set --secret supabaseSecretKey",
                            "{secret: supabaseSecretKey}", ROTATE],
               yaml_after=[("Declare it in Supabase Vault", VAULT_YAML)]),
    ]),
    Case("violation: cron command", lambda p: [
        literal(p, "cron.job:nightly-sync", "cron-command", JOB, "Stripe API key", Store.POSTGRES)], expect=[
        Expect("cron-command:cron.job:nightly-sync:Stripe API key", Severity.CRITICAL, JOB,
               propose_has=["(select decrypted_secret from vault.decrypted_secrets where name = "
                            "'stripe_api_key')", "pulumi config set --secret stripeApiKey"],
               platform_after=["Declare it in Supabase Vault"],
               applied=vault_from_config("stripe_api_key", "stripeApiKey")),
    ]),
    Case("violation: odoo addon", lambda p: [
        literal(p, "addons/acme_sync/data/ir_cron.xml", "odoo-addon", CRON_XML, "Stripe API key",
                Store.ODOO)], expect=[
        Expect("odoo-addon:addons/acme_sync/data/ir_cron.xml:Stripe API key", Severity.CRITICAL, CRON_XML,
               propose_has=["Odoo stores and reads nothing secret", "vault:\n", "name: stripe_api_key"]),
    ]),
    Case("violation: resource input", lambda p: [
        literal(p, "__main__.py", "resource-input", PROGRAM, "password", Store.REPOSITORY)], expect=[
        Expect("resource-input:__main__.py:password", Severity.CRITICAL, PROGRAM,
               propose_has=["pulumi.Config().require_secret('password')",
                            "pulumi config set --secret password"]),
    ]),
    Case("violation: workflow", lambda p: [
        literal(p, ".github/workflows/deploy.yml", "workflow", WORKFLOW, "GitHub token",
                Store.GITHUB_ACTIONS)], expect=[
        Expect("workflow:.github/workflows/deploy.yml:GitHub token", Severity.CRITICAL, WORKFLOW,
               propose_has=["${{ secrets.GITHUB_TOKEN }}", "name: github_token"]),
    ]),
    Case("violation: plaintext config value", lambda p: [
        Asset(Kind.CONFIG_VALUE, Store.STACK_CONFIG, "vault.secrets[0].value", p, STACK,
              props={"key": "vault.secrets[0].value", "expected": "a {secret: <configKey>} reference"})],
        expect=[Expect("config:vault.secrets[0].value", Severity.HIGH, STACK,
                       propose_has=["pulumi config set --secret value"],
                       explain_has=["a {secret: <configKey>} reference"],
                       yaml_after=[("then set 'vault.secrets[0].value'", {"secret": "value"})])]),
    Case("violation: plaintext top-level config key", lambda p: [
        Asset(Kind.CONFIG_VALUE, Store.STACK_CONFIG, "ssot:githubWebhookSecret", p, STACK,
              props={"key": "ssot:githubWebhookSecret", "expected": "an encrypted (secure:) value"})],
        expect=[Expect("config:ssot:githubWebhookSecret", Severity.HIGH, STACK,
                       propose_has=["pulumi config set --secret githubWebhookSecret\n"])]),
    Case("violation: declaration reads a plaintext config key", lambda p: [
        Asset(Kind.CONFIG_VALUE, Store.STACK_CONFIG, "project.dbPassword", p, STACK,
              props={"key": "project.dbPassword", "config_key": "dbPassword",
                     "expected": "a secret reference ({secret: <configKey>}, {env: VAR}, ...)"},
              provenance=Provenance("literal", "dbPassword")),
        Asset(Kind.VAULT_SECRET, Store.VAULT, "anthropic_api_key", p, VAULT_URN, props={"category": "api-key"},
              provenance=Provenance("literal", "anthropicApiKey"))],
        expect=[Expect("config:project.dbPassword", Severity.HIGH, STACK,
                       propose_has=["reads stack config key ssot:dbPassword, which is plaintext",
                                    "    pulumi config set --secret dbPassword\n"]),
                Expect("vault:anthropic_api_key", Severity.CRITICAL, VAULT_URN,
                       propose_has=["vault:anthropic_api_key reads stack config key ssot:anthropicApiKey",
                                    "    pulumi config set --secret anthropicApiKey\n"])]),
    Case("violation: literal provenance", lambda p: [vault(p, "literal"), edge(p, "literal")], expect=[
        Expect("vault:stripe_api_key", Severity.CRITICAL, VAULT_URN,
               yaml_after=[("Declare it in Supabase Vault", {"vault": {"secrets": [
                   {"name": "stripe_api_key", "category": "api-key",
                    "value": {"secret": "stripeApiKey"}}]}})],
               platform_after=["Declare it in Supabase Vault"]),
        Expect("edge:STRIPE_KEY", Severity.CRITICAL, EDGE_URN,
               propose_has=["pulumi config set --secret stripeKey"],
               platform_after=["Give the Edge Function secret its value"],
               applied=edge_from_config("STRIPE_KEY", "stripeKey")),
    ]),
    Case("violation: cron command secret types", lambda p: [cron(p, ["Stripe API key", "JWT"])], expect=[
        Expect("cron:nightly-sync", Severity.CRITICAL, JOB,
               propose_has=["(select decrypted_secret from vault.decrypted_secrets where name = "
                            "'nightly_sync_stripe_api_key')",
                            "(select decrypted_secret from vault.decrypted_secrets where name = "
                            "'nightly_sync_jwt')",
                            "pulumi config set --secret nightlySyncJwt"],
               platform_after=["Declare it in Supabase Vault"],
               explain_has=["JWT, Stripe API key"],
               metadata_has={"secret_types": ["JWT", "Stripe API key"]}),
    ]),
    # The false-positive families, through the real detectors and filters (a source's view of each text).
    Case("near miss: hashes, ciphertext, public samples and templates are no plaintext secrets",
         lambda p: scanned(p, *NOT_SECRETS)),
    Case("violation: plaintext admin_passwd (the hashed one stays quiet)",
         lambda p: scanned(p, ("odoo/odoo.conf", PLAIN_CONF), *NOT_SECRETS), expect=[
        Expect("file:odoo/odoo.conf:Odoo master password", Severity.CRITICAL,
               Location(path="odoo/odoo.conf", line=2, column=16), propose_has=["Rotate the credential"]),
    ]),
    Case("fixed: admin_passwd hashed", lambda p: scanned(p, ("odoo/odoo.conf", HASHED_CONF))),
    # Test-path policy: a fixture password in test code is low; a credential format is not excused.
    Case("violation: fixture password in test code is low", lambda p: [
        literal(p, "addons/acme/tests/test_login.py", "odoo-addon", TEST_PY, "Generic secret"),
        literal(p, "tests/conftest.py", "file", CONFTEST, "Postgres password"),
    ], expect=[
        Expect("odoo-addon:addons/acme/tests/test_login.py:Generic secret", Severity.LOW, TEST_PY,
               explain_has=["in test code", "fixture"], propose_has=["secrets.token_urlsafe()", "Rotate"],
               metadata_has={"test_fixture": True}),
        Expect("file:tests/conftest.py:Postgres password", Severity.LOW, CONFTEST),
    ]),
    Case("violation: credential format in test code stays critical", lambda p: [
        literal(p, "addons/acme/tests/test_login.py", "odoo-addon", TEST_PY, "Stripe live secret key"),
        literal(p, "addons/acme/models/login.py", "odoo-addon", SYNC_PY, "Generic secret"),
    ], expect=[
        Expect("odoo-addon:addons/acme/tests/test_login.py:Stripe live secret key", Severity.CRITICAL, TEST_PY,
               metadata_has={"test_fixture": False}),
        # the same key name outside test code: not a test path, full severity
        Expect("odoo-addon:addons/acme/models/login.py:Generic secret", Severity.CRITICAL, SYNC_PY),
    ]),
    Case("violation: committed to the git history", lambda p: [history(p, still=False), history(p, "ops/env")],
         expect=[
        Expect("git-history:scripts/old.py:Stripe live secret key@0123456789ab", Severity.CRITICAL, HISTORY_LOC,
               explain_has=["introduced in commit 0123456789ab (authored 2024-03-01T10:00:00+01:00)",
                            "no longer in HEAD, but every clone still has it"],
               propose_has=["1. Rotate the credential now", "HEAD no longer holds it",
                            "git filter-repo --replace-text", "--invert-paths --path scripts/old.py"],
               metadata_has={"still_in_head": False, "commit": COMMIT}),
        Expect("git-history:ops/env:Stripe live secret key@0123456789ab", Severity.CRITICAL,
               dataclasses.replace(HISTORY_LOC, path="ops/env"),
               explain_has=["still in HEAD"], propose_has=["2. Remove it from ops/env"]),
    ]),
    Case("fixed", lambda p: [vault(p, "secret-config"), cron(p, [])]),
    # The doctrine has no exception for hardcoding: a justification does not silence it.
    Case("justification does not apply",
         lambda p: [literal(p, "scripts/sync.py", "file", SYNC_PY)],
         justifications=[justification("hardcoded_secret", "file:scripts/sync.py:Supabase secret key")],
         expect=[Expect("file:scripts/sync.py:Supabase secret key", Severity.CRITICAL, SYNC_PY)]),
]


@pytest.mark.parametrize(("case", "phase"), rows(RULE, CASES))
def test_hardcoded_secret(case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_case(RULE, case, phase, monkeypatch, tmp_path)
