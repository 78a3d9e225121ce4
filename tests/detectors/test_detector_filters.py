"""One table per false-positive filter: what it excuses, and near misses it must not excuse."""

from __future__ import annotations

import detector_synth as synth
import pytest

from ssot.detectors import all_filters, false_positive_reason

DEMO_ANON = synth.trap_value("demo_anon_jwt")
DEMO_SERVICE = synth.trap_value("demo_service_jwt")
ANON = synth.trap_value("anon_jwt")
CIPHERTEXT = synth.trap_value("pulumi_ciphertext")
SERVICE = synth.secret("supabase_service_role_jwt", "filters")
FORGED_DEMO = synth.secret("supabase_forged_demo_jwt", "filters")
PASSWORD = synth.secret("password", "filters")
SB_SECRET = synth.secret("supabase_secret_key", "filters")
JWT_IO = synth.trap_value("jwt_io_sample")
SOPS = synth.trap_value("sops_value")

# filter name -> [(secret, line, expected)]
CASES: dict[str, list[tuple[str, str, bool]]] = {
    "is_code_identifier": [
        ("ssot.VaultSecret", '"dynamic/ssot:VaultSecret": "ssot.VaultSecret",', True),
        ("settings.API_KEY", "token = settings.API_KEY", True),
        ("self.password", "", True),
        ("pulumi-python:dynamic/ssot:EdgeFunctionSecret", "", True),
        ("EdgeFunctionSecret", '"pulumi-python:dynamic/ssot:EdgeFunctionSecret": "x",', True),
        ("EdgeFunctionSecret9x", "", False),
        (PASSWORD, f"password = {PASSWORD}", False),
        (SERVICE, "", False),  # a JWT has dots too, and digits, and length
        ("abc.def1234567", "", False),
    ],
    "is_sequential_run": [
        ("0123456789abcdef", "key: x:0123456789abcdef", True),
        ("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", "", True),
        ("xxabcdefghxx", "", True),
        (PASSWORD, "", False),
        (SB_SECRET, "", False),
        ("abcdefg1234567", "", False),  # runs of 7: still a possible value
    ],
    "is_github_actions_secret_ref": [
        ("${{ secrets.DB_PASSWORD }}", "", True),
        ("${{secrets.X}}", "password: ${{secrets.X}}", True),
        ("secrets.N8N_KEY", "  N8N_KEY: ${{ secrets.N8N_KEY }}", True),
        ("${{ vars.REGION }}", "", True),
        (PASSWORD, f"  token: {PASSWORD}  # not ${{{{ secrets.X }}}}", False),
        ("${{ 'literal' }}", "", True),  # still an expression: starts with ${{
    ],
    "is_env_reference": [
        ("${DB_PASSWORD}", "", True),
        ("$DB_PASSWORD", "", True),
        ("${DB_PASSWORD:?required}", "", True),
        ("os.environ[", 'pw = os.environ["DB_PASSWORD"]', True),
        ("DB_PASSWORD", 'pw = os.getenv("DB_PASSWORD")', True),
        ("process.env.N8N_API_KEY", "", True),
        ("Deno.env.get('SERVICE_KEY')", "", True),
        ("%(DB_PASSWORD)s", "", True),
        ("${DB_PASSWORD:-S3cr3t-default}", "", False),  # the default is a literal secret
        (PASSWORD, f'pw = os.getenv("DB_PASSWORD", "{PASSWORD}")', False),
        ("$pbkdf2-sha512$25000$abcdefgh", "", False),
    ],
    "is_vault_lookup": [
        (
            "service_role_key",
            "(select decrypted_secret from vault.decrypted_secrets where name = 'service_role_key')",
            True,
        ),
        ("select decrypted_secret from vault.decrypted_secrets where name = 'x'", "", True),
        (PASSWORD, f"select vault.create_secret('{PASSWORD}', 'db_password');", False),
        ("vault.create_secret('abc', 'x') from vault.decrypted_secrets", "", False),
    ],
    "is_pulumi_secure_ciphertext": [
        (CIPHERTEXT, "", True),
        (CIPHERTEXT, f"    secure: {CIPHERTEXT}", True),
        (CIPHERTEXT[3:20], f"  ssot:key: {{secure: {CIPHERTEXT}}}", True),
        ("AAABAKMSdEZ7mVXyCXTnuXdx9KT0s0v3", "    secure: AAABAKMSdEZ7mVXyCXTnuXdx9KT0s0v3", True),
        (PASSWORD, f"  ssot:dbPassword: {PASSWORD}", False),
        ("v1:not-base64!:x", "", False),
    ],
    "is_local_development_default": [
        (DEMO_ANON, "", True),
        (DEMO_SERVICE, "", True),
        ("super-secret-jwt-token-with-at-least-32-characters-long", "", True),
        (synth.trap_value("cli_local_secret_key"), "", True),
        ("postgres", "DATABASE_URL=postgres://postgres:postgres@localhost:54322/postgres", True),
        ("postgres://postgres:postgres@127.0.0.1:54322/postgres", "", True),
        ("postgres", "host=localhost port=54322 user=postgres password=postgres", True),
        (FORGED_DEMO, "", False),  # claims supabase-demo but is not signed with the demo secret
        (SERVICE, "", False),
        ("postgres", "DATABASE_URL=postgres://postgres:postgres@db.prod.internal:5432/postgres", False),
        ("postgres", "a=postgres://postgres:postgres@localhost/x b=postgres://postgres:postgres@prod/x", False),
        (PASSWORD, f"postgres://postgres:{PASSWORD}@localhost:54322/postgres", False),
        (SB_SECRET, "", False),
    ],
    "is_cloud_resource_name": [
        ("acme/*", '"Resource": "arn:aws:secretsmanager:*:*:secret:acme/*"', True),
        ("prod/db-XyZ12a", '"arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/db-XyZ12a"', True),
        ("arn:aws:ssm:eu-central-1:123456789012:parameter/acme/token", "", True),
        (PASSWORD, f'"Resource": "arn:aws:secretsmanager:*:*:secret:x", "password": "{PASSWORD}"', False),
        (PASSWORD, f"secret: {PASSWORD}", False),
    ],
    "is_public_by_design": [
        (ANON, "", True),
        (DEMO_ANON, "", True),
        (synth.trap_value("publishable_key"), "", True),
        ("pk_live_" + "a1B2" * 6, "", True),
        (SERVICE, "", False),
        (SB_SECRET, "", False),
        ("eyJnot.a.jwt", "", False),
    ],
    "is_placeholder": [
        ("changeme", "", True),
        ("<your-api-key>", "", True),
        ("[YOUR-PASSWORD]", "", True),
        ("sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "", True),
        ("********", "", True),
        ("your_api_key_here", "", True),
        ("'REPLACE_ME'", "", True),
        ("sk-ant-api03-...", "", True),
        ("password", "", True),
        (PASSWORD, "", False),
        (SB_SECRET, "", False),
        ("Tr0ub4dor&3-horse", "", False),
    ],
    "is_documentation_example": [
        ("AKIAIOSFODNN7EXAMPLE", "", True),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", True),
        ("sk-ant-api03-abcdefexample", "", True),
        ("sk_live_sample_key_1234567890", "", True),
        ("lorem-ipsum-dolor-1234", "", True),
        (synth.secret("aws_access_key_id", "filters"), "", False),
        (PASSWORD, "", False),
    ],
    "is_public_sample_token": [
        (JWT_IO, f"Authorization: Bearer {JWT_IO}", True),
        (f'"{JWT_IO}"', "", True),
        (synth.trap_value("stripe_docs_key"), "", True),
        (synth.trap_value("github_docs_token"), "", True),
        # the same claims signed with another key: a real token that copies the sample
        (synth.jwt({"sub": "1234567890", "name": "John Doe", "iat": 1516239022}, key="another-secret"), "", False),
        (SERVICE, "", False),
        (synth.trap_value("stripe_docs_key")[:-1] + "X", "", False),  # one character off
    ],
    "is_encrypted_blob": [
        (SOPS, f"    password: {SOPS}", True),
        ("data:abc", f"    password: {SOPS}", False),  # not inside ENC[...]
        ("$ANSIBLE_VAULT;1.1;AES256", "  $ANSIBLE_VAULT;1.1;AES256", True),
        ("!vault", "db_password: !vault |", True),
        ("-----BEGIN AGE ENCRYPTED FILE-----", "", True),
        ("AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "", False),  # an identity
        (synth.trap_value("vault_body"), synth.trap_value("vault_body"), False),  # hex alone: unknown
        (PASSWORD, f"password: {PASSWORD}", False),
    ],
    "is_password_hash": [
        (synth.trap_value("odoo_pbkdf2_hash"), "", True),
        (synth.trap_value("bcrypt_hash"), "", True),
        (synth.trap_value("argon2_hash"), "", True),
        (synth.trap_value("sha512_crypt"), "", True),
        ("pbkdf2_sha256$600000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo", "", True),
        (synth.trap_value("bcrypt_hash")[:40], "", False),  # truncated: not a hash, maybe a password
        ("$6$short", "", False),
        ("$2b$12$", "", False),
        (PASSWORD, f"password = {PASSWORD}", False),
    ],
    "is_template_expression": [
        ("${object.access_token}", '"?access_token=${object.access_token}"', True),
        ("{{ object.signup_url }}", "", True),
        ("${ctx.get('token')}", "", True),
        ("<%= ENV.fetch('X') %>", "", True),
        ("${VAR}", "", False),  # an environment reference, is_env_reference's
        ("${sk_live_x}", "", False),
        (PASSWORD, "", False),
        ("${" + PASSWORD + "}", "", False),
    ],
}


def test_every_filter_has_a_table() -> None:
    assert set(CASES) == {f.__name__ for f in all_filters()}


@pytest.mark.parametrize(
    ("name", "secret", "line", "expected"),
    [(name, s, line, exp) for name, rows in CASES.items() for s, line, exp in rows],
    ids=lambda v: v if isinstance(v, str) and v.startswith("is_") else "",
)
def test_filter(name: str, secret: str, line: str, expected: bool) -> None:
    fn = next(f for f in all_filters() if f.__name__ == name)
    assert fn(secret, line, "some/path") is expected


def test_false_positive_reason_names_the_filter_or_none() -> None:
    assert false_positive_reason("${{ secrets.X }}", "token: ${{ secrets.X }}", "ci.yml") == (
        "is_github_actions_secret_ref"
    )
    assert false_positive_reason("AKIAIOSFODNN7EXAMPLE", "", "") == "is_documentation_example"
    assert false_positive_reason(SB_SECRET, f"key={SB_SECRET}", ".env") is None
    assert false_positive_reason(f'"{DEMO_SERVICE}"', "", "") == "is_local_development_default"  # quoted


def test_filters_never_raise_on_odd_input() -> None:
    odd = ["", " ", "'", '""', "\x00", "\ud800", "eyJ", "eyJ.eyJ.x", "a" * 100_000, "v1:::", "${", "${{"]
    for fn in all_filters():
        for value in odd:
            assert fn(value, value, value) in (True, False)
