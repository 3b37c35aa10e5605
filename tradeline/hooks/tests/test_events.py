"""The business services emit the events, with what the broker already sees and nothing more."""

import pytest

from tradeline.hooks import services
from tradeline.hooks.models import WebhookEvent
from tradeline.orders.services import order_cancel
from tradeline.payments.services.paid import PaidOutcome, order_payment_record
from tradeline.payments.services.refunds import refund_total_apply

pytestmark = pytest.mark.django_db
ALL = ["order.paid", "order.refunded", "order.fulfilled", "order.status_changed", "commission.created",
       "commission.clawed_back", "payout.sent"]


@pytest.fixture
def subscribed_broker(make_broker):
    broker = make_broker()
    services.webhook_endpoint_create(broker=broker, url="https://crm.example.com/hook", events=ALL)
    return broker


def _events():
    return [(e.type, e.data) for e in WebhookEvent.objects.order_by("created_at", "type")]


def test_paid_then_partly_refunded_order(subscribed_broker, make_order, django_capture_on_commit_callbacks):
    order = make_order(broker=subscribed_broker, prices=(100_000,), customer_phone="+1 555 0100")
    with django_capture_on_commit_callbacks(execute=True):
        assert order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                               payment_intent="pi_hooks_1") == PaidOutcome.PAID
    types = sorted(t for t, _ in _events())
    assert types == ["commission.created", "order.paid", "order.status_changed"]
    paid = WebhookEvent.objects.get(type="order.paid").data
    assert (paid["order_number"], paid["status"], paid["total_charged"], paid["broker_earnings"]) == (
        order.order_number, "PROCESSING", 120_000, 30_000)
    assert paid["customer"] == {"email": order.customer_email, "name": order.customer_name}
    assert "+1 555 0100" not in str(paid) and "pi_hooks_1" not in str(paid)
    changed = WebhookEvent.objects.get(type="order.status_changed").data
    assert (changed["previous_status"], changed["status"]) == ("PENDING", "PROCESSING")
    assert WebhookEvent.objects.get(type="commission.created").data["total_commission"] == 30_000

    WebhookEvent.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        refund_total_apply(order_id=order.pk, amount_refunded=60_000)
    refunded = dict(_events())
    assert set(refunded) == {"order.refunded", "commission.clawed_back"}
    assert refunded["order.refunded"]["amount_refunded"] == 60_000
    assert refunded["commission.clawed_back"]["clawback_total"] == 15_000


def test_cancel_emits_status_changed_only(subscribed_broker, make_order, django_capture_on_commit_callbacks):
    order = make_order(broker=subscribed_broker)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=order.pk)
    [(type, data)] = _events()
    assert (type, data["previous_status"], data["status"]) == ("order.status_changed", "PENDING", "CANCELLED")


def test_no_endpoint_no_event_rows(make_broker, make_order, django_capture_on_commit_callbacks):
    order = make_order(broker=make_broker())
    with django_capture_on_commit_callbacks(execute=True):
        order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                        payment_intent="pi_hooks_2")
    assert WebhookEvent.objects.count() == 0


def test_paid_webhook_path_reads_the_order_once_more_after_commit(subscribed_broker, make_order,
                                                                   django_capture_on_commit_callbacks):
    """The events' data is built after the commit from the paid path's narrow order row: its other
    columns come in one query, not one per column."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tradeline.payments.services.paid import order_payment_record

    order = make_order(broker=subscribed_broker)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                             payment_intent="pi_narrow")
    hook_callbacks = [c for c in callbacks if getattr(c, "func", None) is not None
                      and c.func.__module__ == "tradeline.hooks.services"]
    assert len(hook_callbacks) == 3
    with CaptureQueriesContext(connection) as ctx:
        for callback in hook_callbacks:
            callback()
    order_reads = [q["sql"] for q in ctx.captured_queries
                   if q["sql"].startswith("SELECT") and 'FROM "orders_order"' in q["sql"]]
    assert len(order_reads) <= 1  # at most one more read, never one per column
    assert WebhookEvent.objects.get(type="order.paid").data["customer"]["email"] == order.customer_email
