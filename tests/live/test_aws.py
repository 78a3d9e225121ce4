"""The AWS live source against moto's server mode over HTTP (boto3 as in production, paginators only).

Faults are real HTTP: a forwarding proxy in front of moto answers 429 / AccessDenied in Secrets
Manager's own JSON error shape, or holds a request past the client's timeout; IAM is enforced by moto
with the policy in audits/aws/iam-policy.json.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

from ssot.fingerprint import fingerprint
from ssot.inventory import Kind, Phase
from ssot.sources.live import SourceContext, all_sources
from ssot.sources.live.aws import OPERATIONS, SOURCE

from .conftest import AWS_ENV, all_text, make_platform, moto_post

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-central-1"
KEY = "test-fingerprint-key-0123456789abcdef"
CANARY = "ssot-canary-aws-Zq7Xw3Vb9Nm2Lk5J"  # planted as a secret value: must never come back
CANARY_PARAM = "ssot-canary-ssm-Hg4Fd8Sa1Pl6Ok3I"


def _client(service: str, url: str, **creds: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name=REGION,
                        **{"aws_access_key_id": "testing", "aws_secret_access_key": "testing", **creds})


def _platform(tmp_path: Path, url: str, prefix: str = "acme/", path: str = "/acme/") -> Any:
    aws = {"region": REGION, "endpointUrl": url, "parametersPath": path}
    if prefix:
        aws["secretsPrefix"] = prefix
    return make_platform(tmp_path, aws=aws)


def _ctx(timeout: float = 5.0, env: dict[str, str] | None = None) -> SourceContext:
    return SourceContext(env={**AWS_ENV, "SSOT_FINGERPRINT_KEY": KEY, **(env or {})}, timeout=timeout)


def _seed(url: str) -> dict[str, str]:
    sm, ssm = _client("secretsmanager", url), _client("ssm", url)
    arns = {}
    for name, value in (("acme/stripe_api_key", CANARY), ("acme/github_webhook_secret", "whsec-one"),
                        ("acme/db/binary", None), ("other/not_ours", CANARY), ("acme-near/miss", "x")):
        kw: dict[str, Any] = {"SecretString": value} if value else {"SecretBinary": b"\x00\x01binary"}
        arns[name] = sm.create_secret(Name=name, **kw)["ARN"]
    ssm.put_parameter(Name="/acme/app/api_token", Value=CANARY_PARAM, Type="SecureString")
    ssm.put_parameter(Name="/acme/app/region", Value="eu-central-1", Type="String")
    ssm.put_parameter(Name="/other/app/api_token", Value=CANARY_PARAM, Type="SecureString")
    return arns


def test_registered() -> None:
    assert SOURCE in all_sources()


def test_not_configured_without_aws(tmp_path: Path) -> None:
    result = SOURCE.collect(make_platform(tmp_path), _ctx())
    assert not result.configured and result.complete and not result.inventory.assets


def test_reads_prefix_and_path_fingerprints_values_never_keeps_them(tmp_path: Path, moto: str) -> None:
    arns = _seed(moto)
    result = SOURCE.collect(_platform(tmp_path, moto), _ctx())
    assert result.configured and result.complete, [g.describe() for g in result.gaps]
    secrets = {a.name: a for a in result.inventory.of(Kind.AWS_SECRET)}
    # `acme-near/miss` starts with "acme" but not with the prefix "acme/": not the platform's.
    assert sorted(secrets) == ["acme/db/binary", "acme/github_webhook_secret", "acme/stripe_api_key"]
    stripe = secrets["acme/stripe_api_key"]
    assert stripe.phase is Phase.LIVE and stripe.location.object == arns["acme/stripe_api_key"]
    assert stripe.fingerprint == fingerprint(CANARY, KEY.encode())
    assert stripe.props["category"] == "api-key" and stripe.props["secure"] is True
    assert secrets["acme/github_webhook_secret"].props["category"] == "webhook"
    assert secrets["acme/db/binary"].fingerprint == fingerprint(b"\x00\x01binary", KEY.encode())
    params = {a.name: a for a in result.inventory.of(Kind.AWS_PARAMETER)}
    assert sorted(params) == ["/acme/app/api_token", "/acme/app/region"]
    assert params["/acme/app/api_token"].props["secure"] is True
    assert params["/acme/app/api_token"].fingerprint == fingerprint(CANARY_PARAM, KEY.encode())
    assert params["/acme/app/region"].props["secure"] is False
    assert result.read == {"secretsmanager:secrets": 3, "secretsmanager:values": 3, "ssm:parameters": 2}
    text = all_text(result.inventory.assets, result.gaps, result.read)
    for canary in (CANARY, CANARY_PARAM):
        assert canary not in text
        assert hashlib.sha256(canary.encode()).hexdigest() not in text  # no unkeyed digest either


def test_policy_actions_are_exactly_the_calls_made(tmp_path: Path, moto: str, fault_proxy: Any) -> None:
    _seed(moto)
    proxy = fault_proxy(moto)
    targets: list[str] = []
    original = proxy._handle

    def record(h: Any) -> None:
        targets.append(str(h.headers.get("X-Amz-Target", "")))
        original(h)

    proxy._handle = record
    result = SOURCE.collect(_platform(tmp_path, proxy.url), _ctx())
    assert result.complete
    prefixes = {"secretsmanager": "secretsmanager.", "ssm": "AmazonSSM."}
    called = {f"{svc}:{t.removeprefix(p)}" for t in targets for svc, p in prefixes.items() if t.startswith(p)}
    declared = {f"{svc}:{op}" for svc, ops in OPERATIONS.items() for op in ops}
    policy = json.loads((ROOT / "audits" / "aws" / "iam-policy.json").read_text())
    granted = {a for st in policy["Statement"] if st["Effect"] == "Allow" for a in st["Action"]}
    assert called == declared == granted
    for st in policy["Statement"]:  # reads only, and value reads scoped to the platform's names
        assert all(a.split(":")[1].startswith(("Get", "List")) for a in st["Action"])
        if "secretsmanager:GetSecretValue" in st["Action"]:
            assert st["Resource"] == "arn:aws:secretsmanager:*:*:secret:acme/*"
        if "ssm:GetParametersByPath" in st["Action"]:
            assert st["Resource"] == "arn:aws:ssm:*:*:parameter/acme/*"


def _auditor(url: str, actions: set[str]) -> dict[str, str]:
    """An IAM user holding the policy's statements with `actions` kept. moto evaluates actions, not
    resource ARNs, so the resources are widened to "*" here; the test above checks the real scoping."""
    policy = json.loads((ROOT / "audits" / "aws" / "iam-policy.json").read_text())
    statements = [{**st, "Action": [a for a in st["Action"] if a in actions], "Resource": "*"}
                  for st in policy["Statement"]]
    policy["Statement"] = [st for st in statements if st["Action"]]
    iam = _client("iam", url)
    iam.create_user(UserName="ssot-auditor")
    iam.put_user_policy(UserName="ssot-auditor", PolicyName="ssot-audit", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="ssot-auditor")["AccessKey"]
    moto_post(url, "/moto-api/reset-auth", b"0")
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def _all_actions() -> set[str]:
    return {f"{svc}:{op}" for svc, ops in OPERATIONS.items() for op in ops}


def test_the_policy_is_enough_under_iam_enforcement(tmp_path: Path, moto: str) -> None:
    _seed(moto)
    env = _auditor(moto, _all_actions())
    result = SOURCE.collect(_platform(tmp_path, moto), _ctx(env=env))
    assert result.complete, [g.describe() for g in result.gaps]
    assert len(list(result.inventory.of(Kind.AWS_SECRET))) == 3


def test_missing_permission_is_a_gap_naming_it_and_the_rest_is_read(tmp_path: Path, moto: str) -> None:
    _seed(moto)
    env = _auditor(moto, _all_actions() - {"ssm:GetParametersByPath"})
    result = SOURCE.collect(_platform(tmp_path, moto), _ctx(env=env))
    assert [(g.source, g.object, g.permission) for g in result.gaps] == [
        ("aws", "ssm:GetParametersByPath", "ssm:GetParametersByPath")]
    assert len(list(result.inventory.of(Kind.AWS_SECRET))) == 3
    assert not list(result.inventory.of(Kind.AWS_PARAMETER))


def test_wrong_credentials_is_one_gap_per_listing(tmp_path: Path, moto: str) -> None:
    _seed(moto)
    _auditor(moto, _all_actions())
    env = {"AWS_ACCESS_KEY_ID": "AKIAWRONGWRONGWRONG1", "AWS_SECRET_ACCESS_KEY": CANARY}
    result = SOURCE.collect(_platform(tmp_path, moto), _ctx(env=env))
    assert [g.object for g in result.gaps] == ["secretsmanager:ListSecrets", "ssm:GetParametersByPath"]
    assert not result.inventory.assets
    assert CANARY not in all_text(result.gaps)


def test_denied_on_one_secret_names_the_action_and_arn(tmp_path: Path, moto: str, fault_proxy: Any) -> None:
    arns = _seed(moto)
    proxy = fault_proxy(moto)
    denied = arns["acme/github_webhook_secret"]
    proxy.fail_when(denied.encode(), 400, {"Content-Type": "application/x-amz-json-1.1"},
                    json.dumps({"__type": "AccessDeniedException",
                                "Message": f"not authorized to read {CANARY}"}).encode())
    result = SOURCE.collect(_platform(tmp_path, proxy.url), _ctx())
    assert [g.describe() for g in result.gaps] == [
        f"aws: secretsmanager secret acme/github_webhook_secret: access denied "
        f"(needs secretsmanager:GetSecretValue on {denied})"]
    names = {a.name for a in result.inventory.of(Kind.AWS_SECRET)}
    assert names == {"acme/stripe_api_key", "acme/db/binary"}  # the others are still read
    assert len(list(result.inventory.of(Kind.AWS_PARAMETER))) == 2
    assert CANARY not in all_text(result.gaps, result.inventory.assets)  # the server's text is not quoted


def test_kms_refusal_names_kms_decrypt(tmp_path: Path, moto: str, fault_proxy: Any) -> None:
    arns = _seed(moto)
    proxy = fault_proxy(moto)
    proxy.fail_when(arns["acme/stripe_api_key"].encode(), 400, {"Content-Type": "application/x-amz-json-1.1"},
                    json.dumps({"__type": "DecryptionFailure", "Message": "KMS refused"}).encode())
    result = SOURCE.collect(_platform(tmp_path, proxy.url), _ctx())
    assert [(g.object, g.permission) for g in result.gaps] == [
        ("secretsmanager secret acme/stripe_api_key", f"kms:Decrypt on the KMS key of {arns['acme/stripe_api_key']}")]
    assert len(list(result.inventory.of(Kind.AWS_SECRET))) == 2


def test_throttled_then_success_is_complete(tmp_path: Path, moto: str, fault_proxy: Any) -> None:
    _seed(moto)
    proxy = fault_proxy(moto)
    proxy.fail_next(1, 429, {"Content-Type": "application/x-amz-json-1.1"},
                    json.dumps({"__type": "ThrottlingException", "Message": "Rate exceeded"}).encode())
    result = SOURCE.collect(_platform(tmp_path, proxy.url), _ctx())
    assert result.complete and len(list(result.inventory.of(Kind.AWS_SECRET))) == 3


def test_throttled_past_the_retries_is_a_gap(tmp_path: Path, moto: str, fault_proxy: Any) -> None:
    _seed(moto)
    proxy = fault_proxy(moto)
    proxy.fail_next(3, 429, {"Content-Type": "application/x-amz-json-1.1"},
                    json.dumps({"__type": "ThrottlingException", "Message": "Rate exceeded"}).encode())
    result = SOURCE.collect(_platform(tmp_path, proxy.url), _ctx())
    assert result.gaps[0].describe() == "aws: secretsmanager:ListSecrets: rate limited past the retries"
    assert len(list(result.inventory.of(Kind.AWS_PARAMETER))) == 2


def test_timeout_is_a_gap(tmp_path: Path, moto: str, fault_proxy: Any) -> None:
    _seed(moto)
    proxy = fault_proxy(moto)
    proxy.hang_next(6, 1.0)
    result = SOURCE.collect(_platform(tmp_path, proxy.url), _ctx(timeout=0.3))
    assert result.gaps and all(g.reason == "timed out" for g in result.gaps)
    assert result.gaps[0].object == "secretsmanager:ListSecrets"


def test_past_the_overall_deadline_the_rest_is_a_gap(tmp_path: Path, moto: str, fault_proxy: Any) -> None:
    """Each call is bounded by botocore's timeouts; the source as a whole by its deadline: calls that
    are each slow but within the read timeout add up to a gap, never to an endless audit."""
    _seed(moto)
    proxy = fault_proxy(moto)
    proxy.slow_next(3, 0.4)  # answers that together outlast the deadline, each within the read timeout
    ctx = dataclasses.replace(_ctx(timeout=5), deadline=0.5)
    result = SOURCE.collect(_platform(tmp_path, proxy.url), ctx)
    reasons = {(g.object, g.reason) for g in result.gaps}
    assert ("secretsmanager:ListSecrets", "the source's deadline of 0.5s passed; the rest was not read") in reasons \
        or ("secretsmanager:GetSecretValue", "the source's deadline of 0.5s passed; the rest was not read") in reasons
    assert ("ssm:GetParametersByPath", "the source's deadline of 0.5s passed; the rest was not read") in reasons
    assert not result.complete


def test_down_is_a_gap(tmp_path: Path) -> None:
    from pgtools import free_port

    result = SOURCE.collect(_platform(tmp_path, f"http://127.0.0.1:{free_port()}"), _ctx(timeout=1))
    assert [(g.object, g.reason) for g in result.gaps] == [
        ("secretsmanager:ListSecrets", "AWS endpoint unreachable"),
        ("ssm:GetParametersByPath", "AWS endpoint unreachable")]


def test_pagination_over_1200_secrets(tmp_path: Path, moto: str) -> None:
    # Seeded through moto's in-process backend (the server shares it): 1,200 HTTP creates would
    # dominate the test; the reading side is what is under test and goes over HTTP page by page.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    backend = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION]
    for i in range(1200):
        backend.create_secret(name=f"acme/bulk/{i:05d}", secret_string=f"value-{i}", secret_binary=None,
                              description=None, tags=None, kms_key_id=None, client_request_token=None,
                              replica_regions=[], force_overwrite=False)
    pages = []
    lock = threading.Lock()

    def progress(what: str, n: int | None) -> None:
        with lock:
            pages.append((what, n))

    ctx = SourceContext(env={**AWS_ENV, "SSOT_FINGERPRINT_KEY": KEY}, timeout=10, progress=progress)
    result = SOURCE.collect(_platform(tmp_path, moto), ctx)
    assert result.complete
    secrets = list(result.inventory.of(Kind.AWS_SECRET))
    assert len(secrets) == 1200 and len({a.name for a in secrets}) == 1200
    assert {a.fingerprint for a in secrets} == {fingerprint(f"value-{i}", KEY.encode()) for i in range(1200)}
    listing = [n for w, n in pages if w == "AWS Secrets Manager: listing"]
    assert len(listing) >= 12  # at most 100 per page: the paginator really went page by page


@pytest.mark.parametrize("prefix", ["", "acme/"])
def test_live_duplicate_of_a_vault_value_is_found_by_the_rule(tmp_path: Path, moto: str, prefix: str) -> None:
    from ssot.inventory import Asset, Inventory, Location, Store
    from ssot.rules.duplicated_secret import RULE

    _seed(moto)
    result = SOURCE.collect(_platform(tmp_path, moto, prefix=prefix), _ctx())
    inv = Inventory(phases={Phase.LIVE})
    inv.merge(result.inventory)
    # What the Postgres source reports for a Vault secret: the in-database HMAC under the same key.
    inv.add(Asset(Kind.VAULT_SECRET, Store.VAULT, "stripe_api_key", Phase.LIVE, Location(object="vault.secrets"),
                  props={"category": "api-key"}, fingerprint=fingerprint(CANARY, KEY.encode())))
    findings = list(RULE.check(inv))
    subjects = [f.subject for f in findings]
    expected = ["aws-secret:acme/stripe_api_key", "vault:stripe_api_key"]
    if not prefix:
        expected.insert(1, "aws-secret:other/not_ours")
    assert subjects == [", ".join(expected)]
    assert CANARY not in all_text(findings)
