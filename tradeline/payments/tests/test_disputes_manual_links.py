"""Disputes (lost, won, out of order), manual payments and payment links."""

import pytest
from django_tasks_db.models import DBTaskResult

from tradeline.analytics.models import BrokerDailyStats
from tradeline.audit.models import ActivityLog
from tradeline.brokers.auth import issue_admin_token
from tradeline.orders.models import DisputeStatus, FulfillmentStatus, OrderStatus, PaymentMethod, PaymentStatus
from tradeline.payments.tests import events, sim
from tradeline.payouts.models import CommissionRecord, CommissionStatus
from tradeline.testing.factories import payment_of

pytestmark = pytest.mark.django_db


def _auth(user) -> dict:
    key, _ = issue_admin_token(user, 600)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _commission(order) -> CommissionRecord:
    return CommissionRecord.objects.get(order=order)


# -- disputes -------------------------------------------------------------------------------------


def test_dispute_lost_holds_then_claws_back(client, order, stripe_sim):
    sim.pay(client, stripe_sim, order)
    charge_id = stripe_sim.payment_intent(payment_of(order).stripe_payment_intent)["latest_charge"]
    start = len(stripe_sim.events())
    dispute = stripe_sim.dispute(charge_id, deliver=False)
    sim.post_all(client, stripe_sim, after=start)
    order.refresh_from_db()
    assert order.dispute_status == DisputeStatus.OPEN
    assert _commission(order).status == CommissionStatus.HELD
    start = len(stripe_sim.events())
    stripe_sim.close_dispute(dispute["id"], "lost", deliver=False)
    sim.post_all(client, stripe_sim, after=start)
    order.refresh_from_db()
    assert order.dispute_status == DisputeStatus.LOST
    commission = _commission(order)
    assert (commission.status, commission.total_commission) == (CommissionStatus.VOID, 0)
    assert ActivityLog.objects.filter(action="order.dispute_lost", entity_id=str(order.pk)).count() == 1


def test_dispute_won_releases_the_commission(client, order, stripe_sim):
    sim.pay(client, stripe_sim, order)
    charge_id = stripe_sim.payment_intent(payment_of(order).stripe_payment_intent)["latest_charge"]
    start = len(stripe_sim.events())
    dispute = stripe_sim.dispute(charge_id, deliver=False)
    stripe_sim.close_dispute(dispute["id"], "won", deliver=False)
    sent = sim.post_all(client, stripe_sim, after=start)
    assert [e["type"] for e in sent] == ["charge.dispute.created", "charge.dispute.closed"]
    order.refresh_from_db()
    assert order.dispute_status == DisputeStatus.WON
    commission = _commission(order)
    assert (commission.status, commission.total_commission) == (CommissionStatus.PAYABLE, 30_000)
    # A repeated close (another event id for the same dispute) changes nothing.
    again = events.event("charge.dispute.closed", sent[-1]["data"]["object"])
    assert events.post(client, again).json()["status"] == "processed"
    assert _commission(order).status == CommissionStatus.PAYABLE


def test_dispute_closed_before_created_is_applied_once(client, order):
    events.post(client, events.completed(order))
    closed = events.event("charge.dispute.closed", events.dispute(order, status="lost"))
    created = events.event("charge.dispute.created", events.dispute(order))
    events.post(client, closed)
    events.post(client, created)
    order.refresh_from_db()
    assert order.dispute_status == DisputeStatus.LOST
    assert _commission(order).status == CommissionStatus.VOID


def test_dispute_on_unknown_charge_is_ignored(client, order):
    obj = events.dispute(order, pi="pi_not_ours", charge_id="ch_not_ours")
    assert events.post(client, events.event("charge.dispute.created", obj)).json()["status"] == "ignored"


# -- manual payments ------------------------------------------------------------------------------


