"""Paid and not-paid events: every checkout/payment-intent event type, out-of-order delivery,
amount mismatch, late money, double payments."""

import pytest
from django_tasks_db.models import DBTaskResult

from tradeline.analytics.models import BrokerDailyStats
from tradeline.audit.models import ActivityLog
from tradeline.orders.models import FulfillmentStatus, OrderStatus, PaymentMethod, PaymentStatus
from tradeline.payments.models import Payment, WebhookEvent
from tradeline.payments.tests import events
from tradeline.payouts.models import CommissionRecord, CommissionStatus
from tradeline.testing.factories import add_checkout_session, payment_of

pytestmark = pytest.mark.django_db


def _tasks(order) -> list[DBTaskResult]:
    return [t for t in DBTaskResult.objects.filter(task_path="tradeline.fulfillment.tasks.fulfil_order")
            if t.args_kwargs["kwargs"]["order_id"] == str(order.pk)]


def _assert_untouched_money(order):
    assert not CommissionRecord.objects.filter(order=order).exists()
    assert not BrokerDailyStats.objects.filter(broker=order.broker, orders_count__gt=0).exists()
    assert _tasks(order) == []


def test_completed_paid_makes_the_paid_transition(client, order):
    response = events.post(client, events.completed(order, name="Ada Lovelace", phone="+15550100"))
    assert response.json()["status"] == "processed"
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.fulfillment_status) == (
        OrderStatus.PROCESSING, PaymentStatus.SUCCEEDED, FulfillmentStatus.QUEUED)
    assert order.amount_paid == 120_000
    assert payment_of(order).method == PaymentMethod.STRIPE
    assert payment_of(order).stripe_payment_intent == f"pi_for_{order.pk.hex[:16]}"
    assert (order.customer_name, order.customer_phone) == ("Ada Lovelace", "+15550100")
    assert order.paid_at is not None
    commission = CommissionRecord.objects.get(order=order)
    assert (commission.revenue_share_amount, commission.markup_amount, commission.total_commission) == (
        10_000, 20_000, 30_000)
    assert commission.status == CommissionStatus.PAYABLE
    stats = BrokerDailyStats.objects.get(broker=order.broker, date=order.paid_at.date())
    assert (stats.orders_count, stats.total_sales, stats.revenue_share_earned, stats.markup_earned) == (
        1, 120_000, 10_000, 20_000)
    assert len(_tasks(order)) == 1
    assert _tasks(order)[0].queue_name == "fulfillment"
    assert ActivityLog.objects.filter(action="order.paid", entity_id=str(order.pk)).count() == 1


def test_completed_unpaid_is_not_paid(client, order):
    response = events.post(client, events.completed(order, payment_status="unpaid"))
    assert response.json()["status"] == "processed"
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_paid) == (OrderStatus.PENDING, PaymentStatus.PENDING, 0)
    _assert_untouched_money(order)


def test_async_payment_succeeded_pays(client, order):
    events.post(client, events.completed(order, payment_status="unpaid"))
    obj = events.session(order, payment_status="paid")
    response = events.post(client, events.event("checkout.session.async_payment_succeeded", obj))
    assert response.json()["status"] == "processed"
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert CommissionRecord.objects.filter(order=order).count() == 1
    assert len(_tasks(order)) == 1


def test_async_payment_failed_fails_the_order(client, order):
    obj = events.session(order, payment_status="unpaid")
    response = events.post(client, events.event("checkout.session.async_payment_failed", obj))
    assert response.json()["status"] == "processed"
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.FAILED, PaymentStatus.FAILED)
    _assert_untouched_money(order)


def test_expired_cancels_a_pending_order(client, order):
    obj = events.session(order, payment_status="unpaid")
    response = events.post(client, events.event("checkout.session.expired", obj))
    assert response.json()["status"] == "processed"
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.CANCELLED)
    assert order.cancelled_at is not None
    assert order.cancellation_reason == "checkout session expired"


def test_expired_after_paid_changes_nothing(client, order):
    events.post(client, events.completed(order))
    obj = events.session(order, payment_status="unpaid")
    response = events.post(client, events.event("checkout.session.expired", obj))
    assert response.json()["status"] == "processed"
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.PROCESSING, PaymentStatus.SUCCEEDED)
    assert order.cancelled_at is None


def test_expiry_of_another_session_does_not_cancel(client, order):
    obj = events.session(order, payment_status="unpaid", session_id="cs_test_some_payment_link_session")
    events.post(client, events.event("checkout.session.expired", obj))
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_order_with_a_payment_link_survives_its_checkout_expiring(client, order):
    order.payments.update(stripe_payment_link_id="plink_1")
    events.post(client, events.event("checkout.session.expired", events.session(order, payment_status="unpaid")))
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_payment_intent_succeeded_is_a_backup_paid_signal(client, order):
    response = events.post(client, events.event("payment_intent.succeeded", events.payment_intent(order)))
    assert response.json()["status"] == "processed"
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert payment_of(order).stripe_charge_id == f"ch_for_{order.pk.hex[:16]}"
    assert CommissionRecord.objects.filter(order=order).count() == 1


def test_completed_and_payment_intent_succeeded_pay_once(client, order):
    events.post(client, events.event("payment_intent.succeeded", events.payment_intent(order)))
    second = events.post(client, events.completed(order))
    assert second.json()["status"] == "processed"
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert CommissionRecord.objects.filter(order=order).count() == 1
    assert BrokerDailyStats.objects.get(broker=order.broker).orders_count == 1
    assert len(_tasks(order)) == 1
    assert ActivityLog.objects.filter(action="order.paid", entity_id=str(order.pk)).count() == 1
    assert WebhookEvent.objects.filter(status="PROCESSED").count() == 2


