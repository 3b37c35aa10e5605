"""Refunds: cumulative totals from charge.refunded, the admin refund through the local Stripe
server, partial then full, out-of-order delivery, refunds after a payout."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tradeline.analytics.models import BrokerDailyStats
from tradeline.brokers.auth import issue_admin_token
from tradeline.orders.models import OrderStatus, PaymentStatus
from tradeline.payments.models import Refund, WebhookEvent
from tradeline.payments.services import refund_create
from tradeline.payments.tests import events, sim
from tradeline.payouts.models import CommissionAdjustment, CommissionRecord, CommissionStatus
from tradeline.testing.factories import payment_of

pytestmark = pytest.mark.django_db


def _refunded(client, order, total, **kw):
    return events.post(client, events.event("charge.refunded", events.charge(order, amount_refunded=total, **kw)))


def _commission(order) -> CommissionRecord:
    return CommissionRecord.objects.get(order=order)


def _stats(order) -> BrokerDailyStats:
    return BrokerDailyStats.objects.get(broker=order.broker)


def _auth(user) -> dict:
    key, _ = issue_admin_token(user, 600)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_partial_then_full_refund_from_stripe(client, order):
    events.post(client, events.completed(order))
    assert _refunded(client, order, 30_000).json()["status"] == "processed"
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_refunded) == (
        OrderStatus.PROCESSING, PaymentStatus.PARTIALLY_REFUNDED, 30_000)
    commission = _commission(order)  # 30,000 of broker earnings x 1/4 refunded -> 7,500 back
    assert (commission.revenue_share_amount, commission.markup_amount, commission.total_commission) == (
        7_500, 15_000, 22_500)
    _refunded(client, order, 120_000)
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_refunded) == (
        OrderStatus.REFUNDED, PaymentStatus.REFUNDED, 120_000)
    assert order.refunded_at is not None
    commission = _commission(order)
    assert (commission.total_commission, commission.status) == (0, CommissionStatus.VOID)
    stats = _stats(order)
    assert (stats.refunds_count, stats.refunded_amount) == (2, 120_000)


def test_refunded_amount_is_set_never_added(client, order):
    events.post(client, events.completed(order))
    _refunded(client, order, 50_000)
    _refunded(client, order, 50_000)  # another event with the same cumulative total
    _refunded(client, order, 20_000)  # an older event delivered late
    order.refresh_from_db()
    assert order.amount_refunded == 50_000
    assert _stats(order).refunded_amount == 50_000
    assert _stats(order).refunds_count == 1


def test_refund_arriving_before_the_payment_is_applied_when_paid(client, order):
    response = _refunded(client, order, 40_000)
    assert response.json()["status"] == "deferred"
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PENDING, 0)
    events.post(client, events.completed(order))
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_paid, order.amount_refunded) == (
        OrderStatus.PROCESSING, PaymentStatus.PARTIALLY_REFUNDED, 120_000, 40_000)
    assert _commission(order).total_commission == 20_000
    assert WebhookEvent.objects.filter(status="DEFERRED").count() == 0
    assert WebhookEvent.objects.get(event_type="charge.refunded").status == "PROCESSED"


def test_refund_without_metadata_before_payment_is_matched_by_payment_intent(client, order):
    response = _refunded(client, order, 120_000, with_metadata=False)
    assert response.json()["status"] == "deferred"
    events.post(client, events.completed(order))
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.REFUNDED, 120_000)
    assert _commission(order).status == CommissionStatus.VOID


def test_refund_larger_than_payment_needs_review(client, order):
    events.post(client, events.completed(order))
    response = _refunded(client, order, 999_999)
    assert response.json()["status"] == "needs_review"
    order.refresh_from_db()
    assert order.amount_refunded == 0
    assert "more than the" in order.review_reason
    assert _commission(order).total_commission == 30_000


def test_admin_partial_then_full_refund_through_stripe(client, order, admin_user, stripe_sim):
    sim.pay(client, stripe_sim, order)
    assert order.status == OrderStatus.PROCESSING
    response = client.post(f"/api/orders/{order.pk}/refund", {"amount": 20_000, "reason": "one line cancelled"},
                           content_type="application/json", **_auth(admin_user))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["refund"]["amount"], body["refund"]["status"]) == (20_000, "SUCCEEDED")
    assert body["refund"]["stripe_refund_id"].startswith("re_")
    assert (body["order"]["amount_refunded"], body["order"]["payment_status"]) == (20_000, "PARTIALLY_REFUNDED")
    # Stripe's own charge.refunded for the same refund races in: same cumulative total, no change.
    sim.post_all(client, stripe_sim, types=("charge.refunded",))
    order.refresh_from_db()
    assert order.amount_refunded == 20_000
    assert _commission(order).total_commission == 25_000
    # Full: the default amount is everything that remains.
    response = client.post(f"/api/orders/{order.pk}/refund", {"reason": "customer changed their mind"},
                           content_type="application/json", **_auth(admin_user))
    assert response.status_code == 201
    assert response.json()["refund"]["amount"] == 100_000
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_refunded) == (
        OrderStatus.REFUNDED, PaymentStatus.REFUNDED, 120_000)
    charge = stripe_sim.charge(payment_of(order).stripe_charge_id or stripe_sim.payment_intent(payment_of(order).stripe_payment_intent)
                               ["latest_charge"])
    assert charge["amount_refunded"] == 120_000
    assert _commission(order).status == CommissionStatus.VOID
    assert Refund.objects.filter(order=order, status="SUCCEEDED").count() == 2
    assert (_stats(order).refunds_count, _stats(order).refunded_amount) == (2, 120_000)


def test_admin_refund_bounds_are_422_and_change_nothing(client, order, admin_user, stripe_sim):
    sim.pay(client, stripe_sim, order)
    for amount in (0, -5, 120_001):
        response = client.post(f"/api/orders/{order.pk}/refund", {"amount": amount},
                               content_type="application/json", **_auth(admin_user))
        assert response.status_code == 422, amount
    response = client.post(f"/api/orders/{order.pk}/refund", {"amount": "12.50"},
                           content_type="application/json", **_auth(admin_user))
    assert response.status_code == 422
    assert not Refund.objects.exists()
    assert stripe_sim.events("charge.refunded") == []
    order.refresh_from_db()
    assert order.amount_refunded == 0


def test_refund_of_unpaid_order_is_409(client, order, admin_user):
    response = client.post(f"/api/orders/{order.pk}/refund", {}, content_type="application/json",
                           **_auth(admin_user))
    assert response.status_code == 409
    assert response.json()["code"] == "NOT_REFUNDABLE"
    assert not Refund.objects.exists()


def test_refund_needs_a_write_admin(client, order, make_order):
    from tradeline.brokers.models import AdminRole
    from tradeline.testing.factories import make_admin

    assert client.post(f"/api/orders/{order.pk}/refund", {}, content_type="application/json").status_code == 401
    support = make_admin(role=AdminRole.SUPPORT)
    response = client.post(f"/api/orders/{order.pk}/refund", {}, content_type="application/json", **_auth(support))
    assert response.status_code == 403


def test_stripe_down_keeps_the_refund_pending_and_a_retry_reuses_its_key(client, order, admin_user, stripe_sim):
    sim.pay(client, stripe_sim, order)
    stripe_sim.set_faults(status=500, path="/v1/refunds")
    response = client.post(f"/api/orders/{order.pk}/refund", {"amount": 10_000}, content_type="application/json",
                           **_auth(admin_user))
    assert response.status_code == 502
    pending = Refund.objects.get()
    assert pending.status == "PENDING"
    order.refresh_from_db()
    assert order.amount_refunded == 0
    other = client.post(f"/api/orders/{order.pk}/refund", {"amount": 5_000}, content_type="application/json",
                        **_auth(admin_user))
    assert other.status_code == 409
    stripe_sim.clear_faults()
    retry = client.post(f"/api/orders/{order.pk}/refund", {"amount": 10_000}, content_type="application/json",
                        **_auth(admin_user))
    assert retry.status_code == 201
    assert retry.json()["refund"]["id"] == str(pending.pk)
    assert Refund.objects.count() == 1
    order.refresh_from_db()
    assert order.amount_refunded == 10_000


def test_manual_payment_refund_is_recorded_without_stripe(order, admin_user):
    from tradeline.payments.services import manual_payment_record

    manual_payment_record(order_id=order.pk, method="CASH", reference="R-1", admin=admin_user)
    refund = refund_create(order_id=order.pk, amount=None, admin=admin_user, reason="returned in cash")
    assert (refund.status, refund.amount, refund.stripe_refund_id) == ("SUCCEEDED", 120_000, None)
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.REFUNDED, 120_000)


def test_refund_after_payout_books_a_negative_adjustment(client, order, admin_user, stripe_sim):
    from tradeline.payouts.services.payouts import payout_create_monthly

    sim.pay(client, stripe_sim, order)
    paid = order.paid_at
    next_month = (paid.replace(day=1) + timedelta(days=32)).replace(day=2)
    payout = payout_create_monthly(broker=order.broker, year=paid.year, month=paid.month, now=next_month)
    assert payout is not None and payout.total_amount == 30_000
    assert _commission(order).status == CommissionStatus.IN_PAYOUT
    refund_create(order_id=order.pk, amount=60_000, admin=admin_user, reason="half")
    commission = _commission(order)
    assert commission.total_commission == 30_000  # frozen in the payout
    adjustment = CommissionAdjustment.objects.get(order=order)
    assert (adjustment.amount, adjustment.revenue_share_amount, adjustment.markup_amount) == (-15_000, -5_000, -10_000)
    assert adjustment.reason == "REFUND"
    order.refresh_from_db()
    assert order.amount_refunded == 60_000
    assert timezone.now() >= order.paid_at
