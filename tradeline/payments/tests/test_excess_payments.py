"""A customer charged twice (issue 14, item 1): closing the other ways to pay, and the automatic full
refund of whatever still gets through (an EXCESS payment), end to end against the local Stripe server."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tradeline.audit.models import ActivityLog
from tradeline.brokers.auth import issue_admin_token
from tradeline.fulfillment.models import SupplierOrder
from tradeline.ledger.reconcile import reconcile_run
from tradeline.orders.models import OrderStatus, PaymentStatus
from tradeline.payments import stripe_gateway
from tradeline.payments.models import Payment, Refund
from tradeline.payments.services import manual_payment_record, payment_link_create
from tradeline.payments.services.checkout import checkout_session_store
from tradeline.payments.services.excess import (
    ExcessRefundOutcome,
    excess_refund_attempt,
    excess_refund_key,
    excess_refund_metadata,
)
from tradeline.payments.services.excess_queue import excess_refund_sweep
from tradeline.payments.tests import events, sim
from tradeline.payouts.models import CommissionRecord

pytestmark = pytest.mark.django_db

REFUND_TASK = "tradeline.payments.tasks.refund_excess_payment"
FULFIL_TASK = "tradeline.fulfillment.tasks.fulfil_order"


@pytest.fixture(autouse=True)
def _worker_keeps_the_test_connection(monkeypatch):
    # The worker closes "old" connections between tasks; inside a test's transaction that would close
    # the test's own connection. The worker is otherwise run unchanged.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)


def run_worker() -> None:
    """The real task worker (`tradeline db_worker --batch`): runs every due task, then returns."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("db_worker", batch=True, queue_name="*", startup_delay=False, reload=False, verbosity=0)


def _auth(user) -> dict:
    key, _ = issue_admin_token(user, 600)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _tasks(path: str, **kwargs) -> list[DBTaskResult]:
    return [t for t in DBTaskResult.objects.filter(task_path=path)
            if all(t.args_kwargs["kwargs"].get(k) == v for k, v in kwargs.items())]


def _sim_refunds(stripe_sim, payment_intent: str) -> list[dict]:
    return [r for r in stripe_sim.server.state.refunds.values() if r["payment_intent"] == payment_intent]


def _roles(order) -> list[tuple]:
    return sorted((p.role, p.status, p.amount, p.amount_refunded) for p in Payment.objects.filter(order=order)
                  if p.status != PaymentStatus.PENDING)


# -- closing the other ways to pay ----------------------------------------------------------------


def test_creating_a_payment_link_expires_the_open_checkout_session(client, order, admin_user, stripe_sim):
    session_id = sim.open_session(order)
    response = client.post(f"/api/orders/{order.pk}/payment-link", content_type="application/json",
                           **_auth(admin_user))
    assert response.status_code == 200, response.content
    assert stripe_sim.session(session_id)["status"] == "expired"
    sim.post_all(client, stripe_sim, types=("checkout.session.expired",))
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING  # the link is still there to pay
    link_session = stripe_sim.open_payment_link(response.json()["payment_link_id"])
    start = len(stripe_sim.events())
    stripe_sim.pay(link_session["id"], deliver=False)
    sim.post_all(client, stripe_sim, after=start)
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (OrderStatus.PROCESSING, 120_000)
    assert not Payment.objects.filter(order=order, role="EXCESS").exists()


def test_a_new_checkout_session_deactivates_an_older_payment_link(make_order, broker, admin_user, stripe_sim):
    order = make_order(broker=broker, prices=(100_000,))  # made by an admin: no session yet
    link = payment_link_create(order_id=order.pk, admin=admin_user)
    assert stripe_sim.server.state.payment_links[link.stripe_payment_link_id]["active"] is True
    session = stripe_gateway.create_checkout_session(order=order, success_url="https://shop.example/ok",
                                                     cancel_url="https://shop.example/cancel")
    assert checkout_session_store(order_id=order.pk, session_id=session.id, expires_at=session.expires_at) is not None
    assert stripe_sim.server.state.payment_links[link.stripe_payment_link_id]["active"] is False
    with pytest.raises(Exception, match="no longer active"):
        stripe_sim.open_payment_link(link.stripe_payment_link_id)


