"""Synthetic, format-valid secrets for the detector corpus and the benchmark.

Every value is generated from a seed (deterministic) so no realistic-looking key is committed:
GitHub push protection would rightly block a file full of them. JWTs are built by base64-encoding
a header and payload; their signature is random bytes, except the Supabase CLI demo keys, which are
signed with the published demo JWT secret, as the CLI does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
import uuid
from collections.abc import Callable

B62 = string.ascii_letters + string.digits
B64URL = B62 + "-_"
B64 = B62 + "+/"
HEX = "0123456789abcdef"
UPPER32 = string.ascii_uppercase + "234567"
DEMO_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"


def _pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(payload: dict[str, object], rng: random.Random | None = None, key: str | None = None) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    if key is not None:
        sig = hmac.new(key.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    else:
        sig = bytes((rng or random.Random(0)).getrandbits(8) for _ in range(32))
    return f"{header}.{body}.{_b64url(sig)}"


def _password(rng: random.Random, n: int = 20) -> str:
    core = [rng.choice(string.ascii_lowercase), rng.choice(string.ascii_uppercase), rng.choice(string.digits)]
    core += [rng.choice(B62 + "!#%^*-_+") for _ in range(n - 3)]
    rng.shuffle(core)
    return "".join(core)


def _supabase_jwt(rng: random.Random, role: str) -> str:
    iat = rng.randint(1_650_000_000, 1_750_000_000)
    payload = {"iss": "supabase", "ref": _pick(rng, string.ascii_lowercase, 20), "role": role, "iat": iat}
    payload["exp"] = iat + 315_360_000
    return jwt(payload, rng)


def _pem(rng: random.Random, kind: str = "RSA ") -> str:
    body = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(600))).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{lines}\n-----END {kind}PRIVATE KEY-----"


SECRETS: dict[str, Callable[[random.Random], str]] = {
    "supabase_secret_key": lambda r: f"sb_secret_{_pick(r, B64URL, 22)}_{_pick(r, B62, 8)}",
    "supabase_pat": lambda r: "sbp_" + _pick(r, HEX, 40),
    "supabase_service_role_jwt": lambda r: _supabase_jwt(r, "service_role"),
    "supabase_admin_jwt": lambda r: _supabase_jwt(r, "supabase_admin"),
    "n8n_api_jwt": lambda r: jwt(
        {
            "sub": str(uuid.UUID(int=r.getrandbits(128), version=4)),
            "iss": "n8n",
            "aud": "public-api",
            "iat": r.randint(1_700_000_000, 1_760_000_000),
        },
        r,
    ),
    "n8n_api_legacy": lambda r: "n8n_api_" + _pick(r, HEX, 80),
    "n8n_api_opaque": lambda r: _pick(r, B62, 40),
    "supabase_forged_demo_jwt": lambda r: jwt({"iss": "supabase-demo", "role": "service_role", "exp": 1983812996}, r),
    "password": _password,
    "hex_key": lambda r: _pick(r, HEX, 64),
    "anthropic_api": lambda r: "sk-ant-api03-" + _pick(r, B64URL, 93) + "AA",
    "anthropic_admin": lambda r: "sk-ant-admin01-" + _pick(r, B64URL, 93) + "AA",
    "aws_access_key_id": lambda r: "AKIA" + _pick(r, UPPER32, 16),
    "aws_sts_key_id": lambda r: "ASIA" + _pick(r, UPPER32, 16),
    "aws_secret_access_key": lambda r: _pick(r, B64, 40),
    "github_pat_classic": lambda r: "ghp_" + _pick(r, B62, 36),
    "github_oauth": lambda r: "gho_" + _pick(r, B62, 36),
    "github_app": lambda r: "ghs_" + _pick(r, B62, 36),
    "github_pat_fine": lambda r: f"github_pat_{_pick(r, B62, 22)}_{_pick(r, B62, 59)}",
    "slack_bot": lambda r: f"xoxb-{_pick(r, string.digits, 11)}-{_pick(r, string.digits, 13)}-{_pick(r, B62, 24)}",
    "slack_webhook": lambda r: (
        "https://hooks.slack.com/services/T"
        + _pick(r, UPPER32, 8)
        + "/B"
        + _pick(r, UPPER32, 10)
        + "/"
        + _pick(r, B62, 24)
    ),
    "stripe_live": lambda r: "sk_live_" + _pick(r, B62, 99),
    "stripe_restricted": lambda r: "rk_live_" + _pick(r, B62, 24),
    "pem_rsa": lambda r: _pem(r, "RSA "),
    "pem_openssh": lambda r: _pem(r, "OPENSSH "),
    "pem_pkcs8": lambda r: _pem(r, ""),
}


def secret(kind: str, seed: str) -> str:
    """A deterministic synthetic secret of the given kind; the seed is usually the corpus entry id."""
    return SECRETS[kind](random.Random(f"{kind}:{seed}"))


# Values for the false-positive traps that are best not committed literally either.
TRAP_VALUES: dict[str, Callable[[], str]] = {
    # The Supabase CLI's local demo keys: exactly what `supabase start` prints.
    "demo_anon_jwt": lambda: jwt({"iss": "supabase-demo", "role": "anon", "exp": 1983812996}, key=DEMO_JWT_SECRET),
    "demo_service_jwt": lambda: jwt(
        {"iss": "supabase-demo", "role": "service_role", "exp": 1983812996}, key=DEMO_JWT_SECRET
    ),
    "anon_jwt": lambda: _supabase_jwt(random.Random("anon"), "anon"),
    "cli_local_secret_key": lambda: "sb_secret_" + "N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz",
    "cli_local_publishable_key": lambda: "sb_publishable_" + "ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH",
    "publishable_key": lambda: (
        f"sb_publishable_{_pick(random.Random('pub'), B64URL, 22)}_{_pick(random.Random('p'), B62, 8)}"
    ),
    "uuid": lambda: str(uuid.UUID(int=random.Random("uuid").getrandbits(128), version=4)),
    "git_sha": lambda: hashlib.sha1(b"trap").hexdigest(),  # noqa: S324 - a commit id look-alike, not security
    "sha256": lambda: hashlib.sha256(b"trap").hexdigest(),
    "png_base64": lambda: base64.b64encode(
        b"\x89PNG\r\n\x1a\n" + bytes(random.Random("png").getrandbits(8) for _ in range(300))
    ).decode(),
    "pulumi_ciphertext": lambda: (
        "v1:"
        + base64.b64encode(random.Random("nonce").randbytes(12)).decode()
        + ":"
        + base64.b64encode(random.Random("ct").randbytes(40)).decode()
    ),
    # jwt.io's sample token: its published claims, signed with the secret jwt.io shows beside it.
    "jwt_io_sample": lambda: jwt({"sub": "1234567890", "name": "John Doe", "iat": 1516239022},
                                 key="your-256-bit-secret"),
    # Stripe's documentation test key and GitHub's documentation token, spelled in two halves.
    "stripe_docs_key": lambda: "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "github_docs_token": lambda: "ghp_" + "16C7e42F292c6912E7710c838347Ae178B4a",
    # A password hash as Odoo (passlib) stores admin_passwd and res.users.password.
    "odoo_pbkdf2_hash": lambda: "$pbkdf2-sha512$600000$" + _ab64(random.Random("salt").randbytes(16)) + "$"
    + _ab64(hashlib.pbkdf2_hmac("sha512", b"trap", random.Random("salt").randbytes(16), 1000)),
    "bcrypt_hash": lambda: "$2b$12$" + _pick(random.Random("bcrypt"), B62 + "./", 53),
    "argon2_hash": lambda: "$argon2id$v=19$m=65536,t=3,p=4$" + _b64(random.Random("a2s").randbytes(16)) + "$"
    + _b64(random.Random("a2h").randbytes(32)),
    "sha512_crypt": lambda: "$6$" + _pick(random.Random("s6"), B62, 16)
    + "$" + _pick(random.Random("h6"), B62 + "./", 86),
    "sops_value": lambda: "ENC[AES256_GCM,data:" + _b64(random.Random("sd").randbytes(24))
    + ",iv:" + _b64(random.Random("si").randbytes(32))
    + ",tag:" + _b64(random.Random("st").randbytes(16)) + ",type:str]",
    "vault_body": lambda: _pick(random.Random("vault"), HEX, 80),
}


def _ab64(data: bytes) -> str:
    """passlib's adapted base64: `.` for `+`, no padding."""
    return base64.b64encode(data).decode().rstrip("=").replace("+", ".")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def trap_value(name: str) -> str:
    return TRAP_VALUES[name]()
