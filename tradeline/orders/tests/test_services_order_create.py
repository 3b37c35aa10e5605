"""order_create: prices from the engine frozen on the order, unique numbers, every cart rule a 4xx."""

import re
from decimal import Decimal

import pytest

from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import BrokerStatus, MarkupType
from tradeline.catalog.models import Tradeline
from tradeline.core.errors import ApplicationError, PermissionDenied, ValidationFailed
from tradeline.orders import services
from tradeline.orders.models import Order, OrderItem, OrderStatus, PaymentStatus
from tradeline.orders.tests.conftest import old, seed_catalog
from tradeline.payouts.models import CommissionRecord

NUMBER = re.compile(r"^TLM-\d{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$")


def _nothing_created():
    assert Order.objects.count() == 0
    assert OrderItem.objects.count() == 0
    assert ActivityLog.objects.filter(action__startswith="order.").count() == 0
    assert CommissionRecord.objects.count() == 0


@pytest.mark.django_db
def test_worked_example_is_frozen_on_order_and_item(catalog, make_broker):
    # docs/domain.md: P = $1,000.00, C = 50, r = 10, markup 20 %.
    broker = make_broker(share="10", markup_percent="20")
    order = services.order_create(broker=broker, customer_email="ann@example.com", customer_name=" Ann  Lee ",
                                  items=[("card-chase", 1)])
    order.refresh_from_db()
    assert NUMBER.match(order.order_number)
    assert (order.status, order.payment_status) == (OrderStatus.PENDING, PaymentStatus.PENDING)
    assert order.broker == broker and order.customer_name == "Ann Lee" and order.currency == "usd"
    assert order.total_charged == 120_000
    assert order.subtotal_base == 100_000
    assert order.platform_gross == 50_000
    assert order.supplier_cost == 50_000
    assert order.broker_revenue_share == 10_000
    assert order.broker_markup == 20_000
    assert order.platform_net_revenue == 40_000
    assert order.broker_earnings == 30_000
    assert order.platform_commission_percent == Decimal("50")
    assert order.revenue_share_percent == Decimal("10")
    item = order.items.get()
    assert (item.card_id, item.bank_name, item.quantity) == ("card-chase", "Chase", 1)
    assert (item.credit_limit, item.date_opened, item.reporting_period) == (1_500_000, "2012-04", "1st-5th")
    assert (item.base_price, item.platform_gross, item.revenue_share, item.markup, item.customer_price) == (
        100_000, 50_000, 10_000, 20_000, 120_000)
    # Customer paid = supplier cost + platform net + broker earnings, to the cent.
    assert order.total_charged == order.supplier_cost + order.platform_net_revenue + order.broker_earnings
    log = ActivityLog.objects.get(action="order.created")
    assert log.entity_id == str(order.pk) and log.broker == broker
    assert log.metadata["total_charged"] == 120_000
    assert CommissionRecord.objects.count() == 0  # commissions only come with payment


@pytest.mark.django_db
def test_rounding_example_per_unit_then_times_quantity(catalog, make_broker):
    # docs/domain.md: P = $333.33, r = 12.5, markup 7.5 % -> S 4167, M 2500, U 35833, G 16667, N 12500 (per unit).
    broker = make_broker(share="12.5", markup_percent="7.5")
    order = services.order_create(broker=broker, customer_email="bo@example.com", items=[("card-amex", 3)])
    item = order.items.get()
    assert (item.revenue_share, item.markup, item.customer_price, item.platform_gross) == (4167, 2500, 35833, 16667)
    assert (item.total_revenue_share, item.total_markup, item.total_customer_price) == (12_501, 7_500, 107_499)
    assert order.total_charged == 107_499
    assert order.platform_gross == 50_001
    assert order.supplier_cost == 99_999 - 50_001
    assert order.platform_net_revenue == 37_500
    assert order.broker_revenue_share + order.platform_net_revenue == order.platform_gross
    assert order.revenue_share_percent == Decimal("12.5")


