"""The order's one status and its transition table (orders.services.order_transition), and the
records' "only one" constraints (one PAYING payment per order, one supplier order id)."""

import pytest
from django.db import IntegrityError, transaction

from tradeline.fulfillment.models import SupplierOrder
from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus, PaymentStatus
from tradeline.orders.services import TRANSITIONS, OrderTransitionRefused, order_cancel, order_transition
from tradeline.payments.models import Payment

pytestmark = pytest.mark.django_db

S = OrderStatus


def test_the_table_names_every_status_and_refunded_is_final():
    assert set(TRANSITIONS) == set(OrderStatus.values)
    assert TRANSITIONS[S.REFUNDED] == frozenset()
    assert S.PROCESSING not in TRANSITIONS[S.CANCELLED]  # money after an end goes to review, never on


@pytest.mark.parametrize(("start", "to"), [(S.REFUNDED, S.PROCESSING), (S.CANCELLED, S.PENDING),
                                           (S.COMPLETED, S.CANCELLED), (S.PENDING, S.COMPLETED),
                                           (S.ON_HOLD, S.PROCESSING), (S.FAILED, S.COMPLETED)])
def test_a_move_the_table_forbids_is_409_and_writes_nothing(make_order, start, to):
    order = make_order(status=start)
    before = Order.objects.values().get(pk=order.pk)
    with pytest.raises(OrderTransitionRefused) as refused:
        order_transition(order=order, to=to, amount_paid=1)
    assert (refused.value.status, refused.value.code) == (409, "ORDER_TRANSITION_REFUSED")
    assert refused.value.details == {"status": start, "to": to}
    assert Order.objects.values().get(pk=order.pk) == before


def test_an_allowed_move_stamps_its_time_and_implies_its_summary(make_order):
    order = make_order()
    fields = order_transition(order=order, to=S.PROCESSING, payment_status=PaymentStatus.SUCCEEDED, amount_paid=5)
    assert sorted(fields) == ["amount_paid", "fulfillment_status", "payment_status", "status"]
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.fulfillment_status, order.amount_paid) == (
        S.PROCESSING, PaymentStatus.SUCCEEDED, FulfillmentStatus.QUEUED, 5)
    order_transition(order=order, to=S.COMPLETED)
    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.completed_at is not None


def test_only_summary_columns_can_be_saved_through_it(make_order):
    order = make_order()
    with pytest.raises(ValueError):
        order_transition(order=order, total_charged=1)
    assert order_transition(order=order) == []  # nothing asked, nothing written


def test_cancel_is_the_one_way_to_cancelled_and_closes_the_payment_summary(make_order, admin_user):
    order = make_order()
    order_cancel(order_id=order.pk, actor_user=admin_user, reason="duplicate")
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.cancellation_reason) == (
        S.CANCELLED, PaymentStatus.CANCELLED, "duplicate")
    assert order_cancel(order_id=order.pk, strict=False) is None  # not PENDING any more: left alone


def test_an_order_has_at_most_one_paying_payment(make_order):
    order = make_order()
    Payment.objects.create(order=order, method="WIRE", role="PAYING", status="SUCCEEDED", amount=100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(order=order, method="CASH", role="PAYING", status="SUCCEEDED", amount=100)
    Payment.objects.create(order=order, method="STRIPE", role="EXCESS", status="SUCCEEDED", amount=100)
    assert Payment.objects.filter(order=order).count() == 2


def test_a_paying_payment_is_a_paid_one_and_refunds_stay_within_it(make_order):
    order = make_order()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(order=order, method="WIRE", role="PAYING", status="PENDING", amount=100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(order=order, method="WIRE", status="SUCCEEDED", amount=100, amount_refunded=101)
    assert not Payment.objects.filter(order=order).exists()


def test_a_stripe_id_and_a_supplier_order_id_belong_to_one_row(make_order):
    first, second = make_order(), make_order()
    Payment.objects.create(order=first, stripe_payment_intent="pi_once")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(order=second, stripe_payment_intent="pi_once")
    SupplierOrder.objects.create(order=first, supplier_order_id="4711")
    with pytest.raises(IntegrityError), transaction.atomic():
        SupplierOrder.objects.create(order=second, supplier_order_id="4711")
