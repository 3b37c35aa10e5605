"""Every closing status of a dispute in the pinned API version, through the local Stripe server.

won / warning_closed / prevented: no money was withdrawn by the dispute, the held commission is
payable again. lost: clawed back in full. A status that is not a closing one stays a review case.
"""

import pytest

from tradeline.audit.models import ActivityLog
from tradeline.orders.models import DisputeStatus
from tradeline.payments.models import WebhookEvent
from tradeline.payments.tests import events, sim
from tradeline.payouts.models import CommissionRecord, CommissionStatus
from tradeline.testing.factories import payment_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("opened_as", "closed_as", "dispute_status", "commission_status", "commission_total", "action"),
    [
        ("needs_response", "won", DisputeStatus.WON, CommissionStatus.PAYABLE, 30_000, "order.dispute_won"),
        ("needs_response", "lost", DisputeStatus.LOST, CommissionStatus.VOID, 0, "order.dispute_lost"),
        ("warning_needs_response", "warning_closed", DisputeStatus.WON, CommissionStatus.PAYABLE, 30_000,
         "order.dispute_won"),
        ("needs_response", "prevented", DisputeStatus.WON, CommissionStatus.PAYABLE, 30_000, "order.dispute_won"),
        ("warning_needs_response", "prevented", DisputeStatus.WON, CommissionStatus.PAYABLE, 30_000,
         "order.dispute_won"),
    ],
)
def test_each_closing_status_closes_the_dispute_with_its_commission_rule(
        client, order, stripe_sim, opened_as, closed_as, dispute_status, commission_status, commission_total,
        action):
    sim.pay(client, stripe_sim, order)
    charge_id = stripe_sim.payment_intent(payment_of(order).stripe_payment_intent)["latest_charge"]
    start = len(stripe_sim.events())
    dispute = stripe_sim.dispute(charge_id, status=opened_as, deliver=False)
    assert dispute["status"] == opened_as
    closed = stripe_sim.close_dispute(dispute["id"], closed_as, deliver=False)
    assert closed["status"] == closed_as
    sent = sim.post_all(client, stripe_sim, after=start)
    assert [e["type"] for e in sent] == ["charge.dispute.created", "charge.dispute.closed"]
    order.refresh_from_db()
    assert order.dispute_status == dispute_status
    assert order.status != "ON_HOLD"
    commission = CommissionRecord.objects.get(order=order)
    assert (commission.status, commission.total_commission) == (commission_status, commission_total)
    logged = ActivityLog.objects.get(action=action, entity_id=str(order.pk))
    assert logged.metadata["status"] == closed_as
    event_row = WebhookEvent.objects.get(event_id=sent[-1]["id"])
    assert event_row.status == WebhookEvent.Status.PROCESSED


def test_a_closed_event_with_an_open_status_is_a_review_case(client, order, stripe_sim):
    sim.pay(client, stripe_sim, order)
    dispute = events.dispute(order, status="appeal_under_review", pi=payment_of(order).stripe_payment_intent)
    evt = events.event("charge.dispute.closed", dispute)
    assert events.post(client, evt).status_code == 200
    assert WebhookEvent.objects.get(event_id=evt["id"]).status == WebhookEvent.Status.NEEDS_REVIEW
    order.refresh_from_db()
    assert order.dispute_status == DisputeStatus.NONE


@pytest.mark.parametrize("closed_as", ["warning_closed"])
def test_the_server_refuses_a_closing_status_that_does_not_follow_the_opening_one(stripe_sim, client, order,
                                                                                  closed_as):
    from tradeline.testing.stripe import StripeSimError

    sim.pay(client, stripe_sim, order)
    charge_id = stripe_sim.payment_intent(payment_of(order).stripe_payment_intent)["latest_charge"]
    dispute = stripe_sim.dispute(charge_id, deliver=False)
    with pytest.raises(StripeSimError) as caught:
        stripe_sim.close_dispute(dispute["id"], closed_as, deliver=False)
    assert caught.value.status == 400
