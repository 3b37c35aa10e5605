"""Carry each order's payment and fulfillment columns into payments.Payment and
fulfillment.SupplierOrder rows, before 0004 drops the columns (docs/domain.md "Records").

Forward, per order:
- a STRIPE payment when the order has any Stripe id or was paid by Stripe: session, intent and
  charge on one row (status, amounts, dispute state copied from the order); a payment link on the
  same row when there is no session, else on an ATTEMPT row of its own;
- a manual (CASH / WIRE / CHECK) payment with its reference and the admin who recorded it;
- the payment that took the money has role PAYING; refunds point at it;
- a SupplierOrder when fulfillment started (status, attempts, last error, next attempt, supplier
  order id and status).
Backward copies the same values onto the order columns again.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery

PAID = ("SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED")
MANUAL = ("CASH", "WIRE", "CHECK")
BATCH = 2000


def _payments_for(order, Payment) -> list:
    paid = order.payment_status in PAID
    base = dict(order=order, currency=order.currency, created_at=order.created_at)
    money = dict(status=order.payment_status, amount=order.amount_paid if paid else order.total_charged,
                 amount_refunded=order.amount_refunded, dispute_status=order.dispute_status,
                 paid_at=order.paid_at if paid else None, refunded_at=order.refunded_at,
                 role="PAYING" if paid else "ATTEMPT")
    rows = []
    if order.payment_method in MANUAL:
        rows.append(Payment(**base, **money, method=order.payment_method, reference=order.payment_reference,
                            recorded_by_id=order.paid_recorded_by_id))
        money = dict(status=order.payment_status if not paid else "CANCELLED", amount=order.total_charged,
                     role="ATTEMPT")
    has_stripe = order.stripe_session_id or order.stripe_payment_intent or order.stripe_charge_id
    if has_stripe or order.payment_method == "STRIPE" or (order.stripe_payment_link_id and not rows):
        link_here = not order.stripe_session_id
        rows.append(Payment(
            **base, **money, method="STRIPE",
            reference=order.payment_reference if order.payment_method == "STRIPE" else "",
            stripe_session_id=order.stripe_session_id, stripe_payment_intent=order.stripe_payment_intent,
            stripe_charge_id=order.stripe_charge_id,
            stripe_payment_link_id=order.stripe_payment_link_id if link_here else None,
            stripe_payment_link_url=order.stripe_payment_link_url if link_here else ""))
        if order.stripe_payment_link_id and not link_here:
            rows.append(Payment(**base, method="STRIPE", role="ATTEMPT", amount=order.total_charged,
                                status="PENDING" if order.status == "PENDING" else "CANCELLED",
                                stripe_payment_link_id=order.stripe_payment_link_id,
                                stripe_payment_link_url=order.stripe_payment_link_url))
    elif order.stripe_payment_link_id:
        rows.append(Payment(**base, method="STRIPE", role="ATTEMPT", amount=order.total_charged,
                            status="PENDING" if order.status == "PENDING" else "CANCELLED",
                            stripe_payment_link_id=order.stripe_payment_link_id,
                            stripe_payment_link_url=order.stripe_payment_link_url))
    return rows


def _supplier_order_for(order, SupplierOrder):
    if order.fulfillment_status == "NOT_STARTED" and not order.supplier_order_id:
        return None
    status = "SUCCEEDED" if order.supplier_order_id and order.fulfillment_status != "FAILED" else order.fulfillment_status
    return SupplierOrder(
        order=order, status=status, attempts=order.fulfillment_attempts, last_error=order.fulfillment_last_error,
        next_attempt_at=order.fulfillment_next_attempt_at, supplier_order_id=order.supplier_order_id,
        supplier_order_number=order.supplier_order_id or "", supplier_status=order.supplier_order_status,
        placed_at=order.completed_at if order.supplier_order_id else None, created_at=order.paid_at or order.created_at)


def forward(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    Payment = apps.get_model("payments", "Payment")
    Refund = apps.get_model("payments", "Refund")
    SupplierOrder = apps.get_model("fulfillment", "SupplierOrder")
    orders = Order.objects.order_by("pk")
    last = None
    while True:
        page = orders.filter(pk__gt=last) if last is not None else orders
        batch = list(page[:BATCH])
        if not batch:
            break
        last = batch[-1].pk
        payments, supplier_orders = [], []
        for order in batch:
            payments.extend(_payments_for(order, Payment))
            supplier_order = _supplier_order_for(order, SupplierOrder)
            if supplier_order is not None:
                supplier_orders.append(supplier_order)
        Payment.objects.bulk_create(payments)
        SupplierOrder.objects.bulk_create(supplier_orders)
    # Every refund belongs to its order's paying payment: one UPDATE with a subquery.
    paying = Payment.objects.filter(order_id=OuterRef("order_id"), role="PAYING").values("pk")[:1]
    Refund.objects.filter(payment__isnull=True).update(payment=Subquery(paying))


def backward(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    Payment = apps.get_model("payments", "Payment")
    SupplierOrder = apps.get_model("fulfillment", "SupplierOrder")
    for payment in Payment.objects.order_by("role", "created_at").iterator():  # PAYING after ATTEMPT
        fields = {name: getattr(payment, name) for name in (
            "stripe_session_id", "stripe_payment_intent", "stripe_charge_id", "stripe_payment_link_id",
            "stripe_payment_link_url") if getattr(payment, name)}
        if payment.role == "PAYING":
            fields.update(payment_method=payment.method, payment_reference=payment.reference,
                          paid_recorded_by_id=payment.recorded_by_id)
        elif payment.method == "STRIPE" and payment.stripe_session_id:
            fields.update(payment_method="STRIPE")
        if fields:
            Order.objects.filter(pk=payment.order_id).update(**fields)
    for row in SupplierOrder.objects.iterator():
        Order.objects.filter(pk=row.order_id).update(
            fulfillment_status=row.status, fulfillment_attempts=row.attempts, fulfillment_last_error=row.last_error,
            fulfillment_next_attempt_at=row.next_attempt_at or row.leased_until,
            supplier_order_id=row.supplier_order_id, supplier_order_status=row.supplier_status)
    apps.get_model("payments", "Refund").objects.update(payment=None)
    Payment.objects.all().delete()
    SupplierOrder.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0002_order_cancellation_reason"),
        ("payments", "0003_payment"),
        ("fulfillment", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