@pytest.mark.django_db
def test_fixed_markup_and_multiple_lines(catalog, make_broker):
    broker = make_broker(share="20", markup_type=MarkupType.FIXED, markup_fixed=2_500)
    order = services.order_create(broker=broker, customer_email="c@example.com",
                                  items=[("card-chase", 2), ("card-citi", 1)])
    lines = {item.card_id: item for item in order.items.all()}
    assert lines["card-chase"].customer_price == 102_500 and lines["card-chase"].total_customer_price == 205_000
    assert lines["card-citi"].customer_price == 52_499 and lines["card-citi"].revenue_share == 10_000  # 9999.8
    assert order.total_charged == 257_499
    assert order.broker_markup == 7_500
    assert order.broker_revenue_share == 40_000 + 10_000
    assert order.platform_net_revenue == (50_000 * 2 + 25_000) - 50_000  # G(49999) = 24999.5 -> 25000


@pytest.mark.django_db
def test_direct_sale_has_no_share_or_markup(catalog):
    order = services.order_create(broker=None, customer_email="d@example.com", items=[("card-chase", 1)])
    assert order.broker is None
    assert (order.total_charged, order.broker_revenue_share, order.broker_markup) == (100_000, 0, 0)
    assert order.platform_net_revenue == order.platform_gross == 50_000
    assert order.revenue_share_percent == 0


@pytest.mark.django_db
def test_duplicate_card_ids_are_merged(catalog, make_broker):
    order = services.order_create(broker=make_broker(), customer_email="e@example.com",
                                  items=[("card-amex", 2), ("card-chase", 1), ("card-amex", 3)])
    assert sorted(order.items.values_list("card_id", "quantity")) == [("card-amex", 5), ("card-chase", 1)]


@pytest.mark.django_db
def test_prices_stay_frozen_when_the_catalog_changes(catalog, make_broker):
    order = services.order_create(broker=make_broker(), customer_email="f@example.com", items=[("card-chase", 1)])
    Tradeline.objects.filter(card_id="card-chase").update(price=150_000, bank_name="Chase Sapphire")
    order.refresh_from_db()
    item = order.items.get()
    assert (order.total_charged, item.base_price, item.bank_name) == (120_000, 100_000, "Chase")


@pytest.mark.django_db
def test_order_number_collision_is_retried(catalog, make_broker, make_order, monkeypatch):
    first = services.order_create(broker=None, customer_email="g@example.com", items=[("card-chase", 1)])
    taken_suffix = first.order_number.rsplit("-", 1)[1]
    draws = iter([taken_suffix, taken_suffix, "7Q4K9X"])
    monkeypatch.setattr(services, "_random_suffix", lambda: next(draws))
    second = services.order_create(broker=None, customer_email="h@example.com", items=[("card-chase", 1)])
    assert second.order_number.endswith("-7Q4K9X")
    assert Order.objects.count() == 2 and OrderItem.objects.count() == 2


@pytest.mark.django_db
def test_order_numbers_exhausted_is_a_clear_503_and_nothing_else_created(catalog, monkeypatch):
    first = services.order_create(broker=None, customer_email="g@example.com", items=[("card-chase", 1)])
    taken_suffix = first.order_number.rsplit("-", 1)[1]
    monkeypatch.setattr(services, "_random_suffix", lambda: taken_suffix)
    with pytest.raises(ApplicationError) as err:
        services.order_create(broker=None, customer_email="h@example.com", items=[("card-chase", 1)])
    assert (err.value.status, err.value.code) == (503, "ORDER_NUMBER_EXHAUSTED")
    assert Order.objects.count() == 1 and OrderItem.objects.count() == 1


def test_order_numbers_use_utc_month_and_unambiguous_alphabet():
    from datetime import UTC, datetime, timedelta, timezone

    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC).astimezone(timezone(timedelta(hours=5)))
    numbers = {services.order_number_generate(now=late) for _ in range(200)}
    assert all(number.startswith("TLM-2611-") and NUMBER.match(number) for number in numbers)
    assert len(numbers) == 200
    suffixes = "".join(number.rsplit("-", 1)[1] for number in numbers)
    assert not set(suffixes) & set("01IOL")


