"""Realistic Stripe event payloads (event_fixtures/*.json, written from Stripe's documented shapes)
through the real webhook endpoint: ids or expanded objects, `amount_total` null, the `charges` list
of older API versions, `data.previous_attributes`, fields newer than our code knows."""

import json
from pathlib import Path

import pytest

from tradeline.orders.models import DisputeStatus, OrderStatus, PaymentStatus
from tradeline.payments.models import WebhookEvent
from tradeline.payments.tests import events
from tradeline.testing.factories import payment_of, session_of

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).with_name("event_fixtures")
PAID = ("checkout_session_completed.json", "checkout_session_completed_expanded_intent.json",
        "checkout_session_completed_amount_total_null.json", "payment_intent_succeeded.json",
        "payment_intent_succeeded_2020_charges_list.json")


def _load(name: str, order) -> dict:
    hexid = order.pk.hex[:16]
    text = (FIXTURES / name).read_text()
    for placeholder, value in (("__ORDER_ID__", str(order.pk)), ("__ORDER_NUMBER__", order.order_number),
                               ("__BROKER_ID__", str(order.broker_id)), ("__SESSION__", session_of(order)),
                               ("__PI__", f"pi_3Q{hexid}"), ("__CHARGE__", f"ch_3Q{hexid}"),
                               ("__EMAIL__", order.customer_email)):
        text = text.replace(placeholder, value)
    text = text.replace('"__AMOUNT__"', str(order.total_charged)).replace('"__HALF__"', str(order.total_charged // 2))
    return json.loads(text)


def _post(client, evt: dict) -> WebhookEvent:
    assert events.post(client, evt).status_code == 200
    return WebhookEvent.objects.get(event_id=evt["id"])


def test_every_fixture_is_a_stripe_event_with_a_known_type():
    names = sorted(p.name for p in FIXTURES.glob("*.json"))
    assert len(names) == 10
    from tradeline.payments.handlers import HANDLERS

    for name in names:
        evt = json.loads((FIXTURES / name).read_text())
        assert evt["object"] == "event" and evt["type"] in HANDLERS, name


@pytest.mark.parametrize("name", PAID)
def test_paid_payload_shapes_pay_the_order(client, order, name):
    row = _post(client, _load(name, order))
    assert (row.status, row.error) == (WebhookEvent.Status.PROCESSED, "paid")
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_paid) == (
        OrderStatus.PROCESSING, PaymentStatus.SUCCEEDED, order.total_charged)
    assert payment_of(order).stripe_payment_intent == f"pi_3Q{order.pk.hex[:16]}"
    if name.startswith("payment_intent"):
        assert payment_of(order).stripe_charge_id == f"ch_3Q{order.pk.hex[:16]}"


def test_an_expired_session_that_never_had_an_intent_cancels_the_order(client, order):
    row = _post(client, _load("checkout_session_expired_never_confirmed.json", order))
    assert row.status == WebhookEvent.Status.PROCESSED
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_a_failed_bank_debit_fails_the_order(client, order):
    row = _post(client, _load("checkout_session_async_payment_failed.json", order))
    assert row.status == WebhookEvent.Status.PROCESSED
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.FAILED, PaymentStatus.FAILED)


def test_a_partial_refund_with_previous_attributes(client, order):
    _post(client, _load("payment_intent_succeeded.json", order))
    row = _post(client, _load("charge_refunded_partial.json", order))
    assert row.status == WebhookEvent.Status.PROCESSED
    order.refresh_from_db()
    assert (order.amount_refunded, order.status) == (order.total_charged // 2, OrderStatus.PROCESSING)


def test_a_dispute_with_an_expanded_charge_then_closed_prevented(client, order):
    _post(client, _load("payment_intent_succeeded.json", order))
    opened = _post(client, _load("charge_dispute_created_expanded_charge.json", order))
    assert opened.status == WebhookEvent.Status.PROCESSED
    order.refresh_from_db()
    assert order.dispute_status == DisputeStatus.OPEN
    closed = _post(client, _load("charge_dispute_closed_prevented.json", order))
    assert closed.status == WebhookEvent.Status.PROCESSED
    order.refresh_from_db()
    assert order.dispute_status == DisputeStatus.WON
