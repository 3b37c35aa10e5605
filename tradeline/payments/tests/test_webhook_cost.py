"""What one signed paid webhook costs in SQL statements, pinned so it cannot creep back.

The paid path (checkout.session.completed, payment_status "paid", a PENDING broker order) is:
BEGIN; INSERT the event row (ON CONFLICT DO NOTHING; on PostgreSQL sent in one round trip after
SET LOCAL lock_timeout, which so also bounds the INSERT's own wait); SAVEPOINT (the handler's: a
permanent problem rolls back its effects, the row stays); SELECT the order FOR UPDATE (only the
columns the paid path reads; the payment intent's uniqueness answered in the same statement; the
broker is not loaded); UPDATE the order (RETURNING whether refund reports wait for this payment, so
the rare deferred refunds cost no statement of their own); INSERT the commission (ON CONFLICT DO
NOTHING); INSERT both activity entries (one statement); INSERT the fulfillment task; UPDATE the
broker's daily figures; RELEASE; UPDATE the event row; COMMIT. 12 statements, on PostgreSQL and on
SQLite. Inside the test's own transaction BEGIN/COMMIT appear as SAVEPOINT/RELEASE.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tradeline.audit.models import ActivityLog
from tradeline.orders.models import Order, OrderStatus
from tradeline.payments.models import WebhookEvent
from tradeline.payments.tests import events
from tradeline.payments.webhooks import LOCK_TIMEOUT
from tradeline.payouts.models import CommissionRecord, CommissionStatus

pytestmark = pytest.mark.django_db

PAID_PATH_MAX = 12
DUPLICATE_MAX = 4


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
    commission = CommissionRecord.objects.get(order=order)
    assert commission.status == CommissionStatus.PAYABLE
    assert ActivityLog.objects.filter(entity_id=str(order.pk), action="order.paid").count() == 1
    assert ActivityLog.objects.filter(entity_id=str(commission.pk), action="COMMISSION_CREATED").count() == 1
    assert WebhookEvent.objects.get(event_id=evt["id"]).status == WebhookEvent.Status.PROCESSED

    assert len(ctx) <= PAID_PATH_MAX, _listing(ctx)
    order_table = Order._meta.db_table
    order_selects = [sql for sql in _statements(ctx, "SELECT") if f'FROM "{order_table}"' in sql]
    assert len(order_selects) == 1, _listing(ctx)  # the one locked SELECT
    order_updates = _statements(ctx, "UPDATE \"" + order_table)
    assert len(order_updates) == 1 and " RETURNING " in order_updates[0], _listing(ctx)
    assert not [sql for sql in _statements(ctx, "SELECT") if 'FROM "brokers_broker"' in sql], _listing(ctx)
    # The test's transaction turns the webhook's own BEGIN into a savepoint: that one + the handler's.
    assert len(_statements(ctx, "SAVEPOINT")) == 2, _listing(ctx)
    assert len(_statements(ctx, 'INSERT INTO "audit_activitylog"')) == 1, _listing(ctx)  # both entries
    # The locked order is the only SELECT: deferred refund reports have no statement of their own.
    assert len(_statements(ctx, "SELECT")) == 1, _listing(ctx)
    _assert_lock_timeout_with_the_insert(ctx)


def _assert_lock_timeout_with_the_insert(ctx) -> None:
    """PostgreSQL: the 5 s lock timeout is set by the transaction's first statement, with the event
    row's INSERT (no round trip of its own)."""
    if connection.vendor != "postgresql":
        return
    first = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SAVEPOINT")][0]
    assert first.startswith(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; INSERT INTO \"payments_webhookevent\""), first
    assert _statements(ctx, "SET") == [first], _listing(ctx)
    assert LOCK_TIMEOUT == "5s"


def test_duplicate_webhook_statement_count(client, order):
    evt = events.completed(order)
    assert events.post(client, evt).json()["status"] == "processed"

    with CaptureQueriesContext(connection) as ctx:
        response = events.post(client, evt)

    assert response.json()["status"] == "duplicate"
    assert WebhookEvent.objects.get(event_id=evt["id"]).attempts == 1
    assert CommissionRecord.objects.filter(order=order).count() == 1
    # BEGIN, (SET LOCAL lock_timeout +) INSERT .. ON CONFLICT DO NOTHING, SELECT the row FOR UPDATE, COMMIT.
    assert len(ctx) <= DUPLICATE_MAX, _listing(ctx)
    _assert_lock_timeout_with_the_insert(ctx)
