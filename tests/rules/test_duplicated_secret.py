from __future__ import annotations

from pathlib import Path

import pytest

from ssot.findings import Severity
from ssot.inventory import Asset, Kind, Location, Phase, Provenance, Store
from ssot.rules.duplicated_secret import RULE

from ._cases import YESTERDAY, Case, Expect, justification, rows, run_case

FP_A = "a" * 64
FP_B = "b" * 64
VAULT_LOC = Location(urn="urn:pulumi:dev::ssot::ssot:VaultSecret::stripe_api_key")
EDGE_LOC = Location(urn="urn:pulumi:dev::ssot::ssot:EdgeSecret::STRIPE_KEY")
AWS_LOC = Location(object="arn:aws:secretsmanager:eu-central-1:123:secret:prod/stripe")
SSM_LOC = Location(object="/prod/stripe")
ODOO_LOC = Location(object="ir.config_parameter,7")
SYNC_PY = Location(path="scripts/sync.py", line=3)
OLD_PY = Location(path="scripts/old_sync.py", line=9)


def vault(p: Phase, fp: str | None = FP_A, ref: str | None = "secrets.stripe", name: str = "stripe_api_key",
          loc: Location = VAULT_LOC) -> Asset:
    return Asset(Kind.VAULT_SECRET, Store.VAULT, name, p, loc, props={"category": "api-key"},
                 fingerprint=fp, provenance=Provenance("secret-config", ref) if ref else None)


def edge(p: Phase, fp: str | None = None, ref: str | None = "secrets.stripe") -> Asset:
    return Asset(Kind.EDGE_SECRET, Store.EDGE, "STRIPE_KEY", p, EDGE_LOC, props={"category": "api-key"},
                 fingerprint=fp, provenance=Provenance("secret-config", ref) if ref else None)


def aws(p: Phase, fp: str) -> Asset:
    return Asset(Kind.AWS_SECRET, Store.AWS_SECRETS_MANAGER, "prod/stripe", p, AWS_LOC,
                 props={"category": "api-key", "secure": True}, fingerprint=fp)


def literal(p: Phase, path: str, loc: Location, fp: str = FP_A) -> Asset:
    return Asset(Kind.SECRET_LITERAL, Store.REPOSITORY, f"{path}:Stripe API key", p, loc,
                 props={"secret_type": "Stripe API key", "context": "file", "redacted": "sk_live_…(32 chars)"},
                 fingerprint=fp)


TEST_A = Location(path="addons/acme/tests/test_login.py", line=18)
TEST_B = Location(path="addons/acme/tests/test_signup.py", line=100)


def fixture(p: Phase, path: str, loc: Location) -> Asset:
    """A password found by its key name only (no credential format), as in `password = "Test1234!"`."""
    return Asset(Kind.SECRET_LITERAL, Store.REPOSITORY, f"{path}:Generic secret", p, loc,
                 props={"secret_type": "Generic secret", "context": "file", "redacted": "Test…(9 chars)"},
                 fingerprint=FP_A)


VAULT_EDGE = "edge:STRIPE_KEY, vault:stripe_api_key"
LITERALS = "file:scripts/old_sync.py:Stripe API key, file:scripts/sync.py:Stripe API key"

