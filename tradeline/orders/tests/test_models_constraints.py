"""The database itself refuses rows that break the money rules (on SQLite and PostgreSQL)."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from tradeline.orders.models import Order, OrderItem
from tradeline.payments.models import WebhookEvent
from tradeline.payouts.models import CommissionRecord


def _update_rejected(queryset, **changes) -> bool:
    try:
        with transaction.atomic():
            queryset.update(**changes)
    except IntegrityError:
        return True
    return False


@pytest.mark.django_db
def test_valid_order_is_accepted(make_broker, make_order):
    order = make_order(broker=make_broker(), prices=(100_000, 33_333))
    order.refresh_from_db()
    assert order.total_charged == order.subtotal_base + order.broker_markup
    assert order.items.count() == 2


@pytest.mark.django_db
def test_negative_money_is_rejected(make_order):
    order = make_order()
    qs = Order.objects.filter(pk=order.pk)
    assert _update_rejected(qs, amount_refunded=-1)
    # Keep the sums consistent so only the sign rule can fire.
    assert _update_rejected(qs, broker_markup=-100, total_charged=F("subtotal_base") - 100)
    order.refresh_from_db()
    assert order.amount_refunded == 0 and order.broker_markup == 0


@pytest.mark.django_db
def test_totals_that_do_not_add_up_are_rejected(make_broker, make_order):
    order = make_order(broker=make_broker())
    qs = Order.objects.filter(pk=order.pk)
    assert _update_rejected(qs, total_charged=F("total_charged") + 1)
    assert _update_rejected(qs, supplier_cost=F("supplier_cost") + 1)
    assert _update_rejected(qs, platform_net_revenue=F("platform_net_revenue") + 1)
    item = order.items.get()
    item_qs = OrderItem.objects.filter(pk=item.pk)
    assert _update_rejected(item_qs, total_markup=F("total_markup") + 1)
    assert _update_rejected(item_qs, customer_price=F("customer_price") + 1)
    assert _update_rejected(item_qs, quantity=11)


@pytest.mark.django_db
def test_refund_above_paid_is_rejected(make_order):
    order = make_order()
    qs = Order.objects.filter(pk=order.pk)
    assert not _update_rejected(qs, amount_paid=F("total_charged"), amount_refunded=F("total_charged"))
    assert _update_rejected(qs, amount_refunded=F("amount_paid") + 1)


@pytest.mark.django_db
def test_duplicate_order_number_is_rejected(make_order):
    make_order(order_number="TLM-2611-AAAAAA")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_order(order_number="TLM-2611-AAAAAA")
    assert Order.objects.filter(order_number="TLM-2611-AAAAAA").count() == 1


@pytest.mark.django_db
def test_duplicate_webhook_event_id_is_rejected():
    WebhookEvent.objects.create(source="stripe", event_id="evt_1", event_type="x", payload={})
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEvent.objects.create(source="stripe", event_id="evt_1", event_type="x", payload={})
    # Same id from another source is a different event.
    WebhookEvent.objects.create(source="other", event_id="evt_1", event_type="x", payload={})
    assert WebhookEvent.objects.filter(event_id="evt_1").count() == 2


@pytest.mark.django_db
def test_one_commission_per_order(make_broker, make_order):
    broker = make_broker()
    order = make_order(broker=broker)
    fields = dict(broker=broker, order=order, original_revenue_share=10, original_markup=20,
                  revenue_share_amount=10, markup_amount=20, total_commission=30, order_paid_at=order.created_at)
    CommissionRecord.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionRecord.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionRecord.objects.filter(order=order).update(total_commission=31)
