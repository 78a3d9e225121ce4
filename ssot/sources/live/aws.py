"""AWS Secrets Manager and SSM Parameter Store, read once through boto3's paginators.

Only what the platform owns is read: secrets whose name starts with `aws.secretsPrefix`, parameters
under `aws.parametersPath`. Credentials come from boto3's default chain (environment, web identity
for CI's OIDC, profile, instance role); `aws.endpointUrl` points at moto in tests and the local
default. Every value is fingerprinted the moment boto3 hands it over and the response is dropped.

`OPERATIONS` is every API operation this module calls; `audits/aws/iam-policy.json` grants exactly
those (a test checks both against the calls recorded while reading moto).

A failure never stops the rest: AccessDenied on one secret is a Gap naming
`secretsmanager:GetSecretValue` on that ARN, and the other secrets are still read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ssot.deadline import Deadline
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.sources.live import Gap, LiveSource, SourceContext, SourceResult
from ssot.sources.live._secrets import category_for, digest_fingerprint, fingerprint_now, key_from, plain_name

if TYPE_CHECKING:
    from ssot.model import Aws, Platform

NAME = "aws"
OPERATIONS: dict[str, tuple[str, ...]] = {
    "secretsmanager": ("ListSecrets", "GetSecretValue"),
    "ssm": ("GetParametersByPath",),
}
# More than this many items under the platform's prefixes is not a platform any more: stop reading
# (bounded memory) and say so, rather than report a partial listing as complete.
MAX_ITEMS = 50_000
_CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
_BAD_CREDENTIALS = frozenset({"UnrecognizedClientException", "InvalidClientTokenId",
                              "InvalidSignatureException", "SignatureDoesNotMatch", "ExpiredTokenException",
                              "ExpiredToken", "IncompleteSignature"})
_THROTTLED = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
                        "ThrottledException"})


def _in_time(deadline: Deadline, result: SourceResult, obj: str) -> None:
    """Between calls: past the source's overall deadline, what is left is a gap, never a short pass
    (each call is bounded by botocore's connect/read timeouts and its retries)."""
    if deadline.expired():
        result.gap(obj, f"the source's deadline of {deadline.seconds:g}s passed; the rest was not read")
        raise _Stop


class _Stop(Exception):
    """The whole listing cannot go on (down, wrong credentials, denied): recorded as a gap already."""


def _client(aws: Aws, ctx: SourceContext, service: str) -> Any:
    import boto3
    from botocore.config import Config

    # The env the audit was given wins over the process's, so credentials never come from argv and
    # tests can hand a source its own; absent there, boto3's default chain applies (OIDC, profile).
    given = {k: ctx.env[k] for k in _CREDENTIAL_ENV if ctx.env.get(k)}
    session = boto3.session.Session(
        aws_access_key_id=given.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=given.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=given.get("AWS_SESSION_TOKEN"),
        region_name=aws.region,
    )
    config = Config(connect_timeout=ctx.timeout, read_timeout=ctx.timeout,
                    # "standard" retries throttling (HTTP 429, ThrottlingException) and 5xx with backoff,
                    # a bounded number of times; after that the gap says "rate limited".
                    retries={"mode": "standard", "total_max_attempts": 3},
                    user_agent_extra="ssot-audit")
    return session.client(service, endpoint_url=aws.endpoint_url or None, config=config)


def _why(exc: BaseException, action: str, resource: str | None = None) -> tuple[str, str | None]:
    """(reason, permission) for a failed call, in our words: never the service's message text."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    on = f" on {resource}" if resource else ""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return "no AWS credentials found (environment, web identity, profile or instance role)", None
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
        return "timed out", None
    if isinstance(exc, EndpointConnectionError):
        return "AWS endpoint unreachable", None
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _DENIED:
            return "access denied", f"{action}{on}"
        if code in _BAD_CREDENTIALS:
            return "the AWS credentials were rejected (wrong, expired or for another account)", None
        if code in _THROTTLED or status == 429:
            return "rate limited past the retries", None
        if status in (401, 403):
            # Some endpoints answer a rejected signature with a body the client cannot parse.
            return "the credentials were rejected or lack the permission", f"{action}{on}"
        if code == "DecryptionFailure":
            return ("the value's KMS key refused to decrypt it",
                    "kms:Decrypt on the KMS key of " + (resource or "the value"))
        safe = code if code.isascii() and code.replace(".", "").isalnum() and len(code) < 60 else "error"
        return f"the service answered {safe}" + (f" (HTTP {status})" if isinstance(status, int) else ""), None
    if isinstance(exc, OSError):
        return f"network error ({type(exc).__name__})", None
    return f"unexpected failure ({type(exc).__name__})", None


def _gap(result: SourceResult, obj: str, exc: BaseException, action: str, resource: str | None = None) -> Gap:
    reason, permission = _why(exc, action, resource)
    return result.gap(obj, reason, permission)


def _pages(result: SourceResult, obj: str, action: str, paginator: Any, **kwargs: Any) -> Iterator[Mapping[str, Any]]:
    """The pages of one listing; a failure half-way is a gap and ends the listing (never a short pass)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield from paginator.paginate(**kwargs)
    except (BotoCoreError, ClientError, OSError) as exc:
        _gap(result, obj, exc, action)
        raise _Stop from None


def _tags(item: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in item.get("Tags") or ():
        if isinstance(t, Mapping) and isinstance(t.get("Key"), str) and isinstance(t.get("Value"), str):
            out[t["Key"]] = t["Value"]
    return out


def _secrets(aws: Aws, ctx: SourceContext, result: SourceResult, key: bytes, deadline: Deadline) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    sm = _client(aws, ctx, "secretsmanager")
    args: dict[str, Any] = {"PaginationConfig": {"PageSize": 100}}
    if aws.secrets_prefix:
        # The `name` filter matches prefixes; the check below keeps only exact prefix matches anyway.
        args["Filters"] = [{"Key": "name", "Values": [aws.secrets_prefix]}]
    listed: list[tuple[str, str, dict[str, str]]] = []
    for page in _pages(result, "secretsmanager:ListSecrets", "secretsmanager:ListSecrets",
                       sm.get_paginator("list_secrets"), **args):
        _in_time(deadline, result, "secretsmanager:ListSecrets")
        for item in page.get("SecretList") or ():
            name, arn = plain_name(item.get("Name"), 512), plain_name(item.get("ARN"), 2048)
            if name is None or arn is None or not name.startswith(aws.secrets_prefix):
                continue
            if len(listed) >= MAX_ITEMS:
                result.gap("secretsmanager:ListSecrets", f"more than {MAX_ITEMS} secrets under the prefix; "
                           "the rest were not read")
                raise _Stop
            listed.append((name, arn, _tags(item)))
        ctx.progress("AWS Secrets Manager: listing", len(listed))
    result.count("secretsmanager:secrets", len(listed))
    read = 0
    for name, arn, tags in listed:
        _in_time(deadline, result, "secretsmanager:GetSecretValue")
        try:
            resp = sm.get_secret_value(SecretId=arn)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ResourceNotFoundException":
                continue  # deleted between the listing and now: not there, not a gap
            _gap(result, f"secretsmanager secret {name}", exc, "secretsmanager:GetSecretValue", arn)
            if code in _BAD_CREDENTIALS:
                raise _Stop from None
            continue
        except (BotoCoreError, OSError) as exc:
            _gap(result, f"secretsmanager secret {name}", exc, "secretsmanager:GetSecretValue", arn)
            raise _Stop from None
        value = resp.get("SecretString")
        if value is None:
            value = resp.get("SecretBinary")
        fp = dfp = None
        if isinstance(value, (str, bytes)) and value:
            fp, dfp = fingerprint_now(value, key), digest_fingerprint(value, key)
        del resp, value
        read += 1
        result.inventory.add(Asset(
            kind=Kind.AWS_SECRET, store=Store.AWS_SECRETS_MANAGER, name=name, phase=Phase.LIVE,
            location=Location(object=arn), fingerprint=fp,
            props={"category": category_for(name, tags), "secure": True, "arn": arn, "has_value": fp is not None,
                   "digest_fingerprint": dfp}))
        if read % 200 == 0:
            ctx.progress("AWS Secrets Manager: values", read)
    result.count("secretsmanager:values", read)


def _parameters(aws: Aws, ctx: SourceContext, result: SourceResult, key: bytes, deadline: Deadline) -> None:
    ssm = _client(aws, ctx, "ssm")
    n = 0
    for page in _pages(result, "ssm:GetParametersByPath", "ssm:GetParametersByPath",
                       ssm.get_paginator("get_parameters_by_path"), Path=aws.parameters_path, Recursive=True,
                       WithDecryption=True, PaginationConfig={"PageSize": 10}):
        _in_time(deadline, result, "ssm:GetParametersByPath")
        for p in page.get("Parameters") or ():
            name, arn, ptype = plain_name(p.get("Name"), 2048), plain_name(p.get("ARN"), 2048), p.get("Type")
            if name is None:
                continue
            if n >= MAX_ITEMS:
                result.gap("ssm:GetParametersByPath", f"more than {MAX_ITEMS} parameters under the path; "
                           "the rest were not read")
                raise _Stop
            value = p.get("Value")
            secure = ptype == "SecureString"
            # Plain String parameters are fingerprinted too: a credential pasted into one is still a
            # copy, and the fingerprint is keyed, so it says nothing about the value.
            fp = dfp = None
            if isinstance(value, str) and value:
                fp, dfp = fingerprint_now(value, key), digest_fingerprint(value, key)
            del value
            n += 1
            result.inventory.add(Asset(
                kind=Kind.AWS_PARAMETER, store=Store.AWS_SSM, name=name, phase=Phase.LIVE,
                location=Location(object=arn if isinstance(arn, str) else name), fingerprint=fp,
                props={"category": category_for(name) if secure else None, "secure": secure,
                       "type": ptype if ptype in ("String", "StringList", "SecureString") else None,
                       "digest_fingerprint": dfp}))
        ctx.progress("AWS SSM parameters", n)
    result.count("ssm:parameters", n)


def collect(platform: Platform, ctx: SourceContext) -> SourceResult:
    result = SourceResult(NAME, configured=platform.aws is not None)
    aws = platform.aws
    if aws is None:
        return result
    key = key_from(ctx.env)
    deadline = Deadline(ctx.deadline)
    for part, obj in ((_secrets, "secretsmanager"), (_parameters, "ssm")):
        try:
            part(aws, ctx, result, key, deadline)
        except _Stop:
            continue
        except Exception as exc:
            result.unforeseen(obj, exc, "the rest of it was not read")
    return result


SOURCE = LiveSource(NAME, "AWS Secrets Manager and SSM Parameter Store", collect)
