"""The Stripe gateway through the official SDK, over real HTTP, against the local Stripe server."""

import logging
import time
from datetime import timedelta

import pytest

from tradeline.core.errors import ApplicationError, UpstreamError
from tradeline.orders.models import Order
from tradeline.payments import stripe_gateway as gateway

SUCCESS = "https://shop.example.com/thanks?session={CHECKOUT_SESSION_ID}"
CANCEL = "https://shop.example.com/cart"


def _checkout(order):
    return gateway.create_checkout_session(order=order, success_url=SUCCESS, cancel_url=CANCEL)


def test_checkout_session_carries_the_order(stripe_sim, make_broker, make_order):
    broker = make_broker(share="10", markup_percent="20")
    order = make_order(broker=broker, prices=(100_000, 33_333), quantity=2)
    before = int(time.time())

    result = _checkout(order)

    session = stripe_sim.session(result.id)
    assert result.id.startswith("cs_test_")
    assert result.url == f"{stripe_sim.url}/checkout/{result.id}" == session["url"]
    assert session["mode"] == "payment"
    assert session["amount_total"] == order.total_charged == 2 * 120_000 + 2 * 40_000
    assert session["currency"] == "usd"
    assert session["customer_email"] == order.customer_email
    assert session["success_url"] == SUCCESS
    assert session["cancel_url"] == CANCEL
    expected_meta = {"order_id": str(order.id), "order_number": order.order_number, "broker_id": str(broker.id)}
    assert session["metadata"] == expected_meta
    assert session["client_reference_id"] == str(order.id)
    assert session["expires_at"] == int((order.created_at + timedelta(minutes=60)).timestamp())
    assert before + 3590 <= session["expires_at"] <= int(time.time()) + 3600
    assert int(result.expires_at.timestamp()) == session["expires_at"]
    lines = sorted((li["description"], li["quantity"], li["price"]["unit_amount"], li["amount_total"])
                   for li in session["line_items"])
    assert lines == [
        ("Bank 0 tradeline, $5,000.00 limit", 2, 120_000, 240_000),
        ("Bank 1 tradeline, $5,000.00 limit", 2, 40_000, 80_000),
    ]
    descriptions = sorted(li["price"]["product"]["description"] for li in session["line_items"])
    assert descriptions[0] == "Authorized-user tradeline: Bank 0, credit limit $5,000.00, opened 2015-03"
    assert session["payment_intent"] is None  # created when the session is confirmed (API 2022-08-01)
    paid = stripe_sim.pay(result.id)
    pi = stripe_sim.payment_intent(paid["payment_intent"])
    assert pi["metadata"] == expected_meta
    assert pi["amount"] == order.total_charged


def test_direct_order_metadata_says_direct(stripe_sim, make_order):
    order = make_order(prices=(50_000,))
    session = stripe_sim.session(_checkout(order).id)
    assert session["metadata"]["broker_id"] == "direct"
    assert session["amount_total"] == 50_000
    paid = stripe_sim.pay(session["id"])
    assert stripe_sim.payment_intent(paid["payment_intent"])["metadata"]["broker_id"] == "direct"


def test_expiry_comes_from_settings(stripe_sim, make_order, settings):
    settings.STRIPE_CHECKOUT_EXPIRY_MINUTES = 45
    session = stripe_sim.session(_checkout(make_order()).id)
    assert abs(session["expires_at"] - (int(time.time()) + 45 * 60)) <= 2


def test_checkout_is_idempotent_per_order(stripe_sim, make_order):
    order = make_order()
    first = _checkout(order)
    second = _checkout(order)
    assert second.id == first.id
    assert second.expires_at == first.expires_at
    assert stripe_sim.server.state.sessions.keys() == {first.id}


def test_old_order_gets_a_fresh_expiry(stripe_sim, make_order):
    order = make_order()
    Order.objects.filter(pk=order.pk).update(created_at=order.created_at - timedelta(minutes=45))
    order.refresh_from_db()
    session = stripe_sim.session(_checkout(order).id)
    assert abs(session["expires_at"] - (int(time.time()) + 3600)) <= 2