def test_a_manual_payment_expires_the_session_and_deactivates_the_link(order, admin_user, stripe_sim):
    session_id = sim.open_session(order)
    Payment.objects.filter(order=order, stripe_session_id=session_id).delete()  # only the link is left open
    link = payment_link_create(order_id=order.pk, admin=admin_user)
    session_id = sim.open_session(order)  # the customer's own page, opened again
    manual_payment_record(order_id=order.pk, method="WIRE", reference="WIRE-1", admin=admin_user)
    assert stripe_sim.session(session_id)["status"] == "expired"
    assert stripe_sim.server.state.payment_links[link.stripe_payment_link_id]["active"] is False


# -- the double charge, end to end ----------------------------------------------------------------


def test_customer_paying_session_and_link_gets_the_second_payment_refunded(client, make_order, broker, admin_user,
                                                                          stripe_sim, settings):
    settings.EXCESS_REFUND_GRACE_SECONDS = 0
    order = make_order(broker=broker, prices=(100_000,))  # $1,200.00 charged, the broker earns $300.00
    session_id = sim.open_session(order)
    stripe_sim.pay(session_id, deliver=False)  # paid while the admin was making a link: events not in yet
    link = client.post(f"/api/orders/{order.pk}/payment-link", content_type="application/json",
                       **_auth(admin_user)).json()
    link_session = stripe_sim.open_payment_link(link["payment_link_id"])
    stripe_sim.pay(link_session["id"], deliver=False)
    sim.post_all(client, stripe_sim)

    order.refresh_from_db()
    session_pi = stripe_sim.session(session_id)["payment_intent"]
    link_pi = stripe_sim.session(link_session["id"])["payment_intent"]
    paying = Payment.objects.get(order=order, role="PAYING")
    excess = Payment.objects.get(order=order, role="EXCESS")
    assert (paying.stripe_payment_intent, excess.stripe_payment_intent) == (session_pi, link_pi)
    assert (order.status, order.amount_paid, order.amount_refunded, order.review_reason) == (
        OrderStatus.PROCESSING, 120_000, 0, "")
    assert _tasks(REFUND_TASK, payment_id=str(excess.pk)) and len(_tasks(REFUND_TASK)) == 1
    assert reconcile_run(stripe=False).counts["MONEY_KEPT"] == 1  # not refunded yet, grace 0
    client.force_login(admin_user)
    assert "excess payment, refund pending" in client.get("/admin/").content.decode()
    assert "Excess payment" in client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()

    start = len(stripe_sim.events())
    run_worker()
    sim.post_all(client, stripe_sim, after=start)  # charge.refunded of the excess payment

    refunds = _sim_refunds(stripe_sim, link_pi)
    assert [(r["amount"], r["status"]) for r in refunds] == [(120_000, "succeeded")]
    assert _sim_refunds(stripe_sim, session_pi) == []
    assert Refund.objects.get(payment=excess).idempotency_key == excess_refund_key(excess.pk)
    order.refresh_from_db()
    assert _roles(order) == [("EXCESS", "REFUNDED", 120_000, 120_000), ("PAYING", "SUCCEEDED", 120_000, 0)]
    assert (order.status, order.payment_status, order.amount_paid, order.amount_refunded) == (
        OrderStatus.PROCESSING, PaymentStatus.SUCCEEDED, 120_000, 0)
    commission = CommissionRecord.objects.get(order=order)
    assert (commission.total_commission, commission.status) == (30_000, "PAYABLE")
    assert SupplierOrder.objects.filter(order=order).count() == 1
    assert len(_tasks(FULFIL_TASK, order_id=str(order.pk))) == 1
    assert ActivityLog.objects.filter(action="order.excess_refunded", entity_id=str(order.pk)).count() == 1
    report = reconcile_run(stripe=True)
    assert report.total == 0, report.discrepancies
    assert "excess payment, refund pending" not in client.get("/admin/").content.decode()


