"""Exactly once under real concurrency (PostgreSQL): the same event delivered ten times at once, and
two different "paid" events racing, give one paid transition, one commission, one analytics
increment and one fulfillment task."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from tradeline.analytics.models import BrokerDailyStats
from tradeline.audit.models import ActivityLog
from tradeline.orders.models import OrderStatus
from tradeline.payments.models import WebhookEvent
from tradeline.payments.tests import events
from tradeline.payouts.models import CommissionRecord

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_together(calls: list) -> list:
    """Run each callable in its own thread (own DB connection), all released at the same moment."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, call) -> None:
        try:
            prepared = call()
            barrier.wait(timeout=10)
            results[i] = prepared()
        except Exception as exc:  # surfaced by the assertions on results
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


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
    return _run_together([_delivery(e) for e in evts])


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

    results = _run_together([direct, direct, direct, _delivery(refunded), _delivery(refunded), _delivery(refunded)])
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
