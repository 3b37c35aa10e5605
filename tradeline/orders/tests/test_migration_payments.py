"""Migration orders 0003: existing orders' payment and fulfillment columns become Payment and
SupplierOrder rows before 0004 drops the columns. Run with the migration executor on a database
seeded (through the historical models) with orders in every state; then back again."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("orders", "0002_order_cancellation_reason"), ("payments", "0002_webhook_event_deferred"),
          ("fulfillment", None)]
AFTER = [("orders", "0004_move_payment_and_supplier_columns"), ("payments", "0003_payment"),
         ("fulfillment", "0001_initial")]
TOTAL = 100_000  # P = $800, markup $200: every order below charges $1,000.00

pytestmark = [pytest.mark.django_db(transaction=True)]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _order(Order, number: str, **fields):
    money = dict(subtotal_base=80_000, supplier_cost=40_000, platform_gross=40_000, platform_net_revenue=32_000,
                 broker_revenue_share=8_000, broker_markup=20_000, total_charged=TOTAL,
                 platform_commission_percent=50, revenue_share_percent=10)
    return Order.objects.create(order_number=number, customer_email=f"{number.lower()}@example.com",
                                **money, **fields)


def _seed(apps) -> dict:
    Order = apps.get_model("orders", "Order")
    Refund = apps.get_model("payments", "Refund")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    admin = User.objects.create(username="migration-admin", email="admin@example.com")
    now = timezone.now()
    paid = dict(payment_status="SUCCEEDED", amount_paid=TOTAL, paid_at=now - timedelta(days=3))
    orders = {
        "stripe": _order(Order, "M-STRIPE", status="PROCESSING", fulfillment_status="QUEUED", payment_method="STRIPE",
                         payment_reference="pi_1", stripe_session_id="cs_1", stripe_payment_intent="pi_1",
                         stripe_charge_id="ch_1", **paid),
        "manual": _order(Order, "M-MANUAL", status="PROCESSING", fulfillment_status="QUEUED", payment_method="WIRE",
                         payment_reference="WIRE-778", paid_recorded_by=admin, stripe_session_id="cs_2", **paid),
        "refunded": _order(Order, "M-REFUNDED", status="REFUNDED", fulfillment_status="SUCCEEDED",
                           payment_method="STRIPE", stripe_session_id="cs_3", stripe_payment_intent="pi_3",
                           supplier_order_id="9003", supplier_order_status="completed", refunded_at=now,
                           **{**paid, "payment_status": "REFUNDED"}, amount_refunded=TOTAL),
        "partial": _order(Order, "M-PARTIAL", status="COMPLETED", fulfillment_status="SUCCEEDED",
                          payment_method="STRIPE", stripe_payment_intent="pi_4", supplier_order_id="9004",
                          **{**paid, "payment_status": "PARTIALLY_REFUNDED"}, amount_refunded=25_000),
        "disputed": _order(Order, "M-DISPUTED", status="COMPLETED", fulfillment_status="SUCCEEDED",
                           payment_method="STRIPE", stripe_payment_intent="pi_5", stripe_charge_id="ch_5",
                           supplier_order_id="9005", dispute_status="LOST", **paid),
        "fulfilled": _order(Order, "M-FULFILLED", status="COMPLETED", fulfillment_status="SUCCEEDED",
                            payment_method="STRIPE", stripe_payment_intent="pi_6", supplier_order_id="9006",
                            supplier_order_status="processing", fulfillment_attempts=2, completed_at=now, **paid),
        "failed": _order(Order, "M-FAILED", status="PROCESSING", fulfillment_status="FAILED", payment_method="STRIPE",
                         stripe_payment_intent="pi_7", fulfillment_attempts=5,
                         fulfillment_last_error="SUPPLIER_REJECTED: no stock", **paid),
        "retrying": _order(Order, "M-RETRY", status="PROCESSING", fulfillment_status="QUEUED", payment_method="STRIPE",
                           stripe_payment_intent="pi_8", fulfillment_attempts=1,
                           fulfillment_next_attempt_at=now + timedelta(minutes=5), **paid),
        "pending": _order(Order, "M-PENDING", stripe_session_id="cs_9", checkout_expires_at=now),
        "linked": _order(Order, "M-LINKED", stripe_session_id="cs_10", stripe_payment_link_id="plink_10",
                         stripe_payment_link_url="https://pay.example/plink_10"),
        "cancelled": _order(Order, "M-CANCELLED", status="CANCELLED", payment_status="CANCELLED",
                            stripe_session_id="cs_11", cancelled_at=now),
        "async_failed": _order(Order, "M-ASYNC", status="FAILED", payment_status="FAILED", stripe_session_id="cs_12"),
        "no_checkout": _order(Order, "M-DIRECT"),
    }
    Refund.objects.create(order=orders["partial"], amount=25_000, status="SUCCEEDED", stripe_refund_id="re_4",
                          idempotency_key="refund-m-4")
    return {name: order.pk for name, order in orders.items()} | {"admin": admin.pk}


@pytest.fixture
def back_to_latest():
    yield
    # Leave the schema as the other tests expect it, whatever happened: every app at its latest
    # migration (apps depending on orders 0004, e.g. agreements, were unapplied on the way back).
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_orders_in_every_state_carry_over_and_back(back_to_latest):
    old = _migrate(BEFORE)
    ids = _seed(old)

    new = _migrate(AFTER)
    Payment = new.get_model("payments", "Payment")
    SupplierOrder = new.get_model("fulfillment", "SupplierOrder")
    Refund = new.get_model("payments", "Refund")
    Order = new.get_model("orders", "Order")

    def payments(name):
        return [(p.method, p.role, p.status, p.amount, p.amount_refunded, p.dispute_status, p.stripe_session_id,
                 p.stripe_payment_intent, p.stripe_charge_id, p.stripe_payment_link_id, p.reference)
                for p in Payment.objects.filter(order_id=ids[name]).order_by(
                    "role", F("stripe_payment_link_id").asc(nulls_first=True))]

    assert payments("stripe") == [("STRIPE", "PAYING", "SUCCEEDED", TOTAL, 0, "NONE", "cs_1", "pi_1", "ch_1", None,
                                   "pi_1")]
    assert payments("manual") == [
        ("STRIPE", "ATTEMPT", "CANCELLED", TOTAL, 0, "NONE", "cs_2", None, None, None, ""),
        ("WIRE", "PAYING", "SUCCEEDED", TOTAL, 0, "NONE", None, None, None, None, "WIRE-778")]
    assert Payment.objects.get(order_id=ids["manual"], role="PAYING").recorded_by_id == ids["admin"]
    assert payments("refunded") == [("STRIPE", "PAYING", "REFUNDED", TOTAL, TOTAL, "NONE", "cs_3", "pi_3", None, None,
                                     "")]
    assert payments("partial") == [("STRIPE", "PAYING", "PARTIALLY_REFUNDED", TOTAL, 25_000, "NONE", None, "pi_4",
                                    None, None, "")]
    assert payments("disputed") == [("STRIPE", "PAYING", "SUCCEEDED", TOTAL, 0, "LOST", None, "pi_5", "ch_5", None,
                                     "")]
    assert payments("pending") == [("STRIPE", "ATTEMPT", "PENDING", TOTAL, 0, "NONE", "cs_9", None, None, None, "")]
    assert payments("linked") == [
        ("STRIPE", "ATTEMPT", "PENDING", TOTAL, 0, "NONE", "cs_10", None, None, None, ""),
        ("STRIPE", "ATTEMPT", "PENDING", TOTAL, 0, "NONE", None, None, None, "plink_10", "")]
    assert payments("cancelled") == [("STRIPE", "ATTEMPT", "CANCELLED", TOTAL, 0, "NONE", "cs_11", None, None, None,
                                      "")]
    assert payments("async_failed") == [("STRIPE", "ATTEMPT", "FAILED", TOTAL, 0, "NONE", "cs_12", None, None, None,
                                         "")]
    assert payments("no_checkout") == []
    assert Refund.objects.get(stripe_refund_id="re_4").payment.stripe_payment_intent == "pi_4"

    def supplier(name):
        row = SupplierOrder.objects.filter(order_id=ids[name]).first()
        return row and (row.status, row.attempts, row.supplier_order_id, row.supplier_status, row.last_error,
                        row.next_attempt_at is not None)

    assert supplier("stripe") == ("QUEUED", 0, None, "", "", False)
    assert supplier("fulfilled") == ("SUCCEEDED", 2, "9006", "processing", "", False)
    assert supplier("refunded") == ("SUCCEEDED", 0, "9003", "completed", "", False)
    assert supplier("failed") == ("FAILED", 5, None, "", "SUPPLIER_REJECTED: no stock", False)
    assert supplier("retrying") == ("QUEUED", 1, None, "", "", True)
    assert supplier("pending") is None and supplier("cancelled") is None
    # The summaries stay on the order; the moved columns are gone.
    partial = Order.objects.get(pk=ids["partial"])
    assert (partial.status, partial.payment_status, partial.amount_paid, partial.amount_refunded) == (
        "COMPLETED", "PARTIALLY_REFUNDED", TOTAL, 25_000)
    assert not hasattr(partial, "stripe_payment_intent") and not hasattr(partial, "supplier_order_id")

    back = _migrate(BEFORE)
    Order = back.get_model("orders", "Order")
    manual = Order.objects.get(pk=ids["manual"])
    assert (manual.payment_method, manual.payment_reference, manual.paid_recorded_by_id, manual.stripe_session_id) == (
        "WIRE", "WIRE-778", ids["admin"], "cs_2")
    failed = Order.objects.get(pk=ids["failed"])
    assert (failed.fulfillment_status, failed.fulfillment_attempts, failed.fulfillment_last_error) == (
        "FAILED", 5, "SUPPLIER_REJECTED: no stock")
    linked = Order.objects.get(pk=ids["linked"])
    assert (linked.stripe_session_id, linked.stripe_payment_link_id) == ("cs_10", "plink_10")
    assert Order.objects.get(pk=ids["disputed"]).stripe_charge_id == "ch_5"


