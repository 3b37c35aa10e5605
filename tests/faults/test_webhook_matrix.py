"""Webhook fault matrix: what is proven where, and the rows not covered elsewhere.

| fault                                            | test                                                     |
|--------------------------------------------------|----------------------------------------------------------|
| 10 identical deliveries at once (PostgreSQL)     | payments/tests/test_concurrency_pg.py::test_ten_copies_… |
| completed racing payment_intent.succeeded (PG)   | payments/tests/test_concurrency_pg.py::test_completed_…  |
| refund reported before completed                 | payments/tests/test_refunds.py::test_refund_arriving_…   |
| expired after paid                               | payments/tests/test_events_paid.py::test_expired_after_… |
| missing / bad / stale / tampered signatures      | payments/tests/test_webhook_endpoint.py, test_stripe_gateway_webhooks.py |
| rotated secret, at the endpoint                  | here                                                     |
| all of the above in one ledger -> reconcile = 0  | here                                                     |
| DB connection dropped mid webhook (PG)           | tests/faults/test_processes_pg.py                        |
"""

import json

import pytest
from django.test import Client

from tests.faults.conftest import assert_books_balance
from tradeline.orders.models import Order
from tradeline.payments.models import WebhookEvent
from tradeline.payments.stripe_gateway import sign_payload
from tradeline.payments.tests import events
from tradeline.payouts.models import CommissionRecord
from tradeline.testing.factories import add_checkout_session

pytestmark = pytest.mark.django_db

OLD, NEW = "whsec_matrix_old_secret", "whsec_matrix_new_secret"


@pytest.fixture
def order(make_broker, make_order):
    o = make_order(broker=make_broker(share="11.75", markup_percent="3.5"), prices=(123_457,))
    add_checkout_session(o, f"cs_matrix_{o.pk.hex[:12]}")
    o.refresh_from_db()
    return o


def _post(client: Client, evt: dict, signature: str):
    body = json.dumps(evt).encode()
    return client.post(events.WEBHOOK_URL, data=body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=signature(body))


def test_secret_rotation_at_the_endpoint(client, order, settings):
    settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
    settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_WEBHOOK_SECRETS_PREVIOUS = NEW, OLD
    paid = events.completed(order)
    # Mid-rotation: an event signed with the old secret only is still ours.
    response = _post(client, paid, lambda body: sign_payload(body, OLD))
    assert (response.status_code, response.json()["status"]) == (200, "processed")
    # Stripe signs with both secrets during a roll: two v1 values, either may match.
    both = lambda body: sign_payload(body, NEW) + "," + sign_payload(body, OLD).split(",")[1]  # noqa: E731
    response = _post(client, paid, both)
    assert (response.status_code, response.json()["status"]) == (200, "duplicate")

    # The rotation ends: the old secret alone is refused and nothing is written.
    settings.STRIPE_WEBHOOK_SECRETS_PREVIOUS = ""
    refund = events.event("charge.refunded", events.charge(order, amount_refunded=10_000))
    response = _post(client, refund, lambda body: sign_payload(body, OLD))
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_SIGNATURE")
    assert not WebhookEvent.objects.filter(event_id=refund["id"]).exists()
    order.refresh_from_db()
    assert order.amount_refunded == 0
    # Stripe's retry, signed with the new secret, goes through.
    response = _post(client, refund, lambda body: sign_payload(body, NEW))
    assert (response.status_code, response.json()["status"]) == (200, "processed")
    order.refresh_from_db()
    assert order.amount_refunded == 10_000
    assert_books_balance()


def test_every_ordering_fault_leaves_balanced_books(client, make_broker, make_order, settings):
    settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_WEBHOOK_SECRETS_PREVIOUS = NEW, ""
    broker = make_broker(share="22.22", markup_type="FIXED", markup_percent="0", markup_fixed=1_999)
    made = [make_order(broker=broker, prices=(77_777,), quantity=2) for _ in range(5)]
    for o in made:
        add_checkout_session(o, f"cs_matrix_{o.pk.hex[:12]}")
        o.refresh_from_db()
    reverse, expired_late, both, dispute_first, repeated = made

    def post(evt, copies=1):
        for _ in range(copies):
            assert events.post(client, evt).status_code == 200

    post(events.event("charge.refunded", events.charge(reverse, amount_refunded=5_000)))  # before the payment
    post(events.completed(reverse))
    post(events.completed(expired_late))
    post(events.event("checkout.session.expired", events.session(expired_late, payment_status="unpaid")))
    post(events.event("payment_intent.succeeded", events.payment_intent(both)))
    post(events.completed(both))
    post(events.completed(dispute_first))
    post(events.event("charge.dispute.closed", events.dispute(dispute_first, status="lost")))  # before created
    post(events.event("charge.dispute.created", events.dispute(dispute_first)))
    post(events.completed(repeated), copies=3)
    post(events.event("charge.refunded", events.charge(repeated, amount_refunded=repeated.total_charged)), copies=2)

    states = {o.pk: (o.status, o.amount_refunded, o.dispute_status)
              for o in Order.objects.filter(pk__in=[m.pk for m in made])}
    assert states == {
        reverse.pk: ("PROCESSING", 5_000, "NONE"),
        expired_late.pk: ("PROCESSING", 0, "NONE"),
        both.pk: ("PROCESSING", 0, "NONE"),
        dispute_first.pk: ("PROCESSING", 0, "LOST"),
        repeated.pk: ("REFUNDED", repeated.total_charged, "NONE"),
    }
    assert CommissionRecord.objects.count() == 5
    assert sorted(CommissionRecord.objects.values_list("status", flat=True)) == [
        "PAYABLE", "PAYABLE", "PAYABLE", "VOID", "VOID"]
    assert_books_balance()
