"""The supabase_api live source against the Management API stand-in (real HTTP, every request and
response validated against Supabase's published OpenAPI document)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from mgmt_api_server import running_server

from ssot.fingerprint import fingerprint
from ssot.inventory import Inventory, Kind, Phase
from ssot.rules.duplicated_secret import RULE as DUPLICATED
from ssot.rules.secret_placement import RULE as PLACEMENT
from ssot.sources.live import SourceContext, all_sources
from ssot.sources.live.supabase_api import SOURCE

from .conftest import all_text, make_platform

TOKEN = "sbp_" + "1" * 40
KEY = "test-fingerprint-key-supabase"
CANARY = "ssot-canary-edge-Tm3Qw8Zr5Xv1Bn7K"  # planted as an Edge Function secret value
DECLARED = "declared-edge-value-from-the-environment"


def _platform(tmp_path: Path, url: str, ref: str | None = None, org: str = "acme-org") -> Any:
    audit: dict[str, Any] = {"supabase": {"tokenEnv": "SSOT_AUDIT_SUPABASE_TOKEN"}}
    if ref:
        audit["supabase"]["projectRef"] = ref
    return make_platform(
        tmp_path,
        project={"name": "acme-prod", "organizationId": org, "region": "eu-central-1",
                 "dbPassword": {"secret": "projectDbPassword"}, "accessToken": {"env": "SUPABASE_ACCESS_TOKEN"},
                 "apiUrl": url},
        edgeFunctions={"secrets": [
            {"name": "STRIPE_WEBHOOK_SECRET", "category": "webhook", "value": {"env": "STRIPE_WEBHOOK_SECRET"},
             "runtimeOnly": "verifies Stripe's signature inside the webhook function"},
            {"name": "OPENAI_API_KEY", "category": "api-key", "value": {"env": "OPENAI_API_KEY"}}]},
        audit=audit)


def _ctx(token: str | None = TOKEN, **env: str) -> SourceContext:
    e = {"SSOT_FINGERPRINT_KEY": KEY, **env}
    if token:
        e["SSOT_AUDIT_SUPABASE_TOKEN"] = token
    return SourceContext(env=e, timeout=2)


def _seed(server: Any) -> str:
    server.require_token(TOKEN)
    server.add_project("another", "acme-org")
    ref = server.add_project("acme-prod", "acme-org")
    server.add_project("acme-prod", "someone-else")  # same name, another organization: not ours
    server.set_secret(ref, "STRIPE_WEBHOOK_SECRET", DECLARED)
    server.set_secret(ref, "OPENAI_API_KEY", CANARY)
    server.set_secret(ref, "LEGACY_GITHUB_WEBHOOK_SECRET", "whsec-legacy")
    server.set_secret(ref, "SUPABASE_SERVICE_ROLE_KEY", "service-role-jwt")
    return ref


def test_registered_and_not_configured(tmp_path: Path) -> None:
    assert SOURCE in all_sources()
    result = SOURCE.collect(make_platform(tmp_path), _ctx())
    assert not result.configured and result.complete


def test_reads_project_and_edge_secrets_by_name_and_org(tmp_path: Path) -> None:
    with running_server(polls_until_healthy=0) as server:
        ref = _seed(server)
        result = SOURCE.collect(_platform(tmp_path, server.url), _ctx(STRIPE_WEBHOOK_SECRET=DECLARED))
        ops = server.operations()
    assert result.complete, [g.describe() for g in result.gaps]
    assert ops == ["v1-list-all-projects", "v1-get-project", "v1-list-all-secrets"]
    (project,) = result.inventory.of(Kind.SUPABASE_PROJECT)
    assert project.props["ref"] == ref and project.props["status"] == "ACTIVE_HEALTHY"
    secrets = {a.name: a for a in result.inventory.of(Kind.EDGE_SECRET)}
    assert sorted(secrets) == ["LEGACY_GITHUB_WEBHOOK_SECRET", "OPENAI_API_KEY", "STRIPE_WEBHOOK_SECRET",
                               "SUPABASE_SERVICE_ROLE_KEY"]
    stripe = secrets["STRIPE_WEBHOOK_SECRET"]
    assert stripe.phase is Phase.LIVE and stripe.props["matches_declared"] is True
    assert stripe.props["runtime_only_reason"].startswith("verifies Stripe")
    assert secrets["OPENAI_API_KEY"].props["matches_declared"] is None  # value not in the audit's env
    assert secrets["LEGACY_GITHUB_WEBHOOK_SECRET"].props["declared"] is False
    assert secrets["LEGACY_GITHUB_WEBHOOK_SECRET"].props["category"] == "webhook"
    assert secrets["SUPABASE_SERVICE_ROLE_KEY"].props["builtin"] is True
    digest = hashlib.sha256(CANARY.encode()).hexdigest()
    assert secrets["OPENAI_API_KEY"].props["digest_fingerprint"] == fingerprint(digest, KEY.encode())
    assert all(a.fingerprint is None for a in secrets.values())
    text = all_text(result.inventory.assets, result.gaps, result.read)
    for forbidden in (CANARY, digest, TOKEN, hashlib.sha256(DECLARED.encode()).hexdigest()):
        assert forbidden not in text  # no value, no unkeyed digest, no token


def test_changed_value_does_not_match_the_declaration(tmp_path: Path) -> None:
    with running_server(polls_until_healthy=0) as server:
        ref = _seed(server)
        result = SOURCE.collect(_platform(tmp_path, server.url, ref=ref), _ctx(STRIPE_WEBHOOK_SECRET="rotated"))
        assert server.operations() == ["v1-get-project", "v1-list-all-secrets"]  # ref given: no listing
    stripe = next(a for a in result.inventory.of(Kind.EDGE_SECRET) if a.name == "STRIPE_WEBHOOK_SECRET")
    assert stripe.props["matches_declared"] is False


def test_rules_on_live_edge_secrets(tmp_path: Path) -> None:
    from ssot.inventory import Asset, Location, Store
    from ssot.sources.live._secrets import digest_fingerprint

    with running_server(polls_until_healthy=0) as server:
        _seed(server)
        result = SOURCE.collect(_platform(tmp_path, server.url), _ctx())
    inv = Inventory(phases={Phase.LIVE}).merge(result.inventory)
    placement = sorted(f.subject for f in PLACEMENT.check(inv))
    # The declared runtime-only secret and Supabase's own are quiet; an undeclared webhook secret and
    # an api key without a runtime-only reason are not.
    assert placement == ["edge:LEGACY_GITHUB_WEBHOOK_SECRET", "edge:OPENAI_API_KEY"]
    inv.add(Asset(Kind.AWS_SECRET, Store.AWS_SECRETS_MANAGER, "acme/openai", Phase.LIVE, Location(object="arn"),
                  props={"secure": True, "digest_fingerprint": digest_fingerprint(CANARY, KEY.encode())}))
    assert [f.subject for f in DUPLICATED.check(inv)] == ["aws-secret:acme/openai, edge:OPENAI_API_KEY"]


def test_project_not_found_by_name(tmp_path: Path) -> None:
    with running_server(polls_until_healthy=0) as server:
        _seed(server)
        result = SOURCE.collect(_platform(tmp_path, server.url, org="acme-elsewhere"), _ctx())
    assert [(g.object, g.reason) for g in result.gaps] == [
        ("project", "no project(s) named 'acme-prod' in organization 'acme-elsewhere'; set audit.supabase.projectRef")]


def test_no_token(tmp_path: Path) -> None:
    result = SOURCE.collect(_platform(tmp_path, "http://127.0.0.1:9"), _ctx(token=None))
    assert [g.object for g in result.gaps] == ["token"] and "SSOT_AUDIT_SUPABASE_TOKEN" in result.gaps[0].reason


def test_wrong_token(tmp_path: Path) -> None:
    with running_server(polls_until_healthy=0) as server:
        _seed(server)
        result = SOURCE.collect(_platform(tmp_path, server.url), _ctx(token="sbp_" + "9" * 40))
    assert [(g.object, g.reason) for g in result.gaps] == [("project", "the token was refused (HTTP 401)")]
    assert result.gaps[0].permission and "9" * 40 not in all_text(result.gaps)


def test_rate_limited_then_success(tmp_path: Path) -> None:
    with running_server(polls_until_healthy=0) as server:
        _seed(server)
        server.fail_next(2, 429, retry_after="0")
        result = SOURCE.collect(_platform(tmp_path, server.url), _ctx())
    assert result.complete and len(list(result.inventory.of(Kind.EDGE_SECRET))) == 4


def test_denied_half_way_is_a_gap_and_the_project_is_kept(tmp_path: Path) -> None:
    with running_server(polls_until_healthy=0) as server:
        ref = _seed(server)
        # The project reads, then the secrets listing is refused (a token without the secrets scope).
        server.refuse("v1-list-all-secrets")
        result = SOURCE.collect(_platform(tmp_path, server.url, ref=ref), _ctx())
    assert [(g.object, g.reason) for g in result.gaps] == [
        ("edge function secrets", "the token was refused (HTTP 403)")]
    assert len(list(result.inventory.of(Kind.SUPABASE_PROJECT))) == 1


def test_failing_and_down_and_timeout_are_gaps(tmp_path: Path, fault_proxy: Any) -> None:
    from mgmt_api_server import free_port_url

    result = SOURCE.collect(_platform(tmp_path, free_port_url()), _ctx())
    assert [g.object for g in result.gaps] == ["project"] and "unreachable" in result.gaps[0].reason
    with running_server(polls_until_healthy=0) as server:
        _seed(server)
        proxy = fault_proxy(server.url)
        proxy.hang_next(10, 2.5)
        result = SOURCE.collect(_platform(tmp_path, proxy.url), SourceContext(
            env={"SSOT_AUDIT_SUPABASE_TOKEN": TOKEN}, timeout=0.3))
    assert [g.object for g in result.gaps] == ["project"]
    assert result.gaps[0].reason.startswith("unreachable or timed out")


def test_a_server_trickling_bytes_is_stopped_by_the_sources_deadline(tmp_path: Path) -> None:
    """A per-read timeout never trips on one byte every 20 ms; the source's 1 s deadline does."""
    import time

    from ssot.sources.live import SourceContext

    from .slowloris import Slowloris

    for phase in ("headers", "body"):
        with Slowloris(phase) as s:
            ctx = SourceContext(env={"SSOT_FINGERPRINT_KEY": KEY, "SSOT_AUDIT_SUPABASE_TOKEN": TOKEN}, timeout=0.5,
                                deadline=1.0)
            start = time.monotonic()
            result = SOURCE.collect(_platform(tmp_path, s.url), ctx)
            took = time.monotonic() - start
        assert took < 3.0, phase
        assert [g.object for g in result.gaps] == ["project"] and "timed out" in result.gaps[0].reason
        assert not result.complete


def test_a_huge_answer_is_cut_at_the_cap(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr("ssot.supabase_api.MAX_RESPONSE_BYTES", 200)
    with running_server() as server:
        _seed(server)
        result = SOURCE.collect(_platform(tmp_path, server.url), _ctx())
    assert [(g.object, g.reason) for g in result.gaps] == [
        ("project", "response larger than 200 bytes (not read further)")]