CART_ERRORS = [
    ([], "CART_EMPTY"),
    ([(f"card-{i}", 1) for i in range(21)], "CART_TOO_LARGE"),
    ([("card-chase", 0)], "CART_QUANTITY_INVALID"),
    ([("card-chase", 11)], "CART_QUANTITY_INVALID"),
    ([("card-chase", "x")], "CART_QUANTITY_INVALID"),
    ([("card-chase", "3")], "CART_QUANTITY_INVALID"),
    ([("card-chase", True)], "CART_QUANTITY_INVALID"),
    ([("card-chase", 2.5)], "CART_QUANTITY_INVALID"),
    ([("card-amex", 6), ("card-amex", 5)], "CART_QUANTITY_INVALID"),  # merged to 11
    ([("", 1)], "CART_ITEM_INVALID"),
    ([(None, 1)], "CART_ITEM_INVALID"),
    ([("card-chase",)], "CART_INVALID"),
    ("card-chase", "CART_INVALID"),
    ([("card-unknown", 1)], "CARD_NOT_FOUND"),
    ([("card-empty", 1)], "OUT_OF_STOCK"),
    ([("card-citi", 2)], "OUT_OF_STOCK"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("items, code", CART_ERRORS)
def test_cart_errors_are_422_and_create_nothing(catalog, make_broker, items, code):
    with pytest.raises(ValidationFailed) as err:
        services.order_create(broker=make_broker(), customer_email="x@example.com", items=items)
    assert (err.value.status, err.value.code) == (422, code)
    _nothing_created()


@pytest.mark.django_db
def test_out_of_stock_details_name_the_card(catalog, make_broker):
    with pytest.raises(ValidationFailed) as err:
        services.order_create(broker=make_broker(), customer_email="x@example.com",
                              items=[("card-citi", 2), ("card-chase", 1)])
    assert err.value.details == [{"card_id": "card-citi", "requested": 2, "available": 1}]
    _nothing_created()


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "ann@exa mple.com", "ann@@example.com",
                                   "x" * 250 + "@example.com", None])
def test_bad_email_is_422(catalog, make_broker, email):
    with pytest.raises(ValidationFailed) as err:
        services.order_create(broker=make_broker(), customer_email=email, items=[("card-chase", 1)])
    assert err.value.code == "INVALID_EMAIL"
    _nothing_created()


@pytest.mark.django_db
def test_overlong_name_is_422(catalog, make_broker):
    with pytest.raises(ValidationFailed) as err:
        services.order_create(broker=make_broker(), customer_email="a@example.com", customer_name="n" * 201,
                              items=[("card-chase", 1)])
    assert err.value.code == "INVALID_NAME"
    _nothing_created()


@pytest.mark.django_db
@pytest.mark.parametrize("status, code", [(BrokerStatus.PENDING, "BROKER_PENDING"),
                                          (BrokerStatus.SUSPENDED, "BROKER_SUSPENDED"),
                                          (BrokerStatus.INACTIVE, "BROKER_INACTIVE")])
def test_broker_must_be_active(catalog, make_broker, status, code):
    with pytest.raises(PermissionDenied) as err:
        services.order_create(broker=make_broker(status=status), customer_email="a@example.com",
                              items=[("card-chase", 1)])
    assert (err.value.status, err.value.code) == (403, code)
    _nothing_created()


@pytest.mark.django_db
def test_stale_catalog_refuses_checkout(catalog, make_broker, settings):
    seed_catalog(synced_at=old(settings.CATALOG_MAX_STALENESS_SECONDS + 60))
    with pytest.raises(ApplicationError) as err:
        services.order_create(broker=make_broker(), customer_email="a@example.com", items=[("card-chase", 1)])
    assert (err.value.status, err.value.code) == (503, "CATALOG_STALE")
    _nothing_created()


@pytest.mark.django_db
def test_no_catalog_refuses_checkout(db, make_broker, settings):
    settings.TRADELINE_API_URL = ""
    with pytest.raises(ApplicationError) as err:
        services.order_create(broker=make_broker(), customer_email="a@example.com", items=[("card-chase", 1)])
    assert (err.value.status, err.value.code) == (503, "CATALOG_UNAVAILABLE")
    _nothing_created()
