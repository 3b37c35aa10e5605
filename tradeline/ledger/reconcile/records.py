"""Reconciliation of the order's summary columns against the records they summarise
(docs/domain.md "Summaries"): the paying Payment (status, amounts, dispute) and the SupplierOrder
(fulfillment state). Set-based: the database returns only the orders that disagree."""

from datetime import timedelta

from django.conf import settings
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from tradeline.fulfillment.models import SupplierOrder
from tradeline.orders.models import PAID_PAYMENT_STATES, UNPAID_PAYMENT_STATES, FulfillmentStatus, Order
from tradeline.payments.models import Payment, PaymentRole

SUMMARY = ("status", "amount", "amount_refunded", "dispute_status")


def _paying(field: str) -> Subquery:
    return Subquery(Payment.objects.filter(order_id=OuterRef("pk"), role=PaymentRole.PAYING).values(field)[:1])


def check_payment_summaries(c, *, since, say) -> None:
    orders = Order.objects.order_by()
    if since:
        orders = orders.filter(created_at__gte=since)
    annotated = orders.annotate(**{f"p_{name}": _paying(name) for name in SUMMARY})
    # A paid order copies its paying payment (money without one: UNPAID_WITH_MONEY, checked apart).
    differs = Q(p_status__isnull=False) & (~Q(payment_status=F("p_status")) | ~Q(amount_paid=F("p_amount"))
                                          | ~Q(amount_refunded=F("p_amount_refunded"))
                                          | ~Q(dispute_status=F("p_dispute_status")))
    missing = Q(p_status__isnull=True) & ~Q(payment_status__in=UNPAID_PAYMENT_STATES)
    rows = annotated.filter(differs | missing).values_list(
        "order_number", "payment_status", "amount_paid", "amount_refunded", "dispute_status", *(
            f"p_{name}" for name in SUMMARY))
    for number, status, paid, refunded, dispute, p_status, p_amount, p_refunded, p_dispute in rows.iterator():
        theirs = "no paying payment" if p_status is None else (
            f"paying payment {p_status}, {p_amount} paid, {p_refunded} refunded, dispute {p_dispute}")
        c.add("PAYMENT_SUMMARY", "order", number,
              f"order says {status}, {paid} paid, {refunded} refunded, dispute {dispute}; {theirs}")

    supplier_status = Subquery(SupplierOrder.objects.filter(order_id=OuterRef("pk")).values("status")[:1])
    rows = orders.annotate(s_status=supplier_status).filter(
        (Q(s_status__isnull=False) & ~Q(fulfillment_status=F("s_status")))
        | (Q(s_status__isnull=True) & ~Q(fulfillment_status=FulfillmentStatus.NOT_STARTED))
    ).values_list("order_number", "fulfillment_status", "s_status")
    for number, summary, actual in rows.iterator():
        c.add("FULFILLMENT_SUMMARY", "order", number,
              f"order says fulfillment {summary}; supplier order {actual or 'missing'}")


def check_money_kept(c, *, since, say) -> None:
    """Per order: money taken minus money refunded, over all its payments, equals what its one PAYING
    payment kept. The only excuse is an EXCESS payment younger than EXCESS_REFUND_GRACE_SECONDS whose
    automatic refund is still under way; an older unrefunded one is a discrepancy (MONEY_KEPT)."""
    cutoff = timezone.now() - timedelta(seconds=int(settings.EXCESS_REFUND_GRACE_SECONDS))
    paid = Q(status__in=PAID_PAYMENT_STATES)
    left = F("amount") - F("amount_refunded")
    zero = Value(0)
    payments = Payment.objects.order_by().filter(paid)
    if since:
        payments = payments.filter(order__created_at__gte=since)
    rows = (payments.values("order_id").annotate(
        net=Coalesce(Sum(left), zero),
        kept=Coalesce(Sum(left, filter=Q(role=PaymentRole.PAYING)), zero),
        excess=Coalesce(Sum(left, filter=Q(role=PaymentRole.EXCESS)), zero),
        young=Coalesce(Sum(left, filter=Q(role=PaymentRole.EXCESS, paid_at__gte=cutoff)), zero),
    ).filter(~Q(net=F("kept") + F("young"))).values_list("order__order_number", "net", "kept", "excess", "young"))
    for number, net, kept, excess, young in rows.iterator():
        c.add("MONEY_KEPT", "order", number,
              f"taken - refunded = {net} but the paying payment kept {kept}"
              + (f"; excess payments not refunded: {excess} (of which {young} within the grace period)"
                 if excess else ""))
