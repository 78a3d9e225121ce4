"""One test per detector, discovery, and the scanning engine's behaviour (overlaps, positions, values)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import detector_synth as synth
import pytest

import ssot.detectors as detectors
from ssot.detectors import Detector, all_detectors, all_filters, explain_text, scan_text, scan_value
from ssot.detectors import plugins as plugin_package
from ssot.fingerprint import fingerprint


def s(kind: str, seed: str = "plugin-test") -> str:
    return synth.secret(kind, seed)


# detector class name -> (text with a secret it must report, text it must not raise a candidate in)
CASES: dict[str, tuple[str, str]] = {
    "SupabaseSecretKeyDetector": (
        f"key = '{s('supabase_secret_key')}'",
        "the prefix sb_secret_ alone, or sb_secret_short",
    ),
    "SupabasePersonalAccessTokenDetector": (
        f"SUPABASE_ACCESS_TOKEN={s('supabase_pat')}",
        "sbp_" + "g" * 40,
    ),
    "SupabaseServiceRoleJwtDetector": (
        f"key: {s('supabase_service_role_jwt')}",
        f"key: {synth.trap_value('anon_jwt')}",
    ),
    "N8nApiKeyDetector": (
        f"X-N8N-API-KEY: {s('n8n_api_jwt')}",
        f"auth: {s('supabase_service_role_jwt')}",
    ),
    "N8nApiKeyAssignmentDetector": (
        f"N8N_API_KEY={s('n8n_api_opaque')}",
        "N8N_API_KEY=aaaaaaaaaaaaaaaaaaaa",
    ),
    "N8nBasicAuthPasswordDetector": (
        f"N8N_BASIC_AUTH_PASSWORD={s('password')}",
        "N8N_BASIC_AUTH_PASSWORD=false",
    ),
    "N8nEncryptionKeyDetector": (
        f"N8N_ENCRYPTION_KEY={s('hex_key')}",
        "N8N_ENCRYPTION_KEY=short",
    ),
    "AnthropicApiKeyDetector": (
        f"ANTHROPIC_API_KEY={s('anthropic_api')}",
        "sk-ant-api03-tooShort",
    ),
    "AnthropicAdminKeyDetector": (
        f"key={s('anthropic_admin')}",
        "sk-ant-admin01-tooShort",
    ),
    "OdooMasterPasswordDetector": (
        f"admin_passwd = {s('password')}",
        "admin_passwd = False",
    ),
    "OdooConfigParameterSecretDetector": (
        f"env['ir.config_parameter'].set_param('x.client_secret', '{s('password')}')",
        "env['ir.config_parameter'].set_param('web.base.url', 'https://odoo.example.org')",
    ),
    "PostgresUriDetector": (
        f"postgres://app:{s('password')}@db.internal/app",
        "postgres://app@db.internal/app and postgresql://db.internal:5432/app",
    ),
    "PostgresConninfoDetector": (
        f"dbname=app host=db password={s('password')}",
        f"https://example.org/?password={s('password')}",
    ),
    "AwsAccessKeyIdDetector": (
        f"aws_access_key_id={s('aws_access_key_id')}",
        "XAKIA0123456789ABCDEF and AKIA0123",
    ),
    "AwsSecretAccessKeyDetector": (
        f"aws_secret_access_key: {s('aws_secret_access_key')}",
        "aws_secret_access_key: " + "a" * 40,
    ),
    "GitHubTokenDetector": (
        f"token {s('github_pat_fine')}",
        "ghp_short and github_pat_short",
    ),
    "SlackTokenDetector": (
        f"SLACK_BOT_TOKEN={s('slack_bot')}",
        "xoxb-notanumber-token",
    ),
    "SlackWebhookDetector": (
        f"url = {s('slack_webhook')}",
        "https://hooks.slack.com/services/",
    ),
    "StripeSecretKeyDetector": (
        f"Stripe('{s('stripe_live')}')",
        "Stripe('sk_test_" + "a1" * 16 + "') and pk_live_" + "b2" * 16,
    ),
    "PrivateKeyDetector": (
        s("pem_rsa"),
        "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
    ),
    "GenericSecretAssignmentDetector": (
        f"smtp_password = '{s('password')}'",
        "password = 'short'\npassword_policy = strict_rules_apply\ntoken = self.token_value",
    ),
}


def test_every_detector_has_a_case() -> None:
    assert set(CASES) == {d.name for d in all_detectors()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_detector_positive(name: str) -> None:
    text, _ = CASES[name]
    reported = [m for m in scan_text(text) if m.detector == name]
    assert len(reported) == 1, scan_text(text)
    det = next(d for d in all_detectors() if d.name == name)
    assert reported[0].secret_type == det.secret_type


@pytest.mark.parametrize("name", sorted(CASES))
def test_detector_negative(name: str) -> None:
    _, text = CASES[name]
    assert [m for m, _ in explain_text(text) if m.detector == name] == []


def test_detectors_are_well_formed() -> None:
    dets = all_detectors()
    assert len({d.name for d in dets}) == len(dets) >= 20
    assert [d.priority for d in dets] == sorted((d.priority for d in dets), reverse=True)
    for d in dets:
        assert d.secret_type and d.regexes
        assert all("secret" in rx.groupindex for rx in d.regexes)


def test_a_detector_outside_the_plugins_is_not_discovered() -> None:
    class NotAPlugin(Detector):
        secret_type = "never"

    assert "NotAPlugin" not in {d.name for d in all_detectors()}


def test_a_malformed_detector_is_refused() -> None:
    import re

    class NoSecretGroup(Detector):
        secret_type = "broken"
        regexes = (re.compile(r"abc"),)

    with pytest.raises(TypeError, match="named group 'secret'"):
        detectors._check_detector(NoSecretGroup)


@pytest.fixture
def extra_plugin_dir(tmp_path: Path) -> Iterator[Path]:
    """A temporary extra directory on the plugin and filter packages' paths."""
    from ssot.detectors import filters as filter_package

    plugin_package.__path__.append(str(tmp_path / "p"))
    filter_package.__path__.append(str(tmp_path / "f"))
    (tmp_path / "p").mkdir()
    (tmp_path / "f").mkdir()
    all_detectors.cache_clear()
    all_filters.cache_clear()
    try:
        yield tmp_path
    finally:
        plugin_package.__path__.remove(str(tmp_path / "p"))
        filter_package.__path__.remove(str(tmp_path / "f"))
        for name in [m for m in sys.modules if m.endswith(".zz_extra")]:
            del sys.modules[name]
        all_detectors.cache_clear()
        all_filters.cache_clear()


