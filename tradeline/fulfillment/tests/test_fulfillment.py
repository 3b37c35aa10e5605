"""Fulfillment against the supplier simulator over real HTTP, run by the real task worker."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from tradeline.audit.models import ActivityLog
from tradeline.brokers.auth import issue_admin_token
from tradeline.fulfillment.dispatch import fulfillment_place
from tradeline.fulfillment.services import FulfillmentOutcome
from tradeline.orders.models import FulfillmentStatus, OrderStatus, PaymentStatus
from tradeline.payments.services import PaidOutcome, order_payment_record
from tradeline.payouts.models import CommissionRecord
from tradeline.testing.factories import supplier_of
from tradeline.fulfillment.models import SupplierOrder

pytestmark = pytest.mark.django_db

TASK = "tradeline.fulfillment.tasks.fulfil_order"


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.FULFILLMENT_BACKOFF_SECONDS = 0  # every retry is due at once: the batch worker runs it
    settings.FULFILLMENT_MAX_ATTEMPTS = 3
    settings.ADMIN_EMAILS = ["ops@tradeline.example"]


@pytest.fixture
def broker(make_broker):
    return make_broker(share="10", markup_percent="20", email="sales@broker.example", business_name="Credit Boost")


@pytest.fixture
def paid_order(make_order, broker, supplier_sim):
    """Factory for orders of the simulator's tradelines, paid through the real paid transition."""

    def make(**fields):
        order = make_order(broker=broker, prices=(100_000,), customer_name="Ada King Lovelace",
                           customer_phone="+15550100", **fields)
        order.items.update(card_id=supplier_sim.card_ids()[0])
        assert order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                               payment_intent=f"pi_{order.pk.hex}") == PaidOutcome.PAID
        order.refresh_from_db()
        return order

    return make


@pytest.fixture(autouse=True)
def _worker_keeps_the_test_connection(monkeypatch):
    # The worker closes "old" connections between tasks; inside a test's transaction that would
    # close the test's own connection. The worker is otherwise run unchanged.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)


