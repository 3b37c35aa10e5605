"""A ceiling on what one signed paid webhook costs in SQL statements: a guard against N+1 (a
statement per order item, per payment, per activity entry), not a pin. The paid path reads top to
bottom (payments.services.paid) with public Django APIs; it runs 20 statements on SQLite and 21
on PostgreSQL (docs/domain.md "Paid path"), the same for a one-line and a ten-line order."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tradeline.audit.models import ActivityLog
from tradeline.orders.models import OrderStatus
from tradeline.payments.models import WebhookEvent
from tradeline.payments.tests import events
from tradeline.payouts.models import CommissionRecord, CommissionStatus
from tradeline.testing.factories import add_checkout_session, payment_of

pytestmark = pytest.mark.django_db

PAID_PATH_CEILING = 25
DUPLICATE_CEILING = 6


def _listing(ctx) -> str:
    return "\n".join(q["sql"][:160] for q in ctx.captured_queries)


def _paid_statements(client, order) -> int:
    evt = events.completed(order)
    with CaptureQueriesContext(connection) as ctx:
        response = events.post(client, evt)
    assert response.status_code == 200
    assert response.json()["status"] == "processed"
    assert len(ctx) <= PAID_PATH_CEILING, _listing(ctx)
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert payment_of(order).stripe_payment_intent == evt["data"]["object"]["payment_intent"]
    commission = CommissionRecord.objects.get(order=order)
    assert commission.status == CommissionStatus.PAYABLE
    assert ActivityLog.objects.filter(entity_id=str(order.pk), action="order.paid").count() == 1
    assert ActivityLog.objects.filter(entity_id=str(commission.pk), action="commission.created").count() == 1
    assert WebhookEvent.objects.get(event_id=evt["id"]).status == WebhookEvent.Status.PROCESSED
    return len(ctx)


def test_paid_webhook_stays_under_the_ceiling_whatever_the_order_size(client, make_order, broker, order):
    # An earlier sale of the same broker today: its daily figures row exists (the usual case).
    assert events.post(client, events.completed(make_order(broker=broker, prices=(100_000,)))).status_code == 200

    one_line = _paid_statements(client, order)
    ten_lines = make_order(broker=broker, prices=tuple(10_000 + i for i in range(10)))
    add_checkout_session(ten_lines)
    assert _paid_statements(client, ten_lines) == one_line


def test_duplicate_webhook_statement_count(client, order):
    evt = events.completed(order)
    assert events.post(client, evt).json()["status"] == "processed"

    with CaptureQueriesContext(connection) as ctx:
        response = events.post(client, evt)

    assert response.json()["status"] == "duplicate"
    assert WebhookEvent.objects.get(event_id=evt["id"]).attempts == 1
    assert CommissionRecord.objects.filter(order=order).count() == 1
    assert len(ctx) <= DUPLICATE_CEILING, _listing(ctx)
