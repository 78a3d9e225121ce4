"""A Supabase project, managed through the Management API.

Inputs: api_url, access_token (secret), name, organization_id (the organization slug: the API's
`organization_id` field is deprecated in favour of `organization_slug`), region, db_pass (secret),
optional instance_size (the API's `desired_instance_size`), fingerprint_key (secret) and
wait_timeout (seconds to wait for ACTIVE_HEALTHY after create, default 600).
Outputs: api_url, ref, name, region, organization_id, status, instance_size, db_pass_fingerprint.
Never db_pass, access_token or fingerprint_key.

Lifecycle decisions:
- create waits until the project is ACTIVE_HEALTHY (status, then the db service's health). If it does
  not get there, the project exists but Pulumi will not record it (dynamic providers cannot report a
  partial create), so the error names the ref for `pulumi import` or manual deletion.
- name changes are an in-place update (PATCH /v1/projects/{ref}); region, organization and instance
  size are create-time choices, so changing them replaces the project, which destroys its database:
  declare these resources with `protect=True`.
- db_pass cannot be read back from the API. With a fingerprint_key, the output db_pass_fingerprint
  (HMAC of the password) lets diff see a changed password without state holding it, and update sets
  it through PATCH /v1/projects/{ref}/database/password; a change of fingerprint_key alone also looks
  like a change and re-sends the same password, which is harmless. Without a key (and without
  SSOT_FINGERPRINT_KEY) changes to db_pass are not tracked after creation: a per-process random key
  would show a change on every run.
- read (refresh) and delete receive only the outputs, which never hold the token: they take it from
  SUPABASE_ACCESS_TOKEN. read reports a rename done elsewhere and a deleted project (empty id).
"""

from __future__ import annotations

import hmac
import os
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.runtime.rpc import UNKNOWN

from ssot.errors import ProviderError
from ssot.fingerprint import fingerprint
from ssot.providers._base import DynamicResource, secret
from ssot.shape import describe
from ssot.supabase_api import DEFAULT_BASE_URL, ManagementApi, resolve_access_token

# The `desired_instance_size` enum of V1CreateProjectBody (a contract test keeps them equal).
INSTANCE_SIZES = (
    "nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge",
    "16xlarge", "24xlarge", "24xlarge_optimized_memory", "24xlarge_optimized_cpu", "24xlarge_high_memory",
    "48xlarge", "48xlarge_optimized_memory", "48xlarge_optimized_cpu", "48xlarge_high_memory",
)
_ORG_SLUG = re.compile(r"^[\w-]+\Z")
_REGION = re.compile(r"^[a-z]{2}-[a-z]+-\d{1,2}\Z")
_REPLACE_ON = ("region", "organization_id", "instance_size")
_OUTPUTS = ("api_url", "ref", "name", "region", "organization_id", "status", "instance_size",
            "db_pass_fingerprint")
DEFAULT_WAIT_TIMEOUT = 600.0


def _unknown(v: Any) -> bool:
    return isinstance(v, str) and v == UNKNOWN


def _db_pass_fingerprint(props: dict[str, Any]) -> str | None:
    db_pass = props.get("db_pass")
    key = props.get("fingerprint_key") or os.environ.get("SSOT_FINGERPRINT_KEY")
    if not isinstance(db_pass, str) or not isinstance(key, str) or not key:
        return None
    return fingerprint(db_pass, key.encode())


