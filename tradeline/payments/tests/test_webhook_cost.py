"""What one signed paid webhook costs in SQL statements, pinned so it cannot creep back.

The paid path (checkout.session.completed, payment_status "paid", a PENDING broker order) is, on
PostgreSQL: BEGIN, SET LOCAL lock_timeout, INSERT the event row (ON CONFLICT DO NOTHING),
SAVEPOINT (the handler's: a permanent problem rolls back its effects, the row stays), SELECT the
order FOR UPDATE (the payment intent's uniqueness answered in the same statement; the broker
is not loaded), UPDATE the order, INSERT the commission (ON CONFLICT DO NOTHING), INSERT two
activity entries, INSERT the fulfillment task, UPDATE the broker's daily figures, SELECT deferred
refund reports, RELEASE, UPDATE the event row, COMMIT. 15 statements (SQLite: no lock_timeout, 14). Inside the
test's own transaction BEGIN/COMMIT appear as SAVEPOINT/RELEASE.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tradeline.audit.models import ActivityLog
from tradeline.orders.models import Order, OrderStatus
from tradeline.payments.models import WebhookEvent
from tradeline.payments.tests import events
from tradeline.payouts.models import CommissionRecord, CommissionStatus

pytestmark = pytest.mark.django_db

PAID_PATH_MAX = 15
DUPLICATE_MAX = 5


def _statements(ctx, *words: str) -> list[str]:
    starts = tuple(w.upper() for w in words)
    return [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(starts)]


def _listing(ctx) -> str:
    return "\n".join(q["sql"][:160] for q in ctx.captured_queries)


def test_paid_webhook_statement_count(client, make_order, broker, order):
    # An earlier sale of the same broker today: its daily figures row exists (the usual case).
    assert events.post(client, events.completed(make_order(broker=broker, prices=(100_000,)))).status_code == 200

    evt = events.completed(order)
    with CaptureQueriesContext(connection) as ctx:
        response = events.post(client, evt)

    assert response.status_code == 200
    assert response.json()["status"] == "processed"
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert order.stripe_payment_intent == evt["data"]["object"]["payment_intent"]
    assert CommissionRecord.objects.get(order=order).status == CommissionStatus.PAYABLE
    assert ActivityLog.objects.filter(entity_id=str(order.pk), action="order.paid").count() == 1
    assert WebhookEvent.objects.get(event_id=evt["id"]).status == WebhookEvent.Status.PROCESSED

    assert len(ctx) <= PAID_PATH_MAX, _listing(ctx)
    order_table = Order._meta.db_table
    order_selects = [sql for sql in _statements(ctx, "SELECT") if f'FROM "{order_table}"' in sql]
    assert len(order_selects) == 1, _listing(ctx)  # the one locked SELECT
    assert len(_statements(ctx, "UPDATE \"" + order_table)) == 1, _listing(ctx)
    assert not [sql for sql in _statements(ctx, "SELECT") if 'FROM "brokers_broker"' in sql], _listing(ctx)
    # The test's transaction turns the webhook's own BEGIN into a savepoint: that one + the handler's.
    assert len(_statements(ctx, "SAVEPOINT")) == 2, _listing(ctx)


def test_duplicate_webhook_statement_count(client, order):
    evt = events.completed(order)
    assert events.post(client, evt).json()["status"] == "processed"

    with CaptureQueriesContext(connection) as ctx:
        response = events.post(client, evt)

    assert response.json()["status"] == "duplicate"
    assert WebhookEvent.objects.get(event_id=evt["id"]).attempts == 1
    assert CommissionRecord.objects.filter(order=order).count() == 1
    # BEGIN, SET LOCAL lock_timeout, INSERT .. ON CONFLICT DO NOTHING, SELECT the row FOR UPDATE, COMMIT.
    assert len(ctx) <= DUPLICATE_MAX, _listing(ctx)
