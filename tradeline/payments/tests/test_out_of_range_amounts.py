"""Signed events with amounts no real payment has (beyond a 64-bit integer, negative) are recorded
for review and answered 200, never a 500 that Stripe would retry for days."""

import pytest

from tradeline.orders.models import OrderStatus
from tradeline.payments.models import WebhookEvent
from tradeline.payments.tests import events
from tradeline.payouts.models import CommissionRecord

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("amount", [10**20, 2**63, -1])
def test_session_with_an_impossible_amount_total_is_recorded_for_review(client, order, amount):
    response = events.post(client, events.completed(order, amount=amount))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "needs_review"
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.NEEDS_REVIEW
    assert "amount" in event.error.lower()
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (OrderStatus.PENDING, 0)
    assert not CommissionRecord.objects.exists()


@pytest.mark.parametrize("event_type,field", [("payment_intent.succeeded", "amount_received"),
                                              ("charge.refunded", "amount_refunded")])
def test_other_events_with_an_impossible_amount_are_recorded_for_review(client, order, event_type, field):
    events.post(client, events.completed(order))
    if event_type == "charge.refunded":
        obj = events.charge(order, amount_refunded=10**20)
    else:
        obj = events.payment_intent(order, amount=10**20)
        obj[field] = 10**20
    response = events.post(client, events.event(event_type, obj))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "needs_review"
    order.refresh_from_db()
    assert (order.amount_paid, order.amount_refunded) == (order.total_charged, 0)
