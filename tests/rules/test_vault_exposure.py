from __future__ import annotations

from pathlib import Path

import pytest

from ssot.findings import Severity
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.rules.vault_exposure import RULE

from ._cases import Case, Expect, justification, rows, run_case


def fn(phase: Phase, name: str, executable_by: list[str], owner: str = "postgres", **props: object) -> Asset:
    schema = name.split(".", 1)[0]
    return Asset(Kind.SECRET_FUNCTION, Store.POSTGRES, name, phase, Location(object=f"function {name}"),
                 {"schema": schema, "owner": owner, "executable_by": executable_by,
                  "exposes": "vault.decrypted_secrets", "vault_own": schema == "vault",
                  "ssot_fingerprints": False, **props})


def role(phase: Phase, name: str, kind: str | None = None, superuser: bool = False) -> Asset:
    return Asset(Kind.ROLE, Store.POSTGRES, name, phase, Location(object=f"role {name}"),
                 {"role_kind": kind, "login": False, "superuser": superuser})


def roles(p: Phase) -> list[Asset]:
    return [role(p, "acme_agent", "agent"), role(p, "acme_sync", "automation"), role(p, "acme_auditor", "auditor"),
            role(p, "report_reader"), role(p, "root_like", superuser=True)]


def loc(name: str) -> Location:
    return Location(object=f"function {name}")


CASES = [
    Case("nothing there", lambda p: []),
    Case("near miss", lambda p: [*roles(p),
        # Vault's own functions and ssot's fingerprint function (HMACs, not plaintext)
        fn(p, "vault.create_secret(new_secret text)", ["PUBLIC"]),
        # ssot's fingerprint function returns HMACs: any role but the data API's may hold it
        fn(p, "ssot_audit.vault_fingerprints()", ["acme_auditor", "report_reader"], ssot_fingerprints=True),
        # executable only by roles trusted with plaintext anyway: the owner, Supabase's service role,
        # a declared automation role, the auditor, a superuser
        fn(p, "public.n8n_token()", ["service_role", "acme_sync", "acme_auditor", "root_like", "owner_role"],
           owner="owner_role"),
        fn(p, "ops.nobody()", []),
    ]),
    Case("violation", lambda p: [*roles(p),
        fn(p, "public.get_stripe_key()", ["PUBLIC"]),
        fn(p, "api.secret_for(p_name text)", ["authenticated", "service_role"]),
        fn(p, "ops.agent_token()", ["acme_agent", "acme_sync"]),
        fn(p, "ops.report_token()", ["report_reader"]),
        fn(p, "ops.justified_then_public()", ["report_reader", "anon"]),
        fn(p, 'ops.weird(")\nDROP TABLE x; --" text)', ["PUBLIC"]),
        # an overload beside ssot's fingerprint function is not ssot's
        fn(p, "ssot_audit.vault_fingerprints(probe text, raw boolean)", ["acme_agent"], ssot_fingerprints=True),
        # ...and not the data API's roles, which would publish every secret's name and fingerprint
        fn(p, "ssot_audit.vault_fingerprints()", ["acme_auditor", "anon"], ssot_fingerprints=True),
        # the old form, which fingerprinted any guess under the key, is not exempt either
        fn(p, "ssot_audit.vault_fingerprints(probe text)", ["report_reader"], ssot_fingerprints=True),
    ], expect=[
        Expect("function:public.get_stripe_key()", Severity.CRITICAL, loc("public.get_stripe_key()"),
               explain_has=["may be executed by PUBLIC", "data API"],
               propose_has=['REVOKE EXECUTE ON FUNCTION "public"."get_stripe_key"() FROM PUBLIC;',
                            "select decrypted_secret from vault.decrypted_secrets where name = '<secret name>'"],
               metadata_has={"api_roles": ["PUBLIC"]}),
        Expect("function:api.secret_for(p_name text)", Severity.CRITICAL, loc("api.secret_for(p_name text)"),
               propose_has=['REVOKE EXECUTE ON FUNCTION "api"."secret_for"(p_name text) FROM "authenticated";',
                            'REVOKE EXECUTE ON FUNCTION "api"."secret_for"(p_name text) FROM PUBLIC;'],
               metadata_has={"executable_by": ["authenticated"]}),
        Expect("function:ops.agent_token()", Severity.HIGH, loc("ops.agent_token()"),
               explain_has=["acme_agent (agent)"],
               propose_has=['REVOKE EXECUTE ON FUNCTION "ops"."agent_token"() FROM "acme_agent";', "justifications:"],
               metadata_has={"executable_by": ["acme_agent"]}),
        Expect("function:ops.report_token()", Severity.HIGH, loc("ops.report_token()"),
               metadata_has={"executable_by": ["report_reader"]}),
        Expect("function:ops.justified_then_public()", Severity.CRITICAL, loc("ops.justified_then_public()"),
               metadata_has={"executable_by": ["anon", "report_reader"]}),
        # hostile argument text is never rendered into SQL
        Expect('function:ops.weird(")\nDROP TABLE x; --" text)', Severity.CRITICAL,
               loc('ops.weird(")\nDROP TABLE x; --" text)'),
               propose_has=['REVOKE EXECUTE ON FUNCTION "ops"."weird"(<argument types>) FROM PUBLIC;']),
        Expect("function:ssot_audit.vault_fingerprints(probe text, raw boolean)", Severity.HIGH,
               loc("ssot_audit.vault_fingerprints(probe text, raw boolean)"),
               propose_has=['"ssot_audit"."vault_fingerprints"(probe text, raw boolean) FROM "acme_agent";']),
        Expect("function:ssot_audit.vault_fingerprints()", Severity.HIGH, loc("ssot_audit.vault_fingerprints()"),
               explain_has=["keyed fingerprint (not the values)"],
               propose_has=['REVOKE EXECUTE ON FUNCTION "ssot_audit"."vault_fingerprints"() FROM "anon";']),
        Expect("function:ssot_audit.vault_fingerprints(probe text)", Severity.HIGH,
               loc("ssot_audit.vault_fingerprints(probe text)"),
               propose_has=['"ssot_audit"."vault_fingerprints"(probe text) FROM "report_reader";']),
    ], justifications=[
        # a justification silences a named role, never the data API's
        justification("vault_exposure", "function:ops.justified_then_public()"),
    ]),
    Case("fixed", lambda p: [*roles(p),
        fn(p, "public.get_stripe_key()", ["service_role"]),
        fn(p, "ops.agent_token()", ["acme_sync"]),
    ]),
    Case("justified", lambda p: [*roles(p), fn(p, "ops.report_token()", ["report_reader"])],
         justifications=[justification("vault_exposure", "function:ops.report_token()")]),
]


@pytest.mark.parametrize(("case", "phase"), rows(RULE, CASES))
def test_vault_exposure(case: Case, phase: Phase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_case(RULE, case, phase, monkeypatch, tmp_path)
