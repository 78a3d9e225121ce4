"""Credentials in transit: database connections verify the server, Odoo URLs are https.

The deployment's and the auditor's passwords go over these connections; `sslmode=require` encrypts
without checking who answers, and plain http sends the Odoo password in clear.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ssot.errors import ConfigError
from ssot.model import load_platform

BASE: dict[str, Any] = {"config": {
    "ssot:platform": {"name": "acme", "database": {"local": True}},
    "ssot:dbPassword": {"secure": "v1:AAAA:BBBB"},
}}

K = "config.ssot:platform"


def _load(tmp_path: Path, **platform: Any) -> Any:
    doc = copy.deepcopy(BASE)
    doc["config"]["ssot:platform"].update(platform)
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_platform(path)


def _db(**extra: Any) -> dict[str, Any]:
    return {"host": "db.example.internal", "password": {"secret": "dbPassword"}, **extra}


def test_a_remote_database_verifies_the_server_by_default(tmp_path: Path) -> None:
    db = _load(tmp_path, database=_db()).database
    assert (db.sslmode, db.sslrootcert) == ("verify-full", None)


def test_the_projects_database_verifies_the_server_by_default(tmp_path: Path) -> None:
    project = {"name": "acme", "organizationId": "org", "region": "eu-central-1",
               "dbPassword": {"secret": "dbPassword"}, "accessToken": {"env": "SUPABASE_ACCESS_TOKEN"}}
    db = _load(tmp_path, project=project, database={"fromProject": True, "sslrootcert": "certs/supabase.crt"}).database
    assert (db.sslmode, db.sslrootcert) == ("verify-full", "certs/supabase.crt")


def test_the_local_cluster_has_no_tls_and_an_explicit_sslmode_wins(tmp_path: Path) -> None:
    assert _load(tmp_path, database={"local": True}).database.sslmode == "disable"
    db = _load(tmp_path, database=_db(sslmode="require", sslrootcert="system")).database
    assert (db.sslmode, db.sslrootcert) == ("require", "system")


@pytest.mark.parametrize("value", ["-o evil", "ca.crt host=evil", "a\nb", "", 42])
def test_a_bad_sslrootcert_is_refused_without_echoing_it(tmp_path: Path, value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, database=_db(sslrootcert=value))
    message = str(info.value)
    assert f"{K}.database.sslrootcert" in message
    if isinstance(value, str) and value:
        assert value not in message


def test_the_deployed_stacks_verify_their_database(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    for path in (root / "stacks").glob("Pulumi.*.yaml"):
        db = load_platform(path).database
        assert db.local or db.sslmode == "verify-full", path.name


def _odoo(url: str) -> dict[str, Any]:
    return {"url": url, "database": "acme", "username": "ssot-auditor", "password": {"env": "ODOO_PASSWORD"}}


@pytest.mark.parametrize("url", ["https://odoo.example.com", "https://odoo.example.com:8443/",
                                 "http://127.0.0.1:8069", "http://127.8.9.10:8069", "http://localhost:8069",
                                 "http://[::1]:8069/"])
def test_odoo_urls_are_https_or_loopback(tmp_path: Path, url: str) -> None:
    assert _load(tmp_path, odoo=_odoo(url)).odoo.url == url


@pytest.mark.parametrize("url", ["http://odoo.example.com", "http://10.0.0.5:8069", "http://127.0.0.1.evil.test",
                                 "http://localhost.evil.test:8069", "http://[::2]:8069", "ftp://odoo.example.com"])
def test_plain_http_to_a_remote_odoo_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, odoo=_odoo(url))
    assert f"{K}.odoo.url" in str(info.value)


@pytest.mark.parametrize(("url", "ok"), [("https://secretsmanager.eu-central-1.amazonaws.com", True),
                                         ("http://127.0.0.1:54382", True), ("http://localhost:5000", True),
                                         ("http://aws-proxy.internal:8080", False), ("ftp://x.test", False)])
def test_aws_endpoint_urls_are_https_or_loopback(tmp_path: Path, url: str, ok: bool) -> None:
    aws = {"region": "eu-central-1", "endpointUrl": url}
    if ok:
        assert _load(tmp_path, aws=aws).aws.endpoint_url == url
    else:
        with pytest.raises(ConfigError) as info:
            _load(tmp_path, aws=aws)
        assert f"{K}.aws.endpointUrl" in str(info.value)
