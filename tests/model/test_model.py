"""The platform model: valid stacks load; every malformed one is refused with a precise message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ssot.errors import ConfigError
from ssot.model import load_platform

ROOT = Path(__file__).resolve().parents[2]

BASE: dict[str, Any] = {
    "config": {
        "ssot:platform": {
            "name": "acme",
            "database": {"host": "db.example.internal", "port": 5432, "password": {"secret": "dbPassword"}},
            "schemas": [
                {"name": "ops", "domain": "ops"},
                {"name": "ai", "domain": "ai"},
                {"name": "odoo_shadow", "domain": "shadow"},
            ],
            "roles": [
                {"name": "ssot_agent", "kind": "agent", "login": True, "password": {"secret": "agentPassword"}},
                {"name": "ssot_sync", "kind": "automation"},
            ],
            "grants": [{"role": "ssot_agent", "schema": "ai", "on": "table", "privileges": ["SELECT", "INSERT"]}],
            "vault": {"secrets": [{"name": "github_app_key", "category": "github-app",
                                   "value": {"secret": "githubAppKey"}}]},
            "cron": {"jobs": [{"name": "refresh", "schedule": "*/5 * * * *", "command": "select 1"}]},
        },
        "ssot:dbPassword": {"secure": "v1:AAAA:BBBB"},
        "ssot:agentPassword": {"secure": "v1:CCCC:DDDD"},
        "ssot:githubAppKey": {"secure": "v1:EEEE:FFFF"},
    }
}


def _write(tmp_path: Path, doc: Any, text: str | None = None) -> Path:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(doc, sort_keys=False))
    return path


def _mutate(fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    fn(doc["config"]["ssot:platform"])
    return doc


def P(doc: dict[str, Any]) -> dict[str, Any]:
    return doc


def test_base_is_valid(tmp_path: Path) -> None:
    platform = load_platform(_write(tmp_path, BASE))
    assert platform.name == "acme" and platform.stack == "test"
    assert [s.domain for s in platform.schemas] == ["ops", "ai", "shadow"]
    assert platform.vault_secrets[0].value.kind == "secret-config"
    assert platform.secret_config_keys == {"dbPassword", "agentPassword", "githubAppKey"}


@pytest.mark.parametrize("stack", ["local", "prod"])
def test_shipped_stacks_are_valid(stack: str) -> None:
    platform = load_platform(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    assert {s.domain for s in platform.schemas} == {"ops", "ai", "audit", "analytics", "shadow"}
    # Doctrine: no secret in a shipped stack file is plaintext.
    assert all(src.kind != "literal" for _, src in platform.secret_sources())


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def fn(p: dict[str, Any]) -> None:
        target = p
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = value
    return fn


def _delete(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def fn(p: dict[str, Any]) -> None:
        target = p
        for k in path[:-1]:
            target = target[k]
        del target[path[-1]]
    return fn


def _append(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def fn(p: dict[str, Any]) -> None:
        target: Any = p
        for k in path:
            target = target[k]
        target.append(value)
    return fn


K = "config.ssot:platform"
# (id, mutation, fragments that must all appear in the message)
MALFORMED: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("unknown top key", _set(["schemaz"], []), [f"{K}.schemaz", "unknown key", "did you mean 'schemas'"]),
    ("unknown nested key", _set(["roles", 0, "logon"], True), [f"{K}.roles[0].logon", "did you mean 'login'"]),
    ("missing name", _delete(["name"]), [K, "required key 'name'"]),
    ("schemas not a list", _set(["schemas"], {"name": "ops"}), [f"{K}.schemas", "a list; got a mapping"]),
    ("hostile schema name", _set(["schemas", 0, "name"], 'ai"; drop schema public; --'),
     [f"{K}.schemas[0].name", "lowercase identifier",
      "got a string of 27 characters: lowercase letters, spaces, symbols"]),
    ("schema name with pg_ prefix", _set(["schemas", 0, "name"], "pg_ops"), ["not starting with 'pg_'"]),
    ("reserved schema", _set(["schemas", 0, "name"], "auth"), [f"{K}.schemas[0].name", "'auth' is reserved"]),
    ("bad domain", _set(["schemas", 0, "domain"], "finance"),
     [f"{K}.schemas[0].domain", "one of ops, ai, audit, analytics, shadow", "got a string of 7 characters"]),
    ("duplicate schema", _append(["schemas"], {"name": "ops", "domain": "ops"}),
     [f"{K}.schemas[3].name", "unique schema name", "the same name is already declared at index 0"]),
    ("domain wrong type", _set(["schemas", 1, "domain"], 7),
     [f"{K}.schemas[1].domain", "got a whole number of 1 digit"]),
    ("bad role kind", _set(["roles", 0, "kind"], "robot"), [f"{K}.roles[0].kind", "agent, automation, auditor"]),
    ("login without password", _delete(["roles", 0, "password"]),
     [f"{K}.roles[0]", "required key 'password'", "login: true"]),
    ("password on nologin role", _set(["roles", 1, "password"], {"secret": "agentPassword"}),
     [f"{K}.roles[1].password", "no password for a role without login"]),
    ("plaintext role password", _set(["roles", 0, "password"], "hunter2-plain"),
     [f"{K}.roles[0].password", "not a plaintext value", "pulumi config set --secret"]),
    ("generated role password", _set(["roles", 0, "password"], {"generate": {"bytes": 32}}),
     [f"{K}.roles[0].password", "cannot be generated"]),
    ("hostile role name", _set(["roles", 0, "name"], "agent; drop role postgres"), [f"{K}.roles[0].name"]),
    ("reserved role", _set(["roles", 1, "name"], "service_role"), ["'service_role' is reserved"]),
    ("plaintext vault value", _set(["vault", "secrets", 0, "value"], "ghp_plaintextvalue"),
     [f"{K}.vault.secrets[0].value", "not a plaintext value"]),
    ("vault value from missing config key", _set(["vault", "secrets", 0, "value"], {"secret": "nope"}),
     [f"{K}.vault.secrets[0].value.secret", "not a config key in the stack file", "got a string of 4 characters",
      "pulumi config set --secret <configKey>"]),
    ("two sources", _set(["vault", "secrets", 0, "value"], {"secret": "githubAppKey", "env": "X"}),
     [f"{K}.vault.secrets[0].value", "exactly one of secret, generate, managedOutside, env"]),
    ("hostile vault name", _set(["vault", "secrets", 0, "name"], "x'; delete from vault.secrets; --"),
     [f"{K}.vault.secrets[0].name", "Vault secret name"]),
    ("bad category", _set(["vault", "secrets", 0, "category"], "apikey"),
     [f"{K}.vault.secrets[0].category", "did you mean 'api-key'"]),
    ("generate too short", _set(["vault", "secrets", 0, "value"], {"generate": {"bytes": 4}}),
     [f"{K}.vault.secrets[0].value.generate.bytes", "an integer from 16 to 512"]),
    ("managedOutside without reason", _set(["vault", "secrets", 0, "value"], {"managedOutside": {"owner": "sec"}}),
     [f"{K}.vault.secrets[0].value.managedOutside", "required key 'reason'"]),
    ("bad cron schedule", _set(["cron", "jobs", 0, "schedule"], "every 5 minutes"),
     [f"{K}.cron.jobs[0].schedule", "a cron schedule of 5 fields"]),
    ("duplicate cron job", _append(["cron", "jobs"], {"name": "refresh", "schedule": "@daily", "command": "select 2"}),
     [f"{K}.cron.jobs[1].name", "unique cron job name"]),
    ("cron command empty", _set(["cron", "jobs", 0, "command"], ""), [f"{K}.cron.jobs[0].command", "SQL command"]),
    ("privilege invalid for object", _set(["grants", 0, "privileges"], ["EXECUTE"]),
     [f"{K}.grants[0].privileges[0]", "valid on table objects", "got a string of 7 characters: uppercase letters"]),
    ("grant on undeclared schema", _set(["grants", 0, "schema"], "aii"),
     [f"{K}.grants[0].schema", "the schema named is not declared", "did you mean 'ai'"]),
    ("grant to undeclared role", _set(["grants", 0, "role"], "ssot_agnt"),
     [f"{K}.grants[0].role", "did you mean 'ssot_agent'"]),
    ("duplicate grant", _append(["grants"], {"role": "ssot_agent", "schema": "ai", "on": "table",
                                             "privileges": ["SELECT"]}),
     [f"{K}.grants[1]", "one grant per role, schema, object type"]),
    ("port as string", _set(["database", "port"], "5432"), [f"{K}.database.port", "integer from 1 to 65535",
                                                           "got a string of 4 characters: digits"]),
    ("database without password", _delete(["database", "password"]), [f"{K}.database", "required key 'password'"]),
    ("bad sslmode", _set(["database", "sslmode"], "on"), [f"{K}.database.sslmode", "verify-full"]),
    ("edge secret without project", _set(["edgeFunctions"], {"secrets": [
        {"name": "STRIPE_KEY", "category": "api-key", "value": {"secret": "githubAppKey"}}]}),
     [f"{K}.edgeFunctions.secrets", "a 'project' declaration"]),
    ("edge secret reserved prefix", _set(["edgeFunctions"], {"secrets": [
        {"name": "SUPABASE_URL", "category": "other", "value": {"secret": "githubAppKey"}}]}),
     [f"{K}.edgeFunctions.secrets[0].name", "not starting with 'SUPABASE_'"]),
    ("justification without expiry", _set(["justifications"], [
        {"rule": "odoo_cron", "subject": "x", "reason": "r", "owner": "o"}]),
     [f"{K}.justifications[0]", "required key 'expires'"]),
    ("justification bad date", _set(["justifications"], [
        {"rule": "odoo_cron", "subject": "x", "reason": "r", "owner": "o", "expires": "next year"}]),
     [f"{K}.justifications[0].expires", "YYYY-MM-DD"]),
    ("extension hostile", _set(["extensions"], ["vector; drop"]), [f"{K}.extensions[0].name", "extension name"]),
    ("memberOf undeclared", _set(["roles", 0, "memberOf"], ["ssot_sink"]),
     [f"{K}.roles[0].memberOf[0]", "did you mean 'ssot_sync'"]),
    ("cron username unknown", _set(["cron", "jobs", 0, "username"], "nobody"),
     [f"{K}.cron.jobs[0].username", "the role named is neither"]),
    ("env var lowercase", _set(["vault", "secrets", 0, "value"], {"env": "gh_key"}),
     [f"{K}.vault.secrets[0].value.env", "environment variable name"]),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_config_is_refused_with_a_precise_message(tmp_path: Path, case: Any) -> None:
    _, mutate, fragments = case
    path = _write(tmp_path, _mutate(mutate))
    with pytest.raises(ConfigError) as info:
        load_platform(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    # Every issue names a line of the file.
    assert all(issue.line for issue in info.value.issues), message


def test_plaintext_where_secret_config_expected(tmp_path: Path) -> None:
    doc = copy.deepcopy(BASE)
    doc["config"]["ssot:githubAppKey"] = "ghp_notasecureconfigvalue"
    path = _write(tmp_path, doc)
    with pytest.raises(ConfigError) as info:
        load_platform(path)
    assert "config key 'ssot:githubAppKey' to be a secret (`secure:`), but it is plaintext" in str(info.value)
    # The value itself is never quoted back.
    assert "ghp_notasecureconfigvalue" not in str(info.value)
    # Lenient mode (previews) loads it as a literal for the rules to report.
    platform = load_platform(path, strict=False)
    assert platform.vault_secrets[0].value.kind == "literal"
    assert "ghp_notasecureconfigvalue" not in repr(platform)


def test_no_platform_key(tmp_path: Path) -> None:
    path = _write(tmp_path, {"config": {"ssot:other": 1}})
    with pytest.raises(ConfigError, match="key 'ssot:platform' holding the platform declaration"):
        load_platform(path)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, None, text="config:\n  ssot:platform:\n    name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"Pulumi.test.yaml:\d+: .*valid YAML"):
        load_platform(path)


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = _write(tmp_path, None, text="config:\n  ssot:platform:\n    name: a\n    name: b\n")
    with pytest.raises(ConfigError,
                       match=r"Pulumi.test.yaml:4: config.ssot:platform: each key once; got a duplicate key"):
        load_platform(path)


def test_yaml_1_2_booleans_like_pulumi(tmp_path: Path) -> None:
    # `on:` must stay a key named "on", as Pulumi's YAML 1.2 parser reads it.
    text = yaml.safe_dump(BASE, sort_keys=False).replace("'on'", "on")
    assert "\n      on: table" in text
    platform = load_platform(_write(tmp_path, None, text=text))
    assert platform.grants[0].on == "table"


def test_many_errors_reported_together(tmp_path: Path) -> None:
    def several(p: dict[str, Any]) -> None:
        p["schemas"][0]["domain"] = "x"
        p["roles"][0]["kind"] = "y"
        p["cron"]["jobs"][0]["schedule"] = "z"
    with pytest.raises(ConfigError) as info:
        load_platform(_write(tmp_path, _mutate(several)))
    assert len(info.value.issues) == 3


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_platform("/nonexistent/Pulumi.x.yaml")


def test_the_audit_section_bounds_each_source_in_time(tmp_path: Path) -> None:
    original = (ROOT / "stacks" / "Pulumi.prod.yaml").read_text()
    default = load_platform(ROOT / "stacks" / "Pulumi.prod.yaml", strict=False).audit
    assert default is not None and default.deadline_seconds == 600
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(original.replace("    audit:\n", "    audit:\n      deadlineSeconds: 90\n", 1))
    audit = load_platform(path, strict=False).audit
    assert audit is not None and (audit.timeout_seconds, audit.deadline_seconds) == (30, 90)
    path.write_text(original.replace("    audit:\n", "    audit:\n      deadlineSeconds: 0\n", 1))
    with pytest.raises(ConfigError, match=r"audit\.deadlineSeconds: an integer from 1 to 7200"):
        load_platform(path, strict=False)