def test_refund_task_retries_after_a_stripe_500_with_the_same_key(client, order, admin_user, stripe_sim, settings):
    settings.EXCESS_REFUND_BACKOFF_SECONDS = 30
    manual_payment_record(order_id=order.pk, method="CASH", reference="R-1", admin=admin_user)
    session_id = sim.open_session(order)
    stripe_sim.pay(session_id, deliver=False)  # a late payment of the page the customer still had open
    sim.post_all(client, stripe_sim)
    excess = Payment.objects.get(order=order, role="EXCESS")

    stripe_sim.set_faults(status=500, count=1, path="/v1/refunds", method="POST")
    run_worker()
    first = _tasks(REFUND_TASK, payment_id=str(excess.pk), attempt=1)
    assert [t.return_value for t in first] == [ExcessRefundOutcome.RETRY.value]
    excess.refresh_from_db()
    assert excess.amount_refunded == 0  # still owed, still visible
    [retry] = _tasks(REFUND_TASK, payment_id=str(excess.pk), attempt=2)
    assert retry.status == "READY" and retry.run_after >= timezone.now() + timedelta(seconds=25)  # backoff

    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())  # the backoff has passed
    run_worker()
    pi = excess.stripe_payment_intent
    assert [r["amount"] for r in _sim_refunds(stripe_sim, pi)] == [120_000]
    excess.refresh_from_db()
    assert (excess.status, excess.amount_refunded) == (PaymentStatus.REFUNDED, 120_000)
    assert Refund.objects.filter(payment=excess).count() == 1
    # Run again (a duplicate task, the sweep): nothing more is refunded.
    assert excess_refund_attempt(payment_id=excess.pk) == ExcessRefundOutcome.NOTHING_TO_DO
    assert len(_sim_refunds(stripe_sim, pi)) == 1


def test_a_repeated_refund_request_reuses_the_idempotency_key(order, admin_user, client, stripe_sim):
    manual_payment_record(order_id=order.pk, method="CASH", reference="R-2", admin=admin_user)
    session_id = sim.open_session(order)
    stripe_sim.pay(session_id, deliver=False)
    sim.post_all(client, stripe_sim)
    excess = Payment.objects.get(order=order, role="EXCESS")
    # Stripe refunded, but our process died before recording it: the next attempt gets the same refund.
    made = stripe_gateway.create_refund(payment_intent=excess.stripe_payment_intent, amount=120_000,
                                        idempotency_key=excess_refund_key(excess.pk),
                                        metadata=excess_refund_metadata(excess))
    assert excess_refund_attempt(payment_id=excess.pk) == ExcessRefundOutcome.REFUNDED
    assert Refund.objects.get(payment=excess).stripe_refund_id == made.id
    assert len(_sim_refunds(stripe_sim, excess.stripe_payment_intent)) == 1


# -- without the Stripe server: webhooks and the sweep ---------------------------------------------


def _excess_after_wire(client, order, admin_user) -> Payment:
    manual_payment_record(order_id=order.pk, method="WIRE", reference="WIRE-9", admin=admin_user)
    assert events.post(client, events.completed(order, payment_intent="pi_excess_1")).json()["status"] == "processed"
    return Payment.objects.get(order=order, role="EXCESS")