def test_payment_failed_is_logged_only(client, order):
    obj = events.payment_intent(order, status="requires_payment_method", error_code="insufficient_funds")
    response = events.post(client, events.event("payment_intent.payment_failed", obj))
    assert response.json()["status"] == "processed"
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.PENDING, PaymentStatus.PENDING)
    log = ActivityLog.objects.get(action="order.payment_attempt_failed")
    assert log.metadata["code"] == "insufficient_funds"
    # The customer retries in the same session and pays.
    events.post(client, events.completed(order))
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


def test_amount_mismatch_holds_the_order(client, order):
    response = events.post(client, events.completed(order, amount=100))
    assert response.json()["status"] == "needs_review"
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_paid) == (
        OrderStatus.ON_HOLD, PaymentStatus.SUCCEEDED, 100)
    assert "1.00 != order total 1200.00" in order.review_reason
    assert order.fulfillment_status == FulfillmentStatus.NOT_STARTED
    _assert_untouched_money(order)
    assert WebhookEvent.objects.get().status == "NEEDS_REVIEW"
    # The backup signal for the same payment changes nothing more.
    events.post(client, events.event("payment_intent.succeeded", events.payment_intent(order, amount=100)))
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    _assert_untouched_money(order)


def test_currency_mismatch_holds_the_order(client, order):
    events.post(client, events.completed(order, currency="eur"))
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    assert "currency 'eur'" in order.review_reason
    _assert_untouched_money(order)


def test_money_after_expiry_is_held_for_review(client, order):
    events.post(client, events.event("checkout.session.expired", events.session(order, payment_status="unpaid")))
    response = events.post(client, events.event("payment_intent.succeeded", events.payment_intent(order)))
    assert response.json()["status"] == "needs_review"
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_paid) == (
        OrderStatus.ON_HOLD, PaymentStatus.SUCCEEDED, 120_000)
    assert "after the order was CANCELLED" in order.review_reason
    _assert_untouched_money(order)


def test_online_payment_after_manual_payment_is_excess_with_its_refund_queued(client, order, admin_user):
    from tradeline.payments.services import manual_payment_record

    manual_payment_record(order_id=order.pk, method="WIRE", reference="WIRE-778", admin=admin_user)
    response = events.post(client, events.completed(order))
    assert response.json()["status"] == "processed"
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING  # the order goes on; the extra money is refunded by a task
    assert payment_of(order).method == PaymentMethod.WIRE
    assert order.review_reason == ""
    excess = Payment.objects.get(order=order, role="EXCESS")
    assert DBTaskResult.objects.filter(task_path="tradeline.payments.tasks.refund_excess_payment",
                                       args_kwargs__kwargs__payment_id=str(excess.pk)).count() == 1
    assert CommissionRecord.objects.filter(order=order).count() == 1
    assert len(_tasks(order)) == 1


def test_second_online_payment_is_an_excess_payment_beside_the_paying_one(client, order, admin_user):
    from tradeline.payments.services import manual_payment_record

    manual_payment_record(order_id=order.pk, method="WIRE", reference="WIRE-779", admin=admin_user)
    completed = events.completed(order)
    assert events.post(client, completed).json()["status"] == "processed"
    again = events.event("checkout.session.completed", completed["data"]["object"])  # another event, same money
    assert events.post(client, again).json()["status"] == "processed"
    rows = sorted((p.method, p.role, p.status, p.amount, p.stripe_payment_intent or "")
                  for p in Payment.objects.filter(order=order))
    assert rows == [("STRIPE", "EXCESS", "SUCCEEDED", 120_000, f"pi_for_{order.pk.hex[:16]}"),
                    ("WIRE", "PAYING", "SUCCEEDED", 120_000, "")]
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (OrderStatus.PROCESSING, 120_000)  # the summary is the paying one
    assert ActivityLog.objects.filter(action="order.double_payment", entity_id=str(order.pk)).count() == 1


def test_payment_link_session_pays_through_its_own_attempt(client, order):
    link = Payment.objects.create(order=order, method="STRIPE", amount=order.total_charged,
                                  stripe_payment_link_id="plink_own", stripe_payment_link_url="https://pay.example/l")
    paid = events.completed(order, session_id="cs_test_of_the_link")
    assert events.post(client, paid).json()["status"] == "processed"
    link.refresh_from_db()
    assert (link.role, link.status, link.stripe_session_id) == ("PAYING", "SUCCEEDED", "cs_test_of_the_link")
    own_session = Payment.objects.get(order=order, stripe_payment_link_id__isnull=True)
    assert (own_session.role, own_session.status) == ("ATTEMPT", "PENDING")


def test_direct_sale_is_paid_without_commission_or_broker_figures(client, make_order):
    order = make_order(prices=(50_000,))
    events.post(client, events.completed(order))
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert order.amount_paid == 50_000
    assert not CommissionRecord.objects.exists()
    assert not BrokerDailyStats.objects.exists()
    assert len(_tasks(order)) == 1


def test_a_payment_intent_already_of_another_payment_is_not_stored_twice(client, order, make_order, broker):
    other = make_order(broker=broker, prices=(100_000,))
    add_checkout_session(other)
    intent = f"pi_for_{order.pk.hex[:16]}"
    assert events.post(client, events.completed(order)).json()["status"] == "processed"
    assert events.post(client, events.completed(other, payment_intent=intent)).json()["status"] == "processed"
    other.refresh_from_db()
    assert other.status == OrderStatus.PROCESSING  # the money is recorded all the same
    assert payment_of(other).stripe_payment_intent is None
    assert Payment.objects.get(stripe_payment_intent=intent).order_id == order.pk