def run_worker() -> None:
    """The real task worker (`tradeline db_worker --batch`): runs every due task, then returns.
    After-commit work (emails) runs as it would after a real commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("db_worker", batch=True, queue_name="*", startup_delay=False, reload=False, verbosity=0)


def _supplier_orders_for(supplier_sim, order) -> list[dict]:
    return [o for o in supplier_sim.orders()
            if any(m.get("key") == "platform_order_id" and m.get("value") == str(order.pk)
                   for m in o.get("meta_data", []))]


def _auth(user) -> dict:
    key, _ = issue_admin_token(user, 600)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_paid_order_is_placed_and_completed_with_emails(paid_order, supplier_sim):
    order = paid_order()
    run_worker()
    order.refresh_from_db()
    assert (order.status, order.fulfillment_status, supplier_of(order).attempts) == (
        OrderStatus.COMPLETED, FulfillmentStatus.SUCCEEDED, 1)
    placed = _supplier_orders_for(supplier_sim, order)
    assert len(placed) == 1
    assert supplier_of(order).supplier_order_id == str(placed[0]["id"])
    assert placed[0]["billing"]["first_name"] == "Ada"
    assert placed[0]["billing"]["last_name"] == "King Lovelace"
    assert placed[0]["line_items"][0]["quantity"] == 1
    assert order.completed_at is not None
    assert DBTaskResult.objects.get(task_path=TASK).status == "SUCCESSFUL"
    subjects = sorted((m.subject, tuple(m.to)) for m in mail.outbox)
    assert subjects == [(f"New sale: order {order.order_number}", ("sales@broker.example",)),
                        (f"Your order {order.order_number} is confirmed", (order.customer_email,))]
    customer_mail = next(m for m in mail.outbox if m.to == [order.customer_email])
    assert "Credit Boost" in customer_mail.body and "$1,200.00" in customer_mail.body
    broker_mail = next(m for m in mail.outbox if m.to == ["sales@broker.example"])
    assert "Your earnings:    $300.00" in broker_mail.body
    # A second run of the task (e.g. enqueued twice) changes nothing.
    assert fulfillment_place(order_id=order.pk) == FulfillmentOutcome.SKIPPED
    assert len(_supplier_orders_for(supplier_sim, order)) == 1
    assert len(mail.outbox) == 2


def test_lost_response_is_found_instead_of_ordered_twice(paid_order, supplier_sim):
    order = paid_order()
    # The supplier creates the order, but the answer never arrives (client timeout).
    supplier_sim.set_faults(lost_response=True, methods=["POST"], path_prefix="/orders", count=1, hang_seconds=2)
    assert fulfillment_place(order_id=order.pk) == FulfillmentOutcome.RETRY_SCHEDULED
    assert len(_supplier_orders_for(supplier_sim, order)) == 1
    order.refresh_from_db()
    assert (order.status, supplier_of(order).attempts) == (OrderStatus.PROCESSING, 1)
    assert supplier_of(order).last_error.startswith("SUPPLIER_UNAVAILABLE")
    run_worker()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert len(_supplier_orders_for(supplier_sim, order)) == 1
    log = ActivityLog.objects.get(action="order.fulfilled", entity_id=str(order.pk))
    assert log.metadata["found_existing"] is True


def test_supplier_down_for_the_whole_run_then_back(client, paid_order, supplier_sim, admin_user):
    supplier_sim.set_faults(status=500)
    orders = [paid_order() for _ in range(3)]
    run_worker()
    for order in orders:
        order.refresh_from_db()
        assert (order.status, order.fulfillment_status, supplier_of(order).attempts) == (
            OrderStatus.PROCESSING, FulfillmentStatus.FAILED, 3)
        # The payment is untouched by the failure.
        assert (order.payment_status, order.amount_paid) == (PaymentStatus.SUCCEEDED, 120_000)
        assert CommissionRecord.objects.filter(order=order).count() == 1
    assert supplier_sim.orders() == []
    admin_mails = [m for m in mail.outbox if m.to == ["ops@tradeline.example"]]
    assert sorted(m.subject for m in admin_mails) == sorted(
        f"Action needed: order {o.order_number} not fulfilled" for o in orders)
    assert ActivityLog.objects.filter(action="order.fulfillment_failed").count() == 3
    # The sweep leaves FAILED orders to an admin.
    call_command("reconcile_fulfillment", verbosity=0)
    assert DBTaskResult.objects.filter(status="READY").count() == 0

    supplier_sim.clear_faults()
    for order in orders:
        response = client.post(f"/api/orders/{order.pk}/retry-fulfillment", **_auth(admin_user))
        assert response.status_code == 202, response.content
        assert response.json()["order"]["fulfillment_status"] == "QUEUED"
    run_worker()
    for order in orders:
        order.refresh_from_db()
        assert (order.status, order.fulfillment_status) == (OrderStatus.COMPLETED, FulfillmentStatus.SUCCEEDED)
        assert len(_supplier_orders_for(supplier_sim, order)) == 1
    assert len(supplier_sim.orders()) == 3


def test_supplier_back_before_the_last_attempt_completes_by_itself(paid_order, supplier_sim):
    supplier_sim.set_faults(status=503, count=4)  # the first attempt's search (3 tries) and the next one's
    order = paid_order()
    run_worker()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert supplier_of(order).attempts == 2
    assert len(_supplier_orders_for(supplier_sim, order)) == 1
    assert ActivityLog.objects.filter(action="order.fulfillment_retry_scheduled", entity_id=str(order.pk)).count() == 1


def test_rejected_order_fails_at_once_and_tells_the_admins(paid_order, supplier_sim):
    order = paid_order()
    supplier_sim.state.remove_tradeline(order.items.get().card_id)  # the store keeps a product-less line
    run_worker()
    order.refresh_from_db()
    assert (order.status, order.fulfillment_status, supplier_of(order).attempts) == (
        OrderStatus.PROCESSING, FulfillmentStatus.FAILED, 1)
    assert supplier_of(order).last_error.startswith("SUPPLIER_REJECTED")
    assert order.payment_status == PaymentStatus.SUCCEEDED
    assert [m.to for m in mail.outbox] == [["ops@tradeline.example"]]
    body = mail.outbox[0].body
    assert "Attempts:   1\n" in body and "Last error: SUPPLIER_REJECTED" in body  # from the SupplierOrder


def test_backoff_doubles_per_attempt(paid_order, supplier_sim, settings):
    settings.FULFILLMENT_BACKOFF_SECONDS = 30
    supplier_sim.set_faults(status=500)
    order = paid_order()
    assert fulfillment_place(order_id=order.pk) == FulfillmentOutcome.RETRY_SCHEDULED
    order.refresh_from_db()
    first = supplier_of(order).next_attempt_at
    # Not due yet: a worker (or a duplicate task) skips it.
    assert fulfillment_place(order_id=order.pk) == FulfillmentOutcome.SKIPPED
    delayed = DBTaskResult.objects.filter(task_path=TASK, status="READY").exclude(run_after__year=9999)
    assert [t.run_after for t in delayed] == [first]
    delay_1 = ActivityLog.objects.get(action="order.fulfillment_retry_scheduled").metadata["delay_seconds"]
    SupplierOrder.objects.filter(order_id=order.pk).update(next_attempt_at=None)  # time moved on
    assert fulfillment_place(order_id=order.pk) == FulfillmentOutcome.RETRY_SCHEDULED
    delays = sorted(log.metadata["delay_seconds"]
                    for log in ActivityLog.objects.filter(action="order.fulfillment_retry_scheduled"))
    assert (delay_1, delays) == (30, [30, 60])


def test_reconcile_requeues_an_order_whose_task_was_lost(paid_order, supplier_sim):
    order = paid_order()
    other = paid_order()
    DBTaskResult.objects.filter(args_kwargs__kwargs__order_id=str(order.pk)).delete()
    call_command("reconcile_fulfillment", verbosity=0)
    tasks = DBTaskResult.objects.filter(task_path=TASK, status="READY")
    assert sorted(t.args_kwargs["kwargs"]["order_id"] for t in tasks) == sorted([str(order.pk), str(other.pk)])
    run_worker()
    for o in (order, other):
        o.refresh_from_db()
        assert o.status == OrderStatus.COMPLETED
    assert len(supplier_sim.orders()) == 2


def test_retry_is_refused_for_completed_or_scheduled_orders(client, paid_order, supplier_sim, admin_user):
    order = paid_order()  # its task is waiting
    response = client.post(f"/api/orders/{order.pk}/retry-fulfillment", **_auth(admin_user))
    assert response.status_code == 409
    assert response.json()["code"] == "FULFILLMENT_SCHEDULED"
    run_worker()
    response = client.post(f"/api/orders/{order.pk}/retry-fulfillment", **_auth(admin_user))
    assert response.status_code == 409
    assert response.json()["code"] == "NOT_RETRYABLE"
    assert len(supplier_sim.orders()) == 1


def test_refunded_before_placement_is_not_placed(paid_order, supplier_sim):
    from tradeline.payments.services import refund_total_apply

    order = paid_order()
    refund_total_apply(order_id=order.pk, amount_refunded=order.amount_paid)
    run_worker()
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert supplier_sim.orders() == []
