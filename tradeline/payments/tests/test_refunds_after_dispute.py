"""Refunds after a dispute closed: refused after a lost one (the card network already returned the
money), limited to what remains after a won one — in the API and in the admin alike."""

import pytest
from django.contrib.messages import get_messages

from tradeline.brokers.auth import issue_admin_token
from tradeline.brokers.models import AdminRole
from tradeline.orders.models import DisputeStatus
from tradeline.payments.models import Refund
from tradeline.payments.tests import sim
from tradeline.testing.factories import make_admin, payment_of

pytestmark = pytest.mark.django_db


def _auth(user) -> dict:
    key, _ = issue_admin_token(user, 600)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _close_dispute(client, stripe_sim, order, outcome: str) -> None:
    charge_id = stripe_sim.payment_intent(payment_of(order).stripe_payment_intent)["latest_charge"]
    start = len(stripe_sim.events())
    dispute = stripe_sim.dispute(charge_id, deliver=False)
    stripe_sim.close_dispute(dispute["id"], outcome, deliver=False)
    sim.post_all(client, stripe_sim, after=start)
    order.refresh_from_db()


def test_refund_after_a_lost_dispute_is_409_and_changes_nothing(client, order, admin_user, stripe_sim):
    sim.pay(client, stripe_sim, order)
    _close_dispute(client, stripe_sim, order, "lost")
    assert order.dispute_status == DisputeStatus.LOST
    for body in ({}, {"amount": 1_000}):
        response = client.post(f"/api/orders/{order.pk}/refund", body, content_type="application/json",
                               **_auth(admin_user))
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "DISPUTE_LOST"
    assert not Refund.objects.exists()
    assert stripe_sim.events("charge.refunded") == []
    order.refresh_from_db()
    assert order.amount_refunded == 0


def test_admin_hides_and_refuses_the_refund_after_a_lost_dispute(client, order, stripe_sim):
    sim.pay(client, stripe_sim, order)
    _close_dispute(client, stripe_sim, order, "lost")
    client.force_login(make_admin(role=AdminRole.ADMIN))
    page = client.get(f"/admin/orders/order/{order.pk}/change/")
    assert page.status_code == 200
    assert 'id="refund-form"' not in page.content.decode()
    response = client.post(f"/admin/orders/order/{order.pk}/action/refund/", {"amount": "10.00", "reason": "x"})
    assert response.status_code in (200, 302)
    assert any("dispute on this charge was lost" in str(m) for m in get_messages(response.wsgi_request))
    assert not Refund.objects.exists()
    assert stripe_sim.events("charge.refunded") == []


def test_after_a_won_dispute_at_most_what_remains_is_refunded(client, order, admin_user, stripe_sim):
    sim.pay(client, stripe_sim, order)  # $1,200.00 paid
    first = client.post(f"/api/orders/{order.pk}/refund", {"amount": 20_000}, content_type="application/json",
                        **_auth(admin_user))
    assert first.status_code == 201, first.content
    _close_dispute(client, stripe_sim, order, "won")
    assert order.dispute_status == DisputeStatus.WON
    too_much = client.post(f"/api/orders/{order.pk}/refund", {"amount": 100_001}, content_type="application/json",
                           **_auth(admin_user))
    assert too_much.status_code == 422
    assert too_much.json()["details"]["remaining"] == 100_000
    rest = client.post(f"/api/orders/{order.pk}/refund", {}, content_type="application/json", **_auth(admin_user))
    assert rest.status_code == 201, rest.content
    assert rest.json()["refund"]["amount"] == 100_000
    order.refresh_from_db()
    assert (order.amount_refunded, order.status) == (120_000, "REFUNDED")
