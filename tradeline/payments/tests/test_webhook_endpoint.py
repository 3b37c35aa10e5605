"""The webhook endpoint: signature first, one row per event, duplicates, failures and retries."""

import json
import time

import pytest
from django.db import DatabaseError
from django.test import Client

from tradeline.orders.models import OrderStatus
from tradeline.payments import handlers
from tradeline.payments.models import WebhookEvent
from tradeline.payments.tests import events
from tradeline.payments.tests.conftest import WEBHOOK_SECRET
from tradeline.payouts.models import CommissionRecord
from tradeline.testing.factories import session_of

pytestmark = pytest.mark.django_db


def _nothing_written(order):
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert WebhookEvent.objects.count() == 0
    assert not CommissionRecord.objects.exists()


def test_missing_signature_is_400_and_writes_nothing(client, order):
    body = json.dumps(events.completed(order)).encode()
    response = client.post(events.WEBHOOK_URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "MISSING_SIGNATURE"
    _nothing_written(order)


def test_wrong_secret_is_400_and_writes_nothing(client, order):
    response = events.post(client, events.completed(order), secret="whsec_someone_else")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_SIGNATURE"
    _nothing_written(order)


def test_tampered_body_is_400(client, order):
    body, signature = events.signed(events.completed(order))
    tampered = body.replace(b'"paid"', b'"paid" ', 1)
    response = client.post(events.WEBHOOK_URL, data=tampered, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=signature)
    assert response.status_code == 400
    _nothing_written(order)


def test_stale_signature_is_400(client, order):
    response = events.post(client, events.completed(order), timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert response.json()["code"] == "STALE_SIGNATURE"
    _nothing_written(order)


def test_signed_garbage_is_400(client, order):
    from tradeline.payments.stripe_gateway import sign_payload

    body = b"not json at all"
    response = client.post(events.WEBHOOK_URL, data=body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=sign_payload(body, WEBHOOK_SECRET))
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_webhook_needs_no_csrf_token(order):
    csrf_client = Client(enforce_csrf_checks=True)
    response = events.post(csrf_client, events.completed(order))
    assert response.status_code == 200
    assert response.json()["status"] == "processed"


def test_paid_event_is_recorded_processed(client, order):
    evt = events.completed(order)
    response = events.post(client, evt)
    assert response.status_code == 200
    assert response.json() == {"received": True, "status": "processed", "event_id": evt["id"],
                               "type": "checkout.session.completed"}
    row = WebhookEvent.objects.get()
    assert (row.event_id, row.status, row.attempts, row.order_id) == (evt["id"], "PROCESSED", 1, order.pk)
    assert row.processed_at is not None
    assert row.payload["data"]["object"]["id"] == session_of(order)


def test_duplicate_delivery_is_acknowledged_without_effect(client, order):
    evt = events.completed(order)
    assert events.post(client, evt).json()["status"] == "processed"
    again = events.post(client, evt)  # Stripe signs every retry anew: dedupe on the event id
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert WebhookEvent.objects.count() == 1
    assert WebhookEvent.objects.get().attempts == 1
    assert CommissionRecord.objects.filter(order=order).count() == 1


def test_unknown_event_type_is_recorded_and_ignored(client, order):
    evt = events.event("customer.created", {"id": "cus_1", "object": "customer"})
    response = events.post(client, evt)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert WebhookEvent.objects.get().status == "IGNORED"


def test_event_without_our_order_id_is_ignored(client, order):
    obj = events.session(order)
    obj["metadata"] = {}
    response = events.post(client, events.event("checkout.session.completed", obj))
    assert response.json()["status"] == "ignored"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert WebhookEvent.objects.get().status == "IGNORED"


def test_unknown_order_needs_review_and_is_acknowledged(client, order):
    obj = events.session(order)
    obj["metadata"]["order_id"] = "00000000-0000-4000-8000-000000000000"
    response = events.post(client, events.event("checkout.session.completed", obj))
    assert response.status_code == 200
    assert response.json()["status"] == "needs_review"
    row = WebhookEvent.objects.get()
    assert row.status == "NEEDS_REVIEW"
    assert "Unknown order" in row.error
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_malformed_order_id_needs_review(client, order):
    obj = events.session(order)
    obj["metadata"]["order_id"] = "'; drop table orders; --"
    response = events.post(client, events.event("checkout.session.completed", obj))
    assert response.status_code == 200
    assert response.json()["status"] == "needs_review"


def test_missing_amount_needs_review_and_holds_the_order(client, order):
    obj = events.session(order)
    del obj["amount_total"]
    response = events.post(client, events.event("checkout.session.completed", obj))
    assert response.json()["status"] == "needs_review"
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    assert "amount_total" in order.review_reason
    assert not CommissionRecord.objects.exists()


def test_transient_failure_is_503_then_the_redelivery_processes_it(client, order, monkeypatch):
    evt = events.completed(order)
    real = handlers.HANDLERS["checkout.session.completed"]

    def broken(event):
        real(event)  # the effects happen, then the database fails: all of it must roll back
        raise DatabaseError("connection lost")

    monkeypatch.setitem(handlers.HANDLERS, "checkout.session.completed", broken)
    response = events.post(client, evt)
    assert response.status_code == 503
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not CommissionRecord.objects.exists()
    row = WebhookEvent.objects.get()
    assert row.status == "FAILED"
    assert "connection lost" in row.error

    monkeypatch.setitem(handlers.HANDLERS, "checkout.session.completed", real)
    retry = events.post(client, evt)
    assert retry.status_code == 200
    assert retry.json()["status"] == "processed"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("PROCESSED", 2)
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert CommissionRecord.objects.filter(order=order).count() == 1


def test_replay_command_processes_failed_events(order, monkeypatch):
    from django.core.management import call_command

    evt = events.completed(order)
    monkeypatch.setitem(handlers.HANDLERS, "checkout.session.completed",
                        lambda event: (_ for _ in ()).throw(DatabaseError("down")))
    assert events.post(Client(), evt).status_code == 503
    monkeypatch.undo()
    call_command("replay_webhooks", verbosity=0)
    assert WebhookEvent.objects.get().status == "PROCESSED"
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


def test_negative_amount_needs_review_and_changes_nothing(client, order):
    response = events.post(client, events.completed(order, amount=-5))
    assert response.status_code == 200
    assert response.json()["status"] == "needs_review"
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (OrderStatus.PENDING, 0)
    assert not CommissionRecord.objects.exists()


def test_event_with_odd_shapes_is_never_a_500(client, order):
    odd = [
        events.event("checkout.session.completed", {"metadata": "nope"}),
        {**events.event("charge.refunded", {}), "data": "x"},
        events.event("charge.dispute.closed", {"metadata": {"order_id": str(order.pk)}, "status": "weird"}),
        events.event("payment_intent.succeeded", {"metadata": {"order_id": str(order.pk)}, "amount_received": "12"}),
        events.event("checkout.session.completed", {**events.session(order), "customer_details": ["x"],
                                                    "payment_intent": {"id": 5}}),
    ]
    for evt in odd:
        response = events.post(client, evt)
        assert response.status_code == 200, (evt["type"], response.content)
    assert not WebhookEvent.objects.filter(status="FAILED").exists()


def test_selectors_show_events_needing_attention(client, order):
    from tradeline.payments.selectors import webhook_event_counts, webhook_events

    events.post(client, events.completed(order, amount=1))
    events.post(client, events.event("customer.created", {"id": "cus_1"}))
    counts = webhook_event_counts()
    assert (counts["NEEDS_REVIEW"], counts["IGNORED"], counts["FAILED"]) == (1, 1, 0)
    review = list(webhook_events(status="NEEDS_REVIEW"))
    assert [(e.event_type, e.order_id) for e in review] == [("checkout.session.completed", order.pk)]
