"""GET /api/public/pricing: customer prices only, cached per broker, invalidated by changes."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from tradeline.brokers.services import broker_keys_rotate, broker_set_share, broker_suspend, broker_update_settings
from tradeline.catalog.models import Tradeline
from tradeline.catalog.pricing import price_unit
from tradeline.catalog.services import pricing_policy_for

pytestmark = pytest.mark.django_db

URL = "/api/public/pricing"


@pytest.fixture
def broker_keys(make_broker):
    broker = make_broker(share="12.5", markup_type="PERCENTAGE", markup_percent="7.5", name="Acme Credit",
                         business_name="Acme Credit LLC")
    return broker, broker_keys_rotate(broker_id=broker.pk)


def _get(key: str | None, **extra):
    headers = {"HTTP_X_API_KEY": key} if key else {}
    response = Client().get(URL, **headers, **extra)
    return response, (json.loads(response.content) if response.content else None)


def _prices(body) -> dict[str, int]:
    return {row["card_id"]: row["customer_price"] for row in body["tradelines"]}


def test_publishable_key_gets_customer_prices_only(supplier_sim, broker_keys):
    supplier_sim.sync()
    broker, keys = broker_keys
    response, body = _get(keys["publishable_key"])
    assert response.status_code == 200
    assert body["broker"] == {"id": str(broker.pk), "name": "Acme Credit", "business_name": "Acme Credit LLC"}
    assert body["stale"] is False
    assert len(body["tradelines"]) == 60
    row = next(r for r in body["tradelines"] if r["card_id"] == "10001")
    stored = Tradeline.objects.get(card_id="10001")
    expected = price_unit(stored.price, pricing_policy_for(broker)).customer_price
    assert row == {
        "card_id": "10001", "bank_name": stored.bank_name, "credit_limit": stored.credit_limit,
        "credit_limit_usd": f"{stored.credit_limit // 100}.{stored.credit_limit % 100:02d}",
        "date_opened": stored.date_opened, "purchase_deadline": stored.purchase_deadline,
        "reporting_period": stored.reporting_period, "stock": stored.stock, "image": stored.image,
        "customer_price": expected, "customer_price_usd": f"{expected // 100}.{expected % 100:02d}",
    }
    text = response.content.decode()
    for secret_field in ("base_price", '"price"', "revenue_share", "supplier_cost", "markup", "platform"):
        assert secret_field not in text


def test_secret_key_works_too(supplier_sim, broker_keys):
    supplier_sim.sync()
    response, body = _get(broker_keys[1]["secret_key"])
    assert response.status_code == 200 and len(body["tradelines"]) == 60


def test_missing_or_bad_key_is_401(supplier_sim):
    supplier_sim.sync()
    assert _get(None)[0].status_code == 401
    response, body = _get("tlm_pk_abcdefgh_notakey")
    assert (response.status_code, body["code"]) == (401, "INVALID_API_KEY")


def test_suspended_broker_is_403(supplier_sim, broker_keys):
    supplier_sim.sync()
    broker, keys = broker_keys
    broker_suspend(broker_id=broker.pk)
    response, body = _get(keys["publishable_key"])
    assert (response.status_code, body["code"]) == (403, "BROKER_SUSPENDED")


def test_share_markup_and_catalog_changes_invalidate_the_cache(supplier_sim, broker_keys):
    supplier_sim.sync()
    broker, keys = broker_keys
    key = keys["publishable_key"]
    first = _prices(_get(key)[1])
    assert _prices(_get(key)[1]) == first  # cached, same answer
    base = Tradeline.objects.get(card_id="10001").price

    broker_update_settings(broker=broker, markup_type="FIXED", markup_fixed=2_500)
    assert _prices(_get(key)[1])["10001"] == base + 2_500

    broker_set_share(broker_id=broker.pk, percent=Decimal(20))  # share does not change customer prices...
    broker.refresh_from_db()
    assert _prices(_get(key)[1])["10001"] == base + 2_500  # ...but the key changed and the answer is right

    supplier_sim.state.set_price("10001", 50_000)
    supplier_sim.sync()
    assert _prices(_get(key)[1])["10001"] == 50_000 + 2_500


def test_supplier_down_serves_the_last_good_catalog_marked_stale(supplier_sim, broker_keys, settings):
    settings.CATALOG_TTL_SECONDS = 300
    supplier_sim.sync()
    key = broker_keys[1]["publishable_key"]
    assert _get(key)[1]["stale"] is False
    Tradeline.objects.update(synced_at=timezone.now() - timedelta(seconds=900))
    supplier_sim.set_faults(status=503)
    response, body = _get(key)
    assert response.status_code == 200
    assert body["stale"] is True and len(body["tradelines"]) == 60
    supplier_sim.clear_faults()


def test_no_catalog_at_all_is_503(supplier_sim, broker_keys):
    supplier_sim.set_faults(status=500)
    response, body = _get(broker_keys[1]["publishable_key"])
    assert (response.status_code, body["code"]) == (503, "CATALOG_UNAVAILABLE")


def test_rate_limited_per_key(supplier_sim, broker_keys, settings):
    settings.RATE_LIMIT_CATALOG = "2/60"
    supplier_sim.sync()
    key = broker_keys[1]["publishable_key"]
    assert [_get(key, REMOTE_ADDR=f"10.1.2.{n}")[0].status_code for n in range(2)] == [200, 200]
    response, body = _get(key, REMOTE_ADDR="10.1.2.9")
    assert (response.status_code, body["code"]) == (429, "RATE_LIMITED")
    assert int(response["Retry-After"]) >= 1


class _DownCache:
    """A cache whose every call fails, as when Redis is unreachable."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache down")
        return fail


def test_cache_outage_still_serves_prices(supplier_sim, broker_keys, monkeypatch):
    supplier_sim.sync()
    from tradeline.catalog import selectors

    # Only the catalog's cache breaks here: key authentication (another app) keeps its own.
    monkeypatch.setattr(selectors, "cache", _DownCache())
    response, body = _get(broker_keys[1]["publishable_key"])
    assert response.status_code == 200
    assert len(body["tradelines"]) == 60
