"""End to end over real HTTP: checkout session through the SDK -> hosted page Pay -> signed events
delivered to our own webhook endpoint, which verifies and records them."""

import pytest

from tradeline.orders.models import OrderStatus
from tradeline.payments import stripe_gateway
from tradeline.payments.models import WebhookEvent
from tradeline.testing.factories import add_checkout_session


@pytest.mark.django_db(transaction=True)
def test_hosted_pay_reaches_our_webhook_verified(stripe_sim, live_server, make_broker, make_order):
    order = make_order(broker=make_broker(), prices=(100_000,))
    stripe_sim.set_webhook_url(f"{live_server.url}/api/orders/webhook/stripe")
    session = stripe_gateway.create_checkout_session(order=order, success_url=f"{live_server.url}/thanks",
                                                     cancel_url=f"{live_server.url}/cart")
    add_checkout_session(order, session.id)

    remote = stripe_sim.session(session.id)
    assert [(li["quantity"], li["price"]["unit_amount"]) for li in remote["line_items"]] == [(1, 120_000)]
    assert remote["amount_total"] == order.total_charged == 120_000

    page = stripe_sim._http.get(session.url.removeprefix(stripe_sim.url))
    assert "$1,200.00" in page.text
    response = stripe_sim._http.post(f"/checkout/{session.id}/pay", data={"name": "Ann Lee", "phone": "+15550101"})
    assert (response.status_code, response.headers["Location"]) == (303, f"{live_server.url}/thanks")

    records = stripe_sim.event_records()
    assert [r["event"]["type"] for r in records] == ["charge.succeeded", "payment_intent.succeeded",
                                                     "checkout.session.completed"]
    assert [[d["status"] for d in r["deliveries"]] for r in records] == [[200], [200], [200]]
    stored = dict(WebhookEvent.objects.values_list("event_id", "event_type"))
    assert stored == {r["event"]["id"]: r["event"]["type"] for r in records}
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING and order.amount_paid == 120_000


@pytest.mark.django_db(transaction=True)
def test_forged_delivery_is_refused_by_our_webhook(stripe_sim, live_server, make_order, settings):
    order = make_order()
    session = stripe_gateway.create_checkout_session(order=order, success_url="https://x.example/ok",
                                                     cancel_url="https://x.example/no")
    stripe_sim.set_webhook_url(f"{live_server.url}/api/orders/webhook/stripe")
    stripe_sim.server.deliverer.webhook_secret = "whsec_not_the_shared_secret"
    try:
        stripe_sim.pay(session.id)
    finally:
        stripe_sim.server.deliverer.webhook_secret = stripe_sim.webhook_secret
    assert {d["status"] for r in stripe_sim.event_records() for d in r["deliveries"]} == {400}
    assert WebhookEvent.objects.count() == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
