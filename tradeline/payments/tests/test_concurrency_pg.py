"""Exactly once under real concurrency (PostgreSQL): the same event delivered ten times at once, and
two different "paid" events racing, give one paid transition, one commission, one analytics
increment and one fulfillment task. A refund report racing the payment is applied; a webhook
waits for a row lock no longer than its lock timeout."""

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction
from django.test import Client
from django_tasks_db.models import DBTaskResult

from tradeline.analytics.models import BrokerDailyStats
from tradeline.audit.models import ActivityLog
from tradeline.orders.models import Order, OrderStatus, PaymentStatus
from tradeline.payments import webhooks
from tradeline.payments.models import WebhookEvent
from tradeline.payments.tests import events
from tradeline.payments.webhooks import webhook_process
from tradeline.payouts.models import CommissionRecord
from tradeline.testing.concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _delivery(evt: dict):
    """A webhook POST of `evt`, signed when prepared, sent when released."""

    def prepare():
        body, signature = events.signed(evt)
        client = Client()

        def send():
            response = client.post(events.WEBHOOK_URL, data=body, content_type="application/json",
                                   HTTP_STRIPE_SIGNATURE=signature)
            return response.status_code, response.json().get("status") or response.json().get("code")

        return send

    return prepare


def _race(evts: list[dict]) -> list[tuple[int, str]]:
    return run_together([_delivery(e) for e in evts], prepare=True)


def _assert_paid_once(order):
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert CommissionRecord.objects.filter(order=order).count() == 1
    stats = BrokerDailyStats.objects.get(broker=order.broker)
    assert (stats.orders_count, stats.total_sales, stats.revenue_share_earned, stats.markup_earned) == (
        1, 120_000, 10_000, 20_000)
    assert ActivityLog.objects.filter(action="order.paid", entity_id=str(order.pk)).count() == 1
    tasks = [t for t in DBTaskResult.objects.filter(task_path="tradeline.fulfillment.tasks.fulfil_order")
             if t.args_kwargs["kwargs"]["order_id"] == str(order.pk)]
    assert len(tasks) == 1


def test_ten_copies_of_one_event_at_once_pay_once(order):
    evt = events.completed(order)
    results = _race([evt] * 10)
    assert sorted(results) == [(200, "duplicate")] * 9 + [(200, "processed")]
    assert WebhookEvent.objects.filter(event_id=evt["id"]).count() == 1
    assert WebhookEvent.objects.get(event_id=evt["id"]).attempts == 1
    _assert_paid_once(order)


def test_completed_racing_payment_intent_succeeded_pays_once(order):
    completed = events.completed(order)
    succeeded = events.event("payment_intent.succeeded", events.payment_intent(order))
    results = _race([completed, succeeded, completed, succeeded] * 3)
    assert sorted(results) == [(200, "duplicate")] * 10 + [(200, "processed")] * 2
    assert WebhookEvent.objects.filter(status="PROCESSED").count() == 2
    _assert_paid_once(order)


def test_admin_refund_racing_its_webhook_sets_the_total_once(order):
    from tradeline.payments.services import refund_total_apply

    events.post(Client(), events.completed(order))
    refunded = events.event("charge.refunded", events.charge(order, amount_refunded=30_000))

    def direct():
        return lambda: refund_total_apply(order_id=order.pk, amount_refunded=30_000).value

    results = run_together([direct, direct, direct, _delivery(refunded), _delivery(refunded), _delivery(refunded)],
                           prepare=True)
    assert sorted(results[3:]) == [(200, "duplicate")] * 2 + [(200, "processed")]
    assert sorted(results[:3]) in (["APPLIED", "UNCHANGED", "UNCHANGED"], ["UNCHANGED"] * 3)
    order.refresh_from_db()
    assert order.amount_refunded == 30_000
    stats = BrokerDailyStats.objects.get(broker=order.broker)
    assert (stats.refunds_count, stats.refunded_amount) == (1, 30_000)
    assert CommissionRecord.objects.get(order=order).total_commission == 22_500


def test_local_stripe_delivers_concurrently_to_a_live_server(live_server, make_broker, make_order, stripe_sim):
    from tradeline.payments.tests import sim

    broker = make_broker(share="10", markup_percent="20")
    order = make_order(broker=broker, prices=(100_000,))
    session_id = sim.open_session(order)
    stripe_sim.pay(session_id, deliver=False)
    completed = stripe_sim.last_event("checkout.session.completed")
    stripe_sim.set_webhook_url(live_server.url + events.WEBHOOK_URL)
    statuses = stripe_sim.deliver_concurrently(completed["id"], 10)
    assert statuses == [200] * 10
    succeeded = stripe_sim.last_event("payment_intent.succeeded")
    assert stripe_sim.deliver_concurrently(succeeded["id"], 5) == [200] * 5
    _assert_paid_once(order)