def test_refund_webhook_of_an_excess_payment_leaves_the_paying_payment_and_commission(client, order, admin_user):
    excess = _excess_after_wire(client, order, admin_user)
    charge = events.charge(order, amount_refunded=120_000, pi="pi_excess_1", charge_id="ch_excess_1")
    assert events.post(client, events.event("charge.refunded", charge)).status_code == 200
    excess.refresh_from_db()
    assert (excess.status, excess.amount_refunded) == (PaymentStatus.REFUNDED, 120_000)
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_refunded) == (
        OrderStatus.PROCESSING, PaymentStatus.SUCCEEDED, 0)
    paying = Payment.objects.get(order=order, role="PAYING")
    assert (paying.method, paying.status, paying.amount_refunded) == ("WIRE", PaymentStatus.SUCCEEDED, 0)
    commission = CommissionRecord.objects.get(order=order)
    assert (commission.total_commission, commission.status) == (30_000, "PAYABLE")
    assert not ActivityLog.objects.filter(action__in=("order.refunded", "order.partially_refunded")).exists()


def test_excess_payment_never_holds_the_order_nor_creates_a_second_commission(client, order, admin_user):
    excess = _excess_after_wire(client, order, admin_user)
    order.refresh_from_db()
    assert (order.status, order.review_reason) == (OrderStatus.PROCESSING, "")
    assert (excess.status, excess.amount) == (PaymentStatus.SUCCEEDED, 120_000)
    assert CommissionRecord.objects.filter(order=order).count() == 1
    assert SupplierOrder.objects.filter(order=order).count() == 1
    assert len(_tasks(FULFIL_TASK, order_id=str(order.pk))) == 1


def test_sweep_re_enqueues_unrefunded_excess_payments_without_a_live_task(client, order, admin_user):
    excess = _excess_after_wire(client, order, admin_user)
    assert excess_refund_sweep() == []  # its task is waiting
    DBTaskResult.objects.filter(task_path=REFUND_TASK).delete()  # lost (worker down, retries used up)
    assert excess_refund_sweep() == [str(excess.pk)]
    assert len(_tasks(REFUND_TASK, payment_id=str(excess.pk))) == 1
    assert excess_refund_sweep() == []


def test_reconcile_reports_an_unrefunded_excess_payment_after_the_grace_period(client, order, admin_user, settings):
    excess = _excess_after_wire(client, order, admin_user)
    settings.EXCESS_REFUND_GRACE_SECONDS = 3600
    assert reconcile_run(stripe=False).total == 0  # its refund is under way
    Payment.objects.filter(pk=excess.pk).update(paid_at=timezone.now() - timedelta(hours=2))
    report = reconcile_run(stripe=False)
    assert (report.total, report.counts["MONEY_KEPT"]) == (1, 1)
    assert report.discrepancies[0].ref == order.order_number


def test_admin_refund_of_the_paying_payment_ignores_the_excess_refund(client, make_order, broker, admin_user,
                                                                       stripe_sim):
    from tradeline.payments.services import refund_create

    order = make_order(broker=broker, prices=(100_000,))
    own = sim.open_session(order)
    stripe_sim.pay(own, deliver=False)
    link = payment_link_create(order_id=order.pk, admin=admin_user)
    link_session = stripe_sim.open_payment_link(link.stripe_payment_link_id)
    stripe_sim.pay(link_session["id"], deliver=False)
    sim.post_all(client, stripe_sim)
    excess = Payment.objects.get(order=order, role="EXCESS")
    stripe_sim.set_faults(status=500, count=1, path="/v1/refunds", method="POST")
    assert excess_refund_attempt(payment_id=excess.pk) == ExcessRefundOutcome.RETRY  # its Refund row stays PENDING

    refund = refund_create(order_id=order.pk, amount=30_000, admin=admin_user, reason="one line cancelled")
    paying = Payment.objects.get(order=order, role="PAYING")
    assert (refund.payment_id, refund.amount, refund.status) == (paying.pk, 30_000, "SUCCEEDED")
    assert [r["amount"] for r in _sim_refunds(stripe_sim, paying.stripe_payment_intent)] == [30_000]
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PROCESSING, 30_000)
    assert excess_refund_attempt(payment_id=excess.pk) == ExcessRefundOutcome.REFUNDED
    assert [r["amount"] for r in _sim_refunds(stripe_sim, excess.stripe_payment_intent)] == [120_000]
    order.refresh_from_db()
    assert order.amount_refunded == 30_000