class SupabaseProjectProvider(ResourceProvider):
    """Stateless: every connection detail comes from the resource's properties."""

    def _client_kwargs(self) -> dict[str, Any]:
        """Extra ManagementApi arguments; tests override it to inject sleep/clock."""
        return {}

    def _api(self, props: dict[str, Any]) -> ManagementApi:
        return ManagementApi(resolve_access_token(props), props.get("api_url") or DEFAULT_BASE_URL,
                             **self._client_kwargs())

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []

        def bad(prop: str, expected: str) -> None:
            failures.append(CheckFailure(prop, f"{prop}: expected {expected}"))

        def value(prop: str) -> Any:
            v = news.get(prop)
            return None if _unknown(v) else v

        name = value("name")
        if news.get("name") is None or (name is not None and not (isinstance(name, str) and 0 < len(name) <= 256)):
            bad("name", "a project name of 1 to 256 characters")
        org = value("organization_id")
        if news.get("organization_id") is None or (org is not None and not (isinstance(org, str)
                                                                        and _ORG_SLUG.match(org))):
            bad("organization_id", f"an organization slug matching [A-Za-z0-9_-]+, got {describe(org)}")
        region = value("region")
        if news.get("region") is None or (region is not None and not (isinstance(region, str)
                                                                  and _REGION.match(region))):
            bad("region", f"a region code such as 'eu-central-1', got {describe(region)}")
        size = value("instance_size")
        if size is not None and size not in INSTANCE_SIZES:
            bad("instance_size", f"one of {', '.join(INSTANCE_SIZES)}, got {describe(size)}")
        # Secret inputs: say what is wrong, never echo them.
        db_pass = value("db_pass")
        if news.get("db_pass") is None or (db_pass is not None and not (isinstance(db_pass, str)
                                                                    and len(db_pass) >= 4)):
            bad("db_pass", "a database password (string of at least 4 characters)")
        token = value("access_token")
        if token is not None and not (isinstance(token, str) and token):
            bad("access_token", "a Supabase access token (non-empty string)")
        key = value("fingerprint_key")
        if key is not None and not (isinstance(key, str) and key):
            bad("fingerprint_key", "a non-empty string")
        url = value("api_url")
        if url is not None and not (isinstance(url, str) and re.match(r"^https?://[^/\s]+", url)):
            bad("api_url", f"an http(s) URL such as {DEFAULT_BASE_URL}, got {describe(url)}")
        timeout = value("wait_timeout")
        if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
            bad("wait_timeout", "a positive number of seconds")
        return CheckResult(news, failures)

    def _outs(self, props: dict[str, Any], project: Any, status: str | None = None) -> dict[str, Any]:
        return {
            "api_url": props.get("api_url") or DEFAULT_BASE_URL,
            "ref": project.ref,
            "name": project.name,
            "region": project.region or props.get("region"),
            "organization_id": project.organization_slug or props.get("organization_id"),
            "status": status or project.status,
            "instance_size": props.get("instance_size"),
            "db_pass_fingerprint": _db_pass_fingerprint(props),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        api = self._api(props)
        project = api.create_project(name=props["name"], organization_slug=props["organization_id"],
                                     db_pass=props["db_pass"], region=props["region"],
                                     desired_instance_size=props.get("instance_size") or None)
        timeout = float(props.get("wait_timeout") or DEFAULT_WAIT_TIMEOUT)
        try:
            project = api.wait_for_healthy(project.ref, timeout)
        except ProviderError as exc:
            raise ProviderError(
                f"{exc}. Project '{project.name}' (ref {project.ref}) was created and left in place; "
                f"Pulumi does not track it: adopt it with `pulumi import` or delete it") from None
        return CreateResult(project.ref, self._outs(props, project))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        project = self._api(props).get_project(id_)
        if project is None:
            return ReadResult("", {})
        outs = {k: props.get(k) for k in _OUTPUTS}
        outs.update(ref=project.ref, name=project.name, region=project.region,
                    organization_id=project.organization_slug, status=project.status,
                    api_url=props.get("api_url") or DEFAULT_BASE_URL)
        return ReadResult(project.ref, outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in _REPLACE_ON if _unknown(news.get(k)) or news.get(k) != olds.get(k)]
        changed = [k for k in ("name", "api_url") if _unknown(news.get(k)) or news.get(k) != olds.get(k)]
        if _unknown(news.get("db_pass")) or _unknown(news.get("fingerprint_key")):
            changed.append("db_pass")
        else:
            fp = _db_pass_fingerprint(news)
            old_fp = olds.get("db_pass_fingerprint")
            if fp is not None and not (isinstance(old_fp, str) and hmac.compare_digest(fp, old_fp)):
                changed.append("db_pass")
        return DiffResult(changes=bool(replaces or changed), replaces=replaces,
                          stables=["ref"], delete_before_replace=False)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = self._api(news)
        if news["name"] != olds.get("name"):
            api.update_project_name(id_, news["name"])
        fp = _db_pass_fingerprint(news)
        old_fp = olds.get("db_pass_fingerprint")
        if fp is not None and not (isinstance(old_fp, str) and hmac.compare_digest(fp, old_fp)):
            api.update_database_password(id_, news["db_pass"])
        project = api.get_project(id_)
        if project is None:
            raise ProviderError(f"project {id_} no longer exists; run `pulumi refresh` to recreate it")
        return UpdateResult(self._outs(news, project))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        # False means it was already gone, which is the state we wanted.
        self._api(props).delete_project(id_)


@dataclass
class SupabaseProjectArgs:
    api_url: pulumi.Input[str]
    access_token: pulumi.Input[str] = field(repr=False)
    name: pulumi.Input[str]
    organization_id: pulumi.Input[str]
    region: pulumi.Input[str]
    db_pass: pulumi.Input[str] = field(repr=False)
    instance_size: pulumi.Input[str] | None = None
    fingerprint_key: pulumi.Input[str] | None = field(default=None, repr=False)
    wait_timeout: float | None = None


class SupabaseProject(DynamicResource, module="ssot", name="SupabaseProject"):
    provider_class = SupabaseProjectProvider
    secret_outputs = ("access_token", "db_pass", "fingerprint_key")

    api_url: pulumi.Output[str]
    ref: pulumi.Output[str]
    name: pulumi.Output[str]
    region: pulumi.Output[str]
    organization_id: pulumi.Output[str]
    status: pulumi.Output[str]
    instance_size: pulumi.Output[str | None]
    db_pass_fingerprint: pulumi.Output[str | None]

    def __init__(self, resource_name: str, args: SupabaseProjectArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "api_url": args.api_url,
            # Marked secret here so a caller passing a plain string cannot leak it into state.
            "access_token": secret(args.access_token),
            "name": args.name,
            "organization_id": args.organization_id,
            "region": args.region,
            "db_pass": secret(args.db_pass),
            "instance_size": args.instance_size,
            "fingerprint_key": (secret(args.fingerprint_key)
                                if args.fingerprint_key is not None else None),
            "wait_timeout": args.wait_timeout,
        }
        super().__init__(resource_name, props, opts)