class _Holder(threading.Thread):
    """Runs `work()` in a transaction of its own, then keeps that transaction (and its locks) open
    for `hold_seconds` before committing. Made once `work()` is done (its locks are held)."""

    def __init__(self, work, *, hold_seconds: float):
        super().__init__()
        self.work, self.hold_seconds = work, hold_seconds
        self.ready = threading.Event()
        self.error: Exception | None = None
        self.start()
        assert self.ready.wait(10)

    def run(self):
        try:
            with transaction.atomic():
                self.work()
                self.ready.set()
                time.sleep(self.hold_seconds)
        except Exception as exc:  # surfaced by finish()
            self.error = exc
        finally:
            self.ready.set()
            connection.close()

    def finish(self):
        self.join(15)
        assert self.error is None, self.error


def test_refund_deferred_while_the_payment_waits_for_the_order_lock_is_applied(order):
    # The refund report's transaction locks the order, finds it unpaid, records the report DEFERRED
    # and commits only after the paid event has started waiting for the same lock. The paid
    # transition's check for waiting reports runs after it got the lock, so it sees the report.
    refunded = events.event("charge.refunded", events.charge(order, amount_refunded=40_000))

    def defer_refund():
        Order.objects.select_for_update().get(pk=order.pk)
        assert webhook_process(event=refunded).status == "deferred"

    holder = _Holder(defer_refund, hold_seconds=0.5)
    response = events.post(Client(), events.completed(order))
    holder.finish()

    assert response.json()["status"] == "processed"
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_refunded) == (
        OrderStatus.PROCESSING, PaymentStatus.PARTIALLY_REFUNDED, 40_000)
    assert WebhookEvent.objects.get(event_id=refunded["id"]).status == WebhookEvent.Status.PROCESSED
    assert CommissionRecord.objects.get(order=order).total_commission == 20_000


def _processed_while_held(evt: dict, hold, monkeypatch) -> float:
    """Seconds webhook_process(evt) waited before its lock timeout (300 ms) while another
    transaction holds what `hold` took (for 3 s); the timeout error is required."""
    monkeypatch.setattr(webhooks, "LOCK_TIMEOUT", "300ms")
    holder = _Holder(hold, hold_seconds=3)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="lock timeout"):
        webhook_process(event=evt)
    waited = time.monotonic() - started
    holder.finish()
    return waited


def test_a_webhook_waits_for_a_locked_order_no_longer_than_the_lock_timeout(order, monkeypatch):
    evt = events.completed(order)
    waited = _processed_while_held(evt, lambda: Order.objects.select_for_update().get(pk=order.pk), monkeypatch)

    assert 0.25 < waited < 2.5
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not WebhookEvent.objects.filter(event_id=evt["id"]).exists()  # rolled back: Stripe retries
    assert not CommissionRecord.objects.filter(order=order).exists()
    assert webhook_process(event=evt).status == "processed"  # the retry, once the lock is free


def test_a_duplicate_waits_for_the_first_delivery_no_longer_than_the_lock_timeout(order, monkeypatch):
    # The lock timeout is set in the same round trip as the event row's INSERT, so it already bounds
    # that INSERT's wait for a concurrent transaction that inserted the same event id.
    evt = events.completed(order)
    waited = _processed_while_held(evt, lambda: WebhookEvent.objects.create(
        source="stripe", event_id=evt["id"], event_type=evt["type"], payload=evt), monkeypatch)

    assert 0.25 < waited < 2.5
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert WebhookEvent.objects.get(event_id=evt["id"]).status == WebhookEvent.Status.RECEIVED


def test_recording_a_failure_waits_no_longer_than_the_lock_timeout(order, monkeypatch, caplog):
    # A delivery that failed while another one holds the (uncommitted) event row gives up recording
    # FAILED after the lock timeout instead of waiting for the other transaction; it is logged.
    monkeypatch.setattr(webhooks, "LOCK_TIMEOUT", "300ms")
    evt = events.completed(order)
    holder = _Holder(lambda: WebhookEvent.objects.create(source="stripe", event_id=evt["id"], event_type=evt["type"],
                                                         payload=evt), hold_seconds=3)
    started = time.monotonic()
    webhooks._record_failure(evt, OperationalError("lock timeout"))
    waited = time.monotonic() - started
    holder.finish()

    assert 0.25 < waited < 2.5
    assert "could not record the failure" in caplog.text
    assert WebhookEvent.objects.get(event_id=evt["id"]).status == WebhookEvent.Status.RECEIVED  # the holder's row
