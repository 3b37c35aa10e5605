"""Whole flows with the events the local Stripe server really emits (shapes, order, metadata)."""

import pytest

from tradeline.audit.models import ActivityLog
from tradeline.orders.models import OrderStatus, PaymentStatus
from tradeline.payments.models import WebhookEvent
from tradeline.payments.tests import sim
from tradeline.payouts.models import CommissionRecord
from tradeline.testing.factories import payment_of

pytestmark = pytest.mark.django_db


def test_card_payment_events_pay_once(client, order, stripe_sim):
    sim.pay(client, stripe_sim, order)
    assert (order.status, order.payment_status, order.amount_paid) == (
        OrderStatus.PROCESSING, PaymentStatus.SUCCEEDED, 120_000)
    assert (order.customer_name, order.customer_phone) == ("Grace Hopper", "+15550123")
    assert payment_of(order).stripe_payment_intent.startswith("pi_")
    types = sorted(WebhookEvent.objects.values_list("event_type", "status"))
    assert ("checkout.session.completed", "PROCESSED") in types
    assert ("payment_intent.succeeded", "PROCESSED") in types
    assert CommissionRecord.objects.filter(order=order).count() == 1
    assert ActivityLog.objects.filter(action="order.paid").count() == 1


def test_declined_card_then_success(client, order, stripe_sim):
    session_id = sim.open_session(order)
    stripe_sim.decline(session_id, decline_code="insufficient_funds", deliver=False)
    sim.post_all(client, stripe_sim)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert ActivityLog.objects.filter(action="order.payment_attempt_failed").count() == 1
    start = len(stripe_sim.events())
    stripe_sim.pay(session_id, deliver=False)
    sim.post_all(client, stripe_sim, after=start)
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


def test_delayed_payment_succeeds_later(client, order, stripe_sim):
    session_id = sim.open_session(order)
    stripe_sim.pay_delayed(session_id, succeed=None, deliver=False)
    sim.post_all(client, stripe_sim)
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (OrderStatus.PENDING, 0)
    start = len(stripe_sim.events())
    stripe_sim.settle(session_id, succeed=True, deliver=False)
    sim.post_all(client, stripe_sim, after=start)
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (OrderStatus.PROCESSING, 120_000)
    assert CommissionRecord.objects.filter(order=order).count() == 1


def test_delayed_payment_fails(client, order, stripe_sim):
    session_id = sim.open_session(order)
    stripe_sim.pay_delayed(session_id, succeed=False, deliver=False)
    sim.post_all(client, stripe_sim)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.FAILED, PaymentStatus.FAILED)
    assert not CommissionRecord.objects.exists()


def test_expired_session_cancels(client, order, stripe_sim):
    session_id = sim.open_session(order)
    stripe_sim.expire(session_id, deliver=False)
    sim.post_all(client, stripe_sim)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.CANCELLED)


def test_events_delivered_in_reverse_order(client, order, stripe_sim):
    session_id = sim.open_session(order)
    stripe_sim.pay(session_id, deliver=False)
    stripe_sim.refund(stripe_sim.session(session_id)["payment_intent"], 20_000, deliver=False)
    for evt in reversed(stripe_sim.events()):  # the refund first, then the payment
        assert sim.events.post(client, evt).status_code == 200
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_refunded) == (
        OrderStatus.PROCESSING, PaymentStatus.PARTIALLY_REFUNDED, 20_000)
    assert CommissionRecord.objects.get(order=order).total_commission == 25_000
    assert not WebhookEvent.objects.filter(status__in=["DEFERRED", "FAILED", "NEEDS_REVIEW"]).exists()
