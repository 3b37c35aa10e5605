"""Excess payments under real concurrency (PostgreSQL): the payment link's session and the order's own
session paid at the same moment, and one excess payment's events delivered many times at once, give
one paying payment, one excess payment, one commission, one fulfillment and one refund."""

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from tradeline.fulfillment.models import SupplierOrder
from tradeline.orders.models import OrderStatus
from tradeline.payments.models import Payment
from tradeline.payments.services import manual_payment_record
from tradeline.payments.services.excess import ExcessRefundOutcome, excess_refund_attempt
from tradeline.payments.tests import events
from tradeline.payouts.models import CommissionRecord
from tradeline.testing.concurrency import raised, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REFUND_TASK = "tradeline.payments.tasks.refund_excess_payment"


def _delivery(evt: dict):
    def prepare():
        body, signature = events.signed(evt)
        client = Client()

        def send():
            response = client.post(events.WEBHOOK_URL, data=body, content_type="application/json",
                                   HTTP_STRIPE_SIGNATURE=signature)
            return response.status_code, response.json().get("status") or response.json().get("code")

        return send

    return prepare


def _refund_tasks(order) -> list[DBTaskResult]:
    ids = {str(pk) for pk in Payment.objects.filter(order=order).values_list("pk", flat=True)}
    return [t for t in DBTaskResult.objects.filter(task_path=REFUND_TASK) if t.args_kwargs["kwargs"]["payment_id"] in ids]


def _assert_one_of_each(order) -> Payment:
    order.refresh_from_db()
    assert (order.status, order.amount_paid, order.amount_refunded, order.review_reason) == (
        OrderStatus.PROCESSING, 120_000, 0, "")
    roles = sorted(Payment.objects.filter(order=order, role__in=("PAYING", "EXCESS")).values_list("role", flat=True))
    assert roles == ["EXCESS", "PAYING"]
    assert CommissionRecord.objects.filter(order=order).count() == 1
    assert SupplierOrder.objects.filter(order=order).count() == 1
    excess = Payment.objects.get(order=order, role="EXCESS")
    assert [t.args_kwargs["kwargs"]["payment_id"] for t in _refund_tasks(order)] == [str(excess.pk)]
    return excess


@pytest.mark.parametrize("rounds", [1, 3])
def test_link_paid_racing_session_paid_gives_one_paying_and_one_refunded_excess(order, rounds):
    link = Payment.objects.create(order=order, method="STRIPE", amount=order.total_charged,
                                  stripe_payment_link_id="plink_race", stripe_payment_link_url="https://pay.example/l")
    own = events.completed(order, payment_intent="pi_own_session")
    by_link = events.completed(order, session_id="cs_test_of_the_link", payment_intent="pi_link_session")
    results = run_together([_delivery(e) for e in [own, by_link] * rounds], prepare=True)
    assert raised(results) == []
    assert sorted(results) == sorted([(200, "processed")] * 2 + [(200, "duplicate")] * (2 * rounds - 2))
    excess = _assert_one_of_each(order)
    link.refresh_from_db()
    # Whichever came first pays; the other is the excess payment.
    assert {excess.stripe_payment_intent, Payment.objects.get(order=order, role="PAYING").stripe_payment_intent} == {
        "pi_own_session", "pi_link_session"}


def test_concurrent_duplicate_excess_events_record_and_queue_one_refund(order, admin_user, stripe_sim):
    manual_payment_record(order_id=order.pk, method="WIRE", reference="WIRE-42", admin=admin_user)
    completed = events.completed(order, payment_intent="pi_late_card")
    succeeded = events.event("payment_intent.succeeded", events.payment_intent(order, pi="pi_late_card"))
    results = run_together([_delivery(e) for e in [completed, succeeded] * 4], prepare=True)
    assert sorted(results) == [(200, "duplicate")] * 6 + [(200, "processed")] * 2
    excess = _assert_one_of_each(order)
    assert excess.stripe_payment_intent == "pi_late_card"


def test_concurrent_refund_attempts_refund_once(make_order, broker, admin_user, stripe_sim, client):
    from tradeline.payments.tests import sim

    order = make_order(broker=broker, prices=(100_000,))
    manual_payment_record(order_id=order.pk, method="CASH", reference="R-7", admin=admin_user)
    session_id = sim.open_session(order)
    stripe_sim.pay(session_id, deliver=False)
    sim.post_all(client, stripe_sim)
    excess = Payment.objects.get(order=order, role="EXCESS")
    results = run_together([lambda: excess_refund_attempt(payment_id=excess.pk)] * 4)
    assert raised(results) == []
    assert ExcessRefundOutcome.REFUNDED in results
    refunds = [r for r in stripe_sim.server.state.refunds.values() if r["payment_intent"] == excess.stripe_payment_intent]
    assert [r["amount"] for r in refunds] == [120_000]
    excess.refresh_from_db()
    assert (excess.status, excess.amount_refunded) == ("REFUNDED", 120_000)
