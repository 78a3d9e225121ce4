"""The helpers every rule shares: today's date, justification lookup, names and schedules in proposals."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest

from ssot import names
from ssot.inventory import Inventory
from ssot.model import cron_schedule_problem
from ssot.rules import _common as c

from ._cases import TODAY, justification

SUBJECT = "edge:STRIPE_KEY"


@pytest.mark.parametrize(("entries", "silenced", "note"), [
    pytest.param([], False, "", id="none"),
    pytest.param([justification("r", SUBJECT, TODAY)], True, "", id="valid through its expiry day"),
    pytest.param([{**justification("r", SUBJECT), "expires": "2025-07-01"}], True, "", id="iso string"),
    pytest.param([justification("r", SUBJECT, TODAY - datetime.timedelta(days=1), "ops")], False,
                 " A justification existed but expired on 2025-05-31 (ops).", id="expired"),
    pytest.param([{**justification("r", SUBJECT), "expires": None}], False,
                 " A justification exists (platform-team) but has no valid expiry date, so it does not apply.",
                 id="no expiry"),
    pytest.param([justification("other_rule", SUBJECT)], False, "", id="another rule"),
    pytest.param([justification("r", SUBJECT.lower())], False, "", id="subject is exact"),
    pytest.param([justification("r", SUBJECT, TODAY - datetime.timedelta(days=3), "old"),
                  justification("r", SUBJECT)], True, "", id="renewed"),
    pytest.param([justification("r", SUBJECT, datetime.date(2024, 1, 1), "a"),
                  justification("r", SUBJECT, datetime.date(2025, 1, 1), "b")], False,
                 " A justification existed but expired on 2025-01-01 (b).", id="latest expiry is reported"),
])
def test_check_justification(entries: list[dict[str, Any]], silenced: bool, note: str,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSOT_TODAY", TODAY.isoformat())
    got = c.check_justification(Inventory(justifications=entries), "r", SUBJECT)
    assert got.silenced is silenced
    assert got.note() == note


def test_today_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSOT_TODAY", "2031-02-03")
    assert c.today() == datetime.date(2031, 2, 3)
    monkeypatch.setenv("SSOT_TODAY", "tomorrow")
    with pytest.raises(ValueError, match=(r"SSOT_TODAY: expected an ISO date like 2025-01-31, got a string of 8 "
                                             r"characters: lowercase letters")):
        c.today()
    monkeypatch.delenv("SSOT_TODAY")
    assert isinstance(c.today(), datetime.date)


@pytest.mark.parametrize(("interval", "cron", "text"), [
    ({"number": 1, "type": "minutes"}, "* * * * *", "every minute"),
    ({"number": 15, "type": "minutes"}, "*/15 * * * *", "every 15 minutes"),
    ({"number": 90, "type": "minutes"}, None, "every 90 minutes"),
    ({"number": 120, "type": "minutes"}, "0 */2 * * *", "every 120 minutes"),
    ({"interval_number": 1, "interval_type": "hours"}, "0 * * * *", "every hour"),
    ({"number": 5, "type": "hours"}, None, "every 5 hours"),
    ((48, "hours"), "0 0 */2 * *", "every 48 hours"),
    ("1 days", "0 0 * * *", "every day"),
    ("1 work_days", "0 0 * * *", "every day"),
    ((1, "weeks"), "0 0 * * 1", "every week"),
    ((2, "weeks"), None, "every 2 weeks"),
    ({"number": 3, "type": "months"}, "0 0 1 */3 *", "every 3 months"),
    ({"number": 0, "type": "days"}, None, None),
    ("often", None, None),
    (None, None, None),
])
def test_odoo_interval(interval: Any, cron: str | None, text: str | None) -> None:
    assert c.odoo_interval_to_cron(interval) == cron
    assert c.odoo_interval_text(interval) == text
    if cron is not None:
        assert cron_schedule_problem(cron) is None  # the platform declaration accepts it


@pytest.mark.parametrize("parts", [("odoo", "acme_sync.ir_cron_sync"), ("Nightly Sync!",), ("9lives",), ("",),
                                   ("x" * 200,), ("STRIPE_KEY",), ("res.company", "stripe_api_key")])
def test_proposed_names_are_valid(parts: tuple[str, ...]) -> None:
    assert names.secret_name_problem(c.secret_name_for(*parts)) is None
    assert names.cron_job_problem(c.job_name_for(*parts)) is None
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", c.config_key_for(*parts))


def test_config_key_is_camel_case() -> None:
    assert c.config_key_for("github_webhook_secret") == "githubWebhookSecret"
    assert c.config_key_for("STRIPE_KEY") == "stripeKey"


def test_values_that_are_not_tokens_are_not_rendered() -> None:
    assert c.cron_expression("*/5 * * * *") == "*/5 * * * *"
    assert c.cron_expression("curl -H 'Bearer abc' https://x") is None
    assert c.odoo_method("model._cron_sync(token='abc')") == "_cron_sync"
    assert c.odoo_method("env['x'].search([])") is None
    assert c.safe_token("Stripe API key") == "Stripe API key"
    assert c.safe_token("key=abc;drop") is None


def test_sql_in_proposals_is_quoted() -> None:
    assert c.sql_ident("odd schema", "t") == '"odd schema"."t"'
    assert c.vault_read_sql("it's") == "select decrypted_secret from vault.decrypted_secrets where name = 'it''s'"


class _CountingInventory(Inventory):
    """Counts every asset and justification the rules look at, so work per finding shows up."""

    looked = 0

    def of(self, *kinds: Any) -> Any:
        for a in super().of(*kinds):
            self.looked += 1
            yield a


class _CountingList(list[Any]):
    def __init__(self, items: list[Any], inv: _CountingInventory) -> None:
        super().__init__(items)
        self.inv = inv

    def __iter__(self) -> Any:
        for j in super().__iter__():
            self.inv.looked += 1
            yield j


def _estate(n: int) -> _CountingInventory:
    from ssot.inventory import Asset, Kind, Location, Phase, Store

    def asset(kind: Kind, store: Store, name: str, phase: Phase = Phase.STATIC, **props: Any) -> Asset:
        return Asset(kind=kind, store=store, name=name, phase=phase, location=Location(path="x", line=1),
                     props=props)

    assets = []
    for i in range(n):
        assets += [
            asset(Kind.ODOO_CRON, Store.ODOO, f"acme.cron_{i}", model="res.partner", code=f"model.run_{i}()",
                  interval={"number": 1, "type": "days"}),
            asset(Kind.ODOO_JOB, Store.ODOO, f"acme.job_{i}", via="with_delay", method=f"run_{i}"),
            asset(Kind.SCHEDULE, Store.GITHUB_ACTIONS, f".github/workflows/w{i}.yml", schedule="0 0 * * *"),
            asset(Kind.EDGE_SECRET, Store.EDGE, f"KEY_{i}", category="api-key"),
            asset(Kind.VAULT_SECRET, Store.VAULT, f"token_{i}", category="scheduler"),
            asset(Kind.SUPABASE_PROJECT, Store.SUPABASE, f"p{i}", ref="abcdefghijklmnopqrst"),
            asset(Kind.ROLE, Store.POSTGRES, f"agent_{i}", role_kind="agent"),
            asset(Kind.GRANT, Store.POSTGRES, f"agent_{i}:odoo_shadow", role=f"agent_{i}", role_kind="agent",
                  schema="odoo_shadow", privileges=["SELECT"], objects=["*"]),
            asset(Kind.SECRET_FUNCTION, Store.POSTGRES, f"public.read_{i}()", Phase.LIVE, schema="public",
                  owner="postgres", executable_by=[f"agent_{i}"]),
        ]
    assets.append(asset(Kind.SCHEMA, Store.POSTGRES, "odoo_shadow", domain="shadow"))
    inv = _CountingInventory(assets, phases={Phase.STATIC})
    inv.justifications = _CountingList(
        [{"rule": "scheduler_placement", "subject": f"other:{i}", "expires": "2999-01-01"} for i in range(n)], inv)
    return inv


def test_rules_look_at_each_asset_a_bounded_number_of_times() -> None:
    # Per-finding work that rescans the inventory (the scheduler token, the project ref, the
    # justifications) makes the rules quadratic: doubling every kind must double what they look at.
    from ssot.rules import run_rules

    looked = []
    for n in (100, 200):
        inv = _estate(n)
        findings = run_rules(inv)
        assert len(findings) >= 6 * n
        looked.append(inv.looked)
    assert looked[1] <= 2.1 * looked[0], looked