def test_manual_payment_takes_the_paid_path(client, order, admin_user):
    response = client.post(f"/api/orders/{order.pk}/manual-payment",
                           {"payment_method": "WIRE", "reference": "  WIRE-2026-0042 "},
                           content_type="application/json", **_auth(admin_user))
    assert response.status_code == 200, response.content
    body = response.json()["order"]
    assert (body["status"], body["payment_status"], body["payment_method"], body["payment_reference"]) == (
        "PROCESSING", "SUCCEEDED", "WIRE", "WIRE-2026-0042")
    order.refresh_from_db()
    assert payment_of(order).recorded_by == admin_user
    assert order.amount_paid == 120_000
    assert order.fulfillment_status == FulfillmentStatus.QUEUED
    assert _commission(order).total_commission == 30_000
    assert BrokerDailyStats.objects.get(broker=order.broker).orders_count == 1
    assert DBTaskResult.objects.filter(task_path="tradeline.fulfillment.tasks.fulfil_order").count() == 1
    log = ActivityLog.objects.get(action="order.paid", entity_id=str(order.pk))
    assert (log.actor_type, log.actor_user_id, log.metadata["method"]) == ("ADMIN", admin_user.pk, "WIRE")


def test_manual_payment_of_a_paid_order_is_409_and_changes_nothing(client, order, admin_user):
    events.post(client, events.completed(order))
    response = client.post(f"/api/orders/{order.pk}/manual-payment",
                           {"payment_method": "CASH", "reference": "R-9"},
                           content_type="application/json", **_auth(admin_user))
    assert response.status_code == 409
    order.refresh_from_db()
    assert (payment_of(order).method, payment_of(order).reference) == (PaymentMethod.STRIPE,
                                                                   payment_of(order).stripe_payment_intent)
    assert CommissionRecord.objects.filter(order=order).count() == 1


@pytest.mark.parametrize("payload", [
    {"payment_method": "BITCOIN", "reference": "x"},
    {"payment_method": "CASH", "reference": "   "},
    {"payment_method": "CASH"},
    {"payment_method": "CHECK", "reference": "x" * 201},
])
def test_manual_payment_bad_input_is_422(client, order, admin_user, payload):
    response = client.post(f"/api/orders/{order.pk}/manual-payment", payload, content_type="application/json",
                           **_auth(admin_user))
    assert response.status_code == 422
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.PENDING, PaymentStatus.PENDING)


def test_manual_payment_expires_the_open_checkout(client, order, admin_user, stripe_sim):
    session_id = sim.open_session(order)
    client.post(f"/api/orders/{order.pk}/manual-payment", {"payment_method": "CHECK", "reference": "CHK 1001"},
                content_type="application/json", **_auth(admin_user))
    assert stripe_sim.session(session_id)["status"] == "expired"
    # The expiry event that follows does not cancel the paid order.
    sim.post_all(client, stripe_sim, types=("checkout.session.expired",))
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


def test_unknown_order_is_404(client, admin_user):
    response = client.post("/api/orders/00000000-0000-4000-8000-000000000000/manual-payment",
                           {"payment_method": "CASH", "reference": "R"}, content_type="application/json",
                           **_auth(admin_user))
    assert response.status_code == 404


# -- payment links --------------------------------------------------------------------------------


def test_payment_link_pays_through_checkout_completed(client, order, admin_user, stripe_sim):
    response = client.post(f"/api/orders/{order.pk}/payment-link", content_type="application/json",
                           **_auth(admin_user))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["payment_link_id"].startswith("plink_")
    assert body["payment_link_url"].startswith(stripe_sim.url)
    again = client.post(f"/api/orders/{order.pk}/payment-link", content_type="application/json", **_auth(admin_user))
    assert again.json()["payment_link_id"] == body["payment_link_id"]
    link_session = stripe_sim.open_payment_link(body["payment_link_id"])
    start = len(stripe_sim.events())
    stripe_sim.pay(link_session["id"], deliver=False)
    sim.post_all(client, stripe_sim, after=start)
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (OrderStatus.PROCESSING, 120_000)
    assert _commission(order).total_commission == 30_000


@pytest.mark.parametrize("status", [OrderStatus.PROCESSING, OrderStatus.CANCELLED, OrderStatus.COMPLETED,
                                    OrderStatus.REFUNDED, OrderStatus.ON_HOLD, OrderStatus.FAILED])
def test_payment_link_only_for_pending_orders(client, order, admin_user, stripe_sim, status):
    order.status = status
    order.save(update_fields=["status"])
    response = client.post(f"/api/orders/{order.pk}/payment-link", content_type="application/json",
                           **_auth(admin_user))
    assert response.status_code == 409
    assert response.json()["code"] == "ORDER_NOT_PENDING"
    order.refresh_from_db()
    assert not order.payments.filter(stripe_payment_link_id__isnull=False).exists()
    assert stripe_sim.server.state.payment_links == {}
