"""The Supabase Management API: the project's status and its Edge Function secrets, read once.

The token comes from the environment variable `audit.supabase.tokenEnv` names (never the command line);
the project is `audit.supabase.projectRef`, else the one project with the declared name in the
declared organization. Calls go through `ssot.supabase_api.ManagementApi` (bounded retries, 429 and
Retry-After honoured, redirects refused).

The API lists each Edge Function secret with `value` = SHA-256 hex digest of the plaintext. An unkeyed
digest can be brute-forced offline for short values, so it never leaves this module: each digest is
- compared in memory with the SHA-256 of the declared value, when the audit can compute it (an
  `env:` value present in the audit's environment): `matches_declared` True/False, else None;
- kept only as `digest_fingerprint`, a keyed HMAC of the digest. Other sources store the same keyed
  HMAC of their values' digests, so one value in an Edge secret and in AWS or Odoo is still linked
  (duplicated_secret), and a changed digest shows as a changed fingerprint between audits.
The asset's `fingerprint` (HMAC of the value itself) stays None: the API never gives the value.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from ssot.deadline import Deadline
from ssot.errors import ProviderError
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.sources.live import LiveSource, SourceContext, SourceResult
from ssot.sources.live._secrets import category_for, fingerprint_now, key_from, plain_name
from ssot.supabase_api import (
    ManagementApi,
    ManagementApiError,
    ManagementApiUnavailable,
    NotFound,
    ResponseTooLarge,
    RetryPolicy,
    Unauthorized,
)

if TYPE_CHECKING:
    from ssot.model import Platform

NAME = "supabase_api"
# Every Management API operation this source calls (audits/supabase/README.md gives the token's scope
# for exactly these).
OPERATIONS_USED = ("v1-list-all-projects", "v1-get-project", "v1-list-all-secrets")
# Supabase sets these for every Edge Function; the SUPABASE_ prefix is reserved, nobody can set them.
BUILTIN_PREFIX = "SUPABASE_"


def _reason(exc: ManagementApiError) -> tuple[str, str | None]:
    if isinstance(exc, Unauthorized):
        return (f"the token was refused (HTTP {exc.status})",
                "a Supabase access token with read access to the project (see audits/supabase/README.md)")
    if isinstance(exc, NotFound):
        return "not found (HTTP 404)", None
    if isinstance(exc, ResponseTooLarge):
        from ssot import supabase_api as client

        return f"response larger than {client.MAX_RESPONSE_BYTES} bytes (not read further)", None
    if isinstance(exc, ManagementApiUnavailable):
        if exc.status == 429:
            return f"rate limited past the retries ({exc.attempts} attempts)", None
        if exc.status is None:
            return f"unreachable or timed out ({exc.attempts} attempts)", None
        return f"the API kept failing (HTTP {exc.status}, {exc.attempts} attempts)", None
    return (f"unexpected answer (HTTP {exc.status})" if exc.status else "unexpected answer"), None


def collect(platform: Platform, ctx: SourceContext) -> SourceResult:
    result = SourceResult(NAME, configured=platform.project is not None)
    try:
        return _collect(platform, ctx, result)
    except Exception as exc:
        result.unforeseen("management api", exc)
        return result


def _collect(platform: Platform, ctx: SourceContext, result: SourceResult) -> SourceResult:
    project = platform.project
    if project is None:
        return result
    audit = platform.audit
    env_name = audit.supabase_token_env if audit else None
    token = ctx.env.get(env_name) if env_name else None
    if not env_name or not token:
        result.gap("token", "no access token: set audit.supabase.tokenEnv in the stack and export that variable"
                   + (f" ({env_name} is not set)" if env_name else ""))
        return result
    retry = RetryPolicy(max_attempts=4, max_elapsed=max(10.0, ctx.timeout * 4), request_timeout=ctx.timeout,
                        max_delay=min(30.0, ctx.timeout))
    try:
        api = ManagementApi(token, project.api_url, retry=retry, deadline=Deadline(ctx.deadline))
    except ProviderError:
        result.gap("token", "the project's api_url is not usable (an https URL, or http on loopback)")
        return result
    del token
    key = key_from(ctx.env)

    ref = audit.project_ref if audit else None
    try:
        if ref is None:
            ctx.progress("Supabase: projects", None)
            candidates = [p for p in api.list_projects() if p.name == project.name
                          and project.organization_id in (p.organization_slug,)]
            result.count("projects", len(candidates))
            if len(candidates) != 1:
                result.gap("project", f"{'no' if not candidates else len(candidates)} project(s) named "
                           f"{project.name!r} in organization {project.organization_id!r}; set "
                           "audit.supabase.projectRef")
                return result
            ref = candidates[0].ref
        found = api.get_project(ref)
    except ManagementApiError as exc:
        reason, permission = _reason(exc)
        result.gap("project", reason, permission)
        if not isinstance(exc, NotFound):
            return result  # one gap for the project: the error says why it could not be read
        found = None
    if found is None:
        result.gap("project", f"project {ref} not found (or removed)")
        return result
    result.inventory.add(Asset(
        kind=Kind.SUPABASE_PROJECT, store=Store.SUPABASE, name=found.name, phase=Phase.LIVE,
        location=Location(object=f"project {found.ref}"),
        props={"ref": found.ref, "region": found.region, "organization": found.organization_slug,
               "status": found.status}))
    result.count("project", 1)

    try:
        ctx.progress("Supabase: Edge Function secrets", None)
        listed = api.list_secrets(found.ref)
    except ManagementApiError as exc:
        reason, permission = _reason(exc)
        result.gap("edge function secrets", reason, permission)
        return result
    declared = {s.name: s for s in platform.edge_secrets}
    for s in listed:
        if plain_name(s.name, 256) is None:
            result.gap("edge function secrets", "a secret with an unusable name (not shown) was not read")
            continue
        decl = declared.get(s.name)
        matches: bool | None = None
        if decl is not None and decl.value.kind == "env" and decl.value.ref and ctx.env.get(decl.value.ref):
            # In memory only: the declared plaintext's digest against the API's, and both dropped.
            matches = hmac.compare_digest(hashlib.sha256(ctx.env[decl.value.ref].encode()).hexdigest(), s.digest)
        builtin = s.name.startswith(BUILTIN_PREFIX)
        runtime_reason = decl.runtime_only if decl is not None else None
        if builtin:
            runtime_reason = "set by Supabase for every Edge Function (reserved SUPABASE_ prefix)"
        result.inventory.add(Asset(
            kind=Kind.EDGE_SECRET, store=Store.EDGE, name=s.name, phase=Phase.LIVE,
            location=Location(object=f"project {found.ref} edge secret {s.name}"),
            props={"category": decl.category if decl is not None else category_for(s.name),
                   "runtime_only_reason": runtime_reason, "declared": decl is not None, "builtin": builtin,
                   "digest_fingerprint": fingerprint_now(s.digest.lower(), key),
                   "matches_declared": matches, "updated_at": s.updated_at}))
    result.count("edge function secrets", len(listed))
    return result


SOURCE = LiveSource(NAME, "Supabase Management API", collect)
