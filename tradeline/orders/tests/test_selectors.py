"""Order read side: breakdown figures, filters, pagination and the SQL summary."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from tradeline.core.errors import NotFound, ValidationFailed
from tradeline.orders import list_selectors, selectors
from tradeline.orders.models import Order, OrderStatus


def _paid(order, *, status=OrderStatus.COMPLETED, refunded=0):
    Order.objects.filter(pk=order.pk).update(status=status, amount_paid=F("total_charged"), amount_refunded=refunded)
    order.refresh_from_db()
    return order


def _at(order, when: datetime):
    Order.objects.filter(pk=order.pk).update(created_at=when)
    return order


@pytest.mark.django_db
def test_breakdown_of_the_worked_example(make_broker, make_order):
    order = _paid(make_order(broker=make_broker(share="10", markup_percent="20"), prices=(100_000,)), refunded=12_000)
    breakdown = selectors.order_breakdown(order)
    assert breakdown == {
        "subtotal_base": 100_000, "subtotal_base_usd": "1000.00",
        "supplier_cost": 50_000, "supplier_cost_usd": "500.00",
        "platform_gross": 50_000, "platform_gross_usd": "500.00",
        "platform_net": 40_000, "platform_net_usd": "400.00",
        "broker_revenue_share": 10_000, "broker_revenue_share_usd": "100.00",
        "broker_markup": 20_000, "broker_markup_usd": "200.00",
        "broker_total": 30_000, "broker_total_usd": "300.00",
        "total_charged": 120_000, "total_charged_usd": "1200.00",
        "customer_paid": 120_000, "customer_paid_usd": "1200.00",
        "refunded": 12_000, "refunded_usd": "120.00",
        "platform_commission_percent": "50.00", "revenue_share_percent": "10.00",
    }
    assert breakdown["customer_paid"] == (breakdown["supplier_cost"] + breakdown["platform_net"]
                                          + breakdown["broker_total"])


@pytest.mark.django_db
def test_detail_has_items_and_hides_internal_notes_from_brokers(make_broker, make_order):
    order = make_order(broker=make_broker(), prices=(100_000, 33_333), quantity=2)
    Order.objects.filter(pk=order.pk).update(review_reason="amount mismatch")
    order = selectors.order_get(order_id=str(order.pk))
    detail = selectors.order_detail(order=order)
    assert detail["order_number"] == order.order_number
    assert detail["broker"]["id"] == str(order.broker_id)
    assert [(i["quantity"], i["base_price"]) for i in detail["items"]] == [(2, 100_000), (2, 33_333)]
    assert detail["items"][0]["credit_limit_usd"] == "5000.00"
    assert detail["total_charged_usd"] == "3200.00"  # (1200.00 + 400.00) x 2
    assert detail["review_reason"] == "amount mismatch"
    public = selectors.order_detail(order=order, internal=False)
    assert "review_reason" not in public and "fulfillment_last_error" not in public
    # The broker's breakdown is the admin's without our margins (issue 14, item 5).
    assert public["commission_breakdown"] == {k: v for k, v in detail["commission_breakdown"].items()
                                              if k.removesuffix("_usd") not in selectors.INTERNAL_BREAKDOWN}


@pytest.mark.django_db
def test_order_get_scopes_to_the_broker_and_hides_others(make_broker, make_order):
    mine, theirs = make_broker(), make_broker()
    order = make_order(broker=theirs)
    assert selectors.order_get(order_id=order.pk).pk == order.pk
    assert selectors.order_get(order_id=order.pk, broker=theirs).pk == order.pk
    for order_id, broker in ((order.pk, mine), ("not-a-uuid", None), ("", None), (None, None),
                             ("00000000-0000-0000-0000-000000000000", None)):
        with pytest.raises(NotFound):
            selectors.order_get(order_id=order_id, broker=broker)


@pytest.mark.django_db
def test_summary_counts_paid_orders_only_in_one_query(make_broker, make_order):
    broker = make_broker(share="10", markup_percent="20")
    _paid(make_order(broker=broker, prices=(100_000,)))                                   # 1200.00
    _paid(make_order(broker=broker, prices=(50_000,)), status=OrderStatus.PROCESSING, refunded=6_000)  # 600.00
    _paid(make_order(broker=broker, prices=(10_000,)), status=OrderStatus.REFUNDED, refunded=12_000)   # 120.00
    make_order(broker=broker, prices=(70_000,))                                           # PENDING
    Order.objects.filter(pk=make_order(broker=broker).pk).update(status=OrderStatus.CANCELLED)
    Order.objects.filter(pk=make_order(broker=broker).pk).update(status=OrderStatus.ON_HOLD)
    make_order(broker=make_broker(), prices=(100_000,))  # someone else's
    with CaptureQueriesContext(connection) as queries:
        summary = list_selectors.order_summary(list_selectors.order_filter(broker_id=broker.pk))
    assert len(queries) == 1
    assert summary["orders_count"] == 6 and summary["paid_orders_count"] == 3
    assert (summary["revenue"], summary["revenue_usd"]) == (192_000, "1920.00")
    assert summary["refunded"] == 18_000 and summary["net_revenue"] == 174_000
    assert summary["platform_net_revenue"] == 40_000 + 20_000 + 4_000
    assert summary["revenue_share"] == 16_000 and summary["markup"] == 32_000
    assert (summary["commission"], summary["commission_usd"]) == (48_000, "480.00")


@pytest.mark.django_db
def test_empty_summary_is_zero(db):
    summary = list_selectors.order_summary(Order.objects.all())
    assert (summary["orders_count"], summary["revenue"], summary["commission_usd"]) == (0, 0, "0.00")


@pytest.mark.django_db
def test_list_filters_and_pagination(make_broker, make_order):
    broker = make_broker()
    oct_31 = _at(make_order(broker=broker), datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC))
    nov_1 = _at(make_order(broker=broker), datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    nov_30 = _at(make_order(broker=broker), datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    dec_1 = _at(make_order(broker=broker), datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    _paid(nov_30)
    direct = _at(make_order(broker=None), datetime(2026, 11, 15, tzinfo=UTC))

    def numbers(**kw):
        return [row["order_number"] for row in list_selectors.order_list(**kw)["orders"]]

    assert numbers(broker=broker, start_date="2026-11-01", end_date="2026-11-30") == [
        nov_30.order_number, nov_1.order_number]
    assert numbers(broker=broker, end_date="2026-10-31") == [oct_31.order_number]
    assert numbers(broker=broker, start_date="2026-12-01T00:00:00Z") == [dec_1.order_number]
    assert numbers(broker=broker, end_date="2026-11-01T00:00:00") == [nov_1.order_number, oct_31.order_number]
    assert numbers(broker=broker, status="COMPLETED") == [nov_30.order_number]
    assert numbers(direct_only=True) == [direct.order_number]
    assert numbers(start_date="2026-11-15", end_date="2026-11-15") == [direct.order_number]

    page = list_selectors.order_list(broker=broker, page=2, limit=3)
    assert page["pagination"] == {"page": 2, "limit": 3, "total": 4, "pages": 2}
    assert [row["order_number"] for row in page["orders"]] == [oct_31.order_number]
    assert "broker" not in page["orders"][0] and "platform_net_revenue" not in page["orders"][0]
    admin_page = list_selectors.order_list(limit=1)
    assert admin_page["orders"][0]["broker"]["id"] == str(broker.pk)
    assert admin_page["pagination"]["total"] == 5
    assert list_selectors.order_list(page=9)["orders"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("kwargs, code", [
    ({"status": "PAID"}, "INVALID_STATUS"),
    ({"start_date": "yesterday"}, "INVALID_DATE"),
    ({"end_date": "2026-13-01"}, "INVALID_DATE"),
    ({"start_date": "2026-11-02", "end_date": "2026-11-01"}, "INVALID_DATE_RANGE"),
    ({"page": 0}, "INVALID_PAGE"),
    ({"limit": 0}, "INVALID_LIMIT"),
    ({"limit": 101}, "INVALID_LIMIT"),
])
def test_bad_list_filters_are_422(db, kwargs, code):
    with pytest.raises(ValidationFailed) as err:
        list_selectors.order_list(**kwargs)
    assert err.value.code == code