def test_retry_after_a_5xx_reuses_the_idempotency_key(stripe_sim, make_order, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    stripe_sim.set_faults(status=500, count=1)
    result = _checkout(make_order())
    assert list(stripe_sim.server.state.sessions) == [result.id]


def test_outage_is_an_upstream_error(stripe_sim, make_order):
    stripe_sim.set_faults(status=500)
    with pytest.raises(UpstreamError) as info:
        _checkout(make_order())
    assert (info.value.status, info.value.code) == (502, "STRIPE_UNAVAILABLE")
    assert stripe_sim.server.state.sessions == {}


def test_rate_limit_is_an_upstream_error(stripe_sim, make_order):
    stripe_sim.set_faults(status=429)
    with pytest.raises(UpstreamError) as info:
        _checkout(make_order())
    assert info.value.code == "STRIPE_UNAVAILABLE"


def test_timeout_is_an_upstream_error(stripe_sim, make_order, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    stripe_sim.set_faults(timeout=True, count=1)
    started = time.monotonic()
    with pytest.raises(UpstreamError) as info:
        _checkout(make_order())
    assert info.value.code == "STRIPE_UNAVAILABLE"
    assert time.monotonic() - started < 2


def test_unreachable_stripe_is_an_upstream_error(stripe_sim, make_order, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(UpstreamError) as info:
        _checkout(make_order())
    assert info.value.code == "STRIPE_UNAVAILABLE"


def test_missing_key_is_an_upstream_error_without_a_call(stripe_sim, make_order, settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(UpstreamError) as info:
        _checkout(make_order())
    assert info.value.code == "STRIPE_UNAVAILABLE"
    assert stripe_sim.server.state.sessions == {}


def test_wrong_key_is_unavailable_and_never_logged(stripe_sim, make_order, settings, caplog):
    settings.STRIPE_SECRET_KEY = "sk_test_not_the_right_key_4321"
    with caplog.at_level(logging.DEBUG), pytest.raises(UpstreamError) as info:
        _checkout(make_order())
    assert info.value.code == "STRIPE_UNAVAILABLE"
    rendered = f"{info.value.message} {info.value.details} {caplog.text}"
    assert "not_the_right_key" not in rendered and "4321" not in rendered
    assert stripe_sim.secret_key not in caplog.text


def test_stripe_rejection_is_a_4xx_with_stripes_message(stripe_sim, make_order, settings):
    settings.STRIPE_CHECKOUT_EXPIRY_MINUTES = 5  # Stripe wants 30 minutes to 24 hours
    with pytest.raises(ApplicationError) as info:
        _checkout(make_order())
    assert (info.value.status, info.value.code) == (400, "STRIPE_REJECTED")
    assert info.value.details["param"] == "expires_at"
    assert "30 minutes and 24 hours" in info.value.details["stripe_message"]
    assert stripe_sim.server.state.sessions == {}


def test_expire_and_retrieve(stripe_sim, make_order):
    session_id = _checkout(make_order()).id
    assert gateway.retrieve_checkout_session(session_id)["status"] == "open"
    assert gateway.expire_checkout_session(session_id) is None
    session = gateway.retrieve_checkout_session(session_id)
    assert (session["status"], session["url"]) == ("expired", None)
    with pytest.raises(ApplicationError) as info:
        gateway.expire_checkout_session(session_id)
    assert (info.value.status, info.value.code) == (400, "STRIPE_REJECTED")
    assert stripe_sim.drain()
    # Never confirmed: no PaymentIntent, so none is canceled (API 2022-08-01).
    assert [e["type"] for e in stripe_sim.events()] == ["checkout.session.expired"]


def test_unknown_session_is_a_404_rejection(stripe_sim):
    with pytest.raises(ApplicationError) as info:
        gateway.retrieve_checkout_session("cs_test_missing")
    assert (info.value.status, info.value.code) == (404, "STRIPE_REJECTED")
    assert info.value.details["stripe_code"] == "resource_missing"


def test_payment_link_pays_with_the_order_metadata(stripe_sim, make_broker, make_order):
    order = make_order(broker=make_broker(), prices=(80_000,))
    link = gateway.create_payment_link(order=order)
    assert link.id.startswith("plink_")
    assert link.url == f"{stripe_sim.url}/pay/{link.id}"
    session = stripe_sim.open_payment_link(link.id)
    assert session["amount_total"] == order.total_charged
    assert session["payment_link"] == link.id
    assert session["metadata"]["order_id"] == str(order.id)
    paid = stripe_sim.pay(session["id"])
    assert paid["payment_status"] == "paid"
    assert stripe_sim.payment_intent(paid["payment_intent"])["metadata"]["order_number"] == order.order_number


def _paid_intent(stripe_sim, order) -> str:
    return stripe_sim.pay(_checkout(order).id)["payment_intent"]


def test_refunds_are_cumulative_and_bounded(stripe_sim, make_order):
    order = make_order(prices=(100_000,))
    pi = _paid_intent(stripe_sim, order)
    first = gateway.create_refund(payment_intent=pi, amount=30_000, idempotency_key="refund-a", metadata={"x": 1})
    assert (first.status, first.amount) == ("succeeded", 30_000)
    assert first.id.startswith("re_")
    again = gateway.create_refund(payment_intent=pi, amount=30_000, idempotency_key="refund-a", metadata={"x": 1})
    assert again.id == first.id
    with pytest.raises(ApplicationError) as info:
        gateway.create_refund(payment_intent=pi, amount=70_001, idempotency_key="refund-b", metadata={})
    assert (info.value.status, info.value.code) == (400, "STRIPE_REJECTED")
    assert info.value.details["stripe_code"] == "amount_too_large"
    rest = gateway.create_refund(payment_intent=pi, amount=70_000, idempotency_key="refund-c",
                                 metadata={"order_id": str(order.id)})
    charge_id = gateway.retrieve_payment_intent(pi)["latest_charge"]
    charge = gateway.retrieve_charge(charge_id)
    assert (charge["amount_refunded"], charge["refunded"]) == (100_000, True)
    assert [(r["id"], r["amount"]) for r in gateway.list_refunds(charge_id)] == [(rest.id, 70_000), (first.id, 30_000)]
    assert gateway.list_refunds(charge_id)[0]["metadata"] == {"order_id": str(order.id)}


def test_refund_of_unpaid_intent_is_rejected(stripe_sim, make_order):
    session = stripe_sim.session(_checkout(make_order()).id)
    with pytest.raises(ApplicationError) as info:
        gateway.create_refund(payment_intent=session["payment_intent"], amount=100, idempotency_key="r", metadata={})
    assert info.value.code == "STRIPE_REJECTED"
    assert stripe_sim.server.state.refunds == {}


@pytest.mark.parametrize("amount", [0, -5, True, "100"])
def test_refund_amount_must_be_positive_cents(stripe_sim, amount):
    with pytest.raises(ApplicationError) as info:
        gateway.create_refund(payment_intent="pi_x", amount=amount, idempotency_key="r", metadata={})
    assert (info.value.status, info.value.code) == (422, "VALIDATION_ERROR")
    assert stripe_sim.events() == []


def test_refund_during_outage_is_upstream_error(stripe_sim, make_order):
    pi = _paid_intent(stripe_sim, make_order())
    stripe_sim.set_faults(status=503, path="/v1/refunds")
    with pytest.raises(UpstreamError):
        gateway.create_refund(payment_intent=pi, amount=100, idempotency_key="r-outage", metadata={})
    assert stripe_sim.server.state.refunds == {}


def test_paid_checkout_sends_an_event_our_verifier_accepts(stripe_sim, make_broker, make_order, webhook_receiver):
    """Checkout -> local session -> Pay -> a correctly signed event that verify_webhook accepts."""
    order = make_order(broker=make_broker())
    stripe_sim.set_webhook_url(webhook_receiver.url)
    session_id = _checkout(order).id
    stripe_sim.pay(session_id, name="Jane Doe", email="jane@example.com", phone="+15550001111")

    completed = [r for r in webhook_receiver.requests if b'"checkout.session.completed"' in r["body"]]
    assert len(completed) == 1
    event = gateway.verify_webhook(completed[0]["body"], completed[0]["headers"]["Stripe-Signature"])
    session = event["data"]["object"]
    assert (session["id"], session["payment_status"], session["amount_total"]) == (
        session_id, "paid", order.total_charged)
    assert session["metadata"]["order_id"] == str(order.id)
    assert session["customer_details"]["name"] == "Jane Doe"
    assert session["customer_details"]["phone"] == "+15550001111"