CASES = [
    Case("nothing there", lambda p: []),
    Case("near miss", lambda p: [
        # the same Vault secret seen twice (declared and live) is one member, not a duplicate
        vault(p, fp=None), vault(Phase.LIVE, fp=FP_A, ref=None),
        # two names holding one value inside one store: not "across systems"
        vault(p, fp=FP_B, ref=None, name="stripe_api_key_old"), vault(p, fp=FP_B, ref=None, name="stripe_copy"),
        # different values in different stores
        aws(p, "c" * 64),
        # a plain (non-secure) parameter and a non-secret Odoo parameter with the same digest
        Asset(Kind.AWS_PARAMETER, Store.AWS_SSM, "/prod/region", p, SSM_LOC,
              props={"secure": False}, fingerprint="d" * 64),
        Asset(Kind.ODOO_PARAMETER, Store.ODOO, "web.base.url", p, ODOO_LOC,
              props={"looks_secret": False}, fingerprint="d" * 64),
        # provenance of a generated secret is not a shared source
        Asset(Kind.EDGE_SECRET, Store.EDGE, "SESSION_KEY", p, EDGE_LOC,
              provenance=Provenance("generated", "secrets.stripe")),
    ]),
    Case("violation: one config key into two stores", lambda p: [vault(p, fp=None), edge(p)], expect=[
        Expect(VAULT_EDGE, Severity.HIGH, EDGE_LOC,
               explain_has=["the same config key secrets.stripe", "2 store(s)", VAULT_LOC.describe(),
                            EDGE_LOC.describe()],
               propose_has=["remove edge:STRIPE_KEY",
                            "select decrypted_secret from vault.decrypted_secrets where name = "
                            "'stripe_api_key'"],
               platform_after=["justify this exact group"],
               yaml_after=[("justify this exact group", {"justifications": [{
                   "rule": "duplicated_secret", "subject": VAULT_EDGE,
                   "reason": "<why this exception is needed>", "owner": "<team or person>",
                   "expires": "2025-08-30"}]})],
               metadata_has={"linked_by": "provenance-ref"}),
    ]),
    Case("violation: same value in three stores", lambda p: [
        vault(p, ref=None), aws(p, FP_A),
        Asset(Kind.ODOO_PARAMETER, Store.ODOO, "acme.stripe_key", p, ODOO_LOC,
              props={"looks_secret": True}, fingerprint=FP_A),
        Asset(Kind.AWS_PARAMETER, Store.AWS_SSM, "/prod/stripe", p, SSM_LOC,
              props={"secure": True, "category": "api-key"}, fingerprint=FP_A),
    ], expect=[
        Expect("aws-parameter:/prod/stripe, aws-secret:prod/stripe, odoo-parameter:acme.stripe_key, "
               "vault:stripe_api_key", Severity.HIGH, SSM_LOC,
               explain_has=["the same value", "4 places across 4 store(s)"],
               propose_has=["Supabase Vault as 'stripe_api_key'"],
               metadata_has={"linked_by": "fingerprint"}),
    ]),
    Case("violation: the same literal in two files", lambda p: [
        literal(p, "scripts/sync.py", SYNC_PY), literal(p, "scripts/old_sync.py", OLD_PY)], expect=[
        Expect(LITERALS, Severity.HIGH, OLD_PY, explain_has=["1 store(s)"],
               propose_has=["pulumi config set --secret stripeApiKey"],
               platform_after=["Declare it in Supabase Vault"]),
    ]),
    Case("violation: linked by value and by config key, one group", lambda p: [
        vault(p, fp=None), edge(p, fp=FP_A), aws(p, FP_A)], expect=[
        Expect("aws-secret:prod/stripe, " + VAULT_EDGE, Severity.HIGH, AWS_LOC),
    ]),
    # Test-path policy: test suites share fixture passwords on purpose; a credential format still counts.
    Case("near miss: one fixture password in two test files", lambda p: [
        fixture(p, "addons/acme/tests/test_login.py", TEST_A), fixture(p, "addons/acme/tests/test_signup.py", TEST_B)]),
    Case("violation: one credential format in two test files", lambda p: [
        literal(p, "addons/acme/tests/test_login.py", TEST_A), literal(p, "tests/test_signup.py", TEST_B)],
        expect=[Expect("file:addons/acme/tests/test_login.py:Stripe API key, file:tests/test_signup.py:Stripe API key",
                       Severity.HIGH, TEST_A)]),
    Case("violation: a test copy makes no duplicate, two other copies do", lambda p: [
        fixture(p, "addons/acme/tests/test_login.py", TEST_A), fixture(p, "addons/acme/models/login.py", SYNC_PY),
        literal(p, "scripts/sync.py", SYNC_PY, FP_B), literal(p, "scripts/old_sync.py", OLD_PY, FP_B)],
        expect=[Expect(LITERALS, Severity.HIGH, OLD_PY)]),
    # Live: the Management API gives an Edge Function secret only as its value's SHA-256; the sources keep
    # a keyed fingerprint of that digest (props.digest_fingerprint), for Edge and AWS values alike.
    Case("violation: edge secret and aws secret linked by digest fingerprint", lambda p: [
        Asset(Kind.EDGE_SECRET, Store.EDGE, "STRIPE_KEY", p, EDGE_LOC,
              props={"category": "api-key", "digest_fingerprint": FP_B}),
        Asset(Kind.AWS_SECRET, Store.AWS_SECRETS_MANAGER, "prod/stripe", p, AWS_LOC,
              props={"category": "api-key", "secure": True, "digest_fingerprint": FP_B}, fingerprint=FP_A),
        # near miss: another edge secret whose digest differs
        Asset(Kind.EDGE_SECRET, Store.EDGE, "OTHER_KEY", p, EDGE_LOC,
              props={"category": "api-key", "digest_fingerprint": "c" * 64}),
    ], expect=[
        Expect("aws-secret:prod/stripe, edge:STRIPE_KEY", Severity.HIGH, AWS_LOC,
               explain_has=["2 places across 2 store(s)"], metadata_has={"linked_by": "fingerprint"}),
    ]),
    Case("fixed", lambda p: [vault(p)]),
    Case("justified", lambda p: [vault(p, fp=None), edge(p)],
         justifications=[justification("duplicated_secret", VAULT_EDGE)]),
    Case("justification expired", lambda p: [vault(p, fp=None), edge(p)],
         justifications=[justification("duplicated_secret", VAULT_EDGE, expires=YESTERDAY, owner="payments")],
         expect=[Expect(VAULT_EDGE, Severity.HIGH, EDGE_LOC,
                        explain_has=["justification existed but expired on 2025-05-31 (payments)"],
                        metadata_has={"justification_expired": [{"owner": "payments",
                                                                 "expires": "2025-05-31"}]})]),
    Case("justification for another group does not apply",
         lambda p: [vault(p, fp=None), edge(p, fp=FP_A), aws(p, FP_A)],
         justifications=[justification("duplicated_secret", VAULT_EDGE)],
         expect=[Expect("aws-secret:prod/stripe, edge:STRIPE_KEY, vault:stripe_api_key", Severity.HIGH,
                        AWS_LOC)]),
]


@pytest.mark.parametrize(("case", "phase"), rows(RULE, CASES))
def test_duplicated_secret(case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_case(RULE, case, phase, monkeypatch, tmp_path)