def test_adding_a_detector_and_a_filter_is_adding_a_class_and_a_function(extra_plugin_dir: Path) -> None:
    (extra_plugin_dir / "p" / "zz_extra.py").write_text(
        textwrap.dedent(
            """
            import re
            from ssot.detectors.base import Detector

            class AcmeTokenDetector(Detector):
                secret_type = "Acme token"
                keywords = ("acme_",)
                regexes = (re.compile(r"(?P<secret>acme_[0-9a-f]{32})"),)
            """
        )
    )
    (extra_plugin_dir / "f" / "zz_extra.py").write_text(
        "def is_acme_test_token(secret, line='', path=''):\n    return secret.endswith('c0ffee')\n"
    )
    live = "acme_" + "3f" * 16
    test_token = "acme_" + "ab" * 13 + "c0ffee"
    assert [m.secret_type for m in scan_text(f"a={live}\nb={test_token}\n")] == ["Acme token"]
    assert [why for _, why in explain_text(f"b={test_token}")] == ["is_acme_test_token"]


def test_specific_detector_wins_over_generic() -> None:
    key = s("supabase_secret_key", "overlap")
    matches = scan_text(f"SUPABASE_SECRET_KEY={key}\napi_key: {key}\n")
    assert [(m.detector, m.line) for m in matches] == [
        ("SupabaseSecretKeyDetector", 1),
        ("SupabaseSecretKeyDetector", 2),
    ]


def test_a_rejected_candidate_still_claims_its_text() -> None:
    # the demo service_role JWT is judged by the JWT detector (a local default); the generic
    # detector must not report the same text as a "Generic secret"
    assert scan_text(f"token: {synth.trap_value('demo_service_jwt')}") == []


def test_positions_are_one_based_and_in_order() -> None:
    a, b = s("github_pat_classic", "a"), s("stripe_live", "b")
    text = f"first line\r\n  x = {a}\r\n\r\ny={b} z\n"
    matches = scan_text(text, "f.txt")
    assert [(m.line, m.column) for m in matches] == [(2, 7), (4, 3)]
    assert [m.fingerprint for m in matches] == [fingerprint(a), fingerprint(b)]


def test_positions_survive_text_whose_lowercase_is_longer() -> None:
    # "İ".lower() is two code points; the case-insensitive detectors must still report true columns
    pw = s("password", "unicode")
    text = f"İİİ note\nİİ db_password = '{pw}'\n"
    (match,) = scan_text(text)
    assert (match.line, match.column) == (2, text.split("\n")[1].index(pw) + 1)
    assert match.fingerprint == fingerprint(pw)


def test_first_and_last_character_of_text() -> None:
    key = s("supabase_pat", "edges")
    assert [(m.line, m.column) for m in scan_text(key)] == [(1, 1)]
    assert [(m.line, m.column) for m in scan_text("\n\n" + key)] == [(3, 1)]


def test_odd_input_never_raises() -> None:
    odd = [
        "",
        "\x00\x01\x02" * 100,
        "eyJ" + "A" * 30 + ".eyJ" + "B" * 30 + "." + "C" * 30,  # undecodable JWT-shaped text
        "eyJhbGciOiJub25lIn0.eyJ" + "_" * 40 + "." + "-" * 20,
        "password=" + "=" * 5000,
        "-----BEGIN PRIVATE KEY-----" + "A" * 20000,
        "postgres://" + ":" * 1000 + "@",
        "\ud800 lone surrogate password = 'Abcdef12345!'",
        "password = 'Abc\udcff12345!xyz'",  # a surrogate inside the secret itself
    ]
    for text in odd:
        scan_text(text)
        explain_text(text)
    assert len(scan_text(odd[-1])) == 1


def test_scan_value_judges_a_value_by_its_key() -> None:
    pw = s("password", "value")
    (m,) = scan_value(pw, context="dbPassword")
    assert (m.secret_type, m.line, m.column, m.fingerprint) == ("Generic secret", 1, 1, fingerprint(pw))
    assert scan_value(f"  {pw}\n", context="X-Api-Key")[0].column == 3
    assert scan_value(pw, context="description") == []
    assert scan_value(pw) == []
    assert scan_value("changeme-Later-2024", context="password") == []
    assert scan_value("${DB_PASSWORD}", context="password") == []
    assert scan_value("settings.db_password", context="password") == []


def test_scan_value_finds_formats_in_commands() -> None:
    uri = f"postgres://sync:{s('password', 'cmd')}@odoo-db/odoo"
    matches = scan_value(f"select dblink_connect('{uri}')", context="cron-command")
    assert [m.secret_type for m in matches] == ["Postgres password"]
