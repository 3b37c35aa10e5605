from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tradeline.catalog.models import Tradeline
from tradeline.catalog.pricing import CatalogEntry, PricingPolicy
from tradeline.catalog.selectors import checkout_catalog
from tradeline.catalog.services import pricing_policy_for
from tradeline.core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def _row(card_id: str, *, age_seconds: int = 0, **fields) -> Tradeline:
    fields.setdefault("bank_name", "Chase")
    fields.setdefault("price", 100_000)
    fields.setdefault("stock", 3)
    return Tradeline.objects.create(card_id=card_id, synced_at=timezone.now() - timedelta(seconds=age_seconds),
                                    **fields)


def test_checkout_catalog_reads_available_rows(settings):
    settings.TRADELINE_API_URL = ""
    _row("101", credit_limit=500_000, date_opened="2015-03", reporting_period="15th", purchase_deadline="10th")
    _row("102", is_available=False)
    assert checkout_catalog() == {
        "101": CatalogEntry(card_id="101", bank_name="Chase", price=100_000, stock=3, credit_limit=500_000,
                            date_opened="2015-03", reporting_period="15th", purchase_deadline="10th"),
    }


def test_checkout_catalog_without_data_is_unavailable(settings):
    settings.TRADELINE_API_URL = ""
    with pytest.raises(ApplicationError) as exc:
        checkout_catalog()
    assert (exc.value.status, exc.value.code) == (503, "CATALOG_UNAVAILABLE")


def test_checkout_catalog_refuses_data_older_than_the_limit(settings):
    settings.TRADELINE_API_URL = ""
    settings.CATALOG_MAX_STALENESS_SECONDS = 3600
    _row("101", age_seconds=3601)
    with pytest.raises(ApplicationError) as exc:
        checkout_catalog()
    assert (exc.value.status, exc.value.code) == (503, "CATALOG_STALE")


def test_checkout_catalog_serves_data_past_ttl_but_within_the_limit(settings):
    settings.TRADELINE_API_URL = ""  # no supplier: the lazy refresh cannot run
    settings.CATALOG_TTL_SECONDS = 300
    _row("101", age_seconds=1200)
    assert list(checkout_catalog()) == ["101"]


def test_pricing_policy_for_broker_and_direct_sale(make_broker, settings):
    settings.PLATFORM_COMMISSION_PERCENT = Decimal(50)
    broker = make_broker(share="12.5", markup_type="FIXED", markup_fixed=2500)
    assert pricing_policy_for(broker) == PricingPolicy(
        platform_commission_percent=Decimal(50), revenue_share_percent=Decimal("12.5"), markup_type="FIXED",
        markup_percent=Decimal(20), markup_fixed=2500,
    )
    assert pricing_policy_for(None) == PricingPolicy(platform_commission_percent=Decimal(50))
